/* A training run's outputs (see train_out.h). */
#include "train_out.h"
#include "train_plots.h"
#include "pf_atomic.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_metrics.h"
#include "pf_score.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int train_split_stats(FILE *f, const pf_model *m, const pf_dataset *d) {
  pf_metrics mt;
  int rc = pf_score_metrics(m, d, m->threshold, &mt);
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

int train_write_outputs(const char *dir, const pf_model *m, const pf_dataset *const splits[3], const train_history *h,
                        const char *split_json, char *err, size_t errlen) {
  pf_atomic tmp;
  if (pf_model_save(m, dir) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/%s: %s", dir, PF_MODEL_FILE, strerror(errno));
    return PF_EIO;
  }
  static const char *const keys[3] = {"train", "validation", "test"};
  FILE *f = pf_atomic_open(&tmp, dir, "stats.json");
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp.tmp, strerror(errno)); return PF_EIO; }
  fputs("{\n", f);
  for (int s = 0; s < 3; s++) {
    fprintf(f, "  \"%s\": ", keys[s]);
    if (train_split_stats(f, m, splits[s]) != PF_OK) {
      pf_atomic_abort(&tmp);
      snprintf(err, errlen, "cannot compute the %s figures", keys[s]);
      return PF_ENOMEM;
    }
    fprintf(f, "%s\n", s < 2 || split_json ? "," : "");
  }
  if (split_json) fprintf(f, "  \"split\": %s\n", split_json);
  fputs("}\n", f);
  if (pf_atomic_commit(&tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/stats.json", dir);
    return PF_EIO;
  }
  f = pf_atomic_open(&tmp, dir, "history.json");
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp.tmp, strerror(errno)); return PF_EIO; }
  fputs("{\n", f);
  json_array(f, "loss", h->loss, h->n, 0);
  json_array(f, "acc", h->acc, h->n, 0);
  json_array(f, "val_loss", h->val_loss, h->n, 0);
  json_array(f, "val_acc", h->val_acc, h->n, 0);
  json_array(f, "seconds", h->seconds, h->n, 1);
  fputs("}\n", f);
  if (pf_atomic_commit(&tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/history.json", dir);
    return PF_EIO;
  }
  f = pf_atomic_open(&tmp, dir, "model.json");
  if (!f) { snprintf(err, errlen, "cannot write %s: %s", tmp.tmp, strerror(errno)); return PF_EIO; }
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
  if (pf_atomic_commit(&tmp) != PF_OK) {
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
  if (pf_score_metrics(m, test, m->threshold, &mt) != PF_OK) return;
  char auc[32] = "undefined (one class)";
  if (mt.auc_defined) snprintf(auc, sizeof auc, "%.4f", mt.roc_auc);
  fprintf(f, "%s: %llu rows, accuracy %.4f, ROC AUC %s, FPR %.4f at threshold %g, TPR %.4f at FPR <= 1%%\n",
          what, (unsigned long long)mt.n, mt.accuracy, auc, mt.fpr, mt.threshold, mt.tpr_at_fpr[0].tpr);
}

void train_print_table(FILE *f, const pf_model *m, const pf_dataset *d) {
  pf_metrics mt;
  if (pf_score_metrics(m, d, m->threshold, &mt) != PF_OK) return;
  const char *n0 = m->classes[0], *n1 = m->classes[1];
  fprintf(f, "confusion matrix at threshold %g (rows: true class, columns: predicted)\n", mt.threshold);
  fprintf(f, "  %-16s %12.16s %12.16s\n", "", n0, n1);
  for (int t = 0; t < 2; t++)
    fprintf(f, "  %-16.16s %12llu %12llu\n", t ? n1 : n0, (unsigned long long)mt.cm[t][0],
            (unsigned long long)mt.cm[t][1]);
  fprintf(f, "  %-16s %10s %10s %10s %10s\n", "class", "precision", "recall", "f1", "support");
  for (int c = 0; c < 2; c++)
    fprintf(f, "  %-16.16s %10.4f %10.4f %10.4f %10llu\n", c ? n1 : n0, mt.precision[c], mt.recall[c], mt.f1[c],
            (unsigned long long)mt.support[c]);
  for (int k = 0; k < PF_METRICS_NTARGETS; k++)
    fprintf(f, "TPR %.4f at FPR <= %g%% (FPR %.4f)\n", mt.tpr_at_fpr[k].tpr, mt.tpr_at_fpr[k].target * 100,
            mt.tpr_at_fpr[k].fpr);
}
