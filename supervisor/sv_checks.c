/* What pefleet up checks before it starts a fleet, and how it takes back
 * a start that failed (see sv_checks.h). */
#include "sv_checks.h"
#include "pf_clock.h"
#include "pf_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

int sv_fleet_id(pf_config *c, char *err, size_t errlen) {
  if (c->fleet_id[0]) return PF_OK; /* PEFLEET_FLEET_ID: the daemons inherit it too */
  char path[1100];
  snprintf(path, sizeof path, "%s/pefleet.conf", c->data);
  pf_config old;
  char lerr[512];
  pf_config_default(&old, c->data);
  if (pf_config_load(&old, path, lerr, sizeof lerr) == PF_OK && old.fleet_id[0]) {
    snprintf(c->fleet_id, sizeof c->fleet_id, "%s", old.fleet_id);
    return PF_OK;
  }
  unsigned char r[16];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
    snprintf(err, errlen, "cannot read random bytes for the fleet id: %s", strerror(errno));
    return PF_EIO;
  }
  for (size_t i = 0; i < sizeof r; i++) snprintf(c->fleet_id + 2 * i, 3, "%02x", r[i]);
  return PF_OK;
}

typedef struct {
  const char *what;   /* role, for the message */
  const char *option; /* the up option that moves it */
  char host[256];
  int port;
} sv_port;

/* "tcp://HOST:PORT" into p; 0 for other transports (nothing to check). */
static int tcp_endpoint(const char *ep, sv_port *p) {
  if (strncmp(ep, "tcp://", 6) != 0) return 0;
  const char *hp = ep + 6, *colon = strrchr(hp, ':');
  if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof p->host) return 0;
  snprintf(p->host, sizeof p->host, "%.*s", (int)(colon - hp), hp);
  if (strcmp(p->host, "*") == 0) snprintf(p->host, sizeof p->host, "0.0.0.0");
  p->port = atoi(colon + 1);
  return p->port > 0 && p->port < 65536;
}

/* 0 when host:port can be bound now, else errno. */
static int try_bind(const char *host, int port) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai) return EADDRNOTAVAIL;
  int e = 0;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) e = errno;
  else {
    int one = 1; /* as redis and ZeroMQ bind: a port in TIME_WAIT is free */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) e = errno;
    close(fd);
  }
  freeaddrinfo(ai);
  return e;
}

int sv_ports_check(const pf_config *c, char *err, size_t errlen) {
  sv_port p[7];
  int n = 0;
  p[n] = (sv_port){"Redis", "--redis-port", "", c->redis_port};
  snprintf(p[n++].host, sizeof p[0].host, "%s", c->redis_host);
  const struct { const char *what, *option, *ep; int need; } eps[] = {
    {"broker ingest", "--ingest-port", c->ingest_endpoint, 1},
    {"broker workers", "--worker-port", c->worker_endpoint, 1},
    {"score router", "--score-port", c->score_endpoint, c->scorers > 0},
    {"score router's scorers", "--scorer-port", c->scorer_endpoint, c->scorers > 0},
    {"similarity service", "--similar-port", c->similar_endpoint, c->scorers > 0 && c->similar},
  };
  for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
    if (!eps[i].need || !tcp_endpoint(eps[i].ep, &p[n])) continue;
    p[n].what = eps[i].what;
    p[n++].option = eps[i].option;
  }
  sv_port http = {"HTTP gateway", "--port", "", c->http_port};
  snprintf(http.host, sizeof http.host, "%s", c->http_address);
  if (c->scorers > 0 && c->gateway && n < 7) p[n++] = http;
  sv_port clamd = {"clamd protocol (pefleet-clamd)", "--clamd-port", "127.0.0.1", c->clamd_port};
  if (c->scorers > 0 && c->clamd_port > 0 && n < 7) p[n++] = clamd;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < i; j++)
      if (p[j].port == p[i].port) {
        snprintf(err, errlen, "the %s and the %s would both use port %d (%s)", p[j].what, p[i].what, p[i].port,
                 p[i].option);
        return PF_EINVAL;
      }
    int e = try_bind(p[i].host, p[i].port);
    if (e) {
      snprintf(err, errlen, "port %d (%s, %s:%d) is %s; nothing was started (another fleet? choose another with %s)",
               p[i].port, p[i].what, p[i].host, p[i].port, e == EADDRINUSE ? "already in use" : strerror(e),
               p[i].option);
      return PF_EIO;
    }
  }
  return PF_OK;
}

void sv_abort(const pf_config *c, const sv_state *st) {
  if (st->supervisor > 0 && sv_alive(st->supervisor)) {
    kill(st->supervisor, SIGTERM);
    double until = pf_clock_s() + 30;
    while (sv_alive(st->supervisor) && pf_clock_s() < until) usleep(50 * 1000);
    if (sv_alive(st->supervisor)) kill(st->supervisor, SIGKILL);
  }
  /* what the supervisor could not stop (it was killed, or never saved a
   * pid): only processes that belong to this fleet folder */
  int idx[SV_MAX_DAEMONS];
  int n = sv_orphans(c, st, idx, SV_MAX_DAEMONS);
  for (int k = 0; k < n; k++) kill(st->d[idx[k]].pid, SIGKILL);
  char p[1100];
  snprintf(p, sizeof p, "%s/fleet.state", c->data);
  unlink(p);
}
