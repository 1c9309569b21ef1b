/* pf_io: owns whole-buffer reads and writes on file descriptors.
 * Defines pf_io_write_all() and pf_io_read_exact(), which retry on EINTR
 * and short transfers.
 * Called by the encoder pool, its sandbox child and the sample store. */
#ifndef PF_IO_H
#define PF_IO_H

#include <stddef.h>

/* Writes all n bytes; returns 0, or -1 (errno set; 0 written means the
 * other end is gone). */
int pf_io_write_all(int fd, const void *buf, size_t n);

/* Reads exactly n bytes; returns 0, or -1 on error or end of file first. */
int pf_io_read_exact(int fd, void *buf, size_t n);

#endif
