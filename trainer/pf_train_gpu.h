/* pf_train_gpu: owns training of a pf_model on an NVIDIA GPU (CUDA, cuBLAS, cuDNN).
 * Defines the GPU trainer, with the same recipe and calls as pf_train.h
 * (dense layers with cublasSgemm, bias with cudnnAddTensor, ReLU, dropout
 * and softmax with cuDNN, the cross-entropy gradient and Adam as kernels).
 * Called through pf_fit (pf_fit_gpu: `pefleet train --device gpu|auto`) and
 * by tests/unit/test_train_gpu.c, which checks one step against the CPU
 * reference (pf_train.h).
 *
 * Built for real only with -DPF_HAVE_GPU (the Makefile sets it when it finds
 * nvcc and cuDNN); otherwise every call is a stub: pf_gpu_available() says
 * the build has no GPU path and the others return PF_EGPU. */
#ifndef PF_TRAIN_GPU_H
#define PF_TRAIN_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "pf_fit.h"
#include "pf_model.h"
#include "pf_train.h"

/* 1 when this build has the GPU path and at least one CUDA device answers;
 * else 0 with the reason in why (e.g. "no CUDA driver", "built without
 * CUDA"). Safe on machines without a driver. why may be NULL. */
int pf_gpu_available(char *why, size_t whylen);

typedef struct pf_gpu_trainer pf_gpu_trainer;

/* As pf_trainer_new: initialises m's weights exactly as the CPU trainer does
 * (Glorot uniform from o->seed, zero biases) unless keep_weights, then copies
 * them to device 0. The trainer borrows m. Returns PF_OK, PF_EINVAL,
 * PF_ENOMEM or PF_EGPU (reason in err). */
int pf_gpu_trainer_new(pf_model *m, const pf_train_opts *o, int keep_weights, pf_gpu_trainer **out, char *err,
                       size_t errlen);
void pf_gpu_trainer_free(pf_gpu_trainer **t);

/* The reason of the last failure of t ("" if none). */
const char *pf_gpu_trainer_error(const pf_gpu_trainer *t);

/* As pf_trainer_epoch: shuffled minibatches (its own shuffle stream, so the
 * row order differs from the CPU's), cuDNN dropout, one Adam step per
 * batch; m's weights are brought up to date when it returns PF_OK. */
int pf_gpu_trainer_epoch(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc);

/* pf_gpu_trainer_epoch with the rows in the given order (a permutation of
 * 0..n-1, e.g. pf_trainer_last_order of the CPU trainer), so both paths
 * see the same batches; PF_EINVAL when order is not a permutation. */
int pf_gpu_trainer_epoch_order(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, const size_t *order,
                               double *loss, double *acc);

/* As pf_trainer_gradients: loss and gradients of one batch of n rows (at
 * most the batch size or 256, whichever is larger), no update. dropout_on
 * needs a trainer made with dropout > 0 (else PF_EINVAL). */
int pf_gpu_trainer_gradients(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on,
                             double *loss, float **grad_w, float **grad_b);

/* For the dropout test: one forward and backward pass with dropout on (no
 * update) over n rows, copying hidden layer `layer`'s ReLU output into
 * relu, its output after dropout into dropped and the gradient of the loss
 * at the ReLU output (what dropout lets back) into grad, each n x
 * m->sizes[layer + 1] row-major. PF_EINVAL without dropout or for the last
 * layer. */
int pf_gpu_trainer_dropout_probe(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, uint32_t layer,
                                 float *relu, float *dropped, float *grad);

/* As pf_model_evaluate, with the trainer's current weights on the device. */
int pf_gpu_trainer_evaluate(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss,
                            double *acc);

/* One batch of n rows in the given order, dropout off: loss (mean
 * cross-entropy before the update), gradients, one Adam step, weights copied
 * back to m. For the parity test against pf_trainer_epoch with dropout 0 and
 * batch >= n. */
int pf_gpu_trainer_step(pf_gpu_trainer *t, const float *x, const int32_t *y, size_t n, double *loss);

/* This trainer behind pf_fit's interface (trainer/pf_fit_gpu.c): make is
 * pf_gpu_trainer_new, epoch pf_gpu_trainer_epoch, evaluate
 * pf_gpu_trainer_evaluate, error pf_gpu_trainer_error. */
extern const pf_fit_trainer pf_fit_gpu;

#endif
