/* score_out: owns the output of scored files that `pefleet predict` and
 * `pefleet scan` (local or through the pool) share.
 * Defines the table (verdict, one probability column per class, sha256
 * prefix, path) and the JSON lines ({"path","sha256","probabilities",
 * "verdict"} or {"path","sha256","error"}), one line per input file.
 * Called by cli/cmd_predict.c and cli/cmd_scan.c. */
#ifndef PF_SCORE_OUT_H
#define PF_SCORE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "pf_explain_out.h"
#include "pf_model.h"

typedef struct {
  int jsonl;
  uint32_t nc;                                /* classes (probability columns) */
  const char *names[PF_MODEL_MAX_CLASSES];    /* their names (not copied) */
  int colw[PF_MODEL_MAX_CLASSES];
  size_t explain_k;                           /* --explain=K: top features shown (0: no explanations) */
} score_out;

/* Sets up the output of nc classes named names[0..nc) (nc capped at
 * PF_MODEL_MAX_CLASSES). */
void score_out_init(score_out *o, int jsonl, uint32_t nc, const char *const *names);

/* The table's header line on stdout; nothing for JSON lines. */
void score_out_header(score_out *o);

/* One file's line on stdout. sha256_hex: NULL when unknown. A scored file
 * has p (nc probabilities) and verdict; a failed one has why (p NULL).
 * ex (NULL: none) is the file's explanation: JSON lines gain an
 * "explanation" object (with similar_json as its "similar", when given),
 * the table a "  why: ..." line with the top 3 features. */
void score_out_line(const score_out *o, const char *path, const char *sha256_hex, const float *p, const char *verdict,
                    const char *why, const pf_explain_view *ex, const char *similar_json);

/* Parses the K of --explain[=K] (NULL: the default 10) into *k; 0 when
 * K is not 1..486, with the reason in err. */
int score_out_explain_k(const char *arg, size_t *k, char *err, size_t errlen);

/* The exit status of predict and scan. Default: 0 every file scored, 1
 * some failed. infected_exit (clamscan's convention): 2 when any failed,
 * else 1 when any file's verdict is a class other than the first (the
 * malicious one of a clean/malicious model), else 0. */
int score_out_exit(int infected_exit, int any_failed, size_t n_infected);

#endif
