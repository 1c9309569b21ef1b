/* pf_train_gpu_kernels: the CUDA kernels of the GPU trainer (see
 * pf_train_gpu_kernels.h). Everything else runs in cuBLAS and cuDNN. */
#include "pf_train_gpu_kernels.h"

#define PF_GPU_THREADS 256

/* Grid-stride loop over the B x c gradient. */
__global__ static void xent_grad_kernel(const float *p, const int32_t *y, float *d, int B, int c) {
  size_t n = (size_t)B * (size_t)c;
  float invB = 1.0f / (float)B;
  for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (size_t)gridDim.x * blockDim.x) {
    size_t r = k / (size_t)c, j = k % (size_t)c;
    float v = p[k] * invB;
    if ((int32_t)j == y[r]) v -= invB;
    d[k] = v;
  }
}

/* Grid-stride loop: one element per step, the same float operations as the
 * CPU reference's adam_update. */
__global__ static void adam_kernel(float *w, float *m, float *v, const float *g, size_t n, float lr_t, float om1,
                                   float om2, float eps) {
  for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (size_t)gridDim.x * blockDim.x) {
    float gk = g[k];
    float mk = m[k] + (gk - m[k]) * om1;
    float vk = v[k] + (gk * gk - v[k]) * om2;
    m[k] = mk;
    v[k] = vk;
    w[k] -= lr_t * mk / (sqrtf(vk) + eps);
  }
}

static unsigned blocks_for(size_t n) {
  size_t b = (n + PF_GPU_THREADS - 1) / PF_GPU_THREADS;
  if (b < 1) b = 1;
  if (b > 65535) b = 65535; /* both kernels stride over the rest */
  return (unsigned)b;
}

extern "C" cudaError_t pf_gpu_xent_grad(const float *p, const int32_t *y, float *d, int B, int c) {
  size_t n = (size_t)B * (size_t)c;
  if (n == 0) return cudaSuccess;
  xent_grad_kernel<<<blocks_for(n), PF_GPU_THREADS>>>(p, y, d, B, c);
  return cudaGetLastError();
}

extern "C" cudaError_t pf_gpu_adam(float *w, float *m, float *v, const float *g, size_t n, float lr_t, float om1,
                                   float om2, float eps) {
  if (n == 0) return cudaSuccess;
  adam_kernel<<<blocks_for(n), PF_GPU_THREADS>>>(w, m, v, g, n, lr_t, om1, om2, eps);
  return cudaGetLastError();
}
