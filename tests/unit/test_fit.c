/* Unit tests of pf_fit (the training run over the trainer interface) and
 * pf_fit_util (the batch scoring and the row order both trainers share):
 * pf_fit on the CPU trainer equals the loop written out by hand over
 * pf_trainer_epoch / pf_model_evaluate (weights bit for bit, history, best
 * epoch, early stop); early stopping by patience and min-delta; the
 * version names the weights, not the parent; a trainer that cannot start
 * (the GPU's without a GPU) fails at the trainer with its reason; the
 * clamped cross-entropy and arg-max of score_batch; the shuffle is a
 * seeded permutation. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_fit.h"
#include "pf_fit_util.h"
#include "pf_model.h"
#include "pf_train.h"
#include "pf_train_gpu.h"

#include <math.h>

enum { N = 600, NV = 200, D = 486 };

/* splitmix64 test data: two noisy classes that differ on 20 features. */
static void make_data(float *x, int32_t *y, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t r = 0; r < n; r++) {
    y[r] = (int32_t)(r % 2);
    for (size_t k = 0; k < D; k++) {
      double u = (double)(pf_fit_splitmix64(&s) >> 11) * 0x1.0p-53;
      x[r * D + k] = (float)(u + (k < 20 && y[r] ? 0.08 : 0.0));
    }
  }
}

static pf_model *new_net(void) {
  const uint32_t sizes[] = {D, 70, 70, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(3, sizes, &m), PF_OK);
  snprintf(m->classes[0], sizeof m->classes[0], "clean");
  snprintf(m->classes[1], sizeof m->classes[1], "malicious");
  m->threshold = 0.5;
  return m;
}

static int same_weights(const pf_model *a, const pf_model *b) {
  for (uint32_t i = 0; i < a->n_layers; i++)
    if (memcmp(a->w[i], b->w[i], (size_t)a->sizes[i] * a->sizes[i + 1] * sizeof(float)) ||
        memcmp(a->b[i], b->b[i], a->sizes[i + 1] * sizeof(float)))
      return 0;
  return 1;
}

typedef struct {
  float *x, *vx;
  int32_t *y, *vy;
} data;

static int setup(void **state) {
  data *d = calloc(1, sizeof *d);
  d->x = malloc(sizeof(float) * N * D);
  d->vx = malloc(sizeof(float) * NV * D);
  d->y = malloc(sizeof(int32_t) * N);
  d->vy = malloc(sizeof(int32_t) * NV);
  make_data(d->x, d->y, N, 3);
  make_data(d->vx, d->vy, NV, 4);
  *state = d;
  return 0;
}

static int teardown(void **state) {
  data *d = *state;
  free(d->x); free(d->vx); free(d->y); free(d->vy);
  free(d);
  return 0;
}

static int epochs_seen;
static void count_epoch(void *ctx, int e, int epochs, double loss, double acc, double vl, double va, double s) {
  epochs_seen++;
  assert_int_equal(e, epochs_seen);
  assert_int_equal(epochs, *(int *)ctx);
}

/* pf_fit on the CPU = the epoch loop of `pefleet train` before pf_fit. */
static void test_fit_is_the_hand_loop(void **state) {
  data *d = *state;
  pf_fit_opts o;
  pf_fit_opts_default(&o);
  o.train.seed = 5;
  o.train.threads = 1;
  o.epochs = 12;
  o.patience = 3;
  o.on_epoch = count_epoch;
  o.ctx = &o.epochs;
  epochs_seen = 0;
  pf_model *m = new_net();
  pf_fit_rows tr = {d->x, d->y, N}, va = {d->vx, d->vy, NV};
  pf_fit_result res;
  char err[256];
  assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &tr, &va, &res, err, sizeof err), PF_OK);
  assert_int_equal(epochs_seen, (int)res.history.n);

  /* the loop by hand */
  pf_model *h = new_net(), *best = new_net();
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(h, &o.train, 0, &t), PF_OK);
  double best_loss = INFINITY, best_acc = -INFINITY;
  int wait = 0, best_epoch = 0, e, stopped = 0;
  for (e = 1; e <= o.epochs; e++) {
    double loss, acc, vl, vacc;
    assert_int_equal(pf_trainer_epoch(t, d->x, d->y, N, &loss, &acc), PF_OK);
    assert_int_equal(pf_model_evaluate(h, d->vx, d->vy, NV, &vl, &vacc), PF_OK);
    assert_true(loss == res.history.loss[e - 1] && acc == res.history.acc[e - 1]);
    assert_true(vl == res.history.val_loss[e - 1] && vacc == res.history.val_acc[e - 1]);
    if (vl < best_loss) {
      best_loss = vl;
      best_epoch = e;
      for (uint32_t l = 0; l < 3; l++) {
        memcpy(best->w[l], h->w[l], (size_t)h->sizes[l] * h->sizes[l + 1] * sizeof(float));
        memcpy(best->b[l], h->b[l], h->sizes[l + 1] * sizeof(float));
      }
    }
    if (vacc - o.min_delta > best_acc) { best_acc = vacc; wait = 0; }
    else if (++wait >= o.patience) { stopped = 1; break; }
  }
  pf_trainer_free(&t);
  printf("%zu epochs (stopped early: %d), kept epoch %d, val_loss %.6f, version %s\n", res.history.n,
         res.stopped_early, res.best_epoch, res.best_loss, m->version);
  assert_int_equal(res.history.n, stopped ? (size_t)e : (size_t)o.epochs);
  assert_int_equal(res.stopped_early, stopped);
  assert_int_equal(res.best_epoch, best_epoch);
  assert_true(res.best_loss == best_loss);
  assert_true(same_weights(m, best));
  assert_int_equal(strlen(m->version), 12);
  assert_string_equal(m->parent, "");
  pf_fit_history_free(&res.history);
  pf_model_free(&m);
  pf_model_free(&h);
  pf_model_free(&best);
}

/* patience 1 and a min-delta nothing reaches: two epochs, then a stop */
static void test_fit_early_stop(void **state) {
  data *d = *state;
  pf_fit_opts o;
  pf_fit_opts_default(&o);
  o.epochs = 10;
  o.patience = 1;
  o.min_delta = 1.0;
  pf_model *m = new_net();
  pf_fit_rows tr = {d->x, d->y, N}, va = {d->vx, d->vy, NV};
  pf_fit_result res;
  assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &tr, &va, &res, NULL, 0), PF_OK);
  assert_int_equal(res.history.n, 2);
  assert_int_equal(res.stopped_early, 1);
  assert_true(res.best_epoch >= 1 && res.best_epoch <= 2);
  pf_fit_history_free(&res.history);
  pf_model_free(&m);
}

/* the same run with another parent and a baseline: the parent does not
 * change the version, the baseline (in the weights file) does */
static void test_fit_version_and_parent(void **state) {
  data *d = *state;
  pf_fit_opts o;
  pf_fit_opts_default(&o);
  o.epochs = 2;
  pf_fit_rows tr = {d->x, d->y, N}, va = {d->vx, d->vy, NV};
  pf_fit_result res;
  char v[3][PF_MODEL_NAME];
  float base[D];
  for (int k = 0; k < D; k++) base[k] = 0.1f;
  for (int i = 0; i < 3; i++) {
    pf_model *m = new_net();
    o.parent = i == 0 ? NULL : "0123456789ab";
    o.baseline = i == 2 ? base : NULL;
    o.baseline_name = "test-mean";
    assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &tr, &va, &res, NULL, 0), PF_OK);
    snprintf(v[i], sizeof v[i], "%s", m->version);
    assert_string_equal(m->parent, i == 0 ? "" : "0123456789ab");
    if (i == 2) assert_string_equal(m->baseline_name, "test-mean");
    pf_fit_history_free(&res.history);
    pf_model_free(&m);
  }
  printf("versions: %s (no parent), %s (a parent), %s (a baseline)\n", v[0], v[1], v[2]);
  assert_string_equal(v[0], v[1]);
  assert_string_not_equal(v[0], v[2]);
}

/* a trainer that cannot start: the GPU's on a machine without one */
static void test_fit_trainer_fails(void **state) {
  data *d = *state;
  pf_fit_opts o;
  pf_fit_opts_default(&o);
  pf_fit_rows tr = {d->x, d->y, N}, va = {d->vx, d->vy, NV};
  pf_fit_result res;
  char err[256];
  pf_model *m = new_net();
  assert_int_equal(pf_fit(NULL, &pf_fit_cpu, &o, &tr, &va, &res, err, sizeof err), PF_EINVAL);
  assert_int_equal(res.failed_at, PF_FIT_AT_SETUP);
  pf_fit_rows empty = {d->x, d->y, 0};
  assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &empty, &va, &res, err, sizeof err), PF_EINVAL);
  o.epochs = 0;
  assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &tr, &va, &res, err, sizeof err), PF_EINVAL);
  o.epochs = 1;
  o.train.batch = 0;
  assert_int_equal(pf_fit(m, &pf_fit_cpu, &o, &tr, &va, &res, err, sizeof err), PF_EINVAL);
  assert_int_equal(res.failed_at, PF_FIT_AT_TRAINER);
  o.train.batch = 64;
  if (pf_gpu_available(NULL, 0)) {
    printf("a GPU answers: the failing GPU trainer is not tested here\n");
  } else {
    assert_int_equal(pf_fit(m, &pf_fit_gpu, &o, &tr, &va, &res, err, sizeof err), PF_EGPU);
    assert_int_equal(res.failed_at, PF_FIT_AT_TRAINER);
    assert_true(err[0] != '\0');
    printf("pf_fit_gpu without a GPU: %s\n", err);
  }
  pf_model_free(&m);
}

static void test_score_batch(void **state) {
  const float p[] = {0.25f, 0.75f, 1.0f, 0.0f, 0.5f, 0.5f, 0.9f, 0.1f};
  const int32_t y[] = {1, 1, 0, 0};
  double loss = 0;
  size_t correct = 0;
  pf_fit_score_batch(p, y, 4, 2, &loss, &correct);
  /* -log 0.75, the clamp at 1e-7, a tie (the first class wins), -log 0.9 */
  double want = -log((double)0.75f) - log(1e-7) - log(0.5) - log((double)0.9f);
  printf("loss %.12f (want %.12f), %zu correct\n", loss, want, correct);
  assert_true(fabs(loss - want) < 1e-12);
  assert_int_equal(correct, 3); /* all but the second row */
  loss = 0;
  pf_fit_score_batch(p + 2, y + 2, 1, 2, &loss, &correct); /* p_true 1: clamped at 1 - 1e-7 */
  assert_true(fabs(loss + log(1.0 - 1e-7)) < 1e-15);
}

static uint64_t next_fn(void *s) { return pf_fit_splitmix64(s); }

static void test_shuffle(void **state) {
  enum { M = 1000 };
  size_t a[M], b[M], c[M];
  int seen[M] = {0};
  uint64_t s1 = 42, s2 = 42, s3 = 43;
  pf_fit_shuffle(a, M, next_fn, &s1);
  pf_fit_shuffle(b, M, next_fn, &s2);
  pf_fit_shuffle(c, M, next_fn, &s3);
  for (size_t i = 0; i < M; i++) {
    assert_true(a[i] < M && !seen[a[i]]);
    seen[a[i]] = 1;
  }
  assert_memory_equal(a, b, sizeof a);
  assert_true(memcmp(a, c, sizeof a) != 0);
  size_t one[1] = {7};
  pf_fit_shuffle(one, 1, next_fn, &s1);
  assert_int_equal(one[0], 0);
  pf_fit_shuffle(one, 0, next_fn, &s1); /* nothing to do */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fit_is_the_hand_loop), cmocka_unit_test(test_fit_early_stop),
    cmocka_unit_test(test_fit_version_and_parent), cmocka_unit_test(test_fit_trainer_fails),
    cmocka_unit_test(test_score_batch), cmocka_unit_test(test_shuffle),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
