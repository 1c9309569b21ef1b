/* pf_secret: owns the files that hold secrets, and making random secrets.
 * Defines pf_secret_write(): a file created mode 0600 from the start (a new
 * temporary file beside it, made by mkostemp: O_CREAT|O_EXCL, 0600, a
 * random name, no symlink followed; written, fsynced, renamed over the
 * path; never chmod'ed), and pf_secret_random_hex() (getrandom).
 * Called by pf_config_save (pefleet.conf holds the Redis password),
 * pf_curve (key pair files) and pefleet up (the Redis password it makes). */
#ifndef PF_SECRET_H
#define PF_SECRET_H

#include <stddef.h>

/* Bytes of randomness in the Redis password pefleet up makes (hex: twice as many characters). */
#define PF_SECRET_PASSWORD_BYTES 32

/* Writes buf[0..len) to path as described above. PF_OK, or PF_EIO with err. */
int pf_secret_write(const char *path, const void *buf, size_t len, char *err, size_t errlen);

/* nbytes random bytes from getrandom as 2*nbytes lowercase hex characters
 * into out (room for 2*nbytes+1). PF_EIO with err when the kernel gives
 * none; PF_EINVAL when out is too small. */
int pf_secret_random_hex(char *out, size_t outlen, size_t nbytes, char *err, size_t errlen);

#endif
