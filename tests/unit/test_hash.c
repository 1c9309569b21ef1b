/* Unit tests of pf_hash against the FIPS 180-2 SHA-256 examples. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_hash.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256_fips),
    cmocka_unit_test(test_hex),
    cmocka_unit_test(test_is_sha256_hex),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
