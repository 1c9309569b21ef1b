/* pefleet up's sequence (see sv_up.h). */
#include "sv_up.h"
#include "sv_checks.h"
#include "sv_run.h"
#include "sv_secrets.h"
#include "pf_err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sv_up_opts_default(sv_up_opts *o) {
  memset(o, 0, sizeof *o);
  o->workers = sysconf(_SC_NPROCESSORS_ONLN);
  o->scorers = 2;
  o->max_attempts = 3;
  o->http_port = o->redis_port = o->ingest_port = o->worker_port = -1;
  o->score_port = o->scorer_port = o->similar_port = o->clamd_port = -1;
}

/* A port flag: given wins; else the variable env, when set, has already
 * set it (pf_config_env); else the default. Returns 1 when it sets it. */
static int port_of(long given, long def, const char *env, long *out) {
  if (given < 0 && getenv(env)) return 0;
  *out = given >= 0 ? given : def;
  return 1;
}

static void endpoint_of(char *ep, size_t n, long given, long def, const char *env) {
  long port;
  if (port_of(given, def, env, &port)) snprintf(ep, n, "tcp://127.0.0.1:%ld", port);
}

static void add_role(sv_state *st, const char *role, int index) {
  snprintf(st->d[st->n].role, sizeof st->d[0].role, "%s", role);
  st->d[st->n++].index = index;
}

/* The settings: defaults for the absolute data folder, PEFLEET_*, the
 * flags; then secrets, the fleet id and the ports checked. */
static int settings(const sv_up_opts *o, pf_config *cfg, char *err, size_t errlen) {
  if (pf_config_env(cfg, err, errlen) != PF_OK) return 2;
  long v;
  if (port_of(o->redis_port, 6390, "PEFLEET_REDIS_PORT", &v)) cfg->redis_port = (int)v;
  cfg->workers = (int)o->workers;
  cfg->scorers = (int)o->scorers;
  if (port_of(o->http_port, 8080, "PEFLEET_HTTP_PORT", &v)) cfg->http_port = (int)v;
  cfg->max_attempts = (int)o->max_attempts;
  endpoint_of(cfg->ingest_endpoint, sizeof cfg->ingest_endpoint, o->ingest_port, 5555, "PEFLEET_INGEST_ENDPOINT");
  endpoint_of(cfg->worker_endpoint, sizeof cfg->worker_endpoint, o->worker_port, 5556, "PEFLEET_WORKER_ENDPOINT");
  endpoint_of(cfg->score_endpoint, sizeof cfg->score_endpoint, o->score_port, 5557, "PEFLEET_SCORE_ENDPOINT");
  endpoint_of(cfg->scorer_endpoint, sizeof cfg->scorer_endpoint, o->scorer_port, 5558, "PEFLEET_SCORER_ENDPOINT");
  endpoint_of(cfg->similar_endpoint, sizeof cfg->similar_endpoint, o->similar_port, 5559, "PEFLEET_SIMILAR_ENDPOINT");
  if (sv_secrets_prepare(cfg, o->no_redis_password, err, errlen) != PF_OK) return 1;
  if (port_of(o->clamd_port, 3310, "PEFLEET_CLAMD_PORT", &v)) cfg->clamd_port = (int)v;
  if (o->clamd_socket) snprintf(cfg->clamd_socket, sizeof cfg->clamd_socket, "%s", o->clamd_socket);
  /* one fleet per Redis, and nothing started when a port is taken */
  if (sv_fleet_id(cfg, err, errlen) != PF_OK || sv_ports_check(cfg, err, errlen) != PF_OK) return 1;
  return 0;
}

/* The daemons to run: Redis, the broker, the workers; with scorers the
 * router, the scorers and the fronts whose programs are installed. */
static void roles(const pf_config *cfg, sv_state *st) {
  memset(st, 0, sizeof *st);
  add_role(st, "redis", 0);
  add_role(st, "broker", 0);
  for (int i = 1; i <= cfg->workers; i++) add_role(st, "encoder-worker", i);
  char prog[1024];
  if (cfg->scorers > 0) {
    add_role(st, "score-router", 0);
    for (int i = 1; i <= cfg->scorers; i++) add_role(st, "scorer", i);
    if (sv_program("pefleet-gateway", prog, sizeof prog) == PF_OK) add_role(st, "gateway", 0);
    else printf("  (no pefleet-gateway beside pefleet: the HTTP gateway is not started)\n");
    if (sv_program("pefleet-similar", prog, sizeof prog) == PF_OK) add_role(st, "similar", 0);
    else printf("  (no pefleet-similar beside pefleet: the similarity service is not started)\n");
    if ((cfg->clamd_port || cfg->clamd_socket[0]) && sv_program("pefleet-clamd", prog, sizeof prog) == PF_OK)
      add_role(st, "clamd", 0);
  }
}

int sv_up(const sv_up_opts *o, sv_up_result *r, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  pf_config *cfg = &r->cfg;
  pf_config_default(cfg, o->data);
  char abs[PATH_MAX];
  if (mkdir(cfg->data, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", cfg->data, strerror(errno));
    return 1;
  }
  if (!realpath(cfg->data, abs)) {
    snprintf(err, errlen, "%s: %s", cfg->data, strerror(errno));
    return 1;
  }
  pf_config_default(cfg, abs);
  sv_state *st = &r->st;
  if (sv_state_load(cfg, st) == PF_OK) {
    if (sv_alive(st->supervisor)) {
      snprintf(err, errlen, "a fleet is already running in %s (supervisor pid %d)", cfg->data, (int)st->supervisor);
      return 1;
    }
    int orphan[SV_MAX_DAEMONS];
    int no = sv_orphans(cfg, st, orphan, SV_MAX_DAEMONS);
    if (no > 0) {
      snprintf(err, errlen, "%d daemon(s) of an earlier fleet in %s still run without their supervisor "
                            "(e.g. %s pid %d); stop them first with: pefleet down --data %s",
               no, cfg->data, st->d[orphan[0]].role, (int)st->d[orphan[0]].pid, cfg->data);
      return 1;
    }
  }
  /* PEFLEET_* settings (CURVE keys, a Redis password, ...) go into
   * pefleet.conf too, so commands that read it later agree with the daemons
   * (which inherit this environment); port flags given win over them */
  int rc = settings(o, cfg, err, errlen);
  if (rc != 0) return rc;
  char p[1100];
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", cfg->data, i == 0 ? "logs" : i == 1 ? "redis" : "store");
    if (mkdir(p, 0755) != 0 && errno != EEXIST) { snprintf(err, errlen, "cannot create %s", p); return 1; }
  }
  snprintf(p, sizeof p, "%s/pefleet.conf", cfg->data);
  if (pf_config_save(cfg, p) != PF_OK) { snprintf(err, errlen, "cannot write %s", p); return 1; }
  roles(cfg, st);
  if (sv_launch(cfg, st, &r->db, err, errlen) != PF_OK) return 1;
  /* samples stored before first-seen times were indexed join pf:seen */
  if (pf_db_seen_backfill(r->db, (long long)time(NULL), &r->backfilled) != PF_OK)
    snprintf(r->backfill_err, sizeof r->backfill_err, "%s", pf_db_error(r->db));
  return 0;
}
