/* clamd: shared state of pefleet-clamd, the clamd-protocol front of the
 * score pool.
 * Defines cd_opts (the daemon's settings), the in-flight byte budget and
 * the counters STATS reports.
 * Called by every file of clamd/. */
#ifndef CLAMD_H
#define CLAMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pf_config.h"

#define CD_MAX_ALLOW 32
#define CD_VERSION_TEXT "pefleet-clamd 1.0"

typedef struct {
  pf_config cfg;
  char address[256];           /* TCP bind address */
  int port;                    /* TCP port; 0: no TCP listener */
  char socket_path[1024];      /* Unix socket ("" none) */
  size_t stream_max;           /* StreamMaxLength: bytes of one INSTREAM or file */
  size_t budget;               /* bytes held in flight by all connections */
  int max_connections;
  int idle_timeout_s;          /* waiting for a command */
  int read_timeout_s;          /* waiting for data inside a command */
  int score_timeout_ms;        /* waiting for the score pool */
  int max_pending;             /* unanswered commands one IDSESSION may queue */
  int max_files;               /* files one directory scan may visit */
  char virus_name[128];        /* "NAME FOUND" for a malicious verdict */
  int not_pe_error;            /* 1: a file that is not PE is an ERROR, not OK */
  int allow_shutdown;          /* 1: SHUTDOWN stops the daemon */
  char score_endpoint[256];
  int n_allow;
  char allow[CD_MAX_ALLOW][4096]; /* realpaths of the folders SCAN may read */
  int allow_fd[CD_MAX_ALLOW];     /* O_PATH descriptors of those folders */
} cd_opts;

void cd_opts_usage(FILE *f);

/* Parses argv into o (flags override the fleet configuration from --data /
 * --config). Returns 0 (run), 1 (--help printed) or 2 (usage error, reason
 * in err). */
int cd_opts_parse(int argc, char **argv, cd_opts *o, char *err, size_t errlen);

/* The in-flight byte budget (cd_stats.c): takes n bytes, or returns 0
 * when that would pass the budget; give returns them. */
void cd_budget_init(size_t budget);
int cd_budget_take(size_t n);
void cd_budget_give(size_t n);
size_t cd_budget_used(void);

/* Counters. */
typedef struct {
  uint64_t connections, refused_connections, scans, found, clean, errors, bytes;
  int live_connections;
  double last_probability;
  char model[128];
} cd_stats_t;
void cd_stats_conn(int delta);
void cd_stats_refused(void);
void cd_stats_scan(int verdict, size_t bytes, double p, const char *model);
void cd_stats_get(cd_stats_t *out);

#endif
