/* Unit tests of pf_train_gpu, the GPU trainer, against the CPU reference
 * (pf_train), made to fail on wrong sizes, not only wrong signs:
 *   - raw gradients (no Adam, which hides a wrong scale) of every weight and
 *     bias, from non-zero random biases, within a relative tolerance;
 *   - three Adam steps from the same non-zero biases, weights compared after
 *     each (a missing bias add or a wrong batch mean shows);
 *   - dropout: every output 0 or ReLU/(1-p), about p of them dropped, and a
 *     zero gradient exactly where dropped;
 *   - a dropout-off epoch over the CPU's own row order with a partial last
 *     batch, loss and weights compared;
 *   - evaluation against pf_model_evaluate; a few epochs learn a separable set.
 * Without a GPU (or in a build without CUDA) those say "skipped: no GPU",
 * unless PEFLEET_REQUIRE_GPU=1, which makes that a failure (a machine meant
 * to test the GPU must not pass by skipping). The availability check and
 * the failure path of pf_gpu_trainer_new run everywhere. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_model.h"
#include "pf_train.h"
#include "pf_train_gpu.h"

#include <math.h>

#define TOL 1e-4
#define RTOL 1e-3 /* relative tolerance of raw gradients and weights */

static uint64_t rs = 42;
static double runif(void) {
  uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static int require_gpu(void) {
  const char *r = getenv("PEFLEET_REQUIRE_GPU");
  return r && strcmp(r, "1") == 0;
}

#define NEED_GPU()                                                          \
  do {                                                                      \
    char why_[256];                                                         \
    if (!pf_gpu_available(why_, sizeof why_)) {                             \
      if (require_gpu()) fail_msg("PEFLEET_REQUIRE_GPU=1 but no GPU: %s", why_); \
      printf("skipped: no GPU (%s)\n", why_);                               \
      skip();                                                               \
    }                                                                       \
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

/* Every bias random in [-0.5, 0.5): a GPU path that forgot a bias add, or
 * added it twice, no longer passes on zero biases. */
static void random_biases(pf_model *m) {
  for (uint32_t l = 0; l < m->n_layers; l++)
    for (size_t k = 0; k < m->sizes[l + 1]; k++) m->b[l][k] = (float)(runif() - 0.5);
}

/* Largest |a - b| / (RTOL-scaled |b| + atol) over n values, where atol is
 * 1e-4 of the largest |b| (cancellation leaves near-zero entries with no
 * relative precision); <= 1 passes. */
static double rel_err(const float *a, const float *b, size_t n) {
  double big = 0, worst = 0;
  for (size_t k = 0; k < n; k++) big = fmax(big, fabs((double)b[k]));
  double atol = 1e-4 * big + 1e-30;
  for (size_t k = 0; k < n; k++)
    worst = fmax(worst, fabs((double)a[k] - b[k]) / (RTOL * fabs((double)b[k]) + atol));
  return worst;
}

/* rel_err over every weight and bias of two models. */
static double model_rel_err(const pf_model *a, const pf_model *b) {
  double worst = 0;
  for (uint32_t l = 0; l < a->n_layers; l++) {
    worst = fmax(worst, rel_err(a->w[l], b->w[l], (size_t)a->sizes[l] * a->sizes[l + 1]));
    worst = fmax(worst, rel_err(a->b[l], b->b[l], a->sizes[l + 1]));
  }
  return worst;
}

/* Gradient buffers shaped like m's weights and biases. */
typedef struct {
  uint32_t L;
  float *w[PF_MODEL_MAX_LAYERS], *b[PF_MODEL_MAX_LAYERS];
} grads;

static void grads_new(grads *g, const pf_model *m) {
  g->L = m->n_layers;
  for (uint32_t l = 0; l < g->L; l++) {
    g->w[l] = calloc((size_t)m->sizes[l] * m->sizes[l + 1], sizeof(float));
    g->b[l] = calloc(m->sizes[l + 1], sizeof(float));
    assert_non_null(g->w[l]);
    assert_non_null(g->b[l]);
  }
}

static void grads_free(grads *g) {
  for (uint32_t l = 0; l < g->L; l++) {
    free(g->w[l]);
    free(g->b[l]);
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

/* A CPU trainer and a GPU trainer on two copies of one model (the CPU's
 * initial weights, random non-zero biases), and a batch of n rows. */
typedef struct {
  pf_model *mc, *mg;
  pf_trainer *ct;
  pf_gpu_trainer *gt;
  float *x;
  int32_t *y;
} pair;

static void pair_new(pair *p, uint32_t n_layers, const uint32_t *sizes, const pf_train_opts *o, size_t n) {
  char err[256];
  p->mc = new_model(n_layers, sizes);
  p->mg = new_model(n_layers, sizes);
  p->ct = NULL;
  p->gt = NULL;
  assert_int_equal(pf_trainer_new(p->mc, o, 0, &p->ct), PF_OK);
  random_biases(p->mc);
  copy_weights(p->mg, p->mc);
  int rc = pf_gpu_trainer_new(p->mg, o, 1, &p->gt, err, sizeof err);
  if (rc != PF_OK) print_error("pf_gpu_trainer_new: %s\n", err);
  assert_int_equal(rc, PF_OK);
  assert_true(max_weight_diff(p->mc, p->mg) == 0.0);
  p->x = malloc(n * sizes[0] * sizeof(float));
  p->y = malloc(n * sizeof(int32_t));
  assert_non_null(p->x);
  assert_non_null(p->y);
  make_batch(p->x, p->y, n, sizes[0], sizes[n_layers]);
}

static void pair_free(pair *p) {
  free(p->x);
  free(p->y);
  pf_gpu_trainer_free(&p->gt);
  assert_null(p->gt);
  pf_trainer_free(&p->ct);
  pf_model_free(&p->mc);
  pf_model_free(&p->mg);
}

/* One step on both paths from the same weights, for a network of the given sizes. */
static void step_parity(uint32_t n_layers, const uint32_t *sizes, size_t n) {
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0;
  o.batch = (uint32_t)n; /* one batch: the CPU epoch is one step */
  o.seed = 9;
  pair p;
  pair_new(&p, n_layers, sizes, &o, n);
  for (int step = 1; step <= 3; step++) { /* Adam's moments and bias correction over several steps */
    double lc = 0, lg = 0, acc = 0;
    assert_int_equal(pf_trainer_epoch(p.ct, p.x, p.y, n, &lc, &acc), PF_OK);
    int rc = pf_gpu_trainer_step(p.gt, p.x, p.y, n, &lg);
    if (rc != PF_OK) print_error("pf_gpu_trainer_step: %s\n", pf_gpu_trainer_error(p.gt));
    assert_int_equal(rc, PF_OK);
    double dw = max_weight_diff(p.mc, p.mg), rw = model_rel_err(p.mg, p.mc);
    printf("step %d parity (%u layers, %zu rows): loss cpu %.8f gpu %.8f (|diff| %.3g), largest weight |diff| %.3g, "
           "relative %.3g of the tolerance\n", step, n_layers, n, lc, lg, fabs(lc - lg), dw, rw);
    assert_true(fabs(lc - lg) <= TOL * fmax(1.0, fabs(lc)));
    assert_true(dw <= TOL);
    assert_true(rw <= 1.0);
  }
  pair_free(&p);
}

/* Raw gradients of one batch, dropout off, from the same non-zero biases. */
static void gradient_parity(uint32_t n_layers, const uint32_t *sizes, size_t n) {
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0;
  o.seed = 21;
  pair p;
  pair_new(&p, n_layers, sizes, &o, n);
  grads gc, gg;
  grads_new(&gc, p.mc);
  grads_new(&gg, p.mc);
  double lc = 0, lg = 0;
  assert_int_equal(pf_trainer_gradients(p.ct, p.x, p.y, n, 0, &lc, gc.w, gc.b), PF_OK);
  int rc = pf_gpu_trainer_gradients(p.gt, p.x, p.y, n, 0, &lg, gg.w, gg.b);
  if (rc != PF_OK) print_error("pf_gpu_trainer_gradients: %s\n", pf_gpu_trainer_error(p.gt));
  assert_int_equal(rc, PF_OK);
  double worst = 0;
  for (uint32_t l = 0; l < n_layers; l++) {
    double ew = rel_err(gg.w[l], gc.w[l], (size_t)sizes[l] * sizes[l + 1]), eb = rel_err(gg.b[l], gc.b[l], sizes[l + 1]);
    printf("gradients layer %u (%u x %u, %zu rows): weights %.3g, biases %.3g of the tolerance\n", l, sizes[l],
           sizes[l + 1], n, ew, eb);
    worst = fmax(worst, fmax(ew, eb));
  }
  printf("gradient parity: loss cpu %.8f gpu %.8f\n", lc, lg);
  assert_true(fabs(lc - lg) <= TOL * fmax(1.0, fabs(lc)));
  assert_true(worst <= 1.0);
  grads_free(&gc);
  grads_free(&gg);
  pair_free(&p);
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
  assert_int_not_equal(pf_gpu_trainer_epoch_order(NULL, NULL, NULL, 0, NULL, NULL, NULL), PF_OK);
  assert_int_not_equal(pf_gpu_trainer_gradients(NULL, NULL, NULL, 0, 0, NULL, NULL, NULL), PF_OK);
  assert_int_not_equal(pf_gpu_trainer_dropout_probe(NULL, NULL, NULL, 0, 0, NULL, NULL, NULL), PF_OK);
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

static void test_gradients_match_cpu_small(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {20, 16, 12, 3};
  gradient_parity(3, sizes, 37);
}

static void test_gradients_match_cpu_seed_network(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {486, 70, 70, 2};
  gradient_parity(3, sizes, 200);
}

/* Dropout on the first hidden layer: kept outputs are ReLU/(1-p), about p
 * of the positive ones are dropped, and nothing flows back where dropped. */
static void test_dropout(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {32, 70, 70, 2};
  size_t n = 256, in = sizes[0], h = sizes[1];
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0.25;
  o.seed = 5;
  pf_model *m = new_model(3, sizes);
  pf_gpu_trainer *gt = NULL;
  char err[256];
  assert_int_equal(pf_gpu_trainer_new(m, &o, 0, &gt, err, sizeof err), PF_OK);
  float *x = malloc(n * in * sizeof(float)), *relu = malloc(n * h * sizeof(float));
  float *drop = malloc(n * h * sizeof(float)), *grad = malloc(n * h * sizeof(float));
  int32_t *y = malloc(n * sizeof(int32_t));
  assert_true(x && relu && drop && grad && y);
  make_batch(x, y, n, in, 2);
  int rc = pf_gpu_trainer_dropout_probe(gt, x, y, n, 0, relu, drop, grad);
  if (rc != PF_OK) print_error("pf_gpu_trainer_dropout_probe: %s\n", pf_gpu_trainer_error(gt));
  assert_int_equal(rc, PF_OK);
  double scale = 1.0 / (1.0 - o.dropout);
  size_t positive = 0, dropped = 0, bad_value = 0, bad_grad = 0, kept_grad = 0;
  for (size_t k = 0; k < n * h; k++) {
    assert_true(relu[k] >= 0.0f);
    if (drop[k] == 0.0f) {
      if (relu[k] > 0.0f) {
        dropped++;
        bad_grad += grad[k] != 0.0f; /* dropped: exactly nothing flows back */
      }
    } else {
      bad_value += fabs(drop[k] - relu[k] * scale) > 1e-5 * fabs(relu[k] * scale);
      kept_grad += grad[k] != 0.0f;
    }
    positive += relu[k] > 0.0f;
  }
  double frac = positive ? (double)dropped / (double)positive : 0;
  printf("dropout p=%.2f: %zu of %zu positive outputs dropped (%.3f), %zu kept values not ReLU/(1-p), "
         "%zu dropped with a gradient, %zu kept with one\n", o.dropout, dropped, positive, frac, bad_value, bad_grad,
         kept_grad);
  assert_true(positive > 1000);
  assert_int_equal(bad_value, 0);
  assert_int_equal(bad_grad, 0);
  assert_true(kept_grad > 0);
  assert_true(fabs(frac - o.dropout) < 0.04); /* ~8 standard deviations at this size */
  free(x);
  free(relu);
  free(drop);
  free(grad);
  free(y);
  pf_gpu_trainer_free(&gt);
  pf_model_free(&m);
}

/* A dropout-off epoch in the CPU's own row order, batches of 32 over 100
 * rows (the last one holds 4): the same loss and weights. */
static void test_epoch_in_cpu_order_matches(void **state) {
  NEED_GPU();
  uint32_t sizes[] = {24, 16, 3};
  size_t n = 100;
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0;
  o.batch = 32;
  o.seed = 13;
  pair p;
  pair_new(&p, 2, sizes, &o, n);
  double lc = 0, ac = 0, lg = 0, ag = 0;
  assert_int_equal(pf_trainer_epoch(p.ct, p.x, p.y, n, &lc, &ac), PF_OK);
  size_t on = 0;
  const size_t *order = pf_trainer_last_order(p.ct, &on);
  assert_non_null(order);
  assert_int_equal(on, n);
  int rc = pf_gpu_trainer_epoch_order(p.gt, p.x, p.y, n, order, &lg, &ag);
  if (rc != PF_OK) print_error("pf_gpu_trainer_epoch_order: %s\n", pf_gpu_trainer_error(p.gt));
  assert_int_equal(rc, PF_OK);
  double rw = model_rel_err(p.mg, p.mc);
  printf("epoch in the CPU's order (4 batches, the last of 4 rows): loss cpu %.8f gpu %.8f, accuracy cpu %.4f gpu "
         "%.4f, weights %.3g of the tolerance\n", lc, lg, ac, ag, rw);
  assert_true(fabs(lc - lg) <= TOL * fmax(1.0, fabs(lc)));
  assert_true(fabs(ac - ag) <= 2.0 / (double)n);
  assert_true(rw <= 1.0);
  /* an order that is not a permutation is refused */
  size_t *twice = malloc(n * sizeof *twice);
  assert_non_null(twice);
  for (size_t r = 0; r < n; r++) twice[r] = r / 2;
  assert_int_equal(pf_gpu_trainer_epoch_order(p.gt, p.x, p.y, n, twice, NULL, NULL), PF_EINVAL);
  free(twice);
  pair_free(&p);
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
    cmocka_unit_test(test_gradients_match_cpu_small),
    cmocka_unit_test(test_gradients_match_cpu_seed_network),
    cmocka_unit_test(test_dropout),
    cmocka_unit_test(test_epoch_in_cpu_order_matches),
    cmocka_unit_test(test_evaluate_matches_cpu),
    cmocka_unit_test(test_epochs_learn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
