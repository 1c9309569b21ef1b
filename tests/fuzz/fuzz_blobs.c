/* libFuzzer target for pefleet's two binary artefacts read back from disk or
 * Redis: model files (pf_model_decode: magic, format, sizes, names, CRC) and
 * stored vectors (pf_vecblob_decode). The first input byte picks the
 * decoder. Invariants: no crash or sanitizer report; a model that decodes
 * encodes back to the very same bytes; a vector that decodes has at most
 * the room given and only finite values. */
#include "pf_err.h"
#include "pf_model.h"
#include "pf_vecblob.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *buf = data + 1;
  size_t len = size - 1;
  char err[256];
  if (data[0] & 1) {
    pf_model *m = NULL;
    if (pf_model_decode(buf, len, &m, err, sizeof err) == PF_OK) {
      size_t n = pf_model_encoded_size(m);
      uint8_t *again = malloc(n);
      if (!again || n != len || pf_model_encode(m, again, n) != PF_OK || memcmp(again, buf, n) != 0) abort();
      free(again);
      pf_model_free(&m);
    } else if (m) {
      abort();
    }
  } else {
    double v[512];
    uint32_t dim = 0;
    uint16_t schema = 0;
    if (pf_vecblob_decode(buf, len, v, 512, &dim, &schema, err, sizeof err) == PF_OK) {
      if (dim > 512) abort();
      for (uint32_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) abort();
    }
  }
  return 0;
}
