/* fuzz_msg: libFuzzer target for the wire envelope decoder (pf_msg).
 * Decodes the input under both size caps and checks the contract of
 * pf_msg.h: a refusal leaves a one-line reason, and the cap is applied to
 * the length before any byte is read; an accepted envelope has the current
 * version and a known body, re-encodes, and decodes again to the same body.
 * A violation abort()s so the fuzzer reports it.
 * Built by `make fuzz`, run by `make fuzz-run`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_msg: invariant violated (fuzz_msg.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

static void check_reason(const char *err) {
  CHECK(err[0] != '\0');
  CHECK(strchr(err, '\n') == NULL);
}

/* 1 when m, or a message inside it, kept an unknown field numbered 0.
 * protobuf-c 1.4 accepts field number 0 when the tag varint is not minimal
 * (0x80 0x00), keeps it as an unknown field, and packs it back as 0x00,
 * which it then refuses: such an envelope cannot round-trip. pefleet never
 * forwards a decoded envelope, so that is harmless here. */
static int has_field0(const ProtobufCMessage *m) {
  for (unsigned i = 0; i < m->n_unknown_fields; i++)
    if (m->unknown_fields[i].tag == 0) return 1;
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    const char *base = (const char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(base + f->quantifier_offset);
      ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)(base + f->offset);
      for (size_t k = 0; k < n; k++)
        if (v[k] && has_field0(v[k])) return 1;
      continue;
    }
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)(base + f->quantifier_offset) != f->id)
      continue;
    const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
    if (sub && has_field0(sub)) return 1;
  }
  return 0;
}

/* One decode under one cap; returns 1 when the input was accepted. */
static int decode_checked(const uint8_t *data, size_t size, size_t max) {
  char err[256];
  memset(err, 0, sizeof err);
  Pefleet__Envelope *e = pf_msg_decode(data, size, max, err, sizeof err);
  if (!e) {
    check_reason(err);
    return 0;
  }
  CHECK(size <= max);
  CHECK(e->version == PF_PROTO_VERSION);
  CHECK(e->body_case != PEFLEET__ENVELOPE__BODY__NOT_SET);
  CHECK(strcmp(pf_msg_body_name(e), "unknown") != 0);

  /* what was accepted packs again and means the same */
  int body = (int)e->body_case;
  uint8_t *again = NULL;
  long n = pf_msg_encode(e, &again);
  CHECK(n >= 0);
  if (has_field0(&e->base)) {
    free(again);
    pf_msg_free(e);
    return 1;
  }
  char err2[256] = "";
  Pefleet__Envelope *e2 = pf_msg_decode(again, (size_t)n, PF_MSG_MAX_SAMPLE, err2, sizeof err2);
  if (!e2) fprintf(stderr, "fuzz_msg: re-encoded %s envelope refused: %s\n", pf_msg_body_name(e), err2);
  CHECK(e2 != NULL);
  CHECK((int)e2->body_case == body);
  /* a second pack of the re-decoded envelope is byte-identical */
  uint8_t *third = NULL;
  long n3 = pf_msg_encode(e2, &third);
  CHECK(n3 == n && memcmp(third, again, (size_t)n) == 0);
  free(third);
  free(again);
  pf_msg_free(e2);
  pf_msg_free(e);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int control = decode_checked(data, size, PF_MSG_MAX_CONTROL);
  int sample = decode_checked(data, size, PF_MSG_MAX_SAMPLE);
  /* inputs are far below both caps, so the caps cannot disagree */
  if (size <= PF_MSG_MAX_CONTROL) CHECK(control == sample);

  /* a length one past the cap is refused by the length alone: the bytes
   * pointer is deliberately unusable */
  if (size > 0) {
    char err[256] = "";
    CHECK(pf_msg_decode(NULL, size, size - 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "exceeds") != NULL);
    check_reason(err);
  }
  return 0;
}
