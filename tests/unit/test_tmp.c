/* Unit tests of pf_tmp: only entries named PREFIX-PID-... whose PID is no
 * longer running are swept (files, and folders with their contents), never
 * through a symlink; this process's own, a live process's, other names and
 * malformed PIDs stay. Upload files land in a private 0700 folder with
 * names nobody could plant in advance: symlinks planted at every name the
 * old scheme would have used are never written through. */
#include "pf_test.h"

#include "pf_tmp.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void touch(const char *dir, const char *name) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fclose(f);
}

static int exists(const char *dir, const char *name) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* The pid of a process that has exited (and been reaped). */
static pid_t dead_pid(void) {
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  return dead;
}

static void test_sweep(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-tmp.XXXXXX";
  assert_non_null(mkdtemp(dir));
  pid_t dead = dead_pid();
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

static void slurp_eq(const char *path, const char *want) {
  char buf[64] = "";
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  assert_string_equal(buf, want);
}

/* A dead process's folder is emptied and removed; a symlink named like one,
 * pointing at a folder of ours, is removed itself and its target kept. */
static void test_sweep_folders(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-tmp.XXXXXX";
  assert_non_null(mkdtemp(dir));
  pid_t dead = dead_pid();
  char sub[512], link[512], victim[512];
  snprintf(sub, sizeof sub, "%s/pefleet-scorer-%d-AbCdEf", dir, (int)dead);
  assert_int_equal(mkdir(sub, 0700), 0);
  touch(sub, "u-123456");
  touch(sub, "u-abcdef");
  snprintf(victim, sizeof victim, "%s/victim", dir);
  assert_int_equal(mkdir(victim, 0700), 0);
  touch(victim, "keep");
  snprintf(link, sizeof link, "%s/pefleet-scorer-%d-link", dir, (int)dead);
  assert_int_equal(symlink(victim, link), 0);
  assert_int_equal(pf_tmp_sweep(dir, "pefleet-scorer"), 2);
  assert_int_equal(access(sub, F_OK), -1);
  assert_int_equal(access(link, F_OK), -1);
  assert_true(exists(victim, "keep")); /* the symlink was not followed */
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_private_folder(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-tmp.XXXXXX";
  assert_non_null(mkdtemp(dir));
  /* a neighbour plants symlinks at the names the old scheme used
   * (PREFIX-PID-N) and at likely names inside, all to a file of "ours" */
  char victim[512];
  snprintf(victim, sizeof victim, "%s/victim", dir);
  FILE *v = fopen(victim, "w");
  assert_non_null(v);
  fputs("precious", v);
  fclose(v);
  for (int i = 0; i < 64; i++) {
    char name[512];
    snprintf(name, sizeof name, "%s/pefleet-scorer-%d-%d", dir, (int)getpid(), i);
    assert_int_equal(symlink(victim, name), 0);
  }
  pf_tmp t;
  int swept = -1;
  char err[256];
  assert_int_equal(pf_tmp_open(&t, dir, "pefleet-scorer", &swept, err, sizeof err), 0);
  assert_int_equal(swept, 0); /* this process's names are not swept */
  struct stat st;
  assert_int_equal(lstat(t.dir, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(st.st_uid, geteuid());
  char paths[64][1100];
  for (int i = 0; i < 64; i++) {
    int fd = pf_tmp_file(&t, paths[i], sizeof paths[i]);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(write(fd, "upload", 6), 6);
    close(fd);
    assert_int_equal(strncmp(paths[i], t.dir, strlen(t.dir)), 0);
    for (int k = 0; k < i; k++) assert_string_not_equal(paths[i], paths[k]);
  }
  slurp_eq(victim, "precious");
  char kept[1100];
  snprintf(kept, sizeof kept, "%s", t.dir);
  pf_tmp_close(&t);
  assert_int_equal(access(kept, F_OK), -1); /* the folder and its files are gone */
  assert_int_equal(t.dir[0], '\0');
  pf_tmp_close(&t); /* harmless twice */
  assert_int_equal(pf_tmp_file(&t, paths[0], sizeof paths[0]), -1);
  assert_int_not_equal(pf_tmp_open(&t, "/nonexistent-dir-for-pf-test", "x", NULL, err, sizeof err), 0);
  slurp_eq(victim, "precious");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep), cmocka_unit_test(test_sweep_folders),
                                     cmocka_unit_test(test_private_folder)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
