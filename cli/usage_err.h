/* usage_err: owns the one-line usage errors of the pefleet commands.
 * Defines usage_err_getopt (after getopt_long returned '?' or ':') and
 * usage_err (any other usage error), both "PROG: what (see PROG --help)".
 * Called by cli/cmd_*.c; returns 2, the usage exit status. */
#ifndef PF_USAGE_ERR_H
#define PF_USAGE_ERR_H

#include <getopt.h>

/* Names the option getopt_long refused (unknown, ambiguous, missing or
 * unexpected value) from argv[optind - 1], optopt, the long options and
 * the short option string. Call with opterr = 0 set before the loop (the
 * commands set it in main). */
int usage_err_getopt(const char *prog, const struct option *opts, const char *shortopts, int argc, char **argv);

/* "PROG: <fmt...> (see PROG --help)" on stderr; returns 2. */
int usage_err(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
