/* pf_drift: a model's figures per period of first-seen time (see
 * pf_drift.h). */
#include "pf_drift.h"
#include "pf_err.h"
#include "pf_folder.h"
#include "pf_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pf_drift_free(pf_drift *d) {
  if (!d) return;
  free(d->p);
  memset(d, 0, sizeof *d);
}

static const long long *ord_seen; /* qsort has no context argument in C11 */
static int by_seen(const void *a, const void *b) {
  long long x = ord_seen[*(const size_t *)a], y = ord_seen[*(const size_t *)b];
  return x < y ? -1 : x > y;
}

/* TPR and FPR of flagging p1 >= thr over rows idx[0..n). */
static pf_drift_point point_at(const float *p1, const int32_t *y, const size_t *idx, size_t n, double thr) {
  size_t pos = 0, neg = 0, tp = 0, fp = 0;
  for (size_t k = 0; k < n; k++) {
    int hit = (double)p1[idx[k]] >= thr;
    if (y[idx[k]] == 1) { pos++; tp += hit; }
    else { neg++; fp += hit; }
  }
  pf_drift_point pt = {thr, pos ? (double)tp / (double)pos : NAN, neg ? (double)fp / (double)neg : NAN};
  return pt;
}

int pf_drift_compute(const pf_model *m, const pf_timed *t, pf_period by, double thr1, double thr01, pf_drift *d) {
  memset(d, 0, sizeof *d);
  d->by = by;
  if (!m || !t || pf_model_classes(m) != 2 || m->sizes[0] != t->d.dim) return PF_EINVAL;
  size_t n = t->d.n;
  if (n == 0) return PF_OK;
  float *p1 = malloc(n * sizeof *p1), *sp = malloc(n * sizeof *sp);
  int32_t *sy = malloc(n * sizeof *sy);
  size_t *idx = malloc(n * sizeof *idx);
  int rc = p1 && sp && sy && idx ? pf_model_predict_class(m, t->d.x, n, 1, p1) : PF_ENOMEM;
  if (rc == PF_OK) {
    for (size_t i = 0; i < n; i++) idx[i] = i;
    ord_seen = t->seen;
    qsort(idx, n, sizeof *idx, by_seen);
    ord_seen = NULL;
  }
  for (size_t a = 0; rc == PF_OK && a < n;) {
    long long start = pf_period_start(by, t->seen[idx[a]]), end = pf_period_next(by, start);
    size_t b = a;
    while (b < n && t->seen[idx[b]] < end) b++;
    if (d->n == PF_DRIFT_MAX_PERIODS) { rc = PF_ELIMIT; break; }
    pf_drift_period *np = realloc(d->p, (d->n + 1) * sizeof *np);
    if (!np) { rc = PF_ENOMEM; break; }
    d->p = np;
    pf_drift_period *p = &d->p[d->n++];
    memset(p, 0, sizeof *p);
    p->start = start;
    p->end = end;
    pf_period_label(by, start, p->label, sizeof p->label);
    for (size_t k = a; k < b; k++) {
      sp[k - a] = p1[idx[k]];
      sy[k - a] = t->d.y[idx[k]];
      p->n[t->d.y[idx[k]] == 1]++;
    }
    pf_metrics mt;
    int mr = pf_metrics_compute(sp, sy, b - a, m->threshold, &mt);
    if (mr < 0) { rc = mr; break; }
    p->roc_auc = mt.auc_defined ? mt.roc_auc : NAN;
    p->at_threshold = point_at(p1, t->d.y, idx + a, b - a, m->threshold);
    p->at_fpr1 = point_at(p1, t->d.y, idx + a, b - a, thr1);
    p->at_fpr01 = point_at(p1, t->d.y, idx + a, b - a, thr01);
    a = b;
  }
  free(p1); free(sp); free(sy); free(idx);
  if (rc != PF_OK) pf_drift_free(d);
  return rc;
}

int pf_drift_over_time(const pf_drift *d, const pf_model *m, pf_folder_over_time *out) {
  memset(out, 0, sizeof *out);
  out->p = calloc(d->n ? d->n : 1, sizeof *out->p);
  if (!out->p) return PF_ENOMEM;
  snprintf(out->by, sizeof out->by, "%s", d->by == PF_PERIOD_WEEK ? "week" : "month");
  snprintf(out->model, sizeof out->model, "%s", m->version);
  out->threshold = m->threshold;
  for (int k = 0; k < 2; k++) snprintf(out->classes[k], sizeof out->classes[k], "%s", m->classes[k]);
  for (size_t i = 0; i < d->n; i++) {
    const pf_drift_period *p = &d->p[i];
    pf_folder_period *o = &out->p[i];
    snprintf(o->label, sizeof o->label, "%s", p->label);
    pf_date_format(p->start, o->start, sizeof o->start);
    pf_date_format(p->end, o->end, sizeof o->end);
    o->clean = (double)p->n[0];
    o->malicious = (double)p->n[1];
    o->roc_auc = p->roc_auc;
    o->tpr = p->at_threshold.tpr;
    o->fpr = p->at_threshold.fpr;
    o->tpr1 = p->at_fpr1.tpr;
    o->fpr1 = p->at_fpr1.fpr;
    o->tpr01 = p->at_fpr01.tpr;
    o->fpr01 = p->at_fpr01.fpr;
  }
  out->n = d->n;
  out->present = out->exists = 1;
  return PF_OK;
}

/* The parsed stats.json text: s[] and data_end hold what was found. */
static void stats_of(const char *stats_json, pf_folder_stats *st) {
  pf_folder_parse_stats((const uint8_t *)stats_json, strlen(stats_json), st);
}

int pf_drift_val_thresholds(const char *stats_json, double *thr1, double *thr01) {
  if (!stats_json) return PF_ENOENT;
  pf_folder_stats st;
  stats_of(stats_json, &st);
  if (!st.s[1].exists || !st.s[1].ops_thr) return PF_ENOENT;
  *thr1 = st.s[1].op_thr[0];
  *thr01 = st.s[1].op_thr[1];
  return PF_OK;
}

int pf_drift_data_end(const char *stats_json, long long *end) {
  if (!stats_json) return PF_ENOENT;
  pf_folder_stats st;
  stats_of(stats_json, &st);
  if (!st.has_data_end) return PF_ENOENT;
  *end = st.data_end;
  return PF_OK;
}

char *pf_drift_read_stats(const char *dir) {
  uint8_t *buf = NULL;
  size_t len = 0;
  char why[PF_FOLDER_WHY];
  if (pf_folder_read(dir, "stats.json", &buf, &len, why, sizeof why) != PF_OK) return NULL;
  if (len >= (4u << 20)) { free(buf); return NULL; } /* as documented: at most 4 MiB */
  return (char *)buf;
}
