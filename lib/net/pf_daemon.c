#include "pf_daemon.h"
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
