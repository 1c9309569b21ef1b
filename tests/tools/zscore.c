/* zscore: a score-router client for tests and benchmarks. Sends vector
 * requests (rows of a seed-layout CSV), file uploads or sha256 lookups
 * through lib/pf_rpc, from T threads, for N requests or S seconds, and
 * prints one summary line: requests, ok, failed (by reason), per model
 * version counts, requests/s and p50/p99 latency. With --print, one JSON
 * line per reply as well. Exit status 1 when any request failed.
 *
 *   zscore ENDPOINT --csv FILE [--rows K] [-n N | -s SECONDS] [-t THREADS] [--print]
 *   zscore ENDPOINT --file PATH... / --sha HEX... (same options)
 * --explain asks the scorers to explain each verdict as well. */
#include "pf_io.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_rpc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096
#define MAX_VERS 16
#define DIM_MAX 4096

typedef enum { IN_CSV, IN_FILE, IN_SHA } in_kind;

static struct {
  const char *endpoint;
  in_kind kind;
  double *rows;            /* nrows x dim */
  int nrows, dim;
  char **items;            /* files or shas */
  int nitems;
  uint8_t **blobs;
  size_t *blen;
  long long count;         /* total requests, 0: until seconds */
  double seconds;
  int threads, print, timeout_ms, explain;
  pthread_mutex_t mu;
  long long sent, ok, failed;
  char vers[MAX_VERS][64];
  long long vcount[MAX_VERS];
  char first_err[256];
  double *lat;             /* ms of each ok request */
  long long nlat, caplat;
} g;

/* Rows of a seed-layout CSV, read leniently on purpose: unlike
 * pf_csvrow_parse, which refuses them, "nan" and "inf" values get through,
 * so tests can send the pool the bad vectors it must refuse. */
static int load_csv(const char *path, int maxrows) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); return -1; }
  size_t cap = 1 << 20;
  char *line = malloc(cap);
  g.rows = malloc((size_t)maxrows * DIM_MAX * sizeof(double));
  while (g.nrows < maxrows && fgets(line, (int)cap, f)) {
    char *p = strchr(line, ',');
    if (!p) continue;
    int d = 0;
    while (p && *p == ',' && d < DIM_MAX) {
      char *end;
      double v = strtod(p + 1, &end);
      if (end == p + 1) break;
      g.rows[(size_t)g.nrows * DIM_MAX + d++] = v;
      p = end;
    }
    if (d == 0) continue;
    if (g.dim == 0) g.dim = d;
    if (d != g.dim) continue;
    g.nrows++;
  }
  free(line);
  fclose(f);
  return g.nrows > 0 ? 0 : -1;
}

static void record(const Pefleet__ScoreReply *r, double ms, const char *err) {
  pthread_mutex_lock(&g.mu);
  g.sent++;
  if (r && r->status == PEFLEET__SCORE_STATUS__SCORE_OK) {
    g.ok++;
    int k;
    for (k = 0; k < MAX_VERS && g.vers[k][0]; k++)
      if (strcmp(g.vers[k], r->model_version) == 0) break;
    if (k < MAX_VERS) {
      if (!g.vers[k][0]) snprintf(g.vers[k], sizeof g.vers[k], "%s", r->model_version);
      g.vcount[k]++;
    }
    if (g.nlat == g.caplat) {
      g.caplat = g.caplat ? 2 * g.caplat : 65536;
      g.lat = realloc(g.lat, (size_t)g.caplat * sizeof *g.lat);
    }
    g.lat[g.nlat++] = ms;
  } else {
    g.failed++;
    if (!g.first_err[0]) snprintf(g.first_err, sizeof g.first_err, "%s", r ? r->error : err);
  }
  if (g.print && r) {
    printf("{\"sha256\":\"%s\",\"status\":%d,\"verdict\":\"%s\",\"model_version\":\"%s\",\"p\":[", r->sha256,
           (int)r->status, r->verdict, r->model_version);
    for (size_t i = 0; i < r->n_probabilities; i++) printf("%s%.9g", i ? "," : "", r->probabilities[i]);
    printf("],\"error\":\"%s\"}\n", r->error);
  } else if (g.print) {
    printf("{\"status\":-1,\"error\":\"%s\"}\n", err);
  }
  pthread_mutex_unlock(&g.mu);
}

static void *run(void *arg) {
  long idx = (long)arg;
  pf_rpc *r = NULL;
  char err[256];
  if (pf_rpc_new(NULL, g.endpoint, NULL, &r, err, sizeof err) != PF_OK) {
    record(NULL, 0, err);
    return NULL;
  }
  double until = pf_clock_s() + g.seconds;
  for (long long i = idx;; i += g.threads) {
    if (g.count ? i >= g.count : pf_clock_s() >= until) break;
    Pefleet__ScoreRequest q;
    pefleet__score_request__init(&q); /* its INIT macro trips -Wmissing-braces */
    Pefleet__Vector v = PEFLEET__VECTOR__INIT;
    Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
    env.body_case = PEFLEET__ENVELOPE__BODY_SCORE;
    env.score = &q;
    q.explain = g.explain;
    if (g.kind == IN_CSV) {
      int row = (int)(i % g.nrows);
      v.n_values = (size_t)g.dim;
      v.values = &g.rows[(size_t)row * DIM_MAX];
      q.input_case = PEFLEET__SCORE_REQUEST__INPUT_VECTOR;
      q.vector = &v;
    } else if (g.kind == IN_FILE) {
      int k = (int)(i % g.nitems);
      q.input_case = PEFLEET__SCORE_REQUEST__INPUT_SAMPLE;
      q.sample.data = g.blobs[k];
      q.sample.len = g.blen[k];
    } else {
      q.input_case = PEFLEET__SCORE_REQUEST__INPUT_SHA256;
      q.sha256 = g.items[i % g.nitems];
    }
    Pefleet__Envelope *rep = NULL;
    double t0 = pf_clock_s();
    int rc = pf_rpc_call(r, &env, g.timeout_ms, &rep, err, sizeof err);
    double ms = (pf_clock_s() - t0) * 1000;
    record(rc == PF_OK ? rep->score_reply : NULL, ms, err);
    pf_msg_free(rep);
  }
  pf_rpc_free(&r);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "--help") == 0) {
    fprintf(stderr, "usage: zscore ENDPOINT (--csv FILE [--rows K] | --file PATH... | --sha HEX...) [-n N | -s SEC] "
                    "[-t THREADS] [--timeout MS] [--print]\n");
    return 2;
  }
  g.endpoint = argv[1];
  g.threads = 1;
  g.count = 1;
  g.timeout_ms = 10000;
  pthread_mutex_init(&g.mu, NULL);
  g.items = calloc((size_t)argc, sizeof *g.items);
  int rows = 1000;
  const char *csv = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) { csv = argv[++i]; g.kind = IN_CSV; }
    else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) rows = atoi(argv[++i]);
    else if (strcmp(argv[i], "--file") == 0) g.kind = IN_FILE;
    else if (strcmp(argv[i], "--sha") == 0) g.kind = IN_SHA;
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) { g.count = atoll(argv[++i]); g.seconds = 0; }
    else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) { g.seconds = atof(argv[++i]); g.count = 0; }
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) g.threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) g.timeout_ms = atoi(argv[++i]);
    else if (strcmp(argv[i], "--print") == 0) g.print = 1;
    else if (strcmp(argv[i], "--explain") == 0) g.explain = 1;
    else if (argv[i][0] != '-') g.items[g.nitems++] = argv[i];
    else { fprintf(stderr, "zscore: unknown option %s\n", argv[i]); return 2; }
  }
  if (g.threads < 1 || g.threads > 256 || rows < 1 || rows > MAX_ROWS) { fprintf(stderr, "zscore: bad -t/--rows\n"); return 2; }
  if (g.kind == IN_CSV && (!csv || load_csv(csv, rows) != 0)) { fprintf(stderr, "zscore: no vectors in %s\n", csv ? csv : "(none)"); return 2; }
  if (g.kind != IN_CSV && g.nitems == 0) { fprintf(stderr, "zscore: nothing to send\n"); return 2; }
  if (g.kind == IN_FILE) {
    g.blobs = calloc((size_t)g.nitems, sizeof *g.blobs);
    g.blen = calloc((size_t)g.nitems, sizeof *g.blen);
    for (int k = 0; k < g.nitems; k++)
      if (pf_io_read_file(g.items[k], PF_MSG_MAX_SAMPLE, &g.blobs[k], &g.blen[k]) != PF_OK) {
        perror(g.items[k]);
        return 2;
      }
  }
  pthread_t th[256];
  double t0 = pf_clock_s();
  for (long k = 0; k < g.threads; k++) pthread_create(&th[k], NULL, run, (void *)k);
  for (int k = 0; k < g.threads; k++) pthread_join(th[k], NULL);
  double secs = pf_clock_s() - t0;
  if (g.nlat > 0) qsort(g.lat, (size_t)g.nlat, sizeof *g.lat, cmp);
  double p50 = g.nlat ? g.lat[g.nlat / 2] : NAN, p99 = g.nlat ? g.lat[(g.nlat * 99) / 100] : NAN;
  fprintf(stderr, "zscore: %lld requests, %lld ok, %lld failed in %.2f s: %.0f req/s, p50 %.3f ms, p99 %.3f ms",
          g.sent, g.ok, g.failed, secs, g.sent / (secs > 0 ? secs : 1), p50, p99);
  for (int k = 0; k < MAX_VERS && g.vers[k][0]; k++) fprintf(stderr, "; model %s: %lld", g.vers[k], g.vcount[k]);
  if (g.first_err[0]) fprintf(stderr, "; first error: %s", g.first_err);
  fprintf(stderr, "\n");
  return g.failed ? 1 : 0;
}
