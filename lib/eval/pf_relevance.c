/* Feature relevance by nulling one column at a time (see pf_relevance.h). */
#include "pf_relevance.h"
#include "pf_err.h"
#include "pf_metrics.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* accuracy and AUC of scores p1 against y at the model's threshold */
static int figures(const float *p1, const int32_t *y, size_t n, double t, double *acc, double *auc) {
  pf_metrics mt;
  int rc = pf_metrics_compute(p1, y, n, t, &mt);
  if (rc < 0) return rc;
  *acc = mt.accuracy;
  *auc = mt.auc_defined ? mt.roc_auc : NAN;
  return PF_OK;
}

static void fill(pf_relevance_item *it, uint32_t j, double acc, double auc, double bacc, double bauc) {
  it->feature = j;
  it->accuracy = acc;
  it->roc_auc = auc;
  it->d_accuracy = bacc - acc;
  it->d_auc = bauc - auc;
}

/* The reference: copy the rows, null column j, score everything again. */
static int exact_pass(const pf_model *m, const float *x, const int32_t *y, size_t n, double bacc, double bauc,
                      pf_relevance_item *out) {
  size_t dim = m->sizes[0];
  float *xc = malloc(n * dim * sizeof *xc), *p1 = malloc(n * sizeof *p1);
  int rc = PF_ENOMEM;
  if (!xc || !p1) goto out;
  memcpy(xc, x, n * dim * sizeof *xc);
  for (uint32_t j = 0; j < dim; j++) {
    for (size_t i = 0; i < n; i++) xc[i * dim + j] = 0;
    double acc, auc;
    if ((rc = pf_model_predict_class(m, xc, n, 1, p1)) != PF_OK || (rc = figures(p1, y, n, m->threshold, &acc, &auc)) != PF_OK)
      goto out;
    fill(&out[j], j, acc, auc, bacc, bauc);
    for (size_t i = 0; i < n; i++) xc[i * dim + j] = x[i * dim + j];
  }
  rc = PF_OK;
out:
  free(xc); free(p1);
  return rc;
}

/* The fast path: h0 = x W0 + b0 once; nulling column j subtracts
 * x[i][j] * W0[j][:] from the rows where x[i][j] != 0, and only those rows
 * go through the rest of the network (a view of layers 1..). */
static int fast_pass(const pf_model *m, const float *x, const int32_t *y, size_t n, const float *base_p1, double bacc,
                     double bauc, pf_relevance_item *out) {
  size_t dim = m->sizes[0], h = m->sizes[1];
  pf_model tail = *m;
  tail.n_layers = m->n_layers - 1;
  for (uint32_t i = 0; i <= tail.n_layers; i++) tail.sizes[i] = m->sizes[i + 1];
  for (uint32_t i = 0; i < tail.n_layers; i++) { tail.w[i] = m->w[i + 1]; tail.b[i] = m->b[i + 1]; }
  float *h0 = malloc(n * h * sizeof *h0), *hj = malloc(n * h * sizeof *hj), *probs = malloc(n * 2 * sizeof *probs);
  float *p1 = malloc(n * sizeof *p1);
  size_t *rows = malloc(n * sizeof *rows);
  int rc = PF_ENOMEM;
  if (!h0 || !hj || !probs || !p1 || !rows) goto out;
  for (size_t i = 0; i < n; i++) memcpy(h0 + i * h, m->b[0], h * sizeof *h0);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)h, (int)dim, 1.0f, x, (int)dim, m->w[0], (int)h,
              1.0f, h0, (int)h);
  for (uint32_t j = 0; j < dim; j++) {
    const float *wj = m->w[0] + (size_t)j * h;
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
      float v = x[i * dim + j];
      if (v == 0) continue;
      float *dst = hj + nr * h;
      for (size_t u = 0; u < h; u++) {
        float a = h0[i * h + u] - v * wj[u];
        dst[u] = a > 0 ? a : 0;
      }
      rows[nr++] = i;
    }
    memcpy(p1, base_p1, n * sizeof *p1);
    if (nr && (rc = pf_model_predict(&tail, hj, nr, probs)) != PF_OK) goto out;
    for (size_t r = 0; r < nr; r++) p1[rows[r]] = probs[r * 2 + 1];
    double acc, auc;
    if ((rc = figures(p1, y, n, m->threshold, &acc, &auc)) != PF_OK) goto out;
    fill(&out[j], j, acc, auc, bacc, bauc);
  }
  rc = PF_OK;
out:
  free(h0); free(hj); free(probs); free(p1); free(rows);
  return rc;
}

int pf_relevance_compute(const pf_model *m, const float *x, const int32_t *y, size_t n, int exact, double *base_acc,
                         double *base_auc, pf_relevance_item *out) {
  if (!m || !x || !y || !out || !base_acc || !base_auc || n == 0 || pf_model_classes(m) != 2) return PF_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (y[i] != 0 && y[i] != 1) return PF_EINVAL;
  float *p1 = malloc(n * sizeof *p1);
  int rc = PF_ENOMEM;
  if (!p1) goto out;
  if ((rc = pf_model_predict_class(m, x, n, 1, p1)) != PF_OK) goto out;
  if ((rc = figures(p1, y, n, m->threshold, base_acc, base_auc)) != PF_OK) goto out;
  if (exact || m->n_layers < 2) rc = exact_pass(m, x, y, n, *base_acc, *base_auc, out);
  else rc = fast_pass(m, x, y, n, p1, *base_acc, *base_auc, out);
out:
  free(p1);
  return rc;
}

static double or0(double v) { return isnan(v) ? 0.0 : v; }

static int by_relevance(const void *pa, const void *pb) {
  const pf_relevance_item *a = pa, *b = pb;
  if (a->d_accuracy != b->d_accuracy) return a->d_accuracy > b->d_accuracy ? -1 : 1;
  double da = or0(a->d_auc), db = or0(b->d_auc);
  if (da != db) return da > db ? -1 : 1;
  return a->feature < b->feature ? -1 : a->feature > b->feature;
}

void pf_relevance_sort(pf_relevance_item *items, size_t n) {
  if (items && n > 1) qsort(items, n, sizeof *items, by_relevance);
}
