/* evaluate --by: which samples a model is judged on and its figures on
 * them, from the fleet (see pf_drift.h). */
#include "pf_drift.h"
#include "pf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_drift_window_of(const char *dir, long long since, int all, pf_drift_window *w, char *err, size_t errlen) {
  memset(w, 0, sizeof *w);
  char *stats = pf_drift_read_stats(dir);
  int rc = PF_OK;
  char day[PF_DATE_LEN];
  snprintf(w->why, sizeof w->why, "every sample (--all)");
  if (pf_drift_val_thresholds(stats, &w->thr1, &w->thr01) != PF_OK) {
    snprintf(err, errlen, "%s/stats.json has no validation thresholds for 1%% and 0.1%% FPR (train the model with "
             "pefleet train)", dir);
    rc = PF_ENOENT;
  } else if (since) {
    w->after = since - 1;
    snprintf(w->why, sizeof w->why, "samples first seen from %s (--since)", pf_date_format(since, day, sizeof day));
  } else if (!all) {
    if (pf_drift_data_end(stats, &w->after) != PF_OK) {
      snprintf(err, errlen, "the model's stats.json does not say when its training data ended (trained from a CSV?): "
               "give --since DATE or --all");
      rc = PF_EINVAL;
    } else {
      snprintf(w->why, sizeof w->why, "samples first seen after the model's training data ended (%s)",
               pf_date_format(w->after, day, sizeof day));
    }
  }
  free(stats);
  return rc;
}

int pf_drift_eval_db(pf_db *db, const pf_model *m, const pf_drift_window *w, pf_period by, pf_drift *d, size_t *rows,
                     char *err, size_t errlen) {
  memset(d, 0, sizeof *d);
  *rows = 0;
  err[0] = '\0';
  pf_classes cls;
  pf_classes_of_model(m, &cls);
  pf_timed every, win;
  memset(&every, 0, sizeof every);
  memset(&win, 0, sizeof win);
  size_t skipped = 0;
  pf_time_range r;
  int rc = pf_timed_load_db(db, m->sizes[0], &cls, &every, &skipped);
  if (rc != PF_OK) snprintf(err, errlen, "reading the fleet's samples: %s", pf_db_error(db));
  if (rc == PF_OK) rc = pf_timed_window(&every, w->after, 0, &win, &r);
  pf_timed_free(&every);
  if (rc == PF_OK) {
    rc = pf_drift_compute(m, &win, by, w->thr1, w->thr01, d);
    if (rc != PF_OK) snprintf(err, errlen, "%s", pf_strerror(rc));
  }
  *rows = win.d.n;
  pf_timed_free(&win);
  return rc;
}
