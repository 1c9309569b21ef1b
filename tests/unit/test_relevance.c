/* Unit tests of pf_relevance: a hand-built network in which one feature
 * decides the class ranks that feature first; the fast path (first-layer
 * update of the touched rows) gives the reference's figures; the sort
 * order; bad input. */
#include "pf_test.h"

#include <math.h>

#include "pf_err.h"
#include "pf_model.h"
#include "pf_relevance.h"

enum { DIM = 12, HID = 6, N = 400, KEY = 7 };

static unsigned rng = 99;
static float frand(void) {
  rng = rng * 1103515245u + 12345u;
  return (float)((rng >> 8) & 0xffff) / 65536.0f;
}

/* hidden unit 0 = relu(10 x[KEY] - 5) drives class 1; the other units see
 * every feature through small random weights and feed the output weakly */
static pf_model *build(void) {
  uint32_t sizes[4] = {DIM, HID, HID, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(3, sizes, &m), PF_OK);
  for (int i = 0; i < DIM; i++)
    for (int u = 0; u < HID; u++) m->w[0][i * HID + u] = u == 0 ? (i == KEY ? 10.0f : 0.0f) : (frand() - 0.5f) * 0.2f;
  m->b[0][0] = -5.0f;
  for (int i = 0; i < HID; i++)
    for (int u = 0; u < HID; u++) m->w[1][i * HID + u] = i == u ? 1.0f : (frand() - 0.5f) * 0.01f;
  for (int i = 0; i < HID; i++) {
    m->w[2][i * 2 + 1] = i == 0 ? 4.0f : (frand() - 0.5f) * 0.01f;
    m->w[2][i * 2 + 0] = 0.0f;
  }
  m->b[2][0] = 0.05f;
  return m;
}

static void data(float *x, int32_t *y) {
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < DIM; j++) x[i * DIM + j] = frand();
    if (i % 5 == 0) x[i * DIM + 2] = 0; /* some zeros: the fast path skips those rows */
    y[i] = x[i * DIM + KEY] > 0.5f;
  }
}

static void test_key_feature_first_and_fast_equals_exact(void **state) {
  (void)state;
  pf_model *m = build();
  static float x[N * DIM];
  static int32_t y[N];
  data(x, y);
  pf_relevance_item fast[DIM], exact[DIM];
  double ba, bu, ba2, bu2;
  assert_int_equal(pf_relevance_compute(m, x, y, N, 0, &ba, &bu, fast), PF_OK);
  assert_int_equal(pf_relevance_compute(m, x, y, N, 1, &ba2, &bu2, exact), PF_OK);
  if (!(ba > 0.95)) fail_msg("base accuracy %g: the built network should decide by feature %d", ba, KEY);
  assert_true(ba == ba2 && bu == bu2);
  for (int j = 0; j < DIM; j++) {
    assert_int_equal(fast[j].feature, j);
    if (fabs(fast[j].accuracy - exact[j].accuracy) > 1e-12 || fabs(fast[j].roc_auc - exact[j].roc_auc) > 1e-6)
      fail_msg("feature %d: fast (%g, %g), exact (%g, %g)", j, fast[j].accuracy, fast[j].roc_auc, exact[j].accuracy,
               exact[j].roc_auc);
  }
  pf_relevance_sort(fast, DIM);
  assert_int_equal(fast[0].feature, KEY);
  if (!(fast[0].d_accuracy > 0.3)) fail_msg("nulling the key feature should cost accuracy: %g", fast[0].d_accuracy);
  for (int j = 1; j < DIM; j++)
    if (!(fabs(fast[j].d_accuracy) < 0.05)) fail_msg("feature %u drop %g", fast[j].feature, fast[j].d_accuracy);
  pf_model_free(&m);
}

static void test_sort_order(void **state) {
  (void)state;
  pf_relevance_item it[4] = {
    {.feature = 0, .d_accuracy = 0.1, .d_auc = 0.0},
    {.feature = 1, .d_accuracy = 0.2, .d_auc = NAN},
    {.feature = 2, .d_accuracy = 0.1, .d_auc = 0.3},
    {.feature = 3, .d_accuracy = 0.1, .d_auc = 0.0},
  };
  pf_relevance_sort(it, 4);
  assert_int_equal(it[0].feature, 1);
  assert_int_equal(it[1].feature, 2);
  assert_int_equal(it[2].feature, 0);
  assert_int_equal(it[3].feature, 3);
}

static void test_bad_input(void **state) {
  (void)state;
  pf_model *m = build();
  float x[DIM] = {0};
  int32_t y[1] = {2};
  pf_relevance_item out[DIM];
  double a, u;
  assert_int_equal(pf_relevance_compute(m, x, y, 1, 0, &a, &u, out), PF_EINVAL);
  y[0] = 1;
  assert_int_equal(pf_relevance_compute(m, x, y, 0, 0, &a, &u, out), PF_EINVAL);
  assert_int_equal(pf_relevance_compute(m, x, y, 1, 0, &a, &u, out), PF_OK);
  assert_true(isnan(u)); /* one class: AUC undefined */
  pf_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_key_feature_first_and_fast_equals_exact), cmocka_unit_test(test_sort_order),
    cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
