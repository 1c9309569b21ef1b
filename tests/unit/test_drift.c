/* Unit tests of pf_drift's folder side: the window evaluate --by judges a
 * model on (after its training data ended, from --since, or every sample;
 * the reasons when stats.json lacks the thresholds or the end) and the
 * per-period figures as over_time.json's struct (labels, dates, counts
 * under the model's class names). */
#include "pf_test.h"

#include "pf_drift.h"
#include "pf_err.h"
#include "pf_folder.h"
#include "pf_score.h"

#include <math.h>

/* a 4-2 model whose p(class 1) follows feature 0 */
static pf_model *model(void) {
  const uint32_t sizes[2] = {4, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(1, sizes, &m), PF_OK);
  memset(m->w[0], 0, 8 * sizeof(float));
  m->w[0][1] = 8.0f;
  m->b[0][0] = 0;
  m->b[0][1] = -4.0f;
  snprintf(m->classes[0], sizeof m->classes[0], "clean");
  snprintf(m->classes[1], sizeof m->classes[1], "malicious");
  snprintf(m->version, sizeof m->version, "d1");
  m->threshold = 0.5;
  return m;
}

/* n rows: class i % 2, feature 0 = the class with noise, first seen a day apart from start */
static void timed(pf_timed *t, size_t n, long long start) {
  memset(t, 0, sizeof *t);
  t->d.dim = 4;
  for (size_t i = 0; i < n; i++) {
    char sha[65];
    snprintf(sha, sizeof sha, "%064zx", i);
    int y = (int)(i % 2);
    double v[4] = {y ? 0.8 : 0.2 + 0.01 * (double)(i % 5), 0, 0, 0};
    assert_int_equal(pf_timed_push(t, v, y, start + 86400LL * (long long)i, sha, 0), PF_OK);
  }
}

static void test_window(void **state) {
  char dir[64], err[512];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-drift"), 0);
  pf_drift_window w;
  assert_int_equal(pf_drift_window_of(dir, 0, 1, &w, err, sizeof err), PF_ENOENT);
  char exp[512];
  snprintf(exp, sizeof exp, "%s/stats.json has no validation thresholds for 1%% and 0.1%% FPR (train the model with "
           "pefleet train)", dir);
  assert_string_equal(err, exp);
  pf_model *m = model();
  pf_timed t;
  timed(&t, 40, 1767571200LL);
  pf_metrics mt;
  assert_int_equal(pf_score_metrics(m, &t.d, m->threshold, &mt), PF_OK);
  const pf_metrics *splits[3] = {&mt, &mt, &mt};
  const char *names[2] = {"clean", "malicious"};
  const pf_time_range r[3] = {{30, 1767571200LL, 1768000000LL}, {5, 1768000000LL, 1768100000LL}, {5, 1768100000LL, 1768200000LL}};
  pf_folder_split_info si;
  pf_folder_split_info_of(&si, 0, 1, 0, r);
  assert_int_equal(pf_folder_write_stats(dir, splits, names, &si, err, sizeof err), PF_OK);
  assert_int_equal(pf_drift_window_of(dir, 0, 0, &w, err, sizeof err), PF_OK);
  assert_true(w.after == 1768100000LL);
  assert_true(w.thr1 == mt.tpr_at_fpr[0].threshold && w.thr01 == mt.tpr_at_fpr[1].threshold);
  assert_string_equal(w.why, "samples first seen after the model's training data ended (2026-01-11T02:53:20Z)");
  assert_int_equal(pf_drift_window_of(dir, 1767571200LL, 0, &w, err, sizeof err), PF_OK);
  assert_true(w.after == 1767571199LL);
  assert_string_equal(w.why, "samples first seen from 2026-01-05T00:00:00Z (--since)");
  assert_int_equal(pf_drift_window_of(dir, 0, 1, &w, err, sizeof err), PF_OK);
  assert_true(w.after == 0);
  assert_string_equal(w.why, "every sample (--all)");
  /* trained from a CSV: no end, so neither --since nor --all is a usage error */
  pf_folder_split_info_of(&si, 1, 0, 0, NULL);
  assert_int_equal(pf_folder_write_stats(dir, splits, names, &si, err, sizeof err), PF_OK);
  assert_int_equal(pf_drift_window_of(dir, 0, 0, &w, err, sizeof err), PF_EINVAL);
  assert_string_equal(err, "the model's stats.json does not say when its training data ended (trained from a CSV?): "
                           "give --since DATE or --all");
  pf_timed_free(&t);
  pf_model_free(&m);
  assert_int_equal(pf_test_rmtree(dir), 0);
}

static void test_over_time_struct(void **state) {
  pf_model *m = model();
  pf_timed t;
  timed(&t, 14, 1767571200LL); /* Monday 2026-01-05: two ISO weeks */
  pf_drift d;
  assert_int_equal(pf_drift_compute(m, &t, PF_PERIOD_WEEK, 0.5, INFINITY, &d), PF_OK);
  pf_folder_over_time o;
  assert_int_equal(pf_drift_over_time(&d, m, &o), PF_OK);
  assert_true(o.present);
  assert_string_equal(o.by, "week");
  assert_string_equal(o.model, "d1");
  assert_true(o.threshold == 0.5);
  assert_string_equal(o.classes[0], "clean");
  assert_string_equal(o.classes[1], "malicious");
  assert_int_equal(o.n, 2);
  assert_string_equal(o.p[0].label, "2026-W02");
  assert_string_equal(o.p[0].start, "2026-01-05T00:00:00Z");
  assert_string_equal(o.p[0].end, "2026-01-12T00:00:00Z");
  assert_true(o.p[0].clean == 4 && o.p[0].malicious == 3);
  assert_true(o.p[1].clean == 3 && o.p[1].malicious == 4);
  assert_true(o.p[0].tpr == d.p[0].at_threshold.tpr && o.p[0].fpr01 == d.p[0].at_fpr01.fpr);
  assert_true(o.p[1].tpr01 == 0 && o.p[1].fpr01 == 0); /* nothing flagged at +infinity */
  pf_folder_over_time_free(&o);
  pf_drift_free(&d);
  pf_timed_free(&t);
  pf_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_window),
    cmocka_unit_test(test_over_time_struct),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
