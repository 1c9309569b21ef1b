/* pefleet requeue: puts failed samples back on the queue, attempts reset,
 * so a failure that had a passing cause (a store the workers could not
 * read, a fleet mix-up) is not final. */
#include "cmd.h"
#include "usage_err.h"
#include "fleet.h"
#include "pf_err.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet requeue [--reason SUBSTRING] [--all-failed] [--data DIR | --config FILE] [SHA256...]\n\n"
    "Puts failed samples back on the queue with their delivery attempts reset, and\n"
    "says how many. Name them by sha256, or pick every failed sample whose reason\n"
    "contains SUBSTRING, or all of them. A sample that is not failed is left as it is.\n\n"
    "options:\n"
    "      --reason TEXT  every failed sample whose reason contains TEXT\n"
    "      --all-failed   every failed sample\n"
    "      --data DIR     the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --config FILE  a configuration file instead of DIR/pefleet.conf\n\n"
    "exit status: 0 done (even when nothing matched), 1 Redis or a named sample\n"
    "unknown, 2 usage error\n\n"
    "example:\n"
    "  pefleet requeue --reason 'sample missing from the store'\n");
}

typedef struct {
  const char *reason; /* NULL: every failed sample */
  char (*sha)[PF_SHA256_HEX_LEN + 1];
  size_t n, cap;
  int oom;
} pick;

static int pick_one(const pf_db_sample *s, void *arg) {
  pick *p = arg;
  if (p->reason && !strstr(s->reason, p->reason)) return 0;
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 1024;
    void *g = realloc(p->sha, cap * sizeof *p->sha);
    if (!g) { p->oom = 1; return 1; }
    p->sha = g;
    p->cap = cap;
  }
  memcpy(p->sha[p->n++], s->sha, PF_SHA256_HEX_LEN + 1);
  return 0;
}

/* Requeues one sample; counts it into *moved. PF_OK, PF_ENOENT, PF_EIO. */
static int requeue_one(pf_db *db, const char *sha, long *moved, long *not_failed) {
  int requeued = 0;
  int rc = pf_db_unfail(db, sha, &requeued);
  if (rc == PF_ENOENT) fprintf(stderr, "pefleet requeue: %s: not a known sample\n", sha);
  else if (rc != PF_OK) fprintf(stderr, "pefleet requeue: %s: %s\n", sha, pf_db_error(db));
  else if (requeued) (*moved)++;
  else (*not_failed)++;
  return rc;
}

int cmd_requeue(int argc, char **argv) {
  static const struct option opts[] = {
    {"reason", required_argument, 0, 1}, {"all-failed", no_argument, 0, 2}, {"data", required_argument, 0, 3},
    {"config", required_argument, 0, 4}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *data = NULL, *config = NULL, *reason = NULL;
  int all = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 1: reason = optarg; break;
    case 2: all = 1; break;
    case 3: data = optarg; break;
    case 4: config = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet requeue", opts, "h", argc, argv);
    }
  }
  if (reason && !*reason) { fprintf(stderr, "pefleet requeue: --reason needs some text\n"); return 2; }
  if (!reason && !all && optind >= argc) {
    fprintf(stderr, "pefleet requeue: name samples (SHA256...), or give --reason TEXT or --all-failed\n");
    return 2;
  }
  for (int i = optind; i < argc; i++)
    if (!pf_is_sha256_hex(argv[i])) {
      fprintf(stderr, "pefleet requeue: '%s' is not a sha256 (64 lower-case hex characters)\n", argv[i]);
      return 2;
    }
  pf_config cfg;
  int frc = fleet_resolve("pefleet requeue", data, config, &cfg);
  if (frc != 0) return frc;
  char err[512];
  pf_db *db = NULL;
  if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet requeue: %s\n", err);
    return 1;
  }
  long moved = 0, not_failed = 0;
  int bad = 0;
  for (int i = optind; i < argc; i++) bad |= requeue_one(db, argv[i], &moved, &not_failed) != PF_OK;
  if (reason || all) {
    pick p = {all ? NULL : reason, NULL, 0, 0, 0};
    int rc = pf_db_each_failed(db, pick_one, &p);
    if (p.oom) { fprintf(stderr, "pefleet requeue: out of memory\n"); bad = 1; }
    else if (rc != PF_OK) { fprintf(stderr, "pefleet requeue: %s\n", pf_db_error(db)); bad = 1; }
    for (size_t i = 0; i < p.n && !p.oom && rc == PF_OK; i++)
      if (requeue_one(db, p.sha[i], &moved, &not_failed) == PF_EIO) { bad = 1; break; }
    free(p.sha);
  }
  pf_db_free(&db);
  printf("pefleet requeue: %ld sample(s) back on the queue", moved);
  if (not_failed) printf(", %ld named one(s) not failed (left as they are)", not_failed);
  printf("\n");
  return bad ? 1 : 0;
}
