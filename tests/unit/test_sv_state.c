/* Unit tests of supervisor/sv_state.c (compiled in: supervisor/ is not in
 * the library): DATA/fleet.state written and read back, a missing one,
 * liveness (a zombie is not alive), the orphans of a dead supervisor
 * counted only when they belong to the fleet folder, and programs found
 * beside the running binary. */
#include "pf_test.h"

#include "../../supervisor/sv_state.c"

#include <sys/wait.h>

static void test_save_load(void **state) {
  char dir[64];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "sv-state"), 0);
  pf_config c;
  pf_config_default(&c, dir);
  static sv_state s, back;
  assert_int_equal(sv_state_load(&c, &back), PF_ENOENT);
  s.supervisor = 4242;
  s.n = 3;
  snprintf(s.d[0].role, sizeof s.d[0].role, "redis");
  snprintf(s.d[1].role, sizeof s.d[1].role, "encoder-worker");
  s.d[1].index = 2;
  s.d[1].pid = 77;
  s.d[1].restarts = 5;
  snprintf(s.d[2].role, sizeof s.d[2].role, "broker");
  assert_int_equal(sv_state_save(&c, &s), PF_OK);
  assert_int_equal(sv_state_load(&c, &back), PF_OK);
  assert_int_equal(back.supervisor, 4242);
  assert_int_equal(back.n, 3);
  assert_string_equal(back.d[1].role, "encoder-worker");
  assert_int_equal(back.d[1].index, 2);
  assert_int_equal(back.d[1].pid, 77);
  assert_int_equal(back.d[1].restarts, 5);
  assert_string_equal(back.d[2].role, "broker");
  pf_test_rmtree(dir);
}

static void test_alive_and_orphans(void **state) {
  assert_int_equal(sv_alive(getpid()), 1);
  assert_int_equal(sv_alive(0), 0);
  pid_t z = fork();
  if (z == 0) _exit(0);
  for (int i = 0; i < 200 && sv_alive(z); i++) usleep(10 * 1000);
  assert_int_equal(sv_alive(z), 0); /* exited, not reaped yet: a zombie */
  waitpid(z, NULL, 0);
  /* this process works in the fleet folder: an orphan of it; its parent's
   * pid (not under the folder) is not */
  char dir[64], cwd[4096];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "sv-orph"), 0);
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(dir), 0);
  pf_config c;
  pf_config_default(&c, dir);
  static sv_state s;
  s.n = 2;
  s.d[0].pid = getpid();
  s.d[1].pid = getppid();
  int idx[4];
  assert_int_equal(sv_orphans(&c, &s, idx, 4), 1);
  assert_int_equal(idx[0], 0);
  assert_int_equal(chdir(cwd), 0);
  pf_test_rmtree(dir);
}

static void test_program(void **state) {
  char p[1100];
  assert_int_equal(sv_program("test_sv_state", p, sizeof p), PF_OK); /* this very binary */
  assert_int_equal(sv_program("no-such-program-here", p, sizeof p), PF_ENOENT);
  char tiny[8];
  assert_int_equal(sv_program("test_sv_state", tiny, sizeof tiny), PF_ELIMIT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_save_load),
    cmocka_unit_test(test_alive_and_orphans),
    cmocka_unit_test(test_program),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
