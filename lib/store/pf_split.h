/* pf_split: owns the train/validation/test assignment of a sample.
 * Defines pf_split_of(): a pure function of the sha256, so a sample's split
 * never changes across re-ingests and retrains, and a duplicate can never
 * land in two splits. 70% train, 15% validation, 15% test.
 * Called by the encoder worker (when it stores a vector), import-csv, export
 * and the trainer. */
#ifndef PF_SPLIT_H
#define PF_SPLIT_H

typedef enum { PF_SPLIT_TRAIN = 0, PF_SPLIT_VALIDATION = 1, PF_SPLIT_TEST = 2 } pf_split;

/* Split of a 64-hex sha256: the first 16 hex digits as a big-endian
 * integer, modulo 10000: < 7000 train, < 8500 validation, else test.
 * Returns -1 (PF_EINVAL) for a bad id. */
int pf_split_of(const char *sha);

/* "train", "validation", "test"; NULL for anything else. */
const char *pf_split_name(int split);

/* Inverse of pf_split_name; -1 when unknown. */
int pf_split_parse(const char *name);

#endif
