/* pf_train: the CPU reference trainer (see pf_train.h).
 *
 * Shapes, for a batch of B rows and L dense layers with s[0..L] units:
 *   in      B x s[0]       the batch's inputs (gathered rows of x)
 *   act[i]  B x s[i+1]     output of layer i: dropout(relu(in_i W_i + b_i))
 *                          for hidden layers, softmax(...) for the last
 *   W_i     s[i] x s[i+1]  Keras kernel layout [in][out], row-major
 *   d       B x s[i+1]     dLoss/dz_i while walking back
 * Loss: mean over the batch of -log(clamp(p_true, 1e-7, 1 - 1e-7)); its
 * gradient at the logits is taken as (p - onehot) / B (the clamp only
 * shapes the reported value).
 * Random numbers: xoshiro256** seeded by splitmix64, three independent
 * streams (weight init, shuffling, dropout masks) derived from opts.seed. */
#include "pf_train.h"
#include "pf_err.h"
#include "pf_fit_util.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PF_TRAIN_EVAL_ROWS 256 /* rows per forward pass in pf_model_evaluate */

/* ---- random numbers ---- */

typedef struct {
  uint64_t s[4];
} pf_rng;

/* Seeds one stream; stream tells the streams of the same seed apart. */
static void rng_seed(pf_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
  for (int i = 0; i < 4; i++) r->s[i] = pf_fit_splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

/* xoshiro256** */
static inline uint64_t rng_next(pf_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rng_unit(pf_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* rng_next as pf_fit_shuffle's generator */
static uint64_t rng_next_fn(void *r) { return rng_next(r); }

/* ---- options ---- */

void pf_train_opts_default(pf_train_opts *o) {
  o->lr = 0.001;
  o->beta1 = 0.9;
  o->beta2 = 0.999;
  o->eps = 1e-7;
  o->dropout = 0.3;
  o->batch = 64;
  o->seed = 1;
  o->threads = 0;
}

int pf_train_opts_valid(const pf_train_opts *o) {
  return o && o->lr > 0 && isfinite(o->lr) && o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1 &&
         o->eps > 0 && isfinite(o->eps) && o->dropout >= 0 && o->dropout < 1 && o->batch >= 1 &&
         o->batch <= (uint32_t)INT_MAX && o->threads >= 0;
}

int pf_train_model_valid(const pf_model *m) {
  if (!m || m->n_layers < 1 || m->n_layers > PF_MODEL_MAX_LAYERS) return 0;
  for (uint32_t i = 0; i <= m->n_layers; i++)
    if (m->sizes[i] < 1 || m->sizes[i] > PF_MODEL_MAX_WIDTH) return 0;
  for (uint32_t i = 0; i < m->n_layers; i++)
    if (!m->w[i] || !m->b[i]) return 0;
  return 1;
}

int pf_train_labels_valid(const int32_t *y, size_t n, uint32_t classes) {
  for (size_t r = 0; r < n; r++)
    if (y[r] < 0 || (uint32_t)y[r] >= classes) return 0;
  return 1;
}

/* ---- the trainer ---- */

/* Per-batch work space for up to cap rows (B = rows of the batch). */
typedef struct {
  size_t cap;
  float *xb;                       /* B x s[0]: the gathered inputs */
  int32_t *yb;                     /* B: their labels */
  float *act[PF_MODEL_MAX_LAYERS]; /* B x s[i+1] */
  float *d0, *d1;                  /* B x max(s[1..L]): gradients at the logits, ping-pong */
} pf_work;

struct pf_trainer {
  pf_model *m; /* borrowed */
  pf_train_opts o;
  pf_rng shuffle_rng, drop_rng;
  uint64_t step; /* Adam steps taken */
  /* Adam state, shaped like m->w / m->b */
  float *mw[PF_MODEL_MAX_LAYERS], *vw[PF_MODEL_MAX_LAYERS];
  float *mb[PF_MODEL_MAX_LAYERS], *vb[PF_MODEL_MAX_LAYERS];
  float *gw[PF_MODEL_MAX_LAYERS], *gb[PF_MODEL_MAX_LAYERS]; /* gradients of the last batch */
  pf_work w;            /* per-batch work space */
  size_t *perm, perm_n; /* row order of the current epoch */
  size_t last_n;        /* rows of the last epoch */
};

static void *alloc_floats(size_t rows, size_t cols) {
  if (cols && rows > SIZE_MAX / sizeof(float) / cols) return NULL;
  size_t k = rows * cols;
  return calloc(k ? k : 1, sizeof(float));
}

static void work_free(pf_work *w) {
  free(w->xb);
  free(w->yb);
  free(w->d0);
  free(w->d1);
  for (int i = 0; i < PF_MODEL_MAX_LAYERS; i++) free(w->act[i]);
  memset(w, 0, sizeof *w);
}

/* Work space for at least rows rows; on failure the old one stays. */
static int ensure_work(pf_trainer *t, size_t rows) {
  if (rows <= t->w.cap) return PF_OK;
  if (rows > (size_t)INT_MAX) return PF_ELIMIT;
  const pf_model *m = t->m;
  uint32_t L = m->n_layers, wmax = 0;
  for (uint32_t i = 1; i <= L; i++)
    if (m->sizes[i] > wmax) wmax = m->sizes[i];
  pf_work w = {0};
  w.xb = alloc_floats(rows, m->sizes[0]);
  w.yb = calloc(rows, sizeof *w.yb);
  w.d0 = alloc_floats(rows, wmax);
  w.d1 = alloc_floats(rows, wmax);
  int ok = w.xb && w.yb && w.d0 && w.d1;
  for (uint32_t i = 0; i < L; i++) ok = (w.act[i] = alloc_floats(rows, m->sizes[i + 1])) && ok;
  if (!ok) {
    work_free(&w);
    return PF_ENOMEM;
  }
  w.cap = rows;
  work_free(&t->w);
  t->w = w;
  return PF_OK;
}

/* Glorot uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); zero biases. */
static void glorot_init(pf_model *m, uint64_t seed) {
  pf_rng r;
  rng_seed(&r, seed, 1);
  for (uint32_t i = 0; i < m->n_layers; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    double lim = sqrt(6.0 / (double)(fi + fo));
    for (size_t k = 0; k < fi * fo; k++) m->w[i][k] = (float)((2.0 * rng_unit(&r) - 1.0) * lim);
    memset(m->b[i], 0, fo * sizeof(float));
  }
}

int pf_trainer_new(pf_model *m, const pf_train_opts *o, int keep_weights, pf_trainer **out) {
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!pf_train_model_valid(m) || !pf_train_opts_valid(o)) return PF_EINVAL;
  pf_trainer *t = calloc(1, sizeof *t);
  if (!t) return PF_ENOMEM;
  t->m = m;
  t->o = *o;
  rng_seed(&t->shuffle_rng, o->seed, 2);
  rng_seed(&t->drop_rng, o->seed, 3);
  int ok = 1;
  for (uint32_t i = 0; i < m->n_layers; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    ok = (t->mw[i] = alloc_floats(fi, fo)) && ok;
    ok = (t->vw[i] = alloc_floats(fi, fo)) && ok;
    ok = (t->gw[i] = alloc_floats(fi, fo)) && ok;
    ok = (t->mb[i] = alloc_floats(1, fo)) && ok;
    ok = (t->vb[i] = alloc_floats(1, fo)) && ok;
    ok = (t->gb[i] = alloc_floats(1, fo)) && ok;
  }
  if (!ok || ensure_work(t, o->batch) != PF_OK) {
    pf_trainer_free(&t);
    return PF_ENOMEM;
  }
  if (!keep_weights) glorot_init(m, o->seed);
  if (o->threads > 0) openblas_set_num_threads(o->threads);
  *out = t;
  return PF_OK;
}

void pf_trainer_free(pf_trainer **tp) {
  if (!tp || !*tp) return;
  pf_trainer *t = *tp;
  work_free(&t->w);
  for (int i = 0; i < PF_MODEL_MAX_LAYERS; i++) {
    free(t->mw[i]);
    free(t->vw[i]);
    free(t->mb[i]);
    free(t->vb[i]);
    free(t->gw[i]);
    free(t->gb[i]);
  }
  free(t->perm);
  free(t);
  *tp = NULL;
}

/* ---- forward and backward ---- */

/* Dense layer: out (B x no) = in (B x ni) . W (ni x no). */
static void gemm_xw(const float *in, const float *w, float *out, size_t B, size_t ni, size_t no) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)no, (int)ni, 1.0f, in, (int)ni, w, (int)no,
              0.0f, out, (int)no);
}

/* a (B x n) += b, then ReLU; with drop, each unit kept with probability
 * 1 - rate and scaled by 1 / (1 - rate) (inverted dropout). */
static void bias_relu_dropout(float *a, const float *b, size_t B, size_t n, pf_rng *drop, double rate) {
  if (!drop || rate <= 0) {
    for (size_t r = 0; r < B; r++) {
      float *row = a + r * n;
      for (size_t j = 0; j < n; j++) {
        float z = row[j] + b[j];
        row[j] = z > 0.0f ? z : 0.0f;
      }
    }
    return;
  }
  float scale = (float)(1.0 / (1.0 - rate));
  for (size_t r = 0; r < B; r++) {
    float *row = a + r * n;
    for (size_t j = 0; j < n; j++) {
      float z = row[j] + b[j];
      int keep = rng_unit(drop) >= rate;
      row[j] = keep && z > 0.0f ? z * scale : 0.0f;
    }
  }
}

/* a (B x c) += b, then a numerically stable softmax of each row. */
static void bias_softmax(float *a, const float *b, size_t B, size_t c) {
  for (size_t r = 0; r < B; r++) {
    float *row = a + r * c;
    float mx = -FLT_MAX;
    for (size_t j = 0; j < c; j++) {
      row[j] += b[j];
      if (row[j] > mx) mx = row[j];
    }
    float sum = 0.0f;
    for (size_t j = 0; j < c; j++) {
      row[j] = expf(row[j] - mx);
      sum += row[j];
    }
    float inv = 1.0f / sum;
    for (size_t j = 0; j < c; j++) row[j] *= inv;
  }
}

/* Forward pass of B rows of in through m into act[0..L-1]; act[L-1] ends
 * as probabilities. drop NULL: no dropout. */
static void forward(const pf_model *m, const float *in, size_t B, float **act, pf_rng *drop, double rate) {
  uint32_t L = m->n_layers;
  const float *a = in;
  for (uint32_t i = 0; i < L; i++) {
    size_t ni = m->sizes[i], no = m->sizes[i + 1];
    gemm_xw(a, m->w[i], act[i], B, ni, no);
    if (i + 1 < L) bias_relu_dropout(act[i], m->b[i], B, no, drop, rate);
    else bias_softmax(act[i], m->b[i], B, no);
    a = act[i];
  }
}

/* Backward pass after forward(): gradients of the mean batch loss into
 * gw[i] (s[i] x s[i+1]) and gb[i] (s[i+1]). scale is the dropout scale
 * used in the forward pass (1 without dropout): a hidden unit passed its
 * gradient on iff its output is > 0, times scale. */
static void backward(pf_trainer *t, const float *in, const int32_t *y, size_t B, float scale, float **gw,
                     float **gb) {
  const pf_model *m = t->m;
  uint32_t L = m->n_layers;
  size_t c = m->sizes[L];
  float *d = t->w.d0, *dn = t->w.d1;
  float invB = 1.0f / (float)B;
  const float *p = t->w.act[L - 1];
  for (size_t r = 0; r < B; r++) {
    for (size_t j = 0; j < c; j++) d[r * c + j] = p[r * c + j] * invB;
    d[r * c + (size_t)y[r]] -= invB;
  }
  for (uint32_t ii = L; ii-- > 0;) {
    size_t ni = m->sizes[ii], no = m->sizes[ii + 1];
    const float *a = ii == 0 ? in : t->w.act[ii - 1];
    /* dW (ni x no) = a^T (ni x B) . d (B x no) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ni, (int)no, (int)B, 1.0f, a, (int)ni, d, (int)no,
                0.0f, gw[ii], (int)no);
    float *g = gb[ii];
    memset(g, 0, no * sizeof(float));
    for (size_t r = 0; r < B; r++) {
      const float *row = d + r * no;
      for (size_t j = 0; j < no; j++) g[j] += row[j];
    }
    if (ii == 0) break;
    /* d_prev (B x ni) = d (B x no) . W^T (no x ni), then through dropout and ReLU */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)ni, (int)no, 1.0f, d, (int)no, m->w[ii],
                (int)no, 0.0f, dn, (int)ni);
    for (size_t k = 0; k < B * ni; k++) dn[k] = a[k] > 0.0f ? dn[k] * scale : 0.0f;
    float *tmp = d;
    d = dn;
    dn = tmp;
  }
}

/* One Adam step as TF's ApplyAdam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
 * w -= lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t). */
static void adam_update(float *restrict w, float *restrict mm, float *restrict vv, const float *restrict g, size_t n,
                        float lr_t, float om1, float om2,
                        float eps) {
  for (size_t k = 0; k < n; k++) {
    mm[k] += (g[k] - mm[k]) * om1;
    vv[k] += (g[k] * g[k] - vv[k]) * om2;
    w[k] -= lr_t * mm[k] / (sqrtf(vv[k]) + eps);
  }
}

static void adam_step(pf_trainer *t) {
  pf_model *m = t->m;
  t->step++;
  double b1t = pow(t->o.beta1, (double)t->step), b2t = pow(t->o.beta2, (double)t->step);
  float lr_t = (float)(t->o.lr * sqrt(1.0 - b2t) / (1.0 - b1t));
  float om1 = (float)(1.0 - t->o.beta1), om2 = (float)(1.0 - t->o.beta2), eps = (float)t->o.eps;
  for (uint32_t i = 0; i < m->n_layers; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    adam_update(m->w[i], t->mw[i], t->vw[i], t->gw[i], fi * fo, lr_t, om1, om2, eps);
    adam_update(m->b[i], t->mb[i], t->vb[i], t->gb[i], fo, lr_t, om1, om2, eps);
  }
}

static float dropout_scale(double rate) { return rate > 0 ? (float)(1.0 / (1.0 - rate)) : 1.0f; }

int pf_trainer_epoch(pf_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  if (!t || !x || !y || n == 0) return PF_EINVAL;
  pf_model *m = t->m;
  uint32_t L = m->n_layers;
  size_t in = m->sizes[0], c = m->sizes[L], B = t->o.batch;
  if (!pf_train_labels_valid(y, n, (uint32_t)c)) return PF_EINVAL;
  if (n > t->perm_n) {
    size_t *p = realloc(t->perm, n * sizeof *p);
    if (!p) return PF_ENOMEM;
    t->perm = p;
    t->perm_n = n;
  }
  if (t->o.threads > 0) openblas_set_num_threads(t->o.threads);
  pf_fit_shuffle(t->perm, n, rng_next_fn, &t->shuffle_rng);
  double rate = t->o.dropout, loss_sum = 0;
  float scale = dropout_scale(rate);
  size_t correct = 0;
  for (size_t start = 0; start < n; start += B) {
    size_t nb = n - start < B ? n - start : B; /* the last batch may be partial */
    for (size_t r = 0; r < nb; r++) {
      size_t src = t->perm[start + r];
      memcpy(t->w.xb + r * in, x + src * in, in * sizeof(float));
      t->w.yb[r] = y[src];
    }
    forward(m, t->w.xb, nb, t->w.act, rate > 0 ? &t->drop_rng : NULL, rate);
    pf_fit_score_batch(t->w.act[L - 1], t->w.yb, nb, c, &loss_sum, &correct);
    backward(t, t->w.xb, t->w.yb, nb, scale, t->gw, t->gb);
    adam_step(t);
  }
  t->last_n = n;
  if (loss) *loss = loss_sum / (double)n;
  if (acc) *acc = (double)correct / (double)n;
  return PF_OK;
}

const size_t *pf_trainer_last_order(const pf_trainer *t, size_t *n) {
  if (n) *n = t && t->last_n ? t->last_n : 0;
  return t && t->last_n ? t->perm : NULL;
}

int pf_trainer_gradients(pf_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on, double *loss,
                         float **grad_w, float **grad_b) {
  if (!t || !x || !y || n == 0 || !grad_w || !grad_b) return PF_EINVAL;
  pf_model *m = t->m;
  uint32_t L = m->n_layers;
  for (uint32_t i = 0; i < L; i++)
    if (!grad_w[i] || !grad_b[i]) return PF_EINVAL;
  if (!pf_train_labels_valid(y, n, m->sizes[L])) return PF_EINVAL;
  int rc = ensure_work(t, n);
  if (rc != PF_OK) return rc;
  double rate = dropout_on ? t->o.dropout : 0.0, loss_sum = 0;
  size_t correct = 0;
  forward(m, x, n, t->w.act, rate > 0 ? &t->drop_rng : NULL, rate);
  pf_fit_score_batch(t->w.act[L - 1], y, n, m->sizes[L], &loss_sum, &correct);
  backward(t, x, y, n, dropout_scale(rate), grad_w, grad_b);
  if (loss) *loss = loss_sum / (double)n;
  return PF_OK;
}

/* ---- evaluation ---- */

int pf_model_evaluate(const pf_model *m, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  if (!pf_train_model_valid(m) || !x || !y || n == 0) return PF_EINVAL;
  uint32_t L = m->n_layers;
  size_t c = m->sizes[L], rows = n < PF_TRAIN_EVAL_ROWS ? n : PF_TRAIN_EVAL_ROWS;
  if (!pf_train_labels_valid(y, n, (uint32_t)c)) return PF_EINVAL;
  float *act[PF_MODEL_MAX_LAYERS] = {0};
  int ok = 1;
  for (uint32_t i = 0; i < L; i++) ok = (act[i] = alloc_floats(rows, m->sizes[i + 1])) && ok;
  if (ok) {
    double loss_sum = 0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += rows) {
      size_t nb = n - start < rows ? n - start : rows;
      forward(m, x + start * m->sizes[0], nb, act, NULL, 0.0);
      pf_fit_score_batch(act[L - 1], y + start, nb, c, &loss_sum, &correct);
    }
    if (loss) *loss = loss_sum / (double)n;
    if (acc) *acc = (double)correct / (double)n;
  }
  for (uint32_t i = 0; i < L; i++) free(act[i]);
  return ok ? PF_OK : PF_ENOMEM;
}
