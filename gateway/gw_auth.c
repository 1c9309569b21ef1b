#include "gw_auth.h"
#include "pf_err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int gw_auth_load_token(gw_auth *a, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
    return PF_EIO;
  }
  char line[sizeof a->token + 2];
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  fclose(f);
  size_t b = 0, e = strlen(line);
  while (b < e && (line[b] == ' ' || line[b] == '\t')) b++;
  while (e > b && (line[e - 1] == '\n' || line[e - 1] == '\r' || line[e - 1] == ' ' || line[e - 1] == '\t')) e--;
  if (e == b || e - b >= sizeof a->token) {
    snprintf(err, errlen, "the token file %s %s", path, e == b ? "is empty" : "holds a line too long for a token");
    return PF_EINVAL;
  }
  memcpy(a->token, line + b, e - b);
  a->token[e - b] = '\0';
  return PF_OK;
}

int gw_auth_allow(gw_auth *a, const char *dir, char *err, size_t errlen) {
  if (a->n_allow >= GW_MAX_ALLOW) {
    snprintf(err, errlen, "at most %d --allow-path folders", GW_MAX_ALLOW);
    return PF_ELIMIT;
  }
  char rp[PATH_MAX];
  struct stat st;
  if (!realpath(dir, rp) || stat(rp, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "--allow-path %s: not a folder", dir);
    return PF_ENOENT;
  }
  snprintf(a->allow[a->n_allow++], sizeof a->allow[0], "%s", rp);
  return PF_OK;
}

int gw_auth_check(const gw_auth *a, const char *header) {
  if (!a->token[0]) return 1;
  if (!header || strncmp(header, "Bearer ", 7) != 0) return 0;
  const char *got = header + 7;
  size_t gl = strlen(got), tl = strlen(a->token);
  unsigned diff = gl != tl;
  for (size_t i = 0; i < tl; i++) diff |= (unsigned char)a->token[i] ^ (unsigned char)(i < gl ? got[i] : 0);
  return diff == 0;
}

static int inside_allowed(const gw_auth *a, const char *p) {
  for (int k = 0; k < a->n_allow; k++) {
    size_t l = strlen(a->allow[k]);
    if (strncmp(p, a->allow[k], l) == 0 && (p[l] == '/' || (l == 1 && a->allow[k][0] == '/'))) return 1;
  }
  return 0;
}

int gw_auth_path(const gw_auth *a, const char *path, char *resolved, size_t n, char *err, size_t errlen) {
  if (a->n_allow == 0) {
    snprintf(err, errlen, "server-side paths are disabled (the gateway allows them with --allow-path DIR)");
    return PF_EINVAL;
  }
  char rp[PATH_MAX];
  if (!realpath(path, rp)) {
    /* missing: said so only inside an allowed folder (no probing elsewhere) */
    if (!inside_allowed(a, path)) goto outside;
    snprintf(err, errlen, "no such file: %.200s", path);
    return PF_ENOENT;
  }
  if (!inside_allowed(a, rp)) {
  outside:
    snprintf(err, errlen, "path outside the allowed folders: %.200s", path);
    return PF_EINVAL;
  }
  struct stat st;
  if (stat(rp, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "not a regular file: %.200s", path);
    return PF_ENOENT;
  }
  snprintf(resolved, n, "%s", rp);
  return PF_OK;
}
