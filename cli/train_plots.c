/* The report's plot data written beside a trained model (see train_plots.h).
 *
 * roc.json: {"split": "test", "rows": n, "positives": p, "negatives": q,
 *   "roc_auc": a|null, "points_total": distinct scores + 1,
 *   "fpr": [...], "tpr": [...], "threshold": [... null for +infinity],
 *   "operating_points": [{"name": "threshold"|"fpr<=0.01"|"fpr<=0.001",
 *     "threshold": t|null, "fpr": f, "tpr": r}, ...]}
 *   The curve is thinned: a point is kept when it moved 0.002 (0.0005 below
 *   2% FPR) in fpr + tpr from the last kept one; first and last always.
 * pca.json: {"available": true, "split": "test", "rows": n, "fit_rows": m,
 *   "standardized": true, "classes": [...], "explained_variance_ratio": [k],
 *   "points_total": n, "points": {"pc1": [...], "pc2": [...], "label": [...]}}
 *   or {"available": false, "reason": "..."}. */
#include "train_plots.h"
#include "pf_atomic.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_metrics.h"
#include "pf_pca.h"
#include "pf_score.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROC_RAW_CAP 200000 /* exact points read before thinning */

static void num(FILE *f, double v) {
  char b[40];
  pf_fmt_double(v, b, sizeof b);
  fputs(b, f);
}

static void array(FILE *f, const char *key, const double *v, size_t n, const char *fmt) {
  fprintf(f, "\"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    if (i) fputc(',', f);
    if (!isfinite(v[i])) fputs("null", f);
    else if (fmt) fprintf(f, fmt, v[i]);
    else num(f, v[i]);
  }
  fputc(']', f);
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

static void op(FILE *f, const char *name, double t, double fpr, double tpr, int last) {
  fprintf(f, "    {\"name\": \"%s\", \"threshold\": ", name);
  num(f, t);
  fputs(", \"fpr\": ", f);
  num(f, fpr);
  fputs(", \"tpr\": ", f);
  num(f, tpr);
  fprintf(f, "}%s\n", last ? "" : ",");
}

int train_write_roc(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen) {
  if (pf_model_classes(m) != 2) { snprintf(err, errlen, "roc.json: the model has more than two classes"); return PF_EINVAL; }
  size_t cap = d->n + 1 < ROC_RAW_CAP ? d->n + 1 : ROC_RAW_CAP, np = 0, total = 0;
  float *p1 = pf_score_p1(m, d);
  double *fpr = malloc(cap * sizeof *fpr), *tpr = malloc(cap * sizeof *tpr), *thr = malloc(cap * sizeof *thr);
  pf_metrics mt;
  int rc = PF_ENOMEM;
  if (!p1 || !fpr || !tpr || !thr) goto out;
  if ((rc = pf_metrics_roc(p1, d->y, d->n, fpr, tpr, thr, cap, &np, &total)) != PF_OK) goto out;
  if ((rc = pf_metrics_compute(p1, d->y, d->n, m->threshold, &mt)) < 0) goto out;
  np = thin(fpr, tpr, thr, np);
  pf_atomic tmp;
  FILE *f = pf_atomic_open(&tmp, dir, "roc.json");
  if (!f) { rc = PF_EIO; goto out; }
  fprintf(f, "{\"split\": \"%s\", \"rows\": %llu, \"positives\": %llu, \"negatives\": %llu, \"roc_auc\": ", split,
          (unsigned long long)mt.n, (unsigned long long)mt.support[1], (unsigned long long)mt.support[0]);
  num(f, mt.auc_defined ? mt.roc_auc : NAN);
  fprintf(f, ", \"points_total\": %zu,\n  ", total);
  array(f, "fpr", fpr, np, "%.6g");
  fputs(",\n  ", f);
  array(f, "tpr", tpr, np, "%.6g");
  fputs(",\n  ", f);
  array(f, "threshold", thr, np, "%.7g");
  fputs(",\n  \"operating_points\": [\n", f);
  op(f, "threshold", mt.threshold, mt.fpr, mt.recall[1], 0);
  op(f, "fpr<=0.01", mt.tpr_at_fpr[0].threshold, mt.tpr_at_fpr[0].fpr, mt.tpr_at_fpr[0].tpr, 0);
  op(f, "fpr<=0.001", mt.tpr_at_fpr[1].threshold, mt.tpr_at_fpr[1].fpr, mt.tpr_at_fpr[1].tpr, 1);
  fputs("  ]\n}\n", f);
  rc = pf_atomic_commit(&tmp);
out:
  if (rc != PF_OK)
    snprintf(err, errlen, "cannot write %s/roc.json: %s", dir, rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
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

static int pca_unavailable(const char *dir, const char *why, char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = pf_atomic_open(&tmp, dir, "pca.json");
  if (!f) { snprintf(err, errlen, "cannot write %s/pca.json: %s", dir, strerror(errno)); return PF_EIO; }
  fputs("{\"available\": false, \"reason\": ", f);
  pf_fmt_json_string(f, why);
  fputs("}\n", f);
  if (pf_atomic_commit(&tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/pca.json", dir);
    return PF_EIO;
  }
  return PF_OK;
}

/* copies the chosen rows of d into a new matrix */
static float *gather(const pf_dataset *d, const size_t *idx, size_t n) {
  float *x = malloc((n ? n : 1) * d->dim * sizeof *x);
  if (x)
    for (size_t i = 0; i < n; i++) memcpy(x + i * d->dim, d->x + idx[i] * d->dim, d->dim * sizeof *x);
  return x;
}

int train_write_pca(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen) {
  if (d->n < 3) return pca_unavailable(dir, "fewer than 3 rows in the split", err, errlen);
  if (d->dim > PF_PCA_MAX_DIM) return pca_unavailable(dir, "more features than the PCA takes", err, errlen);
  size_t nidx = d->n < TRAIN_PCA_MAX_FIT ? d->n : TRAIN_PCA_MAX_FIT;
  size_t *idx = malloc(nidx * sizeof *idx);
  if (!idx) return pca_unavailable(dir, "out of memory", err, errlen);
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
    return pca_unavailable(dir, why, err, errlen);
  }
  size_t npts = stratified(d, TRAIN_PCA_MAX_POINTS, idx);
  float *xp = gather(d, idx, npts);
  double *proj = malloc((npts ? npts : 1) * 2 * sizeof *proj), *pc = malloc((npts ? npts : 1) * sizeof *pc);
  double ratio[TRAIN_PCA_K];
  for (size_t c = 0; c < k; c++) ratio[c] = p.total_var > 0 ? p.var[c] / p.total_var : 0;
  rc = xp && proj && pc ? pf_pca_project(&p, xp, npts, k >= 2 ? 2 : 1, proj) : PF_ENOMEM;
  pf_atomic tmp;
  FILE *f = rc == PF_OK ? pf_atomic_open(&tmp, dir, "pca.json") : NULL;
  if (rc == PF_OK && !f) rc = PF_EIO;
  if (f) {
    fprintf(f, "{\"available\": true, \"split\": \"%s\", \"rows\": %zu, \"fit_rows\": %zu, \"standardized\": true, "
               "\"classes\": [", split, d->n, nfit);
    pf_fmt_json_string(f, m->classes[0]);
    fputs(", ", f);
    pf_fmt_json_string(f, m->classes[1]);
    fputs("],\n  ", f);
    array(f, "explained_variance_ratio", ratio, k, NULL);
    fprintf(f, ",\n  \"points_total\": %zu, \"points\": {\n    ", d->n);
    size_t nc = k >= 2 ? 2 : 1;
    for (size_t c = 0; c < 2; c++) {
      for (size_t i = 0; i < npts; i++) pc[i] = c < nc ? proj[i * nc + c] : 0;
      array(f, c ? "pc2" : "pc1", pc, npts, "%.5g");
      fputs(",\n    ", f);
    }
    fputs("\"label\": [", f);
    for (size_t i = 0; i < npts; i++) fprintf(f, "%s%d", i ? "," : "", (int)d->y[idx[i]]);
    fputs("]}\n}\n", f);
    rc = pf_atomic_commit(&tmp);
  }
  if (rc != PF_OK) snprintf(err, errlen, "cannot write %s/pca.json: %s", dir, pf_strerror(rc));
  pf_pca_free(&p);
  free(idx); free(xp); free(proj); free(pc);
  return rc;
}

int train_write_source(const char *dir, const char *csv, uint64_t seed, char *err, size_t errlen) {
  pf_atomic tmp;
  char abs[PATH_MAX];
  FILE *f = pf_atomic_open(&tmp, dir, "dataset.json");
  if (!f) { snprintf(err, errlen, "cannot write %s/dataset.json: %s", dir, strerror(errno)); return PF_EIO; }
  if (csv) {
    fputs("{\"source\": \"csv\", \"path\": ", f);
    pf_fmt_json_string(f, realpath(csv, abs) ? abs : csv);
    fprintf(f, ", \"seed\": %llu, \"split\": \"70/15/15\"}\n", (unsigned long long)seed);
  } else {
    fputs("{\"source\": \"redis\"}\n", f);
  }
  if (pf_atomic_commit(&tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/dataset.json", dir);
    return PF_EIO;
  }
  return PF_OK;
}
