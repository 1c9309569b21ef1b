/* Integrated Gradients over dense ReLU/softmax networks (see pf_explain.h). */
#include "pf_explain.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_ergo486.h"
#include "pf_err.h"

/* Forward and backward over n rows at once.
 * xs: n x in (row-major); grad: n x in out (dp_target/dx per row); p: n.
 * Shapes: layer l maps [n x sizes[l]] -> [n x sizes[l+1]] with w[l] laid out
 * [sizes[l]][sizes[l+1]] (Keras's kernel), so forward is A = H W + b and
 * backward is dH = dA W^T, masked by the ReLU of the layer below. */
static int batch_grad(const pf_model *m, const float *xs, size_t n, uint32_t target, float *grad, double *p) {
  uint32_t L = m->n_layers, nc = pf_model_classes(m);
  float *act[PF_MODEL_MAX_LAYERS + 1] = {0}; /* act[0] = xs; act[l] = post-ReLU output of layer l (logits for L) */
  int rc = PF_ENOMEM;
  act[0] = (float *)xs;
  for (uint32_t l = 1; l <= L; l++)
    if (!(act[l] = malloc(n * m->sizes[l] * sizeof(float)))) goto out;
  for (uint32_t l = 0; l < L; l++) {
    uint32_t in = m->sizes[l], o = m->sizes[l + 1];
    for (size_t r = 0; r < n; r++) memcpy(act[l + 1] + r * o, m->b[l], o * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)o, (int)in, 1.0f, act[l], (int)in, m->w[l],
                (int)o, 1.0f, act[l + 1], (int)o);
    if (l + 1 < L)
      for (size_t k = 0; k < n * o; k++)
        if (act[l + 1][k] < 0.0f) act[l + 1][k] = 0.0f;
  }
  /* dp_t / dlogit_k = p_t (delta_tk - p_k), in double */
  float *g = malloc(n * nc * sizeof(float));
  if (!g) goto out;
  for (size_t r = 0; r < n; r++) {
    const float *z = act[L] + r * nc;
    double mx = z[0], s = 0.0, pk[PF_MODEL_MAX_CLASSES] = {0};
    for (uint32_t k = 1; k < nc; k++) if (z[k] > mx) mx = z[k];
    for (uint32_t k = 0; k < nc; k++) s += (pk[k] = exp((double)z[k] - mx));
    for (uint32_t k = 0; k < nc; k++) pk[k] /= s;
    p[r] = pk[target];
    for (uint32_t k = 0; k < nc; k++) g[r * nc + k] = (float)(pk[target] * ((k == target) - pk[k]));
  }
  for (uint32_t l = L; l-- > 0;) {
    uint32_t in = m->sizes[l], o = m->sizes[l + 1];
    float *gin = l == 0 ? grad : malloc(n * in * sizeof(float));
    if (!gin) { free(g); goto out; }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)in, (int)o, 1.0f, g, (int)o, m->w[l], (int)o,
                0.0f, gin, (int)in);
    free(g);
    g = gin;
    if (l > 0) /* through the ReLU of layer l's input (the output of layer l-1) */
      for (size_t k = 0; k < n * in; k++)
        if (act[l][k] <= 0.0f) g[k] = 0.0f;
  }
  rc = PF_OK;
out:
  for (uint32_t l = 1; l <= L; l++) free(act[l]);
  return rc;
}

int pf_explain_gradient(const pf_model *m, const float *x, uint32_t target, double *grad, double *p) {
  if (!m || !x || !grad || target >= pf_model_classes(m)) return PF_EINVAL;
  uint32_t in = m->sizes[0];
  float *g = malloc(in * sizeof *g);
  if (!g) return PF_ENOMEM;
  int rc = batch_grad(m, x, 1, target, g, p);
  for (uint32_t i = 0; rc == PF_OK && i < in; i++) grad[i] = g[i];
  free(g);
  return rc;
}

/* One trapezoid pass with steps intervals. */
static int ig_pass(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
                   pf_explain_info *info) {
  uint32_t in = m->sizes[0];
  size_t n = (size_t)steps + 1;
  float *pts = malloc(n * in * sizeof(float)), *grad = malloc(n * in * sizeof(float));
  double *p = malloc(n * sizeof(double));
  int rc = PF_ENOMEM;
  if (!pts || !grad || !p) goto out;
  const float *b = m->baseline;
  for (size_t s = 0; s < n; s++) {
    double a = (double)s / (double)steps;
    for (uint32_t i = 0; i < in; i++) {
      double bi = b ? b[i] : 0.0;
      pts[s * in + i] = (float)(bi + a * ((double)x[i] - bi));
    }
  }
  if ((rc = batch_grad(m, pts, n, target, grad, p)) != PF_OK) goto out;
  info->sum = 0.0;
  for (uint32_t i = 0; i < in; i++) {
    double acc = 0.5 * ((double)grad[i] + (double)grad[(n - 1) * in + i]);
    for (size_t s = 1; s + 1 < n; s++) acc += grad[s * in + i];
    double bi = b ? b[i] : 0.0;
    contrib[i] = ((double)x[i] - bi) * acc / (double)steps;
    info->sum += contrib[i];
  }
  info->p_base = p[0];
  info->p_x = p[n - 1];
  snprintf(info->baseline, sizeof info->baseline, "%s", b && m->baseline_name[0] ? m->baseline_name : b ? "baseline" : "zero");
  info->steps = steps;
out:
  free(pts);
  free(grad);
  free(p);
  return rc;
}

int pf_explain_ig(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
                  pf_explain_info *info) {
  if (!m || !x || !contrib || !info || steps < 1 || target >= pf_model_classes(m)) return PF_EINVAL;
  /* p moves along the path in pieces (one per ReLU pattern); where it bends
   * sharply the trapezoid rule misses by more than the completeness
   * tolerance, so the steps double until the sum is within it */
  for (;;) {
    int rc = ig_pass(m, x, target, steps, contrib, info);
    if (rc != PF_OK) return rc;
    if (fabs(info->sum - (info->p_x - info->p_base)) <= PF_EXPLAIN_TOLERANCE || steps >= PF_EXPLAIN_MAX_STEPS) return PF_OK;
    steps *= 2;
    if (steps > PF_EXPLAIN_MAX_STEPS) steps = PF_EXPLAIN_MAX_STEPS;
  }
}

size_t pf_explain_top(const double *contrib, size_t n, size_t k, uint32_t *idx) {
  if (k > n) k = n;
  size_t got = 0;
  /* selection by repeated scans: k is small (10 by default) and n is 486 */
  for (size_t j = 0; j < k; j++) {
    long best = -1;
    for (size_t i = 0; i < n; i++) {
      int taken = 0;
      for (size_t t = 0; t < got && !taken; t++) taken = idx[t] == i;
      if (taken) continue;
      if (best < 0 || fabs(contrib[i]) > fabs(contrib[best])) best = (long)i;
    }
    if (best < 0) break;
    idx[got++] = (uint32_t)best;
  }
  return got;
}

static const struct {
  const char *name;
  int first, count;
} groups[PF_EXPLAIN_NGROUPS] = {
  {"properties", PF_E486_PROPS, PF_E486_NPROPS},
  {"entrypoint", PF_E486_EP, 64},
  {"byte_histogram", PF_E486_HIST, 256},
  {"imports", PF_E486_IMPORTS, PF_E486_NLIBS},
  {"size_ratio", PF_E486_VSIZE, 1},
  {"sections", PF_E486_CODE, 4},
};

const char *pf_explain_group_name(int g) { return g >= 0 && g < PF_EXPLAIN_NGROUPS ? groups[g].name : "?"; }

double pf_explain_group_sum(const double *contrib, int g) {
  if (g < 0 || g >= PF_EXPLAIN_NGROUPS) return 0.0;
  double s = 0.0;
  for (int i = groups[g].first; i < groups[g].first + groups[g].count; i++) s += contrib[i];
  return s;
}

int pf_explain_group_of(int i) {
  for (int g = 0; g < PF_EXPLAIN_NGROUPS; g++)
    if (i >= groups[g].first && i < groups[g].first + groups[g].count) return g;
  return -1;
}
