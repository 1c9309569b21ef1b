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
#include "pf_model.h"

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
  int n_alias;             /* --label-map: other labels read as a class */
  char alias[16][64];
  int alias_to[16];
} pf_classes;

/* Parses "clean,malicious" (spaces around names ignored). PF_EINVAL for
 * fewer than 2 or more than 16 names, or an empty name. */
int pf_classes_parse(const char *list, pf_classes *c);

/* Adds "label=class,label=class" (class a name or an index) to c's
 * aliases. PF_EINVAL, with a reason in err, for a malformed list, an
 * unknown class or more than 16 aliases. */
int pf_classes_map(pf_classes *c, const char *spec, char *err, size_t errlen);

/* Class index of a label (a name, an index, or an alias), or -1. */
int pf_classes_index(const pf_classes *c, const char *label);

/* The class names of model m (its first 16), no aliases. */
void pf_classes_of_model(const pf_model *m, pf_classes *c);

/* "clean, malicious": the names, for messages. */
void pf_classes_list(const pf_classes *c, char *out, size_t n);

/* Index of the first class of c that no row of d has, or -1. */
int pf_dataset_missing_class(const pf_dataset *d, const pf_classes *c);

void pf_dataset_free(pf_dataset *d);

/* Appends one row (copied); PF_ENOMEM or PF_ELIMIT past PF_DATASET_MAX_ROWS. */
int pf_dataset_push(pf_dataset *d, const double *v, int32_t y);

/* Loads a seed-layout CSV (label, then dim values). Rows that do not parse
 * or have another width are reported on stderr as "FILE:LINE: reason" (at
 * most 20 lines, then a count) and skipped; rows whose label is not a class
 * are skipped and summarised in one line (each label and its count, and
 * the fix: encode --label NAME or --label-map LABEL=CLASS); *skipped
 * receives how many rows were skipped. PF_EIO when the file cannot be read. */
int pf_dataset_load_csv(const char *path, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped);

/* Splits rows into train/validation/test (70/15/15) after a shuffle with
 * seed; the three datasets receive copies. */
int pf_dataset_split(const pf_dataset *all, uint64_t seed, pf_dataset *train, pf_dataset *val, pf_dataset *test);

/* Loads every done sample of a Redis split (pf_split value) whose first
 * label is a class; *skipped counts the others. */
int pf_dataset_load_db(pf_db *db, int split, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped);

#endif
