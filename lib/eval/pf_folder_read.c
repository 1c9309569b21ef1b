/* Parsers of the model folder's figures: stats.json, history.json,
 * roc.json and pca.json (see pf_folder.h; the layouts are those of
 * pf_folder_write.c). */
#include "pf_folder.h"
#include "pf_folder_json.h"
#include "pf_date.h"
#include "pf_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(out, ...) snprintf((out)->why, sizeof (out)->why, __VA_ARGS__)
#define num pf_folder__num

/* tpr_at_fpr[key]'s threshold: 1 with *thr (null: +infinity), 0 when absent */
static int op_threshold(const cJSON *ops, const char *key, double *thr) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ops, key), "threshold");
  if (cJSON_IsNumber(t)) { *thr = t->valuedouble; return 1; }
  if (cJSON_IsNull(t)) { *thr = INFINITY; return 1; }
  return 0;
}

static void split_of(const cJSON *o, pf_folder_split *s) {
  memset(s, 0, sizeof *s);
  if (!cJSON_IsObject(o)) return;
  s->exists = s->present = 1;
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
  s->ops_thr = op_threshold(t, "0.01", &s->op_thr[0]) && op_threshold(t, "0.001", &s->op_thr[1]);
  if (!s->ops_thr) s->op_thr[0] = s->op_thr[1] = NAN;
  /* a split without a numeric confusion matrix is not shown; counts that
   * are missing come from the matrix */
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 2; k++)
      if (!(s->cm[r][k] >= 0 && s->cm[r][k] < 1e15)) s->present = 0;
  if (!(s->n >= 0)) s->n = s->cm[0][0] + s->cm[0][1] + s->cm[1][0] + s->cm[1][1];
  for (int k = 0; k < 2; k++)
    if (!(s->support[k] >= 0)) s->support[k] = s->cm[k][0] + s->cm[k][1];
}

int pf_folder_parse_stats(const uint8_t *buf, size_t len, pf_folder_stats *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  static const char *const keys[3] = {"train", "validation", "test"};
  int any = 0;
  for (int s = 0; s < 3; s++) {
    split_of(cJSON_GetObjectItemCaseSensitive(j, keys[s]), &out->s[s]);
    any |= out->s[s].present;
  }
  double end = num(cJSON_GetObjectItemCaseSensitive(j, "split"), "data_end_unix");
  if (end >= PF_DATE_MIN && end <= PF_DATE_MAX) {
    out->has_data_end = 1;
    out->data_end = (long long)end;
  }
  pf_folder__parse_split(cJSON_GetObjectItemCaseSensitive(j, "split"), &out->split);
  cJSON_Delete(j);
  if (!any) { WHY(out, "no train, validation or test object with a confusion matrix"); return PF_EINVAL; }
  out->present = 1;
  return PF_OK;
}

void pf_folder_history_free(pf_folder_history *h) {
  free(h->loss); free(h->acc); free(h->val_loss); free(h->val_acc); free(h->seconds);
  h->loss = h->acc = h->val_loss = h->val_acc = h->seconds = NULL;
  h->n = h->cap = 0;
  h->present = 0;
}

int pf_folder_parse_history(const uint8_t *buf, size_t len, pf_folder_history *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  double **cols[4] = {&out->loss, &out->acc, &out->val_loss, &out->val_acc};
  static const char *const keys[4] = {"loss", "acc", "val_loss", "val_acc"};
  size_t n[4], ns = 0;
  int rc = PF_OK;
  for (int i = 0; i < 4 && rc == PF_OK; i++)
    if ((rc = pf_folder__darray(j, keys[i], cols[i], &n[i])) != PF_OK) WHY(out, "\"%s\" is missing or too long", keys[i]);
  /* seconds per epoch: optional, kept when it matches */
  if (rc == PF_OK && pf_folder__darray(j, "seconds", &out->seconds, &ns) == PF_OK && ns != n[0]) {
    free(out->seconds);
    out->seconds = NULL;
  }
  cJSON_Delete(j);
  if (rc == PF_OK && (n[1] != n[0] || n[2] != n[0] || n[3] != n[0])) {
    WHY(out, "the loss and accuracy arrays differ in length");
    rc = PF_EINVAL;
  }
  if (rc == PF_OK && n[0] == 0) { WHY(out, "no epochs recorded"); rc = PF_EINVAL; }
  if (rc != PF_OK) {
    pf_folder_history_free(out); /* keeps why */
    return PF_EINVAL;
  }
  out->n = out->cap = n[0];
  out->present = 1;
  return PF_OK;
}

void pf_folder_roc_free(pf_folder_roc *r) {
  free(r->fpr); free(r->tpr); free(r->threshold);
  r->fpr = r->tpr = r->threshold = NULL;
  r->n = 0;
  r->present = 0;
}

int pf_folder_parse_roc(const uint8_t *buf, size_t len, pf_folder_roc *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  size_t nf = 0, nt = 0, nh = 0;
  int rc = pf_folder__darray(j, "fpr", &out->fpr, &nf);
  if (rc == PF_OK) rc = pf_folder__darray(j, "tpr", &out->tpr, &nt);
  if (rc == PF_OK && (nf != nt || nf < 2)) rc = PF_EINVAL;
  if (rc != PF_OK) WHY(out, "\"fpr\" and \"tpr\" are not two equal arrays of 2 to %u numbers", PF_FOLDER_MAX_POINTS);
  out->n = nf;
  /* the thresholds: optional (the report draws without them); null is +infinity */
  if (rc == PF_OK && pf_folder__darray(j, "threshold", &out->threshold, &nh) == PF_OK && nh != nf) {
    free(out->threshold);
    out->threshold = NULL;
  }
  for (size_t i = 0; out->threshold && i < nh; i++)
    if (isnan(out->threshold[i])) out->threshold[i] = INFINITY;
  pf_folder__str(out->split, sizeof out->split, cJSON_GetObjectItemCaseSensitive(j, "split"));
  out->roc_auc = num(j, "roc_auc");
  out->rows = pf_folder__count(j, "rows");
  out->positives = pf_folder__count(j, "positives");
  out->negatives = pf_folder__count(j, "negatives");
  out->points_total = pf_folder__count(j, "points_total");
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(j, "operating_points"), *e;
  if (cJSON_IsArray(ops))
    cJSON_ArrayForEach(e, ops) {
      if (out->nop >= 3) break;
      pf_folder_op *o = &out->op[out->nop++];
      pf_folder__str(o->name, sizeof o->name, cJSON_GetObjectItemCaseSensitive(e, "name"));
      o->threshold = num(e, "threshold");
      o->fpr = num(e, "fpr");
      o->tpr = num(e, "tpr");
    }
  cJSON_Delete(j);
  if (rc != PF_OK) {
    free(out->fpr); free(out->tpr); free(out->threshold);
    out->fpr = out->tpr = out->threshold = NULL;
    out->n = 0;
    return PF_EINVAL;
  }
  out->present = 1;
  return PF_OK;
}

void pf_folder_pca_free(pf_folder_pca *p) {
  free(p->pc1); free(p->pc2); free(p->label);
  p->pc1 = p->pc2 = NULL;
  p->label = NULL;
  p->n = 0;
  p->present = 0;
}

int pf_folder_parse_pca(const uint8_t *buf, size_t len, pf_folder_pca *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  const cJSON *av = cJSON_GetObjectItemCaseSensitive(j, "available");
  if (cJSON_IsFalse(av)) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reason");
    WHY(out, "%s", cJSON_IsString(r) && r->valuestring[0] ? r->valuestring : "the training run could not compute it");
    for (char *c = out->why; *c; c++) /* one line */
      if ((unsigned char)*c < 0x20) *c = ' ';
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  double *ratio = NULL, *lab = NULL;
  size_t nr = 0, n1 = 0, n2 = 0, nl = 0;
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");
  int rc = pf_folder__darray(j, "explained_variance_ratio", &ratio, &nr);
  if (rc == PF_OK && cJSON_IsObject(pts)) {
    rc = pf_folder__darray(pts, "pc1", &out->pc1, &n1);
    if (rc == PF_OK) rc = pf_folder__darray(pts, "pc2", &out->pc2, &n2);
    if (rc == PF_OK) rc = pf_folder__darray(pts, "label", &lab, &nl);
  } else if (rc == PF_OK) {
    rc = PF_EINVAL;
  }
  if (rc == PF_OK && (n1 != n2 || n1 != nl || nr == 0)) rc = PF_EINVAL;
  if (rc == PF_OK && !(out->label = malloc((nl ? nl : 1) * sizeof *out->label))) rc = PF_ENOMEM;
  if (rc == PF_OK) {
    for (size_t i = 0; i < nl; i++) out->label[i] = lab[i] == 1 ? 1 : 0;
    out->n = n1;
    out->k = nr < PF_FOLDER_MAX_K ? nr : PF_FOLDER_MAX_K;
    memcpy(out->ratio, ratio, out->k * sizeof *ratio);
    pf_folder__str(out->split, sizeof out->split, cJSON_GetObjectItemCaseSensitive(j, "split"));
    out->rows = pf_folder__count(j, "rows");
    out->fit_rows = pf_folder__count(j, "fit_rows");
    out->points_total = pf_folder__count(j, "points_total");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "classes");
    for (int c = 0; c < 2; c++) {
      const cJSON *v = cJSON_IsArray(cl) ? cJSON_GetArrayItem(cl, c) : NULL;
      if (cJSON_IsString(v)) pf_folder__str(out->classes[c], sizeof out->classes[c], v);
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
