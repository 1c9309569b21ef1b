/* fuzz_wire: libFuzzer target for the pipe frame decoder (pf_wire).
 * Feeds the input to pf_wire_frame as a byte stream, checks each answer
 * against the frame layout of pf_wire.h, and round-trips frames through
 * pf_wire_pack; a violation abort()s so the fuzzer reports it.
 * Built by `make fuzz`, run by `make fuzz-run`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_wire: invariant violated (fuzz_wire.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What pf_wire.h says the answer for buf[0..len) must be. */
static long expected(const uint8_t *buf, size_t len) {
  if (len < PF_WIRE_HEADER_SIZE) return 0;
  if (le32(buf) != PF_WIRE_MAGIC) return -1;
  uint32_t total = le32(buf + 4), type = le32(buf + 8);
  if (total < PF_WIRE_HEADER_SIZE || total > PF_WIRE_MAX_FRAME) return -1;
  if (type < PF_WIRE_REQ || type > PF_WIRE_LAST) return -1;
  return len < total ? 0 : (long)total;
}

/* One call; outputs are written only for a whole frame, and then match it. */
static long frame_checked(const uint8_t *buf, size_t len) {
  uint32_t type = 0xdeadbeef;
  uint64_t id = 0x0123456789abcdefull;
  const uint8_t *payload = (const uint8_t *)&id;
  size_t n = (size_t)-1;
  long r = pf_wire_frame(buf, len, &type, &id, &payload, &n);
  CHECK(r == expected(buf, len));
  if (r <= 0) {
    CHECK(type == 0xdeadbeef && id == 0x0123456789abcdefull && n == (size_t)-1);
    return r;
  }
  CHECK((size_t)r <= len && r >= PF_WIRE_HEADER_SIZE && r <= PF_WIRE_MAX_FRAME);
  CHECK(type == le32(buf + 8));
  CHECK(id == ((uint64_t)le32(buf + 16) | (uint64_t)le32(buf + 20) << 32));
  CHECK(payload == buf + PF_WIRE_HEADER_SIZE && n == (size_t)r - PF_WIRE_HEADER_SIZE);

  /* packing the same fields gives the same bytes (reserved is written 0) */
  static uint8_t again[PF_WIRE_MAX_FRAME];
  long p = pf_wire_pack(again, sizeof again, type, id, payload, n);
  CHECK(p == r);
  CHECK(memcmp(again, buf, 12) == 0 && memcmp(again + 16, buf + 16, (size_t)r - 16) == 0);
  CHECK(le32(again + 12) == 0);
  /* every proper prefix asks for more bytes */
  for (size_t k = 0; k < (size_t)r; k += 1 + k / 8) CHECK(pf_wire_frame(buf, k, &type, &id, &payload, &n) == 0);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the input as a stream of frames, consumed as the parent does */
  size_t off = 0;
  long r;
  while (off < size && (r = frame_checked(data + off, size - off)) > 0) off += (size_t)r;
  CHECK(off <= size);

  /* the input as a payload: pack, then decode what was packed */
  if (size >= 1) {
    static uint8_t buf[PF_WIRE_MAX_FRAME + 64];
    uint32_t type = data[0] % 6;                   /* 0 and 5 are not message types */
    uint64_t id = size >= 9 ? ((uint64_t)le32(data + 1) | (uint64_t)le32(data + 5) << 32) : size;
    size_t cap = (data[0] & 0x80) ? sizeof buf : (size_t)data[0] * 40; /* sometimes too small */
    const uint8_t *pay = data + (size >= 9 ? 9 : 1);
    size_t n = size - (size_t)(pay - data);
    long p = pf_wire_pack(buf, cap, type, id, pay, n);
    size_t total = PF_WIRE_HEADER_SIZE + n;
    if (total > cap || total > PF_WIRE_MAX_FRAME) {
      CHECK(p == -1);
    } else {
      CHECK(p == (long)total);
      uint32_t t2 = 0;
      uint64_t id2 = 0;
      const uint8_t *pay2 = NULL;
      size_t n2 = 0;
      long f = pf_wire_frame(buf, (size_t)p, &t2, &id2, &pay2, &n2);
      if (type >= PF_WIRE_REQ && type <= PF_WIRE_LAST) {
        CHECK(f == p && t2 == type && id2 == id && n2 == n);
        CHECK(n == 0 || memcmp(pay2, pay, n) == 0);
      } else {
        CHECK(f == -1);
      }
    }
  }
  return 0;
}
