/* Writers of the model folder's files (see pf_folder.h). Layouts:
 *
 * model.json: {"format": F, "version": V, "parent": P, "schema": S,
 *   "layers": [sizes], "classes": [...], "threshold": t, "rows": {"train":
 *   n, "validation": n, "test": n}} on one line.
 * stats.json: {"train": split, "validation": split, "test": split,
 *   "split": {how the splits were made, on one line}}, one key a line,
 *   each split as pf_metrics_write_json writes it.
 * history.json: {"loss", "acc", "val_loss", "val_acc", "seconds"}, one
 *   array a line.
 * roc.json: {"split": "test", "rows": n, "positives": p, "negatives": q,
 *   "roc_auc": a|null, "points_total": distinct scores + 1,
 *   "fpr": [...], "tpr": [...], "threshold": [... null for +infinity],
 *   "operating_points": [{"name": "threshold"|"fpr<=0.01"|"fpr<=0.001",
 *     "threshold": t|null, "fpr": f, "tpr": r}, ...]}
 * pca.json: {"available": true, "split": "test", "rows": n, "fit_rows": m,
 *   "standardized": true, "classes": [...], "explained_variance_ratio": [k],
 *   "points_total": n, "points": {"pc1": [...], "pc2": [...], "label": [...]}}
 *   or {"available": false, "reason": "..."}.
 * dataset.json: {"source": "csv", "path": P, "seed": s, "split": "70/15/15"}
 *   or {"source": "redis"}.
 * stats.json's "split" (pf_folder_split.c) and over_time.json
 * (pf_folder_time.c) are cJSON's text. */
#include "pf_folder.h"
#include "pf_folder_json.h"
#include "pf_atomic.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_fmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "key": [v, ...] with sep between entries; non-finite as null; fmt NULL:
 * shortest round trip */
static void array(FILE *f, const char *key, const double *v, size_t n, const char *fmt, const char *sep) {
  fprintf(f, "\"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    if (i) fputs(sep, f);
    if (!isfinite(v[i])) fputs("null", f);
    else if (fmt) fprintf(f, fmt, v[i]);
    else pf_fmt_json_double(f, v[i]);
  }
  fputc(']', f);
}

static FILE *open_file(pf_atomic *tmp, const char *dir, const char *name, char *err, size_t errlen) {
  FILE *f = pf_atomic_open(tmp, dir, name);
  if (!f) snprintf(err, errlen, "cannot write %s: %s", tmp->tmp, strerror(errno));
  return f;
}

static int commit(pf_atomic *tmp, const char *dir, const char *name, char *err, size_t errlen) {
  if (ferror(tmp->f)) {
    pf_atomic_abort(tmp);
    snprintf(err, errlen, "cannot write %s/%s", dir, name);
    return PF_EIO;
  }
  if (pf_atomic_commit(tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(errno));
    return PF_EIO;
  }
  return PF_OK;
}

int pf_folder_write_meta(const char *dir, const pf_model *m, const size_t rows[3], char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "model.json", err, errlen);
  if (!f) return PF_EIO;
  fprintf(f, "{\"format\": %d, \"version\": ", PF_MODEL_FORMAT);
  pf_fmt_json_string(f, m->version);
  fputs(", \"parent\": ", f);
  pf_fmt_json_string(f, m->parent);
  fprintf(f, ", \"schema\": %u, \"layers\": [", m->schema);
  for (uint32_t i = 0; i <= m->n_layers; i++) fprintf(f, "%s%u", i ? ", " : "", m->sizes[i]);
  fputs("], \"classes\": [", f);
  for (uint32_t i = 0; i < pf_model_classes(m); i++) {
    if (i) fputs(", ", f);
    pf_fmt_json_string(f, m->classes[i]);
  }
  fputs("], \"threshold\": ", f);
  pf_fmt_json_double(f, m->threshold);
  fprintf(f, ", \"rows\": {\"train\": %zu, \"validation\": %zu, \"test\": %zu}}\n", rows[0], rows[1], rows[2]);
  return commit(&tmp, dir, "model.json", err, errlen);
}

int pf_folder_write_keras_meta(const char *dir, const pf_model *m, const pf_keras_info *r, const char *src,
                               char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "model.json", err, errlen);
  if (!f) return PF_EIO;
  fprintf(f, "{\n  \"format\": \"pfnn\",\n  \"format_version\": %d,\n  \"file\": \"%s\",\n", PF_MODEL_FORMAT,
          PF_MODEL_FILE);
  fprintf(f, "  \"schema\": \"%s\",\n  \"schema_id\": %u,\n  \"layers\": [\n",
          m->schema == PF_ERGO486_SCHEMA_ID ? PF_ERGO486_SCHEMA : "unknown", m->schema);
  for (uint32_t i = 0; i < m->n_layers; i++) {
    fputs("    {\"name\": ", f);
    pf_fmt_json_string(f, i < r->n_dense ? r->dense[i] : "");
    fprintf(f, ", \"type\": \"dense\", \"inputs\": %u, \"units\": %u, \"activation\": \"%s\"}%s\n", m->sizes[i],
            m->sizes[i + 1], i + 1 == m->n_layers ? "softmax" : "relu", i + 1 == m->n_layers ? "" : ",");
  }
  fprintf(f, "  ],\n  \"parameters\": %zu,\n  \"classes\": [", pf_model_params(m));
  for (uint32_t c = 0; c < pf_model_classes(m); c++) {
    if (c) fputs(", ", f);
    pf_fmt_json_string(f, m->classes[c]);
  }
  char thr[40];
  pf_fmt_double(m->threshold, thr, sizeof thr);
  fprintf(f, "],\n  \"threshold\": %s,\n  \"version\": ", thr);
  pf_fmt_json_string(f, m->version);
  fputs(",\n  \"parent\": ", f);
  pf_fmt_json_string(f, m->parent);
  fputs(",\n  \"source\": {\n    \"kind\": \"keras-hdf5\",\n    \"path\": ", f);
  pf_fmt_json_string(f, src);
  fputs(",\n    \"sha256\": ", f);
  pf_fmt_json_string(f, r->sha256);
  fputs(",\n    \"keras_version\": ", f);
  pf_fmt_json_string(f, r->keras_version);
  fputs(",\n    \"backend\": ", f);
  pf_fmt_json_string(f, r->backend);
  fputs("\n  }\n}\n", f);
  return commit(&tmp, dir, "model.json", err, errlen);
}

int pf_folder_write_stats(const char *dir, const pf_metrics *const splits[3], const char *const names[2],
                          const pf_folder_split_info *split, char *err, size_t errlen) {
  char *split_json = NULL;
  if (split && !(split_json = pf_folder__split_json(split))) {
    snprintf(err, errlen, "cannot write %s/stats.json: out of memory", dir);
    return PF_ENOMEM;
  }
  static const char *const keys[3] = {"train", "validation", "test"};
  int last = -1; /* the last split written: no comma after it unless "split" follows */
  for (int s = 0; s < 3; s++)
    if (splits[s]) last = s;
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "stats.json", err, errlen);
  if (!f) { free(split_json); return PF_EIO; }
  fputs("{\n", f);
  for (int s = 0; s < 3; s++) {
    if (!splits[s]) continue;
    fprintf(f, "  \"%s\": ", keys[s]);
    pf_metrics_write_json(f, splits[s], names);
    fprintf(f, "%s\n", s < last || split_json ? "," : "");
  }
  if (split_json) fprintf(f, "  \"split\": %s\n", split_json);
  fputs("}\n", f);
  free(split_json);
  return commit(&tmp, dir, "stats.json", err, errlen);
}

static void history_line(FILE *f, const char *key, const double *v, size_t n, int last) {
  fputs("  ", f);
  array(f, key, v, n, NULL, ", ");
  fprintf(f, "%s\n", last ? "" : ",");
}

int pf_folder_write_history(const char *dir, const pf_fit_history *h, char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "history.json", err, errlen);
  if (!f) return PF_EIO;
  fputs("{\n", f);
  history_line(f, "loss", h->loss, h->n, 0);
  history_line(f, "acc", h->acc, h->n, 0);
  history_line(f, "val_loss", h->val_loss, h->n, 0);
  history_line(f, "val_acc", h->val_acc, h->n, !h->seconds);
  if (h->seconds) history_line(f, "seconds", h->seconds, h->n, 1);
  fputs("}\n", f);
  return commit(&tmp, dir, "history.json", err, errlen);
}

static void op(FILE *f, const pf_folder_op *o, int last) {
  fputs("    {\"name\": ", f);
  pf_fmt_json_string(f, o->name);
  fputs(", \"threshold\": ", f);
  pf_fmt_json_double(f, o->threshold);
  fputs(", \"fpr\": ", f);
  pf_fmt_json_double(f, o->fpr);
  fputs(", \"tpr\": ", f);
  pf_fmt_json_double(f, o->tpr);
  fprintf(f, "}%s\n", last ? "" : ",");
}

int pf_folder_write_roc(const char *dir, const pf_folder_roc *r, char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "roc.json", err, errlen);
  if (!f) return PF_EIO;
  fputs("{\"split\": ", f);
  pf_fmt_json_string(f, r->split);
  fprintf(f, ", \"rows\": %zu, \"positives\": %zu, \"negatives\": %zu, \"roc_auc\": ", r->rows, r->positives,
          r->negatives);
  pf_fmt_json_double(f, r->roc_auc);
  fprintf(f, ", \"points_total\": %zu,\n  ", r->points_total);
  array(f, "fpr", r->fpr, r->n, "%.6g", ",");
  fputs(",\n  ", f);
  array(f, "tpr", r->tpr, r->n, "%.6g", ",");
  if (r->threshold) {
    fputs(",\n  ", f);
    array(f, "threshold", r->threshold, r->n, "%.7g", ",");
  }
  fputs(",\n  \"operating_points\": [\n", f);
  for (int i = 0; i < r->nop; i++) op(f, &r->op[i], i + 1 == r->nop);
  fputs("  ]\n}\n", f);
  return commit(&tmp, dir, "roc.json", err, errlen);
}

int pf_folder_write_pca(const char *dir, const pf_folder_pca *p, char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "pca.json", err, errlen);
  if (!f) return PF_EIO;
  if (!p->present) {
    fputs("{\"available\": false, \"reason\": ", f);
    pf_fmt_json_string(f, p->why);
    fputs("}\n", f);
    return commit(&tmp, dir, "pca.json", err, errlen);
  }
  fputs("{\"available\": true, \"split\": ", f);
  pf_fmt_json_string(f, p->split);
  fprintf(f, ", \"rows\": %zu, \"fit_rows\": %zu, \"standardized\": true, \"classes\": [", p->rows, p->fit_rows);
  pf_fmt_json_string(f, p->classes[0]);
  fputs(", ", f);
  pf_fmt_json_string(f, p->classes[1]);
  fputs("],\n  ", f);
  array(f, "explained_variance_ratio", p->ratio, p->k, NULL, ",");
  fprintf(f, ",\n  \"points_total\": %zu, \"points\": {\n    ", p->points_total);
  array(f, "pc1", p->pc1, p->n, "%.5g", ",");
  fputs(",\n    ", f);
  array(f, "pc2", p->pc2, p->n, "%.5g", ",");
  fputs(",\n    \"label\": [", f);
  for (size_t i = 0; i < p->n; i++) fprintf(f, "%s%d", i ? "," : "", p->label[i]);
  fputs("]}\n}\n", f);
  return commit(&tmp, dir, "pca.json", err, errlen);
}

int pf_folder_write_source(const char *dir, const pf_folder_source *s, char *err, size_t errlen) {
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "dataset.json", err, errlen);
  if (!f) return PF_EIO;
  fputs("{\"source\": ", f);
  pf_fmt_json_string(f, s->source);
  if (strcmp(s->source, "csv") == 0) {
    fputs(", \"path\": ", f);
    pf_fmt_json_string(f, s->path);
    fprintf(f, ", \"seed\": %llu, \"split\": ", (unsigned long long)s->seed);
    pf_fmt_json_string(f, s->split);
  }
  fputs("}\n", f);
  return commit(&tmp, dir, "dataset.json", err, errlen);
}

int pf_folder_write_relevance(const char *path, const pf_folder_relevance *r, char *err, size_t errlen) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *name = slash ? slash + 1 : dir;
  if (slash) *slash = '\0';
  const char *pdir = slash ? (dir[0] ? dir : "/") : ".";
  pf_atomic tmp;
  FILE *f = open_file(&tmp, pdir, name, err, errlen);
  if (!f) return PF_EIO;
  fputs("{\"model\": ", f);
  pf_fmt_json_string(f, r->model);
  fputs(", \"source\": ", f);
  pf_fmt_json_string(f, r->source);
  fprintf(f, ", \"rows\": %zu, \"method\": \"each feature set to 0 in every row\",\n \"base\": {\"accuracy\": ", r->rows);
  pf_fmt_json_double(f, r->base_accuracy);
  fputs(", \"roc_auc\": ", f);
  pf_fmt_json_double(f, r->base_auc);
  fputs("},\n \"features\": [\n", f);
  for (size_t i = 0; i < r->n; i++) {
    const pf_folder_feature *e = &r->f[i];
    fprintf(f, "  {\"rank\": %zu, \"index\": %u, \"name\": ", i + 1, e->index);
    pf_fmt_json_string(f, e->name);
    fputs(", \"accuracy_drop\": ", f);
    pf_fmt_json_double(f, e->d_accuracy);
    fputs(", \"auc_drop\": ", f);
    pf_fmt_json_double(f, e->d_auc);
    fputs(", \"accuracy\": ", f);
    pf_fmt_json_double(f, e->accuracy);
    fputs(", \"roc_auc\": ", f);
    pf_fmt_json_double(f, e->roc_auc);
    fprintf(f, "}%s\n", i + 1 < r->n ? "," : "");
  }
  fputs(" ]\n}\n", f);
  return commit(&tmp, pdir, name, err, errlen);
}

int pf_folder_write_over_time(const char *dir, const pf_folder_over_time *o, char *err, size_t errlen) {
  char *json = pf_folder_over_time_text(o);
  if (!json) { snprintf(err, errlen, "cannot write %s/over_time.json: out of memory", dir); return PF_ENOMEM; }
  pf_atomic tmp;
  FILE *f = open_file(&tmp, dir, "over_time.json", err, errlen);
  if (!f) { free(json); return PF_EIO; }
  fprintf(f, "%s\n", json);
  free(json);
  return commit(&tmp, dir, "over_time.json", err, errlen);
}

