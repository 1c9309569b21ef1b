/* The parser child's one job: a vector for one sample (see sb_file.h). */
#include "sb_file.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_io.h"
#include "pf_lief.h"
#include "pf_pe.h"
#include "pf_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void sb_send(uint32_t type, uint64_t id, const void *payload, size_t n) {
  uint8_t frame[PF_WIRE_MAX_FRAME];
  long len = pf_wire_pack(frame, sizeof frame, type, id, payload, n);
  if (len < 0) _exit(3);
  if (pf_io_write_all(SB_RES_FD, frame, (size_t)len) != 0) _exit(0); /* parent is gone */
}

void sb_send_err(uint64_t id, int32_t code, const char *msg) {
  uint8_t buf[4 + 256];
  size_t n = strlen(msg);
  if (n > 256) n = 256;
  memcpy(buf, &code, 4);
  memcpy(buf + 4, msg, n);
  sb_send(PF_WIRE_ERR, id, buf, 4 + n);
}

void sb_parse_file(uint64_t id, int fd, uint64_t max_size) {
  char err[256];
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    sb_send_err(id, PF_EINVAL, "not a regular file");
    return;
  }
  if ((uint64_t)st.st_size > max_size) {
    snprintf(err, sizeof err, "file too large: %lld bytes (limit %llu)", (long long)st.st_size,
             (unsigned long long)max_size);
    sb_send_err(id, PF_ELIMIT, err);
    return;
  }
  size_t sz = (size_t)st.st_size;
  static const uint8_t empty[1];
  const uint8_t *raw = empty;
  if (sz) {
    void *m = mmap(NULL, sz, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0); /* one call, not a fault per page */
    if (m == MAP_FAILED) {
      sb_send_err(id, PF_ENOMEM, "cannot map the file (address-space limit)");
      return;
    }
    raw = m;
  }
  /* the sha256 is the daemon's (lib/pf_encoder.c): nothing to claim here */
  int rc = pf_pe_sniff(raw, sz, err, sizeof err);
  if (rc != PF_OK) {
    sb_send_err(id, rc, err);
    return;
  }
  /* LIEF opens a path: the memfd's own, the one file Landlock lets open */
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
  pf_pe_view view;
  rc = pf_lief_parse(fdpath, &view);
  if (rc != PF_OK) {
    snprintf(err, sizeof err, "LIEF could not parse the file: %s", pf_strerror(rc));
    sb_send_err(id, rc, err);
  } else {
    double vec[PF_ERGO486_DIM];
    rc = pf_ergo486_encode(raw, sz, &view, vec);
    if (rc == PF_OK) sb_send(PF_WIRE_VEC, id, vec, sizeof vec);
    else sb_send_err(id, rc, "cannot encode an empty file");
    pf_pe_view_destroy(&view);
  }
}
