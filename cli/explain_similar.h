/* explain_similar: owns the "similar" part of an explanation: the stored
 * samples most like a file, asked of the fleet's similarity service.
 * Defines explain_similar_json(): one query by vector, the answer as a
 * JSON array of {"sha256","similarity","labels"}.
 * Called by cli/cmd_scan.c (scan --server --explain). */
#ifndef EXPLAIN_SIMILAR_H
#define EXPLAIN_SIMILAR_H

#include <stddef.h>

#include "pf_rpc.h"

/* Asks rpc (a connection to a similarity service) for the top stored
 * samples most similar to vec[0..n) within timeout_ms; writes the JSON
 * array into buf. Returns 1 when the service answered, 0 otherwise (buf
 * then empty). */
int explain_similar_json(pf_rpc *rpc, const double *vec, size_t n, unsigned top, int timeout_ms, char *buf,
                         size_t len);

#endif
