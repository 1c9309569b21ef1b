/* Parsers of the model folder's other files: model.json, dataset.json,
 * relevance.json and over_time.json (see pf_folder.h). */
#include "pf_folder.h"
#include "pf_folder_json.h"
#include "pf_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(out, ...) snprintf((out)->why, sizeof (out)->why, __VA_ARGS__)
#define num pf_folder__num
#define item cJSON_GetObjectItemCaseSensitive

int pf_folder_parse_meta(const uint8_t *buf, size_t len, pf_folder_meta *out) {
  memset(out, 0, sizeof *out);
  for (int s = 0; s < 3; s++) out->rows[s] = -1;
  out->format = out->schema = out->threshold = NAN;
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  out->format = num(j, "format");
  out->schema = num(j, "schema");
  out->threshold = num(j, "threshold");
  pf_folder__str(out->version, sizeof out->version, item(j, "version"));
  pf_folder__str(out->parent, sizeof out->parent, item(j, "parent"));
  const cJSON *a = item(j, "layers"), *e;
  if (cJSON_IsArray(a))
    cJSON_ArrayForEach(e, a) {
      /* the trainer's sizes; import-keras writes layer objects instead */
      if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= PF_MODEL_MAX_WIDTH) ||
          out->n_sizes == PF_MODEL_MAX_LAYERS + 1) {
        out->n_sizes = 0;
        break;
      }
      out->sizes[out->n_sizes++] = (uint32_t)e->valuedouble;
    }
  a = item(j, "classes");
  if (cJSON_IsArray(a))
    cJSON_ArrayForEach(e, a) {
      if (out->n_classes == PF_MODEL_MAX_CLASSES) break;
      pf_folder__str(out->classes[out->n_classes++], PF_MODEL_NAME, e);
    }
  static const char *const keys[3] = {"train", "validation", "test"};
  const cJSON *rows = item(j, "rows");
  for (int s = 0; s < 3; s++) {
    double v = num(rows, keys[s]);
    if (v >= 0 && v < 1e15) out->rows[s] = (long long)v;
  }
  cJSON_Delete(j);
  out->present = 1;
  return PF_OK;
}

int pf_folder_parse_source(const uint8_t *buf, size_t len, pf_folder_source *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  const cJSON *src = item(j, "source"), *pa = item(j, "path"), *sd = item(j, "seed");
  int rc = PF_OK;
  if (!cJSON_IsString(src) || strlen(src->valuestring) >= sizeof out->source) {
    WHY(out, "no \"source\" string");
    rc = PF_EINVAL;
  } else if (cJSON_IsString(pa) && strlen(pa->valuestring) >= sizeof out->path) {
    WHY(out, "\"path\" longer than %zu bytes", sizeof out->path - 1);
    rc = PF_EINVAL;
  } else {
    pf_folder__str(out->source, sizeof out->source, src);
    pf_folder__str(out->path, sizeof out->path, pa);
    pf_folder__str(out->split, sizeof out->split, item(j, "split"));
    /* seeds are written as integers; a double holds them exactly to 2^53 */
    if (cJSON_IsNumber(sd) && sd->valuedouble >= 0 && sd->valuedouble < 18446744073709551616.0) {
      out->has_seed = 1;
      out->seed = (uint64_t)sd->valuedouble;
    }
    out->present = 1;
  }
  cJSON_Delete(j);
  return rc;
}

void pf_folder_relevance_free(pf_folder_relevance *r) {
  free(r->f);
  r->f = NULL;
  r->n = 0;
  r->present = 0;
}

int pf_folder_parse_relevance(const uint8_t *buf, size_t len, pf_folder_relevance *out) {
  memset(out, 0, sizeof *out);
  cJSON *j = pf_folder__parse(buf, len, out->why, sizeof out->why);
  if (!j) return PF_EINVAL;
  const cJSON *fs = item(j, "features"), *e;
  size_t cnt = 0;
  if (cJSON_IsArray(fs)) cJSON_ArrayForEach(e, fs) if (++cnt > PF_FOLDER_MAX_FEATURES) break;
  if (!cJSON_IsArray(fs) || cnt == 0 || cnt > PF_FOLDER_MAX_FEATURES) {
    WHY(out, "no \"features\" array of 1 to %u entries", PF_FOLDER_MAX_FEATURES);
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  out->f = calloc(cnt, sizeof *out->f);
  if (!out->f) { WHY(out, "out of memory"); cJSON_Delete(j); return PF_ENOMEM; }
  size_t i = 0;
  cJSON_ArrayForEach(e, fs) {
    pf_folder_feature *f = &out->f[i++];
    double ix = num(e, "index");
    f->index = ix >= 0 && ix < 1e9 ? (uint32_t)ix : 0;
    pf_folder__str(f->name, sizeof f->name, item(e, "name"));
    f->d_accuracy = num(e, "accuracy_drop");
    f->d_auc = num(e, "auc_drop");
    f->accuracy = num(e, "accuracy");
    f->roc_auc = num(e, "roc_auc");
  }
  out->n = cnt;
  out->rows = pf_folder__count(j, "rows");
  const cJSON *base = item(j, "base");
  out->base_accuracy = num(base, "accuracy");
  out->base_auc = num(base, "roc_auc");
  pf_folder__str(out->source, sizeof out->source, item(j, "source"));
  pf_folder__str(out->model, sizeof out->model, item(j, "model"));
  out->present = 1;
  cJSON_Delete(j);
  return PF_OK;
}

void pf_folder_over_time_free(pf_folder_over_time *o) {
  free(o->p);
  o->p = NULL;
  o->n = 0;
  o->present = 0;
}

int pf_folder_parse_over_time(const uint8_t *buf, size_t len, pf_folder_over_time *out) {
  memset(out, 0, sizeof *out);
  out->exists = 1;
  cJSON *j = len <= PF_FOLDER_MAX_FILE && buf ? cJSON_ParseWithLength((const char *)buf, len) : NULL;
  const cJSON *by = item(j, "by"), *ps = item(j, "periods");
  if (!cJSON_IsString(by) || !cJSON_IsArray(ps)) {
    WHY(out, "not an over-time object ({\"by\", \"periods\": [...]})");
    cJSON_Delete(j);
    return PF_EINVAL;
  }
  snprintf(out->by, sizeof out->by, "%s", by->valuestring);
  pf_folder__str(out->model, sizeof out->model, item(j, "model"));
  out->threshold = num(j, "threshold");
  size_t n = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, ps) if (++n == PF_FOLDER_MAX_PERIODS) break;
  out->p = calloc(n ? n : 1, sizeof *out->p);
  if (!out->p) { WHY(out, "out of memory"); cJSON_Delete(j); return PF_ENOMEM; }
  cJSON_ArrayForEach(e, ps) {
    if (out->n == n) break;
    pf_folder_period *p = &out->p[out->n];
    const cJSON *lab = item(e, "period"), *st = item(e, "start"), *sm = item(e, "samples");
    if (!cJSON_IsString(lab) || !cJSON_IsObject(sm)) continue;
    pf_folder__str(p->label, sizeof p->label, lab);
    pf_folder__str(p->start, sizeof p->start, st);
    pf_folder__str(p->end, sizeof p->end, item(e, "end"));
    const cJSON *c0 = sm->child, *c1 = c0 ? c0->next : NULL;
    if (out->n == 0) /* the classes: the first period's sample keys */
      for (int k = 0; k < 2; k++) {
        const cJSON *c = k ? c1 : c0;
        snprintf(out->classes[k], sizeof out->classes[k], "%s", c && c->string ? c->string : "");
      }
    p->clean = cJSON_IsNumber(c0) ? c0->valuedouble : NAN;
    p->malicious = cJSON_IsNumber(c1) ? c1->valuedouble : NAN;
    p->roc_auc = num(e, "roc_auc");
    p->tpr = num(e, "tpr");
    p->fpr = num(e, "fpr");
    p->tpr1 = num(e, "tpr_at_fpr_0.01");
    p->fpr1 = num(e, "fpr_at_fpr_0.01");
    p->tpr01 = num(e, "tpr_at_fpr_0.001");
    p->fpr01 = num(e, "fpr_at_fpr_0.001");
    out->n++;
  }
  out->present = 1;
  cJSON_Delete(j);
  return PF_OK;
}
