/* What the model report draws (see pf_report_model.h). */
#include "pf_report_model.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_evalout.h"
#include "pf_io.h"
#include "pf_score.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_report_model_load(const char *dir, pf_report_model *rm) {
  memset(rm, 0, sizeof *rm);
  rm->dir = dir;
  if (pf_model_load(dir, &rm->model, rm->model_why, sizeof rm->model_why) != PF_OK) rm->model = NULL;
  pf_folder_load(dir, &rm->fd);
  if (rm->fd.over_time.present)
    snprintf(rm->fd.over_time.source, sizeof rm->fd.over_time.source, "the model's test split");
  return rm->model || rm->fd.stats.present ? PF_OK : PF_EINVAL;
}

void pf_report_model_free(pf_report_model *rm) {
  pf_model_free(&rm->model);
  pf_folder_free(&rm->fd);
  memset(rm, 0, sizeof *rm);
}

int pf_report_model_over_time(pf_report_model *rm, const char *path) {
  pf_folder_over_time *o = &rm->fd.over_time;
  pf_folder_over_time_free(o);
  memset(o, 0, sizeof *o);
  o->exists = 1;
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = pf_io_read_file(path, PF_FOLDER_MAX_FILE, &buf, &len);
  if (rc != PF_OK) {
    snprintf(o->why, sizeof o->why, "cannot read %.200s: %s", path, pf_strerror(rc));
    return PF_EIO;
  }
  rc = pf_folder_parse_over_time(buf, len, o);
  free(buf);
  snprintf(o->source, sizeof o->source, "%.500s", path);
  return rc;
}

/* The rows of csv under m's classes (and label_map): PF_OK with d, or the
 * reason in err. */
static int load_rows(const pf_model *m, const char *csv, const char *label_map, pf_dataset *d, size_t *skipped,
                     char *err, size_t errlen) {
  pf_classes cls;
  memset(&cls, 0, sizeof cls);
  cls.n = (int)pf_model_classes(m);
  for (int i = 0; i < cls.n; i++) snprintf(cls.names[i], sizeof cls.names[i], "%s", m->classes[i]);
  char why[600];
  if (label_map && pf_classes_map(&cls, label_map, why, sizeof why) != PF_OK) {
    snprintf(err, errlen, "--label-map: %s", why);
    return PF_EINVAL;
  }
  memset(d, 0, sizeof *d);
  int rc = pf_dataset_load_csv(csv, m->sizes[0], &cls, d, skipped);
  int miss = rc == PF_OK && d->n ? pf_dataset_missing_class(d, &cls) : -1;
  if (miss >= 0) {
    snprintf(err, errlen, "no '%s' row in %s (%zu rows read, %zu skipped): the figures need every class",
             cls.names[miss], csv, d->n, *skipped);
    pf_dataset_free(d);
    return PF_EINVAL;
  }
  if (rc != PF_OK || d->n == 0) {
    snprintf(err, errlen, "cannot use %s: %s", csv,
             rc == PF_EIO ? strerror(errno) : rc != PF_OK ? pf_strerror(rc) : "no usable rows");
    pf_dataset_free(d);
    return rc != PF_OK ? rc : PF_EINVAL;
  }
  return PF_OK;
}

int pf_report_model_compute(pf_report_model *rm, const char *csv, const char *label_map, int all, char *err,
                            size_t errlen) {
  pf_folder *fd = &rm->fd;
  if (all) { /* --compare --dataset: both models on the same rows, whatever their folders hold */
    pf_folder_roc_free(&fd->roc);
    pf_folder_pca_free(&fd->pca);
    memset(&fd->stats, 0, sizeof fd->stats);
    memset(&fd->roc, 0, sizeof fd->roc);
    memset(&fd->pca, 0, sizeof fd->pca);
  }
  if (fd->stats.present && fd->roc.present && fd->pca.present) return PF_OK;
  if (!rm->model) { snprintf(err, errlen, "--dataset needs a readable model.pfnn"); return PF_EINVAL; }
  const pf_model *m = rm->model;
  pf_dataset d;
  size_t skipped = 0;
  int rc = load_rows(m, csv, label_map, &d, &skipped, err, errlen);
  if (rc != PF_OK) return rc;
  char split[64];
  const char *base = strrchr(csv, '/');
  snprintf(split, sizeof split, "rows of %s", base ? base + 1 : csv);
  /* what the training run's writers would put in the folder, kept in memory */
  pf_metrics mt;
  pf_folder_stats st;
  pf_folder_roc roc;
  pf_folder_pca pca;
  memset(&st, 0, sizeof st);
  memset(&roc, 0, sizeof roc);
  memset(&pca, 0, sizeof pca);
  const char *names[2] = {m->classes[0], m->classes[1]};
  rc = pf_score_metrics(m, &d, m->threshold, &mt);
  if (rc == PF_OK) {
    pf_evalout_split(&mt, names, &st.s[2]);
    st.present = 1;
  }
  if (rc == PF_OK && pf_model_classes(m) == 2) rc = pf_evalout_roc(m, &d, split, &roc);
  if (rc == PF_OK) rc = pf_evalout_pca(m, &d, split, &pca);
  if (rc == PF_OK && !pca.present) { /* as the file saying so would read */
    char why[PF_FOLDER_WHY];
    snprintf(why, sizeof why, "%s", pca.why);
    snprintf(pca.why, sizeof pca.why, "pca.json: %.200s", why);
  }
  if (rc == PF_OK) {
    if (!fd->stats.present) fd->stats = st;
    if (!fd->roc.present) { pf_folder_roc_free(&fd->roc); fd->roc = roc; memset(&roc, 0, sizeof roc); }
    if (!fd->pca.present) { pf_folder_pca_free(&fd->pca); fd->pca = pca; memset(&pca, 0, sizeof pca); }
    /* a model of more than two classes has no ROC curve: the file would be missing */
    if (!fd->roc.present && pf_model_classes(m) != 2)
      snprintf(fd->roc.why, sizeof fd->roc.why, "no roc.json in the model folder");
    snprintf(rm->computed_from, sizeof rm->computed_from, "%s (%zu rows, %zu skipped)", csv, d.n, skipped);
  } else {
    snprintf(err, errlen, "cannot compute the figures of %s: %s", csv, pf_strerror(rc));
  }
  pf_folder_roc_free(&roc);
  pf_folder_pca_free(&pca);
  pf_dataset_free(&d);
  return rc;
}

int pf_report_model_same_source(const pf_report_model *a, const pf_report_model *b) {
  const pf_folder_source *x = &a->fd.source, *y = &b->fd.source;
  if (!x->present || !y->present) return !x->present && !y->present;
  return strcmp(x->source, y->source) == 0 && strcmp(x->path, y->path) == 0 && x->has_seed == y->has_seed &&
         x->seed == y->seed && strcmp(x->split, y->split) == 0;
}
