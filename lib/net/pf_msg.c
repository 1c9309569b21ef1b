#include "pf_msg.h"

#include <stdio.h>
#include <stdlib.h>

Pefleet__Envelope *pf_msg_decode(const uint8_t *buf, size_t len, size_t max, char *err, size_t errlen) {
  if (len > max) {
    snprintf(err, errlen, "message of %zu bytes exceeds the %zu-byte limit", len, max);
    return NULL;
  }
  Pefleet__Envelope *e = pefleet__envelope__unpack(NULL, len, buf);
  if (!e) {
    snprintf(err, errlen, "malformed message (%zu bytes are not a pefleet envelope)", len);
    return NULL;
  }
  if (e->version != PF_PROTO_VERSION) {
    snprintf(err, errlen, "unsupported schema version %u (this build speaks %u)", e->version, PF_PROTO_VERSION);
    pefleet__envelope__free_unpacked(e, NULL);
    return NULL;
  }
  if (e->body_case == PEFLEET__ENVELOPE__BODY__NOT_SET) {
    snprintf(err, errlen, "message without a body (unknown message type?)");
    pefleet__envelope__free_unpacked(e, NULL);
    return NULL;
  }
  return e;
}

void pf_msg_free(Pefleet__Envelope *e) {
  if (e) pefleet__envelope__free_unpacked(e, NULL);
}

long pf_msg_encode(Pefleet__Envelope *e, uint8_t **out) {
  e->version = PF_PROTO_VERSION;
  size_t n = pefleet__envelope__get_packed_size(e);
  *out = malloc(n ? n : 1);
  if (!*out) return -1;
  pefleet__envelope__pack(e, *out);
  return (long)n;
}

const char *pf_msg_body_name(const Pefleet__Envelope *e) {
  switch (e->body_case) {
  case PEFLEET__ENVELOPE__BODY_INGEST: return "ingest";
  case PEFLEET__ENVELOPE__BODY_INGEST_ACK: return "ingest_ack";
  case PEFLEET__ENVELOPE__BODY_READY: return "ready";
  case PEFLEET__ENVELOPE__BODY_HEARTBEAT: return "heartbeat";
  case PEFLEET__ENVELOPE__BODY_JOB: return "job";
  case PEFLEET__ENVELOPE__BODY_RESULT: return "result";
  case PEFLEET__ENVELOPE__BODY_SCORE: return "score";
  case PEFLEET__ENVELOPE__BODY_SCORE_REPLY: return "score_reply";
  case PEFLEET__ENVELOPE__BODY_SIMILAR: return "similar";
  case PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY: return "similar_reply";
  default: return "unknown";
  }
}
