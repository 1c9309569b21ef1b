/* pf_opts: owns the command line of the fleet's listening fronts (the HTTP
 * gateway, pefleet-clamd): --data DIR / --config FILE resolved into a
 * pf_config, --help, and a table of the program's own long options:
 * numbers within bounds (byte counts with a k/m/g suffix), words,
 * repeatable words and flags; what was wrong is one line.
 * Defines pf_opt (one table entry) and pf_opts_parse.
 * Called by gateway/gw_opts.c and clamd/cd_opts.c. */
#ifndef PF_OPTS_H
#define PF_OPTS_H

#include <stddef.h>

#include "pf_config.h"

#define PF_OPTS_MAX 48 /* entries of one table */

typedef enum {
  PF_OPT_INT,   /* dst: int *, a whole number in [lo, hi] */
  PF_OPT_LONG,  /* dst: long *, the same */
  PF_OPT_SIZE,  /* dst: size_t *, the same with an optional k, m or g suffix (KiB, MiB, GiB) */
  PF_OPT_STR,   /* dst: const char **, pointed at the argument (argv's own text) */
  PF_OPT_LIST,  /* dst: const char *[max], repeatable; *n counts them */
  PF_OPT_FLAG,  /* dst: int *, set to 1; takes no argument */
} pf_opt_kind;

typedef struct {
  const char *name;   /* the long option without its dashes: "max-upload" */
  pf_opt_kind kind;
  void *dst;
  long long lo, hi;   /* numbers: the bounds */
  long long def;      /* numbers: set into dst before parsing */
  int max;            /* PF_OPT_LIST: room in dst */
  int *n;             /* PF_OPT_LIST: how many were given (set to 0 first) */
} pf_opt;

/* Parses argv (getopt_long: options may come in any order; abbreviations
 * of a long name are taken): --data, --config, --help and the options of
 * table, ended by an entry whose name is NULL. Then resolves the fleet
 * configuration into c (pf_config_resolve: --data or --config, the
 * environment). Returns 0 to run, 1 when --help was given (nothing else is
 * checked after it), or 2 with one line in err: "invalid value 'X' for
 * --NAME (LO..HI)", "at most N --NAME", "unknown option '--X'",
 * "incomplete or invalid option '--X'", "unexpected argument 'X'", or the
 * configuration's own error. */
int pf_opts_parse(int argc, char **argv, const pf_opt *table, pf_config *c, char *err, size_t errlen);

#endif
