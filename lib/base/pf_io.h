/* pf_io: owns whole-buffer reads and writes on file descriptors, reading a
 * whole (capped) file, and opening a file beneath a folder's descriptor.
 * Defines pf_io_write_all() and pf_io_read_exact(), which retry on EINTR
 * and short transfers, pf_io_read_file(), pf_io_read_fd() and
 * pf_io_open_beneath().
 * Called by the encoder pool, its sandbox child, the sample store and the
 * HTTP gateway (server-side paths). */
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

/* As pf_io_read_file, on an open descriptor (not closed; read from its
 * current offset, which must be the start): fstat on fd itself, so the
 * file checked is the file read. */
int pf_io_read_fd(int fd, size_t cap, uint8_t **out, size_t *len);

/* Opens rel (a relative path) for reading beneath the folder dirfd, in one
 * step that cannot be raced: openat2 with RESOLVE_BENEATH (no "..", no
 * symlink, absolute or relative, leaves the folder) and
 * RESOLVE_NO_MAGICLINKS, with O_NONBLOCK (a FIFO does not block),
 * O_NOCTTY and O_CLOEXEC; then fstat on that descriptor, which must be a
 * regular file. Returns PF_OK with *fd (caller closes), PF_ENOENT (a name
 * missing, or not a folder, inside dirfd: nothing outside it is looked
 * up), PF_EINVAL (escaping, too many links, not a regular file, or the
 * kernel cannot do it), PF_EIO (errno set). */
int pf_io_open_beneath(int dirfd, const char *rel, int *fd);

#endif
