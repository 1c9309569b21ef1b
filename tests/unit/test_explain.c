/* Unit tests of pf_explain (Integrated Gradients) and of the model file's
 * baseline (format 2). */
#include "pf_test.h"

#include <math.h>

#include "pf_ergo486.h"
#include "pf_err.h"
#include "pf_explain.h"
#include "pf_model.h"
#include "pf_train.h"

static uint64_t rs = 0x243f6a8885a308d3ull;
static double urand(void) { /* xorshift64*, [0, 1) */
  rs ^= rs >> 12;
  rs ^= rs << 25;
  rs ^= rs >> 27;
  return (double)((rs * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

/* The seed's shape with random weights large enough that p moves. */
static pf_model *seed_like(double scale) {
  static const uint32_t sizes[] = {PF_ERGO486_DIM, 70, 70, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(3, sizes, &m), PF_OK);
  for (uint32_t l = 0; l < 3; l++) {
    for (size_t k = 0; k < (size_t)sizes[l] * sizes[l + 1]; k++) m->w[l][k] = (float)((urand() - 0.5) * scale / sqrt(sizes[l]));
    for (uint32_t k = 0; k < sizes[l + 1]; k++) m->b[l][k] = (float)((urand() - 0.5) * 0.2);
  }
  return m;
}

static void random_x(float *x) {
  for (int i = 0; i < PF_ERGO486_DIM; i++) x[i] = (float)(urand() < 0.3 ? urand() : 0.0);
}

static void test_gradient_matches_finite_differences(void **st) {
  (void)st;
  pf_model *m = seed_like(6.0);
  float x[PF_ERGO486_DIM], y[PF_ERGO486_DIM];
  double g[PF_ERGO486_DIM], p, pp[2], pm[2];
  float probs[2];
  int checked = 0;
  for (int t = 0; t < 5; t++) {
    random_x(x);
    assert_int_equal(pf_explain_gradient(m, x, 1, g, &p), PF_OK);
    assert_int_equal(pf_model_predict(m, x, 1, probs), PF_OK);
    assert_true(fabs(p - probs[1]) < 1e-5);
    for (int i = 0; i < PF_ERGO486_DIM; i += 7) {
      const double h = 1e-2;
      memcpy(y, x, sizeof y);
      y[i] = (float)(x[i] + h);
      pf_model_predict(m, y, 1, probs);
      pp[1] = probs[1];
      y[i] = (float)(x[i] - h);
      pf_model_predict(m, y, 1, probs);
      pm[1] = probs[1];
      double fd = (pp[1] - pm[1]) / (2 * h);
      if (fabs(fd) < 1e-4 && fabs(g[i]) < 1e-4) continue;
      if (fabs(fd - g[i]) > 2e-2 * fabs(fd) + 1e-5) fail_msg("feature %d: analytic %.6g, finite difference %.6g", i, g[i], fd);
      checked++;
    }
  }
  assert_true(checked > 50);
  pf_model_free(&m);
}

/* completeness: the contributions add up to p(x) - p(baseline) */
static void check_completeness(pf_model *m, int n) {
  float x[PF_ERGO486_DIM];
  double c[PF_ERGO486_DIM];
  double worst = 0.0, moved = 0.0;
  for (int t = 0; t < n; t++) {
    random_x(x);
    pf_explain_info info;
    assert_int_equal(pf_explain_ig(m, x, 1, PF_EXPLAIN_STEPS, c, &info), PF_OK);
    double s = 0.0;
    for (int i = 0; i < PF_ERGO486_DIM; i++) s += c[i];
    assert_true(fabs(s - info.sum) < 1e-9);
    double err = fabs(info.sum - (info.p_x - info.p_base));
    if (err > worst) worst = err;
    if (fabs(info.p_x - info.p_base) > moved) moved = fabs(info.p_x - info.p_base);
  }
  if (worst >= 1e-3) fail_msg("completeness off by %.3g (must be < 1e-3)", worst);
  assert_true(moved > 0.05); /* the test means something: p moved along the path */
}

static void test_completeness_zero_baseline(void **st) {
  (void)st;
  pf_model *m = seed_like(6.0);
  check_completeness(m, 40);
  float x[PF_ERGO486_DIM];
  double c[PF_ERGO486_DIM];
  pf_explain_info info;
  random_x(x);
  assert_int_equal(pf_explain_ig(m, x, 1, PF_EXPLAIN_STEPS, c, &info), PF_OK);
  assert_string_equal(info.baseline, "zero");
  pf_model_free(&m);
}

static void test_completeness_model_baseline(void **st) {
  (void)st;
  pf_model *m = seed_like(6.0);
  float b[PF_ERGO486_DIM];
  random_x(b);
  assert_int_equal(pf_model_set_baseline(m, b, "clean mean of train"), PF_OK);
  check_completeness(m, 40);
  /* at the baseline itself every contribution is 0 */
  double c[PF_ERGO486_DIM];
  pf_explain_info info;
  assert_int_equal(pf_explain_ig(m, b, 1, PF_EXPLAIN_STEPS, c, &info), PF_OK);
  for (int i = 0; i < PF_ERGO486_DIM; i++) assert_true(c[i] == 0.0);
  assert_string_equal(info.baseline, "clean mean of train");
  pf_model_free(&m);
}

/* a network that reads one feature only: that feature is the explanation */
static void test_one_feature_decides(void **st) {
  (void)st;
  pf_model *m = seed_like(6.0);
  const int f = 300; /* byte(e1) of the histogram */
  memset(m->w[0], 0, (size_t)PF_ERGO486_DIM * 70 * sizeof(float));
  for (int j = 0; j < 70; j++) m->w[0][(size_t)f * 70 + j] = (float)((urand() - 0.3) * 8.0);
  float x[PF_ERGO486_DIM];
  double c[PF_ERGO486_DIM];
  uint32_t top[10];
  for (int t = 0; t < 20; t++) {
    random_x(x);
    x[f] = (float)(0.2 + 0.8 * urand());
    pf_explain_info info;
    assert_int_equal(pf_explain_ig(m, x, 1, PF_EXPLAIN_STEPS, c, &info), PF_OK);
    assert_int_equal(pf_explain_top(c, PF_ERGO486_DIM, 10, top), 10);
    assert_int_equal(top[0], f);
    for (int i = 0; i < PF_ERGO486_DIM; i++)
      if (i != f) assert_true(c[i] == 0.0);
    assert_int_equal(pf_explain_group_of(f), 2);
    assert_true(fabs(pf_explain_group_sum(c, 2) - info.sum) < 1e-12);
  }
  pf_model_free(&m);
}

static void test_top_and_groups(void **st) {
  (void)st;
  double c[PF_ERGO486_DIM] = {0};
  c[5] = -0.4;
  c[100] = 0.3;
  c[400] = 0.3; /* tie with 100: the lower index first */
  c[485] = 0.01;
  uint32_t idx[4];
  assert_int_equal(pf_explain_top(c, PF_ERGO486_DIM, 4, idx), 4);
  assert_int_equal(idx[0], 5);
  assert_int_equal(idx[1], 100);
  assert_int_equal(idx[2], 400);
  assert_int_equal(idx[3], 485);
  double total = 0.0;
  for (int g = 0; g < PF_EXPLAIN_NGROUPS; g++) total += pf_explain_group_sum(c, g);
  assert_true(fabs(total - 0.21) < 1e-12);
  assert_string_equal(pf_explain_group_name(0), "properties");
  assert_string_equal(pf_explain_group_name(5), "sections");
  for (int i = 0; i < PF_ERGO486_DIM; i++) assert_true(pf_explain_group_of(i) >= 0);
  assert_int_equal(pf_explain_group_of(486), -1);
  pf_explain_info info;
  pf_model *m = seed_like(1.0);
  assert_int_equal(pf_explain_ig(m, (float[PF_ERGO486_DIM]){0}, 2, 64, c, &info), PF_EINVAL);
  assert_int_equal(pf_explain_ig(m, (float[PF_ERGO486_DIM]){0}, 1, 0, c, &info), PF_EINVAL);
  pf_model_free(&m);
}

/* the baseline travels in the model file (format 2); no baseline: format 1 */
static void test_baseline_in_file(void **st) {
  (void)st;
  pf_model *m = seed_like(1.0), *d = NULL;
  size_t n1 = pf_model_encoded_size(m);
  uint8_t *b1 = malloc(n1);
  assert_int_equal(pf_model_encode(m, b1, n1), PF_OK);
  assert_int_equal(b1[4], 1); /* format 1, byte for byte as before */
  float x[PF_ERGO486_DIM];
  random_x(x);
  float bad[PF_ERGO486_DIM];
  memcpy(bad, x, sizeof bad);
  bad[3] = NAN;
  assert_int_equal(pf_model_set_baseline(m, bad, "x"), PF_EINVAL);
  assert_int_equal(pf_model_set_baseline(m, x, "bad\nname"), PF_EINVAL);
  assert_int_equal(pf_model_set_baseline(m, x, "clean mean of train"), PF_OK);
  size_t n2 = pf_model_encoded_size(m);
  assert_int_equal(n2, n1 + 4 + 2 + strlen("clean mean of train") + 4 * PF_ERGO486_DIM);
  uint8_t *b2 = malloc(n2);
  assert_int_equal(pf_model_encode(m, b2, n2), PF_OK);
  assert_int_equal(b2[4], 2);
  char err[256];
  assert_int_equal(pf_model_decode(b2, n2, &d, err, sizeof err), PF_OK);
  assert_non_null(d->baseline);
  assert_memory_equal(d->baseline, x, sizeof x);
  assert_string_equal(d->baseline_name, "clean mean of train");
  pf_model_free(&d);
  assert_int_equal(pf_model_decode(b1, n1, &d, err, sizeof err), PF_OK);
  assert_null(d->baseline);
  pf_model_free(&d);
  /* every truncation of a format-2 file is refused */
  for (size_t cut = 0; cut < n2; cut += 97) {
    b2[8] = (uint8_t)cut; /* the size field no longer matches either */
    assert_int_not_equal(pf_model_decode(b2, cut, &d, err, sizeof err), PF_OK);
    assert_null(d);
  }
  free(b1);
  free(b2);
  pf_model_free(&m);
}

/* the exact integral is the trapezoid rule's limit; three classes take the
 * trapezoid rule and still meet completeness */
static void test_exact_matches_trapezoid(void **st) {
  (void)st;
  pf_model *m = seed_like(2.0);
  float x[PF_ERGO486_DIM];
  double ce[PF_ERGO486_DIM], ct[PF_ERGO486_DIM];
  for (int t = 0; t < 5; t++) {
    random_x(x);
    pf_explain_info ie, it;
    assert_int_equal(pf_explain_ig(m, x, 1, PF_EXPLAIN_STEPS, ce, &ie), PF_OK);
    assert_string_equal(ie.method, "exact");
    assert_true(fabs(ie.sum - (ie.p_x - ie.p_base)) < 1e-9);
    assert_int_equal(pf_explain_ig_trapezoid(m, x, 1, 4096, ct, &it), PF_OK);
    assert_string_equal(it.method, "trapezoid");
    assert_true(fabs(ie.p_x - it.p_x) < 1e-5 && fabs(ie.p_base - it.p_base) < 1e-5);
    double worst = 0.0;
    for (int i = 0; i < PF_ERGO486_DIM; i++) worst = fmax(worst, fabs(ce[i] - ct[i]));
    if (worst > 1e-3) fail_msg("exact and trapezoid(4096) differ by %.3g", worst);
  }
  pf_model_free(&m);
  static const uint32_t sizes[] = {PF_ERGO486_DIM, 40, 3};
  assert_int_equal(pf_model_new(2, sizes, &m), PF_OK);
  for (size_t k = 0; k < (size_t)PF_ERGO486_DIM * 40; k++) m->w[0][k] = (float)((urand() - 0.5) * 4.0 / sqrt(486.0));
  for (size_t k = 0; k < 40 * 3; k++) m->w[1][k] = (float)((urand() - 0.5) * 4.0 / sqrt(40.0));
  for (int t = 0; t < 10; t++) {
    random_x(x);
    pf_explain_info info;
    assert_int_equal(pf_explain_ig(m, x, 2, PF_EXPLAIN_STEPS, ce, &info), PF_OK);
    assert_string_equal(info.method, "trapezoid");
    assert_true(info.steps >= PF_EXPLAIN_STEPS);
    assert_true(fabs(info.sum - (info.p_x - info.p_base)) < 1e-3);
  }
  pf_model_free(&m);
}

/* a data set where one feature alone decides the class: a network trained
 * on it (the CPU trainer, the seed's shape) explains every decided test
 * row by that feature first. Decided: the verdict is right, and differs
 * from the baseline's by more than 0.5 in p (a clean row explained from
 * the clean mean has nothing to explain: p did not move) */
static void test_trained_one_feature(void **st) {
  (void)st;
  const int f = 331 + 17; /* an import feature */
  const size_t n = 1200, nt = 200;
  float *x = calloc((n + nt) * PF_ERGO486_DIM, sizeof *x);
  int32_t *y = calloc(n + nt, sizeof *y);
  for (size_t r = 0; r < n + nt; r++) {
    random_x(x + r * PF_ERGO486_DIM); /* noise everywhere */
    y[r] = urand() < 0.5;
    x[r * PF_ERGO486_DIM + f] = (float)(y[r] ? 0.6 + 0.4 * urand() : 0.4 * urand());
  }
  static const uint32_t sizes[] = {PF_ERGO486_DIM, 70, 70, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(3, sizes, &m), PF_OK);
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.seed = 7;
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
  double loss, acc;
  for (int e = 0; e < 30; e++) assert_int_equal(pf_trainer_epoch(t, x, y, n, &loss, &acc), PF_OK);
  pf_trainer_free(&t);
  float mean[PF_ERGO486_DIM];
  pf_dataset d = {n, PF_ERGO486_DIM, n, x, y};
  char name[PF_MODEL_NAME];
  assert_int_equal(pf_explain_class_mean(&d, 0, "clean", "train", mean, name, sizeof name), PF_OK);
  assert_int_equal(pf_model_set_baseline(m, mean, name), PF_OK);
  int decided = 0;
  for (size_t r = n; r < n + nt; r++) {
    float p[2];
    const float *xr = x + r * PF_ERGO486_DIM;
    assert_int_equal(pf_model_predict(m, xr, 1, p), PF_OK);
    if ((int)pf_model_verdict(m, p) != y[r]) continue;
    double c[PF_ERGO486_DIM];
    uint32_t top[1];
    pf_explain_info info;
    assert_int_equal(pf_explain_ig(m, xr, 1, PF_EXPLAIN_STEPS, c, &info), PF_OK);
    if (fabs(info.p_x - info.p_base) <= 0.5) continue; /* not decided against the baseline */
    pf_explain_top(c, PF_ERGO486_DIM, 1, top);
    if (top[0] != (uint32_t)f) fail_msg("row %zu (p=%.3f): top feature %u, not %d", r, p[1], top[0], f);
    assert_true(fabs(info.sum - (info.p_x - info.p_base)) < 1e-3);
    decided++;
  }
  assert_true(decided > (int)nt / 3); /* about the malicious half */
  free(x);
  free(y);
  pf_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gradient_matches_finite_differences),
    cmocka_unit_test(test_completeness_zero_baseline),
    cmocka_unit_test(test_completeness_model_baseline),
    cmocka_unit_test(test_one_feature_decides),
    cmocka_unit_test(test_top_and_groups),
    cmocka_unit_test(test_baseline_in_file),
    cmocka_unit_test(test_exact_matches_trapezoid),
    cmocka_unit_test(test_trained_one_feature),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
