/* pf_store: owns the content-addressed sample store on disk.
 * Defines STORE/ab/cd/<sha256> paths (only 64-hex ids ever become paths)
 * and atomic writes (temporary file in the same folder, fsync, rename).
 * Called by `pefleet ingest`, the encoder worker and the scorer. */
#ifndef PF_STORE_H
#define PF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "pf_hash.h"

/* root/ab/cd/<sha> into out. PF_EINVAL unless sha is 64 lower-case hex
 * characters, PF_ELIMIT when out is too small. */
int pf_store_path(const char *root, const char *sha, char *out, size_t n);

/* Stores buf[0..len) under its SHA-256 (written to sha, 65 bytes).
 * Idempotent: an existing sample is left as it is. Returns PF_OK or
 * PF_EIO with errno set. */
int pf_store_put(const char *root, const uint8_t *buf, size_t len, char sha[PF_SHA256_HEX_LEN + 1]);

/* Copies the file at path into the store, hashing it on the way, refusing
 * files larger than max_size (PF_ELIMIT). Writes sha and *size. With
 * PF_STORE_NOSYNC the data is not fsynced: the caller makes a batch
 * durable at once with pf_store_sync before relying on it. */
#define PF_STORE_NOSYNC 1
int pf_store_put_file(const char *root, const char *path, uint64_t max_size, int flags,
                      char sha[PF_SHA256_HEX_LEN + 1], uint64_t *size);

/* The same from a descriptor the caller opened (and closes): anything but a
 * regular file is PF_EINVAL. */
int pf_store_put_fd(const char *root, int fd, uint64_t max_size, int flags, char sha[PF_SHA256_HEX_LEN + 1],
                    uint64_t *size);

/* Makes everything written to the store so far durable (syncfs of the
 * store's file system: one journal commit for a whole batch). */
int pf_store_sync(const char *root);

/* 1 when the sample exists, 0 when not, PF_EINVAL for a bad id. */
int pf_store_has(const char *root, const char *sha);

#endif
