/* pf_encode_run: owns one pass of a file list through the isolated parser pool.
 * Defines pf_encode_run(): submit, collect out of order, hand results back in input order.
 * Called by `pefleet encode` and `pefleet predict`. */
#ifndef PF_ENCODE_RUN_H
#define PF_ENCODE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "pf_encoder.h"
#include "pf_walk.h"

typedef struct {
  size_t emitted;  /* results handed to emit, in input order */
  size_t ok;       /* of those, res->ok */
  size_t failed;   /* of those, !res->ok */
  uint64_t bytes;  /* sum of res->size over the ok ones */
  int aborted;     /* 0, or the error that stopped the loop early (reported) */
} pf_encode_run_counts;

typedef struct {
  /* The pool is up, before the first file is handed over (optional). */
  void (*started)(void *ctx);
  /* One finished file, called in input order; i indexes files->paths. */
  void (*emit)(void *ctx, size_t i, const pf_encode_result *res);
  /* After each wait for a result, for a progress line (optional). */
  void (*tick)(void *ctx, const pf_encode_run_counts *counts);
  void *ctx;
} pf_encode_run_hooks;

/* pf_encoder_opts_default, with one worker per online core. */
void pf_encode_run_opts_default(pf_encoder_opts *opts);

/* Encodes every file in files with a pool started from opts (workers capped
 * at the number of files), calling hooks->emit once per file in input order;
 * a file that cannot be handed to a parser gets an error result. Errors are
 * reported on stderr as "<who>: <reason>"; err (errlen bytes) is scratch
 * space for the pool's start-up error. Returns PF_OK with *counts filled
 * when the pool ran (counts->aborted set if the loop stopped early), or the
 * error when the pool could not be started (nothing emitted). The pool is
 * freed before returning. */
int pf_encode_run(const pf_encoder_opts *opts, const pf_filelist *files, const pf_encode_run_hooks *hooks,
                  const char *who, pf_encode_run_counts *counts, char *err, size_t errlen);

#endif
