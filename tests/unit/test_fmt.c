/* Unit tests of pf_fmt: shortest round-trip doubles, JSON strings, CSV fields. */
#include "pf_test.h"

#include <float.h>
#include <math.h>

#include "pf_fmt.h"

/* ---- doubles ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* pf_fmt_double(v) parses back to exactly v (bit for bit, so -0 too) and is
 * the first of %.15g/%.16g/%.17g that does. */
static void check_roundtrip(double v) {
  char buf[32], want[40];
  int len = pf_fmt_double(v, buf, sizeof buf);
  assert_true(len > 0 && len < (int)sizeof buf);
  assert_int_equal(len, (int)strlen(buf));
  char *end;
  double back = strtod(buf, &end);
  assert_true(*end == '\0');
  if (memcmp(&back, &v, sizeof v) != 0) fail_msg("%.17g printed as %s, read back as %.17g", v, buf, back);
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(want, sizeof want, "%.*g", prec, v);
    if (strtod(want, NULL) == v) break;
  }
  if (v == 0.0) snprintf(want, sizeof want, "%s", signbit(v) ? "-0" : "0");
  if (strcmp(buf, want) != 0) fail_msg("%.17g printed as %s, the shortest form is %s", v, buf, want);
}

static void test_double_random(void **state) {
  int n = 0;
  for (int i = 0; i < 200000; i++) {
    double v = from_bits(rng());
    if (!isfinite(v)) continue;
    check_roundtrip(v);
    n++;
  }
  /* values of the feature vector's kind: ratios in [0, 1] */
  for (int i = 0; i < 100000; i++) {
    double v = (double)(rng() >> 11) / 9007199254740992.0;
    check_roundtrip(v);
    check_roundtrip((double)(rng() % 1000) / (double)(1 + rng() % 1000));
    check_roundtrip((double)(rng() % 256) / 255.0);
  }
  printf("%d random bit patterns and 300000 ratios round-trip\n", n);
}

static void expect_fmt(double v, const char *want) {
  char buf[32];
  int len = pf_fmt_double(v, buf, sizeof buf);
  if (strcmp(buf, want) != 0) fail_msg("%.17g printed as %s, expected %s", v, buf, want);
  assert_int_equal(len, (int)strlen(want));
  check_roundtrip(v);
}

static void test_double_values(void **state) {
  expect_fmt(0.0, "0");
  expect_fmt(-0.0, "-0");
  expect_fmt(0.5, "0.5");
  expect_fmt(1.0, "1");
  expect_fmt(0.1, "0.1");
  expect_fmt(0.2 + 0.1, "0.30000000000000004");
  expect_fmt(1.0 / 3.0, "0.3333333333333333");   /* 16 digits suffice */
  expect_fmt(2.0 / 3.0, "0.6666666666666666");
  expect_fmt(0.1 * 3, "0.30000000000000004");
  expect_fmt(1.0 / 255.0, "0.00392156862745098"); /* 15 digits suffice */
  expect_fmt(100.0, "100");
  expect_fmt(-2.5, "-2.5");
  expect_fmt(1e308, "1e+308");
  expect_fmt(1e16, "1e+16");
  expect_fmt(123456789012345.0, "123456789012345");
  expect_fmt(DBL_MAX, "1.7976931348623157e+308");
  expect_fmt(-DBL_MAX, "-1.7976931348623157e+308");
  expect_fmt(DBL_MIN, "2.2250738585072014e-308");
  /* denormals */
  expect_fmt(from_bits(1), "4.94065645841247e-324"); /* any nearby decimal reads back */
  expect_fmt(from_bits(0x000fffffffffffffull), "2.225073858507201e-308");
  check_roundtrip(from_bits(0x0000000123456789ull));
  check_roundtrip(-from_bits(7));
  /* -0 reads back as -0 */
  char buf[32];
  pf_fmt_double(-0.0, buf, sizeof buf);
  assert_true(signbit(strtod(buf, NULL)));
}

static void test_double_nonfinite(void **state) {
  char buf[32];
  assert_int_equal(pf_fmt_double(INFINITY, buf, sizeof buf), 4);
  assert_string_equal(buf, "null");
  assert_int_equal(pf_fmt_double(-INFINITY, buf, sizeof buf), 4);
  assert_string_equal(buf, "null");
  assert_int_equal(pf_fmt_double(NAN, buf, sizeof buf), 4);
  assert_string_equal(buf, "null");
  assert_int_equal(pf_fmt_double(-NAN, buf, sizeof buf), 4);
  assert_string_equal(buf, "null");
}

/* ---- JSON strings ---- */

/* What pf_fmt_json_string writes for s; caller frees. */
static char *json(const char *s) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  assert_non_null(f);
  pf_fmt_json_string(f, s);
  fclose(f);
  return out;
}

static void expect_json(const char *in, const char *want) {
  char *got = json(in);
  if (strcmp(got, want) != 0) {
    print_error("json of \"%s\": %s, expected %s\n", in, got, want);
    free(got);
    fail();
  }
  free(got);
}

static void test_json_plain_and_escapes(void **state) {
  expect_json("", "\"\"");
  expect_json("clean/t32.exe", "\"clean/t32.exe\"");
  expect_json("a\"b", "\"a\\\"b\"");
  expect_json("C:\\Windows\\x.exe", "\"C:\\\\Windows\\\\x.exe\"");
  expect_json("\"\\\"", "\"\\\"\\\\\\\"\"");
  expect_json("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
  expect_json("\x01", "\"\\u0001\"");
  expect_json("\b\f\x1b\x1f", "\"\\u0008\\u000c\\u001b\\u001f\"");
  expect_json("\x7f", "\"\\u007f\"");
  expect_json("/ and ' stay", "\"/ and ' stay\"");
}

static void test_json_utf8(void **state) {
  /* valid UTF-8 passes through byte for byte */
  expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");                       /* U+00E9 */
  expect_json("\xc2\x80", "\"\xc2\x80\"");                             /* U+0080, smallest 2-byte */
  expect_json("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\"");                 /* U+20AC */
  expect_json("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");                     /* U+FFFF */
  expect_json("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");             /* U+1F600 */
  expect_json("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");             /* U+10FFFF */
  expect_json("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");                     /* U+0800 */
  expect_json("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                     /* U+D7FF */
  expect_json("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");             /* U+10000 */
}

static void test_json_invalid_utf8(void **state) {
  /* bytes that are not valid UTF-8 become \u00XX of their value */
  expect_json("\xff", "\"\\u00ff\"");
  expect_json("\x80", "\"\\u0080\"");                                  /* lone continuation */
  expect_json("a\xe9z", "\"a\\u00e9z\"");                              /* Latin-1 e-acute */
  expect_json("a\xc3", "\"a\\u00c3\"");                                /* cut at the end */
  expect_json("\xc3(", "\"\\u00c3(\"");
  expect_json("\xe2\x82", "\"\\u00e2\\u0082\"");                       /* cut 3-byte */
  expect_json("\xe2\x82x", "\"\\u00e2\\u0082x\"");
  expect_json("\xc0\x80", "\"\\u00c0\\u0080\"");                       /* overlong NUL */
  expect_json("\xc1\xbf", "\"\\u00c1\\u00bf\"");                       /* overlong 2-byte */
  expect_json("\xf5\x80\x80\x80", "\"\\u00f5\\u0080\\u0080\\u0080\""); /* lead byte > 0xf4 */
  expect_json("\xf8\x88\x80\x80\x80", "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"");
  /* overlong 3- and 4-byte forms, UTF-16 surrogates, code points past
   * U+10FFFF: RFC 3629 says none of these is UTF-8 */
  expect_json("\xe0\x80\x80", "\"\\u00e0\\u0080\\u0080\"");
  expect_json("\xe0\x9f\xbf", "\"\\u00e0\\u009f\\u00bf\"");
  expect_json("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
  expect_json("\xed\xbf\xbf", "\"\\u00ed\\u00bf\\u00bf\"");
  expect_json("\xf0\x80\x80\x80", "\"\\u00f0\\u0080\\u0080\\u0080\"");
  expect_json("\xf0\x8f\xbf\xbf", "\"\\u00f0\\u008f\\u00bf\\u00bf\"");
  expect_json("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"");
  /* a valid sequence right after an invalid byte is kept */
  expect_json("\xff\xc3\xa9", "\"\\u00ff\xc3\xa9\"");
}

/* ---- CSV fields ---- */

static char *csv(const char *s) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  assert_non_null(f);
  pf_fmt_csv_field(f, s);
  fclose(f);
  return out;
}

static void expect_csv(const char *in, const char *want) {
  char *got = csv(in);
  if (strcmp(got, want) != 0) {
    print_error("csv of \"%s\": [%s], expected [%s]\n", in, got, want);
    free(got);
    fail();
  }
  free(got);
}

static void test_csv(void **state) {
  expect_csv("", "");
  expect_csv("clean", "clean");
  expect_csv(" spaced out ", " spaced out ");
  expect_csv("it's", "it's");
  expect_csv("a;b", "a;b");
  expect_csv("a,b", "\"a,b\"");
  expect_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
  expect_csv("\"", "\"\"\"\"");
  expect_csv("two\nlines", "\"two\nlines\"");
  expect_csv("cr\rhere", "\"cr\rhere\"");
  expect_csv(",\",\r\n", "\",\"\",\r\n\"");
  expect_csv("caf\xc3\xa9", "caf\xc3\xa9");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_double_random),
    cmocka_unit_test(test_double_values),
    cmocka_unit_test(test_double_nonfinite),
    cmocka_unit_test(test_json_plain_and_escapes),
    cmocka_unit_test(test_json_utf8),
    cmocka_unit_test(test_json_invalid_utf8),
    cmocka_unit_test(test_csv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
