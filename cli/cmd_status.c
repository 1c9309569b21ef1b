/* pefleet status: queue counters from Redis and each daemon's liveness. */
#include "cmd.h"
#include "fleet.h"
#include "sv_state.h"
#include "pf_clock.h"
#include "pf_date.h"
#include "pf_err.h"
#include "pf_registry.h"
#include "usage_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_status(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  int json = 0;
  double interval = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: pefleet status [--json] [--interval SEC] [--data DIR | --config FILE]\n\n"
             "Shows queued, in-flight, done and failed samples, the rates at which samples\n"
             "are ingested and finished (counted over --interval seconds, default 1; 0: no\n"
             "rates), the model that serves, and each daemon with its role, pid and\n"
             "liveness. Exit 1 when Redis cannot be reached.\n");
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (i + 1 < argc && strcmp(argv[i], "--interval") == 0) {
      char *end;
      interval = strtod(argv[++i], &end);
      if (*end || interval < 0 || interval > 60) {
        fprintf(stderr, "pefleet status: --interval must be 0..60 seconds\n");
        return 2;
      }
    }
    else if (i + 1 < argc && strcmp(argv[i], "--data") == 0) data = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) config = argv[++i];
    else if (argv[i][0] == '-' && (strcmp(argv[i], "--interval") == 0 || strcmp(argv[i], "--data") == 0 ||
                                   strcmp(argv[i], "--config") == 0))
      return usage_err("pefleet status", "option %s needs a value", argv[i]);
    else if (argv[i][0] == '-') return usage_err("pefleet status", "unknown option %s", argv[i]);
    else return usage_err("pefleet status", "unexpected argument '%s'", argv[i]);
  }
  pf_config cfg;
  char err[512];
  int frc = fleet_resolve("pefleet status", data, config, &cfg);
  if (frc != 0) return frc;
  sv_state st;
  int have_state = sv_state_load(&cfg, &st) == PF_OK;
  pf_db *db = NULL;
  pf_db_counts k = {0};
  int up = fleet_db(&cfg, &db, err, sizeof err) == PF_OK && pf_db_counts_get(db, &k) == PF_OK;
  if (!up && db) snprintf(err, sizeof err, "%s", pf_db_error(db));
  /* rates: the same counters again after the interval */
  double in_rate = -1, done_rate = -1, fail_rate = -1;
  pf_db_counts k2 = k;
  if (up && interval > 0) {
    double t0 = pf_clock_s();
    usleep((useconds_t)(interval * 1e6));
    if (pf_db_counts_get(db, &k2) == PF_OK) {
      double dt = pf_clock_s() - t0;
      in_rate = (double)(k2.samples - k.samples) / dt;
      done_rate = (double)(k2.done - k.done) / dt;
      fail_rate = (double)(k2.failed - k.failed) / dt;
      k = k2;
    }
  }
  char model[PF_MODEL_NAME] = "";
  if (up && pf_registry_current(db, model) != PF_OK) model[0] = '\0';
  long long oldest = 0, newest = 0, tracked = 0;
  int have_seen = up && pf_db_seen_range(db, &oldest, &newest, &tracked) == PF_OK;
  char d_old[PF_DATE_LEN], d_new[PF_DATE_LEN];
  pf_date_format(oldest, d_old, sizeof d_old);
  pf_date_format(newest, d_new, sizeof d_new);
  pf_db_free(&db);
  if (json) {
    printf("{\"redis\":%s,\"queued\":%lld,\"in_flight\":%lld,\"done\":%lld,\"failed\":%lld,\"samples\":%lld,"
           "\"conflicts\":%lld,",
           up ? "true" : "false", k.queued, k.in_flight, k.done, k.failed, k.samples, k.conflicts);
    if (in_rate >= 0)
      printf("\"rates\":{\"ingested_per_s\":%.1f,\"done_per_s\":%.1f,\"failed_per_s\":%.1f},", in_rate, done_rate,
             fail_rate);
    if (have_seen && tracked > 0)
      printf("\"first_seen\":{\"oldest\":\"%s\",\"newest\":\"%s\",\"samples\":%lld},", d_old, d_new, tracked);
    else if (up) printf("\"first_seen\":null,");
    if (model[0]) printf("\"model\":\"%s\",", model);
    else printf("\"model\":null,");
    printf("\"daemons\":[");
    if (have_state) {
      printf("{\"role\":\"supervisor\",\"pid\":%d,\"alive\":%s}", (int)st.supervisor,
             sv_alive(st.supervisor) ? "true" : "false");
      for (int i = 0; i < st.n; i++)
        printf(",{\"role\":\"%s\",\"index\":%d,\"pid\":%d,\"alive\":%s,\"restarts\":%d}", st.d[i].role,
               st.d[i].index, (int)st.d[i].pid, sv_alive(st.d[i].pid) ? "true" : "false", st.d[i].restarts);
    }
    printf("]}\n");
  } else {
    if (up)
      printf("samples %lld: queued %lld, in flight %lld, done %lld, failed %lld (label conflicts %lld)\n", k.samples,
             k.queued, k.in_flight, k.done, k.failed, k.conflicts);
    if (have_seen && tracked > 0)
      printf("first seen: oldest %s, newest %s (%lld samples%s)\n", d_old, d_new, tracked,
             tracked < k.samples ? "; the others were stored before first-seen indexing: pefleet up indexes them" : "");
    if (up && in_rate >= 0)
      printf("rates over %.1f s: %.1f ingested/s, %.1f done/s, %.1f failed/s\n", interval, in_rate, done_rate, fail_rate);
    if (up) printf("model serving: %s\n", model[0] ? model : "none promoted (pefleet promote MODEL_DIR)");
    if (!up) { /* pf_db's reason already names the server when it could not connect */
      char who[300];
      snprintf(who, sizeof who, "redis %s:%d", cfg.redis_host, cfg.redis_port);
      if (strncmp(err, who, strlen(who)) == 0) printf("%s\n", err);
      else printf("%s unreachable: %s\n", who, err);
    }
    if (have_state) {
      printf("%-16s %-8s %-6s %s\n", "ROLE", "PID", "ALIVE", "RESTARTS");
      printf("%-16s %-8d %-6s -\n", "supervisor", (int)st.supervisor, sv_alive(st.supervisor) ? "yes" : "no");
      for (int i = 0; i < st.n; i++) {
        char role[48];
        if (st.d[i].index) snprintf(role, sizeof role, "%s-%d", st.d[i].role, st.d[i].index);
        else snprintf(role, sizeof role, "%s", st.d[i].role);
        printf("%-16s %-8d %-6s %d\n", role, (int)st.d[i].pid, sv_alive(st.d[i].pid) ? "yes" : "no",
               st.d[i].restarts);
      }
    } else {
      printf("no fleet started by 'pefleet up' in %s\n", cfg.data);
    }
  }
  return up ? 0 : 1;
}
