/* Unit tests of pf_trainset, the three splits of a training run: from a
 * CSV (the seeded 70/15/15 split, the rows per class, a missing class, an
 * unreadable file, each with its one-line reason) and from the fleet
 * against a real redis-server (pf_test_redis.h): by the stored split (each
 * row where pf_split_of puts it), by first-seen time (every test row newer
 * than every train row, the ranges), every sample kept on request, the
 * checks before training, and Redis gone. The fleet tests are skipped,
 * saying so, without redis-server. */
#include "pf_test_redis.h"

#include "pf_split.h"
#include "pf_trainset.h"

#include <signal.h>

#define N 240
#define DIM 3

static int group_setup(void **state) { return redis_group_setup("pf_test_trainset"); }
static int group_teardown(void **state) { return redis_group_teardown(SIGKILL); }
static int teardown(void **state) {
  pf_db *db = *state;
  pf_db_free(&db);
  return 0;
}

static pf_classes cls2(void) {
  pf_classes c;
  assert_int_equal(pf_classes_parse("clean,malicious", &c), PF_OK);
  return c;
}

/* a CSV of n rows (class i % 2, or only clean), one "other" row and one bad row */
static void write_csv(const char *path, int n, int only_clean) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s,%d,%d.5,%d\n", only_clean || i % 2 == 0 ? "clean" : "malicious", i, i % 7, -i);
  fputs("other,1,2,3\nclean,1,2\n", f);
  fclose(f);
}

static void test_csv(void **state) {
  char dir[64], path[128], why[512];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-trainset"), 0);
  snprintf(path, sizeof path, "%s/d.csv", dir);
  write_csv(path, 100, 0);
  pf_classes c = cls2();
  pf_trainset_opts o = {.dim = DIM, .cls = &c};
  o.seed = 7;
  pf_trainset t;
  assert_int_equal(pf_trainset_load_csv(path, &o, &t, why, sizeof why), PF_OK);
  assert_true(t.from_csv);
  assert_int_equal(t.skipped, 2);
  /* the same rows as pf_dataset_split gives with that seed */
  pf_dataset all = {0}, want[3] = {{0}};
  size_t sk;
  assert_int_equal(pf_dataset_load_csv(path, DIM, &c, &all, &sk), PF_OK);
  assert_int_equal(pf_dataset_split(&all, 7, &want[0], &want[1], &want[2]), PF_OK);
  long long total = 0;
  for (int s = 0; s < 3; s++) {
    assert_int_equal(t.s[s].d.n, want[s].n);
    assert_int_equal(t.s[s].d.dim, DIM);
    assert_memory_equal(t.s[s].d.x, want[s].x, want[s].n * DIM * sizeof(float));
    assert_memory_equal(t.s[s].d.y, want[s].y, want[s].n * sizeof(int32_t));
    long long k[2] = {0, 0};
    for (size_t i = 0; i < want[s].n; i++) k[want[s].y[i]]++;
    assert_true(t.count[s][0] == k[0] && t.count[s][1] == k[1]);
    total += t.count[s][0] + t.count[s][1];
    assert_null(t.s[s].seen);
    pf_dataset_free(&want[s]);
  }
  assert_true(total == 100);
  assert_int_equal(t.s[0].d.n, 70);
  assert_int_equal(pf_trainset_check(&t, &c, why, sizeof why), PF_OK);
  assert_null(t.all.d.x);
  pf_dataset_free(&all);
  pf_trainset_free(&t);

  /* a class without a row: nothing loaded, the reason train prints */
  write_csv(path, 20, 1);
  assert_int_equal(pf_trainset_load_csv(path, &o, &t, why, sizeof why), PF_ENOENT);
  char exp[512];
  snprintf(exp, sizeof exp, "no 'malicious' row in %s (20 rows read, 2 skipped): a model needs every class; nothing trained",
           path);
  assert_string_equal(why, exp);
  assert_null(t.s[0].d.x);

  /* too few rows for every split */
  write_csv(path, 4, 0);
  assert_int_equal(pf_trainset_load_csv(path, &o, &t, why, sizeof why), PF_OK);
  assert_int_equal(pf_trainset_check(&t, &c, why, sizeof why), PF_EINVAL);
  assert_string_equal(why, "every split needs at least one row");
  pf_trainset_free(&t);

  /* no file */
  unlink(path);
  assert_int_equal(pf_trainset_load_csv(path, &o, &t, why, sizeof why), PF_EIO);
  snprintf(exp, sizeof exp, "cannot read %s: No such file or directory", path);
  assert_string_equal(why, exp);
  assert_int_equal(pf_test_rmtree(dir), 0);
}

static char shas[N][PF_SHA256_HEX_LEN + 1];

/* N samples, class i % 2 (only clean when only_clean), first seen an hour apart */
static void fill(pf_db *db, int only_clean) {
  static double vec[N][DIM];
  static pf_db_import_item it[N];
  for (int i = 0; i < N; i++) {
    sha_named("trainset-", i, shas[i]);
    for (int k = 0; k < DIM; k++) vec[i][k] = i + k * 0.25;
    it[i] = (pf_db_import_item){.sha = shas[i], .label = only_clean || i % 2 == 0 ? "clean" : "malicious",
                                .vec = vec[i], .dim = DIM, .first_seen = 1767571200LL + 3600LL * i};
  }
  assert_int_equal(pf_db_import_vectors(db, it, N, 0), PF_OK);
}

static int index_of(const char *sha) {
  for (int i = 0; i < N; i++)
    if (strcmp(shas[i], sha) == 0) return i;
  return -1;
}

static void test_fleet_stored_split(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  fill(db, 0);
  pf_classes c = cls2();
  pf_trainset_opts o = {.dim = DIM, .cls = &c};
  pf_trainset t;
  char why[512];
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_OK);
  assert_false(t.from_csv);
  assert_null(t.all.d.x); /* not kept unless asked */
  size_t total = 0;
  for (int s = 0; s < 3; s++) {
    long long k[2] = {0, 0};
    for (size_t r = 0; r < t.s[s].d.n; r++) {
      int i = index_of(t.s[s].sha[r]);
      assert_true(i >= 0);
      assert_int_equal(pf_split_of(shas[i]), s);
      assert_int_equal(t.s[s].d.y[r], i % 2);
      assert_true(t.s[s].seen[r] == 1767571200LL + 3600LL * i);
      assert_true(t.s[s].d.x[r * DIM] == (float)i);
      k[i % 2]++;
    }
    assert_true(t.count[s][0] == k[0] && t.count[s][1] == k[1]);
    pf_time_range r;
    pf_timed_range(&t.s[s], &r);
    assert_true(r.n == t.r[s].n && r.first == t.r[s].first && r.last == t.r[s].last);
    total += t.s[s].d.n;
  }
  assert_int_equal(total, N);
  assert_int_equal(t.skipped, 0);
  assert_int_equal(pf_trainset_check(&t, &c, why, sizeof why), PF_OK);
  /* a dropped split keeps its counts */
  long long n0 = t.count[0][0];
  pf_trainset_drop(&t, 0);
  assert_null(t.s[0].d.x);
  assert_true(t.count[0][0] == n0);
  pf_trainset_free(&t);
}

static void test_fleet_time_split(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  fill(db, 0);
  pf_classes c = cls2();
  pf_trainset_opts o = {.dim = DIM, .cls = &c};
  o.time_split = 1;
  o.keep_all = 1;
  pf_trainset t;
  char why[512];
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_OK);
  assert_int_equal(t.all.d.n, N);
  assert_int_equal(t.s[0].d.n + t.s[1].d.n + t.s[2].d.n, N);
  assert_true(t.r[0].last < t.r[1].first && t.r[1].last < t.r[2].first);
  assert_true(t.r[0].first == 1767571200LL && t.r[2].last == 1767571200LL + 3600LL * (N - 1));
  pf_trainset_free(&t);
  /* a test cut at a date: test is every sample from then on */
  o.keep_all = 0;
  o.test_since = 1767571200LL + 3600LL * 200;
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_OK);
  assert_int_equal(t.s[2].d.n, N - 200);
  assert_true(t.r[2].first == o.test_since);
  assert_null(t.all.d.x);
  pf_trainset_free(&t);
}

static void test_fleet_checks(void **state) {
  NEED_REDIS();
  pf_db *db = *state;
  fill(db, 1);
  pf_classes c = cls2();
  pf_trainset_opts o = {.dim = DIM, .cls = &c};
  pf_trainset t;
  char why[512], exp[512];
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_OK);
  assert_int_equal(pf_trainset_check(&t, &c, why, sizeof why), PF_EINVAL);
  snprintf(exp, sizeof exp, "no 'malicious' sample in the training split (%zu rows, 0 skipped): a model needs every "
           "class; nothing trained", t.s[0].d.n);
  assert_string_equal(why, exp);
  pf_trainset_free(&t);
  /* another width: every sample skipped, every split empty */
  o.dim = DIM + 1;
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_OK);
  assert_int_equal(t.skipped, N);
  pf_trainset_free(&t);
  /* Redis gone: the reason names the read */
  stop_redis(SIGKILL);
  o.dim = DIM;
  assert_int_equal(pf_trainset_load_db(db, &o, &t, why, sizeof why), PF_EIO);
  assert_true(strncmp(why, "reading the fleet's samples: ", 29) == 0 && strlen(why) > 29);
  assert_null(t.s[0].d.x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_csv),
    cmocka_unit_test_setup_teardown(test_fleet_stored_split, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fleet_time_split, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fleet_checks, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
