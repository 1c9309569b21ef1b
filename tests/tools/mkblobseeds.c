/* mkblobseeds DIR: seed inputs for fuzz_blobs: a small model file and a
 * seed-sized (486-70-70-2) one, and a small one with an explanation
 * baseline (format 2), each behind the selector byte 1, and
 * stored-vector blobs behind 0. */
#include "pf_err.h"
#include "pf_model.h"
#include "pf_vecblob.h"

#include <stdio.h>
#include <stdlib.h>

static int put(const char *dir, const char *name, uint8_t sel, const uint8_t *b, size_t n) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  if (!f) return 1;
  fputc(sel, f);
  fwrite(b, 1, n, f);
  return fclose(f) != 0;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: mkblobseeds DIR\n"); return 2; }
  uint32_t small[] = {3, 2, 2}, seed[] = {486, 70, 70, 2};
  pf_model *m = NULL;
  int bad = 0;
  for (int k = 0; k < 3; k++) {
    if (pf_model_new(k == 1 ? 3 : 2, k == 1 ? seed : small, &m) != PF_OK) return 1;
    snprintf(m->version, sizeof m->version, "fuzz-%d", k);
    m->w[0][0] = 0.5f;
    const float base[3] = {0.1f, 0.2f, 0.3f};
    if (k == 2 && pf_model_set_baseline(m, base, "clean mean of train, 3 rows") != PF_OK) return 1; /* format 2 */
    size_t n = pf_model_encoded_size(m);
    uint8_t *b = malloc(n);
    if (!b || pf_model_encode(m, b, n) != PF_OK) return 1;
    bad |= put(argv[1], k == 1 ? "model-seed" : k == 2 ? "model-baseline" : "model-small", 1, b, n);
    free(b);
    pf_model_free(&m);
  }
  double v[486];
  for (int i = 0; i < 486; i++) v[i] = (i % 7) * 0.25;
  uint8_t blob[4096];
  long n = pf_vecblob_encode(v, 486, 1, blob, sizeof blob);
  if (n < 0) return 1;
  bad |= put(argv[1], "vector-486", 0, blob, (size_t)n);
  n = pf_vecblob_encode(v, 3, 1, blob, sizeof blob);
  bad |= n < 0 || put(argv[1], "vector-3", 0, blob, (size_t)n);
  return bad;
}
