/* Unit tests of clamd/cd_cmd: the clamd command grammar (clamd(8)). */
#include "pf_test.h"

#include "cd_cmd.h"

static cd_cmd parse_ok(const char *s, size_t len, int whole, size_t want_used) {
  cd_cmd c;
  size_t used = 99;
  assert_int_equal(cd_cmd_parse((const uint8_t *)s, len, whole, &c, &used), CD_PARSE_OK);
  assert_int_equal(used, want_used);
  return c;
}

static void test_prefixes(void **st) {
  (void)st;
  cd_cmd c = parse_ok("zPING\0zVERSION\0", 15, 0, 6);
  assert_int_equal(c.kind, CD_PING);
  assert_int_equal(c.term, '\0');
  assert_false(c.oldstyle);
  c = parse_ok("nPING\nrest", 10, 0, 6);
  assert_int_equal(c.kind, CD_PING);
  assert_int_equal(c.term, '\n');
  c = parse_ok("nPING\r\n", 7, 0, 7); /* CR before the newline is dropped */
  assert_int_equal(c.kind, CD_PING);
  c = parse_ok("PING", 4, 1, 4); /* old style: one packet, one command */
  assert_int_equal(c.kind, CD_PING);
  assert_true(c.oldstyle);
  assert_int_equal(c.term, '\n');
  c = parse_ok("PING\r\n", 6, 0, 6);
  assert_int_equal(c.kind, CD_PING);
}

static void test_more_and_too_long(void **st) {
  (void)st;
  cd_cmd c;
  size_t used;
  assert_int_equal(cd_cmd_parse((const uint8_t *)"zPIN", 4, 0, &c, &used), CD_PARSE_MORE);
  assert_int_equal(cd_cmd_parse((const uint8_t *)"PING", 4, 0, &c, &used), CD_PARSE_MORE);
  assert_int_equal(cd_cmd_parse((const uint8_t *)"", 0, 1, &c, &used), CD_PARSE_MORE);
  static uint8_t big[CD_CMD_MAX + 10];
  memset(big, 'A', sizeof big);
  big[0] = 'z';
  assert_int_equal(cd_cmd_parse(big, sizeof big, 0, &c, &used), CD_PARSE_TOO_LONG);
  big[0] = 'A';
  assert_int_equal(cd_cmd_parse(big, sizeof big, 1, &c, &used), CD_PARSE_TOO_LONG);
  /* exactly at the limit with its terminator is still a command */
  big[0] = 'z';
  big[CD_CMD_MAX - 1] = '\0';
  assert_int_equal(cd_cmd_parse(big, sizeof big, 0, &c, &used), CD_PARSE_OK);
  assert_int_equal(c.kind, CD_UNKNOWN);
}

static void test_arguments(void **st) {
  (void)st;
  const char s[] = "zSCAN /srv/drop/a b.exe";
  cd_cmd c = parse_ok(s, sizeof s, 0, sizeof s);
  assert_int_equal(c.kind, CD_SCAN);
  assert_int_equal(c.arglen, strlen("/srv/drop/a b.exe"));
  assert_memory_equal(c.arg, "/srv/drop/a b.exe", c.arglen);
  c = parse_ok("zSCAN\0", 6, 0, 6); /* missing argument */
  assert_int_equal(c.kind, CD_UNKNOWN);
  c = parse_ok("zSCAN \0", 7, 0, 7); /* empty argument */
  assert_int_equal(c.kind, CD_UNKNOWN);
  c = parse_ok("zPING x\0", 8, 0, 8); /* trailing garbage */
  assert_int_equal(c.kind, CD_UNKNOWN);
  c = parse_ok("nSCAN /a\0b\n", 11, 0, 11); /* NUL inside a newline command */
  assert_int_equal(c.kind, CD_UNKNOWN);
  c = parse_ok("zMULTISCAN /x\0", 14, 0, 14);
  assert_int_equal(c.kind, CD_MULTISCAN);
  c = parse_ok("zCONTSCAN /x\0", 13, 0, 13);
  assert_int_equal(c.kind, CD_CONTSCAN);
}

static void test_prefix_required(void **st) {
  (void)st;
  const char *need[] = {"VERSIONCOMMANDS", "IDSESSION", "END", "INSTREAM", "ALLMATCHSCAN /x"};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    cd_cmd c = parse_ok(need[i], strlen(need[i]), 1, strlen(need[i]));
    assert_int_equal(c.kind, CD_UNKNOWN);
  }
  cd_cmd c = parse_ok("zVERSIONCOMMANDS\0", 17, 0, 17);
  assert_int_equal(c.kind, CD_VERSIONCOMMANDS); /* not VERSION: longest name first */
  c = parse_ok("zVERSION\0", 9, 0, 9);
  assert_int_equal(c.kind, CD_VERSION);
  c = parse_ok("zIDSESSION\0", 11, 0, 11);
  assert_int_equal(c.kind, CD_IDSESSION);
  c = parse_ok("zINSTREAM\0\0\0\0\0", 14, 0, 10); /* the chunks stay in the buffer */
  assert_int_equal(c.kind, CD_INSTREAM);
  c = parse_ok("QUIT", 4, 1, 4);
  assert_int_equal(c.kind, CD_SHUTDOWN);
  c = parse_ok("FILDES\n", 7, 0, 7);
  assert_int_equal(c.kind, CD_FILDES);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prefixes),
    cmocka_unit_test(test_more_and_too_long),
    cmocka_unit_test(test_arguments),
    cmocka_unit_test(test_prefix_required),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
