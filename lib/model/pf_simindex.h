/* pf_simindex: owns the in-memory similarity index of stored vectors.
 * Defines pf_simindex (per entry: sha256, labels, split, the float32 vector,
 * and an int8 copy of its normalised form with a per-row error bound) and
 * exact cosine queries. Called by the similarity service (similar/) and its
 * benchmark driver.
 *
 * Similarity is defined as, accumulated in double in index order:
 *   sim(q, x) = dot(q, x) / sqrt(dot(q, q) * dot(x, x))
 * over the float32 values (a query is rounded to float32 first, as stored
 * vectors are). A query scans the int8 rows (integer dot products), keeps
 * every row whose upper bound (approximation + the row's and the query's
 * proven quantisation error + slack) reaches the threshold, and recomputes
 * those candidates with the formula above; so the answer is exactly the
 * brute-force answer, not an approximation. Identical vectors give exactly
 * 1.0 (sqrt(fl(s*s)) == s). */
#ifndef PF_SIMINDEX_H
#define PF_SIMINDEX_H

#include <stddef.h>
#include <stdint.h>

#define PF_SIMINDEX_MAX_DIM 4096
#define PF_SIMINDEX_MAX_TOP 10000
#define PF_SIMINDEX_MAX_ENTRIES 100000000u
#define PF_SIMINDEX_MAX_LABELS 512 /* bytes of an entry's label text, NUL included */

typedef struct pf_simindex pf_simindex;

typedef struct {
  uint32_t idx;      /* entry (pf_simindex_sha / _labels / _split) */
  double similarity; /* exact, per the formula above */
} pf_simhit;

typedef struct {
  size_t scanned;    /* rows scanned */
  size_t above;      /* rows whose exact similarity >= threshold among those rechecked (a lower
                        bound of the full count when top cut the work short) */
  size_t candidates; /* rows whose upper bound reached the threshold */
  size_t reranked;   /* candidates recomputed exactly */
} pf_simstats;

/* A new, empty index for vectors of dim values (1..PF_SIMINDEX_MAX_DIM).
 * PF_EINVAL / PF_ENOMEM with a reason. */
int pf_simindex_new(uint32_t dim, pf_simindex **out, char *err, size_t errlen);
void pf_simindex_free(pf_simindex **ix);

/* Query threads (default: online cores, at most 8; 1 for small indexes). */
void pf_simindex_set_threads(pf_simindex *ix, int n);

/* Adds the vector of sha (64 lower-case hex), or replaces it when sha is
 * already in. labels: comma-separated text (NULL: none), cut to
 * PF_SIMINDEX_MAX_LABELS-1 bytes; split: "train", "validation", "test" or
 * NULL/other (reported as ""). PF_EINVAL with a one-line reason for a bad
 * sha, dim != the index's, a value that is not finite or beyond float32
 * range, or a zero vector (no direction: its cosine is undefined);
 * PF_ELIMIT when full; PF_ENOMEM. */
int pf_simindex_add(pf_simindex *ix, const char *sha, const double *vec, uint32_t dim, const char *labels,
                    const char *split, char *err, size_t errlen);

size_t pf_simindex_count(const pf_simindex *ix);
uint32_t pf_simindex_dim(const pf_simindex *ix);

/* Bytes the index holds per stored vector (vectors, int8 rows, bounds,
 * sha, hash slot, label text on average), for reports. */
double pf_simindex_bytes_per_vector(const pf_simindex *ix);

/* Entry idx's sha (65 bytes), labels text and split name ("" when none). */
void pf_simindex_sha(const pf_simindex *ix, uint32_t idx, char *sha);
const char *pf_simindex_labels(const pf_simindex *ix, uint32_t idx);
const char *pf_simindex_split(const pf_simindex *ix, uint32_t idx);

/* Entry of sha, or -1 when it is not in the index. */
long pf_simindex_find(const pf_simindex *ix, const char *sha);

/* Copies entry idx's stored vector (dim values) into out. */
void pf_simindex_vector(const pf_simindex *ix, uint32_t idx, double *out);

/* Every entry whose similarity to q (dim values) is >= threshold, best
 * first (ties by sha ascending), at most top (1..PF_SIMINDEX_MAX_TOP) of
 * them into hits (room for top); *nhits = how many. threshold must be in
 * [-1, 1]. PF_EINVAL with a reason for a wrong dim, a non-finite value or
 * one beyond float32 range, a zero vector, a bad threshold or top;
 * PF_ENOMEM. st may be NULL. */
int pf_simindex_query(const pf_simindex *ix, const double *q, uint32_t dim, double threshold, size_t top,
                      pf_simhit *hits, size_t *nhits, pf_simstats *st, char *err, size_t errlen);

/* The same with the stored vector of sha as the query (the sample itself
 * is among the hits, at 1.0). PF_ENOENT when sha is not in the index. */
int pf_simindex_query_sha(const pf_simindex *ix, const char *sha, double threshold, size_t top, pf_simhit *hits,
                          size_t *nhits, pf_simstats *st, char *err, size_t errlen);

#endif
