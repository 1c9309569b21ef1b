/* pefleet encode: PE files -> ergo486 vectors, in the seed's dataset.csv
 * layout or as JSON lines, parsed in isolated children. */
#include "cmd.h"
#include "pf_atomic.h"
#include "usage_err.h"
#include "pf_dataset.h"
#include "pf_clock.h"
#include "pf_encode_run.h"
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_walk.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet encode [-o FILE] [--label auto|NAME] [--filter GLOB] [-w N] [--jsonl] PATH...\n\n"
    "Encodes PE files (and every file under each folder, recursively) into the\n"
    "seed's 486-value ergo486 feature vector. Each file is parsed by LIEF in an\n"
    "isolated child process, so a malformed file only fails itself.\n\n"
    "output (default: stdout):\n"
    "  CSV in the seed's dataset.csv layout: label, then 486 values, one row per\n"
    "  encoded file, in input order. Files that fail get no row; each failure is\n"
    "  one line on stderr.\n"
    "  --jsonl: one JSON object per input file instead, failures included:\n"
    "    {\"path\",\"sha256\",\"size\",\"ok\":true,\"vector\":[...]} or\n"
    "    {\"path\",\"sha256\",\"ok\":false,\"error\"}\n\n"
    "options:\n"
    "  -o, --output FILE   write to FILE (written whole, then renamed into place)\n"
    "  -l, --label L       'auto' (default): the name of the file's folder; else L\n"
    "      --classes LIST  the classes a folder name should be (\"clean,malicious\"): one\n"
    "                      warning names the folders that are not (train would skip them)\n"
    "  -f, --filter GLOB   only files whose name matches GLOB (e.g. '*.exe')\n"
    "  -w, --workers N     parser processes (default: number of cores)\n"
    "  -j, --jsonl         JSON lines output\n"
    "      --timeout SEC   wall-clock limit per file (default 60)\n"
    "      --cpu SEC       CPU-time limit per file (default 20)\n"
    "      --mem MIB       address-space limit per parser (default 4096)\n"
    "      --max-size MIB  refuse larger files (default 512)\n"
    "  -q, --quiet         no progress line and no summary\n"
    "  -h, --help          this help\n\n"
    "exit status: 0 every file encoded, 1 some failed (or none found), 2 usage error\n\n"
    "example:\n"
    "  pefleet encode --label auto -o dataset.csv samples/clean samples/malicious\n");
}

typedef struct {
  FILE *out;
  int jsonl;
  const char *label;      /* NULL: auto */
  pf_classes classes;     /* what a folder name should be (--classes) */
  int n_odd;              /* folder names that are not classes, and their rows */
  char odd[8][64];
  size_t odd_rows[8], odd_total;
  pf_filelist files;
  int tty;                /* progress line on stderr */
  double t0, last;        /* pool start, last progress line */
} encode_run;

/* Counts the rows an auto label gives a name that is not a class. */
static void note_label(encode_run *r, const char *label) {
  if (pf_classes_index(&r->classes, label) >= 0) return;
  r->odd_total++;
  for (int i = 0; i < r->n_odd; i++)
    if (strcmp(r->odd[i], label) == 0) { r->odd_rows[i]++; return; }
  if (r->n_odd >= 8) return;
  snprintf(r->odd[r->n_odd], sizeof r->odd[0], "%.63s", label);
  r->odd_rows[r->n_odd++] = 1;
}

/* One warning for every folder name that is not a class. */
static void warn_labels(const encode_run *r) {
  if (!r->odd_total) return;
  char classes[1100], names[800] = "";
  pf_classes_list(&r->classes, classes, sizeof classes);
  size_t used = 0;
  for (int i = 0; i < r->n_odd && used < sizeof names; i++) {
    int w = snprintf(names + used, sizeof names - used, "%s'%s' %zu", i ? ", " : "", r->odd[i], r->odd_rows[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  int guess = r->classes.n - 1;
  for (int k = 0; k < r->classes.n; k++)
    if (strncmp(r->odd[0], r->classes.names[k], strlen(r->classes.names[k])) == 0) guess = k;
  fprintf(stderr,
          "pefleet encode: warning: %zu rows are labelled by a folder name that is not a class (%s): %s; train, "
          "evaluate and report will skip them (use --label NAME, or give them --label-map %s=%s)\n",
          r->odd_total, classes, names, r->odd[0], r->classes.names[guess]);
}

/* Writes one file's row (or failure line); called in input order. */
static void emit(void *ctx, size_t i, const pf_encode_result *res) {
  const encode_run *r = ctx;
  const char *path = r->files.paths[i];
  char num[40], hex[PF_SHA256_HEX_LEN + 1];
  if (res->have_hash) pf_hex(res->sha256, PF_SHA256_LEN, hex);
  if (!res->ok) fprintf(stderr, "pefleet encode: error: %s: %s\n", path, res->error);
  if (r->jsonl) {
    fputs("{\"path\":", r->out);
    pf_fmt_json_string(r->out, path);
    fputs(",\"sha256\":", r->out);
    if (res->have_hash) fprintf(r->out, "\"%s\"", hex);
    else fputs("null", r->out);
    if (res->ok) {
      fprintf(r->out, ",\"size\":%llu,\"ok\":true,\"vector\":[", (unsigned long long)res->size);
      for (int k = 0; k < PF_ERGO486_DIM; k++) {
        pf_fmt_double(res->vec[k], num, sizeof num);
        if (k) fputc(',', r->out);
        fputs(num, r->out);
      }
      fputs("]}\n", r->out);
    } else {
      fputs(",\"ok\":false,\"error\":", r->out);
      pf_fmt_json_string(r->out, res->error);
      fputs("}\n", r->out);
    }
  } else if (res->ok) {
    char label[256];
    if (r->label) snprintf(label, sizeof label, "%s", r->label);
    else {
      pf_walk_parent_name(path, label, sizeof label);
      note_label((encode_run *)r, label);
    }
    pf_fmt_csv_field(r->out, label);
    for (int k = 0; k < PF_ERGO486_DIM; k++) {
      pf_fmt_double(res->vec[k], num, sizeof num);
      fputc(',', r->out);
      fputs(num, r->out);
    }
    fputc('\n', r->out);
  }
}

static void progress(const encode_run *r, const pf_encode_run_counts *n, int final) {
  double dt = pf_clock_s() - r->t0;
  size_t done = n->ok + n->failed;
  fprintf(stderr, "\rencode: %zu/%zu files, %.1f files/s, %zu failed%s", done, r->files.n,
          dt > 0 ? (double)done / dt : 0.0, n->failed, final ? "\n" : "   ");
}

static void started_hook(void *ctx) {
  encode_run *r = ctx;
  r->t0 = pf_clock_s();
  r->last = 0;
}

static void tick_hook(void *ctx, const pf_encode_run_counts *n) {
  encode_run *r = ctx;
  if (r->tty && pf_clock_s() - r->last > 0.2) { progress(r, n, 0); r->last = pf_clock_s(); }
}

int cmd_encode(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"label", required_argument, 0, 'l'},
    {"filter", required_argument, 0, 'f'}, {"workers", required_argument, 0, 'w'},
    {"jsonl", no_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
    {"timeout", required_argument, 0, 1}, {"cpu", required_argument, 0, 2},
    {"mem", required_argument, 0, 3}, {"max-size", required_argument, 0, 4},
    {"classes", required_argument, 0, 5}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  encode_run r;
  memset(&r, 0, sizeof r);
  pf_encoder_opts eo;
  pf_encode_run_opts_default(&eo);
  const char *output = NULL, *glob = NULL, *classes = "clean,malicious";
  int quiet = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:l:f:w:jqh", opts, NULL)) != -1) {
    char *end = NULL;
    long v = 0;
    if (c == 'w' || (c >= 1 && c <= 4)) {
      v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 1000000) {
        fprintf(stderr, "pefleet encode: invalid number '%s' for --%s\n", optarg,
                c == 'w' ? "workers" : opts[c + 5].name);
        return 2;
      }
    }
    switch (c) {
    case 'o': output = optarg; break;
    case 'l': r.label = strcmp(optarg, "auto") == 0 ? NULL : optarg; break;
    case 'f': glob = optarg; break;
    case 'w': eo.workers = (int)v; break;
    case 'j': r.jsonl = 1; break;
    case 'q': quiet = 1; break;
    case 1: eo.timeout_ms = (int)(v * 1000 > 0x7fffffff ? 0x7fffffff : v * 1000); break;
    case 2: eo.cpu_seconds = (int)v; break;
    case 3: eo.mem_bytes = (uint64_t)v << 20; break;
    case 4: eo.max_file_size = (uint64_t)v << 20; break;
    case 5: classes = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet encode", opts, "o:l:f:w:jqh", argc, argv);
    }
  }
  if (optind >= argc) return usage_err("pefleet encode", "no PATH given");
  if (pf_classes_parse(classes, &r.classes) != PF_OK)
    return usage_err("pefleet encode", "--classes needs 2 to 16 comma-separated names");
  char err[512];
  int missing = 0;
  for (int i = optind; i < argc; i++) {
    int rc = pf_walk_add(&r.files, argv[i], glob, err, sizeof err);
    if (rc == PF_ENOENT) { fprintf(stderr, "pefleet encode: error: %s\n", err); missing++; }
    else if (rc != PF_OK) { fprintf(stderr, "pefleet encode: %s\n", pf_strerror(rc)); return 1; }
  }
  if (r.files.n == 0) {
    fprintf(stderr, "pefleet encode: no files to encode\n");
    pf_filelist_destroy(&r.files);
    return 1;
  }
  pf_atomic tmp;
  if (output) {
    r.out = pf_atomic_open(&tmp, output, NULL);
    if (!r.out) {
      fprintf(stderr, "pefleet encode: cannot write %s: %m\n", tmp.tmp);
      pf_filelist_destroy(&r.files);
      return 1;
    }
  } else {
    r.out = stdout;
  }
  r.tty = !quiet && isatty(2);
  pf_encode_run_hooks hooks = {started_hook, emit, tick_hook, &r};
  pf_encode_run_counts n;
  if (pf_encode_run(&eo, &r.files, &hooks, "pefleet encode", &n, err, sizeof err) != PF_OK) {
    if (output) pf_atomic_abort(&tmp);
    pf_filelist_destroy(&r.files);
    return 1;
  }
  if (r.tty) progress(&r, &n, 1);
  if (!r.jsonl) warn_labels(&r);
  int write_failed = fflush(r.out) != 0 || ferror(r.out);
  if (output) {
    if (write_failed) pf_atomic_abort(&tmp);
    else write_failed = pf_atomic_commit(&tmp) != PF_OK;
    if (write_failed) fprintf(stderr, "pefleet encode: cannot write %s: %m\n", output);
  }
  double dt = pf_clock_s() - r.t0;
  if (!quiet)
    fprintf(stderr, "pefleet encode: %zu files, %zu encoded, %zu failed, %.2f s, %.1f files/s, %.2f MB/s\n",
            r.files.n, n.ok, n.failed, dt, dt > 0 ? (double)(n.ok + n.failed) / dt : 0.0,
            dt > 0 ? (double)n.bytes / 1e6 / dt : 0.0);
  int lost = n.ok + n.failed != r.files.n;
  if (lost) fprintf(stderr, "pefleet encode: error: %zu files got no result\n", r.files.n - n.ok - n.failed);
  pf_filelist_destroy(&r.files);
  return (n.failed || missing || lost || write_failed) ? 1 : 0;
}
