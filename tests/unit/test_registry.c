/* Unit tests of pf_registry against a real redis-server (pf_test_redis.h):
 * registering model folders (the weights travel through Redis and decode
 * to the same model; stats.json kept; re-registering changes nothing but
 * dir/samples), promotion (current key, the pub/sub announcement a
 * subscriber receives), rollback order, listing, and refusals (unknown
 * version, a folder without a model, a damaged model file, a version that
 * could not be a key); every change one script (what MONITOR sees of a
 * change is its EVALSHA/EVAL alone, also after SCRIPT FLUSH), and an entry
 * an older pefleet left without its blob. Skipped, saying so, without
 * redis-server. */
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

/* The commands clients sent while change ran (MONITOR, commands run by
 * scripts left out), into out (one per line); how many. */
static int client_commands(void (*change)(pf_db *db), pf_db *db, char *out, size_t outlen) {
  redisContext *mon = admin_connect(NULL);
  assert_non_null(mon);
  redisReply *r = redisCommand(mon, "MONITOR");
  assert_non_null(r);
  freeReplyObject(r);
  change(db);
  admin_do("ECHO end-of-change");
  int n = 0;
  size_t used = 0;
  out[0] = '\0';
  for (;;) {
    void *rp = NULL;
    assert_int_equal(redisGetReply(mon, &rp), REDIS_OK);
    r = rp;
    int end = r->type == REDIS_REPLY_STATUS && strstr(r->str, "end-of-change");
    if (!end && r->type == REDIS_REPLY_STATUS && !strstr(r->str, " lua]")) {
      n++;
      used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s\n", r->str);
    }
    freeReplyObject(r);
    if (end) break;
  }
  redisFree(mon);
  return n;
}

/* Each command line is a script call. */
static void all_scripts(const char *lines, int n, const char *what) {
  printf("%s: %d command(s) from the client\n", what, n);
  assert_true(n >= 1 && n <= 2); /* EVALSHA, and EVAL after NOSCRIPT */
  for (const char *p = lines; *p; p = strchr(p, '\n') + 1)
    if (!strstr(p, "\"EVALSHA\"") && !strstr(p, "\"EVAL\"")) fail_msg("%s: not a script call: %.120s", what, p);
}

static char change_dir[512];
static void do_register(pf_db *db) {
  char err[256];
  assert_int_equal(pf_registry_register(db, change_dir, 7, NULL, err, sizeof err), PF_OK);
}
static void do_promote_d1(pf_db *db) {
  char err[256];
  assert_int_equal(pf_registry_promote(db, "d1", err, sizeof err), PF_OK);
}
static void do_promote_d2(pf_db *db) {
  char err[256];
  assert_int_equal(pf_registry_promote(db, "d2", err, sizeof err), PF_OK);
}
static void do_rollback(pf_db *db) {
  char err[256], v[PF_MODEL_NAME];
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_OK);
  assert_string_equal(v, "d1");
}
static void do_gate(pf_db *db) { assert_int_equal(pf_registry_set_gate(db, "d1", "{\"decision\": \"keep\"}"), PF_OK); }

static void test_one_script_per_change(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  static char lines[8192];
  struct {
    const char *what, *version;
    void (*change)(pf_db *db);
  } steps[] = {{"register d1", "d1", do_register}, {"register d2", "d2", do_register},
               {"promote d1", NULL, do_promote_d1}, {"promote d2", NULL, do_promote_d2},
               {"rollback", NULL, do_rollback},     {"set gate", NULL, do_gate}};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (steps[i].version) {
      char nm[16];
      snprintf(nm, sizeof nm, "m-%s", steps[i].version);
      dir_of(change_dir, sizeof change_dir, nm);
      make_model(change_dir, steps[i].version, 0.5f);
    }
    if (i % 2) admin_do("SCRIPT FLUSH"); /* every other one after a flush: NOSCRIPT, then EVAL */
    int n = client_commands(steps[i].change, db, lines, sizeof lines);
    all_scripts(lines, n, steps[i].what);
  }
  char cur[PF_MODEL_NAME], *gate = NULL;
  assert_int_equal(pf_registry_current(db, cur), PF_OK);
  assert_string_equal(cur, "d1");
  assert_int_equal(admin_int("LLEN pf:model:promotions"), 1); /* d2 forgotten by the rollback */
  /* a script already loaded: EVALSHA alone; the current version again is not remembered twice */
  do_promote_d1(db); /* loads it again (the last step flushed the scripts) */
  assert_int_equal(client_commands(do_promote_d1, db, lines, sizeof lines), 1);
  assert_non_null(strstr(lines, "\"EVALSHA\""));
  assert_int_equal(admin_int("LLEN pf:model:promotions"), 1);
  assert_int_equal(pf_registry_gate(db, "d1", &gate), PF_OK);
  assert_non_null(gate);
  assert_non_null(strstr(gate, "keep"));
  free(gate);
  /* the promotions list keeps the newest 100 */
  for (int i = 0; i < 120; i++) {
    char err[256];
    assert_int_equal(pf_registry_promote(db, i % 2 ? "d1" : "d2", err, sizeof err), PF_OK);
  }
  assert_int_equal(admin_int("LLEN pf:model:promotions"), 100);
  assert_int_equal(pf_registry_set_gate(db, "nope", "{}"), PF_ENOENT);
}

static void test_entry_without_blob(void **state) {
  pf_db *db = *state;
  NEED_REDIS();
  /* as an older pefleet, interrupted between its commands, left it */
  admin_do("HSET pf:model:e1 dir /old samples 3 registered 1700000000");
  char d[512], err[256], cur[PF_MODEL_NAME], v[PF_MODEL_NAME];
  assert_int_equal(pf_registry_promote(db, "e1", err, sizeof err), PF_ENOENT);
  assert_int_equal(pf_registry_set_gate(db, "e1", "{}"), PF_ENOENT);
  assert_int_equal(pf_registry_current(db, cur), PF_ENOENT);
  /* listed in promotions but without a blob: rollback passes it by */
  admin_do("LPUSH pf:model:promotions e1");
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_ENOENT);
  /* registering the folder completes it; registered stays the first time */
  dir_of(d, sizeof d, "m-e1");
  make_model(d, "e1", 0.75f);
  assert_int_equal(pf_registry_register(db, d, 9, v, err, sizeof err), PF_OK);
  pf_model *m = NULL;
  assert_int_equal(pf_registry_load(db, "e1", &m, err, sizeof err), PF_OK);
  assert_true(m->w[0][0] == 0.75f);
  pf_model_free(&m);
  pf_registry_entry e;
  assert_int_equal(pf_registry_get(db, "e1", &e, NULL), PF_OK);
  assert_true(e.registered == 1700000000);
  assert_int_equal(e.samples, 9);
  assert_string_equal(e.parent, "parent-of-e1");
  assert_int_equal(pf_registry_promote(db, "e1", err, sizeof err), PF_OK);
  /* Redis gone: every change says so */
  stop_redis(SIGKILL);
  assert_int_equal(pf_registry_promote(db, "e1", err, sizeof err), PF_EIO);
  assert_non_null(strstr(err, "unreachable"));
  assert_int_equal(pf_registry_rollback(db, v, err, sizeof err), PF_EIO);
  assert_int_equal(pf_registry_register(db, d, 9, v, err, sizeof err), PF_EIO);
  assert_int_equal(pf_registry_set_gate(db, "e1", "{}"), PF_EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_register_load_promote, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reregister_keeps_weights, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rollback_and_list, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    cmocka_unit_test_setup_teardown(test_one_script_per_change, setup, teardown),
    cmocka_unit_test_setup_teardown(test_entry_without_blob, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
