/* Handing files to the fleet (see ingest_send.h): moved out of
 * cmd_ingest.c so that `pefleet feed` sends exactly as `ingest` does. */
#include "ingest_send.h"
#include "pf_walk.h"
#include "fleet.h"
#include "pf_clock.h"
#include "pf_curve.h"
#include "pf_date.h"
#include "pf_err.h"
#include "pf_msg.h"
#include "pf_store.h"
#include "pf_zmq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WINDOW 256 /* ingest requests in flight at most */
#define BATCH 64   /* files stored (and synced at once) before asking the broker */
#define PROBE_S 5  /* seconds the broker has to answer at all, before anything is stored */

/* Which items a sha256 names, so an acknowledgement is matched in O(1)
 * rather than by a walk over every file (quadratic on large ingests):
 * open addressing on the digest's first 64 bits, one slot per stored item
 * (a file given twice has two), index + 1 in each slot, 0 empty. */
typedef struct {
  size_t *slot;
  size_t mask;
} sha_index;

static uint64_t sha_key(const char *sha) {
  uint64_t k = 0;
  for (int i = 0; i < 16 && sha[i]; i++) k = (k << 4) | (uint64_t)(sha[i] <= '9' ? sha[i] - '0' : sha[i] - 'a' + 10);
  return k;
}

static int index_init(sha_index *x, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n + 2) cap <<= 1;
  x->slot = calloc(cap, sizeof *x->slot);
  x->mask = cap - 1;
  return x->slot ? 0 : -1;
}

static void index_add(sha_index *x, const ingest_item *items, size_t i) {
  size_t h = (size_t)sha_key(items[i].sha) & x->mask;
  while (x->slot[h]) h = (h + 1) & x->mask;
  x->slot[h] = i + 1;
}

static int send_req(void *sock, const ingest_item *it, const char *label) {
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  rq.sha256 = (char *)it->sha;
  rq.label = (char *)label;
  rq.size = it->size;
  rq.first_seen = it->seen > 0 ? it->seen : 0;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
  env.ingest = &rq;
  return pf_zsend_env(sock, NULL, 0, 1, &env);
}

int ingest_parse_seen_at(const char *s, long long *seen, char *why, size_t whyn) {
  if (strcmp(s, "mtime") == 0) { *seen = INGEST_SEEN_MTIME; return 0; }
  long long t;
  if (pf_date_parse(s, strlen(s), &t) != PF_OK) {
    snprintf(why, whyn, "bad --seen-at '%s' (mtime, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds)", s);
    return -1;
  }
  if (t > (long long)time(NULL) + 86400) {
    snprintf(why, whyn, "--seen-at %s is in the future", s);
    return -1;
  }
  *seen = t;
  return 0;
}

int ingest_send(const pf_config *cfg, const ingest_opts *o, char *const *paths, ingest_item *items, size_t n,
                ingest_totals *t) {
  char err[512];
  memset(t, 0, sizeof *t);
  t->unacked = n;
  void *ctx = zmq_ctx_new();
  void *sock = zmq_socket(ctx, ZMQ_DEALER);
  int zero = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
  if (pf_curve_client(sock, cfg, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: %s\n", o->who, err);
    return PF_EIO;
  }
  /* a broker that does not answer within a few seconds: say so, and store
   * nothing in a store that no fleet may read */
  long probe_s = o->retry_for < PROBE_S ? (o->retry_for < 1 ? 1 : o->retry_for) : PROBE_S;
  double waited = 0;
  int crc = pf_zmq_connect_wait(ctx, sock, cfg->ingest_endpoint, (int)(probe_s * 1000), err, sizeof err, &waited);
  if (crc != PF_OK) {
    if (crc == PF_ETIMEOUT)
      fprintf(stderr, "%s: error: broker at %s does not answer: it did not acknowledge a connection in %.1f s: %s; "
                      "nothing was stored (is the fleet up? pefleet up --data %s)\n",
              o->who, cfg->ingest_endpoint, waited, err, cfg->data);
    else fprintf(stderr, "%s: error: %s\n", o->who, err);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return PF_EIO;
  }
  size_t next = 0, outstanding = 0, acked = 0, lowest = 0; /* lowest: no pending item below it */
  sha_index idx;
  if (index_init(&idx, n) != 0) {
    fprintf(stderr, "%s: out of memory\n", o->who);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return PF_EIO;
  }
  double t0 = pf_clock_s(), deadline = t0 + (double)o->retry_for;
  /* stores the files and keeps WINDOW requests in flight; resends after 3 s */
  while (acked < n) {
    /* store a batch without fsyncing each file, make the batch durable
     * with one syncfs, and only then ask the broker to queue it */
    size_t first = next;
    while (next < n && next - first < BATCH && outstanding + BATCH <= WINDOW) {
      ingest_item *it = &items[next];
      int rc, link = 0;
      if (o->beneath) {
        int fd = pf_walk_open_beneath(o->beneath_fd, o->beneath, paths[next]);
        link = fd < 0 && (errno == ELOOP || errno == EXDEV);
        struct stat st;
        if (fd >= 0 && o->seen_at == INGEST_SEEN_MTIME && fstat(fd, &st) == 0) it->seen = (long long)st.st_mtime;
        rc = fd < 0 ? PF_EIO : pf_store_put_fd(cfg->store, fd, o->max_size, PF_STORE_NOSYNC, it->sha, &it->size);
        if (fd >= 0) close(fd);
      } else {
        struct stat st;
        if (o->seen_at == INGEST_SEEN_MTIME && stat(paths[next], &st) == 0) it->seen = (long long)st.st_mtime;
        rc = pf_store_put_file(cfg->store, paths[next], o->max_size, PF_STORE_NOSYNC, it->sha, &it->size);
      }
      if (o->seen_at > 0) it->seen = o->seen_at;
      if (it->seen < PF_DATE_MIN) it->seen = 0; /* a file dated 1970: the broker's now */
      if (rc == PF_OK) index_add(&idx, items, next);
      if (rc != PF_OK) {
        it->state = INGEST_REJECTED;
        t->rejected++;
        acked++;
        fprintf(stderr, "%s: error: %s: cannot store: %s\n", o->who, paths[next],
                link                ? "a symlink in its path (not followed)"
                : rc == PF_ELIMIT   ? "file too large"
                : rc == PF_EINVAL   ? "not a regular file"
                                    : strerror(errno));
      }
      next++;
    }
    if (next > first && pf_store_sync(cfg->store) != PF_OK) {
      fprintf(stderr, "%s: error: cannot sync the store %s: %s\n", o->who, cfg->store, strerror(errno));
      break;
    }
    for (size_t i = first; i < next; i++) {
      if (items[i].state != INGEST_PENDING) continue;
      send_req(sock, &items[i], o->label);
      items[i].sent = pf_clock_s();
      outstanding++;
      deadline = items[i].sent + (double)o->retry_for; /* the limit runs from the last progress */
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
        for (size_t h = (size_t)sha_key(a->sha256) & idx.mask; idx.slot[h]; h = (h + 1) & idx.mask) {
          size_t i = idx.slot[h] - 1;
          ingest_item *it = &items[i];
          if (it->state != INGEST_PENDING || strcmp(it->sha, a->sha256) != 0) continue;
          if (a->status == PEFLEET__INGEST_STATUS__INGEST_UNAVAILABLE) {
            it->sent = 0; /* resend below */
            break;
          }
          it->state = a->status == PEFLEET__INGEST_STATUS__INGEST_QUEUED      ? INGEST_QUEUED
                      : a->status == PEFLEET__INGEST_STATUS__INGEST_DUPLICATE ? INGEST_DUPLICATE
                                                                              : INGEST_REJECTED;
          if (it->state == INGEST_QUEUED) t->queued++;
          else if (it->state == INGEST_DUPLICATE) t->duplicates++;
          else t->rejected++;
          if (it->state == INGEST_DUPLICATE && strcmp(a->sample_status, "failed") == 0) {
            /* known and failed: say why, and the way back */
            t->failed_earlier++;
            if (!o->quiet)
              printf("%s  failed earlier: %s (pefleet requeue %s)  %s\n", it->sha,
                     a->error[0] ? a->error : "no reason recorded", it->sha, paths[i]);
          } else if (it->state == INGEST_DUPLICATE && a->first_label && a->first_label[0]) {
            /* known under another label: the conflict, on its own line (status counts it too) */
            t->conflicts++;
            if (!o->quiet)
              printf("%s  duplicate, label conflict: stored as '%s', not '%s'  %s\n", it->sha, a->first_label,
                     o->label, paths[i]);
          } else if (!o->quiet || it->state == INGEST_REJECTED)
            fprintf(it->state == INGEST_REJECTED ? stderr : stdout, "%s  %s  %s%s%s\n", it->sha,
                    it->state == INGEST_QUEUED ? "queued" : it->state == INGEST_DUPLICATE ? "duplicate" : "rejected",
                    paths[i], a->error[0] ? "  " : "", a->error);
          outstanding--;
          acked++;
          deadline = pf_clock_s() + (double)o->retry_for;
        }
      }
      pf_msg_free(e);
      pf_zframes_close(&f);
    }
    double now = pf_clock_s();
    if (now > deadline && outstanding > 0) {
      fprintf(stderr, "%s: error: broker at %s did not acknowledge %zu file(s) within %ld s\n", o->who,
              cfg->ingest_endpoint, outstanding, o->retry_for);
      break;
    }
    while (lowest < next && items[lowest].state != INGEST_PENDING) lowest++;
    for (size_t i = lowest; i < next; i++)
      if (items[i].state == INGEST_PENDING && items[i].sent < now - 3.0 && items[i].sha[0]) {
        send_req(sock, &items[i], o->label);
        items[i].sent = now;
      }
  }
  t->unacked = n - acked;
  t->seconds = pf_clock_s() - t0;
  free(idx.slot);
  zmq_close(sock);
  zmq_ctx_term(ctx);
  return PF_OK;
}

int ingest_wait(const pf_config *cfg, const ingest_opts *o, char *const *paths, ingest_item *items, size_t n) {
  char err[512];
  pf_db *db = NULL;
  if (fleet_db(cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: cannot wait: %s\n", o->who, err);
    return 1;
  }
  size_t done = 0, failed = 0, pending = 0, lo = 0; /* items below lo are settled */
  double last = 0;
  for (;;) {
    int down = 0, still = 0;
    /* samples are encoded roughly in the order they were queued: ask about
     * the oldest unsettled ones and stop after 16 that are still pending,
     * so a large ingest costs Redis a few lookups per round, not n */
    for (size_t i = lo; i < n && still < 16 && !down; i++) {
      ingest_item *it = &items[i];
      if (it->state != INGEST_QUEUED && it->state != INGEST_DUPLICATE) continue;
      char st[16];
      int r = pf_db_status(db, it->sha, st);
      if (r == PF_EIO) { down = 1; continue; }
      if (r == PF_ENOENT) { /* acknowledged, then gone: Redis lost it */
        it->state = INGEST_FAILED;
        fprintf(stderr, "%s: %s (%s) is no longer in Redis; ingest it again\n", o->who, paths[i], it->sha);
        continue;
      }
      if (r == PF_OK && strcmp(st, "done") == 0) it->state = INGEST_DONE;
      else if (r == PF_OK && strcmp(st, "failed") == 0) {
        it->state = INGEST_FAILED;
        static pf_db_sample s;
        pf_db_get(db, it->sha, &s);
        if (!o->quiet) fprintf(stderr, "%s: %s (%s) failed: %s\n", o->who, paths[i], it->sha, s.reason);
      } else still++;
    }
    while (lo < n && items[lo].state != INGEST_QUEUED && items[lo].state != INGEST_DUPLICATE) lo++;
    done = failed = pending = 0;
    for (size_t i = 0; i < n; i++) {
      if (items[i].state == INGEST_DONE) done++;
      else if (items[i].state == INGEST_FAILED) failed++;
      else if (items[i].state == INGEST_QUEUED || items[i].state == INGEST_DUPLICATE) pending++;
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
  pf_db_free(&db);
  return failed ? 1 : 0;
}
