/* Unit tests of pf_hash against the FIPS 180-2 SHA-256 examples. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_hash.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void expect_sha256(const uint8_t *buf, size_t len, const char *want) {
  uint8_t d[PF_SHA256_LEN];
  char hex[PF_SHA256_HEX_LEN + 1];
  assert_int_equal(pf_sha256(buf, len, d), PF_OK);
  pf_hex(d, sizeof d, hex);
  assert_string_equal(hex, want);
  assert_true(pf_is_sha256_hex(hex));
}

static void test_sha256_fips(void **state) {
  /* FIPS 180-2 appendix B.1, B.2, B.3 */
  expect_sha256((const uint8_t *)"abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  expect_sha256((const uint8_t *)two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  uint8_t *a = malloc(1000000);
  assert_non_null(a);
  memset(a, 'a', 1000000);
  expect_sha256(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(a);
  /* the empty message */
  expect_sha256((const uint8_t *)"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex(void **state) {
  const uint8_t b[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  char hex[13];
  memset(hex, 'x', sizeof hex);
  pf_hex(b, sizeof b, hex);
  assert_string_equal(hex, "00017f80abff");
  pf_hex(b, 0, hex);
  assert_string_equal(hex, "");
}

static void test_is_sha256_hex(void **state) {
  const char *good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert_true(pf_is_sha256_hex(good));
  assert_true(pf_is_sha256_hex("0000000000000000000000000000000000000000000000000000000000000000"));
  char s[80];
  snprintf(s, sizeof s, "%s", good);
  s[10] = 'A'; /* upper case is not accepted */
  assert_false(pf_is_sha256_hex(s));
  s[10] = 'g';
  assert_false(pf_is_sha256_hex(s));
  s[10] = ' ';
  assert_false(pf_is_sha256_hex(s));
  snprintf(s, sizeof s, "%.63s", good); /* 63 characters */
  assert_false(pf_is_sha256_hex(s));
  snprintf(s, sizeof s, "%s0", good); /* 65 characters */
  assert_false(pf_is_sha256_hex(s));
  snprintf(s, sizeof s, "%s\n", good);
  assert_false(pf_is_sha256_hex(s));
  assert_false(pf_is_sha256_hex(""));
  assert_false(pf_is_sha256_hex(NULL));
}

/* The daemon's copy of a sample: the same digest as the one-shot hash, the
 * same bytes in the copy, over several chunks; a file shorter than it says
 * is an error, not a short digest. */
static void test_sha256_copy(void **state) {
  (void)state;
  enum { N = 700 * 1024 + 13 };
  uint8_t *buf = malloc(N), *back = malloc(N);
  assert_non_null(buf);
  assert_non_null(back);
  for (size_t i = 0; i < N; i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);
  int in = memfd_create("in", 0), out = memfd_create("out", 0);
  assert_true(in >= 0 && out >= 0);
  assert_int_equal(write(in, buf, N), N);
  lseek(in, 0, SEEK_SET);
  uint8_t a[PF_SHA256_LEN], b[PF_SHA256_LEN];
  assert_int_equal(pf_sha256_copy(in, out, N, a), PF_OK);
  assert_int_equal(pf_sha256(buf, N, b), PF_OK);
  assert_memory_equal(a, b, sizeof a);
  assert_int_equal(pread(out, back, N, 0), N);
  assert_memory_equal(buf, back, N);
  lseek(in, 0, SEEK_SET);
  assert_int_equal(pf_sha256_copy(in, -1, N + 1, a), PF_EIO); /* one byte short */
  close(in);
  close(out);
  free(buf);
  free(back);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256_fips),
    cmocka_unit_test(test_hex),
    cmocka_unit_test(test_is_sha256_hex),
    cmocka_unit_test(test_sha256_copy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
