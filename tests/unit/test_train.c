/* Unit tests of pf_train, the CPU reference trainer: its gradients against
 * central finite differences of a naive double-precision forward pass
 * written here (with dropout off, and with the dropout mask read back),
 * learning small data sets to 100%, bit-for-bit repeatability, Adam
 * against a hand-computed update, argument checks, and a speed printout. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_model.h"
#include "pf_train.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

/* The test's own PRNG (splitmix64), independent of the trainer's. */
static uint64_t rs;
static uint64_t rnext(void) {
  uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double runif(void) { return (double)(rnext() >> 11) * 0x1.0p-53; }
static double rnorm(void) {
  double u = runif(), v = runif();
  return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static pf_model *new_model(uint32_t n_layers, const uint32_t *sizes) {
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(n_layers, sizes, &m), PF_OK);
  assert_non_null(m);
  return m;
}

static size_t wcount(const pf_model *m, uint32_t i) { return (size_t)m->sizes[i] * m->sizes[i + 1]; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the independent reference: a naive double-precision forward pass ---- */

typedef struct {
  uint32_t L, s[PF_MODEL_MAX_LAYERS + 1];
  double *w[PF_MODEL_MAX_LAYERS], *b[PF_MODEL_MAX_LAYERS];
  const double *mask[PF_MODEL_MAX_LAYERS]; /* per hidden layer: n x s[i+1] factors, or NULL */
} ref_net;

static void ref_from_model(ref_net *r, const pf_model *m) {
  memset(r, 0, sizeof *r);
  r->L = m->n_layers;
  memcpy(r->s, m->sizes, sizeof r->s);
  for (uint32_t i = 0; i < r->L; i++) {
    size_t nw = wcount(m, i), nb = m->sizes[i + 1];
    r->w[i] = malloc(nw * sizeof(double));
    r->b[i] = malloc(nb * sizeof(double));
    for (size_t k = 0; k < nw; k++) r->w[i][k] = m->w[i][k];
    for (size_t k = 0; k < nb; k++) r->b[i][k] = m->b[i][k];
  }
}

static void ref_free(ref_net *r) {
  for (uint32_t i = 0; i < r->L; i++) {
    free(r->w[i]);
    free(r->b[i]);
  }
}

/* Mean over n rows of -log(clamp(softmax(...)[y], 1e-7, 1 - 1e-7)).
 * *signs gets a hash of which hidden units were > 0 (to spot ReLU kinks
 * crossed by a finite difference). */
static double ref_loss(const ref_net *r, const float *x, const int32_t *y, size_t n, uint64_t *signs) {
  double a[64], z[64], total = 0;
  uint64_t h = 1469598103934665603ull;
  for (size_t row = 0; row < n; row++) {
    size_t na = r->s[0];
    for (size_t k = 0; k < na; k++) a[k] = x[row * na + k];
    for (uint32_t i = 0; i < r->L; i++) {
      size_t no = r->s[i + 1];
      for (size_t j = 0; j < no; j++) {
        double acc = r->b[i][j];
        for (size_t k = 0; k < na; k++) acc += a[k] * r->w[i][k * no + j];
        z[j] = acc;
      }
      if (i + 1 < r->L) {
        for (size_t j = 0; j < no; j++) {
          h = (h ^ (uint64_t)(z[j] > 0)) * 1099511628211ull;
          a[j] = z[j] > 0 ? z[j] : 0;
          if (r->mask[i]) a[j] *= r->mask[i][row * no + j];
        }
      } else {
        double mx = z[0], sum = 0;
        for (size_t j = 1; j < no; j++) mx = z[j] > mx ? z[j] : mx;
        for (size_t j = 0; j < no; j++) sum += exp(z[j] - mx);
        double p = exp(z[y[row]] - mx) / sum;
        p = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
        total -= log(p);
      }
      na = no;
    }
  }
  if (signs) *signs = h;
  return total / (double)n;
}

/* Compares every float gradient with a central difference of ref_loss;
 * returns the largest relative error |g - fd| / max(|g|, |fd|, floor).
 * Parameters whose +-h step crosses a ReLU kink are counted in *kinks
 * and left out. */
static double check_fd(ref_net *r, const float *x, const int32_t *y, size_t n, float **gw, float **gb, int *kinks,
                       size_t *checked) {
  const double h = 1e-5, floor_ = 1e-6;
  double worst = 0;
  uint64_t s0, sp, sm;
  ref_loss(r, x, y, n, &s0);
  for (uint32_t i = 0; i < r->L; i++) {
    for (int isb = 0; isb < 2; isb++) {
      double *p = isb ? r->b[i] : r->w[i];
      const float *g = isb ? gb[i] : gw[i];
      size_t cnt = isb ? r->s[i + 1] : (size_t)r->s[i] * r->s[i + 1];
      for (size_t k = 0; k < cnt; k++) {
        double keep = p[k];
        p[k] = keep + h;
        double lp = ref_loss(r, x, y, n, &sp);
        p[k] = keep - h;
        double lm = ref_loss(r, x, y, n, &sm);
        p[k] = keep;
        if (sp != s0 || sm != s0) {
          (*kinks)++;
          continue;
        }
        double fd = (lp - lm) / (2 * h), gg = g[k];
        double den = fmax(fmax(fabs(gg), fabs(fd)), floor_);
        double rel = fabs(gg - fd) / den;
        if (rel > worst) worst = rel;
        if (rel >= 1e-3)
          printf("  layer %u %s[%zu]: trainer %.9g, finite difference %.9g (rel %.3g)\n", i, isb ? "b" : "w", k, gg,
                 fd, rel);
        (*checked)++;
      }
    }
  }
  return worst;
}

static void alloc_grads(const pf_model *m, float **gw, float **gb) {
  for (uint32_t i = 0; i < m->n_layers; i++) {
    gw[i] = calloc(wcount(m, i), sizeof(float));
    gb[i] = calloc(m->sizes[i + 1], sizeof(float));
    assert_true(gw[i] && gb[i]);
  }
}

static void free_grads(const pf_model *m, float **gw, float **gb) {
  for (uint32_t i = 0; i < m->n_layers; i++) {
    free(gw[i]);
    free(gb[i]);
  }
}

/* ---- 1. gradients against finite differences ---- */

static void fd_case(uint32_t L, const uint32_t *sizes, size_t n, uint64_t seed) {
  pf_model *m = new_model(L, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.seed = seed;
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
  rs = seed * 7919 + 1;
  for (uint32_t i = 0; i < L; i++) /* non-zero biases, so their use is tested too */
    for (uint32_t j = 0; j < sizes[i + 1]; j++) m->b[i][j] = (float)(0.2 * rnorm());
  uint32_t c = sizes[L];
  float *x = malloc(n * sizes[0] * sizeof(float));
  int32_t *y = malloc(n * sizeof(int32_t));
  for (size_t k = 0; k < n * sizes[0]; k++) x[k] = (float)rnorm();
  for (size_t r = 0; r < n; r++) y[r] = (int32_t)(rnext() % c);

  float *gw[PF_MODEL_MAX_LAYERS], *gb[PF_MODEL_MAX_LAYERS];
  alloc_grads(m, gw, gb);
  double loss = -1;
  assert_int_equal(pf_trainer_gradients(t, x, y, n, 0, &loss, gw, gb), PF_OK);

  ref_net r;
  ref_from_model(&r, m);
  double rloss = ref_loss(&r, x, y, n, NULL);
  int kinks = 0;
  size_t checked = 0;
  double worst = check_fd(&r, x, y, n, gw, gb, &kinks, &checked);
  printf("fd %u layers (", L);
  for (uint32_t i = 0; i <= L; i++) printf("%s%u", i ? "-" : "", sizes[i]);
  printf("), %zu rows: loss %.9f (reference %.9f), %zu parameters checked, %d skipped at ReLU kinks, "
         "max relative error %.3g\n",
         n, loss, rloss, checked, kinks, worst);
  assert_true(fabs(loss - rloss) <= 1e-5 * fabs(rloss));
  assert_true(worst < 1e-3);
  assert_true(kinks * 10 < (int)checked);
  ref_free(&r);
  free_grads(m, gw, gb);
  free(x);
  free(y);
  pf_trainer_free(&t);
  assert_null(t);
  pf_model_free(&m);
}

static void test_gradients_fd(void **state) {
  const uint32_t seed_net[] = {7, 5, 4, 2};
  fd_case(3, seed_net, 9, 11);
  const uint32_t one[] = {6, 3};
  fd_case(1, one, 5, 12);
  const uint32_t deep[] = {6, 8, 3, 5, 4};
  fd_case(4, deep, 11, 13);
}

/* With dropout on, the mask of a 1-hidden-layer net on one row whose
 * hidden units are all active can be read back from the first layer's bias
 * gradient (zero iff dropped); the gradients must then match the finite
 * differences of the reference with that mask, and about 1 - rate of the
 * units must be kept. */
static void test_gradients_dropout(void **state) {
  const uint32_t sizes[] = {5, 64, 3};
  pf_model *m = new_model(2, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.seed = 5;
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
  for (size_t k = 0; k < wcount(m, 0); k++) m->w[0][k] = fabsf(m->w[0][k]) + 0.01f; /* every z > 0 */
  for (uint32_t j = 0; j < 64; j++) m->b[0][j] = 0.1f;
  float x[5] = {0.3f, 1.2f, 0.7f, 0.05f, 2.0f};
  int32_t y[1] = {2};
  float *gw[PF_MODEL_MAX_LAYERS], *gb[PF_MODEL_MAX_LAYERS];
  alloc_grads(m, gw, gb);
  double mask[64], worst = 0, scale = 1.0 / (1.0 - o.dropout);
  int kept = 0, total = 0, kinks = 0;
  size_t checked = 0;
  float *prev = NULL;
  int differs = 0;
  for (int call = 0; call < 20; call++) {
    double loss;
    assert_int_equal(pf_trainer_gradients(t, x, y, 1, 1, &loss, gw, gb), PF_OK);
    for (int j = 0; j < 64; j++) {
      mask[j] = gb[0][j] != 0.0f ? scale : 0.0;
      kept += mask[j] != 0;
      total++;
    }
    if (prev) differs |= memcmp(prev, gb[0], 64 * sizeof(float)) != 0;
    else prev = malloc(64 * sizeof(float));
    memcpy(prev, gb[0], 64 * sizeof(float));
    ref_net r;
    ref_from_model(&r, m);
    r.mask[0] = mask;
    double rl = ref_loss(&r, x, y, 1, NULL);
    assert_true(fabs(rl - loss) <= 1e-5 * fabs(rl));
    double w = check_fd(&r, x, y, 1, gw, gb, &kinks, &checked);
    if (w > worst) worst = w;
    ref_free(&r);
  }
  double frac = (double)kept / total;
  printf("dropout 0.3: %d of %d units kept (%.3f); %zu gradients checked, max relative error %.3g\n", kept, total,
         frac, checked, worst);
  assert_true(fabs(frac - 0.7) < 0.05);
  assert_true(differs); /* the mask stream moves on */
  assert_true(worst < 1e-3);
  assert_int_equal(kinks, 0);
  free(prev);
  free_grads(m, gw, gb);
  pf_trainer_free(&t);
  pf_model_free(&m);
}

/* ---- 2. learning ---- */

/* Trains until pf_model_evaluate gives 100% or max_epochs; returns epochs used
 * (max_epochs + 1 when it never got there). */
static int train_until_perfect(pf_model *m, const pf_train_opts *o, const float *x, const int32_t *y, size_t n,
                               int max_epochs, double *final_loss) {
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(m, o, 0, &t), PF_OK);
  int e;
  double loss = 0, acc = 0, vloss = 0, vacc = 0;
  for (e = 1; e <= max_epochs; e++) {
    assert_int_equal(pf_trainer_epoch(t, x, y, n, &loss, &acc), PF_OK);
    assert_int_equal(pf_model_evaluate(m, x, y, n, &vloss, &vacc), PF_OK);
    if (vacc == 1.0) break;
  }
  printf("  epoch %d: train loss %.4f acc %.4f, evaluate loss %.4f acc %.4f\n", e > max_epochs ? max_epochs : e,
         loss, acc, vloss, vacc);
  *final_loss = vloss;
  pf_trainer_free(&t);
  return e;
}

static void test_learn_xor(void **state) {
  enum { N = 200 };
  float x[N * 2];
  int32_t y[N];
  rs = 42;
  for (int r = 0; r < N; r++) {
    int qx = r & 1, qy = (r >> 1) & 1;
    x[r * 2] = (float)((qx ? 1 : -1) + 0.25 * rnorm());
    x[r * 2 + 1] = (float)((qy ? 1 : -1) + 0.25 * rnorm());
    y[r] = qx ^ qy;
  }
  const uint32_t sizes[] = {2, 16, 16, 2};
  pf_model *m = new_model(3, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.dropout = 0;
  o.lr = 0.01;
  o.batch = 16;
  o.seed = 3;
  double vloss;
  printf("XOR, 2-16-16-2, %d points:\n", N);
  int e = train_until_perfect(m, &o, x, y, N, 300, &vloss);
  printf("  100%% after %d epochs\n", e);
  assert_true(e <= 300);
  pf_model_free(&m);
}

static void test_learn_blobs_486(void **state) {
  enum { N = 300, D = 486 };
  float *x = malloc(sizeof(float) * N * D);
  int32_t y[N];
  rs = 7;
  for (int r = 0; r < N; r++) {
    y[r] = r % 2;
    for (int k = 0; k < D; k++) x[r * D + k] = (float)(rnorm() + (k < 50 ? (y[r] ? 0.5 : -0.5) : 0.0));
  }
  const uint32_t sizes[] = {D, 70, 70, 2};
  pf_model *m = new_model(3, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o); /* the seed's recipe: dropout 0.3, Adam 0.001, batch 64 */
  o.seed = 9;
  double vloss;
  printf("two Gaussian blobs, 486-70-70-2, %d rows, seed recipe:\n", N);
  int e = train_until_perfect(m, &o, x, y, N, 200, &vloss);
  printf("  100%% after %d epochs\n", e);
  assert_true(e <= 200);
  free(x);
  pf_model_free(&m);
}

/* ---- 3. repeatability ---- */

typedef struct {
  pf_model *m;
  double loss[3], acc[3];
} run_result;

static run_result train_run(uint64_t seed, int threads, const float *x, const int32_t *y, size_t n) {
  const uint32_t sizes[] = {486, 70, 70, 2};
  run_result r;
  r.m = new_model(3, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.seed = seed;
  o.threads = threads;
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(r.m, &o, 0, &t), PF_OK);
  for (int e = 0; e < 3; e++) assert_int_equal(pf_trainer_epoch(t, x, y, n, &r.loss[e], &r.acc[e]), PF_OK);
  pf_trainer_free(&t);
  return r;
}

static int same_weights(const pf_model *a, const pf_model *b) {
  for (uint32_t i = 0; i < a->n_layers; i++)
    if (memcmp(a->w[i], b->w[i], wcount(a, i) * sizeof(float)) ||
        memcmp(a->b[i], b->b[i], a->sizes[i + 1] * sizeof(float)))
      return 0;
  return 1;
}

static void test_repeatable(void **state) {
  enum { N = 1000, D = 486 }; /* 1000 = 15 x 64 + 40: a partial last batch */
  float *x = malloc(sizeof(float) * N * D);
  int32_t y[N];
  rs = 99;
  for (int k = 0; k < N * D; k++) x[k] = (float)runif();
  for (int r = 0; r < N; r++) y[r] = (int32_t)(rnext() & 1);
  const int threads[] = {1, 2};
  for (int ti = 0; ti < 2; ti++) {
    run_result a = train_run(17, threads[ti], x, y, N), b = train_run(17, threads[ti], x, y, N);
    run_result c = train_run(18, threads[ti], x, y, N);
    printf("threads %d: seed 17 losses %.9f %.9f %.9f (twice); seed 18 %.9f %.9f %.9f\n", threads[ti], a.loss[0],
           a.loss[1], a.loss[2], c.loss[0], c.loss[1], c.loss[2]);
    assert_true(same_weights(a.m, b.m));
    assert_memory_equal(a.loss, b.loss, sizeof a.loss);
    assert_memory_equal(a.acc, b.acc, sizeof a.acc);
    assert_false(same_weights(a.m, c.m));
    assert_true(memcmp(a.loss, c.loss, sizeof a.loss) != 0);
    pf_model_free(&a.m);
    pf_model_free(&b.m);
    pf_model_free(&c.m);
  }
  /* the initial weights alone: Glorot uniform within its limit, biases zero */
  const uint32_t sizes[] = {486, 70, 70, 2};
  pf_model *m = new_model(3, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  pf_trainer *t = NULL;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
  for (uint32_t i = 0; i < 3; i++) {
    double lim = sqrt(6.0 / (sizes[i] + sizes[i + 1])), mx = 0, sum = 0;
    for (size_t k = 0; k < wcount(m, i); k++) {
      mx = fmax(mx, fabs(m->w[i][k]));
      sum += m->w[i][k];
    }
    for (uint32_t j = 0; j < sizes[i + 1]; j++) assert_true(m->b[i][j] == 0.0f);
    assert_true(mx <= lim && mx > 0.9 * lim);
    assert_true(fabs(sum / wcount(m, i)) < 0.1 * lim);
  }
  pf_trainer_free(&t);
  pf_model_free(&m);
  free(x);
}

/* ---- 4. Adam against a hand-computed update ---- */

/* One Adam step (t = 1 or 2) of a 1-layer softmax net computed in double
 * from the batch rows xs / ys (nb of them); mw, vw, mb, vb carry Adam's
 * state between calls. */
static void hand_adam(double *w, double *b, double *mw, double *vw, double *mb, double *vb, const float *xs,
                      const int32_t *ys, size_t nb, size_t ni, size_t c, int step, const pf_train_opts *o) {
  double gw[64] = {0}, gb[8] = {0};
  for (size_t r = 0; r < nb; r++) {
    double z[8], mx = -INFINITY, sum = 0;
    for (size_t j = 0; j < c; j++) {
      z[j] = b[j];
      for (size_t k = 0; k < ni; k++) z[j] += xs[r * ni + k] * w[k * c + j];
      mx = fmax(mx, z[j]);
    }
    for (size_t j = 0; j < c; j++) sum += exp(z[j] - mx);
    for (size_t j = 0; j < c; j++) {
      double d = (exp(z[j] - mx) / sum - (ys[r] == (int32_t)j)) / (double)nb;
      gb[j] += d;
      for (size_t k = 0; k < ni; k++) gw[k * c + j] += xs[r * ni + k] * d;
    }
  }
  double lr_t = o->lr * sqrt(1 - pow(o->beta2, step)) / (1 - pow(o->beta1, step));
  for (size_t k = 0; k < ni * c + c; k++) {
    int isb = k >= ni * c;
    size_t q = isb ? k - ni * c : k;
    double g = isb ? gb[q] : gw[q], *p = isb ? &b[q] : &w[q], *mm = isb ? &mb[q] : &mw[q], *vv = isb ? &vb[q] : &vw[q];
    *mm = o->beta1 * *mm + (1 - o->beta1) * g;
    *vv = o->beta2 * *vv + (1 - o->beta2) * g * g;
    *p -= lr_t * *mm / (sqrt(*vv) + o->eps);
  }
}

static void test_adam_step(void **state) {
  enum { NI = 4, C = 3 };
  const uint32_t sizes[] = {NI, C};
  pf_train_opts o;
  pf_train_opts_default(&o);
  o.lr = 0.01;
  o.eps = 1e-3; /* large enough to matter in the step */
  o.dropout = 0;
  o.seed = 21;
  const float xs[4 * NI] = {0.5f, -1.0f, 2.0f, 0.1f, 1.5f, 0.3f, -0.7f, 0.9f,
                            -0.2f, 0.8f, 0.4f, -1.1f, 0.6f, 0.6f, -0.3f, 0.2f};
  const int32_t ys[4] = {0, 2, 1, 2};
  /* part A: one step on one full batch of 4 rows */
  /* part B: 3 copies of one row with batch 2: two steps, the second from
   * the partial last batch (identical rows make the order irrelevant) */
  for (int part = 0; part < 2; part++) {
    pf_model *m = new_model(1, sizes);
    double w[NI * C], b[C], mw[NI * C] = {0}, vw[NI * C] = {0}, mb[C] = {0}, vb[C] = {0};
    rs = 1234 + part;
    for (int k = 0; k < NI * C; k++) w[k] = m->w[0][k] = (float)(0.5 * rnorm());
    for (int j = 0; j < C; j++) b[j] = m->b[0][j] = (float)(0.1 * rnorm());
    double w0 = w[0];
    float x3[3 * NI];
    int32_t y3[3];
    for (int r = 0; r < 3; r++) {
      memcpy(x3 + r * NI, xs + NI, NI * sizeof(float));
      y3[r] = ys[1];
    }
    o.batch = part == 0 ? 4 : 2;
    pf_trainer *t = NULL;
    assert_int_equal(pf_trainer_new(m, &o, 1, &t), PF_OK);
    double loss, acc;
    if (part == 0) {
      assert_int_equal(pf_trainer_epoch(t, xs, ys, 4, &loss, &acc), PF_OK);
      hand_adam(w, b, mw, vw, mb, vb, xs, ys, 4, NI, C, 1, &o);
    } else {
      assert_int_equal(pf_trainer_epoch(t, x3, y3, 3, &loss, &acc), PF_OK);
      hand_adam(w, b, mw, vw, mb, vb, x3, y3, 2, NI, C, 1, &o);
      hand_adam(w, b, mw, vw, mb, vb, x3, y3, 1, NI, C, 2, &o);
    }
    double worst = 0;
    for (int k = 0; k < NI * C; k++) worst = fmax(worst, fabs(m->w[0][k] - w[k]));
    for (int j = 0; j < C; j++) worst = fmax(worst, fabs(m->b[0][j] - b[j]));
    printf("adam %s: max |trainer - hand| %.3g over %d weights and biases (w[0] moved %.6f -> %.6f)\n",
           part ? "two steps, partial last batch" : "one step", worst, NI * C + C, w0, w[0]);
    assert_true(worst < 2e-6);
    assert_true(fabs(w[0] - w0) > 1e-3); /* the step is not lost in the tolerance */
    pf_trainer_free(&t);
    pf_model_free(&m);
  }
}

/* ---- arguments ---- */

static void test_bad_arguments(void **state) {
  const uint32_t sizes[] = {3, 4, 2};
  pf_model *m = new_model(2, sizes);
  pf_train_opts o;
  pf_train_opts_default(&o);
  pf_trainer *t = (pf_trainer *)&o;
  o.dropout = 1.0;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_EINVAL);
  assert_null(t);
  pf_train_opts_default(&o);
  o.batch = 0;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_EINVAL);
  pf_train_opts_default(&o);
  o.lr = -1;
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_EINVAL);
  assert_int_equal(pf_trainer_new(NULL, &o, 0, &t), PF_EINVAL);
  pf_train_opts_default(&o);
  assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
  float x[6] = {1, 2, 3, 4, 5, 6};
  int32_t bad[2] = {0, 2}, good[2] = {0, 1};
  double loss, acc;
  assert_int_equal(pf_trainer_epoch(t, x, bad, 2, &loss, &acc), PF_EINVAL);
  assert_int_equal(pf_trainer_epoch(t, x, good, 0, &loss, &acc), PF_EINVAL);
  assert_int_equal(pf_model_evaluate(m, x, bad, 2, &loss, &acc), PF_EINVAL);
  assert_int_equal(pf_trainer_epoch(t, x, good, 2, &loss, &acc), PF_OK);
  assert_int_equal(pf_model_evaluate(m, x, good, 2, &loss, &acc), PF_OK);
  assert_true(isfinite(loss) && acc >= 0 && acc <= 1);
  pf_trainer_free(&t);
  pf_trainer_free(&t); /* cleared: a second free is harmless */
  pf_model_free(&m);
}

/* ---- speed (printed, not asserted) ---- */

static void test_speed(void **state) {
  enum { N = 20000, D = 486 };
  float *x = malloc(sizeof(float) * N * D);
  int32_t *y = malloc(sizeof(int32_t) * N);
  assert_true(x && y);
  rs = 5;
  for (size_t k = 0; k < (size_t)N * D; k++) x[k] = (float)runif();
  for (int r = 0; r < N; r++) y[r] = (int32_t)(rnext() & 1);
  const uint32_t sizes[] = {D, 70, 70, 2};
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  const int threads[] = {1, ncpu > 1 ? (int)(ncpu < 8 ? ncpu : 8) : 1};
  for (int ti = 0; ti < (threads[1] > 1 ? 2 : 1); ti++) {
    pf_model *m = new_model(3, sizes);
    pf_train_opts o;
    pf_train_opts_default(&o);
    o.threads = threads[ti];
    pf_trainer *t = NULL;
    assert_int_equal(pf_trainer_new(m, &o, 0, &t), PF_OK);
    double loss, acc, t0 = now_s();
    for (int e = 0; e < 2; e++) assert_int_equal(pf_trainer_epoch(t, x, y, N, &loss, &acc), PF_OK);
    double per = (now_s() - t0) / 2, t1 = now_s();
    assert_int_equal(pf_model_evaluate(m, x, y, N, &loss, &acc), PF_OK);
    printf("speed: 486-70-70-2, %d rows, batch 64, dropout 0.3, %d OpenBLAS thread(s): %.3f s/epoch "
           "(evaluate %.3f s)\n", N, threads[ti], per, now_s() - t1);
    pf_trainer_free(&t);
    pf_model_free(&m);
  }
  free(x);
  free(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gradients_fd),   cmocka_unit_test(test_gradients_dropout),
    cmocka_unit_test(test_learn_xor),      cmocka_unit_test(test_learn_blobs_486),
    cmocka_unit_test(test_repeatable),     cmocka_unit_test(test_adam_step),
    cmocka_unit_test(test_bad_arguments),  cmocka_unit_test(test_speed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
