/* similar_bench: pefleet's side of bench/similar_bench.sh. Reads N stored
 * vectors and Q queries (raw float32, DIM per row, as the script wrote
 * them), builds a pf_simindex (entry i = row i), times each query, and
 * writes each query's hits (row, similarity) for the script to check.
 * usage: similar_bench ROWS.f32 QUERIES.f32 DIM THRESHOLD TOP HITS_OUT [THREADS] */
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_simindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static float *read_rows(const char *path, uint32_t dim, size_t *n) {
  struct stat st;
  FILE *f = fopen(path, "rb");
  if (!f || fstat(fileno(f), &st) != 0 || st.st_size % (off_t)(dim * sizeof(float)) != 0) {
    fprintf(stderr, "similar_bench: cannot read %s as rows of %u float32\n", path, dim);
    if (f) fclose(f);
    return NULL;
  }
  *n = (size_t)st.st_size / (dim * sizeof(float));
  float *v = malloc((size_t)st.st_size + 1);
  if (!v || fread(v, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
    fprintf(stderr, "similar_bench: cannot read %s\n", path);
    free(v);
    fclose(f);
    return NULL;
  }
  fclose(f);
  return v;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: similar_bench ROWS.f32 QUERIES.f32 DIM THRESHOLD TOP HITS_OUT [THREADS]\n");
    return 2;
  }
  uint32_t dim = (uint32_t)atoi(argv[3]);
  double t = atof(argv[4]);
  size_t top = (size_t)atol(argv[5]);
  size_t n = 0, nq = 0;
  float *rows = read_rows(argv[1], dim, &n), *qs = read_rows(argv[2], dim, &nq);
  if (!rows || !qs) return 1;
  pf_simindex *ix = NULL;
  char err[256];
  if (pf_simindex_new(dim, &ix, err, sizeof err) != PF_OK) { fprintf(stderr, "%s\n", err); return 1; }
  if (argc > 7) pf_simindex_set_threads(ix, atoi(argv[7]));
  double *x = malloc(dim * sizeof *x);
  int64_t t0 = pf_clock_ms();
  for (size_t i = 0; i < n; i++) {
    char msg[32], sha[65];
    uint8_t d[PF_SHA256_LEN];
    int k = snprintf(msg, sizeof msg, "row-%zu", i);
    pf_sha256((const uint8_t *)msg, (size_t)k, d);
    pf_hex(d, PF_SHA256_LEN, sha);
    for (uint32_t j = 0; j < dim; j++) x[j] = rows[i * dim + j];
    if (pf_simindex_add(ix, sha, x, dim, "malicious", "train", err, sizeof err) != PF_OK) {
      fprintf(stderr, "row %zu: %s\n", i, err);
      return 1;
    }
  }
  double build_s = (double)(pf_clock_ms() - t0) / 1000;
  free(rows);
  FILE *out = fopen(argv[6], "w");
  if (!out) { perror(argv[6]); return 1; }
  pf_simhit *hits = malloc(top * sizeof *hits);
  double *ms = malloc(nq * sizeof *ms);
  size_t cand = 0, rer = 0;
  for (size_t q = 0; q < nq; q++) {
    for (uint32_t j = 0; j < dim; j++) x[j] = qs[q * dim + j];
    size_t nh = 0;
    pf_simstats st;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (pf_simindex_query(ix, x, dim, t, top, hits, &nh, &st, err, sizeof err) != PF_OK) {
      fprintf(stderr, "query %zu: %s\n", q, err);
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms[q] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    cand += st.candidates;
    rer += st.reranked;
    fprintf(out, "%zu", q);
    for (size_t k = 0; k < nh; k++) fprintf(out, " %u:%.17g", hits[k].idx, hits[k].similarity);
    fputc('\n', out);
  }
  fclose(out);
  double sum = 0;
  for (size_t q = 0; q < nq; q++) sum += ms[q];
  qsort(ms, nq, sizeof *ms, cmp_d);
  printf("pefleet n=%zu queries=%zu median_ms=%.3f mean_ms=%.3f min_ms=%.3f bytes_per_vector=%.0f build_s=%.2f "
         "candidates_per_query=%.0f rechecked_per_query=%.0f\n",
         n, nq, ms[nq / 2], sum / (double)nq, ms[0], pf_simindex_bytes_per_vector(ix), build_s, (double)cand / (double)nq,
         (double)rer / (double)nq);
  pf_simindex_free(&ix);
  free(hits);
  free(ms);
  free(x);
  free(qs);
  return 0;
}
