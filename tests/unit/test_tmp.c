/* Unit tests of pf_tmp_sweep: only files named PREFIX-PID-... whose PID is
 * no longer running are removed; this process's own, a live process's,
 * other names and malformed PIDs stay. */
#include "pf_test.h"

#include "pf_tmp.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void touch(const char *dir, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fclose(f);
}

static int exists(const char *dir, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

static void test_sweep(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-tmp.XXXXXX";
  assert_non_null(mkdtemp(dir));
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  char a[64], b[64], c[64];
  snprintf(a, sizeof a, "pefleet-scorer-%d-7", (int)dead);
  snprintf(b, sizeof b, "pefleet-scorer-%d-7", (int)getpid());
  snprintf(c, sizeof c, "pefleet-similar-%d-abc", (int)dead);
  touch(dir, a);
  touch(dir, b);
  touch(dir, c);
  touch(dir, "pefleet-scorer-1-3");      /* init: alive */
  touch(dir, "pefleet-scorer-x-3");      /* not a pid */
  touch(dir, "pefleet-scorerfoo-99999999-3");
  touch(dir, "other");
  assert_int_equal(pf_tmp_sweep(dir, "pefleet-scorer"), 1);
  assert_false(exists(dir, a));
  assert_true(exists(dir, b));
  assert_true(exists(dir, c)); /* another prefix */
  assert_true(exists(dir, "pefleet-scorer-1-3"));
  assert_true(exists(dir, "pefleet-scorer-x-3"));
  assert_true(exists(dir, "pefleet-scorerfoo-99999999-3"));
  assert_int_equal(pf_tmp_sweep(dir, "pefleet-similar"), 1);
  assert_false(exists(dir, c));
  assert_int_equal(pf_tmp_sweep("/nonexistent-dir-for-pf-test", "x"), 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
