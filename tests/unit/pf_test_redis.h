/* pf_test_redis: the throwaway redis-server the pf_db unit tests run against.
 * Defines its start/stop (free port, temp folder), admin commands, NEED_REDIS, setup, sha_named.
 * Called by tests/unit/test_db.c and tests/unit/test_db_import.c. */
#ifndef PF_TEST_REDIS_H
#define PF_TEST_REDIS_H

#include "pf_test.h"

#include "pf_db.h"
#include "pf_err.h"
#include "pf_hash.h"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the server ---- */

static char redis_bin[1024]; /* empty: redis-server not installed */
static char tmpdir[256];
static int port;
static pid_t redis_pid = -1;

/* $REDIS_SERVER when set (a path; anything not executable means "absent"),
 * else redis-server from PATH or the usual folders. */
static inline int find_redis(void) {
  const char *env = getenv("REDIS_SERVER");
  if (env && *env) {
    snprintf(redis_bin, sizeof redis_bin, "%s", env);
    if (access(redis_bin, X_OK) == 0) return 1;
    redis_bin[0] = '\0';
    return 0;
  }
  const char *path = getenv("PATH");
  char dirs[4096];
  snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/sbin:/usr/local/bin", path ? path : "");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(redis_bin, sizeof redis_bin, "%s/redis-server", d);
    if (access(redis_bin, X_OK) == 0) return 1;
  }
  redis_bin[0] = '\0';
  return 0;
}

/* Skips the current cmocka test, saying so, when redis-server is absent. */
#define NEED_REDIS()                                   \
  do {                                                 \
    if (!redis_bin[0]) {                               \
      printf("skipped: redis-server not installed\n"); \
      skip();                                          \
    }                                                  \
  } while (0)

static inline int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  int p = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &n) == 0)
    p = ntohs(a.sin_port);
  close(fd);
  return p;
}

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fresh admin connection (AUTHed when password is set); NULL on failure. */
static inline redisContext *admin_connect(const char *password) {
  struct timeval tv = {2, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!c || c->err) {
    if (c) redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  if (password) {
    redisReply *r = redisCommand(c, "AUTH %s", password);
    if (r) freeReplyObject(r);
  }
  return c;
}

static inline int server_pings(void) {
  redisContext *c = admin_connect(NULL);
  if (!c) return 0;
  redisReply *r = redisCommand(c, "PING");
  int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
  if (r) freeReplyObject(r);
  redisFree(c);
  return ok;
}

static inline void show_log(void) {
  char path[512], line[512];
  snprintf(path, sizeof path, "%s/redis.log", tmpdir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) printf("  redis: %s", line);
  fclose(f);
}

/* Starts redis-server on port and waits until it answers PING. */
static inline int start_redis(void) {
  char p[16], log[512];
  snprintf(p, sizeof p, "%d", port);
  snprintf(log, sizeof log, "%s/redis.log", tmpdir);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(redis_bin, redis_bin, "--port", p, "--bind", "127.0.0.1", "--dir", tmpdir, "--save", "", "--appendonly",
          "no", "--daemonize", "no", (char *)NULL);
    _exit(127);
  }
  redis_pid = pid;
  double t0 = now_s();
  while (now_s() - t0 < 10) {
    if (server_pings()) return 0;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      redis_pid = -1;
      printf("redis-server exited at start:\n");
      show_log();
      return -1;
    }
    usleep(20 * 1000);
  }
  printf("redis-server did not answer PING within 10 s\n");
  show_log();
  return -1;
}

/* Sends sig (after SIGCONT, in case it was stopped) and reaps the server,
 * escalating to SIGKILL after 5 s. */
static inline void stop_redis(int sig) {
  if (redis_pid <= 0) return;
  kill(redis_pid, SIGCONT);
  kill(redis_pid, sig);
  double t0 = now_s();
  int st;
  while (waitpid(redis_pid, &st, WNOHANG) == 0) {
    if (now_s() - t0 > 5) kill(redis_pid, SIGKILL);
    usleep(10 * 1000);
  }
  redis_pid = -1;
}

/* The group setup: a temporary folder $TMPDIR/<name>.XXXXXX, a free port and
 * the server on it. 0 (and every test skipped) when redis-server is absent. */
static inline int redis_group_setup(const char *name) {
  if (!find_redis()) return 0;
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
  if (!mkdtemp(tmpdir)) {
    printf("cannot make a temporary folder: %s\n", strerror(errno));
    tmpdir[0] = '\0';
    return -1;
  }
  port = free_port();
  if (port <= 0) {
    printf("no free port\n");
    return -1;
  }
  return start_redis();
}

/* The group teardown: stops the server with sig and removes the folder. */
static inline int redis_group_teardown(int sig) {
  stop_redis(sig);
  if (tmpdir[0]) {
    char path[512];
    const char *files[] = {"redis.log", "dump.rdb"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
      unlink(path);
    }
    rmdir(tmpdir);
  }
  return 0;
}

/* ---- admin helpers: raw hiredis beside the code under test ---- */

/* Runs one command on a fresh connection; NULL when unreachable. */
static inline redisReply *adminv(const char *fmt, va_list ap) {
  redisContext *c = admin_connect(NULL);
  if (!c) return NULL;
  redisReply *r = redisvCommand(c, fmt, ap);
  redisFree(c);
  return r;
}

static inline redisReply *admin(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = adminv(fmt, ap);
  va_end(ap);
  return r;
}

/* Runs a command; returns its integer (a bulk string is parsed; -1 for nil
 * or anything else). */
static inline long long admin_int(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = adminv(fmt, ap);
  va_end(ap);
  long long v = -1;
  if (r && r->type == REDIS_REPLY_INTEGER) v = r->integer;
  else if (r && r->type == REDIS_REPLY_STRING) v = strtoll(r->str, NULL, 10);
  if (r) freeReplyObject(r);
  return v;
}

/* Runs a command; fails the test when it is unreachable or answers an error. */
static inline void admin_do(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = adminv(fmt, ap);
  va_end(ap);
  if (!r) fail_msg("admin command failed: %s", fmt);
  if (r->type == REDIS_REPLY_ERROR) {
    char e[256];
    snprintf(e, sizeof e, "%s", r->str);
    freeReplyObject(r);
    fail_msg("admin command %s: %s", fmt, e);
  }
  freeReplyObject(r);
}

/* ---- fixtures ---- */

/* Per-test setup: the server up (restarted if a test stopped it), emptied,
 * scripts flushed, and a pf_db connected to it in *state (NULL when
 * redis-server is absent). */
static inline int setup(void **state) {
  *state = NULL;
  if (!redis_bin[0]) return 0;
  if (redis_pid <= 0 && start_redis() != 0) return -1;
  admin_do("FLUSHALL");
  admin_do("SCRIPT FLUSH"); /* every test starts with EVALSHA -> NOSCRIPT -> EVAL */
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = port;
  pf_db *db = NULL;
  char err[256];
  if (pf_db_connect(&o, &db, err, sizeof err) != PF_OK) {
    printf("connect: %s\n", err);
    return -1;
  }
  *state = db;
  return 0;
}

/* out = hex SHA-256 of "<prefix><i>": a stable, distinct sample name per i. */
static inline void sha_named(const char *prefix, int i, char out[PF_SHA256_HEX_LEN + 1]) {
  char msg[32];
  uint8_t d[PF_SHA256_LEN];
  int n = snprintf(msg, sizeof msg, "%s%d", prefix, i);
  assert_int_equal(pf_sha256((const uint8_t *)msg, (size_t)n, d), PF_OK);
  pf_hex(d, sizeof d, out);
}

#endif
