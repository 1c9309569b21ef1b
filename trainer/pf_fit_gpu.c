/* The GPU trainer (pf_train_gpu.h) behind pf_fit's trainer interface
 * (lib/model/pf_fit.h): pf_fit_gpu. In a build without CUDA its calls
 * are pf_train_gpu's stubs, so make fails with the reason. */
#include "pf_err.h"
#include "pf_fit.h"
#include "pf_train_gpu.h"

static int gpu_make(pf_model *m, const pf_train_opts *o, int keep_weights, void **state, char *err, size_t errlen) {
  pf_gpu_trainer *t = NULL;
  int rc = pf_gpu_trainer_new(m, o, keep_weights, &t, err, errlen);
  if (rc == PF_OK) *state = t;
  return rc;
}

static int gpu_epoch(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  return pf_gpu_trainer_epoch(state, x, y, n, loss, acc);
}

static int gpu_evaluate(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  return pf_gpu_trainer_evaluate(state, x, y, n, loss, acc);
}

static const char *gpu_error(const void *state) { return pf_gpu_trainer_error(state); }

static void gpu_destroy(void **state) {
  pf_gpu_trainer *t = state ? *state : NULL;
  pf_gpu_trainer_free(&t);
  if (state) *state = NULL;
}

const pf_fit_trainer pf_fit_gpu = {"gpu", gpu_make, gpu_epoch, gpu_evaluate, gpu_error, gpu_destroy};
