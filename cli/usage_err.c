/* One-line usage errors (see usage_err.h). */
#include "usage_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int usage_err(const char *prog, const char *fmt, ...) {
  fprintf(stderr, "%s: ", prog);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see %s --help)\n", prog);
  return 2;
}

/* The long option that "--name[=v]" names, exactly or as the only one it
 * abbreviates; *ambiguous when it abbreviates several. */
static const struct option *find_long(const struct option *opts, const char *name, size_t len, int *ambiguous) {
  const struct option *hit = NULL;
  *ambiguous = 0;
  for (const struct option *o = opts; o && o->name; o++) {
    if (strncmp(o->name, name, len) != 0) continue;
    if (strlen(o->name) == len) { *ambiguous = 0; return o; }
    if (hit) *ambiguous = 1;
    hit = o;
  }
  return *ambiguous ? NULL : hit;
}

int usage_err_getopt(const char *prog, const struct option *opts, const char *shortopts, int argc, char **argv) {
  const char *arg = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
  if (strncmp(arg, "--", 2) == 0 && arg[2]) {
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int amb = 0;
    const struct option *o = find_long(opts, name, len, &amb);
    if (amb) return usage_err(prog, "ambiguous option --%.*s", (int)len, name);
    if (o && o->has_arg == required_argument && !eq) return usage_err(prog, "option --%s needs a value", o->name);
    if (o && o->has_arg == no_argument && eq) return usage_err(prog, "option --%s takes no value", o->name);
    if (!o) return usage_err(prog, "unknown option --%.*s", (int)len, name);
  }
  if (optopt > 0 && optopt < 128) {
    const char *p = shortopts ? strchr(shortopts, optopt) : NULL;
    if (p && optopt != ':' && p[1] == ':') return usage_err(prog, "option -%c needs a value", optopt);
    return usage_err(prog, "unknown option -%c", optopt);
  }
  return usage_err(prog, "invalid option %s", arg);
}
