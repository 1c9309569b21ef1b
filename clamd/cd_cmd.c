/* The clamd command grammar (see cd_cmd.h). */
#include "cd_cmd.h"

#include <string.h>

typedef struct {
  const char *name;
  cd_kind kind;
  int need_arg;   /* 1: "NAME ARG"; 0: "NAME" alone */
  int old_ok;     /* may be sent without a z/n prefix */
} cmd_def;

/* Longer names before their prefixes (VERSIONCOMMANDS before VERSION). */
static const cmd_def defs[] = {
  {"SCAN", CD_SCAN, 1, 1},
  {"RELOAD", CD_RELOAD, 0, 1},
  {"PING", CD_PING, 0, 1},
  {"CONTSCAN", CD_CONTSCAN, 1, 1},
  {"VERSIONCOMMANDS", CD_VERSIONCOMMANDS, 0, 0},
  {"VERSION", CD_VERSION, 0, 1},
  {"END", CD_END, 0, 0},
  {"SHUTDOWN", CD_SHUTDOWN, 0, 1},
  {"MULTISCAN", CD_MULTISCAN, 1, 1},
  {"FILDES", CD_FILDES, 0, 1},
  {"STATS", CD_STATS, 0, 1},
  {"IDSESSION", CD_IDSESSION, 0, 0},
  {"INSTREAM", CD_INSTREAM, 0, 0},
  {"ALLMATCHSCAN", CD_ALLMATCHSCAN, 1, 0},
};

const char *cd_cmd_names(void) {
  return "SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION "
         "INSTREAM ALLMATCHSCAN";
}

/* Matches line[0..n) (terminator excluded) against the table. */
static void classify(const char *line, size_t n, int oldstyle, cd_cmd *out) {
  out->kind = CD_UNKNOWN;
  out->name = "?";
  out->arg = NULL;
  out->arglen = 0;
  if (memchr(line, '\0', n)) return; /* a NUL inside a newline-terminated line */
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    size_t k = strlen(defs[i].name);
    if (n < k || memcmp(line, defs[i].name, k) != 0) continue;
    if (defs[i].need_arg) {
      if (n < k + 2 || line[k] != ' ') return; /* missing argument */
      out->arg = line + k + 1;
      out->arglen = n - k - 1;
    } else if (n != k) {
      return; /* trailing garbage */
    }
    if (oldstyle && !defs[i].old_ok) { out->arg = NULL; out->arglen = 0; return; }
    out->kind = defs[i].kind;
    out->name = defs[i].name;
    return;
  }
  /* QUIT: clamd's deprecated alias of SHUTDOWN */
  if (n == 4 && memcmp(line, "QUIT", 4) == 0) { out->kind = CD_SHUTDOWN; out->name = "QUIT"; }
}

int cd_cmd_parse(const uint8_t *buf, size_t len, int whole, cd_cmd *out, size_t *used) {
  memset(out, 0, sizeof *out);
  *used = 0;
  if (len == 0) return CD_PARSE_MORE;
  const char *s = (const char *)buf;
  if (s[0] == 'z' || s[0] == 'n') {
    char term = s[0] == 'z' ? '\0' : '\n';
    size_t scan = len < CD_CMD_MAX ? len : CD_CMD_MAX;
    const char *end = memchr(s + 1, term, scan - 1);
    if (!end) return len >= CD_CMD_MAX ? CD_PARSE_TOO_LONG : CD_PARSE_MORE;
    size_t n = (size_t)(end - (s + 1));
    if (term == '\n' && n > 0 && s[n] == '\r') n--; /* "nPING\r\n" */
    out->term = term;
    classify(s + 1, n, 0, out);
    *used = (size_t)(end - s) + 1;
    return CD_PARSE_OK;
  }
  /* old style: up to a newline, or the whole packet */
  size_t scan = len < CD_CMD_MAX ? len : CD_CMD_MAX;
  const char *nl = memchr(s, '\n', scan);
  size_t n;
  if (nl) {
    n = (size_t)(nl - s);
    *used = n + 1;
  } else if (len >= CD_CMD_MAX) {
    return CD_PARSE_TOO_LONG;
  } else if (whole) {
    n = len;
    *used = len;
  } else {
    return CD_PARSE_MORE;
  }
  while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
  out->term = '\n';
  out->oldstyle = 1;
  classify(s, n, 1, out);
  return CD_PARSE_OK;
}
