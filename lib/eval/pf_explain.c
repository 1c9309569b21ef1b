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
int pf_explain_ig_trapezoid(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
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
  snprintf(info->method, sizeof info->method, "trapezoid");
out:
  free(pts);
  free(grad);
  free(p);
  return rc;
}

/* ---- the exact path integral of a two-class network ----
 * Along the straight path z(a) = b + a (x - b) a ReLU network is linear
 * between the points where a hidden unit changes sign, and with two classes
 * p1 = sigmoid(u), u = logit1 - logit0. On a piece [a0, a1] the gradient
 * g = du/dx is constant, so the integral of dp1/dx_i over the piece is
 * g_i (sigmoid(u(a1)) - sigmoid(u(a0))) / s, with s = du/da = g . (x - b):
 * the limit of the trapezoid rule as the steps go to infinity, and the
 * contributions add up to p(x) - p(b) up to rounding. */

#define EXACT_MAX_PIECES 100000
#define PIECE_EPS 1e-12 /* (in units of the path) crossings closer than this count as passed */
#define EXACT_MAX_WIDTH 4096

static double sigmoid(double u) { return u >= 0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u)); }

/* The first layer's pre-activations are affine in the path position:
 * a1(t) = A0 + t D with A0 = bias + b W1 and D = (x - b) W1, computed once.
 * Per piece only the layers above it run (forward from h1, back to h1),
 * and the per-piece gradients are summed at the first hidden layer: the
 * input gradient is W1 times that sum, taken once at the end. So a piece
 * costs the small layers, not the 486-wide one. */
static double upper_forward(const pf_model *m, const double *h1, const double *dh1, double **a, double **da,
                            unsigned char **on, double *bufs, uint32_t width) {
  uint32_t L = m->n_layers;
  double *hb[2] = {bufs, bufs + 2 * (size_t)width}, *dhb[2] = {bufs + width, bufs + 3 * (size_t)width};
  double logit[PF_MODEL_MAX_CLASSES], dlogit[PF_MODEL_MAX_CLASSES];
  const double *hi = h1, *dhi = dh1;
  int cur = 0;
  for (uint32_t l = 1; l < L; l++) {
    uint32_t in = m->sizes[l], o = m->sizes[l + 1];
    double *ao = l + 1 < L ? a[l + 1] : logit, *dao = l + 1 < L ? da[l + 1] : dlogit;
    for (uint32_t j = 0; j < o; j++) { ao[j] = m->b[l][j]; dao[j] = 0.0; }
    for (uint32_t i = 0; i < in; i++) {
      double v = hi[i], dv = dhi[i];
      if (v == 0.0 && dv == 0.0) continue;
      const float *w = m->w[l] + (size_t)i * o;
      for (uint32_t j = 0; j < o; j++) { ao[j] += v * w[j]; dao[j] += dv * w[j]; }
    }
    if (l + 1 < L) {
      double *h = hb[cur], *dh = dhb[cur];
      for (uint32_t j = 0; j < o; j++) {
        /* the side the path moves into: a unit at (or within rounding of)
         * zero counts as crossed when it is heading across */
        on[l + 1][j] = ao[j] + PIECE_EPS * dao[j] > 0.0;
        h[j] = on[l + 1][j] ? ao[j] : 0.0;
        dh[j] = on[l + 1][j] ? dao[j] : 0.0;
      }
      hi = h;
      dhi = dh;
      cur ^= 1;
    }
  }
  return logit[1] - logit[0];
}

static int exact_two_class(const pf_model *m, const float *x, double *contrib, pf_explain_info *info) {
  uint32_t L = m->n_layers, in = m->sizes[0], n1 = m->sizes[1], width = 0;
  if (L < 2) return PF_EINVAL; /* no hidden layer: the trapezoid rule */
  for (uint32_t l = 1; l <= L; l++) if (m->sizes[l] > width) width = m->sizes[l];
  if (width > EXACT_MAX_WIDTH) return PF_ELIMIT;
  double *delta = malloc(in * sizeof(double)), *A0 = malloc(n1 * sizeof(double)), *D = malloc(n1 * sizeof(double));
  double *h1 = malloc(n1 * sizeof(double)), *dh1 = malloc(n1 * sizeof(double)), *acc = calloc(n1, sizeof(double));
  double *a[PF_MODEL_MAX_LAYERS + 1] = {0}, *da[PF_MODEL_MAX_LAYERS + 1] = {0};
  unsigned char *on[PF_MODEL_MAX_LAYERS + 1] = {0};
  double *buf = malloc(6 * (size_t)width * sizeof(double)); /* 4 forward scratch, 2 backward */
  int rc = PF_ENOMEM;
  if (!delta || !A0 || !D || !h1 || !dh1 || !acc || !buf) goto out;
  for (uint32_t l = 1; l < L; l++)
    if (!(a[l] = malloc(m->sizes[l] * sizeof(double))) || !(da[l] = malloc(m->sizes[l] * sizeof(double))) ||
        !(on[l] = malloc(m->sizes[l]))) goto out;
  double *gv = buf + 4 * (size_t)width, *gv2 = buf + 5 * (size_t)width;
  const float *b = m->baseline;
  for (uint32_t j = 0; j < n1; j++) { A0[j] = m->b[0][j]; D[j] = 0.0; }
  for (uint32_t i = 0; i < in; i++) {
    double bi = b ? b[i] : 0.0;
    delta[i] = (double)x[i] - bi;
    const float *w = m->w[0] + (size_t)i * n1;
    if (bi != 0.0) for (uint32_t j = 0; j < n1; j++) A0[j] += bi * w[j];
    if (delta[i] != 0.0) for (uint32_t j = 0; j < n1; j++) D[j] += delta[i] * w[j];
  }
  double al = 0.0;
  int pieces = 0;
  for (;;) {
    for (uint32_t j = 0; j < n1; j++) {
      a[1][j] = A0[j] + al * D[j];
      da[1][j] = D[j];
      on[1][j] = a[1][j] + PIECE_EPS * D[j] > 0.0;
      h1[j] = on[1][j] ? a[1][j] : 0.0;
      dh1[j] = on[1][j] ? D[j] : 0.0;
    }
    double u = upper_forward(m, h1, dh1, a, da, on, buf, width);
    double p = sigmoid(u);
    if (pieces == 0) info->p_base = p;
    if (al >= 1.0 || pieces >= EXACT_MAX_PIECES) { info->p_x = p; break; }
    /* the next point where a hidden unit changes sign */
    double next = 1.0;
    for (uint32_t l = 1; l < L; l++)
      for (uint32_t j = 0; j < m->sizes[l]; j++) {
        double av = a[l][j], dv = da[l][j];
        if ((on[l][j] && dv < 0.0) || (!on[l][j] && dv > 0.0)) {
          double t = al - av / dv;
          if (t > al + PIECE_EPS && t < next) next = t;
        }
      }
    if (next <= al) next = al + PIECE_EPS;
    /* du/dh1 with this piece's pattern: back from the logits to the first
     * hidden layer, masked by its ReLU */
    uint32_t o = m->sizes[L];
    for (uint32_t k = 0; k < o; k++) gv[k] = k == 1 ? 1.0 : k == 0 ? -1.0 : 0.0;
    for (uint32_t l = L - 1; l >= 1; l--) {
      uint32_t ni = m->sizes[l], no = m->sizes[l + 1];
      for (uint32_t i = 0; i < ni; i++) {
        if (!on[l][i]) { gv2[i] = 0.0; continue; }
        const float *w = m->w[l] + (size_t)i * no;
        double sacc = 0.0;
        for (uint32_t j = 0; j < no; j++) sacc += w[j] * gv[j];
        gv2[i] = sacc;
      }
      double *t = gv; gv = gv2; gv2 = t;
    }
    double s = 0.0; /* du/dt = g . delta = (du/dh1) . D */
    for (uint32_t j = 0; j < n1; j++) s += gv[j] * D[j];
    double u1 = u + s * (next - al);
    double w = fabs(s) > 1e-300 ? (sigmoid(u1) - p) / s : p * (1.0 - p) * (next - al);
    for (uint32_t j = 0; j < n1; j++) acc[j] += w * gv[j];
    al = next;
    pieces++;
  }
  /* contrib_i = delta_i * sum over pieces of w * du/dx_i = delta_i * (W1 acc)_i */
  info->sum = 0.0;
  for (uint32_t i = 0; i < in; i++) {
    const float *w = m->w[0] + (size_t)i * n1;
    double g = 0.0;
    if (delta[i] != 0.0) for (uint32_t j = 0; j < n1; j++) g += w[j] * acc[j];
    contrib[i] = delta[i] * g;
    info->sum += contrib[i];
  }
  info->steps = pieces;
  snprintf(info->baseline, sizeof info->baseline, "%s", b && m->baseline_name[0] ? m->baseline_name : b ? "baseline" : "zero");
  snprintf(info->method, sizeof info->method, "exact");
  rc = PF_OK;
out:
  for (uint32_t l = 1; l < L; l++) { free(a[l]); free(da[l]); free(on[l]); }
  free(delta); free(A0); free(D); free(h1); free(dh1); free(acc);
  free(buf);
  return rc;
}

int pf_explain_ig(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
                  pf_explain_info *info) {
  if (!m || !x || !contrib || !info || steps < 1 || target >= pf_model_classes(m)) return PF_EINVAL;
  if (pf_model_classes(m) == 2 && target == 1 && exact_two_class(m, x, contrib, info) == PF_OK) return PF_OK;
  /* p moves along the path in pieces (one per ReLU pattern); where it bends
   * sharply the trapezoid rule misses by more than the completeness
   * tolerance, so the steps double until the sum is within it */
  for (;;) {
    int rc = pf_explain_ig_trapezoid(m, x, target, steps, contrib, info);
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

int pf_explain_class_mean(const pf_dataset *d, int32_t cls, const char *label, const char *where, float *out,
                          char *name, size_t namelen) {
  double *acc = calloc(d->dim ? d->dim : 1, sizeof *acc);
  if (!acc) return PF_ENOMEM;
  size_t n = 0;
  for (size_t r = 0; r < d->n; r++) {
    if (d->y[r] != cls) continue;
    const float *x = d->x + r * d->dim;
    for (size_t i = 0; i < d->dim; i++) acc[i] += x[i];
    n++;
  }
  if (n == 0) { free(acc); return PF_ENOENT; }
  for (size_t i = 0; i < d->dim; i++) out[i] = (float)(acc[i] / (double)n);
  free(acc);
  snprintf(name, namelen, "%.20s mean of %.16s, %zu rows", label, where, n);
  return PF_OK;
}
