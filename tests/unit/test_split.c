/* Unit tests of pf_split: the boundaries of the 70/15/15 rule, the
 * proportions over many hashes, determinism, and bad ids. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_hash.h"
#include "pf_split.h"

#include <math.h>

/* A sha whose first 16 hex digits are prefix16 and the rest rest48. */
static void make_sha(char out[65], unsigned long long prefix, char rest) {
  snprintf(out, 65, "%016llx", prefix);
  memset(out + 16, rest, 48);
  out[64] = '\0';
}

static void test_boundaries(void **state) {
  char s[65];
  const struct { unsigned long long v; int want; } cases[] = {
    {0, PF_SPLIT_TRAIN},
    {6999, PF_SPLIT_TRAIN},
    {7000, PF_SPLIT_VALIDATION},
    {8499, PF_SPLIT_VALIDATION},
    {8500, PF_SPLIT_TEST},
    {9999, PF_SPLIT_TEST},
    {10000, PF_SPLIT_TRAIN},
    {17000, PF_SPLIT_VALIDATION},
    {18446744073709551615ull, PF_SPLIT_TRAIN}, /* % 10000 = 1615 */
    {18446744073709548500ull, PF_SPLIT_TEST},  /* % 10000 = 8500 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    make_sha(s, cases[i].v, 'f');
    if (pf_split_of(s) != cases[i].want)
      fail_msg("%016llx...: got %d, want %d", cases[i].v, pf_split_of(s), cases[i].want);
  }
  /* the digits after the first 16 do not matter */
  for (char c = '0'; c <= '9'; c++) {
    make_sha(s, 7000, c);
    assert_int_equal(pf_split_of(s), PF_SPLIT_VALIDATION);
  }
}

static void test_proportions(void **state) {
  enum { N = 100000 };
  long count[3] = {0, 0, 0};
  for (int i = 0; i < N; i++) {
    char msg[32], hex[PF_SHA256_HEX_LEN + 1];
    uint8_t d[PF_SHA256_LEN];
    int n = snprintf(msg, sizeof msg, "sample-%d", i);
    assert_int_equal(pf_sha256((const uint8_t *)msg, (size_t)n, d), PF_OK);
    pf_hex(d, sizeof d, hex);
    int sp = pf_split_of(hex);
    assert_true(sp >= 0 && sp <= 2);
    count[sp]++;
    /* deterministic: the same id gives the same split */
    assert_int_equal(pf_split_of(hex), sp);
  }
  const double want[3] = {0.70, 0.15, 0.15};
  for (int k = 0; k < 3; k++) {
    double got = (double)count[k] / N;
    printf("split %s: %.4f (want %.2f)\n", pf_split_name(k), got, want[k]);
    if (fabs(got - want[k]) > 0.01) fail_msg("split %s: %.4f of %d hashes, want %.2f +- 0.01", pf_split_name(k), got, N, want[k]);
  }
}

static void test_bad_ids(void **state) {
  char s[80];
  make_sha(s, 1, 'a');
  assert_int_equal(pf_split_of(s), PF_SPLIT_TRAIN);
  assert_int_equal(pf_split_of(NULL), PF_EINVAL);
  assert_int_equal(pf_split_of(""), PF_EINVAL);
  s[0] = 'A'; /* upper case */
  assert_int_equal(pf_split_of(s), PF_EINVAL);
  s[0] = 'g';
  assert_int_equal(pf_split_of(s), PF_EINVAL);
  make_sha(s, 1, 'a');
  s[63] = '\0'; /* 63 characters */
  assert_int_equal(pf_split_of(s), PF_EINVAL);
  make_sha(s, 1, 'a');
  strcat(s, "0"); /* 65 characters */
  assert_int_equal(pf_split_of(s), PF_EINVAL);
  assert_int_equal(PF_EINVAL, -1);
}

static void test_names(void **state) {
  assert_string_equal(pf_split_name(PF_SPLIT_TRAIN), "train");
  assert_string_equal(pf_split_name(PF_SPLIT_VALIDATION), "validation");
  assert_string_equal(pf_split_name(PF_SPLIT_TEST), "test");
  assert_null(pf_split_name(-1));
  assert_null(pf_split_name(3));
  for (int i = 0; i < 3; i++) assert_int_equal(pf_split_parse(pf_split_name(i)), i);
  assert_int_equal(pf_split_parse("Train"), -1);
  assert_int_equal(pf_split_parse("all"), -1);
  assert_int_equal(pf_split_parse(""), -1);
  assert_int_equal(pf_split_parse(NULL), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_boundaries),
    cmocka_unit_test(test_proportions),
    cmocka_unit_test(test_bad_ids),
    cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
