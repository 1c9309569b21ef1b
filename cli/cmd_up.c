/* pefleet up / down: start the whole fleet on one machine under a detached
 * supervisor (supervisor/: its own redis-server with AOF, the broker, the
 * encoder workers, the scorer pool and the fronts, each restarted with
 * backoff when it dies), and stop exactly what up started. Here: the
 * arguments, one call, and what it prints. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_err.h"
#include "pf_registry.h"
#include "model_info.h"
#include "sv_checks.h"
#include "sv_run.h"
#include "sv_up.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage_up(FILE *f) {
  fprintf(f,
    "usage: pefleet up [--workers N] [--scorers N] [--port P] [--model DIR] [--data DIR] [port options]\n\n"
    "Starts the fleet on this machine, detached: redis-server (AOF on, data in\n"
    "DIR/redis), the broker, N encoder workers, the score router with N scorers,\n"
    "the HTTP gateway and the similarity service, each restarted with backoff if\n"
    "it dies. Logs go to DIR/logs/, settings to DIR/pefleet.conf. Stop it with\n"
    "'pefleet down --data DIR'.\n\n"
    "options:\n"
    "  -w, --workers N     encoder workers (default: number of cores)\n"
    "  -s, --scorers N     scorers (default 2; 0: no scorer pool, gateway or similarity service)\n"
    "  -p, --port P        HTTP gateway port (default 8080; bound to 127.0.0.1)\n"
    "      --model DIR     register this model folder and make it the one that serves\n"
    "      --data DIR      the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --redis-port P  (default 6390)  --ingest-port P (5555)  --worker-port P (5556)\n"
    "      --score-port P  (5557)  --scorer-port P (5558)  --similar-port P (5559)\n"
    "      --max-attempts N  deliveries of a sample before it is failed (default 3)\n"
    "      --no-redis-password  run Redis without a password (by default up makes one,\n"
    "                       kept in DIR/pefleet.conf, mode 0600; an existing one is kept)\n"
    "      --clamd-port P  clamd protocol (pefleet-clamd) on 127.0.0.1:P (default 3310; 0: off)\n"
    "      --clamd-socket PATH  also on this Unix socket (FILDES needs it)\n\n"
    "example:\n"
    "  pefleet up --workers 4 --scorers 2 --port 8080 --model models/seed --data /srv/pefleet\n");
}

/* Registers the --model folder (with its training-set size, as pefleet
 * promote does) and makes it serve. */
static int promote_model(pf_db *db, const char *dir) {
  char err[512], version[PF_MODEL_NAME];
  int rc = pf_registry_register(db, dir, model_info_samples(dir), version, err, sizeof err);
  if (rc == PF_OK) rc = pf_registry_promote(db, version, err, sizeof err);
  if (rc != PF_OK) { fprintf(stderr, "pefleet up: --model %s: %s\n", dir, err); return 1; }
  printf("  model %s (from %s) serves\n", version, dir);
  return 0;
}

int cmd_up(int argc, char **argv) {
  static const struct option opts[] = {
    {"workers", required_argument, 0, 'w'}, {"data", required_argument, 0, 1},
    {"redis-port", required_argument, 0, 2}, {"ingest-port", required_argument, 0, 3},
    {"worker-port", required_argument, 0, 4}, {"max-attempts", required_argument, 0, 5},
    {"scorers", required_argument, 0, 's'}, {"port", required_argument, 0, 'p'},
    {"model", required_argument, 0, 6}, {"score-port", required_argument, 0, 7},
    {"scorer-port", required_argument, 0, 8}, {"similar-port", required_argument, 0, 9},
    {"no-redis-password", no_argument, 0, 10}, {"clamd-port", required_argument, 0, 11},
    {"clamd-socket", required_argument, 0, 12}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *model = NULL;
  sv_up_opts o;
  sv_up_opts_default(&o);
  char err[1400];
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "w:s:p:h", opts, NULL)) != -1) {
    char *end = NULL;
    long v = optarg ? strtol(optarg, &end, 10) : 0;
    if (optarg && c != 1 && c != 6 && c != 12 && (*end || v < 0 || v > 65535)) {
      fprintf(stderr, "pefleet up: bad number '%s'\n", optarg);
      return 2;
    }
    switch (c) {
    case 'w': o.workers = v; break;
    case 's': o.scorers = v; break;
    case 'p': o.http_port = v; break;
    case 1: o.data = optarg; break;
    case 2: o.redis_port = v; break;
    case 3: o.ingest_port = v; break;
    case 4: o.worker_port = v; break;
    case 5: o.max_attempts = v; break;
    case 6: model = optarg; break;
    case 7: o.score_port = v; break;
    case 8: o.scorer_port = v; break;
    case 9: o.similar_port = v; break;
    case 10: o.no_redis_password = 1; break;
    case 11: o.clamd_port = v; break;
    case 12: o.clamd_socket = optarg; break;
    case 'h': usage_up(stdout); return 0;
    default: return usage_err_getopt("pefleet up", opts, "w:s:p:h", argc, argv);
    }
  }
  if (o.workers < 1 || o.workers > 64) { fprintf(stderr, "pefleet up: --workers must be 1..64\n"); return 2; }
  if (o.scorers > 32) { fprintf(stderr, "pefleet up: --scorers must be 0..32\n"); return 2; }
  if (o.max_attempts < 1 || o.max_attempts > 100) {
    fprintf(stderr, "pefleet up: --max-attempts must be 1..100\n");
    return 2;
  }
  if (model) {
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/%s", model, PF_MODEL_FILE);
    if (access(mp, R_OK) != 0) { fprintf(stderr, "pefleet up: --model %s: no readable %s\n", model, mp); return 2; }
  }
  static sv_up_result r;
  int rc = sv_up(&o, &r, err, sizeof err);
  if (rc != 0) { fprintf(stderr, "pefleet up: %s\n", err); return rc; }
  const pf_config *cfg = &r.cfg;
  printf("pefleet up: fleet running in %s (supervisor pid %d)\n", cfg->data, (int)r.st.supervisor);
  printf("  redis %s:%d (AOF in %s/redis), broker ingest %s workers %s, %d encoder workers\n", cfg->redis_host,
         cfg->redis_port, cfg->data, cfg->ingest_endpoint, cfg->worker_endpoint, cfg->workers);
  if (cfg->scorers > 0)
    printf("  score router %s with %d scorers; HTTP gateway http://%s:%d/\n", cfg->score_endpoint, cfg->scorers,
           cfg->http_address, cfg->http_port);
  if (cfg->scorers > 0 && cfg->clamd_port) printf("  clamd protocol on 127.0.0.1:%d\n", cfg->clamd_port);
  if (cfg->scorers > 0 && cfg->clamd_socket[0]) printf("  clamd protocol on %s\n", cfg->clamd_socket);
  if (r.backfill_err[0]) fprintf(stderr, "pefleet up: cannot index first-seen times: %s\n", r.backfill_err);
  else if (r.backfilled > 0) printf("  %lld samples stored before first-seen indexing joined pf:seen\n", r.backfilled);
  rc = model ? promote_model(r.db, model) : 0;
  pf_db_free(&r.db);
  if (rc != 0) { sv_abort(cfg, &r.st); return 1; }
  printf("  logs in %s/logs/; stop with: pefleet down --data %s\n", cfg->data, cfg->data);
  return 0;
}

int cmd_down(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: pefleet down [--data DIR | --config FILE]\n\nStops the fleet 'pefleet up' started in DIR: workers and broker first, Redis last.\n"
             "Exit 0 when it stopped, or when nothing was running (\"nothing running\"); 1 when it would not stop.\n");
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--data") == 0) data = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) config = argv[++i];
    else if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--config") == 0)
      return usage_err("pefleet down", "option %s needs a value", argv[i]);
    else if (argv[i][0] == '-') return usage_err("pefleet down", "unknown option %s", argv[i]);
    else return usage_err("pefleet down", "unexpected argument '%s'", argv[i]);
  }
  pf_config cfg;
  if (config) {
    char err[512];
    if (pf_config_resolve(&cfg, data, config, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet down: %s\n", err);
      return 2;
    }
  } else {
    pf_config_default(&cfg, data);
  }
  char abs[1024];
  if (realpath(cfg.data, abs)) snprintf(cfg.data, sizeof cfg.data, "%.1000s", abs); /* as up wrote it into the daemons' command lines */
  int n = 0;
  pid_t pid = 0;
  switch (sv_stop(&cfg, &n, &pid)) {
  case SV_STOP_NOTHING: printf("pefleet down: nothing running in %s\n", cfg.data); return 0;
  case SV_STOP_NONE_LEFT: fprintf(stderr, "pefleet down: no fleet is running in %s\n", cfg.data); return 1;
  case SV_STOP_ORPHANS:
    printf("pefleet down: the supervisor in %s had died; stopped the %d daemon(s) it left running\n", cfg.data, n);
    return 0;
  case SV_STOP_TIMEOUT: fprintf(stderr, "pefleet down: supervisor %d did not stop within 30 s\n", (int)pid); return 1;
  case SV_STOP_DONE: break;
  }
  printf("pefleet down: fleet in %s stopped\n", cfg.data);
  return 0;
}
