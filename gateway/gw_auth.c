#include "gw_auth.h"
#include "pf_err.h"
#include "pf_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int gw_auth_load_token(gw_auth *a, const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
    return PF_EIO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
    snprintf(err, errlen,
             "the token file %s must be a regular file owned by uid %u with mode 0600 or 0400 "
             "(it is mode %04o, owner uid %u): chmod 600 %s",
             path, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, path);
    close(fd);
    return PF_EINVAL;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
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
  int fd = -1;
  if (!realpath(dir, rp) || (fd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    if (fd >= 0) close(fd);
    snprintf(err, errlen, "--allow-path %s: not a folder", dir);
    return PF_ENOENT;
  }
  a->allow_fd[a->n_allow] = fd;
  char cwd[2048] = "";
  if (dir[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  snprintf(a->allow_as[a->n_allow], sizeof a->allow_as[0], "%s%s%.2000s", cwd, cwd[0] ? "/" : "", dir);
  size_t al = strlen(a->allow_as[a->n_allow]);
  while (al > 1 && a->allow_as[a->n_allow][al - 1] == '/') a->allow_as[a->n_allow][--al] = '\0';
  snprintf(a->allow[a->n_allow++], sizeof a->allow[0], "%s", rp);
  return PF_OK;
}

int gw_auth_allow_host(gw_auth *a, const char *name, char *err, size_t errlen) {
  if (a->n_hosts >= GW_MAX_ALLOW || !*name || strlen(name) >= sizeof a->hosts[0]) {
    snprintf(err, errlen, "--allow-host: at most %d names, each 1 to %zu characters", GW_MAX_ALLOW,
             sizeof a->hosts[0] - 1);
    return PF_EINVAL;
  }
  snprintf(a->hosts[a->n_hosts++], sizeof a->hosts[0], "%s", name);
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

/* 1 when s is an IPv4 or IPv6 literal. */
static int ip_literal(const char *s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int gw_auth_origin_ok(const gw_auth *a, const char *address, const char *host, const char *origin) {
  if (a->token[0]) return 1;
  if (origin) return 0; /* a browser page, of any site: a tokenless gateway serves none */
  if (!host) return 1;
  char name[256];
  const char *end;
  if (host[0] == '[') { /* [v6]:port */
    end = strchr(host, ']');
    if (!end) return 0;
    host++;
  } else {
    end = strchr(host, ':');
    if (!end) end = host + strlen(host);
  }
  size_t n = (size_t)(end - host);
  if (n == 0 || n >= sizeof name) return 0;
  memcpy(name, host, n);
  name[n] = '\0';
  if (strcasecmp(name, address) == 0) return 1;
  for (int k = 0; k < a->n_hosts; k++)
    if (strcasecmp(name, a->hosts[k]) == 0) return 1;
  int loopback = strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0 || strcasecmp(address, "localhost") == 0;
  int wildcard = strcmp(address, "0.0.0.0") == 0 || strcmp(address, "::") == 0 || !*address;
  if (loopback || wildcard) {
    if (strcasecmp(name, "localhost") == 0) return 1;
    if (wildcard && ip_literal(name)) return 1;
    if (loopback && ip_literal(name) && (strncmp(name, "127.", 4) == 0 || strcmp(name, "::1") == 0)) return 1;
  }
  return 0;
}

int gw_auth_open(const gw_auth *a, const char *path, int *fd, char *err, size_t errlen) {
  *fd = -1;
  if (a->n_allow == 0) {
    snprintf(err, errlen, "server-side paths are disabled (the gateway allows them with --allow-path DIR)");
    return PF_EINVAL;
  }
  int best = PF_EINVAL;
  for (int j = 0; j < 2 * a->n_allow; j++) {
    int k = j / 2; /* each folder by its realpath, then as it was given */
    const char *base = j % 2 ? a->allow_as[k] : a->allow[k];
    if (j % 2 && strcmp(a->allow_as[k], a->allow[k]) == 0) continue;
    size_t l = strlen(base);
    if (l == 1) l = 0; /* the folder "/" */
    if (strncmp(path, base, l) != 0 || path[l] != '/') continue;
    const char *rel = path + l;
    while (*rel == '/') rel++;
    if (!*rel) continue; /* the folder itself */
    int f = -1;
    int rc = pf_io_open_beneath(a->allow_fd[k], rel, &f);
    if (rc == PF_OK) {
      *fd = f;
      return PF_OK;
    }
    if (rc == PF_ENOENT) best = PF_ENOENT;
  }
  if (best == PF_ENOENT) snprintf(err, errlen, "no such file in the allowed folder");
  else snprintf(err, errlen, "%s", GW_PATH_REFUSED);
  return best;
}
