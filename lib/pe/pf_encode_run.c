/* pf_encode_run: owns one pass of a file list through the isolated parser pool.
 * Defines the in-order delivery of pf_encoder results to a per-file callback.
 * Called by `pefleet encode` and `pefleet predict`. */
#include "pf_encode_run.h"

#include "pf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  const pf_filelist *files;
  const pf_encode_run_hooks *hooks;
  pf_encode_result **done; /* results held until every earlier file is out */
  size_t next_emit;
  pf_encode_run_counts *counts;
} run_state;

/* Stores a finished result and emits every result that is next in order. */
static int deliver(run_state *s, const pf_encode_result *res) {
  size_t i = (size_t)res->id;
  s->done[i] = malloc(sizeof *res);
  if (!s->done[i]) return PF_ENOMEM;
  *s->done[i] = *res;
  while (s->next_emit < s->files->n && s->done[s->next_emit]) {
    const pf_encode_result *r = s->done[s->next_emit];
    s->hooks->emit(s->hooks->ctx, s->next_emit, r);
    s->counts->emitted++;
    if (r->ok) { s->counts->ok++; s->counts->bytes += r->size; }
    else s->counts->failed++;
    free(s->done[s->next_emit]);
    s->done[s->next_emit] = NULL;
    s->next_emit++;
  }
  return PF_OK;
}

/* Gives free parsers the next files; a file that cannot be handed over
 * gets its error result at once. */
static void submit_more(run_state *s, pf_encoder *enc, size_t *next) {
  while (*next < s->files->n && pf_encoder_free_slots(enc) > 0) {
    int rc = pf_encoder_submit(enc, *next, s->files->paths[*next]);
    if (rc == PF_OK) { (*next)++; continue; }
    pf_encode_result res;
    memset(&res, 0, sizeof res);
    res.id = (*next)++;
    res.code = rc;
    snprintf(res.error, sizeof res.error, "cannot hand the file to a parser: %s", pf_strerror(rc));
    deliver(s, &res);
    if (rc == PF_ELIMIT) break;
  }
}

void pf_encode_run_opts_default(pf_encoder_opts *opts) {
  pf_encoder_opts_default(opts);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  opts->workers = ncpu > 0 ? (int)ncpu : 1;
}

int pf_encode_run(const pf_encoder_opts *opts, const pf_filelist *files, const pf_encode_run_hooks *hooks,
                  const char *who, pf_encode_run_counts *counts, char *err, size_t errlen) {
  memset(counts, 0, sizeof *counts);
  pf_encoder_opts eo = *opts;
  if ((size_t)eo.workers > files->n) eo.workers = (int)files->n;
  pf_encoder *enc = NULL;
  int rc = pf_encoder_new(&eo, &enc, err, errlen);
  run_state s = {files, hooks, NULL, 0, counts};
  s.done = rc == PF_OK ? calloc(files->n, sizeof *s.done) : NULL;
  if (rc != PF_OK || !s.done) {
    fprintf(stderr, "%s: %s\n", who, rc != PF_OK ? err : "out of memory");
    pf_encoder_free(&enc);
    return rc != PF_OK ? rc : PF_ENOMEM;
  }
  if (hooks->started) hooks->started(hooks->ctx);
  size_t next = 0;
  pf_encode_result res;
  while (next < files->n || pf_encoder_pending(enc) > 0) {
    submit_more(&s, enc, &next);
    if (pf_encoder_pending(enc) == 0) continue;
    rc = pf_encoder_next(enc, &res, 200);
    if (rc == 1) {
      /* hand the freed parser its next file before formatting this row */
      submit_more(&s, enc, &next);
      if (deliver(&s, &res) != PF_OK) {
        fprintf(stderr, "%s: out of memory\n", who);
        counts->aborted = PF_ENOMEM;
        break;
      }
    }
    if (rc < 0) {
      fprintf(stderr, "%s: %s\n", who, pf_strerror(rc));
      counts->aborted = rc;
      break;
    }
    if (hooks->tick) hooks->tick(hooks->ctx, counts);
  }
  pf_encoder_free(&enc);
  for (size_t i = 0; i < files->n; i++) free(s.done[i]);
  free(s.done);
  return PF_OK;
}
