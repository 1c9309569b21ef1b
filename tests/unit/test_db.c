/* Unit tests of pf_db against a real redis-server, started by the test on a
 * free port in a temporary folder (no persistence) and killed at the end.
 * Skipped, saying so, when redis-server is not installed. */
#include "pf_test_redis.h"

#include "pf_split.h"
#include "pf_vecblob.h"

#include <math.h>
#include <signal.h>
#include <time.h>

/* ---- fixtures (the server, setup and admin helpers are in pf_test_redis.h) ---- */

static int group_setup(void **state) { return redis_group_setup("pf_test_db"); }

static int group_teardown(void **state) { return redis_group_teardown(SIGTERM); }

static pf_db *open_db(int timeout_ms) {
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = port;
  if (timeout_ms) o.timeout_ms = timeout_ms;
  pf_db *db = NULL;
  char err[256] = "";
  if (pf_db_connect(&o, &db, err, sizeof err) != PF_OK) fail_msg("pf_db_connect: %s", err);
  return db;
}

static int teardown(void **state) {
  pf_db *db = *state;
  pf_db_free(&db);
  assert_null(db);
  /* a test that set a password must not leave it behind */
  if (redis_pid > 0) {
    redisContext *c = admin_connect("s3cret");
    if (c) {
      redisReply *r = redisCommand(c, "CONFIG SET requirepass %s", "");
      if (r) freeReplyObject(r);
      redisFree(c);
    }
  }
  return 0;
}

static void sha_of(int i, char out[PF_SHA256_HEX_LEN + 1]) { sha_named("sample-", i, out); }

static void ingest_ok(pf_db *db, const char *sha, const char *label, int want_new) {
  int is_new = -1;
  char status[16];
  int rc = pf_db_ingest(db, sha, label, 1234, &is_new, status);
  if (rc != PF_OK) fail_msg("ingest %s: %s", sha, pf_db_error(db));
  assert_int_equal(is_new, want_new);
}

static void counts(pf_db *db, long long q, long long inflight, long long done, long long failed, long long samples,
                   long long conflicts) {
  pf_db_counts c;
  assert_int_equal(pf_db_counts_get(db, &c), PF_OK);
  if (c.queued != q || c.in_flight != inflight || c.done != done || c.failed != failed || c.samples != samples ||
      c.conflicts != conflicts)
    fail_msg("counts: queued %lld in_flight %lld done %lld failed %lld samples %lld conflicts %lld; "
             "want %lld %lld %lld %lld %lld %lld",
             c.queued, c.in_flight, c.done, c.failed, c.samples, c.conflicts, q, inflight, done, failed, samples,
             conflicts);
}

static pf_db_sample smp; /* large: kept off the stack */

static void get_ok(pf_db *db, const char *sha) {
  int rc = pf_db_get(db, sha, &smp);
  if (rc != PF_OK) fail_msg("get %s: %d %s", sha, rc, pf_db_error(db));
}

static void vec_of(int i, double *v, uint32_t dim) {
  for (uint32_t k = 0; k < dim; k++) v[k] = sin((double)(i * 31 + (int)k)) * pow(10.0, (double)(k % 9) - 4.0);
}

static int cmp_sha(const void *a, const void *b) { return strcmp(a, b); }

typedef struct {
  char sha[3000][65];
  int n, stop_after;
  int bad;
} walk;

static int collect(const pf_db_sample *s, void *arg) {
  walk *w = arg;
  if (w->n < 3000) memcpy(w->sha[w->n], s->sha, 65);
  w->n++;
  if (strcmp(s->split, pf_split_name(pf_split_of(s->sha))) != 0) w->bad++;
  return w->stop_after && w->n >= w->stop_after;
}

/* ---- tests ---- */

static void test_ingest(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65];
  sha_of(1, a);
  sha_of(2, b);
  int is_new = -1;
  char status[16] = "x";
  time_t t0 = time(NULL);
  assert_int_equal(pf_db_ingest(db, a, "malware", 4096, &is_new, status), PF_OK);
  assert_int_equal(is_new, 1);
  assert_string_equal(status, "queued");
  counts(db, 1, 0, 0, 0, 1, 0);
  /* duplicate, same label: nothing changes */
  assert_int_equal(pf_db_ingest(db, a, "malware", 9999, &is_new, status), PF_OK);
  assert_int_equal(is_new, 0);
  assert_string_equal(status, "queued");
  counts(db, 1, 0, 0, 0, 1, 0);
  /* a second label: conflict recorded, first label kept, both listed */
  assert_int_equal(pf_db_ingest(db, a, "benign", 4096, &is_new, status), PF_OK);
  assert_int_equal(is_new, 0);
  counts(db, 1, 0, 0, 0, 1, 1);
  assert_int_equal(admin_int("SISMEMBER pf:conflicts %s", a), 1);
  get_ok(db, a);
  assert_string_equal(smp.sha, a);
  assert_string_equal(smp.label, "malware");
  assert_string_equal(smp.labels, "benign,malware");
  assert_int_equal(smp.nlabels, 2);
  assert_string_equal(smp.status, "queued");
  assert_int_equal(smp.size, 4096); /* the first size stays */
  assert_true(smp.first_seen >= t0 && smp.first_seen <= time(NULL) + 1);
  assert_int_equal(smp.attempts, 0);
  assert_int_equal(smp.has_vector, 0);
  assert_string_equal(smp.reason, "");
  /* the first label again changes nothing */
  ingest_ok(db, a, "malware", 0);
  counts(db, 1, 0, 0, 0, 1, 1);
  /* another sample; NULL outputs are allowed */
  assert_int_equal(pf_db_ingest(db, b, "benign", 1, NULL, NULL), PF_OK);
  counts(db, 2, 0, 0, 0, 2, 1);
  /* the status reported for a known sample follows the record */
  char c[1][65];
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(got, 1);
  assert_string_equal(c[0], a); /* first in, first out */
  const double v[3] = {1, 2, 3};
  assert_int_equal(pf_db_store_vector(db, a, v, 3, 1), PF_OK);
  assert_int_equal(pf_db_ingest(db, a, "malware", 4096, &is_new, status), PF_OK);
  assert_int_equal(is_new, 0);
  assert_string_equal(status, "done");
  counts(db, 1, 0, 1, 0, 2, 1);
}

static void test_ingest_many_labels(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], label[PF_DB_MAX_LABEL];
  sha_of(7, a);
  for (int i = 0; i < 100; i++) {
    /* long labels: the comma list must stop at whole labels that fit */
    snprintf(label, sizeof label, "family-%03d-%0100d", i, 0);
    ingest_ok(db, a, label, i == 0);
  }
  get_ok(db, a);
  assert_int_equal(smp.nlabels, 64); /* labels kept per sample are capped */
  assert_int_equal(admin_int("SCARD pf:s:%s:labels", a), 64);
  assert_true(strlen(smp.labels) < sizeof smp.labels);
  assert_true(strncmp(smp.labels, "family-000-", 11) == 0);
  size_t len = strlen(smp.labels), one = strlen(label);
  assert_int_equal((len + 1) % (one + 1), 0); /* whole labels only */
  assert_true(len + 1 + one >= sizeof smp.labels); /* and as many as fit */
  counts(db, 1, 0, 0, 0, 1, 1);
}

static void test_split_stable(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  for (int i = 0; i < 60; i++) {
    char s[65];
    sha_of(i, s);
    ingest_ok(db, s, "a", 1);
    get_ok(db, s);
    assert_string_equal(smp.split, pf_split_name(pf_split_of(s)));
    ingest_ok(db, s, "b", 0);
    get_ok(db, s);
    assert_string_equal(smp.split, pf_split_name(pf_split_of(s)));
  }
  char c[60][65];
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 60, &got), PF_OK);
  assert_int_equal(got, 60);
  for (int i = 0; i < 60; i++) {
    double v[4];
    vec_of(i, v, 4);
    assert_int_equal(pf_db_store_vector(db, c[i], v, 4, 1), PF_OK);
    ingest_ok(db, c[i], "c", 0);
    get_ok(db, c[i]);
    const char *name = pf_split_name(pf_split_of(c[i]));
    assert_string_equal(smp.split, name);
    assert_int_equal(admin_int("SISMEMBER pf:split:%s %s", name, c[i]), 1);
  }
}

static void test_claim(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char s[10][65];
  for (int i = 0; i < 10; i++) {
    sha_of(100 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  char c[16][65];
  int got = -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  assert_int_equal(pf_db_claim(db, c, 4, &got), PF_OK);
  assert_int_equal(got, 4);
  counts(db, 6, 4, 0, 0, 10, 0);
  for (int i = 0; i < 4; i++) {
    assert_string_equal(c[i], s[i]); /* oldest first */
    long long score = admin_int("ZSCORE pf:inflight %s", c[i]);
    assert_true(score >= t0 - 5 && score <= t0 + 5000);
  }
  assert_int_equal(pf_db_claim(db, c + 4, 12, &got), PF_OK);
  assert_int_equal(got, 6);
  counts(db, 0, 10, 0, 0, 10, 0);
  for (int i = 0; i < 10; i++) { /* each hash exactly once */
    int seen = 0;
    for (int k = 0; k < 10; k++) seen += strcmp(c[k], s[i]) == 0;
    assert_int_equal(seen, 1);
  }
  assert_int_equal(pf_db_claim(db, c, 4, &got), PF_OK);
  assert_int_equal(got, 0);
  /* stale queue entries are dropped, never handed out: a hash already in
   * flight (twice), a finished one, an unknown one, junk */
  const double v[2] = {1, 2};
  assert_int_equal(pf_db_store_vector(db, s[9], v, 2, 1), PF_OK);
  char unknown[65];
  sha_of(999, unknown);
  admin_do("LPUSH pf:queue %s %s %s %s %s", s[0], s[9], unknown, "not-a-sha", s[0]);
  assert_int_equal(pf_db_claim(db, c, 8, &got), PF_OK);
  assert_int_equal(got, 0);
  counts(db, 0, 9, 1, 0, 10, 0);
  /* max 0 is a no-op, a negative max is refused */
  assert_int_equal(pf_db_claim(db, c, 0, &got), PF_OK);
  assert_int_equal(got, 0);
  assert_int_equal(pf_db_claim(db, c, -1, &got), PF_EINVAL);
}

static void test_claim_two_clients(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  enum { N = 300 };
  static char s[N][65], all[N][65];
  for (int i = 0; i < N; i++) {
    sha_of(1000 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  /* two connections claim in turns; together they get every hash once */
  pf_db *other = open_db(0);
  int total = 0;
  for (int round = 0; total < N && round < N; round++) {
    char c[7][65];
    int got = 0;
    assert_int_equal(pf_db_claim(round % 2 ? other : db, c, 7, &got), PF_OK);
    for (int k = 0; k < got; k++) memcpy(all[total++], c[k], 65);
  }
  pf_db_free(&other);
  assert_int_equal(total, N);
  qsort(all, N, 65, cmp_sha);
  for (int i = 1; i < N; i++) assert_true(strcmp(all[i - 1], all[i]) < 0);
  counts(db, 0, N, 0, 0, N, 0);
}

static void test_requeue(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(3, a);
  ingest_ok(db, a, "x", 1);
  int got = 0, outcome = -1;
  /* not in flight yet: nothing to do, attempts unchanged */
  assert_int_equal(pf_db_requeue(db, a, 3, "worker died", &outcome), PF_OK);
  assert_int_equal(outcome, 0);
  get_ok(db, a);
  assert_int_equal(smp.attempts, 0);
  counts(db, 1, 0, 0, 0, 1, 0);
  for (int attempt = 1; attempt <= 3; attempt++) {
    assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
    assert_int_equal(got, 1);
    assert_string_equal(c[0], a);
    assert_int_equal(pf_db_requeue(db, a, 3, "worker died\nwhile parsing", &outcome), PF_OK);
    get_ok(db, a);
    assert_int_equal(smp.attempts, attempt);
    if (attempt < 3) {
      assert_int_equal(outcome, 1);
      assert_string_equal(smp.status, "queued");
      counts(db, 1, 0, 0, 0, 1, 0);
    } else {
      assert_int_equal(outcome, 2);
      assert_string_equal(smp.status, "failed");
      assert_string_equal(smp.reason, "worker died while parsing");
      counts(db, 0, 0, 0, 1, 1, 0);
      assert_int_equal(admin_int("SISMEMBER pf:failed %s", a), 1);
    }
  }
  /* failed and out of flight: requeue does nothing more */
  assert_int_equal(pf_db_requeue(db, a, 3, "again", &outcome), PF_OK);
  assert_int_equal(outcome, 0);
  get_ok(db, a);
  assert_int_equal(smp.attempts, 3);
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(got, 0);
  /* max_attempts 1 fails at the first requeue; 0 is refused */
  char b[65];
  sha_of(4, b);
  ingest_ok(db, b, "x", 1);
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(pf_db_requeue(db, b, 0, "r", &outcome), PF_EINVAL);
  assert_int_equal(pf_db_requeue(db, b, 1, NULL, &outcome), PF_OK);
  assert_int_equal(outcome, 2);
  get_ok(db, b);
  assert_string_equal(smp.reason, "no reason given");
}

static void test_requeue_done(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(5, a);
  ingest_ok(db, a, "x", 1);
  int got = 0, outcome = -1;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  const double v[2] = {0.5, 0.25};
  assert_int_equal(pf_db_store_vector(db, a, v, 2, 1), PF_OK);
  assert_int_equal(pf_db_requeue(db, a, 3, "late", &outcome), PF_OK);
  assert_int_equal(outcome, 0);
  /* even with a stale entry still in flight */
  admin_do("ZADD pf:inflight 1 %s", a);
  assert_int_equal(pf_db_requeue(db, a, 3, "late", &outcome), PF_OK);
  assert_int_equal(outcome, 0);
  get_ok(db, a);
  assert_string_equal(smp.status, "done");
  assert_int_equal(smp.attempts, 0);
  assert_int_equal(smp.has_vector, 1);
  counts(db, 0, 0, 1, 0, 1, 0);
}

/* pf_db_inflight_older lists claims older than the age, oldest first. */
static void test_inflight_older(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char s[3][65], c[3][65];
  for (int i = 0; i < 3; i++) {
    sha_of(40 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 3, &got), PF_OK);
  assert_int_equal(got, 3);
  /* s[1] claimed long ago, s[2] longer ago still, s[0] just now */
  admin_do("ZADD pf:inflight 2000 %s 1000 %s", s[1], s[2]);
  assert_int_equal(pf_db_inflight_older(db, 60000, 0, c, 3, &got), PF_OK);
  assert_int_equal(got, 2);
  assert_string_equal(c[0], s[2]);
  assert_string_equal(c[1], s[1]);
  assert_int_equal(pf_db_inflight_older(db, 60000, 0, c, 1, &got), PF_OK);
  assert_int_equal(got, 1);
  /* pages: the second one starts where the first stopped */
  assert_int_equal(pf_db_inflight_older(db, 60000, 1, c, 3, &got), PF_OK);
  assert_int_equal(got, 1);
  assert_string_equal(c[0], s[1]);
  assert_int_equal(pf_db_inflight_older(db, 60000, 2, c, 3, &got), PF_OK);
  assert_int_equal(got, 0);
  assert_int_equal(pf_db_inflight_older(db, 0, 0, c, 3, &got), PF_OK);
  assert_int_equal(got, 3);
  assert_int_equal(pf_db_inflight_older(db, 60000, 0, NULL, 3, &got), PF_EINVAL);
  assert_int_equal(pf_db_inflight_older(db, 60000, -1, c, 3, &got), PF_EINVAL);
}

/* pefleet requeue: a failed sample is queued again, attempts 0, reason gone;
 * any other is left alone; an unknown one is PF_ENOENT. */
static void test_unfail(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65], u[65], c[1][65];
  sha_of(60, a);
  sha_of(61, b);
  sha_of(62, u);
  ingest_ok(db, a, "x", 1);
  ingest_ok(db, b, "x", 1);
  int got = 0, requeued = -1;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(pf_db_requeue(db, c[0], 1, "worker died", &requeued), PF_OK); /* failed, attempts 1 */
  assert_int_equal(requeued, 2);
  const char *failed = c[0], *other = strcmp(c[0], a) == 0 ? b : a;
  assert_int_equal(pf_db_unfail(db, other, &requeued), PF_OK); /* queued, not failed */
  assert_int_equal(requeued, 0);
  assert_int_equal(pf_db_unfail(db, failed, &requeued), PF_OK);
  assert_int_equal(requeued, 1);
  pf_db_sample rec;
  assert_int_equal(pf_db_get(db, failed, &rec), PF_OK);
  assert_string_equal(rec.status, "queued");
  assert_int_equal(rec.attempts, 0);
  assert_string_equal(rec.reason, "");
  pf_db_counts k;
  assert_int_equal(pf_db_counts_get(db, &k), PF_OK);
  assert_int_equal(k.failed, 0);
  assert_int_equal(k.queued, 2);
  /* it is claimed again like any queued sample */
  char both[2][65];
  assert_int_equal(pf_db_claim(db, both, 2, &got), PF_OK);
  assert_int_equal(got, 2);
  assert_int_equal(pf_db_unfail(db, u, &requeued), PF_ENOENT);
  assert_int_equal(pf_db_unfail(db, "nothex", &requeued), PF_EINVAL);
}

/* A delivery given back (the worker's retry reply) is requeued without
 * using up an attempt, however often it happens. */
static void test_giveback_keeps_attempts(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(50, a);
  ingest_ok(db, a, "x", 1);
  int got = 0, outcome = -1;
  for (int i = 0; i < 5; i++) {
    assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
    assert_int_equal(got, 1);
    assert_int_equal(pf_db_giveback(db, a, &outcome), PF_OK);
    assert_int_equal(outcome, 1);
  }
  pf_db_sample rec;
  assert_int_equal(pf_db_get(db, a, &rec), PF_OK);
  assert_int_equal(rec.attempts, 0);
  assert_string_equal(rec.status, "queued");
  /* not in flight: nothing to give back */
  assert_int_equal(pf_db_giveback(db, a, &outcome), PF_OK);
  assert_int_equal(outcome, 0);
  /* a counted requeue still counts */
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(pf_db_requeue(db, a, 3, "worker died", &outcome), PF_OK);
  assert_int_equal(outcome, 1);
  assert_int_equal(pf_db_get(db, a, &rec), PF_OK);
  assert_int_equal(rec.attempts, 1);
}

static void test_recover(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char s[5][65], c[5][65];
  for (int i = 0; i < 5; i++) {
    sha_of(20 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 5, &got), PF_OK);
  assert_int_equal(got, 5);
  const double v[2] = {1, 2};
  assert_int_equal(pf_db_store_vector(db, s[0], v, 2, 1), PF_OK);
  assert_int_equal(pf_db_fail(db, s[1], "bad file"), PF_OK);
  admin_do("ZADD pf:inflight 50 %s", s[0]); /* stale entry of a done sample */
  /* claim times: s[4] oldest, then s[2], then s[3] */
  admin_do("ZADD pf:inflight 300 %s 200 %s 100 %s", s[3], s[2], s[4]);
  char w[65]; /* one more sample still waiting in the queue */
  sha_of(30, w);
  ingest_ok(db, w, "x", 1);
  long long moved = -1;
  assert_int_equal(pf_db_recover(db, &moved), PF_OK);
  assert_int_equal(moved, 3);
  counts(db, 4, 0, 1, 1, 6, 0);
  /* recovered hashes come first, oldest claim first, then the waiting one */
  assert_int_equal(pf_db_claim(db, c, 5, &got), PF_OK);
  assert_int_equal(got, 4);
  assert_string_equal(c[0], s[4]);
  assert_string_equal(c[1], s[2]);
  assert_string_equal(c[2], s[3]);
  assert_string_equal(c[3], w);
  get_ok(db, s[0]);
  assert_string_equal(smp.status, "done");
  get_ok(db, s[1]);
  assert_string_equal(smp.status, "failed");
  /* nothing in flight: nothing to move */
  admin_do("DEL pf:inflight");
  assert_int_equal(pf_db_recover(db, &moved), PF_OK);
  assert_int_equal(moved, 0);
}

static void test_store_roundtrip(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(40, a);
  ingest_ok(db, a, "trojan", 1);
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  static double v[PF_DB_MAX_DIM];
  vec_of(40, v, PF_DB_MAX_DIM);
  v[0] = 0.1;
  v[1] = -0.0;
  v[2] = 123456789.0;
  v[3] = 1e-40;
  assert_int_equal(pf_db_store_vector(db, a, v, PF_DB_MAX_DIM, 17), PF_OK);
  get_ok(db, a);
  assert_string_equal(smp.status, "done");
  assert_int_equal(smp.has_vector, 1);
  assert_int_equal(smp.dim, PF_DB_MAX_DIM);
  assert_int_equal(smp.schema, 17);
  assert_string_equal(smp.label, "trojan");
  for (int i = 0; i < PF_DB_MAX_DIM; i++)
    if (smp.vec[i] != (double)(float)v[i]) fail_msg("value %d: %.17g, want %.17g", i, smp.vec[i], (double)(float)v[i]);
  assert_true(smp.vec[0] != 0.1); /* really float32 */
  const char *split = pf_split_name(pf_split_of(a));
  assert_int_equal(admin_int("SISMEMBER pf:done %s", a), 1);
  assert_int_equal(admin_int("SISMEMBER pf:split:%s %s", split, a), 1);
  assert_int_equal(admin_int("ZSCORE pf:inflight %s", a), -1);
  counts(db, 0, 0, 1, 0, 1, 0);
  assert_int_equal(admin_int("HSTRLEN pf:s:%s vec", a), (long long)pf_vecblob_size(PF_DB_MAX_DIM));
  /* refused vectors */
  const double v5 = v[5];
  v[5] = NAN;
  assert_int_equal(pf_db_store_vector(db, a, v, PF_DB_MAX_DIM, 17), PF_EINVAL);
  v[5] = 1e300; /* beyond float range */
  assert_int_equal(pf_db_store_vector(db, a, v, PF_DB_MAX_DIM, 17), PF_EINVAL);
  v[5] = 1;
  assert_int_equal(pf_db_store_vector(db, a, v, 0, 17), PF_EINVAL);
  assert_int_equal(pf_db_store_vector(db, a, v, PF_DB_MAX_DIM + 1, 17), PF_EINVAL);
  assert_int_equal(pf_db_store_vector(db, a, NULL, 3, 17), PF_EINVAL);
  /* the stored one is untouched */
  get_ok(db, a);
  assert_true(smp.vec[5] == (double)(float)v5);
  assert_int_equal(smp.dim, PF_DB_MAX_DIM);
}

static void test_store_idempotent(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(41, a);
  ingest_ok(db, a, "x", 1);
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(pf_db_fail(db, a, "first try crashed"), PF_OK);
  counts(db, 0, 0, 0, 1, 1, 0);
  get_ok(db, a);
  assert_string_equal(smp.status, "failed");
  /* a later success wins: out of pf:failed, reason gone; again and again */
  double v[8];
  vec_of(41, v, 8);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pf_db_store_vector(db, a, v, 8, 2), PF_OK);
    counts(db, 0, 0, 1, 0, 1, 0);
  }
  get_ok(db, a);
  assert_string_equal(smp.status, "done");
  assert_string_equal(smp.reason, "");
  assert_int_equal(smp.dim, 8);
  for (int i = 0; i < 8; i++) assert_true(smp.vec[i] == (double)(float)v[i]);
  assert_int_equal(admin_int("SISMEMBER pf:failed %s", a), 0);
  assert_int_equal(admin_int("SCARD pf:split:%s", pf_split_name(pf_split_of(a))), 1);
  /* an unknown sample is not created */
  char u[65];
  sha_of(42, u);
  assert_int_equal(pf_db_store_vector(db, u, v, 8, 2), PF_ENOENT);
  assert_int_equal(admin_int("EXISTS pf:s:%s", u), 0);
  counts(db, 0, 0, 1, 0, 1, 0);
}

static void test_fail(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65], c[2][65];
  sha_of(50, a);
  sha_of(51, b);
  ingest_ok(db, a, "x", 1);
  ingest_ok(db, b, "x", 1);
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 2, &got), PF_OK);
  double v[4];
  vec_of(50, v, 4);
  assert_int_equal(pf_db_store_vector(db, a, v, 4, 1), PF_OK);
  /* a done sample stays done */
  assert_int_equal(pf_db_fail(db, a, "late failure"), PF_OK);
  get_ok(db, a);
  assert_string_equal(smp.status, "done");
  assert_string_equal(smp.reason, "");
  assert_int_equal(smp.has_vector, 1);
  assert_int_equal(admin_int("SISMEMBER pf:failed %s", a), 0);
  /* a long multi-line reason becomes one line of at most 255 bytes */
  char reason[1000];
  memset(reason, 'r', sizeof reason - 1);
  reason[sizeof reason - 1] = '\0';
  reason[10] = '\n';
  reason[20] = '\r';
  reason[30] = '\t';
  assert_int_equal(pf_db_fail(db, b, reason), PF_OK);
  get_ok(db, b);
  assert_string_equal(smp.status, "failed");
  assert_int_equal(strlen(smp.reason), PF_DB_MAX_REASON - 1);
  assert_null(strpbrk(smp.reason, "\r\n\t"));
  assert_int_equal(smp.reason[10], ' ');
  assert_int_equal(admin_int("ZSCORE pf:inflight %s", b), -1);
  counts(db, 0, 0, 1, 1, 2, 0);
  /* a cut never splits a UTF-8 character: 254 ASCII bytes then "é" */
  memset(reason, 'x', 254);
  memcpy(reason + 254, "\xc3\xa9 tail", 8);
  assert_int_equal(pf_db_fail(db, b, reason), PF_OK);
  get_ok(db, b);
  assert_int_equal(strlen(smp.reason), 254);
  /* unknown sample */
  char u[65];
  sha_of(52, u);
  assert_int_equal(pf_db_fail(db, u, "x"), PF_ENOENT);
  assert_int_equal(admin_int("EXISTS pf:s:%s", u), 0);
}

static void test_counts(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  counts(db, 0, 0, 0, 0, 0, 0);
  char s[7][65], c[3][65];
  for (int i = 0; i < 7; i++) {
    sha_of(60 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  ingest_ok(db, s[6], "y", 0); /* one conflict */
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 3, &got), PF_OK);
  assert_int_equal(got, 3);
  double v[2] = {1, 2};
  assert_int_equal(pf_db_store_vector(db, c[0], v, 2, 1), PF_OK);
  assert_int_equal(pf_db_fail(db, c[1], "x"), PF_OK);
  /* queued 4, in flight 1 (c[2]), done 1, failed 1, samples 7, conflicts 1 */
  counts(db, 4, 1, 1, 1, 7, 1);
  assert_int_equal(pf_db_counts_get(db, NULL), PF_EINVAL);
}

static void test_each(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  enum { N = 2500, B = 1000 };
  static char s[N][65], c[B][65], want[N][65];
  static int done[N];
  static walk w;
  for (int i = 0; i < N; i++) {
    sha_of(5000 + i, s[i]);
    ingest_ok(db, s[i], "x", 1);
  }
  /* a batch claimed (FIFO: s[0..B)), two in three stored, the rest failed */
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, B, &got), PF_OK);
  assert_int_equal(got, B);
  for (int i = 0; i < B; i++) {
    assert_string_equal(c[i], s[i]);
    double v[4];
    vec_of(i, v, 4);
    if (i % 3) {
      assert_int_equal(pf_db_store_vector(db, s[i], v, 4, 1), PF_OK);
      done[i] = 1;
    } else {
      assert_int_equal(pf_db_fail(db, s[i], "x"), PF_OK);
    }
  }
  for (int sp = 0; sp < 3; sp++) {
    memset(&w, 0, sizeof w);
    assert_int_equal(pf_db_each(db, sp, collect, &w), PF_OK);
    /* exactly the done samples of this split, each once */
    int nw = 0;
    for (int i = 0; i < N; i++)
      if (done[i] && pf_split_of(s[i]) == sp) memcpy(want[nw++], s[i], 65);
    assert_int_equal(w.n, nw);
    qsort(w.sha, (size_t)w.n, 65, cmp_sha);
    qsort(want, (size_t)nw, 65, cmp_sha);
    for (int i = 0; i < nw; i++) assert_string_equal(w.sha[i], want[i]);
    assert_int_equal(w.bad, 0);
    printf("split %s: %d done samples\n", pf_split_name(sp), nw);
  }
  /* every sample, over several SSCAN rounds */
  memset(&w, 0, sizeof w);
  assert_int_equal(pf_db_each(db, -1, collect, &w), PF_OK);
  assert_int_equal(w.n, N);
  qsort(w.sha, N, 65, cmp_sha);
  for (int i = 1; i < N; i++) assert_true(strcmp(w.sha[i - 1], w.sha[i]) < 0);
  /* fn stops the walk */
  memset(&w, 0, sizeof w);
  w.stop_after = 5;
  assert_int_equal(pf_db_each(db, -1, collect, &w), PF_OK);
  assert_int_equal(w.n, 5);
  /* a member whose record is gone is skipped; junk members are ignored */
  admin_do("DEL pf:s:%s", s[0]);
  admin_do("SADD pf:samples junk");
  memset(&w, 0, sizeof w);
  assert_int_equal(pf_db_each(db, -1, collect, &w), PF_OK);
  assert_int_equal(w.n, N - 1);
  /* bad arguments */
  assert_int_equal(pf_db_each(db, 3, collect, &w), PF_EINVAL);
  assert_int_equal(pf_db_each(db, -2, collect, &w), PF_EINVAL);
  assert_int_equal(pf_db_each(db, 0, NULL, &w), PF_EINVAL);
}

static void test_bad_input(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char good[65];
  sha_of(70, good);
  char upper[65], shortsha[65], longsha[70], nonhex[65];
  memcpy(upper, good, 65);
  upper[0] = 'A';
  memcpy(shortsha, good, 65);
  shortsha[63] = '\0';
  snprintf(longsha, sizeof longsha, "%s0", good);
  memcpy(nonhex, good, 65);
  nonhex[5] = 'g';
  const char *bad[] = {upper, shortsha, longsha, nonhex, "", NULL};
  char c[1][65];
  int got, outcome, is_new;
  double v[2] = {1, 2};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(pf_db_ingest(db, bad[i], "x", 1, &is_new, NULL), PF_EINVAL);
    assert_non_null(strstr(pf_db_error(db), "hex"));
    assert_int_equal(pf_db_requeue(db, bad[i], 3, "r", &outcome), PF_EINVAL);
    assert_int_equal(pf_db_store_vector(db, bad[i], v, 2, 1), PF_EINVAL);
    assert_int_equal(pf_db_fail(db, bad[i], "r"), PF_EINVAL);
    assert_int_equal(pf_db_get(db, bad[i], &smp), PF_EINVAL);
  }
  char l127[128], l128[129];
  memset(l127, 'a', 127);
  l127[127] = '\0';
  memset(l128, 'a', 128);
  l128[128] = '\0';
  const char *bad_labels[] = {"", l128, "a,b", ",", "tab\there", "new\nline", "caf\xc3\xa9", "\x7f", NULL};
  for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
    if (pf_db_ingest(db, good, bad_labels[i], 1, &is_new, NULL) != PF_EINVAL) fail_msg("label %zu was accepted", i);
    assert_non_null(strstr(pf_db_error(db), "label"));
  }
  assert_int_equal(admin_int("DBSIZE"), 0); /* nothing reached Redis */
  /* the limits themselves are fine */
  ingest_ok(db, good, l127, 1);
  ingest_ok(db, good, "Trojan.Win32 generic (v2)!", 0);
  get_ok(db, good);
  assert_string_equal(smp.label, l127);
  assert_int_equal(smp.nlabels, 2);
  /* unknown sample, missing arguments */
  char u[65];
  sha_of(71, u);
  assert_int_equal(pf_db_get(db, u, &smp), PF_ENOENT);
  assert_int_equal(pf_db_get(db, u, NULL), PF_EINVAL);
  assert_int_equal(pf_db_claim(db, NULL, 1, &got), PF_EINVAL);
  assert_int_equal(pf_db_claim(db, c, 1, NULL), PF_EINVAL);
  assert_int_equal(pf_db_ping(NULL), PF_EINVAL);
  assert_string_equal(pf_db_error(NULL), "no redis connection");
  /* impossible options */
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = 0;
  static char dummy;
  pf_db *x = (pf_db *)(void *)&dummy; /* must be cleared */
  char err[256] = "";
  assert_int_equal(pf_db_connect(&o, &x, err, sizeof err), PF_EINVAL);
  assert_null(x);
  assert_true(err[0] != '\0');
  pf_db_free(&x);
  pf_db_free(NULL);
}

/* Expects pf_db_get to report the sample's vector as unreadable. */
static void expect_corrupt(pf_db *db, const char *sha, const char *word) {
  int rc = pf_db_get(db, sha, &smp);
  if (rc != PF_EINVAL) fail_msg("get of a corrupt blob returned %d (%s)", rc, pf_db_error(db));
  const char *e = pf_db_error(db);
  if (!strstr(e, "vector") || !strstr(e, word)) fail_msg("error \"%s\" does not mention \"%s\"", e, word);
  assert_int_equal(smp.has_vector, 0);
  assert_string_equal(smp.status, "done"); /* the rest of the record is still read */
  assert_string_equal(smp.label, "x");
}

static void test_corrupt(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], c[1][65];
  sha_of(80, a);
  ingest_ok(db, a, "x", 1);
  int got = 0;
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  double v[4] = {1, 2, 3, 4};
  assert_int_equal(pf_db_store_vector(db, a, v, 4, 9), PF_OK);
  uint8_t blob[PF_VECBLOB_HEADER + 16], bad[sizeof blob + 4];
  assert_int_equal(pf_vecblob_encode(v, 4, 9, blob, sizeof blob), (long)sizeof blob);

  admin_do("HSET pf:s:%s vec %s", a, "garbage");
  expect_corrupt(db, a, "magic");
  admin_do("HSET pf:s:%s vec %s", a, "");
  expect_corrupt(db, a, "magic");
  memcpy(bad, blob, sizeof blob);
  bad[4] = 9;
  admin_do("HSET pf:s:%s vec %b", a, bad, sizeof blob);
  expect_corrupt(db, a, "version");
  admin_do("HSET pf:s:%s vec %b", a, blob, sizeof blob - 3);
  expect_corrupt(db, a, "size");
  memcpy(bad, blob, sizeof blob);
  memset(bad + sizeof blob, 0, 4);
  admin_do("HSET pf:s:%s vec %b", a, bad, sizeof blob + 4);
  expect_corrupt(db, a, "size");
  memcpy(bad, blob, sizeof blob);
  memset(bad + 8, 0xff, 4); /* dim 2^32-1 */
  admin_do("HSET pf:s:%s vec %b", a, bad, sizeof blob);
  expect_corrupt(db, a, "size");
  memcpy(bad, blob, sizeof blob);
  const uint8_t nan_bits[4] = {0x00, 0x00, 0xc0, 0x7f};
  memcpy(bad + PF_VECBLOB_HEADER + 8, nan_bits, 4);
  admin_do("HSET pf:s:%s vec %b", a, bad, sizeof blob);
  expect_corrupt(db, a, "finite");
  /* a blob of more values than pf_db_sample holds */
  static double big[PF_DB_MAX_DIM + 1];
  static uint8_t bigblob[PF_VECBLOB_HEADER + 4 * (PF_DB_MAX_DIM + 1)];
  assert_true(pf_vecblob_encode(big, PF_DB_MAX_DIM + 1, 9, bigblob, sizeof bigblob) > 0);
  admin_do("HSET pf:s:%s vec %b", a, bigblob, sizeof bigblob);
  expect_corrupt(db, a, "room");
  /* a blob whose schema differs from the record's */
  admin_do("HSET pf:s:%s vec %b schema 10", a, blob, sizeof blob);
  expect_corrupt(db, a, "schema");
  /* the walk reports it too, and stops */
  static walk w;
  memset(&w, 0, sizeof w);
  assert_int_equal(pf_db_each(db, pf_split_of(a), collect, &w), PF_EINVAL);
  assert_int_equal(w.n, 0);
  assert_non_null(strstr(pf_db_error(db), a));
  /* storing again repairs it */
  assert_int_equal(pf_db_store_vector(db, a, v, 4, 9), PF_OK);
  get_ok(db, a);
  assert_int_equal(smp.has_vector, 1);
  assert_true(smp.vec[3] == 4.0);

  /* junk in the other fields does not crash and is not believed */
  admin_do("HSET pf:s:%s size abc attempts -5 first_seen 99999999999999999999999 schema 70000 status %s "
           "label %s split %s",
           a, "a-status-far-longer-than-sixteen-bytes", "", "x");
  for (int i = 0; i < 200; i++) admin_do("HSET pf:s:%s extra%d %d", a, i, i);
  int rc = pf_db_get(db, a, &smp);
  assert_int_equal(rc, PF_OK);
  assert_int_equal(strlen(smp.status), sizeof smp.status - 1);
  assert_int_equal(smp.attempts, 0);
  assert_int_equal(smp.size, 0);
  assert_int_equal(smp.first_seen, 0);

  /* a key of the wrong type: an error with Redis's reason, no crash */
  admin_do("DEL pf:queue");
  admin_do("SET pf:queue oops");
  char sh[1][65];
  assert_int_equal(pf_db_claim(db, sh, 1, &got), PF_EIO);
  assert_non_null(strstr(pf_db_error(db), "WRONGTYPE"));
  char b[65];
  sha_of(81, b);
  int is_new;
  assert_int_equal(pf_db_ingest(db, b, "x", 1, &is_new, NULL), PF_EIO);
  printf("wrong type: %s\n", pf_db_error(db));
  assert_int_equal(pf_db_ping(db), PF_OK); /* the connection is still usable */
}

static void test_auth_select(void **state) {
  NEED_REDIS();
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = port;
  o.db = 5;
  pf_db *db = NULL;
  char err[256] = "";
  assert_int_equal(pf_db_connect(&o, &db, err, sizeof err), PF_OK);
  char a[65];
  sha_of(90, a);
  ingest_ok(db, a, "x", 1);
  assert_int_equal(admin_int("EXISTS pf:s:%s", a), 0); /* not in db 0 */
  redisContext *c = admin_connect(NULL);
  assert_non_null(c);
  redisReply *r = redisCommand(c, "SELECT 5");
  freeReplyObject(r);
  r = redisCommand(c, "EXISTS pf:s:%s", a);
  assert_int_equal(r->integer, 1);
  freeReplyObject(r);
  r = redisCommand(c, "CONFIG SET requirepass s3cret");
  assert_int_equal(r->type, REDIS_REPLY_STATUS);
  freeReplyObject(r);
  redisFree(c);
  pf_db_free(&db);

  /* no password: NOAUTH, said plainly */
  assert_int_equal(pf_db_connect(&o, &db, err, sizeof err), PF_EIO);
  assert_null(db);
  assert_non_null(strstr(err, "NOAUTH"));
  printf("without a password: %s\n", err);
  /* a wrong password */
  o.password = "wrong";
  assert_int_equal(pf_db_connect(&o, &db, err, sizeof err), PF_EIO);
  assert_non_null(strstr(err, "AUTH failed"));
  printf("wrong password: %s\n", err);
  /* the right one, used again on reconnect */
  o.password = "s3cret";
  assert_int_equal(pf_db_connect(&o, &db, err, sizeof err), PF_OK);
  get_ok(db, a);
  c = admin_connect("s3cret");
  assert_non_null(c);
  r = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");
  freeReplyObject(r);
  redisFree(c);
  get_ok(db, a); /* reconnected, AUTHed and SELECTed again */
  assert_string_equal(smp.status, "queued");
  pf_db_free(&db);
  /* a db index the server does not have */
  o.db = 100000;
  assert_int_equal(pf_db_connect(&o, &db, err, sizeof err), PF_EIO);
  assert_non_null(strstr(err, "SELECT"));
  printf("bad db: %s\n", err);
}

static void test_restart(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65];
  sha_of(95, a);
  sha_of(96, b);
  ingest_ok(db, a, "x", 1);

  /* killed and back before the next call: it reconnects and works */
  stop_redis(SIGKILL);
  assert_int_equal(start_redis(), 0);
  int is_new = -1;
  char status[16];
  assert_int_equal(pf_db_ingest(db, a, "x", 1, &is_new, status), PF_OK);
  assert_int_equal(is_new, 1); /* no persistence: the old data is gone */
  assert_string_equal(status, "queued");

  /* down: every call returns PF_EIO, quickly, with a clear reason */
  stop_redis(SIGKILL);
  double t0 = now_s();
  assert_int_equal(pf_db_ping(db), PF_EIO);
  char want[128];
  snprintf(want, sizeof want, "redis 127.0.0.1:%d unreachable: Connection refused", port);
  if (strcmp(pf_db_error(db), want) != 0) fail_msg("error \"%s\", want \"%s\"", pf_db_error(db), want);
  char c[1][65];
  int got, outcome;
  long long moved;
  pf_db_counts cn;
  double v[2] = {1, 2};
  static walk w;
  assert_int_equal(pf_db_ingest(db, b, "x", 1, &is_new, status), PF_EIO);
  assert_string_equal(pf_db_error(db), want);
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_EIO);
  assert_int_equal(pf_db_requeue(db, a, 3, "r", &outcome), PF_EIO);
  assert_int_equal(pf_db_recover(db, &moved), PF_EIO);
  assert_int_equal(pf_db_store_vector(db, a, v, 2, 1), PF_EIO);
  assert_int_equal(pf_db_fail(db, a, "r"), PF_EIO);
  assert_int_equal(pf_db_counts_get(db, &cn), PF_EIO);
  assert_int_equal(pf_db_get(db, a, &smp), PF_EIO);
  assert_int_equal(pf_db_each(db, -1, collect, &w), PF_EIO);
  assert_string_equal(pf_db_error(db), want);
  assert_true(now_s() - t0 < 2.0);
  printf("while down: %s\n", pf_db_error(db));
  pf_db *other = NULL;
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = port;
  char err[256];
  assert_int_equal(pf_db_connect(&o, &other, err, sizeof err), PF_EIO);
  assert_string_equal(err, want);
  assert_null(other);

  /* back up: the next call works */
  assert_int_equal(start_redis(), 0);
  assert_int_equal(pf_db_ingest(db, b, "x", 1, &is_new, status), PF_OK);
  assert_int_equal(is_new, 1);
  assert_int_equal(pf_db_claim(db, c, 1, &got), PF_OK);
  assert_int_equal(got, 1);
  assert_string_equal(c[0], b);
  counts(db, 0, 1, 0, 0, 1, 0);
}

static void test_timeout(void **state) {
  NEED_REDIS();
  pf_db *db = open_db(300);
  assert_int_equal(pf_db_ping(db), PF_OK);
  kill(redis_pid, SIGSTOP);
  double t0 = now_s();
  int rc = pf_db_ping(db);
  double took = now_s() - t0;
  kill(redis_pid, SIGCONT);
  assert_int_equal(rc, PF_EIO);
  printf("stopped server: %s (%.2f s)\n", pf_db_error(db), took);
  assert_non_null(strstr(pf_db_error(db), "no answer within 300 ms"));
  assert_true(took < 2.0);
  assert_int_equal(pf_db_ping(db), PF_OK);
  pf_db_free(&db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_ingest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ingest_many_labels, setup, teardown),
    cmocka_unit_test_setup_teardown(test_split_stable, setup, teardown),
    cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
    cmocka_unit_test_setup_teardown(test_claim_two_clients, setup, teardown),
    cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
    cmocka_unit_test_setup_teardown(test_requeue_done, setup, teardown),
    cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
    cmocka_unit_test_setup_teardown(test_inflight_older, setup, teardown),
    cmocka_unit_test_setup_teardown(test_giveback_keeps_attempts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unfail, setup, teardown),
    cmocka_unit_test_setup_teardown(test_store_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_store_idempotent, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
    cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_each, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
    cmocka_unit_test_setup_teardown(test_auth_select, setup, teardown),
    cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
