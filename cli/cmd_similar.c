/* pefleet similar: the stored samples most similar to a known sample
 * (by sha256) or to a file (encoded here by an isolated parser child and
 * sent as its vector), from the similarity service (pefleet-similar). */
#include "cmd.h"
#include "usage_err.h"
#include "sha_prefix.h"
#include "fleet.h"
#include "pf_config.h"
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_hash.h"
#include "pf_msg.h"
#include "pf_rpc.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet similar SHA256|FILE [--threshold T] [--top K] [--jsonl]\n"
    "                       [--server ENDPOINT] [--timeout SEC] [--data DIR | --config FILE]\n\n"
    "Lists the stored samples whose vector's cosine similarity to the query is at\n"
    "or above T, best first (ties by sha256), as the similarity service computes\n"
    "it: exactly, in double precision over the stored float32 vectors.\n"
    "SHA256 (64 lower-case hex, or a unique prefix of 12 or more) queries a stored sample (it is among the hits, at\n"
    "1); FILE is encoded here by LIEF in an isolated child process and its vector\n"
    "(rounded to float32, as stored ones are) is the query.\n\n"
    "output (stdout):\n"
    "  a table: similarity, sha256, labels, split\n"
    "  --jsonl: one object per hit: {\"sha256\",\"similarity\",\"labels\":[...],\"split\"}\n\n"
    "options:\n"
    "  -t, --threshold T   lowest similarity, -1..1 (default 0.9)\n"
    "  -k, --top K         at most K hits (default 100, at most 10000)\n"
    "  -j, --jsonl         JSON lines instead of the table\n"
    "      --server EP     the service's endpoint (default: similar_endpoint of the\n"
    "                      configuration, tcp://127.0.0.1:5559)\n"
    "      --timeout SEC   give up when no answer came within SEC seconds (default 60)\n"
    "      --data DIR, --config FILE   where the configuration is (as for every command)\n"
    "  -h, --help          this help\n\n"
    "exit status: 0 the query was answered (with hits, or none: then nothing on\n"
    "stdout and a note on stderr), 1 error (unknown sha256, a file that is not PE,\n"
    "the service unreachable, ...), 2 usage error\n\n"
    "example:\n"
    "  pefleet similar 3f1c...e9 --threshold 0.95 --top 20 --data /srv/pefleet\n");
}

static void print_hits(const Pefleet__SimilarReply *r, int jsonl) {
  char num[40];
  if (!jsonl && r->n_hits) printf("%-10s  %-64s  %-24s  %s\n", "similarity", "sha256", "labels", "split");
  for (size_t i = 0; i < r->n_hits; i++) {
    const Pefleet__SimilarHit *h = r->hits[i];
    if (jsonl) {
      pf_fmt_double(h->similarity, num, sizeof num);
      printf("{\"sha256\":\"%s\",\"similarity\":%s,\"labels\":[", h->sha256, num);
      for (size_t k = 0; k < h->n_labels; k++) {
        if (k) putchar(',');
        pf_fmt_json_string(stdout, h->labels[k]);
      }
      fputs("],\"split\":", stdout);
      pf_fmt_json_string(stdout, h->split);
      fputs("}\n", stdout);
    } else {
      char labels[600] = "";
      size_t len = 0;
      for (size_t k = 0; k < h->n_labels && len + 2 < sizeof labels; k++)
        len += (size_t)snprintf(labels + len, sizeof labels - len, "%s%s", k ? "," : "", h->labels[k]);
      if (len >= sizeof labels) len = sizeof labels - 1;
      printf("%-10.6f  %-64s  %-24s  %s\n", h->similarity, h->sha256, labels[0] ? labels : "-",
             h->split[0] ? h->split : "-");
    }
  }
}

/* FILE -> its vector, through one isolated parser child. */
static int encode_file(const char *path, double *vec) {
  pf_encoder_opts eo;
  pf_encoder_opts_default(&eo);
  eo.workers = 1;
  pf_encoder *enc = NULL;
  char err[256];
  if (pf_encoder_new(&eo, &enc, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet similar: cannot start the parser: %s\n", err);
    return PF_EIO;
  }
  pf_encode_result *res = malloc(sizeof *res);
  int rc = res ? pf_encoder_encode_one(enc, path, res) : PF_ENOMEM;
  pf_encoder_free(&enc);
  if (rc < 0 || !res->ok) {
    fprintf(stderr, "pefleet similar: error: %s: %s\n", path, rc < 0 ? pf_strerror(rc) : res->error);
    free(res);
    return PF_EINVAL;
  }
  memcpy(vec, res->vec, sizeof res->vec);
  free(res);
  return PF_OK;
}

int cmd_similar(int argc, char **argv) {
  static const struct option opts[] = {
    {"threshold", required_argument, 0, 't'}, {"top", required_argument, 0, 'k'},
    {"jsonl", no_argument, 0, 'j'}, {"server", required_argument, 0, 1},
    {"data", required_argument, 0, 2}, {"config", required_argument, 0, 3},
    {"timeout", required_argument, 0, 4}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  double threshold = 0.9;
  long timeout_s = 60;
  long top = 100;
  int jsonl = 0, c;
  const char *server = NULL, *data = NULL, *config = NULL;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "t:k:jh", opts, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
    case 't':
      threshold = strtod(optarg, &end);
      if (!*optarg || *end || !(threshold >= -1 && threshold <= 1)) {
        fprintf(stderr, "pefleet similar: --threshold must be a number in [-1, 1], not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'k':
      top = strtol(optarg, &end, 10);
      if (!*optarg || *end || top < 1 || top > 10000) {
        fprintf(stderr, "pefleet similar: --top must be 1-10000, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'j': jsonl = 1; break;
    case 1: server = optarg; break;
    case 2: data = optarg; break;
    case 3: config = optarg; break;
    case 4:
      timeout_s = strtol(optarg, &end, 10);
      if (!*optarg || *end || timeout_s < 1 || timeout_s > 86400) {
        fprintf(stderr, "pefleet similar: --timeout must be 1-86400 seconds, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet similar", opts, "t:k:jh", argc, argv);
    }
  }
  if (optind != argc - 1)
    return usage_err("pefleet similar", optind >= argc ? "no SHA256 or FILE given%s" : "one SHA256 or FILE at a time (unexpected '%s')",
                     optind >= argc ? "" : argv[optind + 1]);
  const char *what = argv[optind];
  pf_config cfg;
  char err[512];
  if (pf_config_resolve(&cfg, data, config, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet similar: %s\n", err);
    return 2;
  }
  if (!server) server = cfg.similar_endpoint;

  Pefleet__SimilarRequest q = PEFLEET__SIMILAR_REQUEST__INIT;
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  static double vec[PF_ERGO486_DIM];
  struct stat st;
  if (stat(what, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      fprintf(stderr, "pefleet similar: %s is not a regular file\n", what);
      return 1;
    }
    if (encode_file(what, vec) != PF_OK) return 1;
    v.n_values = PF_ERGO486_DIM;
    v.values = vec;
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
    q.vector = &v;
  } else if (pf_is_sha256_hex(what)) {
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SHA256;
    q.sha256 = (char *)what;
  } else if (sha_prefix_ok(what)) { /* the 12 digits predict and ingest print: the one stored sample they name */
    static char full[65];
    pf_db *db = NULL;
    int bad = fleet_db(&cfg, &db, err, sizeof err) != PF_OK || sha_prefix_expand(db, what, full, err, sizeof err) != 0;
    pf_db_free(&db);
    if (bad) { fprintf(stderr, "pefleet similar: %s\n", err); return 1; }
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SHA256;
    q.sha256 = full;
  } else {
    fprintf(stderr, "pefleet similar: '%s' is neither a file nor a sha256 (64 lower-case hex digits, or a unique prefix of 12 or more)\n", what);
    return 1;
  }
  /* the protocol reads 0 as "the default"; -0 is not sent either: ask for
   * >= the largest double below 0, which admits exactly what >= 0 does
   * (no cosine of stored vectors falls in between) */
  q.threshold = threshold == 0 ? nextafter(0.0, -1.0) : threshold;
  q.top = (uint32_t)top;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &q;

  pf_rpc *rpc = NULL;
  if (pf_rpc_new(NULL, server, &cfg, &rpc, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet similar: %s\n", err);
    return 1;
  }
  Pefleet__Envelope *rep = NULL;
  int rc = pf_rpc_call(rpc, &env, (int)(timeout_s * 1000), &rep, err, sizeof err);
  pf_rpc_free(&rpc);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet similar: %s: %s\n", server, err);
    return 1;
  }
  const Pefleet__SimilarReply *r = rep->similar_reply;
  int status = 0;
  if (r->status != PEFLEET__SCORE_STATUS__SCORE_OK) {
    fprintf(stderr, "pefleet similar: %s\n", r->error[0] ? r->error : "the service could not answer");
    status = 1;
  } else {
    print_hits(r, jsonl);
    if (r->n_hits == 0) fprintf(stderr, "pefleet similar: no stored sample at or above %g\n", threshold);
  }
  pf_msg_free(rep);
  return status;
}
