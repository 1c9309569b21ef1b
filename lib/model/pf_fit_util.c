/* What the CPU and GPU trainers share (see pf_fit_util.h). */
#include "pf_fit_util.h"

#include <math.h>

void pf_fit_score_batch(const float *p, const int32_t *y, size_t B, size_t c, double *loss_sum, size_t *correct) {
  for (size_t r = 0; r < B; r++) {
    const float *row = p + r * c;
    double pt = row[y[r]];
    if (pt < PF_FIT_P_MIN) pt = PF_FIT_P_MIN;
    if (pt > 1.0 - PF_FIT_P_MIN) pt = 1.0 - PF_FIT_P_MIN;
    *loss_sum -= log(pt);
    size_t best = 0;
    for (size_t j = 1; j < c; j++)
      if (row[j] > row[best]) best = j;
    *correct += best == (size_t)y[r];
  }
}

uint64_t pf_fit_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform integer in [0, bound), bound >= 1, without modulo bias. */
static uint64_t below(pf_fit_next_fn next, void *state, uint64_t bound) {
  uint64_t lim = UINT64_MAX - UINT64_MAX % bound, v;
  do v = next(state);
  while (v >= lim);
  return v % bound;
}

void pf_fit_shuffle(size_t *perm, size_t n, pf_fit_next_fn next, void *state) {
  for (size_t r = 0; r < n; r++) perm[r] = r;
  for (size_t r = n ? n - 1 : 0; r > 0; r--) {
    size_t j = (size_t)below(next, state, (uint64_t)r + 1), tmp = perm[r];
    perm[r] = perm[j];
    perm[j] = tmp;
  }
}
