/* zsimilar: one SimilarRequest to the similarity service through pf_rpc,
 * for the integration tests (raw vectors and file bytes, which `pefleet
 * similar` never sends as such).
 *
 *   zsimilar ENDPOINT [--threshold T] [--top K] MODE ARG...
 * MODEs:
 *   sha HEX            by sha256
 *   vector N KIND      N values: KIND ones, zeros, nan (ones with one NaN),
 *                      inf (ones with one +inf), big (ones with one 1e39)
 *   vector-file F      the whitespace-separated values in F
 *   sample FILE        the file's bytes
 *   none               a request with no query set
 * Prints "status=N error=TEXT hits=K", then "hit SHA SIMILARITY LABELS SPLIT"
 * per hit (%.17g). Exit status: 0 a reply came, 1 none (or a local error),
 * 2 usage. */
#include "pf_io.h"
#include "pf_err.h"
#include "pf_rpc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
  fprintf(stderr, "usage: zsimilar ENDPOINT [--threshold T] [--top K] sha HEX | vector N KIND | vector-file F | "
                  "sample FILE | none\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage();
  const char *ep = argv[1];
  int i = 2;
  Pefleet__SimilarRequest q = PEFLEET__SIMILAR_REQUEST__INIT;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (strcmp(argv[i], "--threshold") == 0) q.threshold = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--top") == 0) q.top = (uint32_t)atol(argv[i + 1]);
    else return usage();
  }
  if (i >= argc) return usage();
  const char *mode = argv[i++];
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  static double vals[65536];
  if (strcmp(mode, "sha") == 0 && i < argc) {
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SHA256;
    q.sha256 = argv[i];
  } else if (strcmp(mode, "vector") == 0 && i + 1 < argc) {
    long n = atol(argv[i]);
    if (n < 0 || n > 65536) return usage();
    const char *kind = argv[i + 1];
    for (long k = 0; k < n; k++) vals[k] = strcmp(kind, "zeros") == 0 ? 0 : 1;
    if (n > 3 && strcmp(kind, "nan") == 0) vals[3] = NAN;
    if (n > 3 && strcmp(kind, "inf") == 0) vals[3] = INFINITY;
    if (n > 3 && strcmp(kind, "big") == 0) vals[3] = 1e39;
    v.n_values = (size_t)n;
    v.values = vals;
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
    q.vector = &v;
  } else if (strcmp(mode, "vector-file") == 0 && i < argc) {
    FILE *f = fopen(argv[i], "r");
    if (!f) { perror(argv[i]); return 1; }
    size_t n = 0;
    while (n < 65536 && fscanf(f, "%lf", &vals[n]) == 1) n++;
    fclose(f);
    v.n_values = n;
    v.values = vals;
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
    q.vector = &v;
  } else if (strcmp(mode, "sample") == 0 && i < argc) {
    size_t len = 0;
    uint8_t *b = NULL;
    if (pf_io_read_file(argv[i], PF_MSG_MAX_SAMPLE, &b, &len) != PF_OK) { perror(argv[i]); return 1; }
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE;
    q.sample.data = b;
    q.sample.len = len;
  } else if (strcmp(mode, "none") != 0) {
    return usage();
  }
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &q;
  pf_rpc *rpc = NULL;
  char err[512];
  if (pf_rpc_new(NULL, ep, NULL, &rpc, err, sizeof err) != PF_OK) { fprintf(stderr, "zsimilar: %s\n", err); return 1; }
  Pefleet__Envelope *rep = NULL;
  int rc = pf_rpc_call(rpc, &env, 30000, &rep, err, sizeof err);
  pf_rpc_free(&rpc);
  if (q.query_case == PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE && rc != PF_OK) free(q.sample.data);
  if (rc != PF_OK) { printf("no reply: %s\n", err); return 1; }
  const Pefleet__SimilarReply *r = rep->similar_reply;
  printf("status=%d error=%s hits=%zu\n", (int)r->status, r->error, r->n_hits);
  for (size_t k = 0; k < r->n_hits; k++) {
    const Pefleet__SimilarHit *h = r->hits[k];
    printf("hit %s %.17g ", h->sha256, h->similarity);
    for (size_t l = 0; l < h->n_labels; l++) printf("%s%s", l ? "," : "", h->labels[l]);
    printf(" %s\n", h->split[0] ? h->split : "-");
  }
  pf_msg_free(rep);
  if (q.query_case == PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE) free(q.sample.data);
  return 0;
}
