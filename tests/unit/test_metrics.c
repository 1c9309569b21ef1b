/* Unit tests of pf_metrics: hand-computed cases, the tpr_at_fpr boundaries,
 * a randomized cross-check against brute force, the ROC points and the
 * stats.json object (parsed by python3 when present). */
#include "pf_test.h"

#include <math.h>
#include <unistd.h>

#include "pf_err.h"
#include "pf_metrics.h"

#define TOL 1e-12

static void assert_close(double got, double want, const char *what) {
  if (!(fabs(got - want) <= TOL)) fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* Computes and checks the return code. */
static pf_metrics compute(const float *p, const int32_t *y, size_t n, double t, int want_rc) {
  pf_metrics m;
  int rc = pf_metrics_compute(p, y, n, t, &m);
  if (rc != want_rc) fail_msg("pf_metrics_compute returned %d, want %d", rc, want_rc);
  return m;
}

static void assert_cm(const pf_metrics *m, uint64_t tn, uint64_t fp, uint64_t fn, uint64_t tp) {
  if (m->cm[0][0] != tn || m->cm[0][1] != fp || m->cm[1][0] != fn || m->cm[1][1] != tp)
    fail_msg("cm [[%llu, %llu], [%llu, %llu]], want [[%llu, %llu], [%llu, %llu]]", (unsigned long long)m->cm[0][0],
             (unsigned long long)m->cm[0][1], (unsigned long long)m->cm[1][0], (unsigned long long)m->cm[1][1],
             (unsigned long long)tn, (unsigned long long)fp, (unsigned long long)fn, (unsigned long long)tp);
}

/* The whole ROC curve, checked against want (fpr, tpr, threshold triples). */
static void assert_roc(const float *p, const int32_t *y, size_t n, const double (*want)[3], size_t nwant) {
  double fpr[64], tpr[64], thr[64];
  size_t np = 99, total = 99;
  assert_int_equal(pf_metrics_roc(p, y, n, fpr, tpr, thr, 64, &np, &total), PF_OK);
  assert_int_equal(np, nwant);
  assert_int_equal(total, nwant);
  for (size_t k = 0; k < nwant; k++) {
    if (fpr[k] != want[k][0] || tpr[k] != want[k][1] || thr[k] != want[k][2])
      fail_msg("roc point %zu: (%g, %g) at %g, want (%g, %g) at %g", k, fpr[k], tpr[k], thr[k], want[k][0],
               want[k][1], want[k][2]);
  }
}

/* ---- hand-computed cases ---- */

/* The classic four-sample case (AUC 3/4), with dyadic scores so every
 * threshold is exact. */
static void test_small(void **state) {
  const float p[] = {0.125f, 0.5f, 0.375f, 0.875f};
  const int32_t y[] = {0, 0, 1, 1};
  pf_metrics m = compute(p, y, 4, 0.5, PF_OK);
  /* predicted 1 at >= 0.5: samples 1 (a 0) and 3 (a 1) */
  assert_cm(&m, 1, 1, 1, 1);
  assert_int_equal(m.n, 4);
  assert_close(m.accuracy, 0.5, "accuracy");
  assert_close(m.fpr, 0.5, "fpr");
  assert_close(m.roc_auc, 0.75, "auc");
  assert_true(m.auc_defined);

  m = compute(p, y, 4, 0.625, PF_OK); /* only 0.875 predicted 1 */
  assert_cm(&m, 2, 0, 1, 1);
  assert_close(m.accuracy, 0.75, "accuracy");
  assert_close(m.precision[1], 1.0, "precision 1");
  assert_close(m.recall[1], 0.5, "recall 1");
  assert_close(m.f1[1], 2.0 / 3.0, "f1 1");
  assert_close(m.precision[0], 2.0 / 3.0, "precision 0");
  assert_close(m.recall[0], 1.0, "recall 0");
  assert_close(m.f1[0], 0.8, "f1 0");
  assert_int_equal(m.support[0], 2);
  assert_int_equal(m.support[1], 2);
  assert_close(m.fpr, 0.0, "fpr");
  assert_close(m.threshold, 0.625, "threshold");
  /* no negative above 0.375's step except 0.5: best within 1% is 0.5 at 0.875 */
  for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
    assert_close(m.tpr_at_fpr[k].tpr, 0.5, "tpr_at_fpr");
    assert_close(m.tpr_at_fpr[k].threshold, 0.875, "tpr_at_fpr threshold");
    assert_close(m.tpr_at_fpr[k].fpr, 0.0, "tpr_at_fpr fpr");
  }
  assert_close(m.tpr_at_fpr[0].target, 0.01, "target 0");
  assert_close(m.tpr_at_fpr[1].target, 0.001, "target 1");

  const double roc[][3] = {{0, 0, INFINITY}, {0, 0.5, 0.875}, {0.5, 0.5, 0.5}, {0.5, 1, 0.375}, {1, 1, 0.125}};
  assert_roc(p, y, 4, roc, 5);
}

/* Tied scores are one step of the curve (a diagonal segment, worth 1/2 a
 * pair), and a score equal to the threshold is predicted 1. */
static void test_ties(void **state) {
  const float p[] = {0.75f, 0.5f, 0.5f, 0.25f};
  const int32_t y[] = {1, 1, 0, 0};
  pf_metrics m = compute(p, y, 4, 0.5, PF_OK);
  assert_cm(&m, 1, 1, 0, 2);
  assert_close(m.roc_auc, 3.5 / 4.0, "auc"); /* 3 wins + 1 tie of 4 pairs */
  const double roc[][3] = {{0, 0, INFINITY}, {0, 0.5, 0.75}, {0.5, 1, 0.5}, {1, 1, 0.25}};
  assert_roc(p, y, 4, roc, 4);

  /* every score equal: one step from (0, 0) to (1, 1), AUC 1/2 */
  const float q[] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
  const int32_t z[] = {0, 1, 0, 1, 1};
  m = compute(q, z, 5, 0.5, PF_OK);
  assert_cm(&m, 0, 2, 0, 3);
  assert_close(m.roc_auc, 0.5, "auc all tied");
  assert_close(m.tpr_at_fpr[0].tpr, 0.0, "no point within 1%");
  assert_true(isinf(m.tpr_at_fpr[0].threshold) && m.tpr_at_fpr[0].threshold > 0);
  m = compute(q, z, 5, 0.5000001, PF_OK); /* just above: nothing predicted 1 */
  assert_cm(&m, 2, 0, 3, 0);
  const double roc2[][3] = {{0, 0, INFINITY}, {1, 1, 0.5}};
  assert_roc(q, z, 5, roc2, 2);

  /* -0 and +0 are one score */
  const float r[] = {-0.0f, 0.0f};
  const int32_t w[] = {0, 1};
  m = compute(r, w, 2, 0.0, PF_OK);
  assert_cm(&m, 0, 1, 0, 1);
  assert_close(m.roc_auc, 0.5, "auc signed zeros");
}

static void test_perfect(void **state) {
  const float p[] = {0.0625f, 0.25f, 0.125f, 0.75f, 0.625f, 0.5f};
  const int32_t y[] = {0, 0, 0, 1, 1, 1};
  pf_metrics m = compute(p, y, 6, 0.5, PF_OK);
  assert_cm(&m, 3, 0, 0, 3);
  assert_close(m.accuracy, 1, "accuracy");
  for (int c = 0; c < 2; c++) {
    assert_close(m.precision[c], 1, "precision");
    assert_close(m.recall[c], 1, "recall");
    assert_close(m.f1[c], 1, "f1");
  }
  assert_close(m.roc_auc, 1, "auc");
  assert_close(m.fpr, 0, "fpr");
  for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
    assert_close(m.tpr_at_fpr[k].tpr, 1, "tpr_at_fpr");
    assert_close(m.tpr_at_fpr[k].threshold, 0.5, "tpr_at_fpr threshold"); /* the lowest positive */
  }
}

static void test_all_wrong(void **state) {
  const float p[] = {0.9375f, 0.75f, 0.875f, 0.25f, 0.125f, 0.0f};
  const int32_t y[] = {0, 0, 0, 1, 1, 1};
  pf_metrics m = compute(p, y, 6, 0.5, PF_OK);
  assert_cm(&m, 0, 3, 3, 0);
  assert_close(m.accuracy, 0, "accuracy");
  for (int c = 0; c < 2; c++) {
    assert_close(m.precision[c], 0, "precision");
    assert_close(m.recall[c], 0, "recall");
    assert_close(m.f1[c], 0, "f1");
    assert_int_equal(m.support[c], 3);
  }
  assert_close(m.roc_auc, 0, "auc");
  assert_close(m.fpr, 1, "fpr");
  for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
    assert_close(m.tpr_at_fpr[k].tpr, 0, "tpr_at_fpr");
    assert_true(isinf(m.tpr_at_fpr[k].threshold));
  }
}

/* One class only (and n = 0): AUC undefined, flagged, 0/0 taken as 0. */
static void test_single_class(void **state) {
  const float p[] = {0.25f, 0.75f, 0.5f};
  const int32_t ones[] = {1, 1, 1}, zeros[] = {0, 0, 0};

  pf_metrics m = compute(p, ones, 3, 0.5, PF_METRICS_NO_AUC);
  assert_false(m.auc_defined);
  assert_true(isnan(m.roc_auc));
  assert_cm(&m, 0, 0, 1, 2);
  assert_close(m.accuracy, 2.0 / 3.0, "accuracy");
  assert_close(m.precision[0], 0, "precision 0 (0/1)");
  assert_close(m.recall[0], 0, "recall 0 (0/0)");
  assert_close(m.f1[0], 0, "f1 0");
  assert_int_equal(m.support[0], 0);
  assert_close(m.precision[1], 1, "precision 1");
  assert_close(m.recall[1], 2.0 / 3.0, "recall 1");
  assert_close(m.fpr, 0, "fpr (0/0)");
  /* no negatives: every point has FPR 0, so all positives are reachable */
  assert_close(m.tpr_at_fpr[1].tpr, 1, "tpr_at_fpr");
  assert_close(m.tpr_at_fpr[1].threshold, 0.25, "tpr_at_fpr threshold");
  const double roc1[][3] = {{0, 0, INFINITY}, {0, 1.0 / 3.0, 0.75}, {0, 2.0 / 3.0, 0.5}, {0, 1, 0.25}};
  assert_roc(p, ones, 3, roc1, 4);

  m = compute(p, zeros, 3, 0.5, PF_METRICS_NO_AUC);
  assert_false(m.auc_defined);
  assert_cm(&m, 1, 2, 0, 0);
  assert_close(m.precision[1], 0, "precision 1 (0/2)");
  assert_close(m.recall[1], 0, "recall 1 (0/0)");
  assert_close(m.fpr, 2.0 / 3.0, "fpr");
  assert_close(m.tpr_at_fpr[0].tpr, 0, "tpr_at_fpr");
  assert_true(isinf(m.tpr_at_fpr[0].threshold));

  m = compute(NULL, NULL, 0, 0.5, PF_METRICS_NO_AUC);
  assert_int_equal(m.n, 0);
  assert_cm(&m, 0, 0, 0, 0);
  assert_close(m.accuracy, 0, "accuracy n = 0");
  assert_true(isnan(m.roc_auc));
  double f[4], t[4], th[4];
  size_t np = 9, total = 9;
  assert_int_equal(pf_metrics_roc(NULL, NULL, 0, f, t, th, 4, &np, &total), PF_OK);
  assert_int_equal(np, 1);
  assert_int_equal(total, 1);
  assert_true(f[0] == 0 && t[0] == 0 && isinf(th[0]));
}

static void test_invalid(void **state) {
  const float p[] = {0.25f, NAN, 0.5f};
  const float ok[] = {0.25f, 0.75f, 0.5f};
  const int32_t y[] = {0, 1, 1}, bad2[] = {0, 2, 1}, badneg[] = {-1, 1, 0};
  pf_metrics m;
  double f[4], t[4];
  size_t np;
  assert_int_equal(pf_metrics_compute(p, y, 3, 0.5, &m), PF_EINVAL);
  assert_int_equal(m.n, 0); /* zeroed on error */
  assert_int_equal(pf_metrics_roc(p, y, 3, f, t, NULL, 4, &np, NULL), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(ok, bad2, 3, 0.5, &m), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(ok, badneg, 3, 0.5, &m), PF_EINVAL);
  assert_int_equal(pf_metrics_roc(ok, bad2, 3, f, t, NULL, 4, &np, NULL), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(ok, y, 3, NAN, &m), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(ok, y, 3, 0.5, NULL), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(NULL, y, 3, 0.5, &m), PF_EINVAL);
  assert_int_equal(pf_metrics_compute(ok, NULL, 3, 0.5, &m), PF_EINVAL);
  assert_int_equal(pf_metrics_roc(ok, y, 3, NULL, t, NULL, 4, &np, NULL), PF_EINVAL);
  assert_int_equal(pf_metrics_roc(ok, y, 3, f, t, NULL, 4, NULL, NULL), PF_EINVAL);
  /* the NaN is caught wherever it sits, and infinities are fine scores */
  const float last_nan[] = {0.25f, 0.75f, NAN};
  assert_int_equal(pf_metrics_compute(last_nan, y, 3, 0.5, &m), PF_EINVAL);
  const float infs[] = {-INFINITY, INFINITY, 0.5f};
  assert_int_equal(pf_metrics_compute(infs, y, 3, 0.5, &m), PF_OK);
  assert_close(m.roc_auc, 1, "auc with infinities");
  assert_int_equal(pf_metrics_write_json(NULL, &m, NULL), PF_EINVAL);
  assert_int_equal(pf_metrics_write_json(stdout, NULL, NULL), PF_EINVAL);
}

/* ---- tpr_at_fpr at its exact boundaries ---- */

/* 1000 negatives (k of them at 0.75, the rest at 0.125) and 10 positives
 * (3 at 0.875, 4 at 0.625, 3 at 0.25). The curve: (0, .3) at 0.875,
 * (k/1000, .3) at 0.75, (k/1000, .7) at 0.625, (k/1000, 1) at 0.25,
 * (1, 1) at 0.125. */
static void boundary_case(int k, double want_tpr[2], double want_thr[2]) {
  enum { NNEG = 1000, NPOS = 10 };
  float p[NNEG + NPOS];
  int32_t y[NNEG + NPOS];
  size_t n = 0;
  for (int i = 0; i < NNEG; i++, n++) {
    p[n] = i < k ? 0.75f : 0.125f;
    y[n] = 0;
  }
  const float pos[NPOS] = {0.875f, 0.875f, 0.875f, 0.625f, 0.625f, 0.625f, 0.625f, 0.25f, 0.25f, 0.25f};
  for (int i = 0; i < NPOS; i++, n++) {
    p[n] = pos[i];
    y[n] = 1;
  }
  pf_metrics m = compute(p, y, n, 0.5, PF_OK);
  for (int t = 0; t < 2; t++) {
    const pf_metrics_op *op = &m.tpr_at_fpr[t];
    if (op->tpr != want_tpr[t] || op->threshold != want_thr[t])
      fail_msg("k = %d, target %g: tpr %g at %g, want %g at %g", k, op->target, op->tpr, op->threshold,
               want_tpr[t], want_thr[t]);
    assert_true(op->fpr <= op->target);
  }
}

static void test_tpr_at_fpr_boundaries(void **state) {
  /* FPR exactly 0.001 (1/1000) is within the 0.001 budget... */
  boundary_case(1, (double[2]){1.0, 1.0}, (double[2]){0.25, 0.25});
  /* ...0.002 is not: back to the step before the first negative */
  boundary_case(2, (double[2]){1.0, 0.3}, (double[2]){0.25, 0.875});
  /* FPR exactly 0.01 (10/1000) is within the 0.01 budget, 0.011 is not */
  boundary_case(10, (double[2]){1.0, 0.3}, (double[2]){0.25, 0.875});
  boundary_case(11, (double[2]){0.3, 0.3}, (double[2]){0.875, 0.875});
  /* no negative above the positives' lowest score: everything at 0.25 */
  boundary_case(0, (double[2]){1.0, 1.0}, (double[2]){0.25, 0.25});

  /* Of the thresholds reaching the best TPR, the highest is reported. 1000
   * negatives: one at 0.75, ten at 0.5, the rest at 0.125; positives at
   * 0.875 and 0.25. Curve: (0, .5) at 0.875, (.001, .5) at 0.75, (.011, .5)
   * at 0.5, (.011, 1) at 0.25. Both budgets reach TPR 1/2 at 0.875 and at
   * 0.75 (FPR 0.001 fits both): 0.875 it is, with no false positive. */
  {
    float q[1002];
    int32_t z[1002];
    for (int i = 0; i < 1000; i++) {
      q[i] = i == 0 ? 0.75f : i <= 10 ? 0.5f : 0.125f;
      z[i] = 0;
    }
    q[1000] = 0.875f, z[1000] = 1;
    q[1001] = 0.25f, z[1001] = 1;
    pf_metrics m = compute(q, z, 1002, 0.5, PF_OK);
    for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
      assert_close(m.tpr_at_fpr[k].tpr, 0.5, "tpr");
      assert_close(m.tpr_at_fpr[k].threshold, 0.875, "threshold: the highest of equal TPRs");
      assert_close(m.tpr_at_fpr[k].fpr, 0, "fpr");
    }
  }

  /* 100 negatives, one at 0.75: the 0.01 budget reaches TPR 1 at 0.25 (FPR
   * exactly 0.01), the 0.001 budget TPR 1/2 at 0.875. */
  float p[102];
  int32_t y[102];
  for (int i = 0; i < 100; i++) {
    p[i] = i == 0 ? 0.75f : 0.125f;
    y[i] = 0;
  }
  p[100] = 0.875f, y[100] = 1;
  p[101] = 0.25f, y[101] = 1;
  pf_metrics m = compute(p, y, 102, 0.5, PF_OK);
  assert_close(m.tpr_at_fpr[0].tpr, 1, "tpr 0.01");
  assert_close(m.tpr_at_fpr[0].threshold, 0.25, "threshold 0.01");
  assert_close(m.tpr_at_fpr[0].fpr, 0.01, "fpr 0.01");
  assert_close(m.tpr_at_fpr[1].tpr, 0.5, "tpr 0.001");
  assert_close(m.tpr_at_fpr[1].threshold, 0.875, "threshold 0.001");
  assert_close(m.tpr_at_fpr[1].fpr, 0, "fpr 0.001");

  /* A tie group is one step: two negatives sharing 0.875 with the positive
   * cannot be split from it, so at FPR 2/100 it is out of the 0.01 budget. */
  p[0] = 0.875f, p[1] = 0.875f;
  m = compute(p, y, 102, 0.5, PF_OK);
  assert_close(m.tpr_at_fpr[0].tpr, 0, "tie group over budget");
  assert_true(isinf(m.tpr_at_fpr[0].threshold));
  /* with one negative in the group, FPR 1/100 fits exactly */
  p[1] = 0.125f;
  m = compute(p, y, 102, 0.5, PF_OK);
  assert_close(m.tpr_at_fpr[0].tpr, 1, "tie group within budget");
  assert_close(m.tpr_at_fpr[0].threshold, 0.25, "tie group within budget threshold");
  assert_close(m.tpr_at_fpr[1].tpr, 0, "tie group over the 0.001 budget");
}

/* ---- randomized cross-check against brute force ---- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}
static double uniform(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

/* AUC as the Mann-Whitney count over every (positive, negative) pair. */
static double brute_auc(const float *p, const int32_t *y, size_t n) {
  double wins = 0;
  uint64_t pos = 0, neg = 0;
  for (size_t i = 0; i < n; i++) {
    if (!y[i]) continue;
    pos++;
    for (size_t j = 0; j < n; j++) {
      if (y[j]) continue;
      wins += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
    }
  }
  for (size_t i = 0; i < n; i++) neg += !y[i];
  return wins / ((double)pos * (double)neg);
}

static int cmp_float_desc(const void *a, const void *b) {
  float x = *(const float *)a, z = *(const float *)b;
  return (x < z) - (x > z);
}

/* Checks every metric of one random data set against direct computation. */
static void cross_check(const float *p, const int32_t *y, size_t n, double t) {
  pf_metrics m;
  int rc = pf_metrics_compute(p, y, n, t, &m);
  uint64_t cnt[2][2] = {{0, 0}, {0, 0}}, P = 0, N = 0;
  for (size_t i = 0; i < n; i++) {
    int pred = p[i] >= t;
    cnt[y[i]][pred]++;
    if (y[i]) P++;
    else N++;
  }
  assert_int_equal(rc, P && N ? PF_OK : PF_METRICS_NO_AUC);
  assert_cm(&m, cnt[0][0], cnt[0][1], cnt[1][0], cnt[1][1]);
  assert_close(m.accuracy, n ? (double)(cnt[0][0] + cnt[1][1]) / (double)n : 0, "accuracy");
  for (int c = 0; c < 2; c++) {
    uint64_t hit = cnt[c][c], pred = cnt[0][c] + cnt[1][c], sup = cnt[c][0] + cnt[c][1];
    double pr = pred ? (double)hit / (double)pred : 0, re = sup ? (double)hit / (double)sup : 0;
    assert_int_equal(m.support[c], sup);
    assert_close(m.precision[c], pr, "precision");
    assert_close(m.recall[c], re, "recall");
    assert_close(m.f1[c], pr + re > 0 ? 2 * pr * re / (pr + re) : 0, "f1 (harmonic mean)");
  }
  assert_close(m.fpr, N ? (double)cnt[0][1] / (double)N : 0, "fpr");
  if (P && N) assert_close(m.roc_auc, brute_auc(p, y, n), "auc vs Mann-Whitney");

  /* the curve by direct counting at every distinct score, descending */
  float *d = malloc((n ? n : 1) * sizeof *d);
  assert_non_null(d);
  memcpy(d, p, n * sizeof *d);
  qsort(d, n, sizeof *d, cmp_float_desc);
  size_t nd = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || d[i] != d[nd - 1]) d[nd++] = d[i];
  double *bf = malloc((nd + 1) * sizeof *bf), *bt = malloc((nd + 1) * sizeof *bt), *bs = malloc((nd + 1) * sizeof *bs);
  assert_true(bf && bt && bs);
  bf[0] = bt[0] = 0, bs[0] = INFINITY;
  for (size_t k = 0; k < nd; k++) {
    uint64_t tp = 0, fp = 0;
    for (size_t i = 0; i < n; i++)
      if (p[i] >= d[k]) {
        if (y[i]) tp++;
        else fp++;
      }
    bf[k + 1] = N ? (double)fp / (double)N : 0;
    bt[k + 1] = P ? (double)tp / (double)P : 0;
    bs[k + 1] = d[k];
  }
  /* tpr_at_fpr: best TPR within the budget, the first (highest) score on ties */
  for (int k = 0; k < PF_METRICS_NTARGETS; k++) {
    const pf_metrics_op *op = &m.tpr_at_fpr[k];
    double best = 0, thr = INFINITY;
    for (size_t j = 0; j <= nd; j++)
      if (bf[j] <= op->target && bt[j] > best) best = bt[j], thr = bs[j];
    if (op->tpr != best || op->threshold != thr)
      fail_msg("tpr_at_fpr %g: %.17g at %.9g, brute force %.17g at %.9g", op->target, op->tpr, op->threshold, best,
               thr);
  }
  /* pf_metrics_roc gives exactly that curve, and its trapezoids the AUC */
  double *rf = malloc((nd + 1) * sizeof *rf), *rt = malloc((nd + 1) * sizeof *rt), *rs = malloc((nd + 1) * sizeof *rs);
  assert_true(rf && rt && rs);
  size_t np, total;
  assert_int_equal(pf_metrics_roc(p, y, n, rf, rt, rs, nd + 1, &np, &total), PF_OK);
  assert_int_equal(np, nd + 1);
  assert_int_equal(total, nd + 1);
  double area = 0;
  for (size_t j = 0; j <= nd; j++) {
    if (rf[j] != bf[j] || rt[j] != bt[j] || rs[j] != bs[j])
      fail_msg("roc point %zu: (%.17g, %.17g) at %.9g, brute force (%.17g, %.17g) at %.9g", j, rf[j], rt[j], rs[j],
               bf[j], bt[j], bs[j]);
    if (j) area += (rf[j] - rf[j - 1]) * (rt[j] + rt[j - 1]) / 2;
  }
  if (P && N) assert_close(area, m.roc_auc, "auc vs trapezoids of pf_metrics_roc");
  free(d), free(bf), free(bt), free(bs), free(rf), free(rt), free(rs);
}

static void test_random_cross_check(void **state) {
  enum { MAXN = 4000 };
  float *p = malloc(MAXN * sizeof *p);
  int32_t *y = malloc(MAXN * sizeof *y);
  assert_true(p && y);
  int rounds = 0;
  for (int r = 0; r < 24; r++) {
    size_t n = r < 3 ? (size_t)r : 500 + rng() % (MAXN - 500);
    double pos_rate = r % 6 == 5 ? 0.01 : r % 6 == 4 ? 0.99 : 0.2 + 0.6 * uniform();
    double signal = r % 4 == 0 ? 0.0 : uniform(); /* 0: scores independent of labels */
    for (size_t i = 0; i < n; i++) {
      y[i] = uniform() < pos_rate;
      double s = (1 - signal) * uniform() + signal * (y[i] ? 0.7 + 0.3 * uniform() : 0.3 * uniform());
      /* two decimals gives ~100 distinct scores (many ties); every third
       * round keeps full float resolution (few ties) */
      p[i] = r % 3 == 2 ? (float)s : (float)(round(s * 100) / 100);
    }
    if (r == 6) for (size_t i = 0; i < n; i++) y[i] = 1; /* single-class rounds */
    if (r == 7) for (size_t i = 0; i < n; i++) y[i] = 0;
    /* thresholds: 0.5, a sample's own score (ties at the threshold), the extremes */
    double ts[4] = {0.5, n ? p[rng() % n] : 0.25, 0.0, 1.0};
    for (int k = 0; k < 4; k++) cross_check(p, y, n, ts[k]);
    rounds++;
  }
  printf("%d random data sets (up to %d scores) match brute force\n", rounds, MAXN);
  free(p);
  free(y);
}

/* ---- ROC points, capped ---- */

static void test_roc_cap(void **state) {
  enum { N = 1000 };
  float p[N];
  int32_t y[N];
  for (int i = 0; i < N; i++) {
    p[i] = (float)(i % 250) / 250.0f; /* 250 distinct scores: 251 points */
    y[i] = (i * 7919) % 3 == 0;
  }
  double fpr[251], tpr[251], thr[251];
  size_t np, total;
  double af[251], at[251], as[251];
  assert_int_equal(pf_metrics_roc(p, y, N, af, at, as, 251, &np, &total), PF_OK);
  assert_int_equal(np, 251);
  assert_int_equal(total, 251);
  assert_true(af[250] == 1 && at[250] == 1 && as[250] == 0);

  const size_t caps[] = {2, 3, 10, 100, 250};
  for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
    size_t cap = caps[c];
    assert_int_equal(pf_metrics_roc(p, y, N, fpr, tpr, thr, cap, &np, &total), PF_OK);
    assert_int_equal(np, cap);
    assert_int_equal(total, 251);
    assert_true(fpr[0] == 0 && tpr[0] == 0 && isinf(thr[0]));
    assert_true(fpr[cap - 1] == 1 && tpr[cap - 1] == 1 && thr[cap - 1] == 0);
    /* every point is one of the curve's, in order, spread over it */
    size_t j = 0;
    for (size_t k = 0; k < cap; k++) {
      while (j < 251 && as[j] != thr[k]) j++;
      assert_true(j < 251);
      assert_true(af[j] == fpr[k] && at[j] == tpr[k]);
      size_t want = (size_t)((double)k * 250.0 / (double)(cap - 1) + 0.5);
      assert_int_equal(j, want);
    }
  }
  /* cap 1: the origin only; cap 0: nothing, but the total is told */
  assert_int_equal(pf_metrics_roc(p, y, N, fpr, tpr, NULL, 1, &np, &total), PF_OK);
  assert_int_equal(np, 1);
  assert_true(fpr[0] == 0 && tpr[0] == 0);
  assert_int_equal(pf_metrics_roc(p, y, N, NULL, NULL, NULL, 0, &np, &total), PF_OK);
  assert_int_equal(np, 0);
  assert_int_equal(total, 251);
}

/* ---- the stats.json object ---- */

static char *json_of(const pf_metrics *m, const char *const names[2]) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(pf_metrics_write_json(f, m, names), PF_OK);
  fclose(f);
  return buf;
}

/* Checks the object with python3's json module: it parses, has exactly the
 * keys of the format, and its numbers read back to the same doubles (python
 * prints them with repr, the shortest round-trip form). Returns 0 when
 * python3 is missing. */
static const char *py_check =
    "import json,sys\n"
    "d = json.load(open(sys.argv[1]))\n"
    "n0, n1 = sys.argv[2], sys.argv[3]\n"
    "assert set(d) == {'cm','accuracy','per_class','roc_auc','threshold','fpr','tpr_at_fpr','n'}, sorted(d)\n"
    "assert list(d['per_class']) == [n0, n1], list(d['per_class'])\n"
    "for c in (n0, n1):\n"
    "    assert set(d['per_class'][c]) == {'precision','recall','f1','support'}\n"
    "    assert isinstance(d['per_class'][c]['support'], int)\n"
    "assert list(d['tpr_at_fpr']) == ['0.01', '0.001'], list(d['tpr_at_fpr'])\n"
    "for t in d['tpr_at_fpr'].values(): assert set(t) == {'tpr','threshold'}\n"
    "assert len(d['cm']) == 2 and all(len(r) == 2 and all(isinstance(v, int) for v in r) for r in d['cm'])\n"
    "assert isinstance(d['n'], int) and d['n'] == sum(map(sum, d['cm']))\n"
    "pc = d['per_class']; tf = d['tpr_at_fpr']\n"
    "v = [d['accuracy'], d['roc_auc'], d['threshold'], d['fpr'], pc[n0]['precision'], pc[n0]['recall'],\n"
    "     pc[n0]['f1'], pc[n1]['precision'], pc[n1]['recall'], pc[n1]['f1'], tf['0.01']['tpr'],\n"
    "     tf['0.01']['threshold'], tf['0.001']['tpr'], tf['0.001']['threshold']]\n"
    "print(' '.join('null' if x is None else repr(float(x)) for x in v))\n";

static int have_python3(void) {
  return system("command -v python3 >/dev/null 2>&1") == 0;
}

static void check_json_python(const pf_metrics *m, const char *const names[2]) {
  char *json = json_of(m, names);
  char path[] = "/tmp/pf_metrics_json_XXXXXX", script[] = "/tmp/pf_metrics_py_XXXXXX";
  int fd = mkstemp(path), sfd = mkstemp(script);
  assert_true(fd >= 0 && sfd >= 0);
  assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
  assert_int_equal(write(sfd, py_check, strlen(py_check)), (ssize_t)strlen(py_check));
  close(fd);
  close(sfd);

  /* the plain parse the format promises */
  char cmd[512];
  snprintf(cmd, sizeof cmd, "python3 -c 'import json,sys; json.load(sys.stdin)' < %s", path);
  FILE *pp = popen(cmd, "r");
  assert_non_null(pp);
  if (pclose(pp) != 0) fail_msg("python3 json.load rejected: %s", json);

  const char *n0 = names && names[0] ? names[0] : "0", *n1 = names && names[1] ? names[1] : "1";
  snprintf(cmd, sizeof cmd, "python3 %s %s '%s' '%s'", script, path, n0, n1);
  pp = popen(cmd, "r");
  assert_non_null(pp);
  char out[4096] = "";
  size_t got = fread(out, 1, sizeof out - 1, pp);
  out[got] = '\0';
  int rc = pclose(pp);
  unlink(path);
  unlink(script);
  if (rc != 0) fail_msg("python3 check failed on: %s", json);

  const double want[] = {m->accuracy, m->roc_auc, m->threshold, m->fpr, m->precision[0], m->recall[0], m->f1[0],
                         m->precision[1], m->recall[1], m->f1[1], m->tpr_at_fpr[0].tpr,
                         m->tpr_at_fpr[0].threshold, m->tpr_at_fpr[1].tpr, m->tpr_at_fpr[1].threshold};
  char *s = out;
  for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
    while (*s == ' ') s++;
    if (strncmp(s, "null", 4) == 0) {
      if (isfinite(want[k])) fail_msg("value %zu is null in %s, want %.17g", k, json, want[k]);
      s += 4;
      continue;
    }
    char *end;
    double v = strtod(s, &end);
    if (end == s) fail_msg("value %zu unreadable in python output %s", k, out);
    if (memcmp(&v, &want[k], sizeof v) != 0) fail_msg("value %zu read back as %.17g, want %.17g", k, v, want[k]);
    s = end;
  }
  free(json);
}

static void test_json(void **state) {
  const float p[] = {0.125f, 0.5f, 0.375f, 0.875f, 0.1f, 0.3f, 0.7f};
  const int32_t y[] = {0, 0, 1, 1, 0, 1, 1};
  pf_metrics m = compute(p, y, 7, 0.5, PF_OK);

  /* the exact text for the classic case */
  pf_metrics s = compute(p, y, 4, 0.625, PF_OK);
  char *json = json_of(&s, NULL);
  const char *want =
      "{\"cm\": [[2, 0], [1, 1]], \"accuracy\": 0.75, \"per_class\": {\"0\": {\"precision\": 0.6666666666666666, "
      "\"recall\": 1, \"f1\": 0.8, \"support\": 2}, \"1\": {\"precision\": 1, \"recall\": 0.5, \"f1\": "
      "0.6666666666666666, \"support\": 2}}, \"roc_auc\": 0.75, \"threshold\": 0.625, \"fpr\": 0, \"tpr_at_fpr\": "
      "{\"0.01\": {\"tpr\": 0.5, \"threshold\": 0.875}, \"0.001\": {\"tpr\": 0.5, \"threshold\": 0.875}}, \"n\": 4}";
  if (strcmp(json, want) != 0) fail_msg("json\n  %s\nwant\n  %s", json, want);
  free(json);

  /* single class: roc_auc is null */
  const int32_t ones[] = {1, 1, 1};
  pf_metrics one = compute(p, ones, 3, 0.5, PF_METRICS_NO_AUC);
  json = json_of(&one, NULL);
  assert_non_null(strstr(json, "\"roc_auc\": null,"));
  free(json);

  if (!have_python3()) {
    printf("skipped: python3 not found, the JSON parse check needs it\n");
    skip();
  }
  const char *const names[2] = {"benign", "malicious"};
  check_json_python(&m, NULL);
  check_json_python(&m, names);
  check_json_python(&one, names);
  const char *const partial[2] = {NULL, "malware"};
  check_json_python(&s, partial);
  pf_metrics empty = compute(NULL, NULL, 0, 0.5, PF_METRICS_NO_AUC);
  check_json_python(&empty, NULL);
}

/* Names are JSON-escaped. */
static void test_json_escaping(void **state) {
  const float p[] = {0.25f, 0.75f};
  const int32_t y[] = {0, 1};
  pf_metrics m = compute(p, y, 2, 0.5, PF_OK);
  const char *const names[2] = {"be\"nign", "mal\\ware\n"};
  char *json = json_of(&m, names);
  assert_non_null(strstr(json, "{\"be\\\"nign\": {\"precision\": 1,"));
  assert_non_null(strstr(json, "\"mal\\\\ware\\n\": {\"precision\": 1,"));
  free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_small),
    cmocka_unit_test(test_ties),
    cmocka_unit_test(test_perfect),
    cmocka_unit_test(test_all_wrong),
    cmocka_unit_test(test_single_class),
    cmocka_unit_test(test_invalid),
    cmocka_unit_test(test_tpr_at_fpr_boundaries),
    cmocka_unit_test(test_random_cross_check),
    cmocka_unit_test(test_roc_cap),
    cmocka_unit_test(test_json),
    cmocka_unit_test(test_json_escaping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
