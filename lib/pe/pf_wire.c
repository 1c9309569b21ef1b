#include "pf_wire.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

long pf_wire_pack(uint8_t *buf, size_t cap, uint32_t type, uint64_t id, const void *payload, size_t n) {
  if (n > PF_WIRE_MAX_FRAME - PF_WIRE_HEADER_SIZE) return -1; /* before the sum can wrap */
  size_t total = PF_WIRE_HEADER_SIZE + n;
  if (total > cap) return -1;
  put32(buf, PF_WIRE_MAGIC);
  put32(buf + 4, (uint32_t)total);
  put32(buf + 8, type);
  put32(buf + 12, 0);
  put32(buf + 16, (uint32_t)id);
  put32(buf + 20, (uint32_t)(id >> 32));
  if (n) memcpy(buf + PF_WIRE_HEADER_SIZE, payload, n);
  return (long)total;
}

long pf_wire_frame(const uint8_t *buf, size_t len, uint32_t *type, uint64_t *id, const uint8_t **payload, size_t *n) {
  if (len < PF_WIRE_HEADER_SIZE) return 0;
  if (get32(buf) != PF_WIRE_MAGIC) return -1;
  uint32_t total = get32(buf + 4);
  uint32_t t = get32(buf + 8);
  if (total < PF_WIRE_HEADER_SIZE || total > PF_WIRE_MAX_FRAME) return -1;
  if (t < PF_WIRE_REQ || t > PF_WIRE_LAST) return -1;
  if (len < total) return 0;
  *type = t;
  *id = (uint64_t)get32(buf + 16) | (uint64_t)get32(buf + 20) << 32;
  *payload = buf + PF_WIRE_HEADER_SIZE;
  *n = total - PF_WIRE_HEADER_SIZE;
  return (long)total;
}
