/* pf_train: owns training of a pf_model on the CPU (the reference path).
 * Defines the seed's recipe as options (Adam lr 0.001, beta1 0.9, beta2
 * 0.999, eps 1e-7; batch 64; dropout 0.3 after every hidden layer;
 * Glorot-uniform weights, zero biases; softmax + categorical cross-entropy)
 * and one-epoch / evaluate / gradient calls. GEMMs go to OpenBLAS; bias,
 * ReLU, dropout, softmax and Adam are fused C loops. With the same seed and
 * thread count a run is repeatable bit for bit.
 * Called by `pefleet train` and the trainer tests; the cuDNN path is tested
 * against it. */
#ifndef PF_TRAIN_H
#define PF_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "pf_model.h"

typedef struct {
  double lr, beta1, beta2, eps; /* Adam */
  double dropout;               /* rate after each hidden layer (0 disables) */
  uint32_t batch;               /* minibatch size */
  uint64_t seed;                /* weight init, shuffling and dropout masks */
  int threads;                  /* OpenBLAS threads (0: leave as is) */
} pf_train_opts;

void pf_train_opts_default(pf_train_opts *o);

typedef struct pf_trainer pf_trainer;

/* Initialises m's weights (Glorot uniform from seed) and biases (zero)
 * unless keep_weights, and Adam's state. The trainer borrows m. */
int pf_trainer_new(pf_model *m, const pf_train_opts *o, int keep_weights, pf_trainer **out);
void pf_trainer_free(pf_trainer **t);

/* One epoch over n rows (x: n x inputs, y: class indices): shuffled
 * minibatches, dropout on, one Adam step per batch. Writes the mean
 * training loss and accuracy of the epoch (as Keras reports them: over
 * the batches, with dropout). */
int pf_trainer_epoch(pf_trainer *t, const float *x, const int32_t *y, size_t n, double *loss, double *acc);

/* The row order of t's last epoch (*n rows), NULL before the first: the
 * GPU parity test replays it (pf_gpu_trainer_epoch_order). */
const size_t *pf_trainer_last_order(const pf_trainer *t, size_t *n);

/* Mean cross-entropy loss and accuracy of the model on n rows, no dropout. */
int pf_model_evaluate(const pf_model *m, const float *x, const int32_t *y, size_t n, double *loss, double *acc);

/* Loss and its gradients for one batch, without an update (for the
 * finite-difference test): grad_w[i] / grad_b[i] shaped like m->w[i] /
 * m->b[i], caller-allocated. dropout_on uses the trainer's current mask
 * stream. */
int pf_trainer_gradients(pf_trainer *t, const float *x, const int32_t *y, size_t n, int dropout_on, double *loss,
                         float **grad_w, float **grad_b);

/* Checks shared with the GPU path: 1 when the options are in range (rates
 * in [0,1), positive lr and eps, batch >= 1), the model's sizes are within
 * the header's limits with every buffer present, and every label is a
 * class index below classes; else 0. */
int pf_train_opts_valid(const pf_train_opts *o);
int pf_train_model_valid(const pf_model *m);
int pf_train_labels_valid(const int32_t *y, size_t n, uint32_t classes);

#endif
