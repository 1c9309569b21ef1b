/* pefleet predict: PE files -> class probabilities and a verdict, with a
 * model folder (model.pfnn) and the isolated encoder pool. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_encode_run.h"
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_model.h"
#include "pf_walk.h"
#include "score_out.h"
#include "pf_explain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet predict MODEL_DIR [--jsonl] [-f GLOB] [-w N] [-q] PATH...\n\n"
    "Scores PE files (and every file under each folder, recursively) with the\n"
    "model in MODEL_DIR (MODEL_DIR/model.pfnn, as import-keras or train write it).\n"
    "Each file is encoded into the ergo486 vector by LIEF in an isolated child\n"
    "process, so a malformed file only fails itself.\n\n"
    "output (stdout, in input order):\n"
    "  a table: verdict, one probability per class, sha256 prefix, path\n"
    "  --jsonl: one JSON object per input file:\n"
    "    {\"path\",\"sha256\",\"probabilities\":[p0,p1],\"verdict\":CLASS} or\n"
    "    {\"path\",\"sha256\",\"error\"} (sha256 null when unreadable)\n"
    "  failures are also one line each on stderr.\n\n"
    "options:\n"
    "  -j, --jsonl         JSON lines instead of the table\n"
    "  -f, --filter GLOB   only files whose name matches GLOB (e.g. '*.exe')\n"
    "  -w, --workers N     parser processes (default: number of cores)\n"
    "      --timeout SEC   wall-clock limit per file (default 60)\n"
    "  -q, --quiet         no summary line\n"
    "      --explain[=K]   why: Integrated Gradients of p(malicious) from the model's\n"
    "                      baseline (the zero vector when it has none): JSON lines gain\n"
    "                      an \"explanation\" (top K features, default 10, and the sum per\n"
    "                      feature group); the table a line with the top 3\n"
    "      --infected-exit clamscan's exit status: 0 nothing malicious, 1 some file\n"
    "                      malicious, 2 some failed\n"
    "  -h, --help          this help\n\n"
    "exit status: 0 every file scored, 1 some failed (or none found, or the model\n"
    "could not be loaded), 2 usage error (with --infected-exit: see above)\n\n"
    "example:\n"
    "  pefleet predict models/seed --jsonl samples/\n");
}

typedef struct {
  const pf_model *m;
  const char *prog;
  size_t explain_k;  /* 0: no explanations */  /* "pefleet predict" or "pefleet scan" (messages) */
  int jsonl;
  pf_filelist files;
  size_t n_fail, per_class[PF_MODEL_MAX_CLASSES];
  score_out out;
} predict_run;

/* The table's header line, once the pool is up; nothing for --jsonl. */
static void header(void *ctx) {
  predict_run *r = ctx;
  const char *names[PF_MODEL_MAX_CLASSES];
  for (uint32_t c = 0; c < pf_model_classes(r->m) && c < PF_MODEL_MAX_CLASSES; c++) names[c] = r->m->classes[c];
  score_out_init(&r->out, r->jsonl, pf_model_classes(r->m), names);
  r->out.explain_k = r->explain_k;
  score_out_header(&r->out);
}

/* Scores one file and writes its line; called in input order. */
static void emit(void *ctx, size_t i, const pf_encode_result *res) {
  predict_run *r = ctx;
  const char *path = r->files.paths[i];
  char hex[PF_SHA256_HEX_LEN + 1] = "", why[300] = "";
  float x[PF_ERGO486_DIM], p[PF_MODEL_MAX_CLASSES];
  int ok = res->ok;
  if (res->have_hash) pf_hex(res->sha256, PF_SHA256_LEN, hex);
  if (ok) {
    for (int k = 0; k < PF_ERGO486_DIM; k++) x[k] = (float)res->vec[k];
    int rc = pf_model_predict(r->m, x, 1, p);
    if (rc != PF_OK) {
      ok = 0;
      snprintf(why, sizeof why, "inference failed: %s", pf_strerror(rc));
    }
  } else {
    snprintf(why, sizeof why, "%s", res->error);
  }
  if (!ok) {
    fprintf(stderr, "%s: error: %s: %s\n", r->prog, path, why);
    r->n_fail++;
  }
  uint32_t v = ok ? pf_model_verdict(r->m, p) : 0;
  if (ok) r->per_class[v]++;
  pf_explain_view ev, *ex = NULL;
  double contrib[PF_ERGO486_DIM];
  pf_explain_info info;
  uint32_t target = pf_model_classes(r->m) == 2 ? 1 : v;
  if (ok && r->explain_k && pf_explain_ig(r->m, x, target, PF_EXPLAIN_STEPS, contrib, &info) == PF_OK) {
    ev = (pf_explain_view){contrib, res->vec, PF_ERGO486_DIM, r->m->classes[target], info.p_x, info.p_base,
                           info.baseline, info.steps, info.method};
    ex = &ev;
  }
  score_out_line(&r->out, path, res->have_hash ? hex : NULL, ok ? p : NULL, ok ? r->m->classes[v] : NULL, why, ex,
                 NULL);
}

int cmd_predict(int argc, char **argv) { return cmd_predict_as(argc, argv, "pefleet predict"); }

int cmd_predict_as(int argc, char **argv, const char *prog) {
  static const struct option opts[] = {
    {"jsonl", no_argument, 0, 'j'}, {"filter", required_argument, 0, 'f'},
    {"workers", required_argument, 0, 'w'}, {"quiet", no_argument, 0, 'q'},
    {"timeout", required_argument, 0, 1}, {"infected-exit", no_argument, 0, 2},
    {"explain", optional_argument, 0, 3}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  predict_run r;
  memset(&r, 0, sizeof r);
  r.prog = prog;
  pf_encoder_opts eo;
  pf_encode_run_opts_default(&eo);
  const char *glob = NULL;
  int quiet = 0, infected_exit = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "jf:w:qh", opts, NULL)) != -1) {
    char *end = NULL;
    long v = 0;
    if (c == 'w' || c == 1) {
      v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 1000000) {
        fprintf(stderr, "%s: invalid number '%s' for --%s\n", prog, optarg, c == 'w' ? "workers" : "timeout");
        return 2;
      }
    }
    switch (c) {
    case 'j': r.jsonl = 1; break;
    case 'f': glob = optarg; break;
    case 'w': eo.workers = (int)v; break;
    case 'q': quiet = 1; break;
    case 1: eo.timeout_ms = (int)(v * 1000 > 0x7fffffff ? 0x7fffffff : v * 1000); break;
    case 2: infected_exit = 1; break;
    case 3: {
      char why[128];
      if (!score_out_explain_k(optarg, &r.explain_k, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 2;
      }
      break;
    }
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt(prog, opts, "jf:w:qh", argc, argv);
    }
  }
  if (argc - optind < 2) {
    int scan = strcmp(prog, "pefleet scan") == 0;
    const char *form = scan ? "MODEL_DIR PATH... or --server [ENDPOINT] PATH..." : "MODEL_DIR PATH...";
    if (optind >= argc) return usage_err(prog, "no MODEL_DIR or PATH given (%s)", form);
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/%s", argv[optind], PF_MODEL_FILE);
    if (access(mp, F_OK) == 0) return usage_err(prog, "no PATH given after the model folder %s (%s)", argv[optind], form);
    return usage_err(prog, "no MODEL_DIR given: %s is not a model folder (%s)", argv[optind], form);
  }
  char err[600];
  pf_model *m = NULL;
  if (pf_model_load(argv[optind], &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: error: %s\n", prog, err);
    return 1;
  }
  if (m->schema != PF_ERGO486_SCHEMA_ID || m->sizes[0] != PF_ERGO486_DIM) {
    fprintf(stderr, "%s: error: %s: the model takes %u inputs of schema %u, not the %d of ergo486\n", prog,
            argv[optind], m->sizes[0], m->schema, PF_ERGO486_DIM);
    pf_model_free(&m);
    return 1;
  }
  r.m = m;
  int missing = 0;
  for (int i = optind + 1; i < argc; i++) {
    int rc = pf_walk_add(&r.files, argv[i], glob, err, sizeof err);
    if (rc == PF_ENOENT) { fprintf(stderr, "%s: error: %s\n", prog, err); missing++; }
    else if (rc != PF_OK) {
      fprintf(stderr, "%s: %s\n", prog, pf_strerror(rc));
      pf_filelist_destroy(&r.files);
      pf_model_free(&m);
      return 1;
    }
  }
  if (r.files.n == 0) {
    fprintf(stderr, "%s: no files to score\n", prog);
    pf_filelist_destroy(&r.files);
    pf_model_free(&m);
    return 1;
  }
  pf_encode_run_hooks hooks = {header, emit, NULL, &r};
  pf_encode_run_counts n;
  if (pf_encode_run(&eo, &r.files, &hooks, prog, &n, err, sizeof err) != PF_OK) {
    pf_filelist_destroy(&r.files);
    pf_model_free(&m);
    return 1;
  }
  int write_failed = fflush(stdout) != 0 || ferror(stdout);
  if (write_failed) fprintf(stderr, "%s: cannot write the output\n", prog);
  size_t scored = 0;
  for (uint32_t k = 0; k < pf_model_classes(m); k++) scored += r.per_class[k];
  int lost = scored + r.n_fail != r.files.n;
  if (lost) fprintf(stderr, "%s: error: %zu files got no result\n", prog, r.files.n - scored - r.n_fail);
  if (!quiet) {
    fprintf(stderr, "%s: %zu files", prog, r.files.n);
    for (uint32_t k = 0; k < pf_model_classes(m); k++) fprintf(stderr, ", %zu %s", r.per_class[k], m->classes[k]);
    fprintf(stderr, ", %zu failed (model %s)\n", r.n_fail, m->version[0] ? m->version : "unversioned");
  }
  pf_filelist_destroy(&r.files);
  size_t infected = 0;
  for (uint32_t k = 1; k < pf_model_classes(m) && k < PF_MODEL_MAX_CLASSES; k++) infected += r.per_class[k];
  pf_model_free(&m);
  int failed = r.n_fail || missing || lost || write_failed;
  return score_out_exit(infected_exit, failed, infected);
}
