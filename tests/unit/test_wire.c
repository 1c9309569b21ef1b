/* Unit tests of the pipe protocol framing (pf_wire). */
#include "pf_test.h"

#include "pf_pe.h"
#include "pf_wire.h"

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static void test_pack_layout(void **state) {
  uint8_t buf[64];
  const char *path = "/tmp/x.exe";
  long n = pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 0x0123456789abcdefull, path, strlen(path));
  assert_int_equal(n, PF_WIRE_HEADER_SIZE + 10);
  assert_memory_equal(buf, "1WFP", 4); /* 0x50465731 little-endian */
  assert_int_equal(pf_rd32(buf), PF_WIRE_MAGIC);
  assert_int_equal(pf_rd32(buf + 4), (uint32_t)n);
  assert_int_equal(pf_rd32(buf + 8), PF_WIRE_REQ);
  assert_int_equal(pf_rd32(buf + 12), 0);
  assert_true(pf_rd64(buf + 16) == 0x0123456789abcdefull);
  assert_memory_equal(buf + 24, path, 10);
}

static void test_roundtrip(void **state) {
  static uint8_t buf[PF_WIRE_MAX_FRAME];
  uint32_t type;
  uint64_t id;
  const uint8_t *payload;
  size_t n;

  /* a request with a path */
  const char *path = "../shared/corpus/clean/t32.exe";
  long len = pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 42, path, strlen(path));
  assert_true(len > 0);
  assert_int_equal(pf_wire_frame(buf, (size_t)len, &type, &id, &payload, &n), len);
  assert_int_equal(type, PF_WIRE_REQ);
  assert_true(id == 42);
  assert_int_equal(n, strlen(path));
  assert_memory_equal(payload, path, n);
  assert_ptr_equal(payload, buf + PF_WIRE_HEADER_SIZE);

  /* a vector of 486 doubles, id with the high bits set */
  double vec[PF_ERGO486_DIM];
  for (int i = 0; i < PF_ERGO486_DIM; i++) vec[i] = i / 485.0;
  len = pf_wire_pack(buf, sizeof buf, PF_WIRE_VEC, UINT64_MAX - 1, vec, sizeof vec);
  assert_int_equal(len, PF_WIRE_HEADER_SIZE + 8 * PF_ERGO486_DIM);
  assert_int_equal(pf_wire_frame(buf, (size_t)len, &type, &id, &payload, &n), len);
  assert_int_equal(type, PF_WIRE_VEC);
  assert_true(id == UINT64_MAX - 1);
  assert_int_equal(n, sizeof vec);
  assert_memory_equal(payload, vec, sizeof vec);

  /* an empty payload (NULL is allowed with 0 bytes) */
  len = pf_wire_pack(buf, sizeof buf, PF_WIRE_ERR, 0, NULL, 0);
  assert_int_equal(len, PF_WIRE_HEADER_SIZE);
  assert_int_equal(pf_wire_frame(buf, (size_t)len, &type, &id, &payload, &n), PF_WIRE_HEADER_SIZE);
  assert_int_equal(type, PF_WIRE_ERR);
  assert_int_equal(n, 0);

  /* every type is accepted */
  for (uint32_t t = PF_WIRE_REQ; t <= PF_WIRE_LAST; t++) {
    len = pf_wire_pack(buf, sizeof buf, t, t, "x", 1);
    assert_int_equal(pf_wire_frame(buf, (size_t)len, &type, &id, &payload, &n), len);
    assert_int_equal(type, t);
  }
}

static void test_stream(void **state) {
  /* two frames back to back, read from a stream one prefix at a time */
  uint8_t buf[256];
  uint8_t hash[40];
  for (int i = 0; i < 40; i++) hash[i] = (uint8_t)(0xa0 + i);
  long a = pf_wire_pack(buf, sizeof buf, PF_WIRE_HASH, 7, hash, sizeof hash);
  long b = pf_wire_pack(buf + a, sizeof buf - (size_t)a, PF_WIRE_ERR, 8, "\xfc\xff\xff\xffnot a PE", 12);
  assert_true(a > 0 && b > 0);
  uint32_t type;
  uint64_t id;
  const uint8_t *payload;
  size_t n;
  for (long k = 0; k < a; k++)
    if (pf_wire_frame(buf, (size_t)k, &type, &id, &payload, &n) != 0) fail_msg("prefix of %ld bytes is not partial", k);
  assert_int_equal(pf_wire_frame(buf, (size_t)(a + b), &type, &id, &payload, &n), a);
  assert_int_equal(type, PF_WIRE_HASH);
  assert_true(id == 7);
  assert_memory_equal(payload, hash, sizeof hash);
  for (long k = 0; k < b; k++)
    assert_int_equal(pf_wire_frame(buf + a, (size_t)k, &type, &id, &payload, &n), 0);
  assert_int_equal(pf_wire_frame(buf + a, (size_t)b, &type, &id, &payload, &n), b);
  assert_int_equal(type, PF_WIRE_ERR);
  assert_true(id == 8);
  assert_int_equal(n, 12);
  assert_memory_equal(payload + 4, "not a PE", 8);
}

static void test_pack_limits(void **state) {
  static uint8_t buf[PF_WIRE_MAX_FRAME + 64];
  static uint8_t payload[PF_WIRE_MAX_FRAME];
  memset(payload, 0x5a, sizeof payload);
  /* does not fit the caller's buffer */
  assert_int_equal(pf_wire_pack(buf, PF_WIRE_HEADER_SIZE + 9, PF_WIRE_REQ, 1, payload, 10), -1);
  assert_int_equal(pf_wire_pack(buf, PF_WIRE_HEADER_SIZE - 1, PF_WIRE_ERR, 1, NULL, 0), -1);
  assert_int_equal(pf_wire_pack(buf, PF_WIRE_HEADER_SIZE + 10, PF_WIRE_REQ, 1, payload, 10), PF_WIRE_HEADER_SIZE + 10);
  /* the largest frame, and one byte more */
  size_t maxp = PF_WIRE_MAX_FRAME - PF_WIRE_HEADER_SIZE;
  assert_int_equal(pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 1, payload, maxp), PF_WIRE_MAX_FRAME);
  uint32_t type;
  uint64_t id;
  const uint8_t *p;
  size_t n;
  assert_int_equal(pf_wire_frame(buf, PF_WIRE_MAX_FRAME, &type, &id, &p, &n), PF_WIRE_MAX_FRAME);
  assert_int_equal(n, maxp);
  assert_int_equal(pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 1, payload, maxp + 1), -1);
  assert_int_equal(pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 1, payload, SIZE_MAX - 8), -1);
}

static void test_frame_rejects(void **state) {
  uint8_t buf[128];
  uint32_t type;
  uint64_t id;
  const uint8_t *p;
  size_t n;
  long len = pf_wire_pack(buf, sizeof buf, PF_WIRE_REQ, 3, "abc", 3);
  assert_true(len > 0);

  uint8_t bad[128];
  /* bad magic */
  memcpy(bad, buf, sizeof bad);
  bad[0] ^= 1;
  assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
  assert_int_equal(pf_wire_frame(bad, PF_WIRE_HEADER_SIZE, &type, &id, &p, &n), -1);
  /* lengths out of bounds: below the header, above the largest frame */
  memcpy(bad, buf, sizeof bad);
  put32(bad + 4, PF_WIRE_HEADER_SIZE - 1);
  assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
  put32(bad + 4, 0);
  assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
  put32(bad + 4, PF_WIRE_MAX_FRAME + 1);
  assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
  put32(bad + 4, UINT32_MAX);
  assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
  /* an oversized length is refused from the header alone, not waited for */
  assert_int_equal(pf_wire_frame(bad, PF_WIRE_HEADER_SIZE, &type, &id, &p, &n), -1);
  /* unknown types */
  const uint32_t types[] = {0, PF_WIRE_LAST + 1, 0x100, UINT32_MAX};
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
    memcpy(bad, buf, sizeof bad);
    put32(bad + 8, types[k]);
    assert_int_equal(pf_wire_frame(bad, (size_t)len, &type, &id, &p, &n), -1);
    assert_int_equal(pf_wire_frame(bad, PF_WIRE_HEADER_SIZE, &type, &id, &p, &n), -1);
  }
  /* the good frame still passes */
  assert_int_equal(pf_wire_frame(buf, (size_t)len, &type, &id, &p, &n), len);
  /* extra bytes after a frame are left for the next call */
  assert_int_equal(pf_wire_frame(buf, sizeof buf, &type, &id, &p, &n), len);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pack_layout),
    cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_stream),
    cmocka_unit_test(test_pack_limits),
    cmocka_unit_test(test_frame_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
