/* pf_train_gpu: the GPU trainer (see pf_train_gpu.h).
 *
 * Same shapes and recipe as the CPU reference (lib/pf_train.c), for a batch
 * of B rows and L dense layers with s[0..L] units, everything row-major on
 * the device:
 *   xb      B x s[0]       the batch's inputs
 *   z[i]    B x s[i+1]     in_i W_i + b_i (cublasSgemm, cudnnAddTensor)
 *   r[i]    B x s[i+1]     relu(z[i]) for hidden layers, softmax(z[i]) for the last
 *   a[i]    B x s[i+1]     dropout(r[i]) (hidden layers, dropout on only)
 *   W_i     s[i] x s[i+1]  [in][out] as in pf_model
 * cuBLAS is column-major: a row-major R x C matrix is its C x R transpose,
 * so out = in . W is computed as out^T = W^T . in^T, and so on below.
 * The cross-entropy gradient at the logits is (p - onehot) / B and Adam is
 * TF's ApplyAdam, both as kernels in pf_train_gpu_kernels.cu. Loss and
 * accuracy are scored on the host from the copied-back probabilities with
 * the CPU's clamp. Every CUDA, cuBLAS and cuDNN call is checked; a failure
 * becomes PF_EGPU with the call and the library's reason in t->err. */
#include "pf_train_gpu.h"
#include "pf_err.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_msg(char *buf, size_t len, const char *fmt, ...) {
  if (!buf || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

#ifndef PF_HAVE_GPU

/* ---- a build without CUDA: the same calls, all saying so ---- */

#define PF_GPU_NOT_BUILT "this build has no GPU training path (built without CUDA/cuDNN)"

struct pf_gpu_trainer {
  int unused;
};

int pf_gpu_available(char *why, size_t whylen) {
  set_msg(why, whylen, "%s", PF_GPU_NOT_BUILT);
  return 0;
}

int pf_gpu_trainer_new(pf_model *m, const pf_train_opts *o, int keep_weights, pf_gpu_trainer **out, char *err,
                       size_t errlen) {
  if (out) *out = NULL;
  set_msg(err, errlen, "%s", PF_GPU_NOT_BUILT);
  return PF_EGPU;
}

void pf_gpu_trainer_free(pf_gpu_trainer **t) {
  if (t) *t = NULL;
}

const char *pf_gpu_trainer_error(const pf_gpu_trainer *t) { return PF_GPU_NOT_BUILT; }

int pf_gpu_trainer_epoch(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  return PF_EGPU;
}

int pf_gpu_trainer_evaluate(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss,
                            double *acc) {
  return PF_EGPU;
}

int pf_gpu_trainer_step(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss) {
  return PF_EGPU;
}

int pf_gpu_trainer_epoch_order(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, const size_t *order,
                               double *loss, double *acc) {
  return PF_EGPU;
}

int pf_gpu_trainer_gradients(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on,
                             double *loss, float **grad_w, float **grad_b) {
  return PF_EGPU;
}

int pf_gpu_trainer_dropout_probe(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, uint32_t layer,
                                 float *relu, float *dropped, float *grad) {
  return PF_EGPU;
}

#else /* PF_HAVE_GPU */

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "pf_fit_util.h"
#include "pf_train_gpu_kernels.h"

#define PF_GPU_EVAL_ROWS 256 /* at least this many rows per device buffer (evaluation chunks) */
#define PF_GPU_ERR 256

struct pf_gpu_trainer {
  pf_model *m; /* borrowed */
  pf_train_opts o;
  uint64_t step;    /* Adam steps taken */
  uint64_t shuffle; /* splitmix64 state of the row order */
  uint32_t L, wmax; /* layers, widest layer output */
  size_t cap;       /* rows the batch buffers hold */
  int cur_rows;     /* rows the tensor descriptors are set for (0: none) */
  cublasHandle_t blas;
  cudnnHandle_t dnn;
  cudnnActivationDescriptor_t relu;
  cudnnDropoutDescriptor_t drop; /* NULL when o.dropout == 0 */
  void *drop_states;
  cudnnTensorDescriptor_t out_desc[PF_MODEL_MAX_LAYERS];  /* rows x s[i+1] x 1 x 1 */
  cudnnTensorDescriptor_t bias_desc[PF_MODEL_MAX_LAYERS]; /* 1 x s[i+1] x 1 x 1 */
  /* device parameters, gradients and Adam state, shaped like m->w / m->b */
  float *w[PF_MODEL_MAX_LAYERS], *b[PF_MODEL_MAX_LAYERS];
  float *gw[PF_MODEL_MAX_LAYERS], *gb[PF_MODEL_MAX_LAYERS];
  float *mw[PF_MODEL_MAX_LAYERS], *vw[PF_MODEL_MAX_LAYERS];
  float *mb[PF_MODEL_MAX_LAYERS], *vb[PF_MODEL_MAX_LAYERS];
  /* device batch buffers for cap rows */
  float *xb;
  int32_t *yb;
  float *z[PF_MODEL_MAX_LAYERS], *r[PF_MODEL_MAX_LAYERS], *a[PF_MODEL_MAX_LAYERS];
  void *reserve[PF_MODEL_MAX_LAYERS]; /* dropout masks of the hidden layers */
  size_t reserve_cap[PF_MODEL_MAX_LAYERS], reserve_use[PF_MODEL_MAX_LAYERS];
  float *d0, *d1, *d2; /* cap x wmax: gradients while walking back */
  float *ones;         /* cap ones: bias gradients as a gemv */
  /* host staging for cap rows */
  float *h_x, *h_p;
  int32_t *h_y;
  size_t *perm, perm_n;
  float *probe_grad;    /* pf_gpu_trainer_dropout_probe: host copy of the gradient at */
  uint32_t probe_layer; /* this hidden layer's ReLU output, taken during backward() */
  char err[PF_GPU_ERR];
};

/* ---- errors ---- */

/* "name: reason" from the stringified call, cut at its '('. */
static int gfail(pf_gpu_trainer *t, const char *call, const char *why) {
  const char *paren = strchr(call, '(');
  int n = paren ? (int)(paren - call) : (int)strlen(call);
  set_msg(t->err, sizeof t->err, "%.*s: %s", n, call, why ? why : "unknown error");
  return PF_EGPU;
}

#define CK_CUDA(t, call)                                                        \
  do {                                                                          \
    cudaError_t e_ = (call);                                                    \
    if (e_ != cudaSuccess) return gfail((t), #call, cudaGetErrorString(e_));    \
  } while (0)
#define CK_BLAS(t, call)                                                        \
  do {                                                                          \
    cublasStatus_t s_ = (call);                                                 \
    if (s_ != CUBLAS_STATUS_SUCCESS) return gfail((t), #call, cublasGetStatusString(s_)); \
  } while (0)
#define CK_DNN(t, call)                                                         \
  do {                                                                          \
    cudnnStatus_t s_ = (call);                                                  \
    if (s_ != CUDNN_STATUS_SUCCESS) return gfail((t), #call, cudnnGetErrorString(s_)); \
  } while (0)
#define CK(call)                                                                \
  do {                                                                          \
    int rc_ = (call);                                                           \
    if (rc_ != PF_OK) return rc_;                                               \
  } while (0)

int pf_gpu_available(char *why, size_t whylen) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    const char *hint = e == cudaErrorInsufficientDriver ? " (no NVIDIA driver, or one older than the runtime)"
                       : e == cudaErrorNoDevice           ? " (no NVIDIA GPU)"
                                                          : "";
    set_msg(why, whylen, "no usable CUDA device%s: %s", hint, cudaGetErrorString(e));
    (void)cudaGetLastError(); /* clear it */
    return 0;
  }
  if (count < 1) {
    set_msg(why, whylen, "no CUDA device");
    return 0;
  }
  set_msg(why, whylen, "%d CUDA device%s, cuDNN %zu", count, count == 1 ? "" : "s", cudnnGetVersion());
  return 1;
}

const char *pf_gpu_trainer_error(const pf_gpu_trainer *t) { return t ? t->err : "no trainer"; }

/* ---- device memory ---- */

static int dalloc(pf_gpu_trainer *t, void **p, size_t rows, size_t cols, size_t elem) {
  if (cols && rows > SIZE_MAX / elem / cols) return PF_ENOMEM;
  size_t bytes = rows * cols * elem;
  CK_CUDA(t, cudaMalloc(p, bytes ? bytes : elem));
  CK_CUDA(t, cudaMemset(*p, 0, bytes ? bytes : elem));
  return PF_OK;
}

static void dfree(void **p) {
  if (*p) (void)cudaFree(*p);
  *p = NULL;
}

static void batch_free(pf_gpu_trainer *t) {
  dfree((void **)&t->xb);
  dfree((void **)&t->yb);
  dfree((void **)&t->d0);
  dfree((void **)&t->d1);
  dfree((void **)&t->d2);
  dfree((void **)&t->ones);
  for (int i = 0; i < PF_MODEL_MAX_LAYERS; i++) {
    dfree((void **)&t->z[i]);
    dfree((void **)&t->r[i]);
    dfree((void **)&t->a[i]);
    dfree(&t->reserve[i]);
    t->reserve_cap[i] = t->reserve_use[i] = 0;
  }
  free(t->h_x);
  free(t->h_p);
  free(t->h_y);
  t->h_x = t->h_p = NULL;
  t->h_y = NULL;
  t->cap = 0;
  t->cur_rows = 0;
}

/* Shapes the per-row tensor descriptors for rows rows and sizes the dropout
 * reserve those rows use. */
static int set_rows(pf_gpu_trainer *t, size_t rows) {
  if ((int)rows == t->cur_rows) return PF_OK;
  const pf_model *m = t->m;
  for (uint32_t i = 0; i < t->L; i++) {
    CK_DNN(t, cudnnSetTensor4dDescriptor(t->out_desc[i], CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)rows,
                                         (int)m->sizes[i + 1], 1, 1));
    if (t->drop && i + 1 < t->L) {
      CK_DNN(t, cudnnDropoutGetReserveSpaceSize(t->out_desc[i], &t->reserve_use[i]));
      if (t->reserve_use[i] > t->reserve_cap[i]) {
        t->cur_rows = 0;
        return gfail(t, "cudnnDropoutGetReserveSpaceSize", "reserve larger than allocated");
      }
    }
  }
  t->cur_rows = (int)rows;
  return PF_OK;
}

/* Batch buffers for at least rows rows (on failure the trainer holds none
 * and the next call tries again). */
static int ensure_rows(pf_gpu_trainer *t, size_t rows) {
  if (rows <= t->cap) return PF_OK;
  if (rows > (size_t)INT_MAX) return PF_ELIMIT;
  batch_free(t);
  const pf_model *m = t->m;
  size_t in = m->sizes[0], c = m->sizes[t->L];
  CK(dalloc(t, (void **)&t->xb, rows, in, sizeof(float)));
  CK(dalloc(t, (void **)&t->yb, rows, 1, sizeof(int32_t)));
  CK(dalloc(t, (void **)&t->d0, rows, t->wmax, sizeof(float)));
  CK(dalloc(t, (void **)&t->d1, rows, t->wmax, sizeof(float)));
  CK(dalloc(t, (void **)&t->d2, rows, t->wmax, sizeof(float)));
  CK(dalloc(t, (void **)&t->ones, rows, 1, sizeof(float)));
  for (uint32_t i = 0; i < t->L; i++) {
    size_t no = m->sizes[i + 1];
    CK(dalloc(t, (void **)&t->z[i], rows, no, sizeof(float)));
    CK(dalloc(t, (void **)&t->r[i], rows, no, sizeof(float)));
    if (t->drop && i + 1 < t->L) {
      CK(dalloc(t, (void **)&t->a[i], rows, no, sizeof(float)));
      CK_DNN(t, cudnnSetTensor4dDescriptor(t->out_desc[i], CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)rows, (int)no,
                                           1, 1));
      CK_DNN(t, cudnnDropoutGetReserveSpaceSize(t->out_desc[i], &t->reserve_cap[i]));
      CK(dalloc(t, &t->reserve[i], t->reserve_cap[i], 1, 1));
    }
  }
  t->h_x = malloc(rows * in * sizeof(float));
  t->h_p = malloc(rows * c * sizeof(float));
  t->h_y = malloc(rows * sizeof(int32_t));
  float *ones = malloc(rows * sizeof(float));
  if (!t->h_x || !t->h_p || !t->h_y || !ones) {
    free(ones);
    return PF_ENOMEM;
  }
  for (size_t k = 0; k < rows; k++) ones[k] = 1.0f;
  cudaError_t e = cudaMemcpy(t->ones, ones, rows * sizeof(float), cudaMemcpyHostToDevice);
  free(ones);
  if (e != cudaSuccess) return gfail(t, "cudaMemcpy(ones)", cudaGetErrorString(e));
  t->cap = rows;
  t->cur_rows = 0;
  return PF_OK;
}

/* ---- the trainer ---- */

static int upload_weights(pf_gpu_trainer *t) {
  const pf_model *m = t->m;
  for (uint32_t i = 0; i < t->L; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    CK_CUDA(t, cudaMemcpy(t->w[i], m->w[i], fi * fo * sizeof(float), cudaMemcpyHostToDevice));
    CK_CUDA(t, cudaMemcpy(t->b[i], m->b[i], fo * sizeof(float), cudaMemcpyHostToDevice));
  }
  return PF_OK;
}

static int download_weights(pf_gpu_trainer *t) {
  pf_model *m = t->m;
  for (uint32_t i = 0; i < t->L; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    CK_CUDA(t, cudaMemcpy(m->w[i], t->w[i], fi * fo * sizeof(float), cudaMemcpyDeviceToHost));
    CK_CUDA(t, cudaMemcpy(m->b[i], t->b[i], fo * sizeof(float), cudaMemcpyDeviceToHost));
  }
  return PF_OK;
}

static int trainer_setup(pf_gpu_trainer *t) {
  const pf_model *m = t->m;
  CK_CUDA(t, cudaSetDevice(0));
  CK_BLAS(t, cublasCreate(&t->blas));
  CK_DNN(t, cudnnCreate(&t->dnn));
  CK_DNN(t, cudnnCreateActivationDescriptor(&t->relu));
  CK_DNN(t, cudnnSetActivationDescriptor(t->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  if (t->o.dropout > 0) {
    size_t states = 0;
    CK_DNN(t, cudnnCreateDropoutDescriptor(&t->drop));
    CK_DNN(t, cudnnDropoutGetStatesSize(t->dnn, &states));
    CK(dalloc(t, &t->drop_states, states, 1, 1));
    CK_DNN(t, cudnnSetDropoutDescriptor(t->drop, t->dnn, (float)t->o.dropout, t->drop_states, states,
                                        (unsigned long long)t->o.seed));
  }
  for (uint32_t i = 0; i < t->L; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    CK_DNN(t, cudnnCreateTensorDescriptor(&t->out_desc[i]));
    CK_DNN(t, cudnnCreateTensorDescriptor(&t->bias_desc[i]));
    CK_DNN(t, cudnnSetTensor4dDescriptor(t->bias_desc[i], CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, (int)fo, 1, 1));
    float **wl[4] = {&t->w[i], &t->gw[i], &t->mw[i], &t->vw[i]};
    float **bl[4] = {&t->b[i], &t->gb[i], &t->mb[i], &t->vb[i]};
    for (int k = 0; k < 4; k++) {
      CK(dalloc(t, (void **)wl[k], fi, fo, sizeof(float)));
      CK(dalloc(t, (void **)bl[k], 1, fo, sizeof(float)));
    }
  }
  size_t rows = t->o.batch > PF_GPU_EVAL_ROWS ? t->o.batch : PF_GPU_EVAL_ROWS;
  CK(ensure_rows(t, rows));
  return upload_weights(t);
}

int pf_gpu_trainer_new(pf_model *m, const pf_train_opts *o, int keep_weights, pf_gpu_trainer **out, char *err,
                       size_t errlen) {
  set_msg(err, errlen, "%s", "");
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!pf_train_model_valid(m) || !pf_train_opts_valid(o)) {
    set_msg(err, errlen, "bad model or options");
    return PF_EINVAL;
  }
  if (!keep_weights) {
    /* the CPU reference initialises the weights, so both paths start alike */
    pf_trainer *cpu = NULL;
    int rc = pf_trainer_new(m, o, 0, &cpu);
    pf_trainer_free(&cpu);
    if (rc != PF_OK) {
      set_msg(err, errlen, "initialising the weights: %s", pf_strerror(rc));
      return rc;
    }
  }
  pf_gpu_trainer *t = calloc(1, sizeof *t);
  if (!t) return PF_ENOMEM;
  t->m = m;
  t->o = *o;
  t->L = m->n_layers;
  t->shuffle = o->seed ^ 0x5ca1ab1e0ddba11ull;
  for (uint32_t i = 1; i <= t->L; i++)
    if (m->sizes[i] > t->wmax) t->wmax = m->sizes[i];
  int rc = trainer_setup(t);
  if (rc != PF_OK) {
    set_msg(err, errlen, "%s", t->err[0] ? t->err : pf_strerror(rc));
    pf_gpu_trainer_free(&t);
    return rc;
  }
  *out = t;
  return PF_OK;
}

void pf_gpu_trainer_free(pf_gpu_trainer **tp) {
  if (!tp || !*tp) return;
  pf_gpu_trainer *t = *tp;
  batch_free(t);
  for (int i = 0; i < PF_MODEL_MAX_LAYERS; i++) {
    float **p[8] = {&t->w[i], &t->b[i], &t->gw[i], &t->gb[i], &t->mw[i], &t->vw[i], &t->mb[i], &t->vb[i]};
    for (int k = 0; k < 8; k++) dfree((void **)p[k]);
    if (t->out_desc[i]) (void)cudnnDestroyTensorDescriptor(t->out_desc[i]);
    if (t->bias_desc[i]) (void)cudnnDestroyTensorDescriptor(t->bias_desc[i]);
  }
  if (t->drop) (void)cudnnDestroyDropoutDescriptor(t->drop);
  dfree(&t->drop_states);
  if (t->relu) (void)cudnnDestroyActivationDescriptor(t->relu);
  if (t->dnn) (void)cudnnDestroy(t->dnn);
  if (t->blas) (void)cublasDestroy(t->blas);
  free(t->perm);
  free(t);
  *tp = NULL;
}

/* ---- forward, backward, Adam ---- */

/* The input of layer i in the last forward pass. */
static const float *layer_in(const pf_gpu_trainer *t, uint32_t i, int dropout_on) {
  if (i == 0) return t->xb;
  return dropout_on ? t->a[i - 1] : t->r[i - 1];
}

/* Forward pass of rows rows of xb; r[L-1] ends as probabilities. */
static int forward(pf_gpu_trainer *t, size_t rows, int dropout_on) {
  const pf_model *m = t->m;
  const float one = 1.0f, zero = 0.0f;
  int B = (int)rows;
  CK(set_rows(t, rows));
  for (uint32_t i = 0; i < t->L; i++) {
    int ni = (int)m->sizes[i], no = (int)m->sizes[i + 1];
    /* z^T (no x B) = W^T (no x ni, ld no) . in^T (ni x B, ld ni) */
    CK_BLAS(t, cublasSgemm(t->blas, CUBLAS_OP_N, CUBLAS_OP_N, no, B, ni, &one, t->w[i], no, layer_in(t, i, dropout_on),
                           ni, &zero, t->z[i], no));
    CK_DNN(t, cudnnAddTensor(t->dnn, &one, t->bias_desc[i], t->b[i], &one, t->out_desc[i], t->z[i]));
    if (i + 1 < t->L) {
      CK_DNN(t, cudnnActivationForward(t->dnn, t->relu, &one, t->out_desc[i], t->z[i], &zero, t->out_desc[i],
                                       t->r[i]));
      if (dropout_on)
        CK_DNN(t, cudnnDropoutForward(t->dnn, t->drop, t->out_desc[i], t->r[i], t->out_desc[i], t->a[i],
                                      t->reserve[i], t->reserve_use[i]));
    } else {
      CK_DNN(t, cudnnSoftmaxForward(t->dnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                    t->out_desc[i], t->z[i], &zero, t->out_desc[i], t->r[i]));
    }
  }
  return PF_OK;
}

/* Gradients of the mean batch loss into gw / gb after forward() (labels in yb). */
static int backward(pf_gpu_trainer *t, size_t rows, int dropout_on) {
  const pf_model *m = t->m;
  const float one = 1.0f, zero = 0.0f;
  int B = (int)rows;
  float *d = t->d0, *dn = t->d1, *dt = t->d2;
  CK_CUDA(t, pf_gpu_xent_grad(t->r[t->L - 1], t->yb, d, B, (int)m->sizes[t->L]));
  for (uint32_t ii = t->L; ii-- > 0;) {
    int ni = (int)m->sizes[ii], no = (int)m->sizes[ii + 1];
    /* dW^T (no x ni) = d^T (no x B, ld no) . in (B x ni: in^T stored ni x B, ld ni) */
    CK_BLAS(t, cublasSgemm(t->blas, CUBLAS_OP_N, CUBLAS_OP_T, no, ni, B, &one, d, no, layer_in(t, ii, dropout_on),
                           ni, &zero, t->gw[ii], no));
    /* db (no) = d^T (no x B) . ones (B) */
    CK_BLAS(t, cublasSgemv(t->blas, CUBLAS_OP_N, no, B, &one, d, no, t->ones, 1, &zero, t->gb[ii], 1));
    if (ii == 0) break;
    /* dn^T (ni x B) = W (ni x no: W^T stored no x ni, ld no) . d^T (no x B, ld no) */
    CK_BLAS(t, cublasSgemm(t->blas, CUBLAS_OP_T, CUBLAS_OP_N, ni, B, no, &one, t->w[ii], no, d, no, &zero, dn, ni));
    cudnnTensorDescriptor_t hd = t->out_desc[ii - 1];
    float *src = dn;
    if (dropout_on) {
      CK_DNN(t, cudnnDropoutBackward(t->dnn, t->drop, hd, dn, hd, dt, t->reserve[ii - 1], t->reserve_use[ii - 1]));
      src = dt;
    }
    if (t->probe_grad && ii - 1 == t->probe_layer) /* src: the gradient at r[ii-1], B x ni */
      CK_CUDA(t, cudaMemcpy(t->probe_grad, src, (size_t)B * (size_t)ni * sizeof(float), cudaMemcpyDeviceToHost));
    float *dst = src == dn ? dt : dn;
    CK_DNN(t, cudnnActivationBackward(t->dnn, t->relu, &one, hd, t->r[ii - 1], hd, src, hd, t->z[ii - 1], &zero, hd,
                                      dst));
    /* dst is the next d; the other two are free */
    float *old = d;
    d = dst;
    dn = src;
    dt = old;
  }
  return PF_OK;
}

static int adam_step(pf_gpu_trainer *t) {
  const pf_model *m = t->m;
  t->step++;
  double b1t = pow(t->o.beta1, (double)t->step), b2t = pow(t->o.beta2, (double)t->step);
  float lr_t = (float)(t->o.lr * sqrt(1.0 - b2t) / (1.0 - b1t));
  float om1 = (float)(1.0 - t->o.beta1), om2 = (float)(1.0 - t->o.beta2), eps = (float)t->o.eps;
  for (uint32_t i = 0; i < t->L; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    CK_CUDA(t, pf_gpu_adam(t->w[i], t->mw[i], t->vw[i], t->gw[i], fi * fo, lr_t, om1, om2, eps));
    CK_CUDA(t, pf_gpu_adam(t->b[i], t->mb[i], t->vb[i], t->gb[i], fo, lr_t, om1, om2, eps));
  }
  return PF_OK;
}

/* Copies the probabilities of the last forward pass back and adds the
 * clamped cross-entropy and the correct arg-maxes of labels y. */
static int score(pf_gpu_trainer *t, const int32_t *y, size_t rows, double *loss_sum, size_t *correct) {
  size_t c = t->m->sizes[t->L];
  CK_CUDA(t, cudaMemcpy(t->h_p, t->r[t->L - 1], rows * c * sizeof(float), cudaMemcpyDeviceToHost));
  pf_fit_score_batch(t->h_p, y, rows, c, loss_sum, correct);
  return PF_OK;
}

/* Copies rows rows (inputs x, labels y, both contiguous) to the device. */
static int upload_batch(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t rows, int labels) {
  CK_CUDA(t, cudaMemcpy(t->xb, x, rows * t->m->sizes[0] * sizeof(float), cudaMemcpyHostToDevice));
  if (labels) CK_CUDA(t, cudaMemcpy(t->yb, y, rows * sizeof(int32_t), cudaMemcpyHostToDevice));
  return PF_OK;
}

/* forward, score, backward, Adam on the uploaded batch (labels y on the host too) */
static int train_batch(pf_gpu_trainer *t, const int32_t *y, size_t rows, int dropout_on, double *loss_sum,
                       size_t *correct) {
  CK(forward(t, rows, dropout_on));
  CK(score(t, y, rows, loss_sum, correct));
  CK(backward(t, rows, dropout_on));
  return adam_step(t);
}

/* ---- the public calls ---- */

/* The row order's stream: splitmix64 over t->shuffle. */
static uint64_t shuffle_next(void *s) { return pf_fit_splitmix64(s); }

/* The epoch over rows in t->perm[0..n) order. */
static int run_epoch(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  size_t in = t->m->sizes[0], B = t->o.batch;
  CK(ensure_rows(t, B));
  int dropout_on = t->drop != NULL;
  double loss_sum = 0;
  size_t correct = 0;
  for (size_t start = 0; start < n; start += B) {
    size_t nb = n - start < B ? n - start : B;
    for (size_t r = 0; r < nb; r++) {
      size_t src = t->perm[start + r];
      memcpy(t->h_x + r * in, x + src * in, in * sizeof(float));
      t->h_y[r] = y[src];
    }
    CK(upload_batch(t, t->h_x, t->h_y, nb, 1));
    CK(train_batch(t, t->h_y, nb, dropout_on, &loss_sum, &correct));
  }
  CK(download_weights(t));
  if (loss) *loss = loss_sum / (double)n;
  if (acc) *acc = (double)correct / (double)n;
  return PF_OK;
}

/* t->perm with room for n rows; PF_EINVAL for bad arguments or labels. */
static int epoch_prepare(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n) {
  if (!t || !x || !y || n == 0) return PF_EINVAL;
  t->err[0] = '\0';
  if (!pf_train_labels_valid(y, n, t->m->sizes[t->L])) return PF_EINVAL;
  if (n > t->perm_n) {
    size_t *p = realloc(t->perm, n * sizeof *p);
    if (!p) return PF_ENOMEM;
    t->perm = p;
    t->perm_n = n;
  }
  return PF_OK;
}

int pf_gpu_trainer_epoch(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  CK(epoch_prepare(t, x, y, n));
  pf_fit_shuffle(t->perm, n, shuffle_next, &t->shuffle);
  return run_epoch(t, x, y, n, loss, acc);
}

int pf_gpu_trainer_epoch_order(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, const size_t *order,
                               double *loss, double *acc) {
  if (!order) return PF_EINVAL;
  CK(epoch_prepare(t, x, y, n));
  /* a permutation: every row once (t->perm marks the rows seen) */
  for (size_t r = 0; r < n; r++) t->perm[r] = 0;
  for (size_t r = 0; r < n; r++) {
    if (order[r] >= n || t->perm[order[r]]) return PF_EINVAL;
    t->perm[order[r]] = 1;
  }
  memcpy(t->perm, order, n * sizeof *order);
  return run_epoch(t, x, y, n, loss, acc);
}

/* Checks and uploads one batch of n rows for a pass without an update. */
static int pass_prepare(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on) {
  if (!t || !x || !y || n == 0 || n > t->cap || (dropout_on && !t->drop)) return PF_EINVAL;
  t->err[0] = '\0';
  if (!pf_train_labels_valid(y, n, t->m->sizes[t->L])) return PF_EINVAL;
  return upload_batch(t, x, y, n, 1);
}

int pf_gpu_trainer_gradients(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on,
                             double *loss, float **grad_w, float **grad_b) {
  if (!grad_w || !grad_b) return PF_EINVAL;
  CK(pass_prepare(t, x, y, n, dropout_on));
  double loss_sum = 0;
  size_t correct = 0;
  CK(forward(t, n, dropout_on));
  CK(score(t, y, n, &loss_sum, &correct));
  CK(backward(t, n, dropout_on));
  const pf_model *m = t->m;
  for (uint32_t i = 0; i < t->L; i++) {
    size_t fi = m->sizes[i], fo = m->sizes[i + 1];
    CK_CUDA(t, cudaMemcpy(grad_w[i], t->gw[i], fi * fo * sizeof(float), cudaMemcpyDeviceToHost));
    CK_CUDA(t, cudaMemcpy(grad_b[i], t->gb[i], fo * sizeof(float), cudaMemcpyDeviceToHost));
  }
  if (loss) *loss = loss_sum / (double)n;
  return PF_OK;
}

int pf_gpu_trainer_dropout_probe(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, uint32_t layer,
                                 float *relu, float *dropped, float *grad) {
  if (!t || !relu || !dropped || !grad || layer + 1 >= t->L) return PF_EINVAL;
  CK(pass_prepare(t, x, y, n, 1));
  CK(forward(t, n, 1));
  t->probe_grad = grad;
  t->probe_layer = layer;
  int rc = backward(t, n, 1);
  t->probe_grad = NULL;
  CK(rc);
  size_t bytes = n * t->m->sizes[layer + 1] * sizeof(float);
  CK_CUDA(t, cudaMemcpy(relu, t->r[layer], bytes, cudaMemcpyDeviceToHost));
  CK_CUDA(t, cudaMemcpy(dropped, t->a[layer], bytes, cudaMemcpyDeviceToHost));
  return PF_OK;
}

int pf_gpu_trainer_step(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss) {
  if (!t || !x || !y || n == 0) return PF_EINVAL;
  t->err[0] = '\0';
  if (!pf_train_labels_valid(y, n, t->m->sizes[t->L])) return PF_EINVAL;
  CK(ensure_rows(t, n));
  double loss_sum = 0;
  size_t correct = 0;
  CK(upload_batch(t, x, y, n, 1));
  CK(train_batch(t, y, n, 0, &loss_sum, &correct));
  CK(download_weights(t));
  if (loss) *loss = loss_sum / (double)n;
  return PF_OK;
}

int pf_gpu_trainer_evaluate(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss,
                            double *acc) {
  if (!t || !x || !y || n == 0) return PF_EINVAL;
  t->err[0] = '\0';
  if (!pf_train_labels_valid(y, n, t->m->sizes[t->L])) return PF_EINVAL;
  size_t in = t->m->sizes[0], rows = t->cap;
  double loss_sum = 0;
  size_t correct = 0;
  for (size_t start = 0; start < n; start += rows) {
    size_t nb = n - start < rows ? n - start : rows;
    CK(upload_batch(t, x + start * in, NULL, nb, 0));
    CK(forward(t, nb, 0));
    CK(score(t, y + start, nb, &loss_sum, &correct));
  }
  if (loss) *loss = loss_sum / (double)n;
  if (acc) *acc = (double)correct / (double)n;
  return PF_OK;
}

#endif /* PF_HAVE_GPU */
