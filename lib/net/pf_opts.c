/* The listening fronts' command line (see pf_opts.h). */
#include "pf_opts.h"

#include "pf_err.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DATA = 256, OPT_CONFIG, OPT_TABLE }; /* getopt values; OPT_TABLE + i: table[i] */

/* A whole number in [lo, hi], with a k/m/g suffix when suffix. */
static int number(const char *arg, const char *name, long long lo, long long hi, int suffix, long long *out,
                  char *err, size_t errlen) {
  char *end = NULL;
  long long v = strtoll(arg, &end, 10), mult = 1;
  if (suffix && end && *end && !end[1]) {
    if (*end == 'k' || *end == 'K') mult = 1024;
    else if (*end == 'm' || *end == 'M') mult = 1024 * 1024;
    else if (*end == 'g' || *end == 'G') mult = 1024LL * 1024 * 1024;
    if (mult > 1) end++;
  }
  if (!*arg || !end || *end || v < lo || v > hi / mult) {
    snprintf(err, errlen, "invalid value '%s' for --%s (%lld..%lld)", arg, name, lo, hi);
    return PF_EINVAL;
  }
  *out = v * mult;
  return PF_OK;
}

static void set_number(const pf_opt *o, long long v) {
  if (o->kind == PF_OPT_INT) *(int *)o->dst = (int)v;
  else if (o->kind == PF_OPT_LONG) *(long *)o->dst = (long)v;
  else *(size_t *)o->dst = (size_t)v;
}

/* Takes one option's argument into its table entry. */
static int take(const pf_opt *o, const char *arg, char *err, size_t errlen) {
  long long v = 0;
  switch (o->kind) {
  case PF_OPT_INT:
  case PF_OPT_LONG:
  case PF_OPT_SIZE:
    if (number(arg, o->name, o->lo, o->hi, o->kind == PF_OPT_SIZE, &v, err, errlen) != PF_OK) return PF_EINVAL;
    set_number(o, v);
    return PF_OK;
  case PF_OPT_STR: *(const char **)o->dst = arg; return PF_OK;
  case PF_OPT_LIST:
    if (*o->n >= o->max) {
      snprintf(err, errlen, "at most %d --%s", o->max, o->name);
      return PF_ELIMIT;
    }
    ((const char **)o->dst)[(*o->n)++] = arg;
    return PF_OK;
  case PF_OPT_FLAG: *(int *)o->dst = 1; return PF_OK;
  }
  return PF_EINVAL;
}

int pf_opts_parse(int argc, char **argv, const pf_opt *table, pf_config *c, char *err, size_t errlen) {
  struct option opts[PF_OPTS_MAX + 4];
  int n = 0;
  opts[n++] = (struct option){"data", required_argument, 0, OPT_DATA};
  opts[n++] = (struct option){"config", required_argument, 0, OPT_CONFIG};
  for (int i = 0; table[i].name; i++) {
    if (i >= PF_OPTS_MAX) {
      snprintf(err, errlen, "more than %d options in one table", PF_OPTS_MAX);
      return 2;
    }
    const pf_opt *o = &table[i];
    if (o->kind == PF_OPT_INT || o->kind == PF_OPT_LONG || o->kind == PF_OPT_SIZE) set_number(o, o->def);
    if (o->kind == PF_OPT_LIST) *o->n = 0;
    opts[n++] = (struct option){o->name, o->kind == PF_OPT_FLAG ? no_argument : required_argument, 0, OPT_TABLE + i};
  }
  opts[n++] = (struct option){"help", no_argument, 0, 'h'};
  opts[n] = (struct option){0, 0, 0, 0};
  const char *data = NULL, *config = NULL;
  int ch;
  optind = 1;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (ch == 'h') return 1;
    if (ch == OPT_DATA) data = optarg;
    else if (ch == OPT_CONFIG) config = optarg;
    else if (ch >= OPT_TABLE && ch < OPT_TABLE + n) {
      if (take(&table[ch - OPT_TABLE], optarg, err, errlen) != PF_OK) return 2;
    } else {
      const char *arg = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "?";
      snprintf(err, errlen, "%s option '%s'", optopt || strchr(arg, '=') ? "incomplete or invalid" : "unknown", arg);
      return 2;
    }
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
    return 2;
  }
  return pf_config_resolve(c, data, config, err, errlen) == PF_OK ? 0 : 2;
}
