/* pefleet ingest: stores files in the sample store and queues their hashes
 * with the broker; --wait blocks until every one is done or failed. */
#include "cmd.h"
#include "usage_err.h"
#include "fleet.h"
#include "ingest_send.h"
#include "pf_err.h"
#include "pf_walk.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet ingest --label NAME [--wait] [--filter GLOB] [--data DIR | --config FILE] PATH...\n\n"
    "Copies each file (folders are walked recursively) into the fleet's sample store\n"
    "under its sha256 and queues it for encoding. The broker acknowledges a sample\n"
    "only once it is durable in Redis. One line per file on stdout:\n"
    "  SHA256  queued|duplicate|rejected  PATH  [reason]\n\n"
    "options:\n"
    "  -l, --label NAME     label recorded for every file (required), e.g. clean, malicious\n"
    "  -W, --wait           wait until every file is done or failed, then print the totals\n"
    "  -f, --filter GLOB    only files whose name matches GLOB\n"
    "      --max-size MIB   refuse larger files (default 512)\n"
    "      --retry-for SEC  keep retrying while the broker or Redis is unreachable (default 60)\n"
    "      --seen-at WHEN   first-seen time of new samples: now (default), a date\n"
    "                       (YYYY-MM-DD[THH:MM:SSZ], UTC, or unix seconds) or mtime (each\n"
    "                       file's modification time); a known sample keeps its own\n"
    "      --data DIR       the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --config FILE    a configuration file instead of DIR/pefleet.conf\n"
    "  -q, --quiet          no per-file lines\n\n"
    "exit status: 0 all accepted (and, with --wait, all done), 1 otherwise, 2 usage error\n\n"
    "example:\n"
    "  pefleet ingest --label malicious --wait /srv/sandbox/drops\n");
}

int cmd_ingest(int argc, char **argv) {
  static const struct option opts[] = {
    {"label", required_argument, 0, 'l'}, {"wait", no_argument, 0, 'W'}, {"filter", required_argument, 0, 'f'},
    {"max-size", required_argument, 0, 1}, {"retry-for", required_argument, 0, 2},
    {"data", required_argument, 0, 3}, {"config", required_argument, 0, 4}, {"quiet", no_argument, 0, 'q'},
    {"seen-at", required_argument, 0, 5}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *label = NULL, *glob = NULL, *data = NULL, *config = NULL;
  long long seen_at = 0;
  char why[160];
  int wait = 0, quiet = 0, c;
  long max_mib = 512, retry_for = 60;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "l:Wf:qh", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'l': label = optarg; break;
    case 'W': wait = 1; break;
    case 'f': glob = optarg; break;
    case 'q': quiet = 1; break;
    case 1: max_mib = strtol(optarg, &end, 10); if (*end || max_mib < 1) { fprintf(stderr, "pefleet ingest: bad --max-size\n"); return 2; } break;
    case 2: retry_for = strtol(optarg, &end, 10); if (*end || retry_for < 0) { fprintf(stderr, "pefleet ingest: bad --retry-for\n"); return 2; } break;
    case 3: data = optarg; break;
    case 4: config = optarg; break;
    case 5:
      if (ingest_parse_seen_at(optarg, &seen_at, why, sizeof why) != 0) { fprintf(stderr, "pefleet ingest: %s\n", why); return 2; }
      break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet ingest", opts, "l:Wf:qh", argc, argv);
    }
  }
  if (!label || !*label) { fprintf(stderr, "pefleet ingest: --label is required\n"); return 2; }
  if (optind >= argc) { fprintf(stderr, "pefleet ingest: no PATH given\n"); return 2; }
  pf_config cfg;
  char err[512];
  int frc = fleet_resolve("pefleet ingest", data, config, &cfg);
  if (frc != 0) return frc;
  pf_filelist files = {0};
  int bad = 0;
  for (int i = optind; i < argc; i++) {
    if (pf_walk_add(&files, argv[i], glob, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet ingest: error: %s\n", err);
      bad++;
    }
  }
  ingest_item *items = calloc(files.n ? files.n : 1, sizeof *items);
  if (!items) return 1;
  ingest_opts io = {"pefleet ingest", label, (uint64_t)max_mib << 20, retry_for, quiet, NULL, -1, seen_at};
  ingest_totals t;
  if (ingest_send(&cfg, &io, files.paths, items, files.n, &t) != PF_OK) return 1;
  char earlier[96] = "";
  const char *cs = t.conflicts == 1 ? "" : "s";
  if (t.failed_earlier && t.conflicts)
    snprintf(earlier, sizeof earlier, " (%zu failed earlier, %zu label conflict%s)", t.failed_earlier, t.conflicts, cs);
  else if (t.failed_earlier) snprintf(earlier, sizeof earlier, " (%zu failed earlier)", t.failed_earlier);
  else if (t.conflicts) snprintf(earlier, sizeof earlier, " (%zu label conflict%s)", t.conflicts, cs);
  fprintf(stderr, "pefleet ingest: %zu files: %zu queued, %zu duplicates%s, %zu rejected%s in %.2f s\n", files.n,
          t.queued, t.duplicates, earlier, t.rejected, t.unacked ? ", some unacknowledged" : "", t.seconds);
  int rc = (bad || t.rejected || t.unacked) ? 1 : 0;
  if (wait && !t.unacked && ingest_wait(&cfg, &io, files.paths, items, files.n) != 0) rc = 1;
  free(items);
  pf_filelist_destroy(&files);
  return rc;
}
