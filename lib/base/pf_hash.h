/* pf_hash: owns sample identity: SHA-256 digests and their hex form.
 * Defines pf_sha256(), pf_hex() and pf_is_sha256_hex().
 * Called by the encoder child, the sample store and the command line. */
#ifndef PF_HASH_H
#define PF_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PF_SHA256_LEN 32
#define PF_SHA256_HEX_LEN 64

/* Digest of buf[0..len) into out. Returns PF_OK or PF_ENOMEM. */
int pf_sha256(const uint8_t *buf, size_t len, uint8_t out[PF_SHA256_LEN]);

/* Reads size bytes from in (from its current offset), writing each chunk
 * to out as well, and digests them into digest: the daemon's copy of a
 * sample into the memfd its parser gets. Returns PF_OK, PF_EIO (errno set;
 * a file shorter than size is PF_EIO with errno EIO) or PF_ENOMEM. */
int pf_sha256_copy(int in, int out, uint64_t size, uint8_t digest[PF_SHA256_LEN]);

/* Lower-case hex of bytes into hex (2*n+1 bytes, NUL-terminated). */
void pf_hex(const uint8_t *bytes, size_t n, char *hex);

/* 1 when s is exactly 64 lower-case hex characters, else 0. */
int pf_is_sha256_hex(const char *s);

#endif
