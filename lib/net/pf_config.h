/* pf_config: owns the one configuration format of every daemon and command.
 * Defines pf_config (Redis address, password and db; ZeroMQ endpoints;
 * store, data and model folders; HTTP address; heartbeat and retry limits),
 * a "key = value" file format, PEFLEET_<KEY> environment overrides and a
 * masked print-out, all driven by one table of keys (pf_config.c).
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
  char redis_password_file[1024]; /* a file whose first line is the password (over redis_password) */
  int redis_db;
  char ingest_endpoint[256];  /* broker's ingest ROUTER */
  char worker_endpoint[256];  /* broker's worker ROUTER */
  char score_endpoint[256];   /* score router's client ROUTER (gateway, pefleet scan --server) */
  char scorer_endpoint[256];  /* score router's scorer ROUTER */
  char similar_endpoint[256]; /* similarity service's ROUTER */
  char http_address[256];     /* gateway bind address */
  int http_port;              /* gateway port */
  char model[1024];           /* model folder `up` promotes at start ("" none) */
  char fleet_id[64];          /* the fleet's id (`up` makes it): daemons and commands refuse a
                                 Redis whose pf:fleet differs; "" no check */
  int heartbeat_ms;           /* broker <-> worker heartbeat interval */
  int liveness;               /* missed heartbeats before a peer is dead */
  int max_attempts;           /* deliveries of a job before it is failed */
  int workers;                /* encoder workers `up` starts */
  int scorers;                /* scorers `up` starts */
  int gateway;                /* 1: `up` starts the HTTP gateway */
  int similar;                /* 1: `up` starts the similarity service */
  int clamd_port;             /* pefleet-clamd's TCP port on 127.0.0.1 (0: none) */
  char clamd_socket[1024];    /* pefleet-clamd's Unix socket ("" none) */
  /* ZeroMQ CURVE between hosts (see pf_curve.h) */
  int curve;                  /* 1: encrypt and authenticate ZeroMQ links */
  char curve_secret_file[1024];   /* this daemon's key pair (pefleet keygen) */
  char curve_server_key[1024];    /* the servers' public key: a NAME.pub path, or its 40 Z85 characters */
  char curve_allow_dir[1024];     /* folder of allowed client public keys */
} pf_config;

/* Defaults for a fleet in data (NULL: $PEFLEET_DATA or ./pefleet-data). */
void pf_config_default(pf_config *c, const char *data);

/* Sets one key ("redis_port", ...). PF_EINVAL with a reason for an unknown
 * key or a bad value. */
int pf_config_set(pf_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Reads "key = value" lines (# comments, blank lines). A missing file is
 * PF_ENOENT; a bad line is PF_EINVAL with "FILE:LINE: reason". */
int pf_config_load(pf_config *c, const char *path, char *err, size_t errlen);

/* Applies PEFLEET_<KEY> for every key (PEFLEET_REDIS_HOST, PEFLEET_STORE,
 * PEFLEET_SCORE_ENDPOINT, ...), except data, which PEFLEET_DATA sets
 * through pf_config_default. */
int pf_config_env(pf_config *c, char *err, size_t errlen);

/* The usual resolution for a command: defaults for data_dir (NULL: env or
 * ./pefleet-data), then DATA/pefleet.conf when it exists, or config_file
 * when given (must exist), then the environment, then redis_password_file. */
int pf_config_resolve(pf_config *c, const char *data_dir, const char *config_file, char *err, size_t errlen);

/* When redis_password_file is set, reads its first line (end of line
 * dropped; at most 255 bytes, not empty, no NUL) into redis_password,
 * over any password set before: a secret handed over as a file (Docker
 * secrets) never sits in the environment. pf_config_resolve calls it last.
 * PF_OK; PF_ENOENT, PF_EIO, PF_EINVAL, PF_ELIMIT with a reason. */
int pf_config_read_password_file(pf_config *c, char *err, size_t errlen);

/* Writes the configuration as a loadable file (the password included),
 * mode 0600 from the start (pf_secret_write). PF_OK, PF_EIO, PF_ENOMEM. */
int pf_config_save(const pf_config *c, const char *path);

/* One line per key, secrets masked, each prefixed by prefix. */
void pf_config_print(const pf_config *c, FILE *f, const char *prefix);

#endif
