/* Unit tests of pf_train_gpu, the GPU trainer, against the CPU reference
 * (pf_train): one Adam step on the same batch with dropout off must give
 * the same loss and the same weights within 1e-4; evaluation must agree
 * with pf_model_evaluate; a few epochs must learn a separable set. Without
 * a GPU (or in a build without CUDA) those say "skipped: no GPU"; the
 * availability check and the failure path of pf_gpu_trainer_new run
 * everywhere. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_model.h"
#include "pf_train.h"
#include "pf_train_gpu.h"

#include <math.h>

#define TOL 1e-4

static uint64_t rs = 42;
static double runif(void) {
  uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

#define NEED_GPU()                                   \
  do {                                               \
    char why_[256];                                  \
    if (!pf_gpu_available(why_, sizeof why_)) {      \
      printf("skipped: no GPU (%s)\n", why_);        \
      skip();                                        \
    }                                                \
  } while (0)

static pf_model *new_model(uint32_t n_layers, const uint32_t *sizes) {
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(n_layers, sizes, &m), PF_OK);
  return m;
}

static void copy_weights(pf_model *dst, const pf_model *src) {
  for (uint32_t l = 0; l < src->n_layers; l++) {
    memcpy(dst->w[l], src->w[l], (size_t)src->sizes[l] * src->sizes[l + 1] * sizeof(float));
    memcpy(dst->b[l], src->b[l], (size_t)src->sizes[l + 1] * sizeof(float));
  }
}

/* n rows of random inputs in [0, 1) with a class signal on a few features. */
static void make_batch(float *x, int32_t *y, size_t n, size_t in, uint32_t classes) {
  for (size_t r = 0; r < n; r++) {
    y[r] = (int32_t)(r % classes);
    for (size_t k = 0; k < in; k++) x[r * in + k] = (float)runif();
    x[r * in + (size_t)y[r] % in] += 1.0f;
  }
}

/* Largest |a - b| over every weight and bias. */
static double max_weight_diff(const pf_model *a, const pf_model *b) {
  double mx = 0;
  for (uint32_t l = 0; l < a->n_layers; l++) {
    size_t nw = (size_t)a->sizes[l] * a->sizes[l + 1];
    for (size_t k = 0; k < nw; k++) mx = fmax(mx, fabs((double)a->w[l][k] - b->w[l][k]));
    for (size_t k = 0; k < a->sizes[l + 1]; k++) mx = fmax(mx, fabs((double)a->b[l][k] - b->b[l][k]));
  }
  return mx;
}

/* One step on both paths from the same weights, for a network of the given sizes. */
static void step_parity(uint32_t n_layers, const uint32_t *sizes, size_t n) {
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0;
  o.batch = (uint32_t)n; /* one batch: the CPU epoch is one step */
  o.seed = 9;
  pf_model *mc = new_model(n_layers, sizes), *mg = new_model(n_layers, sizes);
  pf_trainer *ct = NULL;
  pf_gpu_trainer *gt = NULL;
  char err[256];
  assert_int_equal(pf_trainer_new(mc, &o, 0, &ct), PF_OK);
  copy_weights(mg, mc);
  int rc = pf_gpu_trainer_new(mg, &o, 1, &gt, err, sizeof err);
  if (rc != PF_OK) print_error("pf_gpu_trainer_new: %s\n", err);
  assert_int_equal(rc, PF_OK);
  assert_true(max_weight_diff(mc, mg) == 0.0);

  size_t in = sizes[0];
  float *x = malloc(n * in * sizeof(float));
  int32_t *y = malloc(n * sizeof(int32_t));
  assert_non_null(x);
  assert_non_null(y);
  make_batch(x, y, n, in, sizes[n_layers]);
  double lc = 0, lg = 0, acc = 0;
  assert_int_equal(pf_trainer_epoch(ct, x, y, n, &lc, &acc), PF_OK);
  rc = pf_gpu_trainer_step(gt, x, y, n, &lg);
  if (rc != PF_OK) print_error("pf_gpu_trainer_step: %s\n", pf_gpu_trainer_error(gt));
  assert_int_equal(rc, PF_OK);
  double dw = max_weight_diff(mc, mg);
  printf("step parity (%u layers, %zu rows): loss cpu %.8f gpu %.8f (|diff| %.3g), largest weight |diff| %.3g\n",
         n_layers, n, lc, lg, fabs(lc - lg), dw);
  assert_true(fabs(lc - lg) <= TOL);
  assert_true(dw <= TOL);
  free(x);
  free(y);
  pf_gpu_trainer_free(&gt);
  assert_null(gt);
  pf_trainer_free(&ct);
  pf_model_free(&mc);
  pf_model_free(&mg);
}

/* ---- tests that run everywhere ---- */

static void test_available_says_why(void **state) {
  char why[256] = "";
  int a = pf_gpu_available(why, sizeof why);
  assert_true(a == 0 || a == 1);
  assert_true(why[0] != '\0');
  printf("pf_gpu_available: %d (%s)\n", a, why);
  assert_int_equal(pf_gpu_available(NULL, 0), a); /* why is optional */
}

static void test_new_without_gpu_fails_cleanly(void **state) {
  char why[256];
  if (pf_gpu_available(why, sizeof why)) {
    printf("skipped: a GPU answers, the no-GPU failure path cannot be shown here\n");
    skip();
  }
  uint32_t sizes[] = {4, 3, 2};
  pf_model *m = new_model(2, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  pf_gpu_trainer *gt = (pf_gpu_trainer *)&o; /* must be cleared */
  char err[256] = "";
  assert_int_equal(pf_gpu_trainer_new(m, &o, 0, &gt, err, sizeof err), PF_EGPU);
  assert_null(gt);
  assert_true(err[0] != '\0');
  printf("pf_gpu_trainer_new without a GPU: %s\n", err);
  pf_gpu_trainer_free(&gt);
  pf_gpu_trainer_free(NULL);
  pf_model_free(&m);
}

static void test_bad_arguments(void **state) {
  pf_gpu_trainer *gt = NULL;
  pf_train_opts o;
  pf_train_opts_default(&o);
  char err[64];
  assert_int_not_equal(pf_gpu_trainer_new(NULL, &o, 0, &gt, err, sizeof err), PF_OK);
  assert_null(gt);
  assert_int_not_equal(pf_gpu_trainer_epoch(NULL, NULL, NULL, 0, NULL, NULL), PF_OK);
  assert_int_not_equal(pf_gpu_trainer_step(NULL, NULL, NULL, 0, NULL), PF_OK);
  assert_int_not_equal(pf_gpu_trainer_evaluate(NULL, NULL, NULL, 0, NULL, NULL), PF_OK);
}

/* ---- tests that need a GPU ---- */

static void test_step_matches_cpu_small(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {20, 16, 12, 3};
  step_parity(3, sizes, 37);
}

static void test_step_matches_cpu_seed_network(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {486, 70, 70, 2};
  step_parity(3, sizes, 64);
}

static void test_evaluate_matches_cpu(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {30, 10, 4};
  size_t n = 600, in = sizes[0];
  pf_train_opts o;
  pf_train_opts_default(&o);
  pf_model *m = new_model(2, sizes);
  pf_gpu_trainer *gt = NULL;
  char err[256];
  assert_int_equal(pf_gpu_trainer_new(m, &o, 0, &gt, err, sizeof err), PF_OK);
  float *x = malloc(n * in * sizeof(float));
  int32_t *y = malloc(n * sizeof(int32_t));
  assert_non_null(x);
  assert_non_null(y);
  make_batch(x, y, n, in, sizes[2]);
  double lc, ac, lg, ag;
  assert_int_equal(pf_model_evaluate(m, x, y, n, &lc, &ac), PF_OK);
  assert_int_equal(pf_gpu_trainer_evaluate(gt, x, y, n, &lg, &ag), PF_OK);
  printf("evaluate: loss cpu %.8f gpu %.8f, accuracy cpu %.4f gpu %.4f\n", lc, lg, ac, ag);
  assert_true(fabs(lc - lg) <= TOL);
  assert_true(fabs(ac - ag) <= 2.0 / (double)n); /* a near-tie may go either way */
  free(x);
  free(y);
  pf_gpu_trainer_free(&gt);
  pf_model_free(&m);
}

static void test_epochs_learn(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {16, 24, 24, 2};
  size_t n = 400, in = sizes[0];
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.batch = 32;
  pf_model *m = new_model(3, sizes);
  pf_gpu_trainer *gt = NULL;
  char err[256];
  assert_int_equal(pf_gpu_trainer_new(m, &o, 0, &gt, err, sizeof err), PF_OK);
  float *x = malloc(n * in * sizeof(float));
  int32_t *y = malloc(n * sizeof(int32_t));
  assert_non_null(x);
  assert_non_null(y);
  make_batch(x, y, n, in, 2);
  double loss = 0, acc = 0, first = 0;
  for (int e = 0; e < 30; e++) {
    int rc = pf_gpu_trainer_epoch(gt, x, y, n, &loss, &acc);
    if (rc != PF_OK) print_error("epoch %d: %s\n", e, pf_gpu_trainer_error(gt));
    assert_int_equal(rc, PF_OK);
    if (e == 0) first = loss;
  }
  double el, ea;
  assert_int_equal(pf_model_evaluate(m, x, y, n, &el, &ea), PF_OK); /* the host copy is current */
  printf("30 epochs on the GPU: loss %.4f -> %.4f, accuracy (CPU evaluate) %.4f\n", first, loss, ea);
  assert_true(loss < first);
  assert_true(ea >= 0.99);
  free(x);
  free(y);
  pf_gpu_trainer_free(&gt);
  pf_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_available_says_why),
    cmocka_unit_test(test_new_without_gpu_fails_cleanly),
    cmocka_unit_test(test_bad_arguments),
    cmocka_unit_test(test_step_matches_cpu_small),
    cmocka_unit_test(test_step_matches_cpu_seed_network),
    cmocka_unit_test(test_evaluate_matches_cpu),
    cmocka_unit_test(test_epochs_learn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
