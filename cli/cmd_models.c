/* pefleet promote / models / rollback: which model serves, by hand.
 * A model folder is registered (lib/pf_registry.h) and made current; a
 * version string is made current directly; rollback goes back to the model
 * promoted before; models lists the registry. Promotion and rollback
 * publish on pf:model, so running scorers switch models. */
#include "cmd.h"
#include "fleet.h"
#include "model_info.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_registry.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "usage_err.h"

#define MODELS_MAX 1000 /* entries `models` lists at most */

/* Parses --data/--config (and --json when json is not NULL); leaves optind
 * at the first operand. Returns -1 to go on, else the exit code. */
static int parse_common(const char *who, int argc, char **argv, const char **data, const char **config, int *json,
                        void (*usage)(FILE *)) {
  static const struct option opts[] = {
    {"data", required_argument, 0, 1}, {"config", required_argument, 0, 2}, {"json", no_argument, 0, 3},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 1: *data = optarg; break;
    case 2: *config = optarg; break;
    case 3:
      if (!json) { fprintf(stderr, "pefleet %s: unknown option --json (see pefleet %s --help)\n", who, who); return 2; }
      *json = 1;
      break;
    case 'h': usage(stdout); return 0;
    default: {
      char prog[64];
      snprintf(prog, sizeof prog, "pefleet %s", who);
      return usage_err_getopt(prog, opts, "h", argc, argv);
    }
    }
  }
  return -1;
}

static int connect_db(const char *who, const char *data, const char *config, pf_db **db) {
  pf_config cfg;
  char err[512];
  char whos[64];
  snprintf(whos, sizeof whos, "pefleet %s", who);
  int frc = fleet_resolve(whos, data, config, &cfg);
  if (frc != 0) return frc;
  if (fleet_db(&cfg, db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet %s: %s\n", who, err);
    return 1;
  }
  return 0;
}

/* ---- promote ---- */

static void promote_usage(FILE *f) {
  fprintf(f,
    "usage: pefleet promote MODEL_DIR|VERSION [--data DIR | --config FILE]\n\n"
    "Makes a model the one the scorers serve. A folder (model.pfnn, with stats.json\n"
    "and model.json when present) is registered first; a version names a model\n"
    "already registered (pefleet models lists them). Running scorers switch at a\n"
    "request boundary (announced on the Redis channel pf:model).\n\n"
    "exit status: 0 promoted, 1 failure (unknown version, bad folder, Redis), 2 usage error\n\n"
    "examples:\n"
    "  pefleet promote models/seed-repro\n"
    "  pefleet promote 3f9a0c1d22e4\n");
}

int cmd_promote(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  int rc = parse_common("promote", argc, argv, &data, &config, NULL, promote_usage);
  if (rc >= 0) return rc;
  if (optind != argc - 1) {
    fprintf(stderr, "pefleet promote: give one MODEL_DIR or VERSION\n");
    return 2;
  }
  const char *what = argv[optind];
  pf_db *db = NULL;
  if ((rc = connect_db("promote", data, config, &db)) != 0) return rc;
  char version[PF_MODEL_NAME], err[1400];
  struct stat st;
  if (stat(what, &st) == 0 && S_ISDIR(st.st_mode)) {
    long long samples = model_info_samples(what);
    if (pf_registry_register(db, what, samples, version, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet promote: cannot register %s: %s\n", what, err);
      pf_db_free(&db);
      return 1;
    }
  } else {
    snprintf(version, sizeof version, "%s", what);
  }
  if (pf_registry_promote(db, version, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet promote: %s%s\n", err,
            strchr(what, '/') ? " (and it is not a folder)" : "");
    pf_db_free(&db);
    return 1;
  }
  printf("promoted %s\n", version);
  pf_db_free(&db);
  return 0;
}

/* ---- rollback ---- */

static void rollback_usage(FILE *f) {
  fprintf(f,
    "usage: pefleet rollback [--data DIR | --config FILE]\n\n"
    "Makes the model promoted before the current one serve again; a second rollback\n"
    "goes further back.\n\n"
    "exit status: 0 rolled back, 1 nothing to roll back to or Redis failure, 2 usage error\n");
}

int cmd_rollback(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  int rc = parse_common("rollback", argc, argv, &data, &config, NULL, rollback_usage);
  if (rc >= 0) return rc;
  if (optind != argc) { fprintf(stderr, "pefleet rollback: unexpected argument '%s'\n", argv[optind]); return 2; }
  pf_db *db = NULL;
  if ((rc = connect_db("rollback", data, config, &db)) != 0) return rc;
  char from[PF_MODEL_NAME] = "", to[PF_MODEL_NAME], err[512];
  pf_registry_current(db, from);
  if (pf_registry_rollback(db, to, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet rollback: %s\n", err);
    pf_db_free(&db);
    return 1;
  }
  printf("rolled back from %s to %s\n", from[0] ? from : "(none)", to);
  pf_db_free(&db);
  return 0;
}

/* ---- models ---- */

static void models_usage(FILE *f) {
  fprintf(f,
    "usage: pefleet models [--json] [--data DIR | --config FILE]\n\n"
    "Lists the registered models, newest first: version, parent, registration time,\n"
    "training samples and the test split's ROC AUC and FPR at the threshold (from\n"
    "the stats.json registered with it); '*' marks the model that serves. A model\n"
    "retrain judged also shows its verdict (promoted, kept, not promoted), with the\n"
    "reason and both models' ROC AUC on the test split and the fresh window.\n"
    "--json: one array of {\"version\", \"parent\", \"registered\", \"samples\", \"dir\",\n"
    "\"current\", \"test_roc_auc\", \"test_fpr\", \"gate\"} (unknown figures are null;\n"
    "gate: {\"decision\", \"reason\", \"champion\", \"test\": {...}, \"fresh\": {...}} or null).\n\n"
    "exit status: 0 listed, 1 Redis failure, 2 usage error\n");
}

static void json_num(FILE *f, double v) {
  char num[40];
  pf_fmt_double(v, num, sizeof num); /* non-finite: null */
  fputs(num, f);
}

static void fig(char *buf, size_t n, double v) {
  if (isfinite(v)) snprintf(buf, n, "%.4f", v);
  else snprintf(buf, n, "-");
}

int cmd_models(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  int json = 0;
  int rc = parse_common("models", argc, argv, &data, &config, &json, models_usage);
  if (rc >= 0) return rc;
  if (optind != argc) { fprintf(stderr, "pefleet models: unexpected argument '%s'\n", argv[optind]); return 2; }
  pf_db *db = NULL;
  if ((rc = connect_db("models", data, config, &db)) != 0) return rc;
  pf_registry_entry *e = calloc(MODELS_MAX, sizeof *e);
  int n = 0;
  if (!e || pf_registry_list(db, e, MODELS_MAX, &n) != PF_OK) {
    fprintf(stderr, "pefleet models: %s\n", e ? pf_db_error(db) : "out of memory");
    free(e);
    pf_db_free(&db);
    return 1;
  }
  int wv = 7, wp = 6; /* column widths: the longest version and parent */
  for (int i = 0; i < n; i++) {
    if ((int)strlen(e[i].version) > wv) wv = (int)strlen(e[i].version);
    if ((int)strlen(e[i].parent) > wp) wp = (int)strlen(e[i].parent);
  }
  if (json) fputs("[", stdout);
  else printf("  %-*s  %-*s  %-19s  %10s  %8s  %8s  %9s  %-12s\n", wv, "VERSION", wp, "PARENT", "REGISTERED (UTC)",
              "SAMPLES", "TEST_AUC", "TEST_FPR", "FRESH_AUC", "GATE");
  for (int i = 0; i < n; i++) {
    char *stats = NULL;
    double auc = NAN, fpr = NAN;
    pf_registry_entry full;
    if (pf_registry_get(db, e[i].version, &full, &stats) == PF_OK) model_info_test_figures(stats, &auc, &fpr);
    free(stats);
    char *gate_txt = NULL;
    pf_registry_gate(db, e[i].version, &gate_txt);
    cJSON *gate = gate_txt ? cJSON_Parse(gate_txt) : NULL;
    free(gate_txt);
    if (gate && !cJSON_IsObject(gate)) { cJSON_Delete(gate); gate = NULL; }
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(gate, "decision");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(gate, "reason");
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(gate, "fresh"),
                                                       "challenger_roc_auc");
    if (json) {
      fputs(i ? ",\n {\"version\": " : "\n {\"version\": ", stdout);
      pf_fmt_json_string(stdout, e[i].version);
      fputs(", \"parent\": ", stdout);
      pf_fmt_json_string(stdout, e[i].parent);
      printf(", \"registered\": %lld, \"samples\": ", e[i].registered);
      if (e[i].samples >= 0) printf("%lld", e[i].samples);
      else fputs("null", stdout);
      fputs(", \"dir\": ", stdout);
      pf_fmt_json_string(stdout, e[i].dir);
      printf(", \"current\": %s, \"test_roc_auc\": ", e[i].current ? "true" : "false");
      json_num(stdout, auc);
      fputs(", \"test_fpr\": ", stdout);
      json_num(stdout, fpr);
      fputs(", \"gate\": ", stdout);
      char *g = gate ? cJSON_PrintUnformatted(gate) : NULL;
      fputs(g ? g : "null", stdout);
      free(g);
      fputs("}", stdout);
    } else {
      char when[32] = "-", samp[24] = "-", a[16], f[16];
      time_t t = (time_t)e[i].registered;
      struct tm tm;
      if (e[i].registered > 0 && gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
      if (e[i].samples >= 0) snprintf(samp, sizeof samp, "%lld", e[i].samples);
      fig(a, sizeof a, auc);
      fig(f, sizeof f, fpr);
      char fr[16];
      fig(fr, sizeof fr, cJSON_IsNumber(fa) ? fa->valuedouble : NAN);
      printf("%c %-*s  %-*s  %-19s  %10s  %8s  %8s  %9s  %-12s\n", e[i].current ? '*' : ' ', wv, e[i].version, wp,
             e[i].parent[0] ? e[i].parent : "-", when, samp, a, f, fr, cJSON_IsString(dec) ? dec->valuestring : "-");
      if (cJSON_IsString(why) && why->valuestring[0]) {
        fputs("    why: ", stdout);
        for (const char *c = why->valuestring; *c; c++) putchar((unsigned char)*c < 0x20 ? ' ' : *c);
        putchar('\n');
      }
    }
    cJSON_Delete(gate);
  }
  if (json) fputs(n ? "\n]\n" : "]\n", stdout);
  else if (n == 0) printf("(no models registered: pefleet promote MODEL_DIR or pefleet retrain)\n");
  free(e);
  pf_db_free(&db);
  return 0;
}
