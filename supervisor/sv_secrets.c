#include "sv_secrets.h"
#include "pf_err.h"
#include "pf_io.h"
#include "pf_secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes path a folder of mode 0700: created so, or an existing one of this
 * user narrowed (a folder, not a secret file: its mode is the gate). */
static int private_folder(const char *path, char *err, size_t errlen) {
  if (mkdir(path, 0700) == 0) return PF_OK;
  struct stat st;
  if (errno != EEXIST || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "cannot make the folder %s: %s", path, errno == EEXIST ? "not a folder" : strerror(errno));
    return PF_EIO;
  }
  if ((st.st_mode & 077) == 0) return PF_OK;
  if (st.st_uid != geteuid() || chmod(path, 0700) != 0) {
    snprintf(err, errlen, "%s may be read by others (mode %03o) and cannot be made 0700: %s", path,
             (unsigned)(st.st_mode & 0777), st.st_uid != geteuid() ? "another user owns it" : strerror(errno));
    return PF_EIO;
  }
  printf("  %s made private (mode 0700; it was %03o)\n", path, (unsigned)(st.st_mode & 0777));
  return PF_OK;
}

int sv_secrets_prepare(pf_config *cfg, int no_password, char *err, size_t errlen) {
  char p[1200];
  if (private_folder(cfg->data, err, errlen) != PF_OK) return PF_EIO;
  snprintf(p, sizeof p, "%s/redis", cfg->data);
  if (private_folder(p, err, errlen) != PF_OK) return PF_EIO;
  if (no_password) {
    cfg->redis_password[0] = '\0';
    printf("  redis without a password (--no-redis-password): any local user can rewrite its models\n");
    return PF_OK;
  }
  if (cfg->redis_password[0]) {
    printf("  redis password from PEFLEET_REDIS_PASSWORD\n");
    return PF_OK;
  }
  snprintf(p, sizeof p, "%s/pefleet.conf", cfg->data);
  pf_config old;
  pf_config_default(&old, cfg->data);
  char why[600];
  int rc = pf_config_load(&old, p, why, sizeof why);
  if (rc != PF_OK && rc != PF_ENOENT) {
    snprintf(err, errlen, "the existing %s cannot be read, so it is not replaced: %s", p, why);
    memset(&old, 0, sizeof old);
    return rc;
  }
  if (rc == PF_OK && old.redis_password[0]) {
    memcpy(cfg->redis_password, old.redis_password, sizeof cfg->redis_password);
    memset(&old, 0, sizeof old);
    printf("  redis password kept from %s\n", p);
    return PF_OK;
  }
  memset(&old, 0, sizeof old);
  rc = pf_secret_random_hex(cfg->redis_password, sizeof cfg->redis_password, PF_SECRET_PASSWORD_BYTES, err, errlen);
  if (rc != PF_OK) return rc;
  printf("  redis password made (in %s, mode 0600; --no-redis-password for none)\n", p);
  return PF_OK;
}

int sv_secrets_redis_stdin(const pf_config *c) {
  if (!c->redis_password[0]) return 0;
  /* a quoted redis.conf string: \" \\ and bytes outside printable ASCII as \xHH */
  char line[sizeof c->redis_password * 4 + 32];
  size_t n = (size_t)snprintf(line, sizeof line, "requirepass \"");
  for (const unsigned char *s = (const unsigned char *)c->redis_password; *s; s++) {
    if (*s == '"' || *s == '\\') { line[n++] = '\\'; line[n++] = (char)*s; }
    else if (*s < 0x20 || *s >= 0x7f) n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", *s);
    else line[n++] = (char)*s;
  }
  line[n++] = '"';
  line[n++] = '\n';
  int fds[2];
  if (pipe(fds) != 0) return -1;
  int bad = pf_io_write_all(fds[1], line, n) != 0; /* far below a pipe's buffer */
  memset(line, 0, sizeof line);
  close(fds[1]);
  if (bad || dup2(fds[0], 0) < 0) { close(fds[0]); return -1; }
  close(fds[0]);
  return 1;
}
