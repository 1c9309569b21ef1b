/* pf_io: owns whole-buffer reads and writes on file descriptors, and
 * reading a whole (capped) file.
 * Defines pf_io_write_all() and pf_io_read_exact(), which retry on EINTR
 * and short transfers, and pf_io_read_file().
 * Called by the encoder pool, its sandbox child and the sample store. */
#ifndef PF_IO_H
#define PF_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes; returns 0, or -1 (errno set; 0 written means the
 * other end is gone). */
int pf_io_write_all(int fd, const void *buf, size_t n);

/* Reads exactly n bytes; returns 0, or -1 on error or end of file first. */
int pf_io_read_exact(int fd, void *buf, size_t n);

/* Reads the whole regular file at path into a new buffer (*out, with a NUL
 * one past the end; caller frees); *len its size, set on PF_ELIMIT too.
 * Returns PF_OK, PF_ENOENT (no such file), PF_EINVAL (not a regular file),
 * PF_ELIMIT (larger than cap: nothing read), PF_ENOMEM, or PF_EIO (errno
 * set; a file that shrank while read is PF_EIO with errno EIO). */
int pf_io_read_file(const char *path, size_t cap, uint8_t **out, size_t *len);

#endif
