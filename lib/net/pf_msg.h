/* pf_msg: owns the protobuf envelope every daemon speaks (proto/pefleet.proto).
 * Defines the schema version, the size caps checked before unpacking, and
 * decode/encode helpers that reject wrong versions, empty bodies and
 * malformed bytes with a one-line reason instead of crashing.
 * Called by the broker, the encoder worker, `pefleet ingest` and the scorer. */
#ifndef PF_MSG_H
#define PF_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pefleet.pb-c.h"

#define PF_PROTO_VERSION 1
#define PF_MSG_MAX_CONTROL (64u * 1024u)        /* ingest, worker and result messages */
#define PF_MSG_MAX_SAMPLE (128u * 1024u * 1024u) /* score requests carrying a file */

/* Unpacks buf[0..len) into a new envelope. Fails (NULL, reason in err) when
 * len > max, the bytes are not an Envelope, the version differs from
 * PF_PROTO_VERSION or no body is set. Free with pf_msg_free. */
Pefleet__Envelope *pf_msg_decode(const uint8_t *buf, size_t len, size_t max, char *err, size_t errlen);

/* Frees a decoded envelope; NULL is fine. */
void pf_msg_free(Pefleet__Envelope *e);

/* Sets e->version and packs e into a new malloc'd buffer (*out, caller
 * frees). Returns the length, or -1 when out of memory. */
long pf_msg_encode(Pefleet__Envelope *e, uint8_t **out);

/* Name of the envelope's body for logs ("ingest", "job", ...). */
const char *pf_msg_body_name(const Pefleet__Envelope *e);

#endif
