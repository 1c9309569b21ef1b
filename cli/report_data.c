/* Reading a model folder for the report (see report_data.h). */
#include "report_data.h"
#include "pf_io.h"
#include "pf_err.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WHY(out, ...) snprintf((out)->why, sizeof (out)->why, __VA_ARGS__)

static double num(const cJSON *o, const char *key) {
  const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A number array (null entries as NaN), at most REPORT_MAX_POINTS long. */
static int darray(const cJSON *o, const char *key, double **out, size_t *n) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
  *out = NULL;
  *n = 0;
  if (!cJSON_IsArray(a)) return PF_EINVAL;
  size_t cnt = 0;
  cJSON_ArrayForEach(e, a) if (++cnt > REPORT_MAX_POINTS) return PF_ELIMIT;
  double *v = malloc((cnt ? cnt : 1) * sizeof *v);
  if (!v) return PF_ENOMEM;
  size_t i = 0;
  cJSON_ArrayForEach(e, a) v[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
  *out = v;
  *n = cnt;
  return PF_OK;
}

static void copy_str(char *dst, size_t cap, const cJSON *v) {
  snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static cJSON *parse(const uint8_t *buf, size_t len, char *why, size_t whylen) {
  if (len > REPORT_MAX_FILE) { snprintf(why, whylen, "larger than %u MiB", REPORT_MAX_FILE >> 20); return NULL; }
  cJSON *j = cJSON_ParseWithLength((const char *)buf, len);
  if (!j) snprintf(why, whylen, "not valid JSON");
  else if (!cJSON_IsObject(j)) { snprintf(why, whylen, "not a JSON object"); cJSON_Delete(j); j = NULL; }
  return j;
}

static void split_of(const cJSON *o, report_split *s) {
  memset(s, 0, sizeof *s);
  if (!cJSON_IsObject(o)) return;
  s->present = 1;
  s->n = num(o, "n");
  s->accuracy = num(o, "accuracy");
  s->roc_auc = num(o, "roc_auc");
  s->threshold = num(o, "threshold");
  s->fpr = num(o, "fpr");
  const cJSON *cm = cJSON_GetObjectItemCaseSensitive(o, "cm");
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 2; c++) {
      const cJSON *row = cJSON_IsArray(cm) ? cJSON_GetArrayItem(cm, r) : NULL;
      const cJSON *v = cJSON_IsArray(row) ? cJSON_GetArrayItem(row, c) : NULL;
      s->cm[r][c] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(o, "per_class"), *e;
  for (int c = 0; c < 2; c++) {
    s->precision[c] = s->recall[c] = s->f1[c] = s->support[c] = NAN;
    snprintf(s->classes[c], sizeof s->classes[c], "%d", c);
  }
  int c = 0;
  if (cJSON_IsObject(pc))
    cJSON_ArrayForEach(e, pc) {
      if (c >= 2) break;
      snprintf(s->classes[c], sizeof s->classes[c], "%s", e->string ? e->string : "");
      s->precision[c] = num(e, "precision");
      s->recall[c] = num(e, "recall");
      s->f1[c] = num(e, "f1");
      s->support[c] = num(e, "support");
      c++;
    }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "tpr_at_fpr");
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "0.01"), *b = cJSON_GetObjectItemCaseSensitive(t, "0.001");
  s->tpr01 = num(a, "tpr");
  s->thr01 = num(a, "threshold");
  s->tpr001 = num(b, "tpr");
  s->thr001 = num(b, "threshold");
  /* a split without a numeric confusion matrix is not shown; counts that
   * are missing come from the matrix */
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 2; k++)
      if (!(s->cm[r][k] >= 0 && s->cm[r][k] < 1e15)) s->present = 0;
  if (!(s->n >= 0)) s->n = s->cm[0][0] + s->cm[0][1] + s->cm[1][0] + s->cm[1][1];
  for (int k = 0; k < 2; k++)
    if (!(s->support[k] >= 0)) s->support[k] = s->cm[k][0] + s->cm[k][1];
}

int report_parse_stats(const uint8_t *buf, size_t len, report_stats *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  static const char *const keys[3] = {"train", "validation", "test"};
  int any = 0;
  for (int s = 0; s < 3; s++) {
    split_of(cJSON_GetObjectItemCaseSensitive(j, keys[s]), &out->s[s]);
    any |= out->s[s].present;
  }
  cJSON_Delete(j);
  if (!any) { WHY(out, "no train, validation or test object with a confusion matrix"); return PF_EINVAL; }
  out->present = 1;
  return PF_OK;
}

static void history_free(report_history *h) {
  free(h->loss); free(h->acc); free(h->val_loss); free(h->val_acc);
  h->loss = h->acc = h->val_loss = h->val_acc = NULL;
}

int report_parse_history(const uint8_t *buf, size_t len, report_history *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  double **cols[4] = {&out->loss, &out->acc, &out->val_loss, &out->val_acc};
  static const char *const keys[4] = {"loss", "acc", "val_loss", "val_acc"};
  size_t n[4];
  int rc = PF_OK;
  for (int i = 0; i < 4 && rc == PF_OK; i++)
    if ((rc = darray(j, keys[i], cols[i], &n[i])) != PF_OK) WHY(out, "\"%s\" is missing or too long", keys[i]);
  cJSON_Delete(j);
  if (rc == PF_OK && (n[1] != n[0] || n[2] != n[0] || n[3] != n[0])) {
    WHY(out, "the loss and accuracy arrays differ in length");
    rc = PF_EINVAL;
  }
  if (rc == PF_OK && n[0] == 0) { WHY(out, "no epochs recorded"); rc = PF_EINVAL; }
  if (rc != PF_OK) { history_free(out); return PF_EINVAL; }
  out->n = n[0];
  out->present = 1;
  return PF_OK;
}

static size_t count_of(const cJSON *j, const char *key) {
  double v = num(j, key);
  return v >= 0 && v < 1e15 ? (size_t)v : 0;
}

int report_parse_roc(const uint8_t *buf, size_t len, report_roc *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  size_t nf = 0, nt = 0;
  int rc = darray(j, "fpr", &out->fpr, &nf);
  if (rc == PF_OK) rc = darray(j, "tpr", &out->tpr, &nt);
  if (rc == PF_OK && (nf != nt || nf < 2)) rc = PF_EINVAL;
  if (rc != PF_OK) WHY(out, "\"fpr\" and \"tpr\" are not two equal arrays of 2 to %u numbers", REPORT_MAX_POINTS);
  out->n = nf;
  copy_str(out->split, sizeof out->split, cJSON_GetObjectItemCaseSensitive(j, "split"));
  out->roc_auc = num(j, "roc_auc");
  out->rows = count_of(j, "rows");
  out->positives = count_of(j, "positives");
  out->negatives = count_of(j, "negatives");
  out->points_total = count_of(j, "points_total");
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(j, "operating_points"), *e;
  if (cJSON_IsArray(ops))
    cJSON_ArrayForEach(e, ops) {
      if (out->nop >= 3) break;
      report_op *o = &out->op[out->nop++];
      copy_str(o->name, sizeof o->name, cJSON_GetObjectItemCaseSensitive(e, "name"));
      o->threshold = num(e, "threshold");
      o->fpr = num(e, "fpr");
      o->tpr = num(e, "tpr");
    }
  cJSON_Delete(j);
  if (rc != PF_OK) {
    free(out->fpr); free(out->tpr);
    out->fpr = out->tpr = NULL;
    return PF_EINVAL;
  }
  out->present = 1;
  return PF_OK;
}

int report_parse_pca(const uint8_t *buf, size_t len, report_pca *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  const cJSON *av = cJSON_GetObjectItemCaseSensitive(j, "available");
  if (cJSON_IsFalse(av)) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reason");
    WHY(out, "%s", cJSON_IsString(r) ? r->valuestring : "the training run could not compute it");
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  double *ratio = NULL, *lab = NULL;
  size_t nr = 0, n1 = 0, n2 = 0, nl = 0;
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");
  int rc = darray(j, "explained_variance_ratio", &ratio, &nr);
  if (rc == PF_OK && cJSON_IsObject(pts)) {
    rc = darray(pts, "pc1", &out->pc1, &n1);
    if (rc == PF_OK) rc = darray(pts, "pc2", &out->pc2, &n2);
    if (rc == PF_OK) rc = darray(pts, "label", &lab, &nl);
  } else if (rc == PF_OK) {
    rc = PF_EINVAL;
  }
  if (rc == PF_OK && (n1 != n2 || n1 != nl || nr == 0)) rc = PF_EINVAL;
  if (rc == PF_OK && !(out->label = malloc((nl ? nl : 1) * sizeof *out->label))) rc = PF_ENOMEM;
  if (rc == PF_OK) {
    for (size_t i = 0; i < nl; i++) out->label[i] = lab[i] == 1 ? 1 : 0;
    out->n = n1;
    out->k = nr < 64 ? nr : 64;
    memcpy(out->ratio, ratio, out->k * sizeof *ratio);
    out->rows = count_of(j, "rows");
    out->fit_rows = count_of(j, "fit_rows");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "classes");
    for (int c = 0; c < 2; c++) {
      const cJSON *v = cJSON_IsArray(cl) ? cJSON_GetArrayItem(cl, c) : NULL;
      if (cJSON_IsString(v)) copy_str(out->classes[c], sizeof out->classes[c], v);
      else snprintf(out->classes[c], sizeof out->classes[c], "class %d", c);
    }
    out->present = 1;
  } else {
    WHY(out, "pca.json lacks explained_variance_ratio or equal pc1/pc2/label arrays");
    free(out->pc1); free(out->pc2);
    out->pc1 = out->pc2 = NULL;
  }
  free(ratio); free(lab);
  cJSON_Delete(j);
  return out->present ? PF_OK : PF_EINVAL;
}

int report_parse_relevance(const uint8_t *buf, size_t len, report_relevance *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  const cJSON *fs = cJSON_GetObjectItemCaseSensitive(j, "features"), *e;
  size_t cnt = 0;
  if (cJSON_IsArray(fs)) cJSON_ArrayForEach(e, fs) cnt++;
  if (!cJSON_IsArray(fs) || cnt == 0 || cnt > 65536) {
    WHY(out, "no \"features\" array of 1 to 65536 entries");
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  out->f = calloc(cnt, sizeof *out->f);
  if (!out->f) { WHY(out, "out of memory"); cJSON_Delete(j); return PF_EINVAL; }
  size_t i = 0;
  cJSON_ArrayForEach(e, fs) {
    report_feature *f = &out->f[i++];
    double ix = num(e, "index");
    f->index = ix >= 0 && ix < 1e9 ? (uint32_t)ix : 0;
    copy_str(f->name, sizeof f->name, cJSON_GetObjectItemCaseSensitive(e, "name"));
    f->d_accuracy = num(e, "accuracy_drop");
    f->d_auc = num(e, "auc_drop");
  }
  out->n = cnt;
  out->rows = count_of(j, "rows");
  const cJSON *base = cJSON_GetObjectItemCaseSensitive(j, "base");
  out->base_accuracy = num(base, "accuracy");
  out->base_auc = num(base, "roc_auc");
  copy_str(out->source, sizeof out->source, cJSON_GetObjectItemCaseSensitive(j, "source"));
  out->present = 1;
  cJSON_Delete(j);
  return PF_OK;
}

#define REPORT_MAX_PERIODS 1200 /* as PF_DRIFT_MAX_PERIODS */

int report_parse_over_time(const uint8_t *buf, size_t len, report_over_time *out) {
  memset(out, 0, sizeof *out);
  out->exists = 1;
  cJSON *j = cJSON_ParseWithLength((const char *)buf, len);
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(j, "by"), *ps = cJSON_GetObjectItemCaseSensitive(j, "periods");
  if (!cJSON_IsString(by) || !cJSON_IsArray(ps)) {
    snprintf(out->why, sizeof out->why, "not an over-time object ({\"by\", \"periods\": [...]})");
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  snprintf(out->by, sizeof out->by, "%s", by->valuestring);
  size_t n = (size_t)cJSON_GetArraySize(ps);
  if (n > REPORT_MAX_PERIODS) n = REPORT_MAX_PERIODS;
  out->p = calloc(n ? n : 1, sizeof *out->p);
  if (!out->p) { snprintf(out->why, sizeof out->why, "out of memory"); cJSON_Delete(j); return PF_EINVAL; }
  const cJSON *e;
  cJSON_ArrayForEach(e, ps) {
    if (out->n == n) break;
    report_period *p = &out->p[out->n];
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(e, "period"), *st = cJSON_GetObjectItemCaseSensitive(e, "start");
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(e, "samples");
    if (!cJSON_IsString(lab) || !cJSON_IsObject(sm)) continue;
    copy_str(p->label, sizeof p->label, lab);
    copy_str(p->start, sizeof p->start, st);
    const cJSON *c0 = sm->child, *c1 = c0 ? c0->next : NULL;
    p->clean = cJSON_IsNumber(c0) ? c0->valuedouble : NAN;
    p->malicious = cJSON_IsNumber(c1) ? c1->valuedouble : NAN;
    p->roc_auc = num(e, "roc_auc");
    p->tpr = num(e, "tpr");
    p->fpr = num(e, "fpr");
    p->tpr1 = num(e, "tpr_at_fpr_0.01");
    p->fpr1 = num(e, "fpr_at_fpr_0.01");
    p->tpr01 = num(e, "tpr_at_fpr_0.001");
    out->n++;
  }
  out->present = 1;
  cJSON_Delete(j);
  return PF_OK;
}

/* Reads DIR/NAME whole (at most REPORT_MAX_FILE bytes); the reason in why. */
static uint8_t *slurp(const char *dir, const char *name, size_t *len, char *why, size_t whylen) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  uint8_t *buf = NULL;
  int rc = pf_io_read_file(path, REPORT_MAX_FILE, &buf, len);
  if (rc == PF_ENOENT) snprintf(why, whylen, "no %s in the model folder", name);
  else if (rc == PF_ELIMIT) snprintf(why, whylen, "cannot read %s: larger than the 64 MiB cap", name);
  else if (rc == PF_EINVAL) snprintf(why, whylen, "cannot read %s: not a regular file", name);
  else if (rc != PF_OK) snprintf(why, whylen, "cannot read %s: %s", name, rc == PF_ENOMEM ? "out of memory" : strerror(errno));
  return buf;
}

#define LOAD(field, file, parser)                                                        \
  do {                                                                                  \
    size_t len_ = 0;                                                                    \
    uint8_t *b_ = slurp(dir, file, &len_, rm->field.why, sizeof rm->field.why);         \
    if (b_) {                                                                           \
      if (parser(b_, len_, &rm->field) != PF_OK) {                                      \
        char w_[REPORT_WHY];                                                            \
        snprintf(w_, sizeof w_, "%s", rm->field.why);                                   \
        snprintf(rm->field.why, sizeof rm->field.why, "%s: %.200s", file, w_);           \
      }                                                                                 \
      free(b_);                                                                         \
    }                                                                                   \
  } while (0)

void report_model_load(const char *dir, report_model *rm) {
  memset(rm, 0, sizeof *rm);
  rm->dir = dir;
  if (pf_model_load(dir, &rm->model, rm->model_why, sizeof rm->model_why) != PF_OK) rm->model = NULL;
  LOAD(stats, "stats.json", report_parse_stats);
  LOAD(history, "history.json", report_parse_history);
  LOAD(roc, "roc.json", report_parse_roc);
  LOAD(pca, "pca.json", report_parse_pca);
  LOAD(relevance, "relevance.json", report_parse_relevance);
  LOAD(over_time, "over_time.json", report_parse_over_time);
  if (rm->over_time.present) snprintf(rm->over_time.source, sizeof rm->over_time.source, "the model's test split");
}

int report_load_over_time(report_model *rm, const char *path) {
  free(rm->over_time.p);
  memset(&rm->over_time, 0, sizeof rm->over_time);
  rm->over_time.exists = 1;
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = pf_io_read_file(path, REPORT_MAX_FILE, &buf, &len);
  if (rc != PF_OK) {
    snprintf(rm->over_time.why, sizeof rm->over_time.why, "cannot read %.200s: %s", path, pf_strerror(rc));
    return PF_EIO;
  }
  rc = report_parse_over_time(buf, len, &rm->over_time);
  free(buf);
  snprintf(rm->over_time.source, sizeof rm->over_time.source, "%.500s", path);
  return rc;
}

void report_model_free(report_model *rm) {
  pf_model_free(&rm->model);
  history_free(&rm->history);
  free(rm->roc.fpr); free(rm->roc.tpr);
  free(rm->pca.pc1); free(rm->pca.pc2); free(rm->pca.label);
  free(rm->relevance.f);
  free(rm->over_time.p);
  memset(rm, 0, sizeof *rm);
}
