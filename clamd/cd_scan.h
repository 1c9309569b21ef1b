/* cd_scan: owns pefleet-clamd's verdicts: one file's bytes to the score
 * pool and back as OK, FOUND or ERROR.
 * Defines cd_verdict and a pool of score-router connections (pf_rpc), each
 * used by one connection thread at a time.
 * Called by cd_conn.c (INSTREAM, FILDES) and cd_paths.c (SCAN and kin). */
#ifndef CD_SCAN_H
#define CD_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "clamd.h"

enum { CD_V_OK = 0, CD_V_FOUND = 1, CD_V_ERROR = 2 };

typedef struct {
  int verdict;          /* CD_V_* */
  char reason[400];     /* CD_V_ERROR: why (clamd prints "REASON ERROR") */
  double probability;   /* p(malicious) when scored */
  char sha256[65];
  char model[128];
  double ms;            /* wall time of the pool call */
  int not_pe;           /* the scorer said: not a PE file */
} cd_verdict;

/* Keeps o (must outlive the pool) and makes the ZeroMQ context. PF_EIO
 * when none can be made. */
int cd_scan_init(const cd_opts *o);
void cd_scan_shutdown(void);

/* Scores buf[0..len) through the pool into *v (never fails: a pool error
 * is a CD_V_ERROR verdict with its reason). */
void cd_scan_bytes(const uint8_t *buf, size_t len, cd_verdict *v);

/* Reads a regular file from fd (at most o->stream_max bytes, taken from the
 * byte budget first) and scores it. */
void cd_scan_fd(int fd, cd_verdict *v);

/* "NAME FOUND", "OK" or "REASON ERROR" for v into buf. */
void cd_verdict_text(const cd_verdict *v, char *buf, size_t n);

#endif
