/* Unit tests of the batched reads (pf_db_scan, pf_db_fetch) and of the
 * pf:vectors stream readers (pf_db_stream) against a real redis-server
 * (pf_test_redis.h): every record a scan hands over equals what pf_db_get
 * reads for it, over several pages and more than one round trip's batch;
 * the vectors-only read; an unreadable vector (reported, the walk goes on;
 * pf_db_each stops); unknown and malformed hashes; a Redis restart in the
 * middle of a scan; the stream's tail, reads after an id and the checks
 * for a flushed, restarted or trimmed stream; finding a sample by the start
 * of its hash. Skipped, saying so, without
 * redis-server. */
#include "pf_test_redis.h"

#include "pf_db_scan.h"
#include "pf_db_stream.h"
#include "pf_split.h"
#include "pf_vecblob.h"

#include <math.h>
#include <signal.h>

#define N 2300 /* more than two SSCAN pages and two fetch batches */
#define DIM 486

static int group_setup(void **state) { return redis_group_setup("pf_test_db_scan"); }
static int group_teardown(void **state) { return redis_group_teardown(SIGKILL); }
static int teardown(void **state) {
  pf_db *db = *state;
  pf_db_free(&db);
  return 0;
}

static char shas[N][PF_SHA256_HEX_LEN + 1];

static void vec_of(int i, double *v) {
  for (int k = 0; k < DIM; k++) v[k] = sin((double)(i * 13 + k)) * 3.0;
}

/* N samples: imported with a vector (most; every 13th of 4 values, so a
 * record's vector is shorter than the one before), ingested only (every 7th),
 * failed with a reason (every 11th), several labels (every 5th). */
static void fill(pf_db *db) {
  static double vec[64][DIM];
  static pf_db_import_item it[64];
  for (int i = 0; i < N; i++) sha_named("scan-", i, shas[i]);
  for (int i = 0; i < N; i += 64) {
    int k = 0;
    for (int j = i; j < N && j < i + 64; j++) {
      if (j % 7 == 0) continue;
      vec_of(j, vec[k]);
      it[k] = (pf_db_import_item){.sha = shas[j], .label = j % 2 ? "malicious" : "clean", .vec = vec[k],
                                  .dim = j % 13 ? DIM : 4, .first_seen = 1700000000 + j};
      k++;
    }
    assert_int_equal(pf_db_import_vectors(db, it, (size_t)k, 3), PF_OK);
  }
  int is_new;
  char status[16];
  for (int i = 0; i < N; i++) {
    if (i % 7 == 0) { /* first_seen fixed, so a refill gives the same records */
      const char *sha[] = {shas[i]}, *label[] = {"clean"};
      uint64_t size[] = {(uint64_t)i};
      long long seen[] = {1600000000 + i};
      int rc[1], fresh[1];
      char st[1][16];
      assert_int_equal(pf_db_ingest_many(db, 1, sha, label, size, seen, rc, fresh, st, NULL), PF_OK);
      assert_int_equal(rc[0], PF_OK);
    }
    if (i % 5 == 0) {
      assert_int_equal(pf_db_ingest(db, shas[i], "zeta", 1, &is_new, status), PF_OK);
      assert_int_equal(pf_db_ingest(db, shas[i], "Alpha", 1, &is_new, status), PF_OK);
    }
    if (i % 11 == 0 && i % 7 == 0) assert_int_equal(pf_db_fail(db, shas[i], "bad \x01 header"), PF_OK);
  }
}

static int index_of(const char *sha) {
  for (int i = 0; i < N; i++)
    if (strcmp(shas[i], sha) == 0) return i;
  return -1;
}

typedef struct {
  pf_db *db;
  int flags;
  int seen[N];
  int n, einval, enoent, stop_after, mismatch;
  pf_db_sample *want;
  void (*hook)(int n); /* called before record n is checked */
} scan_ctx;

/* Every record against pf_db_get's reading of it. */
static int check_one(const pf_db_sample *s, int rc, void *arg) {
  scan_ctx *c = arg;
  if (c->hook) c->hook(c->n);
  c->n++;
  if (rc == PF_ENOENT) { c->enoent++; return 0; }
  if (rc == PF_EINVAL) c->einval++;
  int i = index_of(s->sha);
  if (i < 0) { c->mismatch++; return 0; }
  c->seen[i]++;
  int g = pf_db_get(c->db, s->sha, c->want); /* fn may use db: the page was read */
  if (g != rc) { c->mismatch++; return 0; }
  pf_db_sample *w = c->want;
  if (c->flags & PF_DB_SCAN_VECTORS) {
    if (s->has_vector != w->has_vector || s->dim != w->dim || s->schema != w->schema ||
        strcmp(s->split, w->split) || strcmp(s->labels, w->labels) || s->nlabels != w->nlabels ||
        memcmp(s->vec, w->vec, sizeof s->vec) || s->label[0] || s->status[0] || s->size || s->first_seen)
      c->mismatch++;
  } else if (memcmp(s, w, sizeof *s) != 0) {
    c->mismatch++;
  }
  return c->stop_after && c->n >= c->stop_after;
}

static scan_ctx *ctx_new(pf_db *db, int flags) {
  static scan_ctx c;
  static pf_db_sample want;
  memset(&c, 0, sizeof c);
  c.db = db;
  c.flags = flags;
  c.want = &want;
  return &c;
}

static void test_scan_equals_get(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  fill(db);
  scan_ctx *c = ctx_new(db, 0);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, check_one, c), PF_OK);
  assert_int_equal(c->mismatch, 0);
  assert_int_equal(c->einval + c->enoent, 0);
  for (int i = 0; i < N; i++) assert_int_equal(c->seen[i], 1);
  printf("all: %d records, each equal to pf_db_get's\n", c->n);
  /* the done set, vectors only: exactly the imported samples */
  c = ctx_new(db, PF_DB_SCAN_VECTORS);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_DONE, PF_DB_SCAN_VECTORS, check_one, c), PF_OK);
  assert_int_equal(c->mismatch, 0);
  for (int i = 0; i < N; i++) assert_int_equal(c->seen[i], i % 7 != 0);
  /* a split, the failed set */
  for (int sp = 0; sp < 3; sp++) {
    c = ctx_new(db, 0);
    assert_int_equal(pf_db_scan(db, sp, 0, check_one, c), PF_OK);
    assert_int_equal(c->mismatch, 0);
    for (int i = 0; i < N; i++) assert_int_equal(c->seen[i], i % 7 != 0 && pf_split_of(shas[i]) == sp);
  }
  c = ctx_new(db, 0);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_FAILED, 0, check_one, c), PF_OK);
  for (int i = 0; i < N; i++) assert_int_equal(c->seen[i], i % 77 == 0);
  /* fn stops it, within a page */
  c = ctx_new(db, 0);
  c->stop_after = 1500;
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, check_one, c), PF_OK);
  assert_int_equal(c->n, 1500);
  /* refusals */
  assert_int_equal(pf_db_scan(db, 3, 0, check_one, c), PF_EINVAL);
  assert_int_equal(pf_db_scan(db, -4, 0, check_one, c), PF_EINVAL);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 2, check_one, c), PF_EINVAL);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, NULL, c), PF_EINVAL);
}

static void test_fetch(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  fill(db);
  /* in order, over a batch boundary, an unknown and a malformed hash in place */
  enum { M = PF_DB_SCAN_BATCH + 5 };
  static char list[M][PF_SHA256_HEX_LEN + 1];
  for (int i = 0; i < M; i++) memcpy(list[i], shas[i], sizeof list[i]);
  sha_named("never-", 1, list[3]);
  snprintf(list[7], sizeof list[7], "%s", "not-a-hash");
  scan_ctx *c = ctx_new(db, 0);
  assert_int_equal(pf_db_fetch(db, (const char (*)[PF_SHA256_HEX_LEN + 1])list, M, 0, check_one, c), PF_OK);
  assert_int_equal(c->n, M);
  assert_int_equal(c->enoent, 2);
  assert_int_equal(c->mismatch, 0);
  assert_int_equal(c->seen[3] + c->seen[7], 0);
  assert_int_equal(c->seen[PF_DB_SCAN_BATCH + 4], 1);
  assert_int_equal(pf_db_fetch(db, (const char (*)[PF_SHA256_HEX_LEN + 1])list, 0, 0, check_one, c), PF_OK);
}

static void test_bad_vector(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  fill(db);
  /* a damaged blob, and one whose schema differs from the record's */
  admin_do("HSET pf:s:%s vec %b", shas[1], "junk", (size_t)4);
  admin_do("HSET pf:s:%s schema 9", shas[2]);
  scan_ctx *c = ctx_new(db, 0);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, check_one, c), PF_OK);
  assert_int_equal(c->einval, 2); /* reported, and the walk goes on */
  assert_int_equal(c->mismatch, 0);
  assert_int_equal(c->n, N);
  c = ctx_new(db, PF_DB_SCAN_VECTORS);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_DONE, PF_DB_SCAN_VECTORS, check_one, c), PF_OK);
  assert_int_equal(c->einval, 2);
  assert_int_equal(c->mismatch, 0);
  /* a key of another type is an error, as for pf_db_get */
  admin_do("DEL pf:s:%s", shas[3]);
  admin_do("SADD pf:s:%s x", shas[3]);
  c = ctx_new(db, 0);
  char one[1][PF_SHA256_HEX_LEN + 1];
  memcpy(one[0], shas[3], sizeof one[0]);
  assert_int_equal(pf_db_fetch(db, (const char (*)[PF_SHA256_HEX_LEN + 1])one, 1, 0, check_one, c), PF_EIO);
  assert_non_null(strstr(pf_db_error(db), "WRONGTYPE"));
}

static pf_db *restart_db;
static int restart_at;

/* Kills the server in the middle of a scan and brings it back with the
 * same samples. */
static void restart_hook(int n) {
  if (n != restart_at) return;
  stop_redis(SIGKILL);
  assert_int_equal(start_redis(), 0);
  fill(restart_db);
}

static void test_restart_mid_scan(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  fill(db);
  /* back before the next page: the walk goes on against the new server */
  restart_db = db;
  restart_at = 700;
  scan_ctx *c = ctx_new(db, 0);
  c->hook = restart_hook;
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, check_one, c), PF_OK);
  assert_int_equal(c->mismatch, 0);
  assert_true(c->n > restart_at);
  printf("restarted at record %d: %d records in all\n", restart_at, c->n);
  /* a fetch on a connection the restart broke: reopened, the batch sent again */
  stop_redis(SIGKILL);
  assert_int_equal(start_redis(), 0);
  fill(db);
  c = ctx_new(db, 0);
  assert_int_equal(pf_db_fetch(db, (const char (*)[PF_SHA256_HEX_LEN + 1])shas, 50, 0, check_one, c), PF_OK);
  assert_int_equal(c->n, 50);
  assert_int_equal(c->mismatch, 0);
  /* gone for good: PF_EIO with the reason */
  stop_redis(SIGKILL);
  c = ctx_new(db, 0);
  assert_int_equal(pf_db_scan(db, PF_DB_SET_ALL, 0, check_one, c), PF_EIO);
  assert_non_null(strstr(pf_db_error(db), "unreachable"));
  assert_int_equal(pf_db_fetch(db, (const char (*)[PF_SHA256_HEX_LEN + 1])shas, 5, 0, check_one, c), PF_EIO);
}

static void test_stream(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  char tail[PF_DB_STREAM_ID], last[PF_DB_STREAM_ID], why[256];
  static char got[PF_DB_STREAM_READ][PF_SHA256_HEX_LEN + 1];
  int n, entries;
  assert_int_equal(pf_db_vectors_tail(db, tail), PF_OK);
  assert_string_equal(tail, "0-0");
  assert_int_equal(pf_db_vectors_continues(db, "0-0", why, sizeof why), 1);
  assert_int_equal(pf_db_vectors_read(db, "0-0", 10, got, &n, last, &entries), PF_OK);
  assert_int_equal(n + entries, 0);
  assert_string_equal(last, "");
  fill(db);
  /* every stored vector announced once, in order */
  assert_int_equal(pf_db_vectors_read(db, "0-0", 10, got, &n, last, &entries), PF_OK);
  assert_int_equal(n, 10);
  assert_int_equal(entries, 10);
  assert_string_equal(got[0], shas[1]);
  assert_int_equal(pf_db_vectors_tail(db, tail), PF_OK);
  assert_true(pf_db_stream_id_cmp(tail, last) > 0);
  assert_int_equal(pf_db_vectors_continues(db, last, why, sizeof why), 1);
  char mid[PF_DB_STREAM_ID];
  snprintf(mid, sizeof mid, "%s", last);
  assert_int_equal(pf_db_vectors_read(db, mid, 5, got, &n, last, &entries), PF_OK);
  assert_int_equal(n, 5);
  assert_string_equal(got[0], shas[12]);
  /* an entry without a hash is read (and announces nothing) */
  admin_do("XADD %s * other x", PF_DB_VECTORS_KEY);
  assert_int_equal(pf_db_vectors_read(db, tail, 10, got, &n, last, &entries), PF_OK);
  assert_int_equal(entries, 1);
  assert_int_equal(n, 0);
  assert_true(pf_db_stream_id_cmp(last, tail) > 0);
  /* an entry past our position deleted (max-deleted-entry-id) */
  admin_do("XDEL %s %s", PF_DB_VECTORS_KEY, tail);
  assert_int_equal(pf_db_vectors_continues(db, mid, why, sizeof why), 0);
  assert_non_null(strstr(why, "trimmed"));
  assert_int_equal(pf_db_vectors_continues(db, last, why, sizeof why), 1); /* at the end: nothing lost */
  /* trimmed from the front (XTRIM, MAXLEN ~) past our position, and not */
  admin_do("XTRIM %s MAXLEN 3", PF_DB_VECTORS_KEY);
  assert_int_equal(pf_db_vectors_continues(db, "1-0", why, sizeof why), 0);
  assert_non_null(strstr(why, "trimmed past our position (its oldest"));
  assert_int_equal(pf_db_vectors_continues(db, last, why, sizeof why), 1);
  /* a stream that did not exist when we started (id 0-0) and came since */
  admin_do("DEL %s", PF_DB_VECTORS_KEY);
  admin_do("XADD %s * sha %s", PF_DB_VECTORS_KEY, shas[1]);
  assert_int_equal(pf_db_vectors_continues(db, "0-0", why, sizeof why), 1);
  /* restarted: its last id is before ours */
  admin_do("DEL %s", PF_DB_VECTORS_KEY);
  admin_do("XADD %s 1-1 sha %s", PF_DB_VECTORS_KEY, shas[1]);
  assert_int_equal(pf_db_vectors_continues(db, mid, why, sizeof why), 0);
  assert_non_null(strstr(why, "restarted"));
  /* gone */
  admin_do("FLUSHALL");
  assert_int_equal(pf_db_vectors_continues(db, mid, why, sizeof why), 0);
  assert_non_null(strstr(why, "gone"));
  /* ids */
  assert_int_equal(pf_db_stream_id_cmp("2-1", "10-0"), -1);
  assert_int_equal(pf_db_stream_id_cmp("10-2", "10-2"), 0);
  assert_int_equal(pf_db_stream_id_cmp("10-3", "10-2"), 1);
  assert_int_equal(pf_db_vectors_read(db, "junk", 10, got, &n, last, &entries), PF_EINVAL);
  assert_int_equal(pf_db_vectors_read(db, "0-0", 0, got, &n, last, &entries), PF_EINVAL);
  stop_redis(SIGKILL);
  assert_int_equal(pf_db_vectors_tail(db, tail), PF_EIO);
  assert_int_equal(pf_db_vectors_continues(db, mid, why, sizeof why), PF_EIO);
}

static void test_find_prefix(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  fill(db);
  char out[PF_SHA256_HEX_LEN + 1], p[PF_SHA256_HEX_LEN + 1];
  int m = -1;
  memcpy(p, shas[5], 12);
  p[12] = '\0';
  assert_int_equal(pf_db_find_prefix(db, p, out, &m), PF_OK);
  assert_int_equal(m, 1);
  assert_string_equal(out, shas[5]);
  assert_int_equal(pf_db_find_prefix(db, shas[6], out, &m), PF_OK); /* the whole hash */
  assert_int_equal(m, 1);
  assert_int_equal(pf_db_find_prefix(db, "a", out, &m), PF_OK); /* one digit: many */
  assert_int_equal(m, 2);
  sha_named("never-", 2, p);
  assert_int_equal(pf_db_find_prefix(db, p, out, &m), PF_OK);
  assert_int_equal(m, 0);
  assert_int_equal(pf_db_find_prefix(db, "ABC", out, &m), PF_EINVAL);
  assert_int_equal(pf_db_find_prefix(db, "a*", out, &m), PF_EINVAL); /* never a pattern of the caller's */
  assert_int_equal(pf_db_find_prefix(db, "", out, &m), PF_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_scan_equals_get, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_vector, setup, teardown),
    cmocka_unit_test_setup_teardown(test_restart_mid_scan, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
    cmocka_unit_test_setup_teardown(test_find_prefix, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
