/* pf_trainset: owns the three splits of a training run, from a CSV or the
 * fleet.
 * Defines pf_trainset (train, validation and test rows, from the fleet with
 * their first-seen times and ranges, the rows per class of each split) and
 * its loaders: a seed-layout CSV shuffled 70/15/15 with a seed, or the
 * fleet's done samples split by sha256 (the stored split) or by first-seen
 * time; and the checks a training run makes before it starts. Errors come
 * back as a PF_E* code and a one-line reason (what the caller prints after
 * its own name).
 * Called by `pefleet train` and `pefleet retrain`. */
#ifndef PF_TRAINSET_H
#define PF_TRAINSET_H

#include <stddef.h>
#include <stdint.h>

#include "pf_dataset.h"
#include "pf_db.h"
#include "pf_timesplit.h"

#define PF_TRAINSET_CLASSES 16 /* as pf_classes */

typedef struct {
  size_t dim;                /* feature width of a row */
  const pf_classes *cls;     /* labels read as classes */
  uint64_t seed;             /* CSV: the shuffle before the 70/15/15 cut */
  int time_split;            /* fleet: by first-seen time, else by the stored split */
  long long test_since;      /* with time_split: test is from this time on (0: the newest 15%) */
  int keep_all;              /* fleet: keep every loaded sample in all */
} pf_trainset_opts;

typedef struct {
  int from_csv;
  pf_timed s[3];             /* train, validation, test; from a CSV only s[k].d is filled */
  pf_time_range r[3];        /* from the fleet: each split's first-seen range */
  long long count[3][PF_TRAINSET_CLASSES]; /* rows per class of each split */
  size_t skipped;            /* rows whose label is not a class (and, in a CSV, bad rows) */
  pf_timed all;              /* keep_all: every sample loaded from the fleet */
} pf_trainset;

/* Loads the CSV at path (pf_dataset_load_csv: its row messages go to
 * stderr) and splits it 70/15/15 after a shuffle with o->seed. Fills *t
 * (zeroed first); on error frees what it loaded. Returns PF_OK; the read's
 * code with "cannot read PATH: why"; PF_ENOENT with "no 'CLASS' row in
 * PATH (N rows read, M skipped): a model needs every class; nothing
 * trained"; PF_ENOMEM with "out of memory". */
int pf_trainset_load_csv(const char *path, const pf_trainset_opts *o, pf_trainset *t, char *why, size_t whylen);

/* Loads every done sample of the fleet through db (the batched scan) and
 * splits it by o->time_split / o->test_since (pf_time_split) or by each
 * sample's stored split (pf_timed_by_split). Returns PF_OK; PF_EIO with
 * "reading the fleet's samples: REDIS ERROR"; PF_ENOMEM with "out of
 * memory". */
int pf_trainset_load_db(pf_db *db, const pf_trainset_opts *o, pf_trainset *t, char *why, size_t whylen);

/* What a training run needs before it starts: from the fleet, every class
 * of cls in the training split ("no 'CLASS' sample in the training split
 * (N rows, M skipped): a model needs every class; nothing trained"); then
 * every split non-empty ("every split needs at least one row"). PF_OK or
 * PF_EINVAL with the reason. */
int pf_trainset_check(const pf_trainset *t, const pf_classes *cls, char *why, size_t whylen);

/* Frees split s's rows (its counts and range stay). */
void pf_trainset_drop(pf_trainset *t, int s);

void pf_trainset_free(pf_trainset *t);

#endif
