#include "pf_daemon.h"
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include "pf_err.h"
#include "pf_log.h"

#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

void pf_daemon_db_opts(const pf_config *c, pf_db_opts *o) {
  pf_db_opts_default(o);
  o->host = c->redis_host;
  o->port = c->redis_port;
  o->password = c->redis_password[0] ? c->redis_password : NULL;
  o->db = c->redis_db;
  o->fleet_id = c->fleet_id[0] ? c->fleet_id : NULL;
}

int pf_daemon_db_wait(const pf_db_opts *o, pf_db **db, volatile sig_atomic_t *stop) {
  char err[512];
  int rc;
  for (int tries = 0; (rc = pf_db_connect(o, db, err, sizeof err)) != PF_OK; tries++) {
    if (rc == PF_EFLEET) {
      pf_error("%s", err);
      return PF_EFLEET;
    }
    if (*stop) return PF_EIO;
    if (tries % 10 == 0) pf_warn("waiting for redis: %s", err);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return PF_OK;
}

void pf_daemon_keep_heap(void) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  /* glibc's largest: bigger ones are rare */
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024); /* give memory back only past this much free */
#endif
}

static volatile sig_atomic_t *stop_flag;
static void on_stop(int sig) {
  (void)sig;
  if (stop_flag) *stop_flag = 1;
}

int pf_daemon_start(const pf_daemon_spec *spec, int argc, char **argv, pf_config *cfg, volatile sig_atomic_t *stop) {
  const char *data = NULL, *config = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      spec->usage(stdout);
      return 0;
    }
    const pf_daemon_num *num = NULL;
    for (const pf_daemon_num *n = spec->nums; n && n->flag; n++)
      if (strcmp(argv[i], n->flag) == 0) num = n;
    if (i + 1 < argc && strcmp(argv[i], "--data") == 0) data = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) config = argv[++i];
    else if (num && i + 1 < argc) {
      char *end;
      errno = 0;
      long v = strtol(argv[++i], &end, 10);
      if (errno || end == argv[i] || *end || v < num->min || v > num->max) {
        fprintf(stderr, "%s: %s must be a whole number in %ld..%ld\n", spec->program, num->flag, num->min, num->max);
        return 2;
      }
      *num->value = v;
    } else {
      fprintf(stderr, "%s: unknown option %s (see %s --help)\n", spec->program, argv[i], spec->program);
      return 2;
    }
  }
  pf_log_init(spec->component);
  if (spec->keep_heap) pf_daemon_keep_heap();
  char err[512];
  if (pf_config_resolve(cfg, data, config, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: %s\n", spec->program, err);
    return 2;
  }
  stop_flag = stop;
  signal(SIGINT, on_stop);
  signal(SIGTERM, on_stop);
  signal(SIGPIPE, SIG_IGN);
  return -1;
}
