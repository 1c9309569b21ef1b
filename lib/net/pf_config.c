#include "pf_config.h"
#include "pf_secret.h"
#include "pf_err.h"
#include "pf_io.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every key once: its type, where it lives, its bounds and whether it is a
 * secret (masked in print-outs). */
typedef struct {
  const char *key;
  char type;      /* 's' string, 'i' integer */
  size_t off, size;
  long lo, hi;
  int secret;
} key_def;

#define S(k) {#k, 's', offsetof(pf_config, k), sizeof(((pf_config *)0)->k), 0, 0, 0}
#define I(k, lo, hi) {#k, 'i', offsetof(pf_config, k), sizeof(int), lo, hi, 0}
static const key_def keys[] = {
  S(data), S(store), S(redis_host), I(redis_port, 1, 65535),
  {"redis_password", 's', offsetof(pf_config, redis_password), sizeof(((pf_config *)0)->redis_password), 0, 0, 1},
  S(redis_password_file), I(redis_db, 0, 15), S(ingest_endpoint), S(worker_endpoint), S(score_endpoint), S(scorer_endpoint),
  S(similar_endpoint), S(http_address), I(http_port, 1, 65535), S(model), S(fleet_id),
  I(heartbeat_ms, 50, 600000), I(liveness, 1, 100), I(max_attempts, 1, 100), I(workers, 0, 1024),
  I(scorers, 0, 1024), I(gateway, 0, 1), I(similar, 0, 1), I(clamd_port, 0, 65535), S(clamd_socket), I(curve, 0, 1),
  S(curve_secret_file), S(curve_server_key), S(curve_allow_dir),
};
#undef S
#undef I
#define NKEYS (sizeof keys / sizeof keys[0])

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
  snprintf(c->score_endpoint, sizeof c->score_endpoint, "tcp://127.0.0.1:5557");
  snprintf(c->scorer_endpoint, sizeof c->scorer_endpoint, "tcp://127.0.0.1:5558");
  snprintf(c->similar_endpoint, sizeof c->similar_endpoint, "tcp://127.0.0.1:5559");
  snprintf(c->http_address, sizeof c->http_address, "127.0.0.1");
  c->http_port = 8080;
  c->heartbeat_ms = 1000;
  c->liveness = 3;
  c->max_attempts = 3;
  c->workers = 2;
  c->scorers = 2;
  c->gateway = 1;
  c->similar = 1;
  c->clamd_port = 3310;
}

static const key_def *find(const char *key) {
  for (size_t i = 0; i < NKEYS; i++)
    if (strcmp(keys[i].key, key) == 0) return &keys[i];
  return NULL;
}

int pf_config_set(pf_config *c, const char *key, const char *v, char *err, size_t errlen) {
  const key_def *k = find(key);
  if (!k) {
    snprintf(err, errlen, "unknown setting '%s'", key);
    return PF_EINVAL;
  }
  char *dst = (char *)c + k->off;
  if (k->type == 's') {
    size_t n = strlen(v);
    if (n >= k->size) {
      snprintf(err, errlen, "value for %s is too long (at most %zu bytes)", key, k->size - 1);
      return PF_EINVAL;
    }
    memcpy(dst, v, n + 1);
    return PF_OK;
  }
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < k->lo || x > k->hi) {
    snprintf(err, errlen, "bad value '%s' for %s (an integer %ld-%ld)", v, key, k->lo, k->hi);
    return PF_EINVAL;
  }
  int iv = (int)x;
  memcpy(dst, &iv, sizeof iv);
  return PF_OK;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

int pf_config_load(pf_config *c, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "re");
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
  for (size_t i = 0; i < NKEYS; i++) {
    if (strcmp(keys[i].key, "data") == 0) continue;
    char name[64] = "PEFLEET_";
    size_t j = 8;
    for (const char *p = keys[i].key; *p && j + 1 < sizeof name; p++) name[j++] = (char)toupper((unsigned char)*p);
    name[j] = '\0';
    const char *v = getenv(name);
    if (!v) continue;
    char why[256];
    if (pf_config_set(c, keys[i].key, v, why, sizeof why) != PF_OK) {
      snprintf(err, errlen, "%s: %s", name, why);
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
  rc = pf_config_env(c, err, errlen);
  if (rc != PF_OK) return rc;
  return pf_config_read_password_file(c, err, errlen);
}

int pf_config_read_password_file(pf_config *c, char *err, size_t errlen) {
  if (!c->redis_password_file[0]) return PF_OK;
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = pf_io_read_file(c->redis_password_file, sizeof c->redis_password, &buf, &len);
  if (rc != PF_OK) {
    snprintf(err, errlen, "redis_password_file %s: %s", c->redis_password_file,
             rc == PF_ELIMIT ? "longer than a password may be" : rc == PF_EINVAL ? "not a regular file" : strerror(errno));
    free(buf);
    return rc;
  }
  /* the first line, without its end of line; a NUL or an empty line is no password */
  size_t n = 0;
  while (n < len && buf[n] != '\n' && buf[n] != '\r' && buf[n] != '\0') n++;
  int bad = n == 0 || n >= sizeof c->redis_password || (n < len && buf[n] == '\0');
  if (!bad) {
    memcpy(c->redis_password, buf, n);
    c->redis_password[n] = '\0';
  }
  memset(buf, 0, len);
  free(buf);
  if (bad) {
    snprintf(err, errlen, "redis_password_file %s: %s", c->redis_password_file,
             n == 0 ? "its first line is empty" : n >= sizeof c->redis_password ? "longer than a password may be" : "holds a NUL byte");
    return PF_EINVAL;
  }
  return PF_OK;
}

/* One key's value as text; secrets masked when mask. */
static void value_of(const pf_config *c, const key_def *k, int mask, char *out, size_t n) {
  const char *src = (const char *)c + k->off;
  if (k->type == 'i') {
    int iv;
    memcpy(&iv, src, sizeof iv);
    snprintf(out, n, "%d", iv);
  } else if (mask && k->secret) {
    snprintf(out, n, "%s", *src ? "****" : "(none)");
  } else {
    snprintf(out, n, "%s", src);
  }
}

int pf_config_save(const pf_config *c, const char *path) {
  /* it holds the Redis password: made 0600 from the start (pf_secret) */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return PF_ENOMEM;
  fprintf(f, "# pefleet configuration (written by pefleet up)\n");
  for (size_t i = 0; i < NKEYS; i++) {
    char v[1100];
    value_of(c, &keys[i], 0, v, sizeof v);
    if (keys[i].type == 's' && !v[0]) continue; /* an empty value means "unset": the default */
    fprintf(f, "%s = %s\n", keys[i].key, v);
  }
  if (fclose(f) != 0) { free(text); return PF_ENOMEM; }
  char err[300];
  int rc = pf_secret_write(path, text, len, err, sizeof err);
  memset(text, 0, len);
  free(text);
  return rc;
}

void pf_config_print(const pf_config *c, FILE *f, const char *p) {
  for (size_t i = 0; i < NKEYS; i++) {
    char v[1100];
    value_of(c, &keys[i], 1, v, sizeof v);
    fprintf(f, "%s%s = %s\n", p, keys[i].key, v);
  }
}
