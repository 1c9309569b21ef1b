/* A training run's outputs (see train_out.h). */
#include "train_out.h"
#include "train_plots.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int train_history_init(train_history *h, size_t cap) {
  memset(h, 0, sizeof *h);
  h->cap = cap ? cap : 1;
  double **cols[5] = {&h->loss, &h->acc, &h->val_loss, &h->val_acc, &h->seconds};
  for (int i = 0; i < 5; i++) {
    *cols[i] = calloc(h->cap, sizeof(double));
    if (!*cols[i]) { train_history_free(h); return PF_ENOMEM; }
  }
  return PF_OK;
}

void train_history_add(train_history *h, double loss, double acc, double val_loss, double val_acc, double seconds) {
  if (h->n >= h->cap) return;
  h->loss[h->n] = loss;
  h->acc[h->n] = acc;
  h->val_loss[h->n] = val_loss;
  h->val_acc[h->n] = val_acc;
  h->seconds[h->n] = seconds;
  h->n++;
}

void train_history_free(train_history *h) {
  free(h->loss); free(h->acc); free(h->val_loss); free(h->val_acc); free(h->seconds);
  memset(h, 0, sizeof *h);
}

/* p(class 1) for every row of d. */
static float *scores(const pf_model *m, const pf_dataset *d) {
  uint32_t k = pf_model_classes(m);
  float *probs = malloc((d->n ? d->n : 1) * k * sizeof *probs);
  float *p1 = malloc((d->n ? d->n : 1) * sizeof *p1);
  if (!probs || !p1 || pf_model_predict(m, d->x, d->n, probs) != PF_OK) { free(probs); free(p1); return NULL; }
  for (size_t i = 0; i < d->n; i++) p1[i] = probs[i * k + 1];
  free(probs);
  return p1;
}

static int split_metrics(const pf_model *m, const pf_dataset *d, pf_metrics *out) {
  float *p1 = scores(m, d);
  if (!p1) return PF_ENOMEM;
  int rc = pf_metrics_compute(p1, d->y, d->n, m->threshold, out);
  free(p1);
  return rc < 0 ? rc : PF_OK;
}

int train_split_stats(FILE *f, const pf_model *m, const pf_dataset *d) {
  pf_metrics mt;
  int rc = split_metrics(m, d, &mt);
  if (rc != PF_OK) return rc;
  const char *names[2] = {m->classes[0], m->classes[1]};
  return pf_metrics_write_json(f, &mt, names);
}

static void json_array(FILE *f, const char *key, const double *v, size_t n, int last) {
  char num[40];
  fprintf(f, "  \"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    pf_fmt_double(v[i], num, sizeof num);
    fprintf(f, "%s%s", i ? ", " : "", num);
  }
  fprintf(f, "]%s\n", last ? "" : ",");
}

FILE *train_open_out(const char *dir, const char *name, char *tmp, size_t n) {
  snprintf(tmp, n, "%s/%s.tmp", dir, name);
  return fopen(tmp, "w");
}

int train_close_publish(FILE *f, const char *tmp, const char *dir, const char *name) {
  char dst[4200];
  int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  if (bad || rename(tmp, dst) != 0) { unlink(tmp); return PF_EIO; }
  return PF_OK;
}

int train_write_outputs(const char *dir, const pf_model *m, const pf_dataset *const splits[3], const train_history *h,
                        const char *split_json, char *err, size_t errlen) {
  char tmp[4200];
  if (pf_model_save(m, dir) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/%s: %s", dir, PF_MODEL_FILE, strerror(errno));
    return PF_EIO;
  }
  static const char *const keys[3] = {"train", "validation", "test"};
  FILE *f = train_open_out(dir, "stats.json", tmp, sizeof tmp);
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno)); return PF_EIO; }
  fputs("{\n", f);
  for (int s = 0; s < 3; s++) {
    fprintf(f, "  \"%s\": ", keys[s]);
    if (train_split_stats(f, m, splits[s]) != PF_OK) {
      fclose(f);
      unlink(tmp);
      snprintf(err, errlen, "cannot compute the %s figures", keys[s]);
      return PF_ENOMEM;
    }
    fprintf(f, "%s\n", s < 2 || split_json ? "," : "");
  }
  if (split_json) fprintf(f, "  \"split\": %s\n", split_json);
  fputs("}\n", f);
  if (train_close_publish(f, tmp, dir, "stats.json") != PF_OK) {
    snprintf(err, errlen, "cannot write %s/stats.json", dir);
    return PF_EIO;
  }
  f = train_open_out(dir, "history.json", tmp, sizeof tmp);
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno)); return PF_EIO; }
  fputs("{\n", f);
  json_array(f, "loss", h->loss, h->n, 0);
  json_array(f, "acc", h->acc, h->n, 0);
  json_array(f, "val_loss", h->val_loss, h->n, 0);
  json_array(f, "val_acc", h->val_acc, h->n, 0);
  json_array(f, "seconds", h->seconds, h->n, 1);
  fputs("}\n", f);
  if (train_close_publish(f, tmp, dir, "history.json") != PF_OK) {
    snprintf(err, errlen, "cannot write %s/history.json", dir);
    return PF_EIO;
  }
  f = train_open_out(dir, "model.json", tmp, sizeof tmp);
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno)); return PF_EIO; }
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
  char num[40];
  pf_fmt_double(m->threshold, num, sizeof num);
  fprintf(f, "], \"threshold\": %s, \"rows\": {\"train\": %zu, \"validation\": %zu, \"test\": %zu}}\n", num,
          splits[0]->n, splits[1]->n, splits[2]->n);
  if (train_close_publish(f, tmp, dir, "model.json") != PF_OK) {
    snprintf(err, errlen, "cannot write %s/model.json", dir);
    return PF_EIO;
  }
  /* the report's plot data: the test split's ROC curve and PCA */
  int rc = train_write_roc(dir, "test", m, splits[2], err, errlen);
  if (rc == PF_OK) rc = train_write_pca(dir, "test", m, splits[2], err, errlen);
  return rc;
}

void train_print_figures(FILE *f, const char *what, const pf_model *m, const pf_dataset *test) {
  pf_metrics mt;
  if (split_metrics(m, test, &mt) != PF_OK) return;
  char auc[32] = "undefined (one class)";
  if (mt.auc_defined) snprintf(auc, sizeof auc, "%.4f", mt.roc_auc);
  fprintf(f, "%s: %llu rows, accuracy %.4f, ROC AUC %s, FPR %.4f at threshold %g, TPR %.4f at FPR <= 1%%\n",
          what, (unsigned long long)mt.n, mt.accuracy, auc, mt.fpr, mt.threshold, mt.tpr_at_fpr[0].tpr);
}
