/* pefleet ingest: stores files in the sample store and queues their hashes
 * with the broker; --wait blocks until every one is done or failed. */
#include "cmd.h"
#include "pf_clock.h"
#include "fleet.h"
#include "pf_err.h"
#include "pf_msg.h"
#include "pf_store.h"
#include "pf_walk.h"
#include "pf_curve.h"
#include "pf_zmq.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WINDOW 256 /* ingest requests in flight at most */
#define BATCH 64   /* files stored (and synced at once) before asking the broker */

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
    "      --data DIR       the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --config FILE    a configuration file instead of DIR/pefleet.conf\n"
    "  -q, --quiet          no per-file lines\n\n"
    "exit status: 0 all accepted (and, with --wait, all done), 1 otherwise, 2 usage error\n\n"
    "example:\n"
    "  pefleet ingest --label malicious --wait /srv/sandbox/drops\n");
}

typedef struct {
  char sha[PF_SHA256_HEX_LEN + 1];
  uint64_t size;
  int state; /* 0 pending, 1 queued, 2 duplicate, 3 rejected, 4 done, 5 failed */
  double sent;
} item;

static int send_req(void *sock, const item *it, const char *label) {
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  rq.sha256 = (char *)it->sha;
  rq.label = (char *)label;
  rq.size = it->size;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
  env.ingest = &rq;
  return pf_zsend_env(sock, NULL, 0, 1, &env);
}

int cmd_ingest(int argc, char **argv) {
  static const struct option opts[] = {
    {"label", required_argument, 0, 'l'}, {"wait", no_argument, 0, 'W'}, {"filter", required_argument, 0, 'f'},
    {"max-size", required_argument, 0, 1}, {"retry-for", required_argument, 0, 2},
    {"data", required_argument, 0, 3}, {"config", required_argument, 0, 4}, {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *label = NULL, *glob = NULL, *data = NULL, *config = NULL;
  int wait = 0, quiet = 0, c;
  long max_mib = 512, retry_for = 60;
  optind = 1;
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
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!label || !*label) { fprintf(stderr, "pefleet ingest: --label is required\n"); return 2; }
  if (optind >= argc) { fprintf(stderr, "pefleet ingest: no PATH given\n"); return 2; }
  pf_config cfg;
  char err[512];
  if (pf_config_resolve(&cfg, data, config, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet ingest: %s\n", err);
    return 2;
  }
  pf_filelist files = {0};
  int bad = 0;
  for (int i = optind; i < argc; i++) {
    if (pf_walk_add(&files, argv[i], glob, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet ingest: error: %s\n", err);
      bad++;
    }
  }
  item *items = calloc(files.n ? files.n : 1, sizeof *items);
  if (!items) return 1;

  void *ctx = zmq_ctx_new();
  void *sock = zmq_socket(ctx, ZMQ_DEALER);
  int zero = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
  if (pf_curve_client(sock, &cfg, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet ingest: %s\n", err);
    return 1;
  }
  if (zmq_connect(sock, cfg.ingest_endpoint) != 0) {
    fprintf(stderr, "pefleet ingest: cannot connect to %s: %s\n", cfg.ingest_endpoint, zmq_strerror(errno));
    return 1;
  }
  size_t next = 0, outstanding = 0, acked = 0;
  size_t n_q = 0, n_dup = 0, n_rej = 0;
  double t0 = pf_clock_s(), deadline = t0 + (double)retry_for;
  /* stores the files and keeps WINDOW requests in flight; resends after 3 s */
  while (acked < files.n) {
    /* store a batch without fsyncing each file, make the batch durable
     * with one syncfs, and only then ask the broker to queue it */
    size_t first = next;
    while (next < files.n && next - first < BATCH && outstanding + BATCH <= WINDOW) {
      item *it = &items[next];
      int rc = pf_store_put_file(cfg.store, files.paths[next], (uint64_t)max_mib << 20, PF_STORE_NOSYNC, it->sha,
                                 &it->size);
      if (rc != PF_OK) {
        it->state = 3;
        n_rej++;
        acked++;
        fprintf(stderr, "pefleet ingest: error: %s: cannot store: %s\n", files.paths[next],
                rc == PF_ELIMIT ? "file too large" : rc == PF_EINVAL ? "not a regular file" : strerror(errno));
      }
      next++;
    }
    if (next > first && pf_store_sync(cfg.store) != PF_OK) {
      fprintf(stderr, "pefleet ingest: error: cannot sync the store %s: %s\n", cfg.store, strerror(errno));
      break;
    }
    for (size_t i = first; i < next; i++) {
      if (items[i].state != 0) continue;
      send_req(sock, &items[i], label);
      items[i].sent = pf_clock_s();
      outstanding++;
      deadline = items[i].sent + (double)retry_for; /* the limit runs from the last progress */
    }
    if (outstanding == 0) continue;
    zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
    zmq_poll(&pi, 1, 200);
    pf_zframes f;
    while (pf_zrecv(sock, &f, ZMQ_DONTWAIT) == PF_OK) {
      Pefleet__Envelope *e = f.n >= 1 ? pf_msg_decode(zmq_msg_data(&f.part[f.n - 1]), zmq_msg_size(&f.part[f.n - 1]),
                                                      PF_MSG_MAX_CONTROL, err, sizeof err) : NULL;
      if (e && e->body_case == PEFLEET__ENVELOPE__BODY_INGEST_ACK) {
        const Pefleet__IngestAck *a = e->ingest_ack;
        for (size_t i = 0; i < next; i++) {
          item *it = &items[i];
          if (it->state != 0 || strcmp(it->sha, a->sha256) != 0) continue;
          if (a->status == PEFLEET__INGEST_STATUS__INGEST_UNAVAILABLE) {
            it->sent = 0; /* resend below */
            break;
          }
          it->state = a->status == PEFLEET__INGEST_STATUS__INGEST_QUEUED ? 1
                      : a->status == PEFLEET__INGEST_STATUS__INGEST_DUPLICATE ? 2 : 3;
          if (it->state == 1) n_q++; else if (it->state == 2) n_dup++; else n_rej++;
          if (!quiet || it->state == 3)
            fprintf(it->state == 3 ? stderr : stdout, "%s  %s  %s%s%s\n", it->sha,
                    it->state == 1 ? "queued" : it->state == 2 ? "duplicate" : "rejected", files.paths[i],
                    a->error[0] ? "  " : "", a->error);
          outstanding--;
          acked++;
          deadline = pf_clock_s() + (double)retry_for;
        }
      }
      pf_msg_free(e);
      pf_zframes_close(&f);
    }
    double now = pf_clock_s();
    if (now > deadline && outstanding > 0) {
      fprintf(stderr, "pefleet ingest: error: broker at %s did not acknowledge %zu file(s) within %ld s\n",
              cfg.ingest_endpoint, outstanding, retry_for);
      break;
    }
    for (size_t i = 0; i < next; i++)
      if (items[i].state == 0 && items[i].sent < now - 3.0 && items[i].sha[0]) {
        send_req(sock, &items[i], label);
        items[i].sent = now;
      }
  }
  int unacked = (int)(files.n - acked);
  fprintf(stderr, "pefleet ingest: %zu files: %zu queued, %zu duplicates, %zu rejected%s in %.2f s\n", files.n, n_q,
          n_dup, n_rej, unacked ? ", some unacknowledged" : "", pf_clock_s() - t0);
  zmq_close(sock);
  zmq_ctx_term(ctx);
  int rc = (bad || n_rej || unacked) ? 1 : 0;
  if (wait && !unacked) {
    pf_db *db = NULL;
    if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet ingest: cannot wait: %s\n", err);
      rc = 1;
    } else {
      size_t done = 0, failed = 0, pending = 0;
      double last = 0;
      for (;;) {
        done = failed = pending = 0;
        int down = 0;
        for (size_t i = 0; i < files.n; i++) {
          item *it = &items[i];
          if (it->state == 3) continue;
          if (it->state == 4) { done++; continue; }
          if (it->state == 5) { failed++; continue; }
          char st[16];
          int r = pf_db_status(db, it->sha, st);
          if (r == PF_EIO) { down = 1; pending++; continue; }
          if (r == PF_ENOENT) { /* acknowledged, then gone: Redis lost it */
            it->state = 5;
            failed++;
            fprintf(stderr, "pefleet ingest: %s (%s) is no longer in Redis; ingest it again\n", files.paths[i], it->sha);
            continue;
          }
          if (r == PF_OK && strcmp(st, "done") == 0) { it->state = 4; done++; }
          else if (r == PF_OK && strcmp(st, "failed") == 0) {
            it->state = 5;
            failed++;
            static pf_db_sample s;
            pf_db_get(db, it->sha, &s);
            if (!quiet) fprintf(stderr, "pefleet ingest: %s (%s) failed: %s\n", files.paths[i], it->sha, s.reason);
          } else pending++;
        }
        if (pending == 0) break;
        if (isatty(2) && pf_clock_s() - last > 1.0) {
          fprintf(stderr, "\rwaiting: %zu done, %zu failed, %zu pending%s   ", done, failed, pending,
                  down ? " (redis unreachable)" : "");
          last = pf_clock_s();
        }
        usleep(50 * 1000);
      }
      if (isatty(2)) fprintf(stderr, "\n");
      printf("done %zu, failed %zu\n", done, failed);
      if (failed) rc = 1;
      pf_db_free(&db);
    }
  }
  free(items);
  pf_filelist_destroy(&files);
  return rc;
}
