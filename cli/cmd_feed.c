/* pefleet feed: ingests the new files of a folder that something else
 * fills (a wget mirror, a sandbox's drop folder), so that a cron line keeps
 * the store growing. Files whose sha256 Redis already knows are skipped
 * without being copied or sent; --move moves each file whose ingest was
 * acknowledged (or that was already known) to DIR/done/. */
#include "cmd.h"
#include "usage_err.h"
#include "fleet.h"
#include "ingest_send.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_walk.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define KNOWN (-1) /* feed's own item state: Redis knew the file before this run */

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet feed DIR --label NAME [--move] [--wait] [--filter GLOB] [--data DIR | --config FILE]\n\n"
    "Ingests every new file under DIR (walked recursively; DIR/done/ is left out).\n"
    "A file whose sha256 the fleet already knows is skipped: not copied, not sent.\n"
    "The others are stored and queued exactly as by pefleet ingest. One line per\n"
    "file on stdout (SHA256  queued|duplicate|skipped  PATH), one per failure on\n"
    "stderr, then a summary line.\n\n"
    "options:\n"
    "  -l, --label NAME     label recorded for every new file (required)\n"
    "  -m, --move           move each file the broker acknowledged (or that was known)\n"
    "                       to DIR/done/, keeping its relative path; failures stay\n"
    "  -W, --wait           wait until every new file is encoded or failed\n"
    "  -f, --filter GLOB    only files whose name matches GLOB\n"
    "      --max-size MIB   refuse larger files (default 512)\n"
    "      --retry-for SEC  keep retrying while the broker or Redis is unreachable (default 60)\n"
    "      --seen-at WHEN   first-seen time of new files: now (default), a date\n"
    "                       (YYYY-MM-DD[THH:MM:SSZ], UTC, or unix seconds) or mtime (each\n"
    "                       file's modification time: the feed's date under wget -N)\n"
    "      --data DIR, --config FILE   the fleet (as for every command)\n"
    "  -q, --quiet          only failures and the summary\n\n"
    "exit status: 0 every new file accepted (and moved with --move, encoded with --wait),\n"
    "             1 some file failed (listed on stderr), 2 usage error\n\n"
    "example (cron, every 10 minutes):\n"
    "  */10 * * * *  pefleet feed /srv/feeds/vendor-x --label malicious --move -q\n");
}

/* sha256 of the file at path (under dir, opened as dirfd), reading it in
 * blocks; opened beneath dirfd: a part of the path swapped for a symlink
 * since the walk is not followed. */
static int hash_file(int dirfd, const char *dir, const char *path, char sha[PF_SHA256_HEX_LEN + 1], char *why,
                     size_t whyn) {
  int fd = pf_walk_open_beneath(dirfd, dir, path);
  if (fd < 0) {
    snprintf(why, whyn, "%s",
             errno == ELOOP || errno == EXDEV ? "a symlink in its path (not followed)" : strerror(errno));
    return PF_EIO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, whyn, "not a regular file");
    close(fd);
    return PF_EIO;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? PF_OK : PF_ENOMEM;
  static uint8_t buf[1 << 16];
  ssize_t r;
  while (rc == PF_OK && (r = read(fd, buf, sizeof buf)) != 0) {
    if (r < 0) {
      if (errno == EINTR) continue;
      snprintf(why, whyn, "%s", strerror(errno));
      rc = PF_EIO;
    } else if (!EVP_DigestUpdate(ctx, buf, (size_t)r)) rc = PF_ENOMEM;
  }
  uint8_t d[PF_SHA256_LEN];
  unsigned dn = 0;
  if (rc == PF_OK && (!EVP_DigestFinal_ex(ctx, d, &dn) || dn != PF_SHA256_LEN)) rc = PF_ENOMEM;
  if (rc == PF_ENOMEM) snprintf(why, whyn, "out of memory");
  EVP_MD_CTX_free(ctx);
  close(fd);
  if (rc == PF_OK) pf_hex(d, PF_SHA256_LEN, sha);
  return rc;
}

/* Creates every folder of path's parent (mkdir -p). */
static int make_parents(const char *path) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

/* Moves path (under dir) to dir/done/<relative path>; a name already taken
 * there gets ".<first 12 hex of sha256>" appended. */
static int move_done(const char *dir, const char *path, const char *sha, char *why, size_t whyn) {
  size_t dl = strlen(dir);
  const char *rel = path + dl;
  while (*rel == '/') rel++;
  char dst[4200];
  snprintf(dst, sizeof dst, "%s/done/%s", dir, rel);
  struct stat st;
  if (lstat(dst, &st) == 0) snprintf(dst, sizeof dst, "%s/done/%s.%.12s", dir, rel, sha);
  if (make_parents(dst) != 0 || rename(path, dst) != 0) {
    snprintf(why, whyn, "cannot move to %s: %s", dst, strerror(errno));
    return -1;
  }
  return 0;
}

int cmd_feed(int argc, char **argv) {
  static const struct option opts[] = {
    {"label", required_argument, 0, 'l'}, {"move", no_argument, 0, 'm'}, {"wait", no_argument, 0, 'W'},
    {"filter", required_argument, 0, 'f'}, {"max-size", required_argument, 0, 1},
    {"retry-for", required_argument, 0, 2}, {"data", required_argument, 0, 3}, {"config", required_argument, 0, 4},
    {"quiet", no_argument, 0, 'q'}, {"seen-at", required_argument, 0, 5}, {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  const char *label = NULL, *glob = NULL, *data = NULL, *config = NULL;
  int move = 0, wait = 0, quiet = 0, c;
  long long seen_at = 0;
  char why_seen[160];
  long max_mib = 512, retry_for = 60;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "l:mWf:qh", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'l': label = optarg; break;
    case 'm': move = 1; break;
    case 'W': wait = 1; break;
    case 'f': glob = optarg; break;
    case 'q': quiet = 1; break;
    case 1: max_mib = strtol(optarg, &end, 10); if (*end || max_mib < 1) { fprintf(stderr, "pefleet feed: bad --max-size\n"); return 2; } break;
    case 2: retry_for = strtol(optarg, &end, 10); if (*end || retry_for < 0) { fprintf(stderr, "pefleet feed: bad --retry-for\n"); return 2; } break;
    case 3: data = optarg; break;
    case 4: config = optarg; break;
    case 5:
      if (ingest_parse_seen_at(optarg, &seen_at, why_seen, sizeof why_seen) != 0) {
        fprintf(stderr, "pefleet feed: %s\n", why_seen);
        return 2;
      }
      break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet feed", opts, "l:mWf:qh", argc, argv);
    }
  }
  if (!label || !*label) { fprintf(stderr, "pefleet feed: --label is required\n"); return 2; }
  if (optind != argc - 1) { fprintf(stderr, "pefleet feed: give one DIR\n"); return 2; }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", argv[optind]);
  for (size_t l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--) dir[l - 1] = '\0';
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "pefleet feed: %s is not a folder\n", dir);
    return 2;
  }
  pf_config cfg;
  char err[512];
  int frc = fleet_resolve("pefleet feed", data, config, &cfg);
  if (frc != 0) return frc;
  /* one feed per folder at a time: two would race to send and move the
   * same files (the lock is on the folder itself, so nothing is added to it) */
  int lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "pefleet feed: %s: %s\n", dir,
            lock >= 0 && errno == EWOULDBLOCK ? "another feed is running on this folder; nothing done"
                                              : strerror(errno));
    if (lock >= 0) close(lock);
    return 1;
  }
  double t0 = pf_clock_s();
  pf_filelist all = {0}, links = {0};
  if (pf_walk_add_nolinks(&all, &links, dir, glob, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet feed: error: %s\n", err);
    pf_filelist_destroy(&links);
    close(lock);
    return 1;
  }
  /* others fill the folder: a symlink could point anywhere this user may
   * read (a key, another fleet's samples); each is named and left alone */
  for (size_t i = 0; i < links.n; i++)
    fprintf(stderr, "pefleet feed: warning: %s: a symlink; not followed, skipped\n", links.paths[i]);
  pf_db *db = NULL;
  if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet feed: %s\n", err);
    pf_filelist_destroy(&all);
    pf_filelist_destroy(&links);
    close(lock);
    return 1;
  }
  /* hash every file and ask Redis whether it knows it: only new files are
   * sent; new ones fill items from the front, known ones from the back */
  char done_prefix[4200];
  snprintf(done_prefix, sizeof done_prefix, "%s/done/", dir);
  size_t nnew = 0, nknown = 0, failed = 0, moved = 0, cap = all.n ? all.n : 1;
  char **paths = calloc(cap, sizeof *paths);
  ingest_item *items = calloc(cap, sizeof *items);
  int rc = 0;
  if (!paths || !items) { fprintf(stderr, "pefleet feed: out of memory\n"); rc = 1; goto out; }
  for (size_t i = 0; i < all.n; i++) {
    const char *p = all.paths[i];
    if (strncmp(p, done_prefix, strlen(done_prefix)) == 0) continue;
    char why[256], status[16], sha[PF_SHA256_HEX_LEN + 1];
    if (hash_file(lock, dir, p, sha, why, sizeof why) != PF_OK) {
      fprintf(stderr, "pefleet feed: error: %s: cannot read: %s\n", p, why);
      failed++;
      continue;
    }
    int r = pf_db_status(db, sha, status);
    if (r == PF_EIO) {
      fprintf(stderr, "pefleet feed: error: cannot ask Redis about %s: %s\n", p, pf_db_error(db));
      rc = 1;
      goto out;
    }
    size_t k = r == PF_OK ? cap - 1 - nknown++ : nnew++;
    paths[k] = all.paths[i];
    if (r == PF_OK) {
      memcpy(items[k].sha, sha, sizeof sha);
      items[k].state = KNOWN;
      if (!quiet) printf("%s  skipped  %s  (already ingested, %s)\n", sha, p, status);
    }
  }
  /* the new ones, sent as pefleet ingest sends them */
  ingest_opts io = {"pefleet feed", label, (uint64_t)max_mib << 20, retry_for, quiet, dir, lock, seen_at};
  ingest_totals t = {0};
  if (nnew > 0 && ingest_send(&cfg, &io, paths, items, nnew, &t) != PF_OK) { rc = 1; goto out; }
  for (size_t i = 0; i < nnew; i++)
    if (items[i].state == INGEST_PENDING)
      fprintf(stderr, "pefleet feed: error: %s: not acknowledged by the broker; left in place\n", paths[i]);
  /* acknowledged means durable in Redis and the store: safe to move */
  if (move)
    for (size_t i = 0; i < cap; i++) {
      if (i >= nnew && i < cap - nknown) continue;
      int s = items[i].state;
      if (s != INGEST_QUEUED && s != INGEST_DUPLICATE && s != KNOWN) continue;
      char why[4400];
      if (move_done(dir, paths[i], items[i].sha, why, sizeof why) != 0) {
        fprintf(stderr, "pefleet feed: error: %s: %s\n", paths[i], why);
        failed++;
      } else moved++;
    }
  if (wait && nnew > 0 && !t.unacked && ingest_wait(&cfg, &io, paths, items, nnew) != 0) rc = 1;
  printf("feed %s: %zu new (%zu queued, %zu duplicates, %zu rejected, %zu unacknowledged), %zu skipped (already "
         "ingested), %zu failed to read or move",
         dir, nnew, t.queued, t.duplicates, t.rejected, t.unacked, nknown, failed);
  if (move) printf(", %zu moved to %s/done", moved, dir);
  if (links.n) printf(", %zu symlinks skipped", links.n);
  printf(" in %.2f s\n", pf_clock_s() - t0);
  if (failed || t.rejected || t.unacked) rc = 1;
out:
  free(paths);
  free(items);
  pf_db_free(&db);
  pf_filelist_destroy(&all);
  pf_filelist_destroy(&links);
  close(lock);
  return rc;
}
