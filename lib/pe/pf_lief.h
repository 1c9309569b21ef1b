/* pf_lief: owns the only calls into LIEF's C API.
 * Defines pf_lief_parse(), which parses a file with LIEF 0.9 and copies
 * what the feature vector needs into a pf_pe_view.
 * Called only inside the isolated encoder child: LIEF aborts the process on
 * malformed input, so nothing else may call it. */
#ifndef PF_LIEF_H
#define PF_LIEF_H

#include "pf_pe.h"

/* Parses path with LIEF and fills out (caller frees with
 * pf_pe_view_destroy). Returns PF_OK, PF_ENOTPE when LIEF returns nothing,
 * PF_ELIMIT when a count exceeds its cap, or PF_ENOMEM. May abort the
 * process (LIEF's uncaught exceptions): run it isolated. */
int pf_lief_parse(const char *path, pf_pe_view *out);

#endif
