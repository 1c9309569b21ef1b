/* pf_train_gpu_kernels: owns the few CUDA kernels cuBLAS and cuDNN lack.
 * Defines C-callable launchers: the cross-entropy gradient at the logits
 * and the fused Adam update. Each returns the launch's cudaError_t.
 * Called by pf_train_gpu.c only. */
#ifndef PF_TRAIN_GPU_KERNELS_H
#define PF_TRAIN_GPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* d (B x c, row-major) = (p - onehot(y)) / B. */
cudaError_t pf_gpu_xent_grad(const float *p, const int32_t *y, float *d, int B, int c);

/* TF's ApplyAdam over n floats: m += (g - m) om1; v += (g^2 - v) om2;
 * w -= lr_t m / (sqrt(v) + eps). */
cudaError_t pf_gpu_adam(float *w, float *m, float *v, const float *g, size_t n, float lr_t, float om1, float om2,
                        float eps);

#ifdef __cplusplus
}
#endif

#endif
