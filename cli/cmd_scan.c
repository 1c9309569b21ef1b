/* pefleet scan: PE files -> verdicts, locally with a model folder (exactly
 * `pefleet predict`) or through the fleet's score pool (--server), with
 * the same output and exit codes either way. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_config.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_msg.h"
#include "pf_rpc.h"
#include "pf_walk.h"
#include "score_out.h"
#include "explain_similar.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCAN_MAX_FILE ((size_t)PF_MSG_MAX_SAMPLE - 65536)

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet scan MODEL_DIR [--jsonl] [-f GLOB] [-w N] [-q] PATH...\n"
    "       pefleet scan --server [ENDPOINT] [--data DIR | --config FILE] [--jsonl] [-f GLOB]\n"
    "                    [--timeout SEC] [--classes LIST] [-q] PATH...\n\n"
    "Scores PE files (and every file under each folder, recursively).\n"
    "  with MODEL_DIR: locally, exactly as `pefleet predict` (isolated LIEF parsers).\n"
    "  with --server:  through the fleet's score pool: each file's bytes go to the\n"
    "                  score router at ENDPOINT (e.g. tcp://127.0.0.1:5557; default:\n"
    "                  score_endpoint of the fleet's configuration), which encodes and\n"
    "                  scores them with the model that serves.\n\n"
    "output (stdout, in input order), the same both ways:\n"
    "  a table: verdict, one probability per class, sha256 prefix, path\n"
    "  --jsonl: {\"path\",\"sha256\",\"probabilities\":[p0,p1],\"verdict\"} or {\"path\",\"sha256\",\"error\"}\n"
    "  failures are also one line each on stderr.\n\n"
    "options with --server:\n"
    "  --timeout SEC     wait per file for the pool (default 60); after one file gets no\n"
    "                    answer the rest fail at once\n"
    "  --classes LIST    the probability columns' names (default \"clean, malicious\")\n"
    "  -j, --jsonl, -f, --filter GLOB, -q, --quiet: as predict\n"
    "  --explain[=K]     (both ways) why, as predict --explain; through the pool the\n"
    "                    scorer computes it, and the 3 stored samples most like the\n"
    "                    file (the similarity service) are added when it answers\n"
    "  --infected-exit   (both ways) clamscan's exit status: 0 nothing malicious,\n"
    "                    1 some file malicious, 2 some failed\n\n"
    "exit status: 0 every file scored, 1 some failed (or none found, or the model or\n"
    "pool could not be reached), 2 usage error (with --infected-exit: see above)\n");
}

/* The endpoint after --server when the next argument looks like one. */
static int looks_like_endpoint(const char *s) {
  return strncmp(s, "tcp://", 6) == 0 || strncmp(s, "ipc://", 6) == 0 || strncmp(s, "inproc://", 9) == 0;
}

static int read_sample(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0) {
    snprintf(err, errlen, "cannot read: %s", strerror(errno));
    if (f) fclose(f);
    return PF_EIO;
  }
  if ((size_t)st.st_size > SCAN_MAX_FILE) {
    fclose(f);
    snprintf(err, errlen, "file of %lld bytes is larger than the %zu a request can carry", (long long)st.st_size,
             SCAN_MAX_FILE);
    return PF_ELIMIT;
  }
  uint8_t *b = malloc((size_t)st.st_size + 1);
  size_t got = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
  int bad = !b || got != (size_t)st.st_size || ferror(f);
  fclose(f);
  if (bad) {
    free(b);
    snprintf(err, errlen, "cannot read: %s", b ? "short read" : "out of memory");
    return PF_EIO;
  }
  *out = b;
  *len = got;
  return PF_OK;
}

static int scan_remote(int argc, char **argv, const char *endpoint) {
  static const struct option opts[] = {
    {"jsonl", no_argument, 0, 'j'}, {"filter", required_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
    {"timeout", required_argument, 0, 1}, {"classes", required_argument, 0, 2}, {"data", required_argument, 0, 3},
    {"config", required_argument, 0, 4}, {"infected-exit", no_argument, 0, 5}, {"explain", optional_argument, 0, 6},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *glob = NULL, *data = NULL, *config = NULL, *classes = "clean, malicious";
  int jsonl = 0, quiet = 0, timeout_ms = 60000, infected_exit = 0, c;
  size_t explain_k = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "jf:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'j': jsonl = 1; break;
    case 'f': glob = optarg; break;
    case 'q': quiet = 1; break;
    case 1: {
      char *end = NULL;
      long v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 86400) {
        fprintf(stderr, "pefleet scan: invalid number '%s' for --timeout\n", optarg);
        return 2;
      }
      timeout_ms = (int)(v * 1000);
      break;
    }
    case 2: classes = optarg; break;
    case 3: data = optarg; break;
    case 4: config = optarg; break;
    case 5: infected_exit = 1; break;
    case 6: {
      char why[128];
      if (!score_out_explain_k(optarg, &explain_k, why, sizeof why)) {
        fprintf(stderr, "pefleet scan: %s\n", why);
        return 2;
      }
      break;
    }
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet scan", opts, "jf:qh", argc, argv);
    }
  }
  if (optind >= argc) return usage_err("pefleet scan", "no PATH given (--server [ENDPOINT] PATH...)");
  /* class names: "clean, malicious" -> names[] */
  static char name_buf[PF_MODEL_MAX_CLASSES][PF_MODEL_NAME];
  const char *names[PF_MODEL_MAX_CLASSES];
  uint32_t nc = 0;
  for (const char *s = classes; *s && nc < PF_MODEL_MAX_CLASSES;) {
    const char *e = strchr(s, ',');
    if (!e) e = s + strlen(s);
    while (s < e && *s == ' ') s++;
    const char *b = e;
    while (b > s && b[-1] == ' ') b--;
    snprintf(name_buf[nc], sizeof name_buf[nc], "%.*s", (int)(b - s), s);
    names[nc] = name_buf[nc];
    nc++;
    s = *e ? e + 1 : e;
  }
  if (nc < 2) {
    fprintf(stderr, "pefleet scan: --classes needs at least two names\n");
    return 2;
  }
  char err[600];
  pf_config cfg;
  if (pf_config_resolve(&cfg, data, config, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet scan: %s\n", err);
    return 2;
  }
  if (!endpoint) endpoint = cfg.score_endpoint;
  pf_filelist files;
  memset(&files, 0, sizeof files);
  int missing = 0;
  for (int i = optind; i < argc; i++) {
    int rc = pf_walk_add(&files, argv[i], glob, err, sizeof err);
    if (rc == PF_ENOENT) { fprintf(stderr, "pefleet scan: error: %s\n", err); missing++; }
    else if (rc != PF_OK) {
      fprintf(stderr, "pefleet scan: %s\n", pf_strerror(rc));
      pf_filelist_destroy(&files);
      return 1;
    }
  }
  if (files.n == 0) {
    fprintf(stderr, "pefleet scan: no files to score\n");
    pf_filelist_destroy(&files);
    return 1;
  }
  pf_rpc *rpc = NULL;
  if (pf_rpc_new(NULL, endpoint, &cfg, &rpc, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet scan: error: %s\n", err);
    pf_filelist_destroy(&files);
    return 1;
  }
  score_out out;
  score_out_init(&out, jsonl, nc, names);
  out.explain_k = explain_k;
  score_out_header(&out);
  /* explanations name the stored samples most like the file, where the
   * fleet's similarity service answers */
  pf_rpc *sim = NULL;
  if (explain_k && cfg.similar_endpoint[0] && pf_rpc_new(NULL, cfg.similar_endpoint, &cfg, &sim, err, sizeof err) != PF_OK)
    sim = NULL;
  size_t n_fail = 0, per_class[PF_MODEL_MAX_CLASSES] = {0}, n_other = 0;
  char down[700] = ""; /* set once the pool did not answer: the rest fail at once */
  char model[128] = "";
  for (size_t i = 0; i < files.n; i++) {
    const char *path = files.paths[i];
    uint8_t *buf = NULL;
    size_t len = 0;
    char why[700] = "", hex[PF_SHA256_HEX_LEN + 1];
    int have_hex = 0;
    float p[PF_MODEL_MAX_CLASSES];
    const char *verdict = NULL;
    Pefleet__Envelope *rep = NULL;
    if (read_sample(path, &buf, &len, why, sizeof why) == PF_OK) {
      uint8_t d[PF_SHA256_LEN];
      if (pf_sha256(buf, len, d) == PF_OK) { pf_hex(d, PF_SHA256_LEN, hex); have_hex = 1; }
      if (down[0]) {
        snprintf(why, sizeof why, "%s", down);
      } else {
        Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
        Pefleet__ScoreRequest sr;
        pefleet__score_request__init(&sr); /* (the oneof INIT macros trip -Wmissing-braces) */
        env.body_case = PEFLEET__ENVELOPE__BODY_SCORE;
        env.score = &sr;
        sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SAMPLE;
        sr.sample.data = buf;
        sr.sample.len = len;
        sr.explain = explain_k > 0;
        int rc = pf_rpc_call(rpc, &env, timeout_ms, &rep, err, sizeof err);
        if (rc == PF_ETIMEOUT) {
          /* pf_rpc says what ran out: the connection (2 s at most) or the answer (--timeout) */
          snprintf(down, sizeof down, "the score pool at %.200s: %.400s", endpoint, err);
          snprintf(why, sizeof why, "%s", down);
        } else if (rc != PF_OK) {
          snprintf(why, sizeof why, "score pool: %s", err);
        } else {
          Pefleet__ScoreReply *s = rep->score_reply;
          if (s->status != PEFLEET__SCORE_STATUS__SCORE_OK)
            snprintf(why, sizeof why, "%s", s->error && *s->error ? s->error : "the scorer could not score it");
          else if (s->n_probabilities < 1)
            snprintf(why, sizeof why, "the score pool sent no probabilities");
          else {
            for (uint32_t k = 0; k < nc; k++) p[k] = k < s->n_probabilities ? (float)s->probabilities[k] : 0.0f;
            verdict = s->verdict ? s->verdict : "";
            if (s->model_version) snprintf(model, sizeof model, "%s", s->model_version);
          }
        }
      }
    }
    free(buf);
    if (!verdict) {
      fprintf(stderr, "pefleet scan: error: %s: %s\n", path, why);
      n_fail++;
    } else {
      uint32_t k = 0;
      while (k < nc && strcmp(names[k], verdict) != 0) k++;
      if (k < nc) per_class[k]++;
      else n_other++;
    }
    pf_explain_view ev, *ex = NULL;
    char similar[4096] = "";
    int have_similar = 0;
    if (verdict && explain_k) {
      const Pefleet__ScoreReply *s = rep->score_reply;
      const Pefleet__Explanation *e = s->explanation;
      if (e && s->vector && e->n_contributions == s->vector->n_values && e->target < nc) {
        ev = (pf_explain_view){e->contributions, s->vector->values, e->n_contributions, names[e->target], e->p,
                               e->p_baseline, e->baseline, (int)e->steps, e->method};
        ex = &ev;
        have_similar = explain_similar_json(sim, s->vector->values, s->vector->n_values, 3, 2000, similar, sizeof similar);
      } else {
        fprintf(stderr, "pefleet scan: %s: the score pool sent no explanation\n", path);
      }
    }
    score_out_line(&out, path, have_hex ? hex : NULL, verdict ? p : NULL, verdict, why, ex, have_similar ? similar : NULL);
    fflush(stdout);
    pf_msg_free(rep);
  }
  pf_rpc_free(&sim);
  pf_rpc_free(&rpc);
  int write_failed = fflush(stdout) != 0 || ferror(stdout);
  if (write_failed) fprintf(stderr, "pefleet scan: cannot write the output\n");
  if (!quiet) {
    fprintf(stderr, "pefleet scan: %zu files", files.n);
    for (uint32_t k = 0; k < nc; k++) fprintf(stderr, ", %zu %s", per_class[k], names[k]);
    if (n_other) fprintf(stderr, ", %zu other", n_other);
    fprintf(stderr, ", %zu failed (model %s, via %s)\n", n_fail, model[0] ? model : "unknown", endpoint);
  }
  pf_filelist_destroy(&files);
  size_t infected = n_other;
  for (uint32_t k = 1; k < nc; k++) infected += per_class[k];
  return score_out_exit(infected_exit, n_fail || missing || write_failed, infected);
}

int cmd_scan(int argc, char **argv) {
  const char *endpoint = NULL;
  int remote = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strncmp(argv[i], "--server=", 9) == 0) {
      endpoint = argv[i] + 9;
      remote = 1;
      memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv); /* argv[argc] is NULL */
      argc--;
      i--;
    } else if (strcmp(argv[i], "--server") == 0) {
      int take = i + 1 < argc && looks_like_endpoint(argv[i + 1]);
      if (take) endpoint = argv[i + 1];
      remote = 1;
      memmove(&argv[i], &argv[i + 1 + take], (size_t)(argc - i - take) * sizeof *argv);
      argc -= 1 + take;
      i--;
    }
  }
  if (remote) return scan_remote(argc, argv, endpoint && *endpoint ? endpoint : NULL);
  return cmd_predict_as(argc, argv, "pefleet scan");
}
