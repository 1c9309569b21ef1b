/* pf_fit: owns a training run of a pf_model, whatever computes it.
 * Defines the trainer interface (pf_fit_trainer: new, one epoch, evaluate,
 * error, free over an opaque state; the CPU reference pf_fit_cpu here, the
 * GPU's pf_fit_gpu in trainer/pf_train_gpu.h), the per-epoch history, and
 * pf_fit(): the epoch loop with early stopping on validation accuracy, the
 * weights of the epoch with the lowest validation loss kept, the baseline,
 * the version (the sha256 of the weights) and the parent set.
 * Called by cli/cmd_train.c (pefleet train, pefleet-trainer, retrain's child). */
#ifndef PF_FIT_H
#define PF_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "pf_model.h"
#include "pf_train.h"

/* n rows of a data set: x n x inputs (row-major), y class indices. */
typedef struct {
  const float *x;
  const int32_t *y;
  size_t n;
} pf_fit_rows;

/* The seed's per-epoch history (history.json): one entry per epoch run. */
typedef struct {
  size_t n, cap;
  double *loss, *acc, *val_loss, *val_acc, *seconds;
} pf_fit_history;

/* Room for cap epochs (at least 1); PF_OK or PF_ENOMEM (h then empty). */
int pf_fit_history_init(pf_fit_history *h, size_t cap);
/* Appends one epoch; ignored when h is full. */
void pf_fit_history_add(pf_fit_history *h, double loss, double acc, double val_loss, double val_acc, double seconds);
void pf_fit_history_free(pf_fit_history *h);

/* A trainer: what pf_fit needs of a device. make initialises m's weights
 * (Glorot from o->seed, as pf_trainer_new) unless keep_weights and borrows
 * m; epoch trains one shuffled epoch and leaves m holding the weights;
 * evaluate scores rows with the current weights and no dropout; error is
 * the reason of the last failure ("" if none). make writes its reason to
 * err on failure. */
typedef struct {
  const char *name; /* "cpu", "gpu" */
  int (*make)(pf_model *m, const pf_train_opts *o, int keep_weights, void **state, char *err, size_t errlen);
  int (*epoch)(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc);
  int (*evaluate)(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc);
  const char *(*error)(const void *state);
  void (*destroy)(void **state);
} pf_fit_trainer;

/* The CPU reference (pf_train.h). */
extern const pf_fit_trainer pf_fit_cpu;

/* Called after each epoch (e of epochs) with its figures and seconds. */
typedef void (*pf_fit_epoch_fn)(void *ctx, int e, int epochs, double loss, double acc, double val_loss,
                                double val_acc, double seconds);

typedef struct {
  pf_train_opts train;
  int epochs;               /* at most this many (>= 1) */
  int patience;             /* stop after this many epochs without a better validation accuracy (>= 1) */
  double min_delta;         /* "better": by more than this */
  int keep_weights;         /* start from m's weights (else Glorot from train.seed) */
  const float *baseline;    /* the explanations' baseline kept in the model (m->sizes[0] values), or NULL */
  const char *baseline_name;
  const char *parent;       /* the version the model is trained from, or NULL / "" */
  pf_fit_epoch_fn on_epoch; /* may be NULL */
  void *ctx;
} pf_fit_opts;

/* Defaults as `pefleet train`'s: pf_train_opts_default, 50 epochs,
 * patience 5, min_delta 1e-4, nothing else. */
void pf_fit_opts_default(pf_fit_opts *o);

/* Where a run failed. */
enum { PF_FIT_AT_NONE, PF_FIT_AT_SETUP, PF_FIT_AT_TRAINER, PF_FIT_AT_EPOCH };

typedef struct {
  pf_fit_history history; /* the caller frees it (pf_fit_history_free), also on failure */
  int best_epoch;         /* the epoch whose weights m holds (lowest validation loss) */
  double best_loss;       /* its validation loss */
  int stopped_early;      /* 1 when patience ran out before o->epochs */
  int failed_at;          /* PF_FIT_AT_* */
  int failed_epoch;       /* with PF_FIT_AT_EPOCH */
} pf_fit_result;

/* Trains m (its sizes, classes, threshold and schema set by the caller)
 * with trainer tr on train, scoring val after every epoch. On PF_OK m
 * holds the weights of the epoch with the lowest validation loss, the
 * baseline when given (one pf_model_set_baseline refuses is left out), its version (the first 12 hex digits of the sha256
 * of the encoded model, made with version and parent empty: the same
 * weights have the same version whatever their parent) and o->parent.
 * Returns PF_OK, PF_EINVAL, PF_ENOMEM or the trainer's code; the reason
 * (the trainer's, when it has one) goes to err and where it failed to
 * res->failed_at. */
int pf_fit(pf_model *m, const pf_fit_trainer *tr, const pf_fit_opts *o, const pf_fit_rows *train,
           const pf_fit_rows *val, pf_fit_result *res, char *err, size_t errlen);

#endif
