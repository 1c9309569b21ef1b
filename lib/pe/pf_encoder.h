/* pf_encoder: owns isolated PE encoding: a pool of bin/pefleet-sandbox
 * processes (sandbox/), each confined by the kernel (lib/pf_sandbox.h) and
 * parsing every file in a fresh one-shot child under CPU, address-space and
 * wall-clock limits, respawned when they die. The daemon opens each file
 * and hands the sandbox only its descriptor.
 * Defines pf_encoder_opts, pf_encode_result and the submit/next API.
 * Called by `pefleet encode`, the encoder worker and the scorer. */
#ifndef PF_ENCODER_H
#define PF_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "pf_ergo486.h"
#include "pf_hash.h"

typedef struct {
  int workers;            /* child processes (default 1) */
  int cpu_seconds;        /* CPU time per file (default 20) */
  int timeout_ms;         /* wall clock per file (default 60000) */
  uint64_t mem_bytes;     /* address-space limit per child (default 4 GiB) */
  uint64_t max_file_size; /* larger files are refused (default 512 MiB) */
  int recycle_after;      /* files before a sandbox is replaced (default 1000); each
                             file has a process of its own in any case */
  int log_layers;         /* log the sandbox's layers at start (pf_log, INFO); the
                             layers it lacks are always logged (WARN) */
  const char *sandbox;    /* child program; default: pefleet-sandbox next to
                             /proc/self/exe, or $PEFLEET_SANDBOX */
} pf_encoder_opts;

/* Fills opts with the defaults above. */
void pf_encoder_opts_default(pf_encoder_opts *opts);

typedef struct {
  uint64_t id;                /* the caller's tag from submit */
  int ok;                     /* 1: vec holds the vector */
  int code;                   /* PF_OK or PF_E* */
  char error[256];            /* one line when !ok */
  int have_hash;              /* sha256/size are valid */
  uint8_t sha256[PF_SHA256_LEN];
  uint64_t size;
  double vec[PF_ERGO486_DIM];
} pf_encode_result;

typedef struct pf_encoder pf_encoder;

/* Starts the sandboxes and waits (up to 2 s) for the first to say which
 * layers are in force. Returns PF_OK or an error with a reason in err. */
int pf_encoder_new(const pf_encoder_opts *opts, pf_encoder **out, char *err, size_t errlen);

/* Kills the children and frees the pool; clears *enc. */
void pf_encoder_free(pf_encoder **enc);

/* Number of children free to take a file now. */
int pf_encoder_free_slots(const pf_encoder *enc);

/* Number of files submitted whose result has not been returned. */
int pf_encoder_pending(const pf_encoder *enc);

/* Opens path and hands its descriptor to a free sandbox. Returns PF_OK,
 * PF_ELIMIT when none is free, or PF_EINVAL for a path longer than
 * PF_WIRE_MAX_PATH. A file that cannot be opened, is not a regular file or
 * is over max_file_size is still PF_OK: its result (ok=0, the reason) is
 * the next one pf_encoder_next returns. */
int pf_encoder_submit(pf_encoder *enc, uint64_t id, const char *path);

/* Waits up to timeout_ms (-1: forever) for one finished file. Returns 1
 * with *res filled, 0 on timeout, or PF_EINVAL when nothing is pending.
 * A child that crashed, hung or ran out of memory yields a result with
 * ok=0 and a reason; the child is replaced. */
int pf_encoder_next(pf_encoder *enc, pf_encode_result *res, int timeout_ms);

/* Writes the descriptors that become readable when a busy child has news (a
 * result, output, or death) into fds (room for max); returns how many. For
 * callers that wait on other things too (zmq_poll); then call
 * pf_encoder_next with timeout 0. */
int pf_encoder_pollfds(const pf_encoder *enc, int *fds, int max);

/* The layers the sandboxes reported in force ("" until one did). */
const char *pf_encoder_layers(const pf_encoder *enc);

/* Convenience: encodes one file and waits for it. */
int pf_encoder_encode_one(pf_encoder *enc, const char *path, pf_encode_result *res);

#endif
