/* Unit tests of pf_log's escaping: every byte below 0x20 and 0x7f of a
 * caller's string reaches the log as \xNN (a terminal escape, CR, LF, TAB,
 * DEL in a path or a peer's text cannot forge a line or drive a terminal);
 * other bytes, UTF-8 included, pass unchanged; an escape that does not fit
 * is cut whole. */
#include "pf_test.h"

#include "pf_log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_escape(void **state) {
  (void)state;
  char out[128];
  assert_int_equal(pf_log_escape(out, sizeof out, "plain /path é"), strlen("plain /path é"));
  assert_string_equal(out, "plain /path é");
  pf_log_escape(out, sizeof out, "a\x1b[31mred\r\nfake\tline\x7f\x01\x1f end");
  assert_string_equal(out, "a\\x1b[31mred\\x0d\\x0afake\\x09line\\x7f\\x01\\x1f end");
  for (int c = 1; c < 256; c++) {
    char in[2] = {(char)c, 0};
    pf_log_escape(out, sizeof out, in);
    if (c < 0x20 || c == 0x7f) {
      char want[8];
      snprintf(want, sizeof want, "\\x%02x", c);
      assert_string_equal(out, want);
    } else {
      assert_int_equal((unsigned char)out[0], c);
      assert_int_equal(out[1], 0);
    }
  }
  /* an escape that does not fit is left out whole, never half written */
  assert_int_equal(pf_log_escape(out, 6, "ab\x1b"), 2);
  assert_string_equal(out, "ab");
  assert_int_equal(pf_log_escape(out, 7, "ab\x1b"), 6);
  assert_string_equal(out, "ab\\x1b");
  assert_int_equal(pf_log_escape(out, 0, "x"), 0);
}

/* pf_log itself: what reaches stderr is one line, no raw control byte. */
static void test_log_line(void **state) {
  (void)state;
  char path[] = "/tmp/pf-test-log.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  assert_int_equal(dup2(fd, 2), 2);
  pf_log_init("test");
  pf_warn("refused %s", "/allowed/\x1b]0;owned\x07\x1b[2J\r\nfake INFO line\x7f");
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char buf[1024];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_int_equal(buf[n - 1], '\n');
  for (ssize_t i = 0; i < n - 1; i++) assert_true((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
  assert_non_null(strstr(buf, "WARN  test["));
  assert_non_null(strstr(buf, "refused /allowed/\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x0afake INFO line\\x7f\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_escape), cmocka_unit_test(test_log_line)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
