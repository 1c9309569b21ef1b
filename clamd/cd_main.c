/* pefleet-clamd: clamd's protocol in front of the score pool. Sets up the
 * options, the listeners (TCP and/or a Unix socket) and the pool, then
 * accepts connections until SIGTERM/SIGINT, a thread per connection up to
 * --max-connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cd_conn.h"
#include "cd_scan.h"
#include "clamd.h"
#include "pf_daemon.h"
#include "pf_err.h"
#include "pf_log.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int listen_tcp(const char *address, int port, char *err, size_t errlen) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) {
    snprintf(err, errlen, "--address %s: not an IPv4 address", address);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
    snprintf(err, errlen, "cannot listen on %s:%d: %s", address, port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* A Unix socket made 0600 from the start (umask around bind). A stale
 * socket nobody answers on is replaced; anything else at path is kept. */
static int listen_unix(const char *path, char *err, size_t errlen) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path) { snprintf(err, errlen, "--socket %s: path too long", path); return -1; }
  memcpy(a.sun_path, path, strlen(path));
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) { snprintf(err, errlen, "--socket %s: exists and is not a socket", path); return -1; }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof a) == 0;
    if (probe >= 0) close(probe);
    if (live) { snprintf(err, errlen, "--socket %s: another daemon listens there", path); return -1; }
    unlink(path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  mode_t old = umask(0177);
  int rc = fd >= 0 ? bind(fd, (struct sockaddr *)&a, sizeof a) : -1;
  umask(old);
  if (rc != 0 || listen(fd, 128) != 0) {
    snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

static void accept_one(const cd_opts *o, int lfd, int is_unix) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE) pf_warn("accept: %s", strerror(errno));
    return;
  }
  char peer[96] = "unix";
  if (!is_unix && ss.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    snprintf(peer, sizeof peer, "%s:%u", ip, ntohs(in->sin_port));
  }
  cd_stats_t st;
  cd_stats_get(&st);
  if (st.live_connections >= o->max_connections) {
    static const char busy[] = "ERROR: too many connections, retry later\n";
    ssize_t w = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    close(fd);
    cd_stats_refused();
    pf_warn("connection from %s refused: %d connections open (--max-connections)", peer, st.live_connections);
    return;
  }
  struct timeval tv = {o->read_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* a client that never reads */
  cd_stats_conn(+1);
  if (cd_conn_start(o, fd, is_unix, peer) != PF_OK) pf_warn("connection from %s: no thread for it", peer);
}

int main(int argc, char **argv) {
  static cd_opts o; /* large (allowed folders): not on the stack */
  pf_daemon_keep_heap();
  char err[1200];
  int rc = cd_opts_parse(argc, argv, &o, err, sizeof err);
  if (rc == 1) { cd_opts_usage(stdout); return 0; }
  if (rc != 0) {
    fprintf(stderr, "pefleet-clamd: %s (see pefleet-clamd --help)\n", err);
    return 2;
  }
  pf_log_init("clamd");
  const char *lvl = getenv("PEFLEET_LOG");
  if (lvl && strcmp(lvl, "debug") == 0) pf_log_set_level(PF_LOG_DEBUG);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  int lt = -1, lu = -1;
  if (o.port > 0 && (lt = listen_tcp(o.address, o.port, err, sizeof err)) < 0) { pf_error("%s", err); return 1; }
  if (o.socket_path[0] && (lu = listen_unix(o.socket_path, err, sizeof err)) < 0) {
    pf_error("%s", err);
    return 1;
  }
  cd_budget_init(o.budget);
  if (cd_scan_init(&o) != PF_OK) { pf_error("cannot make a ZeroMQ context"); return 1; }
  char where[1400] = "";
  if (lt >= 0) snprintf(where, sizeof where, "tcp %s:%d", o.address, o.port);
  if (lu >= 0) snprintf(where + strlen(where), sizeof where - strlen(where), "%sunix %s", lt >= 0 ? ", " : "", o.socket_path);
  pf_info("listening on %s; score pool %s; StreamMaxLength %zu bytes, budget %zu bytes, max connections %d, "
          "idle/read timeouts %d/%d s, server-side paths %s, not-PE files %s, SHUTDOWN %s",
          where, o.score_endpoint, o.stream_max, o.budget, o.max_connections, o.idle_timeout_s, o.read_timeout_s,
          o.n_allow ? "beneath --allow-path folders" : "refused", o.not_pe_error ? "ERROR" : "OK",
          o.allow_shutdown ? "allowed" : "refused");
  while (!stop) {
    struct pollfd p[2];
    int n = 0;
    if (lt >= 0) p[n++] = (struct pollfd){.fd = lt, .events = POLLIN};
    if (lu >= 0) p[n++] = (struct pollfd){.fd = lu, .events = POLLIN};
    int pr = poll(p, (nfds_t)n, 500);
    if (pr <= 0) continue;
    for (int i = 0; i < n; i++)
      if (p[i].revents & POLLIN) accept_one(&o, p[i].fd, p[i].fd == lu);
  }
  pf_info("%s: stopping", cd_shutdown_requested ? "SHUTDOWN" : "signal");
  if (lt >= 0) close(lt);
  if (lu >= 0) { close(lu); unlink(o.socket_path); }
  /* connection threads are detached; the process ends with them */
  pf_info("stopped");
  return 0;
}
