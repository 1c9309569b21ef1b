/* A training run's outputs and printed figures (see pf_evalout.h); the
 * files themselves are written by pf_folder_write.c. */
#include "pf_evalout.h"
#include "pf_drift.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_score.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int train_split_stats(FILE *f, const pf_model *m, const pf_dataset *d) {
  pf_metrics mt;
  int rc = pf_score_metrics(m, d, m->threshold, &mt);
  if (rc != PF_OK) return rc;
  const char *names[2] = {m->classes[0], m->classes[1]};
  return pf_metrics_write_json(f, &mt, names);
}

int train_write_outputs(const char *dir, const pf_model *m, const pf_dataset *const splits[3], const pf_fit_history *h,
                        const pf_folder_split_info *split, char *err, size_t errlen) {
  if (pf_model_save(m, dir) != PF_OK) {
    snprintf(err, errlen, "cannot write %s/%s: %s", dir, PF_MODEL_FILE, strerror(errno));
    return PF_EIO;
  }
  static const char *const keys[3] = {"train", "validation", "test"};
  pf_metrics mt[3];
  const pf_metrics *ms[3] = {&mt[0], &mt[1], &mt[2]};
  for (int s = 0; s < 3; s++)
    if (pf_score_metrics(m, splits[s], m->threshold, &mt[s]) != PF_OK) {
      snprintf(err, errlen, "cannot compute the %s figures", keys[s]);
      return PF_ENOMEM;
    }
  const char *names[2] = {m->classes[0], m->classes[1]};
  const size_t rows[3] = {splits[0]->n, splits[1]->n, splits[2]->n};
  int rc = pf_folder_write_stats(dir, ms, names, split, err, errlen);
  if (rc == PF_OK) rc = pf_folder_write_history(dir, h, err, errlen);
  if (rc == PF_OK) rc = pf_folder_write_meta(dir, m, rows, err, errlen);
  /* the report's plot data: the test split's ROC curve and PCA */
  if (rc == PF_OK) rc = train_write_roc(dir, "test", m, splits[2], err, errlen);
  if (rc == PF_OK) rc = train_write_pca(dir, "test", m, splits[2], err, errlen);
  return rc;
}

int pf_evalout_over_time(const char *dir, const pf_model *m, const pf_dataset *val, const pf_timed *test, char *err,
                         size_t errlen) {
  pf_metrics mv;
  int rc = pf_score_metrics(m, val, m->threshold, &mv);
  pf_drift d;
  if (rc == PF_OK) rc = pf_drift_compute(m, test, PF_PERIOD_WEEK, mv.tpr_at_fpr[0].threshold, mv.tpr_at_fpr[1].threshold, &d);
  if (rc != PF_OK) { snprintf(err, errlen, "cannot compute the figures over time: %s", pf_strerror(rc)); return rc; }
  pf_folder_over_time ot;
  rc = pf_drift_over_time(&d, m, &ot);
  pf_drift_free(&d);
  if (rc != PF_OK) { snprintf(err, errlen, "cannot write %s/over_time.json: out of memory", dir); return PF_ENOMEM; }
  rc = pf_folder_write_over_time(dir, &ot, err, errlen);
  pf_folder_over_time_free(&ot);
  return rc;
}

int train_write_roc(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen) {
  pf_folder_roc r;
  int rc = pf_evalout_roc(m, d, split, &r);
  if (rc == PF_OK) rc = pf_folder_write_roc(dir, &r, err, errlen);
  else snprintf(err, errlen, "cannot write %s/roc.json: %s", dir, r.why);
  pf_folder_roc_free(&r);
  return rc;
}

int train_write_pca(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen) {
  pf_folder_pca p;
  int rc = pf_evalout_pca(m, d, split, &p);
  if (rc == PF_OK) rc = pf_folder_write_pca(dir, &p, err, errlen);
  else snprintf(err, errlen, "cannot write %s/pca.json: %s", dir, p.why);
  pf_folder_pca_free(&p);
  return rc;
}

int train_write_source(const char *dir, const char *csv, uint64_t seed, char *err, size_t errlen) {
  pf_folder_source s;
  memset(&s, 0, sizeof s);
  if (csv) {
    char abs[PATH_MAX];
    snprintf(s.source, sizeof s.source, "csv");
    snprintf(s.path, sizeof s.path, "%s", realpath(csv, abs) ? abs : csv);
    s.has_seed = 1;
    s.seed = seed;
    snprintf(s.split, sizeof s.split, "70/15/15");
  } else {
    snprintf(s.source, sizeof s.source, "redis");
  }
  s.present = 1;
  return pf_folder_write_source(dir, &s, err, errlen);
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
