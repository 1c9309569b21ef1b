/* pf_drift: owns a model's quality over time: its figures per week or month
 * of first-seen time.
 * Defines the per-period row (samples per class, ROC AUC, TPR and FPR at
 * the model's threshold and at the thresholds chosen on its validation
 * split for 1% and 0.1% FPR), computing them for a timed data set, and
 * them as the model folder's over_time.json struct (pf_folder: evaluate
 * --by --json, over_time.json and the report's "Quality over time" panel
 * read the same form).
 * Called by `pefleet evaluate --by` (which samples, from the fleet:
 * pf_drift_eval.c), `pefleet train --split time` and
 * `pefleet report`. */
#ifndef PF_DRIFT_H
#define PF_DRIFT_H

#include <stddef.h>

#include "pf_date.h"
#include "pf_db.h"
#include "pf_folder.h"
#include "pf_model.h"
#include "pf_timesplit.h"

#define PF_DRIFT_MAX_PERIODS 1200 /* periods one call reports at most (100 years of months) */

typedef struct {
  double thr;        /* the threshold on p(class 1) */
  double tpr, fpr;   /* at it, on the period's samples */
} pf_drift_point;

typedef struct {
  long long start, end;  /* [start, end) */
  char label[16];        /* "2026-W07", "2026-02" */
  size_t n[2];           /* samples per class (0: clean, 1: malicious) */
  double roc_auc;        /* NaN when a class is absent */
  pf_drift_point at_threshold, at_fpr1, at_fpr01; /* the last two: thresholds from validation */
} pf_drift_period;

typedef struct {
  pf_period by;
  size_t n;
  pf_drift_period *p;  /* oldest first; periods without samples are left out */
} pf_drift;

/* Scores every row of t with m (two classes) and fills d per period of t's
 * first-seen times. thr1 / thr01: the thresholds that gave 1% and 0.1% FPR
 * on the model's validation split (+infinity: nothing is flagged).
 * PF_EINVAL for a model that is not two-class or of another width,
 * PF_ELIMIT past PF_DRIFT_MAX_PERIODS periods, PF_ENOMEM. */
int pf_drift_compute(const pf_model *m, const pf_timed *t, pf_period by, double thr1, double thr01, pf_drift *d);
void pf_drift_free(pf_drift *d);

/* d as over_time.json's struct (the form evaluate --by --json prints,
 * pf_folder_over_time_text): periods labelled, dated and counted under m's
 * two class names, its version and threshold. PF_OK, or PF_ENOMEM with
 * nothing allocated. Free with pf_folder_over_time_free. */
int pf_drift_over_time(const pf_drift *d, const pf_model *m, pf_folder_over_time *out);

/* What evaluate --by judges a model on: the thresholds its validation
 * split chose and the samples first seen after `after`. */
typedef struct {
  double thr1, thr01;  /* 1% and 0.1% FPR on validation (+infinity: nothing flagged) */
  long long after;     /* samples first seen strictly after this (0: every one) */
  char why[128];       /* which samples, for the summary line */
} pf_drift_window;

/* The window for the model folder dir: since > 0, the samples first seen
 * from since on; all, every sample; else those first seen after its
 * training data ended (stats.json "split".data_end). PF_OK; PF_ENOENT with
 * "DIR/stats.json has no validation thresholds ..." in err; PF_EINVAL
 * with "the model's stats.json does not say when its training data ended
 * ..." (neither since nor all given: a usage error). */
int pf_drift_window_of(const char *dir, long long since, int all, pf_drift_window *w, char *err, size_t errlen);

/* m's figures per period by over the fleet's samples of window w (read
 * through db, labels read as m's classes); *rows receives how many
 * samples the window held. PF_OK (d to be freed), or the code with the
 * reason in err ("reading the fleet's samples: ...", pf_strerror of
 * pf_drift_compute's code; "" when out of memory). */
int pf_drift_eval_db(pf_db *db, const pf_model *m, const pf_drift_window *w, pf_period by, pf_drift *d, size_t *rows,
                     char *err, size_t errlen);

/* The validation split's thresholds for 1% and 0.1% FPR from the text of a
 * model folder's stats.json (read through pf_folder_parse_stats) ("validation": {"tpr_at_fpr": {"0.01":
 * {"threshold"}, ...}}); a null threshold is +infinity. PF_ENOENT when the
 * text holds no such figures. */
int pf_drift_val_thresholds(const char *stats_json, double *thr1, double *thr01);

/* The newest first-seen time of the model's training data (train and
 * validation) from the text of its stats.json ("split": {"data_end_unix"}).
 * PF_ENOENT when the model was not trained from the fleet's first-seen
 * times (a CSV, or a model older than them). */
int pf_drift_data_end(const char *stats_json, long long *end);

/* Reads a model folder's stats.json into a malloc'd text (at most 4 MiB);
 * NULL when it cannot be read. */
char *pf_drift_read_stats(const char *dir);

#endif
