/* Unit tests of pf_secret: a secret file is 0600 even under umask 000 (no
 * window with a wider mode: the file is made so by mkostemp), a symlink
 * planted at its path is replaced, never written through, nothing is left
 * beside it; pf_config_save (pefleet.conf holds the Redis password) goes
 * through it; random secrets are hex of the asked length and differ. */
#include "pf_test.h"

#include "pf_config.h"
#include "pf_err.h"
#include "pf_secret.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
  (void)state;
  return pf_test_mkdtemp(dir, sizeof dir, "pf-secret-test");
}

static int teardown(void **state) {
  (void)state;
  return pf_test_rmtree(dir);
}

static int entries(const char *d) {
  DIR *h = opendir(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(h)) != NULL) n += e->d_name[0] != '.';
  closedir(h);
  return n;
}

static void test_write_mode_and_symlink(void **state) {
  (void)state;
  char path[128], victim[128], err[256];
  snprintf(path, sizeof path, "%s/pefleet.conf", dir);
  snprintf(victim, sizeof victim, "%s/victim", dir);
  FILE *f = fopen(victim, "w");
  assert_non_null(f);
  fputs("keep", f);
  fclose(f);
  assert_int_equal(symlink(victim, path), 0);
  mode_t old = umask(0);
  assert_int_equal(pf_secret_write(path, "redis_password = x\n", 19, err, sizeof err), PF_OK);
  umask(old);
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode)); /* the link was replaced */
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 19);
  char buf[16] = "";
  f = fopen(victim, "r");
  assert_non_null(fgets(buf, sizeof buf, f));
  fclose(f);
  assert_string_equal(buf, "keep"); /* never written through */
  assert_int_equal(entries(dir), 2);  /* no temporary file left */
  snprintf(path, sizeof path, "%s/nope/x", dir);
  assert_int_equal(pf_secret_write(path, "x", 1, err, sizeof err), PF_EIO);
}

static void test_config_save_0600(void **state) {
  (void)state;
  pf_config c, back;
  pf_config_default(&c, dir);
  snprintf(c.redis_password, sizeof c.redis_password, "s3cret");
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/pefleet.conf", dir);
  mode_t old = umask(0);
  assert_int_equal(pf_config_save(&c, path), PF_OK);
  umask(old);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  pf_config_default(&back, dir);
  assert_int_equal(pf_config_load(&back, path, err, sizeof err), PF_OK);
  assert_string_equal(back.redis_password, "s3cret");
  assert_int_equal(back.redis_port, c.redis_port);
}

static void test_random_hex(void **state) {
  (void)state;
  char a[65], b[65], err[128];
  assert_int_equal(pf_secret_random_hex(a, sizeof a, 32, err, sizeof err), PF_OK);
  assert_int_equal(pf_secret_random_hex(b, sizeof b, 32, err, sizeof err), PF_OK);
  assert_int_equal(strlen(a), 64);
  assert_int_equal(strspn(a, "0123456789abcdef"), 64);
  assert_string_not_equal(a, b);
  assert_int_equal(pf_secret_random_hex(a, 64, 32, err, sizeof err), PF_EINVAL); /* no room for the NUL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_write_mode_and_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown(test_config_save_0600, setup, teardown),
    cmocka_unit_test(test_random_hex),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
