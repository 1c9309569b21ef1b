/* pf_dataset: owns labelled feature matrices for training and evaluation.
 * Defines pf_dataset (float32 rows, class indices), loading from a
 * seed-layout dataset.csv (labels as class indices or class names) or from
 * the fleet's Redis splits, and the seeded 70/15/15 split of a CSV.
 * Called by `pefleet train` and `pefleet evaluate`. */
#ifndef PF_DATASET_H
#define PF_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "pf_db.h"

#define PF_DATASET_MAX_ROWS 50000000u

typedef struct {
  size_t n, dim, cap;
  float *x;       /* n x dim */
  int32_t *y;     /* class index per row */
} pf_dataset;

/* Class names, e.g. {"clean","malicious"}: a label that is one of them, or
 * its index as a decimal number, maps to that index. */
typedef struct {
  int n;
  char names[16][64];
} pf_classes;

/* Parses "clean,malicious" (spaces around names ignored). PF_EINVAL for
 * fewer than 2 or more than 16 names, or an empty name. */
int pf_classes_parse(const char *list, pf_classes *c);

/* Class index of a label, or -1. */
int pf_classes_index(const pf_classes *c, const char *label);

void pf_dataset_free(pf_dataset *d);

/* Appends one row (copied); PF_ENOMEM or PF_ELIMIT past PF_DATASET_MAX_ROWS. */
int pf_dataset_push(pf_dataset *d, const double *v, int32_t y);

/* Loads a seed-layout CSV (label, then dim values). Rows that do not parse,
 * have another width or an unknown label are reported on stderr as
 * "FILE:LINE: reason" (at most 20 lines, then a count) and skipped;
 * *skipped receives how many. PF_EIO when the file cannot be read. */
int pf_dataset_load_csv(const char *path, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped);

/* Splits rows into train/validation/test (70/15/15) after a shuffle with
 * seed; the three datasets receive copies. */
int pf_dataset_split(const pf_dataset *all, uint64_t seed, pf_dataset *train, pf_dataset *val, pf_dataset *test);

/* Loads every done sample of a Redis split (pf_split value) whose first
 * label is a class; *skipped counts the others. */
int pf_dataset_load_db(pf_db *db, int split, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped);

#endif
