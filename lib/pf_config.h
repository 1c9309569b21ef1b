/* pf_config: owns the one configuration format of every daemon and command.
 * Defines pf_config (Redis address, password and db; ZeroMQ endpoints;
 * store and data folders; heartbeat and retry limits), a "key = value" file
 * format, PEFLEET_* environment overrides and a masked print-out.
 * Called by every daemon's main and the fleet commands. */
#ifndef PF_CONFIG_H
#define PF_CONFIG_H

#include <stdio.h>

typedef struct {
  char data[1024];            /* fleet folder: logs, redis, store, state */
  char store[1024];           /* sample store (default DATA/store) */
  char redis_host[256];
  int redis_port;
  char redis_password[256];   /* empty: no AUTH */
  int redis_db;
  char ingest_endpoint[256];  /* broker's ingest ROUTER */
  char worker_endpoint[256];  /* broker's worker ROUTER */
  int heartbeat_ms;           /* broker <-> worker heartbeat interval */
  int liveness;               /* missed heartbeats before a peer is dead */
  int max_attempts;           /* deliveries of a job before it is failed */
  int workers;                /* encoder workers `up` starts */
} pf_config;

/* Defaults for a fleet in data (NULL: $PEFLEET_DATA or ./pefleet-data). */
void pf_config_default(pf_config *c, const char *data);

/* Sets one key ("redis_port", ...). PF_EINVAL with a reason for an unknown
 * key or a bad value. */
int pf_config_set(pf_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Reads "key = value" lines (# comments, blank lines). A missing file is
 * PF_ENOENT; a bad line is PF_EINVAL with "FILE:LINE: reason". */
int pf_config_load(pf_config *c, const char *path, char *err, size_t errlen);

/* Applies PEFLEET_REDIS_HOST, PEFLEET_REDIS_PORT, PEFLEET_REDIS_PASSWORD,
 * PEFLEET_REDIS_DB, PEFLEET_INGEST_ENDPOINT, PEFLEET_WORKER_ENDPOINT,
 * PEFLEET_STORE. */
int pf_config_env(pf_config *c, char *err, size_t errlen);

/* The usual resolution for a command: defaults for data_dir (NULL: env or
 * ./pefleet-data), then DATA/pefleet.conf when it exists, or config_file
 * when given (must exist), then the environment. */
int pf_config_resolve(pf_config *c, const char *data_dir, const char *config_file, char *err, size_t errlen);

/* Writes the configuration as a loadable file (the password included). */
int pf_config_save(const pf_config *c, const char *path);

/* One line per key, the password masked, each prefixed by prefix. */
void pf_config_print(const pf_config *c, FILE *f, const char *prefix);

#endif
