#include "pf_config.h"
#include "pf_err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pf_config_default(pf_config *c, const char *data) {
  memset(c, 0, sizeof *c);
  if (!data || !*data) data = getenv("PEFLEET_DATA");
  if (!data || !*data) data = "./pefleet-data";
  snprintf(c->data, sizeof c->data, "%s", data);
  snprintf(c->store, sizeof c->store, "%.1000s/store", c->data);
  snprintf(c->redis_host, sizeof c->redis_host, "127.0.0.1");
  c->redis_port = 6390;
  c->redis_db = 0;
  snprintf(c->ingest_endpoint, sizeof c->ingest_endpoint, "tcp://127.0.0.1:5555");
  snprintf(c->worker_endpoint, sizeof c->worker_endpoint, "tcp://127.0.0.1:5556");
  c->heartbeat_ms = 1000;
  c->liveness = 3;
  c->max_attempts = 3;
  c->workers = 2;
}

static int set_int(int *dst, const char *v, int lo, int hi) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < lo || x > hi) return PF_EINVAL;
  *dst = (int)x;
  return PF_OK;
}

static int set_str(char *dst, size_t n, const char *v) {
  if (strlen(v) >= n) return PF_EINVAL;
  memcpy(dst, v, strlen(v) + 1);
  return PF_OK;
}

int pf_config_set(pf_config *c, const char *key, const char *v, char *err, size_t errlen) {
  int rc;
  if (strcmp(key, "data") == 0) rc = set_str(c->data, sizeof c->data, v);
  else if (strcmp(key, "store") == 0) rc = set_str(c->store, sizeof c->store, v);
  else if (strcmp(key, "redis_host") == 0) rc = set_str(c->redis_host, sizeof c->redis_host, v);
  else if (strcmp(key, "redis_port") == 0) rc = set_int(&c->redis_port, v, 1, 65535);
  else if (strcmp(key, "redis_password") == 0) rc = set_str(c->redis_password, sizeof c->redis_password, v);
  else if (strcmp(key, "redis_db") == 0) rc = set_int(&c->redis_db, v, 0, 15);
  else if (strcmp(key, "ingest_endpoint") == 0) rc = set_str(c->ingest_endpoint, sizeof c->ingest_endpoint, v);
  else if (strcmp(key, "worker_endpoint") == 0) rc = set_str(c->worker_endpoint, sizeof c->worker_endpoint, v);
  else if (strcmp(key, "heartbeat_ms") == 0) rc = set_int(&c->heartbeat_ms, v, 50, 600000);
  else if (strcmp(key, "liveness") == 0) rc = set_int(&c->liveness, v, 1, 100);
  else if (strcmp(key, "max_attempts") == 0) rc = set_int(&c->max_attempts, v, 1, 100);
  else if (strcmp(key, "workers") == 0) rc = set_int(&c->workers, v, 0, 1024);
  else {
    snprintf(err, errlen, "unknown setting '%s'", key);
    return PF_EINVAL;
  }
  if (rc != PF_OK) snprintf(err, errlen, "bad value '%s' for %s", v, key);
  return rc;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

int pf_config_load(pf_config *c, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return errno == ENOENT ? PF_ENOENT : PF_EIO;
  }
  char line[2048];
  int n = 0, rc = PF_OK;
  while (rc == PF_OK && fgets(line, sizeof line, f)) {
    n++;
    char *s = trim(line);
    if (*s == '\0' || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      snprintf(err, errlen, "%s:%d: expected 'key = value'", path, n);
      rc = PF_EINVAL;
      break;
    }
    *eq = '\0';
    char why[256];
    if (pf_config_set(c, trim(s), trim(eq + 1), why, sizeof why) != PF_OK) {
      snprintf(err, errlen, "%s:%d: %s", path, n, why);
      rc = PF_EINVAL;
    }
  }
  fclose(f);
  return rc;
}

int pf_config_env(pf_config *c, char *err, size_t errlen) {
  static const char *const map[][2] = {
    {"PEFLEET_REDIS_HOST", "redis_host"}, {"PEFLEET_REDIS_PORT", "redis_port"},
    {"PEFLEET_REDIS_PASSWORD", "redis_password"}, {"PEFLEET_REDIS_DB", "redis_db"},
    {"PEFLEET_INGEST_ENDPOINT", "ingest_endpoint"}, {"PEFLEET_WORKER_ENDPOINT", "worker_endpoint"},
    {"PEFLEET_STORE", "store"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    const char *v = getenv(map[i][0]);
    if (!v) continue;
    char why[256];
    if (pf_config_set(c, map[i][1], v, why, sizeof why) != PF_OK) {
      snprintf(err, errlen, "%s: %s", map[i][0], why);
      return PF_EINVAL;
    }
  }
  return PF_OK;
}

int pf_config_resolve(pf_config *c, const char *data_dir, const char *config_file, char *err, size_t errlen) {
  pf_config_default(c, data_dir);
  int rc;
  if (config_file) {
    rc = pf_config_load(c, config_file, err, errlen);
    if (rc != PF_OK) return rc;
  } else {
    char p[1100];
    snprintf(p, sizeof p, "%s/pefleet.conf", c->data);
    rc = pf_config_load(c, p, err, errlen);
    if (rc != PF_OK && rc != PF_ENOENT) return rc;
  }
  return pf_config_env(c, err, errlen);
}

int pf_config_save(const pf_config *c, const char *path) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return PF_EIO;
  fprintf(f, "# pefleet configuration (written by pefleet up)\n");
  fprintf(f, "data = %s\nstore = %s\nredis_host = %s\nredis_port = %d\nredis_db = %d\n", c->data, c->store,
          c->redis_host, c->redis_port, c->redis_db);
  if (c->redis_password[0]) fprintf(f, "redis_password = %s\n", c->redis_password);
  fprintf(f, "ingest_endpoint = %s\nworker_endpoint = %s\nheartbeat_ms = %d\nliveness = %d\n", c->ingest_endpoint,
          c->worker_endpoint, c->heartbeat_ms, c->liveness);
  fprintf(f, "max_attempts = %d\nworkers = %d\n", c->max_attempts, c->workers);
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) { unlink(tmp); return PF_EIO; }
  return PF_OK;
}

void pf_config_print(const pf_config *c, FILE *f, const char *p) {
  fprintf(f, "%sdata = %s\n%sstore = %s\n%sredis = %s:%d db %d, password %s\n", p, c->data, p, c->store, p,
          c->redis_host, c->redis_port, c->redis_db, c->redis_password[0] ? "****" : "(none)");
  fprintf(f, "%singest_endpoint = %s\n%sworker_endpoint = %s\n", p, c->ingest_endpoint, p, c->worker_endpoint);
  fprintf(f, "%sheartbeat_ms = %d, liveness = %d, max_attempts = %d, workers = %d\n", p, c->heartbeat_ms,
          c->liveness, c->max_attempts, c->workers);
}
