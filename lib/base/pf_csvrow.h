/* pf_csvrow: owns the decoding of one row of the seed's dataset.csv layout
 * (a label, then the feature values, comma-separated).
 * Defines pf_csvrow_parse() over the bytes of one line, strict number
 * parsing (pf_csvrow_number) and the hard limits on a line.
 * Called by `pefleet import-csv` and tests/fuzz/fuzz_csvrow.c. */
#ifndef PF_CSVROW_H
#define PF_CSVROW_H

#include <stddef.h>
#include <stdint.h>

#define PF_CSVROW_MAX_LINE (1u << 20) /* bytes of one line, its line ending excluded */
#define PF_CSVROW_MAX_FIELDS 65536    /* fields of one line, the label included */
#define PF_CSVROW_MAX_NUMBER 256      /* bytes of one number (after unquoting) */

/* A number, strictly: all of buf[0..len) must be
 *   [+-]? ( digits [ "." digits* ] | "." digits ) [ [eE] [+-]? digits ]
 * (no spaces, no hex, no inf/nan) and its value finite; a value too small
 * for a double becomes 0 or a denormal. Returns PF_OK with *out set, or
 * PF_EINVAL: not a number, longer than PF_CSVROW_MAX_NUMBER bytes, or out
 * of range (like 1e999). */
int pf_csvrow_number(const uint8_t *buf, size_t len, double *out);

/* Decodes one line, buf[0..len), without its line ending. Fields are split
 * at commas; a field that starts with '"' is quoted ("" inside is one '"',
 * and the closing quote must end the field). The first field is the label:
 * copied, unquoted, into label (room for label_cap >= 1 bytes, always
 * NUL-terminated). Every other field must be a number (pf_csvrow_number):
 * the first cap values go to vals, and *nvals receives how many value
 * fields the line has (every one is checked, even past cap).
 *
 * Returns PF_OK, or PF_EINVAL with a one-line reason in err (values are
 * counted from 1): an empty line; a NUL, CR or LF byte in the line; bad
 * quoting; a label of label_cap bytes or more; a value that is empty, not
 * a number or not finite. PF_ELIMIT: len > PF_CSVROW_MAX_LINE or more than
 * PF_CSVROW_MAX_FIELDS fields. On an error label, vals and *nvals hold
 * whatever was decoded before it. */
int pf_csvrow_parse(const uint8_t *buf, size_t len, char *label, size_t label_cap, double *vals, size_t cap,
                    size_t *nvals, char *err, size_t errlen);

#endif
