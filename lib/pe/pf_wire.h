/* pf_wire: owns the pipe protocol between the encoder pool and its
 * isolated children (bin/pefleet-sandbox).
 * Defines the frame header, message types and the bounds every frame
 * obeys; encode/decode helpers take bytes and a length.
 * Called by pf_encoder (parent side) and cli/sandbox_main.c (child side). */
#ifndef PF_WIRE_H
#define PF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "pf_ergo486.h"

#define PF_WIRE_MAGIC 0x50465731u /* "PFW1" */
#define PF_WIRE_MAX_FRAME 8192    /* no frame is larger */
#define PF_WIRE_MAX_PATH 4096
#define PF_WIRE_LAST PF_WIRE_HELLO

enum {
  PF_WIRE_REQ = 1,    /* parent -> sandbox: no payload; the sample's fd rides along (SCM_RIGHTS) */
  PF_WIRE_HASH = 2,   /* child -> parent: sha256[32], size u64 */
  PF_WIRE_VEC = 3,    /* child -> parent: 486 little-endian doubles */
  PF_WIRE_ERR = 4,    /* child -> parent: code i32, message bytes */
  PF_WIRE_VIOL = 5,   /* child -> parent: syscall number i32 (the seccomp trap) */
  PF_WIRE_DONE = 6,   /* sandbox -> parent: wait status i32, CPU ms u32 of the file's child */
  PF_WIRE_HELLO = 7,  /* sandbox -> parent, once: the layers in force, then "\n", then those missing */
};

/* Frame: u32 magic | u32 total length (header included) | u32 type |
 * u32 reserved | u64 id | payload. Header is 24 bytes. */
#define PF_WIRE_HEADER_SIZE 24

/* Writes a frame into buf (cap bytes); returns its length or -1 if it
 * does not fit. */
long pf_wire_pack(uint8_t *buf, size_t cap, uint32_t type, uint64_t id, const void *payload, size_t n);

/* Checks the frame at buf[0..len). Returns the frame length when a whole
 * valid frame is present, 0 when more bytes are needed, or -1 when the
 * bytes cannot be a frame (bad magic, length out of bounds, unknown type). */
long pf_wire_frame(const uint8_t *buf, size_t len, uint32_t *type, uint64_t *id, const uint8_t **payload, size_t *n);

#endif
