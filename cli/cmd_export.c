/* pefleet export: the stored vectors, in the seed's CSV layout or JSONL. */
#include "cmd.h"
#include "usage_err.h"
#include "fleet.h"
#include "pf_atomic.h"
#include "pf_date.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_split.h"

#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  FILE *out;
  int jsonl, with_seen;
  long long n;
} export_ctx;

static int put(const pf_db_sample *s, void *arg) {
  export_ctx *x = arg;
  char num[40], seen[PF_DATE_LEN];
  pf_date_format(s->first_seen, seen, sizeof seen);
  if (!s->has_vector || strcmp(s->status, "done") != 0) return 0;
  if (x->jsonl) {
    fprintf(x->out, "{\"sha256\":\"%s\",\"label\":", s->sha);
    pf_fmt_json_string(x->out, s->label);
    fprintf(x->out, ",\"split\":\"%s\",\"first_seen\":", s->split);
    if (seen[0] == '-') fputs("null", x->out);
    else fprintf(x->out, "\"%s\"", seen);
    fputs(",\"vector\":[", x->out);
    for (uint32_t i = 0; i < s->dim; i++) {
      pf_fmt_double(s->vec[i], num, sizeof num);
      fprintf(x->out, "%s%s", i ? "," : "", num);
    }
    fputs("]}\n", x->out);
  } else {
    pf_fmt_csv_field(x->out, s->label);
    for (uint32_t i = 0; i < s->dim; i++) {
      pf_fmt_double(s->vec[i], num, sizeof num);
      fprintf(x->out, ",%s", num);
    }
    if (x->with_seen) fprintf(x->out, ",%s", seen);
    fputc('\n', x->out);
  }
  x->n++;
  return ferror(x->out) ? 1 : 0;
}

int cmd_export(int argc, char **argv) {
  static const struct option opts[] = {
    {"split", required_argument, 0, 's'}, {"jsonl", no_argument, 0, 'j'}, {"output", required_argument, 0, 'o'},
    {"data", required_argument, 0, 1}, {"config", required_argument, 0, 2}, {"help", no_argument, 0, 'h'},
    {"with-seen", no_argument, 0, 3}, {0, 0, 0, 0},
  };
  const char *data = NULL, *config = NULL, *output = NULL, *split = "all";
  export_ctx x = {stdout, 0, 0, 0};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "s:jo:h", opts, NULL)) != -1) {
    switch (c) {
    case 's': split = optarg; break;
    case 'j': x.jsonl = 1; break;
    case 'o': output = optarg; break;
    case 1: data = optarg; break;
    case 2: config = optarg; break;
    case 3: x.with_seen = 1; break;
    case 'h':
      printf("usage: pefleet export [--split train|validation|test|all] [--jsonl] [--with-seen] [-o FILE]\n"
             "                      [--data DIR]\n\n"
             "Writes every stored vector of the split: the seed's CSV layout (label, 486\n"
             "values; --with-seen adds the first-seen time as a last field, as import-csv\n"
             "--seen-column reads it) or JSON lines {\"sha256\",\"label\",\"split\",\n"
             "\"first_seen\" (UTC, YYYY-MM-DDTHH:MM:SSZ),\"vector\"}.\n");
      return 0;
    default: return usage_err_getopt("pefleet export", opts, "s:jo:h", argc, argv);
    }
  }
  int sp = strcmp(split, "all") == 0 ? -1 : pf_split_parse(split);
  if (sp < -1 || (sp == -1 && strcmp(split, "all") != 0)) {
    fprintf(stderr, "pefleet export: unknown split '%s' (train, validation, test or all)\n", split);
    return 2;
  }
  pf_config cfg;
  char err[512];
  int frc = fleet_resolve("pefleet export", data, config, &cfg);
  if (frc != 0) return frc;
  pf_db *db = NULL;
  if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet export: %s\n", err);
    return 1;
  }
  pf_atomic tmp;
  if (output) {
    x.out = pf_atomic_open(&tmp, output, NULL);
    if (!x.out) { fprintf(stderr, "pefleet export: cannot write %s: %s\n", tmp.tmp, strerror(errno)); pf_db_free(&db); return 1; }
  }
  int rc = pf_db_each(db, sp, put, &x);
  int bad = rc != PF_OK || fflush(x.out) != 0 || ferror(x.out);
  if (rc != PF_OK) fprintf(stderr, "pefleet export: %s\n", pf_db_error(db));
  if (output) {
    if (bad) pf_atomic_abort(&tmp);
    else if (pf_atomic_commit(&tmp) != PF_OK) bad = 1;
  }
  fprintf(stderr, "pefleet export: %lld vectors (%s)\n", x.n, split);
  pf_db_free(&db);
  return bad ? 1 : 0;
}
