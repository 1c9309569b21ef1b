/* pf_fit_util: owns what the CPU trainer (pf_train) and the GPU trainer
 * (trainer/pf_train_gpu) do alike outside the network itself.
 * Defines the scoring of a batch of softmax outputs (clamped cross-entropy
 * and correct arg-maxes), an epoch's seeded row order (Fisher-Yates over
 * any 64-bit generator) and splitmix64.
 * Called by pf_train.c and trainer/pf_train_gpu.c. */
#ifndef PF_FIT_UTIL_H
#define PF_FIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define PF_FIT_P_MIN 1e-7 /* Keras's epsilon for the cross-entropy clamp */

/* Adds the cross-entropy of B rows of probabilities p (B x c, row-major)
 * against labels y, each -log(clamp(p_true, 1e-7, 1 - 1e-7)) as Keras
 * reports it, to *loss_sum, and the rows whose arg-max (the first on a
 * tie) is the label to *correct. */
void pf_fit_score_batch(const float *p, const int32_t *y, size_t B, size_t c, double *loss_sum, size_t *correct);

/* splitmix64: advances *x and returns the next value (seeds the CPU's
 * xoshiro streams and is the GPU's shuffle stream). */
uint64_t pf_fit_splitmix64(uint64_t *x);

/* A generator of uniform 64-bit values; state is the caller's. */
typedef uint64_t (*pf_fit_next_fn)(void *state);

/* Writes a permutation of 0..n-1 to perm: the identity shuffled by
 * Fisher-Yates from the last row down, each index drawn without modulo
 * bias (values at or above the largest multiple of the bound are drawn
 * again) from next(state). */
void pf_fit_shuffle(size_t *perm, size_t n, pf_fit_next_fn next, void *state);

#endif
