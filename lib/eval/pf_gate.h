/* pf_gate: owns retrain's promotion gate: whether a challenger may serve
 * in place of the champion.
 * Defines the figures each model is judged on (ROC AUC, FPR at its own
 * threshold, TPR at 1% FPR), the floor on samples per class before
 * training, where the fresh window starts (after both models' training
 * data ended), the verdict with its one-line reason, and the verdict as
 * the JSON kept in the challenger's registry entry.
 * Called by `pefleet retrain`. */
#ifndef PF_GATE_H
#define PF_GATE_H

#include <stddef.h>

#include "pf_dataset.h"
#include "pf_date.h"
#include "pf_db.h"
#include "pf_model.h"
#include "pf_trainset.h"

typedef struct {
  int ok;                /* scored (two classes, the data set's width) */
  double auc, fpr, tpr1; /* NaN when not scored or undefined */
} pf_gate_fig;

typedef struct {
  double min_samples;    /* never promote a model trained on fewer samples */
  double auc_tol;        /* ROC AUC the challenger may lose */
  double fpr_tol;        /* FPR the challenger may gain */
} pf_gate_opts;

typedef enum { PF_GATE_PROMOTE = 0, PF_GATE_KEEP = 1, PF_GATE_FLOOR = 2 } pf_gate_decision;

typedef struct {
  pf_gate_decision decision;
  const char *decision_name; /* "promoted", "kept", "not promoted" */
  char why[1024];            /* the reason, one line */
  pf_gate_fig tc, tk;        /* challenger and champion on the test split */
  pf_gate_fig fc, fk;        /* ... on the fresh window */
  int fresh_used;            /* the fresh window held both classes and both models scored there */
  char day[PF_DATE_LEN];     /* the fresh window's start, formatted (set when the champion scored) */
} pf_gate_verdict;

/* 1 when each of the first ncls classes has at least min_per_class rows in
 * the training split of t and at least one in validation and test. */
int pf_gate_enough(const pf_trainset *t, int ncls, double min_per_class);

/* m's figures on d at its own threshold (ok = 0 when m cannot score d). */
pf_gate_fig pf_gate_figures(const pf_model *m, const pf_dataset *d);

/* Where the fresh window starts: the newest end of the training data of
 * the challenger (its folder ch_dir's stats.json "split".data_end) and of
 * the champion champ_v (NULL: none; its registered stats, or else its
 * registration time). 0 when neither says. */
long long pf_gate_fresh_after(pf_db *db, const char *champ_v, const char *ch_dir);

/* Judges the challenger ch (trained on samples samples) against the
 * champion champ (version champ_v; NULL: none) on the test split and the
 * fresh window (the samples first seen after `after`). PF_OK with *v
 * filled; PF_EINVAL when the challenger cannot be scored on test. */
int pf_gate_judge(const pf_gate_opts *o, const pf_model *ch, const char *champ_v, const pf_model *champ,
                  const pf_dataset *test, const pf_dataset *fresh, long long after, long long samples,
                  pf_gate_verdict *v);

/* The verdict as the registry keeps it (unformatted JSON, malloc'd; NULL
 * when out of memory): {"decision", "reason", "champion", "decided",
 * "test": {"rows", "challenger_roc_auc", "champion_roc_auc",
 * "challenger_fpr", "champion_fpr", "challenger_tpr_at_fpr_0.01",
 * "champion_tpr_at_fpr_0.01"}, "fresh": {"after", the same} (with a
 * champion)}; figures not known are null. */
char *pf_gate_json(const pf_gate_verdict *v, const char *champ_v, int has_champ, size_t test_rows, size_t fresh_rows,
                   long long after, long long decided);

#endif
