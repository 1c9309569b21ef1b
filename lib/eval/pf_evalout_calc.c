/* The model folder's figures computed from a model and a data set, as the
 * structs pf_folder reads back (see pf_evalout.h): numbers are kept as the
 * files print them, so a page drawn from these is the page drawn from the
 * written files. */
#include "pf_evalout.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_pca.h"
#include "pf_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROC_RAW_CAP 200000 /* exact points read before thinning */

/* what a number written as JSON reads back as: non-finite is null, NaN */
static double fin(double v) { return isfinite(v) ? v : NAN; }

/* v as printed with %.<prec>g and read back (non-finite unchanged) */
static double rounded(double v, int prec) {
  if (!isfinite(v)) return v;
  char b[48];
  snprintf(b, sizeof b, "%.*g", prec, v);
  return strtod(b, NULL);
}

void pf_evalout_split(const pf_metrics *mt, const char *const names[2], pf_folder_split *s) {
  memset(s, 0, sizeof *s);
  s->exists = s->present = 1;
  s->n = (double)mt->n;
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 2; c++) s->cm[r][c] = (double)mt->cm[r][c];
  s->accuracy = fin(mt->accuracy);
  s->roc_auc = mt->auc_defined ? fin(mt->roc_auc) : NAN;
  s->threshold = fin(mt->threshold);
  s->fpr = fin(mt->fpr);
  for (int c = 0; c < 2; c++) {
    const char *name = names && names[c] ? names[c] : c ? "1" : "0";
    snprintf(s->classes[c], sizeof s->classes[c], "%s", name);
    s->precision[c] = fin(mt->precision[c]);
    s->recall[c] = fin(mt->recall[c]);
    s->f1[c] = fin(mt->f1[c]);
    s->support[c] = (double)mt->support[c];
  }
  s->tpr01 = fin(mt->tpr_at_fpr[0].tpr);
  s->thr01 = fin(mt->tpr_at_fpr[0].threshold);
  s->tpr001 = fin(mt->tpr_at_fpr[1].tpr);
  s->thr001 = fin(mt->tpr_at_fpr[1].threshold);
  s->ops_thr = 1;
  for (int k = 0; k < 2; k++) /* a null threshold reads as +infinity */
    s->op_thr[k] = isfinite(mt->tpr_at_fpr[k].threshold) ? mt->tpr_at_fpr[k].threshold : INFINITY;
}

/* Keeps the points that moved enough; returns how many remain (in place). */
static size_t thin(double *fpr, double *tpr, double *thr, size_t n) {
  if (n <= 2) return n;
  size_t k = 1;
  for (size_t i = 1; i + 1 < n && k + 1 < TRAIN_ROC_MAX_POINTS; i++) {
    double step = fpr[i] < 0.02 ? 0.0005 : 0.002;
    if (fabs(fpr[i] - fpr[k - 1]) + fabs(tpr[i] - tpr[k - 1]) < step) continue;
    fpr[k] = fpr[i]; tpr[k] = tpr[i]; thr[k] = thr[i];
    k++;
  }
  fpr[k] = fpr[n - 1]; tpr[k] = tpr[n - 1]; thr[k] = thr[n - 1];
  return k + 1;
}

static void set_op(pf_folder_op *o, const char *name, double t, double fpr, double tpr) {
  snprintf(o->name, sizeof o->name, "%s", name);
  o->threshold = fin(t);
  o->fpr = fin(fpr);
  o->tpr = fin(tpr);
}

int pf_evalout_roc(const pf_model *m, const pf_dataset *d, const char *split, pf_folder_roc *out) {
  memset(out, 0, sizeof *out);
  if (pf_model_classes(m) != 2) {
    snprintf(out->why, sizeof out->why, "the model has more than two classes");
    return PF_EINVAL;
  }
  size_t cap = d->n + 1 < ROC_RAW_CAP ? d->n + 1 : ROC_RAW_CAP, np = 0, total = 0;
  float *p1 = pf_score_p1(m, d);
  double *fpr = malloc(cap * sizeof *fpr), *tpr = malloc(cap * sizeof *tpr), *thr = malloc(cap * sizeof *thr);
  pf_metrics mt;
  int rc = PF_ENOMEM;
  if (!p1 || !fpr || !tpr || !thr) goto out;
  if ((rc = pf_metrics_roc(p1, d->y, d->n, fpr, tpr, thr, cap, &np, &total)) != PF_OK) goto out;
  if ((rc = pf_metrics_compute(p1, d->y, d->n, m->threshold, &mt)) < 0) goto out;
  rc = PF_OK;
  np = thin(fpr, tpr, thr, np);
  for (size_t i = 0; i < np; i++) {
    fpr[i] = rounded(fpr[i], 6);
    tpr[i] = rounded(tpr[i], 6);
    thr[i] = isfinite(thr[i]) ? rounded(thr[i], 7) : INFINITY;
  }
  snprintf(out->split, sizeof out->split, "%s", split);
  out->rows = (size_t)mt.n;
  out->positives = (size_t)mt.support[1];
  out->negatives = (size_t)mt.support[0];
  out->roc_auc = mt.auc_defined ? fin(mt.roc_auc) : NAN;
  out->points_total = total;
  out->n = np;
  out->fpr = fpr; out->tpr = tpr; out->threshold = thr;
  fpr = tpr = thr = NULL;
  set_op(&out->op[0], "threshold", mt.threshold, mt.fpr, mt.recall[1]);
  set_op(&out->op[1], "fpr<=0.01", mt.tpr_at_fpr[0].threshold, mt.tpr_at_fpr[0].fpr, mt.tpr_at_fpr[0].tpr);
  set_op(&out->op[2], "fpr<=0.001", mt.tpr_at_fpr[1].threshold, mt.tpr_at_fpr[1].fpr, mt.tpr_at_fpr[1].tpr);
  out->nop = 3;
  out->present = 1;
out:
  if (rc != PF_OK) snprintf(out->why, sizeof out->why, "%s", pf_strerror(rc));
  free(p1); free(fpr); free(tpr); free(thr);
  return rc;
}

/* Up to cap row indices of d, the same share of each class as in d, evenly
 * spaced within the class (deterministic). Returns how many. */
static size_t stratified(const pf_dataset *d, size_t cap, size_t *idx) {
  if (d->n <= cap) {
    for (size_t i = 0; i < d->n; i++) idx[i] = i;
    return d->n;
  }
  size_t count[2] = {0, 0}, seen[2] = {0, 0}, taken[2] = {0, 0}, want[2], k = 0;
  for (size_t i = 0; i < d->n; i++) count[d->y[i] == 1]++;
  for (int c = 0; c < 2; c++) {
    want[c] = (size_t)((double)cap * (double)count[c] / (double)d->n);
    if (want[c] == 0 && count[c]) want[c] = 1;
  }
  for (size_t i = 0; i < d->n && k < cap; i++) {
    int c = d->y[i] == 1;
    /* take the row when it reaches the next evenly spaced slot of its class */
    if (taken[c] < want[c] && seen[c] * want[c] >= taken[c] * count[c]) { idx[k++] = i; taken[c]++; }
    seen[c]++;
  }
  return k;
}

/* copies the chosen rows of d into a new matrix */
static float *gather(const pf_dataset *d, const size_t *idx, size_t n) {
  float *x = malloc((n ? n : 1) * d->dim * sizeof *x);
  if (x)
    for (size_t i = 0; i < n; i++) memcpy(x + i * d->dim, d->x + idx[i] * d->dim, d->dim * sizeof *x);
  return x;
}

static int unavailable(pf_folder_pca *out, const char *why) {
  snprintf(out->why, sizeof out->why, "%s", why);
  return PF_OK;
}

int pf_evalout_pca(const pf_model *m, const pf_dataset *d, const char *split, pf_folder_pca *out) {
  memset(out, 0, sizeof *out);
  if (d->n < 3) return unavailable(out, "fewer than 3 rows in the split");
  if (d->dim > PF_PCA_MAX_DIM) return unavailable(out, "more features than the PCA takes");
  size_t nidx = d->n < TRAIN_PCA_MAX_FIT ? d->n : TRAIN_PCA_MAX_FIT;
  size_t *idx = malloc(nidx * sizeof *idx);
  if (!idx) return unavailable(out, "out of memory");
  size_t nfit = stratified(d, TRAIN_PCA_MAX_FIT, idx);
  float *xf = gather(d, idx, nfit);
  pf_pca p;
  size_t k = d->dim < TRAIN_PCA_K ? d->dim : TRAIN_PCA_K;
  int rc = xf ? pf_pca_fit(xf, nfit, d->dim, k, 1, &p) : PF_ENOMEM;
  free(xf);
  if (rc != PF_OK) {
    free(idx);
    char why[128];
    snprintf(why, sizeof why, "the PCA failed: %s", rc == PF_EIO ? "LAPACK reported an error" : pf_strerror(rc));
    return unavailable(out, why);
  }
  size_t npts = stratified(d, TRAIN_PCA_MAX_POINTS, idx), nc = k >= 2 ? 2 : 1;
  float *xp = gather(d, idx, npts);
  double *proj = malloc((npts ? npts : 1) * 2 * sizeof *proj);
  out->pc1 = malloc((npts ? npts : 1) * sizeof *out->pc1);
  out->pc2 = malloc((npts ? npts : 1) * sizeof *out->pc2);
  out->label = malloc((npts ? npts : 1) * sizeof *out->label);
  rc = xp && proj && out->pc1 && out->pc2 && out->label ? pf_pca_project(&p, xp, npts, nc, proj) : PF_ENOMEM;
  if (rc == PF_OK) {
    for (size_t c = 0; c < k; c++) out->ratio[c] = p.total_var > 0 ? p.var[c] / p.total_var : 0;
    for (size_t i = 0; i < npts; i++) {
      out->pc1[i] = rounded(proj[i * nc], 5);
      out->pc2[i] = nc == 2 ? rounded(proj[i * nc + 1], 5) : 0;
      out->label[i] = d->y[idx[i]] == 1; /* as pca.json's labels read back */
    }
    out->n = npts;
    out->k = k;
    out->rows = out->points_total = d->n;
    out->fit_rows = nfit;
    snprintf(out->split, sizeof out->split, "%s", split);
    for (int c = 0; c < 2; c++) snprintf(out->classes[c], sizeof out->classes[c], "%s", m->classes[c]);
    out->present = 1;
  } else {
    pf_folder_pca_free(out);
    snprintf(out->why, sizeof out->why, "%s", pf_strerror(rc));
  }
  pf_pca_free(&p);
  free(idx); free(xp); free(proj);
  return rc;
}
