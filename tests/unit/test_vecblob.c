/* Unit tests of pf_vecblob: the stored form of a feature vector (round trip
 * at float32 precision, and every malformed blob refused with a reason). */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_vecblob.h"

#include <float.h>
#include <math.h>

#define DIM 486

static void fill(double *v, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) v[i] = sin((double)i * 0.37) * pow(10.0, (double)(i % 13) - 6.0);
}

static void test_size(void **state) {
  assert_int_equal(pf_vecblob_size(0), PF_VECBLOB_HEADER);
  assert_int_equal(pf_vecblob_size(1), PF_VECBLOB_HEADER + 4);
  assert_int_equal(pf_vecblob_size(DIM), PF_VECBLOB_HEADER + 4 * DIM);
}

static void test_layout(void **state) {
  const double v[2] = {1.0, -2.5};
  uint8_t buf[64];
  long n = pf_vecblob_encode(v, 2, 0x1234, buf, sizeof buf);
  assert_int_equal(n, PF_VECBLOB_HEADER + 8);
  const uint8_t want[] = {'P', 'F', 'V', '1', 1, 0, 0x34, 0x12, 2, 0, 0, 0,
                          0x00, 0x00, 0x80, 0x3f,  /* 1.0f little-endian */
                          0x00, 0x00, 0x20, 0xc0}; /* -2.5f */
  assert_memory_equal(buf, want, sizeof want);
}

static void test_roundtrip(void **state) {
  double v[DIM], out[DIM];
  fill(v, DIM);
  v[0] = 0.0;
  v[1] = -0.0;
  v[2] = FLT_MAX;
  v[3] = -FLT_MAX;
  v[4] = FLT_MIN;
  v[5] = 1e-45; /* float denormal */
  v[6] = 0.1;   /* not exact in float */
  v[7] = 16777217.0;
  uint8_t buf[PF_VECBLOB_HEADER + 4 * DIM];
  long n = pf_vecblob_encode(v, DIM, 7, buf, sizeof buf);
  assert_int_equal(n, (long)pf_vecblob_size(DIM));
  uint32_t dim = 0;
  uint16_t schema = 0;
  char err[128] = "";
  assert_int_equal(pf_vecblob_decode(buf, (size_t)n, out, DIM, &dim, &schema, err, sizeof err), PF_OK);
  assert_int_equal(dim, DIM);
  assert_int_equal(schema, 7);
  for (int i = 0; i < DIM; i++) {
    if (out[i] != (double)(float)v[i]) fail_msg("value %d: got %.17g, want %.17g", i, out[i], (double)(float)v[i]);
  }
  assert_true(out[6] != 0.1); /* float32 rounding really happened */
  assert_true(signbit(out[1]));
  /* a room of exactly dim values is enough */
  assert_int_equal(pf_vecblob_decode(buf, (size_t)n, out, DIM, &dim, &schema, err, sizeof err), PF_OK);
  /* one value */
  const double one = 3.0;
  assert_int_equal(pf_vecblob_encode(&one, 1, 0, buf, pf_vecblob_size(1)), (long)pf_vecblob_size(1));
  assert_int_equal(pf_vecblob_decode(buf, pf_vecblob_size(1), out, 1, &dim, &schema, err, sizeof err), PF_OK);
  assert_true(out[0] == 3.0 && dim == 1 && schema == 0);
}

static void test_encode_rejects(void **state) {
  double v[DIM];
  fill(v, DIM);
  uint8_t buf[PF_VECBLOB_HEADER + 4 * DIM];
  assert_int_equal(pf_vecblob_encode(v, 0, 1, buf, sizeof buf), PF_EINVAL);
  assert_int_equal(pf_vecblob_encode(v, PF_VECBLOB_MAX_DIM + 1, 1, buf, sizeof buf), PF_EINVAL);
  assert_int_equal(pf_vecblob_encode(v, DIM, 1, buf, sizeof buf - 1), PF_ELIMIT);
  assert_int_equal(pf_vecblob_encode(v, DIM, 1, buf, 0), PF_ELIMIT);
  const double bad[] = {NAN, INFINITY, -INFINITY, 1e300, -1e39, (double)FLT_MAX * 1.0000001};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    double w[DIM];
    memcpy(w, v, sizeof w);
    w[100] = bad[k];
    if (pf_vecblob_encode(w, DIM, 1, buf, sizeof buf) != PF_EINVAL) fail_msg("value %g was accepted", bad[k]);
  }
}

/* Expects decode to refuse buf[0..len) with code and a non-empty reason. */
static void expect_bad(const uint8_t *buf, size_t len, uint32_t cap, int code, const char *word) {
  double out[DIM + 8];
  uint32_t dim = 12345;
  uint16_t schema = 4321;
  char err[160] = "";
  assert_int_equal(pf_vecblob_decode(buf, len, out, cap, &dim, &schema, err, sizeof err), code);
  assert_true(err[0] != '\0');
  if (!strstr(err, word)) fail_msg("reason \"%s\" does not mention \"%s\"", err, word);
  assert_int_equal(dim, 12345); /* outputs untouched on error */
  assert_int_equal(schema, 4321);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void test_decode_rejects(void **state) {
  double v[DIM];
  fill(v, DIM);
  uint8_t good[PF_VECBLOB_HEADER + 4 * DIM + 4], bad[sizeof good];
  const size_t len = pf_vecblob_size(DIM);
  assert_int_equal(pf_vecblob_encode(v, DIM, 3, good, sizeof good), (long)len);

  /* too short for a header, empty, NULL with length 0 */
  expect_bad(good, PF_VECBLOB_HEADER - 1, DIM, PF_EINVAL, "magic");
  expect_bad(good, 0, DIM, PF_EINVAL, "magic");
  expect_bad(NULL, 0, DIM, PF_EINVAL, "magic");
  /* bad magic */
  memcpy(bad, good, len);
  bad[3] = '2';
  expect_bad(bad, len, DIM, PF_EINVAL, "magic");
  /* unknown version */
  memcpy(bad, good, len);
  bad[4] = 2;
  expect_bad(bad, len, DIM, PF_EINVAL, "version");
  memcpy(bad, good, len);
  bad[4] = 0;
  expect_bad(bad, len, DIM, PF_EINVAL, "version");
  /* size does not match the dimension: one byte short, one byte long */
  expect_bad(good, len - 1, DIM, PF_EINVAL, "size");
  memcpy(bad, good, len);
  bad[len] = 0;
  expect_bad(bad, len + 1, DIM, PF_EINVAL, "size");
  expect_bad(good, PF_VECBLOB_HEADER, DIM, PF_EINVAL, "size");
  /* dimension 0, and one beyond the hard limit */
  memcpy(bad, good, len);
  put32(bad + 8, 0);
  expect_bad(bad, PF_VECBLOB_HEADER, DIM, PF_EINVAL, "size");
  put32(bad + 8, PF_VECBLOB_MAX_DIM + 1);
  expect_bad(bad, len, DIM, PF_EINVAL, "size");
  put32(bad + 8, UINT32_MAX);
  expect_bad(bad, len, DIM, PF_EINVAL, "size");
  /* a dimension the caller has no room for */
  expect_bad(good, len, DIM - 1, PF_ELIMIT, "room");
  /* non-finite values: NaN, +inf, -inf anywhere */
  const uint32_t nonfinite[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f800001u};
  const size_t where[] = {0, 200, DIM - 1};
  for (size_t k = 0; k < sizeof nonfinite / sizeof nonfinite[0]; k++)
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
      memcpy(bad, good, len);
      put32(bad + PF_VECBLOB_HEADER + 4 * where[w], nonfinite[k]);
      expect_bad(bad, len, DIM, PF_EINVAL, "finite");
    }
  /* the good blob still decodes */
  double out[DIM];
  uint32_t dim;
  uint16_t schema;
  char err[64];
  assert_int_equal(pf_vecblob_decode(good, len, out, DIM, &dim, &schema, err, sizeof err), PF_OK);
  assert_int_equal(schema, 3);
}

/* Every truncation and every single-byte change of a small blob is either
 * refused or decodes to finite values: nothing crashes. */
static void test_decode_mutations(void **state) {
  const double v[4] = {1, 2, 3, 4};
  uint8_t good[PF_VECBLOB_HEADER + 16], bad[sizeof good];
  assert_int_equal(pf_vecblob_encode(v, 4, 9, good, sizeof good), (long)sizeof good);
  double out[4];
  uint32_t dim;
  uint16_t schema;
  char err[128];
  for (size_t n = 0; n < sizeof good; n++)
    assert_int_not_equal(pf_vecblob_decode(good, n, out, 4, &dim, &schema, err, sizeof err), PF_OK);
  for (size_t i = 0; i < sizeof good; i++)
    for (int b = 0; b < 256; b += 7) {
      memcpy(bad, good, sizeof good);
      bad[i] = (uint8_t)b;
      if (pf_vecblob_decode(bad, sizeof bad, out, 4, &dim, &schema, err, sizeof err) == PF_OK) {
        assert_int_equal(dim, 4);
        for (int k = 0; k < 4; k++) assert_true(isfinite(out[k]));
      }
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_size),
    cmocka_unit_test(test_layout),
    cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_encode_rejects),
    cmocka_unit_test(test_decode_rejects),
    cmocka_unit_test(test_decode_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
