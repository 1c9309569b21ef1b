/* Unit tests of pf_config's redis_password_file (the Redis password as a
 * file, as compose.yaml hands it over: a Docker secret under /run/secrets):
 * the first line is the password, over PEFLEET_REDIS_PASSWORD and the conf
 * file's; PEFLEET_REDIS_PASSWORD_FILE sets it; a missing, empty, too long,
 * NUL-holding or non-regular file is an error with a reason, never a
 * silently empty password (a fleet without AUTH). */
#include "pf_test.h"

#include "pf_config.h"
#include "pf_err.h"

#include <stdlib.h>
#include <string.h>

static char dir[64];

static int setup(void **state) {
  (void)state;
  unsetenv("PEFLEET_REDIS_PASSWORD");
  unsetenv("PEFLEET_REDIS_PASSWORD_FILE");
  return pf_test_mkdtemp(dir, sizeof dir, "pf-config-pwfile");
}

static int teardown(void **state) {
  (void)state;
  unsetenv("PEFLEET_REDIS_PASSWORD");
  unsetenv("PEFLEET_REDIS_PASSWORD_FILE");
  return pf_test_rmtree(dir);
}

static void put(const char *name, const void *data, size_t n, char *path, size_t pn) {
  snprintf(path, pn, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void test_first_line_is_the_password(void **state) {
  (void)state;
  char p[128], err[512];
  put("pw", "s3cret-from-file\nsecond line\n", 29, p, sizeof p);
  setenv("PEFLEET_REDIS_PASSWORD", "from-env", 1);
  setenv("PEFLEET_REDIS_PASSWORD_FILE", p, 1);
  pf_config c;
  assert_int_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_string_equal(c.redis_password, "s3cret-from-file"); /* the file wins over the environment */
  assert_string_equal(c.redis_password_file, p);
  /* no end of line at all, and CRLF */
  put("pw2", "abc", 3, p, sizeof p);
  setenv("PEFLEET_REDIS_PASSWORD_FILE", p, 1);
  assert_int_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_string_equal(c.redis_password, "abc");
  put("pw3", "xyz\r\n", 5, p, sizeof p);
  setenv("PEFLEET_REDIS_PASSWORD_FILE", p, 1);
  assert_int_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_string_equal(c.redis_password, "xyz");
}

static void test_conf_file_key(void **state) {
  (void)state;
  char p[128], conf[160], err[512];
  put("pw", "conf-pw\n", 8, p, sizeof p);
  snprintf(conf, sizeof conf, "%s/pefleet.conf", dir);
  FILE *f = fopen(conf, "w");
  assert_non_null(f);
  fprintf(f, "redis_password = old\nredis_password_file = %s\n", p);
  fclose(f);
  pf_config c;
  assert_int_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_string_equal(c.redis_password, "conf-pw");
}

static void expect_refused(const char *path, const char *why) {
  char err[512];
  setenv("PEFLEET_REDIS_PASSWORD", "must-not-stay", 1);
  setenv("PEFLEET_REDIS_PASSWORD_FILE", path, 1);
  pf_config c;
  assert_int_not_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_non_null(strstr(err, "redis_password_file"));
  assert_non_null(strstr(err, why));
}

static void test_bad_files_refused(void **state) {
  (void)state;
  char p[128], missing[128];
  snprintf(missing, sizeof missing, "%s/none", dir);
  expect_refused(missing, "No such file");
  put("empty", "", 0, p, sizeof p);
  expect_refused(p, "empty");
  put("nl", "\nsecond\n", 8, p, sizeof p);
  expect_refused(p, "empty");
  put("nul", "ab\0cd\n", 6, p, sizeof p);
  expect_refused(p, "NUL");
  char big[400];
  memset(big, 'a', sizeof big);
  put("big", big, sizeof big, p, sizeof p);
  expect_refused(p, "longer");
  put("256", big, 256, p, sizeof p); /* fits the read cap, not the 255-byte password */
  expect_refused(p, "longer");
  char ok[256];
  memset(ok, 'b', 255);
  ok[255] = '\n';
  put("255", ok, 256, p, sizeof p);
  setenv("PEFLEET_REDIS_PASSWORD_FILE", p, 1);
  pf_config c;
  char err[512];
  assert_int_equal(pf_config_resolve(&c, dir, NULL, err, sizeof err), PF_OK);
  assert_int_equal(strlen(c.redis_password), 255);
  expect_refused(dir, "not a regular file");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_first_line_is_the_password, setup, teardown),
    cmocka_unit_test_setup_teardown(test_conf_file_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_files_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
