/* Unit tests of pf_csvrow: one dataset.csv row from bytes (label, values,
 * quoting, strict numbers, and every malformed row refused with a reason
 * that names the value). */
#include "pf_test.h"

#include "pf_csvrow.h"
#include "pf_err.h"
#include "pf_fmt.h"

#include <float.h>
#include <math.h>

typedef struct {
  int rc;
  char label[128];
  double v[600];
  size_t n;
  char err[256];
} parsed;

/* Parses s with room for cap values (cap <= 600) and a 128-byte label. */
static parsed *parse_cap(const char *s, size_t cap) {
  static parsed p;
  memset(&p, 0x55, sizeof p);
  p.rc = pf_csvrow_parse((const uint8_t *)s, strlen(s), p.label, sizeof p.label, p.v, cap, &p.n, p.err, sizeof p.err);
  return &p;
}

static parsed *parse(const char *s) { return parse_cap(s, 600); }

/* The row is refused (PF_EINVAL) and the reason contains want. */
#define assert_refused(s, want)                                                                 \
  do {                                                                                          \
    parsed *p_ = parse(s);                                                                      \
    if (p_->rc != PF_EINVAL) fail_msg("'%s': rc %d, want PF_EINVAL", (s), p_->rc);              \
    if (!strstr(p_->err, (want))) fail_msg("'%s': reason '%s' lacks '%s'", (s), p_->err, (want)); \
  } while (0)

static void test_simple(void **state) {
  parsed *p = parse("clean,1,0.5,-2e3,0");
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "clean");
  assert_int_equal(p->n, 4);
  assert_true(p->v[0] == 1.0 && p->v[1] == 0.5 && p->v[2] == -2000.0 && p->v[3] == 0.0);
  assert_string_equal(p->err, "");

  p = parse("1,3");
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "1");
  assert_int_equal(p->n, 1);
  assert_true(p->v[0] == 3.0);

  p = parse("onlylabel"); /* no values: the caller judges the width */
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "onlylabel");
  assert_int_equal(p->n, 0);

  p = parse(",1"); /* an empty label is the caller's business too */
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "");
  assert_int_equal(p->n, 1);
}

static void test_number_forms(void **state) {
  static const struct {
    const char *s;
    double v;
  } good[] = {
    {"0", 0},        {"-0", -0.0},   {"+7", 7},          {"5.", 5},           {".5", 0.5},
    {"-.25", -0.25}, {"1e3", 1000},  {"1E+03", 1000},    {"2.5e-3", 0.0025},  {"007", 7},
    {"1e-400", 0},   {"123456789012345678901234567890", 123456789012345678901234567890.0},
    {"1.7976931348623157e308", DBL_MAX},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    double v = -1;
    if (pf_csvrow_number((const uint8_t *)good[i].s, strlen(good[i].s), &v) != PF_OK)
      fail_msg("'%s' refused", good[i].s);
    if (v != good[i].v) fail_msg("'%s' -> %.17g, want %.17g", good[i].s, v, good[i].v);
  }
  double v;
  assert_int_equal(pf_csvrow_number((const uint8_t *)"-0", 2, &v), PF_OK);
  assert_true(signbit(v));
  static const char *const bad[] = {"",    " 1", "1 ",   "1,", "0x10", "0X1p3", "1.2.3", "1e",    "e5",  ".",
                                    "+",   "-",  "+-1",  "1e+", "1e5.", "nan",   "NaN",   "inf",   "-inf", "Infinity",
                                    "1e999", "-1e999", "1_000", "1d", "\xe2\x88\x92" "1", "\"1\"", "1\n", "\t1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double w = 42;
    if (pf_csvrow_number((const uint8_t *)bad[i], strlen(bad[i]), &w) == PF_OK) fail_msg("'%s' accepted", bad[i]);
    assert_true(w == 42); /* untouched on refusal */
  }
  /* a number of exactly the maximal length is fine; one byte more is not */
  char big[PF_CSVROW_MAX_NUMBER + 2];
  memset(big, '0', sizeof big);
  big[0] = '1';
  assert_int_equal(pf_csvrow_number((const uint8_t *)big, PF_CSVROW_MAX_NUMBER, &v), PF_OK); /* 1e255 */
  assert_true(v == 1e255);
  memset(big, '0', sizeof big);
  assert_int_equal(pf_csvrow_number((const uint8_t *)big, PF_CSVROW_MAX_NUMBER, &v), PF_OK);
  assert_true(v == 0);
  assert_int_equal(pf_csvrow_number((const uint8_t *)big, PF_CSVROW_MAX_NUMBER + 1, &v), PF_EINVAL);
  assert_int_equal(pf_csvrow_number(NULL, 0, &v), PF_EINVAL);
}

static void test_non_finite_reasons(void **state) {
  assert_refused("clean,1,nan,3", "value 2 is not finite: 'nan'");
  assert_refused("clean,inf", "value 1 is not finite: 'inf'");
  assert_refused("clean,1,2,-Infinity", "value 3 is not finite");
  assert_refused("clean,NAN", "not finite");
  assert_refused("clean,0,1e999", "value 2 is out of range: '1e999'");
  assert_refused("clean,-1e400", "out of range");
  assert_refused("clean,1,abc,2", "value 2 is not a number: 'abc'");
  assert_refused("clean,0x1A", "value 1 is not a number");
  assert_refused("clean, 1", "value 1 is not a number: ' 1'");
  assert_refused("clean,1 ", "not a number");
}

static void test_empty(void **state) {
  assert_refused("", "empty line");
  assert_refused("clean,1,,2", "value 2 is empty");
  assert_refused("clean,1,2,", "value 3 is empty");
  assert_refused("clean,", "value 1 is empty");
  assert_refused("clean,\"\"", "value 1 is empty");
}

static void test_quoting(void **state) {
  parsed *p = parse("\"mal,ware \"\"x\"\"\",\"1.5\",2");
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "mal,ware \"x\"");
  assert_int_equal(p->n, 2);
  assert_true(p->v[0] == 1.5 && p->v[1] == 2);

  p = parse("\"\",1"); /* a quoted empty label */
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "");

  p = parse("a\"b,1"); /* a quote inside an unquoted field is a byte like any other */
  assert_int_equal(p->rc, PF_OK);
  assert_string_equal(p->label, "a\"b");

  assert_refused("\"clean,1,2", "the label has no closing quote");
  assert_refused("\"clean\"x,1", "the label has bytes after its closing quote");
  assert_refused("clean,\"1", "value 1 has no closing quote");
  assert_refused("clean,1,\"2\"3", "value 2 has bytes after its closing quote");
  assert_refused("clean,\"1 \"", "value 1 is not a number");
}

static void test_control_bytes(void **state) {
  static const char *const rows[] = {"cl\rean,1", "clean,1\r", "clean,1\n", "\"a\nb\",1", "clean,\"1\r\""};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    parsed *p = parse(rows[i]);
    assert_int_equal(p->rc, PF_EINVAL);
    assert_non_null(strstr(p->err, "line break"));
  }
  const uint8_t nul[] = {'a', 0, 'b', ',', '1'};
  char label[16], err[128];
  double v[2];
  size_t n;
  assert_int_equal(pf_csvrow_parse(nul, sizeof nul, label, sizeof label, v, 2, &n, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "NUL"));
  assert_string_equal(label, ""); /* terminated even on a label error */
  const uint8_t nul2[] = {'a', ',', '1', 0};
  assert_int_equal(pf_csvrow_parse(nul2, sizeof nul2, label, sizeof label, v, 2, &n, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "value 1 holds a NUL byte"));
}

static void test_label_cap(void **state) {
  char label[8], err[128];
  double v[4];
  size_t n;
  const char *ok = "1234567,1";
  assert_int_equal(pf_csvrow_parse((const uint8_t *)ok, strlen(ok), label, sizeof label, v, 4, &n, err, sizeof err),
                   PF_OK);
  assert_string_equal(label, "1234567");
  const char *bad = "12345678,1";
  assert_int_equal(pf_csvrow_parse((const uint8_t *)bad, strlen(bad), label, sizeof label, v, 4, &n, err, sizeof err),
                   PF_EINVAL);
  assert_string_equal(err, "label longer than 7 bytes");
  assert_int_equal(strlen(label), 7); /* terminated within its room */
  const char *quoted = "\"12\"\"4567\",1"; /* 7 bytes once unquoted */
  assert_int_equal(pf_csvrow_parse((const uint8_t *)quoted, strlen(quoted), label, sizeof label, v, 4, &n, err,
                                   sizeof err), PF_OK);
  assert_string_equal(label, "12\"4567");
  char one[1];
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,1", 3, one, 1, v, 4, &n, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse((const uint8_t *)",1", 2, one, 1, v, 4, &n, err, sizeof err), PF_OK);
}

static void test_count_past_cap(void **state) {
  parsed *p = parse_cap("x,1,2,3,4,5", 3);
  assert_int_equal(p->rc, PF_OK);
  assert_int_equal(p->n, 5);
  assert_true(p->v[0] == 1 && p->v[1] == 2 && p->v[2] == 3);
  assert_true(p->v[3] != 4); /* nothing written past cap (0x55 fill) */
  p = parse_cap("x,1,2,3,4,nan", 3); /* values past cap are still checked */
  assert_int_equal(p->rc, PF_EINVAL);
  assert_non_null(strstr(p->err, "value 5 is not finite"));
  p = parse_cap("x,1,2", 0);
  assert_int_equal(p->rc, PF_OK);
  assert_int_equal(p->n, 2);
  size_t n = 9;
  char label[4];
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"x,1", 3, label, sizeof label, NULL, 0, &n, NULL, 0), PF_OK);
  assert_int_equal(n, 1);
}

static void test_limits(void **state) {
  /* a line of exactly PF_CSVROW_MAX_LINE bytes is read; one more is not */
  size_t len = PF_CSVROW_MAX_LINE + 1;
  uint8_t *buf = malloc(len);
  assert_non_null(buf);
  memset(buf, '0', len);
  buf[0] = 'x';
  for (size_t i = 1; i + 1 < len; i += 2) buf[i] = ',';
  char label[16], err[128];
  double v[4];
  size_t n;
  int rc = pf_csvrow_parse(buf, len - 1, label, sizeof label, v, 4, &n, err, sizeof err);
  /* 1 MiB of ",0" is more than PF_CSVROW_MAX_FIELDS fields */
  assert_int_equal(rc, PF_ELIMIT);
  assert_non_null(strstr(err, "more than 65536 fields"));
  assert_int_equal(pf_csvrow_parse(buf, len, label, sizeof label, v, 4, &n, err, sizeof err), PF_ELIMIT);
  assert_non_null(strstr(err, "line longer than 1048576 bytes"));

  /* exactly PF_CSVROW_MAX_FIELDS fields: fine */
  size_t m = 1 + 2 * (PF_CSVROW_MAX_FIELDS - 1);
  assert_int_equal(pf_csvrow_parse(buf, m, label, sizeof label, v, 4, &n, err, sizeof err), PF_OK);
  assert_int_equal(n, PF_CSVROW_MAX_FIELDS - 1);
  assert_int_equal(pf_csvrow_parse(buf, m + 2, label, sizeof label, v, 4, &n, err, sizeof err), PF_ELIMIT);

  /* long numbers inside a line */
  memset(buf, '1', len);
  memcpy(buf, "x,", 2);
  assert_int_equal(pf_csvrow_parse(buf, 2 + PF_CSVROW_MAX_NUMBER + 1, label, sizeof label, v, 4, &n, err, sizeof err),
                   PF_EINVAL);
  assert_non_null(strstr(err, "value 1 is longer than 256 bytes"));
  free(buf);
}

static void test_bad_arguments(void **state) {
  char label[8], err[64];
  double v[2];
  size_t n;
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,1", 3, NULL, 8, v, 2, &n, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,1", 3, label, 0, v, 2, &n, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,1", 3, label, 8, NULL, 2, &n, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,1", 3, label, 8, v, 2, NULL, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse(NULL, 3, label, 8, v, 2, &n, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_csvrow_parse(NULL, 0, label, 8, v, 2, &n, err, sizeof err), PF_EINVAL); /* empty line */
  assert_string_equal(err, "empty line");
  char tiny[6];
  assert_int_equal(pf_csvrow_parse((const uint8_t *)"a,nan", 5, label, 8, v, 2, &n, tiny, sizeof tiny), PF_EINVAL);
  assert_string_equal(tiny, "value"); /* cut, terminated */
}

/* What `pefleet encode` writes (pf_fmt_double: shortest round trip)
 * parses back to exactly the same doubles. */
static void test_roundtrip_486(void **state) {
  enum { DIM = 486 };
  double want[DIM];
  char *line = malloc(DIM * 40 + 16), num[40];
  assert_non_null(line);
  size_t off = (size_t)sprintf(line, "malicious");
  for (int i = 0; i < DIM; i++) {
    want[i] = i % 5 == 0 ? (double)(i % 2) : sin(i * 0.7) * pow(10.0, (double)(i % 40) - 20.0);
    if (i == 7) want[i] = 0.1;
    if (i == 8) want[i] = 4.9406564584124654e-324; /* smallest denormal */
    if (i == 9) want[i] = -DBL_MAX;
    pf_fmt_double(want[i], num, sizeof num);
    off += (size_t)sprintf(line + off, ",%s", num);
  }
  static parsed p;
  p.rc = pf_csvrow_parse((const uint8_t *)line, off, p.label, sizeof p.label, p.v, DIM, &p.n, p.err, sizeof p.err);
  assert_int_equal(p.rc, PF_OK);
  assert_int_equal(p.n, DIM);
  assert_string_equal(p.label, "malicious");
  for (int i = 0; i < DIM; i++)
    if (p.v[i] != want[i]) fail_msg("value %d: %.17g, want %.17g", i + 1, p.v[i], want[i]);
  free(line);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_simple),         cmocka_unit_test(test_number_forms),
    cmocka_unit_test(test_non_finite_reasons), cmocka_unit_test(test_empty),
    cmocka_unit_test(test_quoting),        cmocka_unit_test(test_control_bytes),
    cmocka_unit_test(test_label_cap),      cmocka_unit_test(test_count_past_cap),
    cmocka_unit_test(test_limits),         cmocka_unit_test(test_bad_arguments),
    cmocka_unit_test(test_roundtrip_486),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
