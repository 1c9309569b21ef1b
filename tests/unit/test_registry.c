/* Unit tests of pf_registry against a real redis-server (pf_test_redis.h):
 * registering model folders (the weights travel through Redis and decode
 * to the same model; stats.json kept; re-registering changes nothing but
 * dir/samples), promotion (current key, the pub/sub announcement a
 * subscriber receives), rollback order, listing, and refusals (unknown
 * version, a folder without a model, a damaged model file, a version that
 * could not be a key). Skipped, saying so, without redis-server. */
#include "pf_test_redis.h"

#include "pf_registry.h"

#include <signal.h>
#include <sys/stat.h>

static int group_setup(void **state) { return redis_group_setup("pf_test_registry"); }
static int group_teardown(void **state) { return redis_group_teardown(SIGKILL); }
static int teardown(void **state) {
  pf_db *db = *state;
  pf_db_free(&db);
  return 0;
}

/* A small model folder DIR with version v and a stats.json. */
static void make_model(const char *dir, const char *v, float w0) {
  uint32_t sizes[] = {4, 3, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(2, sizes, &m), PF_OK);
  snprintf(m->version, sizeof m->version, "%s", v);
  snprintf(m->parent, sizeof m->parent, "parent-of-%s", v);
  m->w[0][0] = w0;
  m->threshold = 0.7;
  mkdir(dir, 0755);
  assert_int_equal(pf_model_save(m, dir), PF_OK);
  pf_model_free(&m);
  char p[512];
  snprintf(p, sizeof p, "%s/stats.json", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f, "{\"test\": {\"roc_auc\": 0.9%c}}\n", v[0]);
  fclose(f);
}

static void dir_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void test_register_load_promote(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  char d1[512], v[PF_MODEL_NAME], err[256], cur[PF_MODEL_NAME];
  dir_of(d1, sizeof d1, "m-a");
  make_model(d1, "a1", 0.25f);
  assert_int_equal(pf_registry_current(db, cur), PF_ENOENT);
  assert_int_equal(pf_registry_register(db, d1, 1234, v, err, sizeof err), PF_OK);
  assert_string_equal(v, "a1");
  pf_model *m = NULL;
  assert_int_equal(pf_registry_load(db, "a1", &m, err, sizeof err), PF_OK);
  assert_true(m->w[0][0] == 0.25f);
  assert_true(m->threshold == 0.7);
  assert_string_equal(m->parent, "parent-of-a1");
  pf_model_free(&m);
  pf_registry_entry e;
  char *stats = NULL;
  assert_int_equal(pf_registry_get(db, "a1", &e, &stats), PF_OK);
  assert_int_equal(e.samples, 1234);
  assert_int_equal(e.current, 0);
  assert_non_null(strstr(stats, "0.9a"));
  free(stats);
  /* a subscriber hears the promotion */
  redisContext *sub = admin_connect(NULL);
  redisReply *r = redisCommand(sub, "SUBSCRIBE %s", PF_REGISTRY_CHANNEL);
  freeReplyObject(r);
  assert_int_equal(pf_registry_promote(db, "a1", err, sizeof err), PF_OK);
  void *rp = NULL;
  assert_int_equal(redisGetReply(sub, &rp), REDIS_OK);
  r = rp;
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  assert_string_equal(r->element[2]->str, "a1");
  freeReplyObject(r);
  redisFree(sub);
  assert_int_equal(pf_registry_current(db, cur), PF_OK);
  assert_string_equal(cur, "a1");
  assert_int_equal(pf_registry_get(db, "a1", &e, NULL), PF_OK);
  assert_int_equal(e.current, 1);
}

static void test_reregister_keeps_weights(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  char d1[512], d2[512], err[256];
  dir_of(d1, sizeof d1, "m-b");
  dir_of(d2, sizeof d2, "m-b2");
  make_model(d1, "b1", 1.0f);
  make_model(d2, "b1", 2.0f); /* same version, other weights: the first stays */
  int rc = pf_registry_register(db, d1, 10, NULL, err, sizeof err);
  assert_int_equal(rc, PF_OK);
  assert_int_equal(pf_registry_register(db, d2, 20, NULL, err, sizeof err), PF_OK);
  pf_model *m = NULL;
  assert_int_equal(pf_registry_load(db, "b1", &m, err, sizeof err), PF_OK);
  assert_true(m->w[0][0] == 1.0f);
  pf_model_free(&m);
  pf_registry_entry e;
  assert_int_equal(pf_registry_get(db, "b1", &e, NULL), PF_OK);
  assert_int_equal(e.samples, 20);
  assert_non_null(strstr(e.dir, "m-b2"));
}

static void test_rollback_and_list(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  char d[512], err[256], v[PF_MODEL_NAME], cur[PF_MODEL_NAME];
  const char *names[] = {"c1", "c2", "c3"};
  for (int i = 0; i < 3; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "m-%s", names[i]);
    dir_of(d, sizeof d, nm);
    make_model(d, names[i], (float)i);
    assert_int_equal(pf_registry_register(db, d, -1, NULL, err, sizeof err), PF_OK);
    assert_int_equal(pf_registry_promote(db, names[i], err, sizeof err), PF_OK);
    usleep(2000); /* registration times differ */
  }
  pf_registry_entry list[8];
  int n = 0;
  assert_int_equal(pf_registry_list(db, list, 8, &n), PF_OK);
  assert_int_equal(n, 3);
  assert_string_equal(list[0].version, "c3");
  assert_int_equal(list[0].current, 1);
  assert_int_equal(list[2].samples, -1);
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_OK);
  assert_string_equal(v, "c2");
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_OK);
  assert_string_equal(v, "c1");
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_ENOENT);
  assert_int_equal(pf_registry_current(db, cur), PF_OK);
  assert_string_equal(cur, "c1");
}

static void test_refusals(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  char d[512], err[256], p[600];
  assert_int_equal(pf_registry_promote(db, "nope", err, sizeof err), PF_ENOENT);
  assert_non_null(strstr(err, "not registered"));
  assert_int_equal(pf_registry_promote(db, "bad version!", err, sizeof err), PF_EINVAL);
  dir_of(d, sizeof d, "empty");
  mkdir(d, 0755);
  assert_int_equal(pf_registry_register(db, d, -1, NULL, err, sizeof err), PF_ENOENT);
  /* a damaged model file */
  dir_of(d, sizeof d, "m-bad");
  make_model(d, "bad1", 1.0f);
  snprintf(p, sizeof p, "%s/%s", d, PF_MODEL_FILE);
  FILE *f = fopen(p, "r+b");
  fseek(f, 40, SEEK_SET);
  fputc(0x5a, f);
  fclose(f);
  assert_int_not_equal(pf_registry_register(db, d, -1, NULL, err, sizeof err), PF_OK);
  pf_model *m = NULL;
  assert_int_equal(pf_registry_load(db, "bad1", &m, err, sizeof err), PF_ENOENT);
  assert_null(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_register_load_promote, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reregister_keeps_weights, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rollback_and_list, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
