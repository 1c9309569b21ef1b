/* pf_fmt: owns text output formats shared by the commands.
 * Defines shortest round-trip double printing, JSON string escaping and
 * CSV field quoting, all into caller buffers or a FILE.
 * Called by `pefleet encode` and later the HTTP gateway. */
#ifndef PF_FMT_H
#define PF_FMT_H

#include <stddef.h>
#include <stdio.h>

/* Writes the shortest of %.15g/%.16g/%.17g that parses back to exactly v
 * (non-finite values print as null, which JSON requires). buf needs 32
 * bytes. Returns the length. */
int pf_fmt_double(double v, char *buf, size_t n);

/* Writes v to f as pf_fmt_double prints it (a JSON number, or null). */
void pf_fmt_json_double(FILE *f, double v);

/* Writes s as a JSON string literal (quotes included) to f. Bytes that are
 * not valid UTF-8 are written as \u00XX escapes of their value. */
void pf_fmt_json_string(FILE *f, const char *s);

/* Writes s as one CSV field to f, quoted when it holds , " CR or LF. */
void pf_fmt_csv_field(FILE *f, const char *s);

#endif
