#include "pf_metrics.h"
#include "pf_err.h"
#include "pf_fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double fpr_targets[PF_METRICS_NTARGETS] = {0.01, 0.001};

typedef struct {
  float s;
  int32_t y;
} scored;

/* a / b with 0 / 0 (and anything / 0) defined as 0. */
static double ratio(uint64_t a, uint64_t b) {
  return b ? (double)a / (double)b : 0.0;
}

/* Checks the inputs shared by every entry point. */
static int check_inputs(const float *p1, const int32_t *y, size_t n) {
  if (n > 0 && (!p1 || !y)) return PF_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (isnan(p1[i]) || (y[i] != 0 && y[i] != 1)) return PF_EINVAL;
  return PF_OK;
}

/* Descending by score; ties in any order (they are one step of the curve). */
static int cmp_desc(const void *a, const void *b) {
  float x = ((const scored *)a)->s, z = ((const scored *)b)->s;
  return (x < z) - (x > z);
}

/* The samples sorted by decreasing score, and the class counts. Caller
 * frees *out (NULL for n = 0). */
static int sort_scored(const float *p1, const int32_t *y, size_t n, scored **out, uint64_t *npos, uint64_t *nneg) {
  *out = NULL;
  *npos = *nneg = 0;
  if (n == 0) return PF_OK;
  if (n > SIZE_MAX / sizeof(scored)) return PF_ENOMEM;
  scored *a = malloc(n * sizeof *a);
  if (!a) return PF_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    a[i].s = p1[i];
    a[i].y = y[i];
    *npos += (uint64_t)y[i];
  }
  *nneg = (uint64_t)n - *npos;
  qsort(a, n, sizeof *a, cmp_desc);
  *out = a;
  return PF_OK;
}

/* Walks the ROC curve one distinct score at a time. */
typedef struct {
  const scored *a;
  size_t n, i;
  uint64_t tp, fp; /* counts with score >= the current threshold */
} roc_walk;

/* Advances past the next group of equal scores; writes its score. Returns 0
 * at the end. */
static int roc_next(roc_walk *w, double *score) {
  if (w->i >= w->n) return 0;
  float s = w->a[w->i].s;
  while (w->i < w->n && w->a[w->i].s == s) {
    if (w->a[w->i].y) w->tp++;
    else w->fp++;
    w->i++;
  }
  *score = s;
  return 1;
}

int pf_metrics_compute(const float *p1, const int32_t *y, size_t n, double threshold, pf_metrics *out) {
  if (!out) return PF_EINVAL;
  memset(out, 0, sizeof *out);
  int rc = check_inputs(p1, y, n);
  if (rc == PF_OK && isnan(threshold)) rc = PF_EINVAL;
  if (rc != PF_OK) return rc;

  scored *a;
  uint64_t npos, nneg;
  if ((rc = sort_scored(p1, y, n, &a, &npos, &nneg)) != PF_OK) return rc;

  pf_metrics *m = out;
  m->n = n;
  m->threshold = threshold;
  for (size_t i = 0; i < n; i++) m->cm[y[i]][(double)p1[i] >= threshold]++;
  uint64_t tn = m->cm[0][0], fp = m->cm[0][1], tp = m->cm[1][1];
  m->accuracy = ratio(tn + tp, n);
  for (int c = 0; c < 2; c++) {
    uint64_t hit = m->cm[c][c], predicted = m->cm[0][c] + m->cm[1][c];
    m->support[c] = m->cm[c][0] + m->cm[c][1];
    m->precision[c] = ratio(hit, predicted);
    m->recall[c] = ratio(hit, m->support[c]);
    m->f1[c] = ratio(2 * hit, predicted + m->support[c]);
  }
  m->fpr = ratio(fp, tn + fp);

  for (int k = 0; k < PF_METRICS_NTARGETS; k++)
    m->tpr_at_fpr[k] = (pf_metrics_op){fpr_targets[k], 0.0, 0.0, INFINITY};

  /* Trapezoids between consecutive curve points, in units of 1/2 of a
   * (positive, negative) pair: exact in 64 bits while 2 * npos * nneg fits. */
  roc_walk w = {a, n, 0, 0, 0};
  uint64_t area2 = 0, tp_prev = 0, fp_prev = 0;
  double s;
  while (roc_next(&w, &s)) {
    area2 += (w.fp - fp_prev) * (w.tp + tp_prev);
    tp_prev = w.tp;
    fp_prev = w.fp;
    double f = ratio(w.fp, nneg), t = ratio(w.tp, npos);
    for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
      pf_metrics_op *op = &m->tpr_at_fpr[k];
      /* strictly higher: among equal TPRs the first (highest) score stays */
      if (f <= op->target && t > op->tpr) {
        op->tpr = t;
        op->fpr = f;
        op->threshold = s;
      }
    }
  }
  free(a);

  m->auc_defined = npos > 0 && nneg > 0;
  m->roc_auc = m->auc_defined ? (double)area2 / (2.0 * (double)npos * (double)nneg) : NAN;
  return m->auc_defined ? PF_OK : PF_METRICS_NO_AUC;
}

/* The curve point (of points) that goes to slot k of slots: all of them in
 * order when they fit, else round(k * (points - 1) / (slots - 1)), which
 * starts at 0, ends at points - 1 and rises by more than 1 a slot. */
static size_t pick(size_t k, size_t points, size_t slots) {
  if (points <= slots) return k;
  if (slots <= 1) return 0;
  return (size_t)((long double)k * (long double)(points - 1) / (long double)(slots - 1) + 0.5L);
}

int pf_metrics_roc(const float *p1, const int32_t *y, size_t n, double *fpr, double *tpr, double *thr, size_t cap,
                   size_t *npoints, size_t *total) {
  if (npoints) *npoints = 0;
  if (total) *total = 0;
  if (cap > 0 && (!fpr || !tpr || !npoints)) return PF_EINVAL;
  int rc = check_inputs(p1, y, n);
  if (rc != PF_OK) return rc;
  scored *a;
  uint64_t npos, nneg;
  if ((rc = sort_scored(p1, y, n, &a, &npos, &nneg)) != PF_OK) return rc;

  /* points = distinct scores + 1 (the origin) */
  size_t points = 1;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || a[i].s != a[i - 1].s) points++;
  if (total) *total = points;

  size_t k = 0, slots = points < cap ? points : cap;
  size_t want = 0; /* the curve point that goes to slot k */
  roc_walk w = {a, n, 0, 0, 0};
  double s = INFINITY;
  for (size_t j = 0; j < points && k < slots; j++) {
    if (j > 0) roc_next(&w, &s);
    if (j != want) continue;
    fpr[k] = ratio(w.fp, nneg);
    tpr[k] = ratio(w.tp, npos);
    if (thr) thr[k] = s;
    k++;
    if (k < slots) want = pick(k, points, slots);
  }
  free(a);
  if (npoints) *npoints = k;
  return PF_OK;
}

int pf_metrics_write_json(FILE *f, const pf_metrics *m, const char *const names[2]) {
  if (!f || !m) return PF_EINVAL;
  fprintf(f, "{\"cm\": [[%llu, %llu], [%llu, %llu]], \"accuracy\": ", (unsigned long long)m->cm[0][0],
          (unsigned long long)m->cm[0][1], (unsigned long long)m->cm[1][0], (unsigned long long)m->cm[1][1]);
  pf_fmt_json_double(f, m->accuracy);
  fputs(", \"per_class\": {", f);
  for (int c = 0; c < 2; c++) {
    const char *name = names && names[c] ? names[c] : c ? "1" : "0";
    if (c) fputs(", ", f);
    pf_fmt_json_string(f, name);
    fputs(": {\"precision\": ", f);
    pf_fmt_json_double(f, m->precision[c]);
    fputs(", \"recall\": ", f);
    pf_fmt_json_double(f, m->recall[c]);
    fputs(", \"f1\": ", f);
    pf_fmt_json_double(f, m->f1[c]);
    fprintf(f, ", \"support\": %llu}", (unsigned long long)m->support[c]);
  }
  fputs("}, \"roc_auc\": ", f);
  if (m->auc_defined) pf_fmt_json_double(f, m->roc_auc);
  else fputs("null", f);
  fputs(", \"threshold\": ", f);
  pf_fmt_json_double(f, m->threshold);
  fputs(", \"fpr\": ", f);
  pf_fmt_json_double(f, m->fpr);
  fputs(", \"tpr_at_fpr\": {", f);
  for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
    const pf_metrics_op *op = &m->tpr_at_fpr[k];
    fputs(k ? ", \"" : "\"", f);
    pf_fmt_json_double(f, op->target);
    fputs("\": {\"tpr\": ", f);
    pf_fmt_json_double(f, op->tpr);
    fputs(", \"threshold\": ", f);
    pf_fmt_json_double(f, op->threshold);
    fputc('}', f);
  }
  fprintf(f, "}, \"n\": %llu}", (unsigned long long)m->n);
  return ferror(f) ? PF_EIO : PF_OK;
}
