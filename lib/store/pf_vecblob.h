/* pf_vecblob: owns the compact stored form of a feature vector.
 * Defines the blob layout: magic "PFV1" (4 bytes), u16 format version (1),
 * u16 feature schema id, u32 dimension, then dim float32 little-endian.
 * Reading checks magic, version, schema, size and that every value is
 * finite. Called by the Redis store (pf_db), export, trainer and scorer. */
#ifndef PF_VECBLOB_H
#define PF_VECBLOB_H

#include <stddef.h>
#include <stdint.h>

#define PF_VECBLOB_MAGIC "PFV1"
#define PF_VECBLOB_VERSION 1
#define PF_VECBLOB_HEADER 12
#define PF_VECBLOB_MAX_DIM 65536

/* Bytes needed for a dim-value blob. */
size_t pf_vecblob_size(uint32_t dim);

/* Encodes dim doubles (rounded to float32) into buf. Returns the length, or
 * PF_EINVAL for a non-finite value, one beyond float range (|v| > FLT_MAX)
 * or a dim of 0 / too large, PF_ELIMIT when cap is too small. */
long pf_vecblob_encode(const double *v, uint32_t dim, uint16_t schema, uint8_t *buf, size_t cap);

/* Decodes buf[0..len) into out (room for cap values); writes *dim and
 * *schema. Returns PF_OK, or PF_EINVAL with a reason in err for a bad
 * magic, version, size or a non-finite value, PF_ELIMIT if cap < dim. */
int pf_vecblob_decode(const uint8_t *buf, size_t len, double *out, uint32_t cap, uint32_t *dim,
                      uint16_t *schema, char *err, size_t errlen);

#endif
