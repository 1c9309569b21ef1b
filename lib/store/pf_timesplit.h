/* pf_timesplit: owns splitting the fleet's samples by first-seen time.
 * Defines pf_timed (a dataset whose rows keep their first-seen time, sha256
 * and stored split), loading every done sample from Redis, the time split
 * (oldest 70% train, next 15% validation, newest 15% test, or a test
 * cut at a date) and the selection of rows first seen after a time.
 * Called by `pefleet train --split time`, `pefleet evaluate --by` and
 * `pefleet retrain` (its shared test split and fresh window). */
#ifndef PF_TIMESPLIT_H
#define PF_TIMESPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "pf_dataset.h"
#include "pf_db.h"

typedef struct {
  pf_dataset d;       /* rows and class indices */
  long long *seen;    /* first_seen of row i (unix s) */
  char (*sha)[PF_SHA256_HEX_LEN + 1];
  int8_t *split;      /* the stored (random, by sha256) split of row i */
  size_t cap;
} pf_timed;

typedef struct {
  size_t n;
  long long first, last; /* oldest and newest first_seen (0 when n = 0) */
} pf_time_range;

void pf_timed_free(pf_timed *t);

/* Appends one row (copied). PF_ENOMEM, or PF_ELIMIT past PF_DATASET_MAX_ROWS. */
int pf_timed_push(pf_timed *t, const double *v, int32_t y, long long seen, const char *sha, int split);

/* Loads every done sample of the fleet (all splits) whose first label is a
 * class and whose vector has dim values; *skipped counts the others. */
int pf_timed_load_db(pf_db *db, size_t dim, const pf_classes *c, pf_timed *t, size_t *skipped);

/* The time split of all, deterministic whatever order the rows came in:
 * rows are ordered by (first_seen, sha256). test_since <= 0: the oldest
 * 70% train, the next 15% validation, the newest 15% test; else test is
 * every row first seen at or after test_since and the older rows split
 * 70:15 by time into train and validation. A cut never separates rows of
 * the same first_seen (it moves to the end of their run), so every
 * validation row is newer than every train row and every test row newer
 * than every validation row. out[0..2] (zeroed by the caller) receive
 * copies in time order, r[0..2] their ranges. PF_OK or PF_ENOMEM. */
int pf_time_split(const pf_timed *all, long long test_since, pf_timed out[3], pf_time_range r[3]);

/* The rows of all whose stored split is split (0 train, 1 validation,
 * 2 test), copied into out in all's order, and their range in r. */
int pf_timed_by_split(const pf_timed *all, int split, pf_timed *out, pf_time_range *r);

/* The rows first seen strictly after `after` (and, when before > 0,
 * strictly before `before`), copied in all's order. */
int pf_timed_window(const pf_timed *all, long long after, long long before, pf_timed *out, pf_time_range *r);

/* The range of t's rows. */
void pf_timed_range(const pf_timed *t, pf_time_range *r);

#endif
