#include "pf_vecblob.h"
#include "pf_err.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t pf_vecblob_size(uint32_t dim) { return PF_VECBLOB_HEADER + 4 * (size_t)dim; }

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

long pf_vecblob_encode(const double *v, uint32_t dim, uint16_t schema, uint8_t *buf, size_t cap) {
  if (dim == 0 || dim > PF_VECBLOB_MAX_DIM) return PF_EINVAL;
  size_t need = pf_vecblob_size(dim);
  if (cap < need) return PF_ELIMIT;
  memcpy(buf, PF_VECBLOB_MAGIC, 4);
  put16(buf + 4, PF_VECBLOB_VERSION);
  put16(buf + 6, schema);
  put32(buf + 8, dim);
  for (uint32_t i = 0; i < dim; i++) {
    /* a finite double beyond float range would become inf (and the cast
     * itself is undefined behaviour), so it is refused like inf */
    if (!isfinite(v[i]) || fabs(v[i]) > FLT_MAX) return PF_EINVAL;
    float f = (float)v[i];
    uint32_t bits;
    memcpy(&bits, &f, 4);
    put32(buf + PF_VECBLOB_HEADER + 4 * (size_t)i, bits);
  }
  return (long)need;
}

int pf_vecblob_decode(const uint8_t *buf, size_t len, double *out, uint32_t cap, uint32_t *dim,
                      uint16_t *schema, char *err, size_t errlen) {
  if (len < PF_VECBLOB_HEADER || memcmp(buf, PF_VECBLOB_MAGIC, 4) != 0) {
    snprintf(err, errlen, "not a vector blob (bad magic)");
    return PF_EINVAL;
  }
  if (get16(buf + 4) != PF_VECBLOB_VERSION) {
    snprintf(err, errlen, "vector blob format version %u not supported", get16(buf + 4));
    return PF_EINVAL;
  }
  uint32_t n = get32(buf + 8);
  if (n == 0 || n > PF_VECBLOB_MAX_DIM || len != pf_vecblob_size(n)) {
    snprintf(err, errlen, "vector blob size %zu does not match its dimension %u", len, n);
    return PF_EINVAL;
  }
  if (n > cap) {
    snprintf(err, errlen, "vector has %u values, room for %u", n, cap);
    return PF_ELIMIT;
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t bits = get32(buf + PF_VECBLOB_HEADER + 4 * (size_t)i);
    float f;
    memcpy(&f, &bits, 4);
    if (!isfinite(f)) {
      snprintf(err, errlen, "vector value %u is not finite", i);
      return PF_EINVAL;
    }
    out[i] = f;
  }
  *dim = n;
  *schema = get16(buf + 6);
  return PF_OK;
}
