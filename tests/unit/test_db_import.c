/* Unit tests of pf_db_import_vector(s): vector-only samples (pefleet
 * import-csv) against a real redis-server started on a free port in a
 * temporary folder (no persistence) and killed at the end: the record a new
 * sample gets, a known sample only gaining its label, checks that keep bad
 * input from Redis, pipelined batches (repeats, bad items in the middle,
 * NOSCRIPT, the size cap) and a server that goes away and comes back.
 * Skipped, saying so, when redis-server is not installed. */
#include "pf_test_redis.h"

#include "pf_split.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <time.h>

#define DIM 486

/* ---- fixtures (the server, setup and admin helpers are in pf_test_redis.h) ---- */

static int group_setup(void **state) { return redis_group_setup("pf_test_db_import"); }

static int group_teardown(void **state) { return redis_group_teardown(SIGKILL); }

static int teardown(void **state) {
  pf_db *db = *state;
  pf_db_free(&db);
  return 0;
}

/* ---- helpers ---- */

static void sha_of(int i, char out[PF_SHA256_HEX_LEN + 1]) { sha_named("row-", i, out); }

static void vec_of(int i, double *v) {
  for (int k = 0; k < DIM; k++) v[k] = sin((double)(i * 17 + k)) * pow(10.0, (double)(k % 7) - 3.0);
}

static pf_db_sample smp; /* large: kept off the stack */

static void counts(pf_db *db, long long q, long long done, long long samples, long long conflicts) {
  pf_db_counts c;
  assert_int_equal(pf_db_counts_get(db, &c), PF_OK);
  if (c.queued != q || c.in_flight != 0 || c.done != done || c.failed != 0 || c.samples != samples ||
      c.conflicts != conflicts)
    fail_msg("counts: queued %lld in_flight %lld done %lld failed %lld samples %lld conflicts %lld; "
             "want %lld 0 %lld 0 %lld %lld",
             c.queued, c.in_flight, c.done, c.failed, c.samples, c.conflicts, q, done, samples, conflicts);
}

static long long in_set(const char *set, const char *sha) {
  redisReply *r = admin("SISMEMBER %s %s", set, sha);
  long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  if (r) freeReplyObject(r);
  return v;
}

/* Connections the server has accepted so far (INFO stats). */
static long long connections(void) {
  redisReply *r = admin("INFO stats");
  long long n = -1;
  const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "total_connections_received:") : NULL;
  if (p) n = strtoll(p + strlen("total_connections_received:"), NULL, 10);
  if (r) freeReplyObject(r);
  return n;
}

/* ---- tests ---- */

static void test_new_record(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char sha[65];
  double v[DIM];
  sha_of(1, sha);
  vec_of(1, v);
  v[0] = FLT_MAX;
  v[1] = -0.0;
  int is_new = -1;
  long long t0 = (long long)time(NULL);
  assert_int_equal(pf_db_import_vector(db, sha, "malicious", v, DIM, 1, &is_new), PF_OK);
  assert_int_equal(is_new, 1);
  assert_int_equal(pf_db_get(db, sha, &smp), PF_OK);
  assert_string_equal(smp.status, "done");
  assert_string_equal(smp.label, "malicious");
  assert_string_equal(smp.labels, "malicious");
  assert_int_equal(smp.nlabels, 1);
  assert_string_equal(smp.split, pf_split_name(pf_split_of(sha)));
  assert_int_equal(smp.size, 0);
  assert_int_equal(smp.attempts, 0);
  assert_true(smp.first_seen >= t0 && smp.first_seen <= (long long)time(NULL));
  assert_int_equal(smp.has_vector, 1);
  assert_int_equal(smp.dim, DIM);
  assert_int_equal(smp.schema, 1);
  for (int k = 0; k < DIM; k++)
    if (smp.vec[k] != (double)(float)v[k]) fail_msg("value %d: %.9g, want %.9g", k, smp.vec[k], (double)(float)v[k]);
  assert_true(signbit(smp.vec[1]));
  char split_key[32];
  snprintf(split_key, sizeof split_key, "pf:split:%s", smp.split);
  assert_int_equal(in_set(split_key, sha), 1);
  assert_int_equal(in_set("pf:samples", sha), 1);
  assert_int_equal(in_set("pf:done", sha), 1);
  assert_int_equal(admin_int("LLEN %s", "pf:queue"), 0);
  counts(db, 0, 1, 1, 0);
  /* the record holds exactly the fields of a done sample, no reason */
  assert_int_equal(admin_int("HEXISTS pf:s:%s reason", sha), 0);
  /* other splits do not hold it */
  for (int s = 0; s < 3; s++) {
    if (s == pf_split_of(sha)) continue;
    snprintf(split_key, sizeof split_key, "pf:split:%s", pf_split_name(s));
    assert_int_equal(in_set(split_key, sha), 0);
  }
}

static void test_known(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char sha[65];
  double v[DIM], w[DIM];
  sha_of(2, sha);
  vec_of(2, v);
  vec_of(3, w);
  int is_new = -1;
  assert_int_equal(pf_db_import_vector(db, sha, "clean", v, DIM, 1, &is_new), PF_OK);
  assert_int_equal(is_new, 1);
  /* the same label again: nothing changes, no conflict */
  assert_int_equal(pf_db_import_vector(db, sha, "clean", w, DIM, 7, &is_new), PF_OK);
  assert_int_equal(is_new, 0);
  counts(db, 0, 1, 1, 0);
  /* another label: a conflict; first label, vector and schema stay */
  assert_int_equal(pf_db_import_vector(db, sha, "malicious", w, DIM, 7, &is_new), PF_OK);
  assert_int_equal(is_new, 0);
  counts(db, 0, 1, 1, 1);
  assert_int_equal(pf_db_get(db, sha, &smp), PF_OK);
  assert_string_equal(smp.label, "clean");
  assert_string_equal(smp.labels, "clean,malicious");
  assert_int_equal(smp.schema, 1);
  assert_true(smp.vec[5] == (double)(float)v[5]);
}

static void test_known_from_ingest(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char sha[65], status[16];
  double v[DIM];
  sha_of(4, sha);
  vec_of(4, v);
  int is_new = -1;
  assert_int_equal(pf_db_ingest(db, sha, "clean", 999, &is_new, status), PF_OK);
  assert_int_equal(is_new, 1);
  /* an ingested (queued) sample: the import only adds its label */
  assert_int_equal(pf_db_import_vector(db, sha, "malicious", v, DIM, 1, &is_new), PF_OK);
  assert_int_equal(is_new, 0);
  assert_int_equal(pf_db_get(db, sha, &smp), PF_OK);
  assert_string_equal(smp.status, "queued");
  assert_int_equal(smp.has_vector, 0);
  assert_int_equal(smp.size, 999);
  assert_string_equal(smp.labels, "clean,malicious");
  assert_int_equal(in_set("pf:done", sha), 0);
  counts(db, 1, 0, 1, 1);
}

static void test_bad_input(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char sha[65], label[200];
  double v[DIM + 1];
  sha_of(5, sha);
  vec_of(5, v);
  int is_new = 7;
  assert_int_equal(pf_db_import_vector(db, "ABC", "clean", v, DIM, 1, &is_new), PF_EINVAL);
  assert_int_equal(is_new, 0);
  assert_non_null(strstr(pf_db_error(db), "64 lower-case hex"));
  const char *labels[] = {"", "a,b", "tab\there", "caf\xc3\xa9", NULL};
  for (int i = 0; labels[i]; i++) {
    assert_int_equal(pf_db_import_vector(db, sha, labels[i], v, DIM, 1, &is_new), PF_EINVAL);
    assert_non_null(strstr(pf_db_error(db), "label must be"));
  }
  memset(label, 'x', 128);
  label[128] = '\0';
  assert_int_equal(pf_db_import_vector(db, sha, label, v, DIM, 1, &is_new), PF_EINVAL);
  label[127] = '\0'; /* 127 bytes: fine (checked below, after the refusals) */
  assert_int_equal(pf_db_import_vector(db, sha, "clean", v, 0, 1, &is_new), PF_EINVAL);
  assert_int_equal(pf_db_import_vector(db, sha, "clean", v, DIM + 1, 1, &is_new), PF_EINVAL);
  assert_int_equal(pf_db_import_vector(db, sha, "clean", NULL, DIM, 1, &is_new), PF_EINVAL);
  v[9] = NAN;
  assert_int_equal(pf_db_import_vector(db, sha, "clean", v, DIM, 1, &is_new), PF_EINVAL);
  v[9] = 1e39; /* finite, beyond float32 */
  assert_int_equal(pf_db_import_vector(db, sha, "clean", v, DIM, 1, &is_new), PF_EINVAL);
  assert_non_null(strstr(pf_db_error(db), "float32"));
  assert_int_equal(pf_db_import_vector(NULL, sha, "clean", v, DIM, 1, &is_new), PF_EINVAL);
  assert_int_equal(admin_int("DBSIZE", NULL), 0); /* nothing reached Redis */
  v[9] = 0.5;
  assert_int_equal(pf_db_import_vector(db, sha, label, v, DIM, 1, &is_new), PF_OK);
  assert_int_equal(is_new, 1);
  assert_int_equal(pf_db_import_vector(db, sha, label, v, 1, 1, NULL), PF_OK); /* is_new may be NULL */
}

static void test_batch(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  enum { N = 12 };
  static char shas[N][65];
  static double vecs[N][DIM];
  pf_db_import_item it[N];
  memset(it, 0, sizeof it);
  for (int i = 0; i < N; i++) {
    sha_of(100 + i, shas[i]);
    vec_of(100 + i, vecs[i]);
    it[i] = (pf_db_import_item){.sha = shas[i], .label = i % 2 ? "malicious" : "clean", .vec = vecs[i], .dim = DIM};
  }
  it[4].label = "bad,label";      /* refused, not sent */
  vecs[6][0] = INFINITY;          /* refused, not sent */
  it[9].sha = shas[2];            /* a repeat of item 2, same label: known */
  it[9].label = "clean";
  it[10].sha = shas[3];           /* a repeat of item 3, another label: conflict */
  it[10].label = "clean";
  strcpy(it[11].reason, "stale"); /* cleared by the call */
  assert_int_equal(pf_db_import_vectors(db, it, N, 1), PF_OK);
  const int want[N] = {1, 1, 1, 1, PF_EINVAL, 1, PF_EINVAL, 1, 1, 0, 2, 1};
  for (int i = 0; i < N; i++) {
    if (it[i].result != want[i]) fail_msg("item %d: result %d, want %d (%s)", i, it[i].result, want[i], it[i].reason);
    if ((want[i] < 0) != (it[i].reason[0] != '\0')) fail_msg("item %d: reason '%s'", i, it[i].reason);
  }
  assert_non_null(strstr(it[4].reason, "label must be"));
  assert_non_null(strstr(it[6].reason, "not finite"));
  counts(db, 0, 8, 8, 1);
  assert_int_equal(pf_db_get(db, shas[3], &smp), PF_OK);
  assert_string_equal(smp.label, "malicious");
  assert_int_equal(smp.nlabels, 2);
  /* again: all known now (the script is cached after the first EVAL) */
  assert_int_equal(pf_db_import_vectors(db, it, N, 1), PF_OK);
  for (int i = 0; i < N; i++) /* known; only item 10's label differs from its sample's first */
    assert_int_equal(it[i].result, want[i] < 0 ? want[i] : i == 10 ? 2 : 0);
  /* empty, too large, NULL */
  assert_int_equal(pf_db_import_vectors(db, it, 0, 1), PF_OK);
  assert_int_equal(pf_db_import_vectors(db, NULL, 0, 1), PF_OK);
  assert_int_equal(pf_db_import_vectors(db, NULL, 1, 1), PF_EINVAL);
  assert_int_equal(pf_db_import_vectors(db, it, PF_DB_IMPORT_MAX + 1, 1), PF_EINVAL);
  assert_int_equal(pf_db_import_vectors(NULL, it, 1, 1), PF_EINVAL);
}

static void test_noscript(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65];
  double v[DIM];
  sha_of(200, a);
  sha_of(201, b);
  vec_of(200, v);
  int is_new;
  assert_int_equal(pf_db_import_vector(db, a, "clean", v, DIM, 1, &is_new), PF_OK);
  admin_do("SCRIPT FLUSH"); /* the cached script is gone: EVALSHA answers NOSCRIPT, EVAL follows */
  pf_db_import_item it[3] = {{.sha = b, .label = "clean", .vec = v, .dim = DIM},
                             {.sha = a, .label = "clean", .vec = v, .dim = DIM},
                             {.sha = b, .label = "clean", .vec = v, .dim = DIM}};
  assert_int_equal(pf_db_import_vectors(db, it, 3, 1), PF_OK);
  assert_int_equal(it[0].result, 1);
  assert_int_equal(it[1].result, 0);
  assert_int_equal(it[2].result, 0);
  counts(db, 0, 2, 2, 0);
}

static void test_big_batch(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  enum { N = PF_DB_IMPORT_MAX };
  static char shas[N][65];
  static pf_db_import_item it[N];
  static double v[DIM];
  vec_of(7, v);
  for (int i = 0; i < N; i++) {
    sha_of(10000 + i, shas[i]);
    it[i] = (pf_db_import_item){.sha = shas[i], .label = "clean", .vec = v, .dim = DIM};
  }
  double t0 = now_s();
  assert_int_equal(pf_db_import_vectors(db, it, N, 1), PF_OK);
  printf("# %d samples in one call: %.0f samples/s\n", N, N / (now_s() - t0));
  for (int i = 0; i < N; i++) assert_int_equal(it[i].result, 1);
  counts(db, 0, N, N, 0);
  long long per_split = 0;
  for (int s = 0; s < 3; s++) {
    char key[32];
    snprintf(key, sizeof key, "pf:split:%s", pf_split_name(s));
    per_split += admin_int("SCARD %s", key);
  }
  assert_int_equal(per_split, N);
}

static void test_server_gone(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65];
  double v[DIM];
  sha_of(300, a);
  vec_of(300, v);
  pf_db_import_item it[2] = {{.sha = a, .label = "clean", .vec = v, .dim = DIM},
                             {.sha = a, .label = "a,b", .vec = v, .dim = DIM}};
  stop_redis(SIGKILL);
  assert_int_equal(pf_db_import_vectors(db, it, 2, 1), PF_EIO);
  assert_int_equal(it[0].result, PF_EIO);
  assert_true(it[0].reason[0] != '\0');
  assert_int_equal(it[1].result, PF_EINVAL); /* checked before anything is sent */
  int is_new;
  assert_int_equal(pf_db_import_vector(db, a, "clean", v, DIM, 1, &is_new), PF_EIO);
  /* the server comes back: the next call reconnects */
  assert_int_equal(start_redis(), 0);
  assert_int_equal(pf_db_import_vector(db, a, "clean", v, DIM, 1, &is_new), PF_OK);
  assert_int_equal(is_new, 1);
  /* the connection is cut between calls: the batch is sent on a dead
   * socket, gets no answer, and goes again on a new connection */
  char b[65];
  sha_of(301, b);
  long long conns = connections();
  admin_do("CLIENT KILL TYPE normal");
  pf_db_import_item more[3] = {{.sha = b, .label = "clean", .vec = v, .dim = DIM},
                               {.sha = a, .label = "clean", .vec = v, .dim = DIM},
                               {.sha = b, .label = "x", .vec = v, .dim = DIM}};
  assert_int_equal(pf_db_import_vectors(db, more, 3, 1), PF_OK);
  assert_int_equal(more[0].result, 1);
  assert_int_equal(more[1].result, 0);
  assert_int_equal(more[2].result, 2);
  /* connections since: the admin kill, pf_db's new one, this count */
  assert_int_equal(connections() - conns, 3);
  counts(db, 0, 2, 2, 1);
}

static void test_first_seen(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  char a[65], b[65], c[65];
  double v[DIM];
  sha_of(300, a);
  sha_of(301, b);
  sha_of(302, c);
  vec_of(300, v);
  pf_db_import_item it[2] = {{.sha = a, .label = "clean", .vec = v, .dim = DIM, .first_seen = 1767571200},
                             {.sha = b, .label = "clean", .vec = v, .dim = DIM}};
  assert_int_equal(pf_db_import_vectors(db, it, 2, 1), PF_OK);
  /* imported again with another date, or ingested: the first date stays */
  pf_db_import_item again[1] = {{.sha = a, .label = "clean", .vec = v, .dim = DIM, .first_seen = 1800000000}};
  assert_int_equal(pf_db_import_vectors(db, again, 1, 1), PF_OK);
  assert_int_equal(again[0].result, 0);
  assert_int_equal(pf_db_ingest(db, a, "clean", 1, NULL, NULL), PF_OK);
  const char *shas[1] = {c}, *labels[1] = {"malicious"};
  uint64_t size[1] = {5};
  long long seen[1] = {1767600000};
  int rc[1], is_new[1];
  char status[1][16];
  assert_int_equal(pf_db_ingest_many(db, 1, shas, labels, size, seen, rc, is_new, status, NULL), PF_OK);
  seen[0] = 1800000000;
  assert_int_equal(pf_db_ingest_many(db, 1, shas, labels, size, seen, rc, is_new, status, NULL), PF_OK);
  assert_int_equal(is_new[0], 0);
  pf_db_sample *s = malloc(sizeof *s);
  assert_non_null(s);
  assert_int_equal(pf_db_get(db, a, s), PF_OK);
  assert_true(s->first_seen == 1767571200);
  assert_int_equal(pf_db_get(db, c, s), PF_OK);
  assert_true(s->first_seen == 1767600000);
  assert_int_equal(pf_db_get(db, b, s), PF_OK);
  long long now_b = s->first_seen;
  assert_true(now_b > 1767600000); /* now */
  long long oldest, newest, tracked;
  assert_int_equal(pf_db_seen_range(db, &oldest, &newest, &tracked), PF_OK);
  assert_true(oldest == 1767571200 && newest == now_b && tracked == 3);
  /* a sample from before pf:seen, one without any first_seen: the backfill
   * indexes the first with its own date, the second with the upgrade time */
  admin_do("ZREM pf:seen %s", a);
  admin_do("ZREM pf:seen %s", c);
  admin_do("HDEL pf:s:%s first_seen", c);
  long long added = 0;
  assert_int_equal(pf_db_seen_backfill(db, 1900000000, &added), PF_OK);
  assert_true(added == 2);
  assert_int_equal(pf_db_seen_range(db, &oldest, &newest, &tracked), PF_OK);
  assert_true(oldest == 1767571200 && newest == 1900000000 && tracked == 3);
  assert_int_equal(pf_db_get(db, c, s), PF_OK);
  assert_true(s->first_seen == 1900000000);
  assert_int_equal(pf_db_seen_backfill(db, 1950000000, &added), PF_OK);
  assert_true(added == 0); /* once is enough */
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_new_record, setup, teardown),
    cmocka_unit_test_setup_teardown(test_known, setup, teardown),
    cmocka_unit_test_setup_teardown(test_known_from_ingest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_noscript, setup, teardown),
    cmocka_unit_test_setup_teardown(test_big_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_server_gone, setup, teardown),
    cmocka_unit_test_setup_teardown(test_first_seen, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
