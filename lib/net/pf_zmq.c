#include "pf_zmq.h"
#include "pf_err.h"

#include "pf_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int pf_zrecv(void *sock, pf_zframes *f, int flags) {
  f->n = 0;
  f->dropped = 0;
  int more = 1;
  while (more) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, f->n == 0 && f->dropped == 0 ? flags : 0) < 0) {
      int e = errno;
      zmq_msg_close(&m);
      pf_zframes_close(f);
      errno = e;
      return PF_EIO;
    }
    more = zmq_msg_more(&m);
    if (f->n < PF_ZMQ_MAX_FRAMES) f->part[f->n++] = m;
    else { zmq_msg_close(&m); f->dropped++; }
  }
  if (f->dropped) {
    /* nothing of an over-long message is kept: the caller only logs it */
    f->dropped += f->n;
    pf_zframes_close(f);
    return PF_ELIMIT;
  }
  return PF_OK;
}

void pf_zframes_close(pf_zframes *f) {
  for (int i = 0; i < f->n; i++) zmq_msg_close(&f->part[i]);
  f->n = 0;
}

int pf_zsend_env(void *sock, const void *id, size_t idlen, int delim, Pefleet__Envelope *env) {
  uint8_t *buf = NULL;
  long n = pf_msg_encode(env, &buf);
  if (n < 0) return PF_ENOMEM;
  int rc = PF_OK;
  if (id && zmq_send(sock, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) rc = PF_EIO;
  if (rc == PF_OK && delim && zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) rc = PF_EIO;
  if (rc == PF_OK && zmq_send(sock, buf, (size_t)n, ZMQ_DONTWAIT) < 0) rc = PF_EIO;
  int e = errno;
  free(buf);
  errno = e;
  return rc;
}

/* Why a plain TCP connect to a tcp://HOST:PORT endpoint fails (within
 * about a second), into err; "" when it connects or is not TCP. */
static void tcp_reason(const char *endpoint, char *err, size_t errlen) {
  err[0] = '\0';
  if (strncmp(endpoint, "tcp://", 6) != 0) return;
  char host[256];
  const char *hp = endpoint + 6, *colon = strrchr(hp, ':');
  if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof host) return;
  snprintf(host, sizeof host, "%.*s", (int)(colon - hp), hp);
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  int g = getaddrinfo(host, colon + 1, &hints, &ai);
  if (g != 0 || !ai) { snprintf(err, errlen, "cannot resolve %.200s: %s", host, gai_strerror(g)); return; }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    e = errno;
    if (e == EINPROGRESS) {
      struct pollfd p = {fd, POLLOUT, 0};
      socklen_t len = sizeof e;
      e = poll(&p, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 ? e : ETIMEDOUT;
    }
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(ai);
  if (e) snprintf(err, errlen, "%s", strerror(e));
}

int pf_zmq_connect_wait(void *ctx, void *sock, const char *endpoint, int timeout_ms, char *err, size_t errlen,
                        double *waited_s) {
  static int seq;
  char mon[64];
  snprintf(mon, sizeof mon, "inproc://pf-zmq-connect-wait-%d-%d", (int)getpid(), seq++);
  double t0 = pf_clock_s();
  if (waited_s) *waited_s = 0;
  int events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
  void *pair = NULL;
  if (zmq_socket_monitor(sock, mon, events) == 0) {
    pair = zmq_socket(ctx, ZMQ_PAIR);
    if (pair && zmq_connect(pair, mon) != 0) { zmq_close(pair); pair = NULL; }
  }
  if (zmq_connect(sock, endpoint) != 0) {
    snprintf(err, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
    if (pair) zmq_close(pair);
    zmq_socket_monitor(sock, NULL, 0);
    return PF_EIO;
  }
  if (!pair) return PF_OK; /* cannot watch: the caller's own timeouts apply */
  int connected = 0, auth = -1, proto = 0, ok = 0;
  while (!ok) {
    long left = (long)(timeout_ms - (pf_clock_s() - t0) * 1000);
    if (left <= 0) break;
    zmq_pollitem_t pi = {pair, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&pi, 1, left) <= 0) continue;
    pf_zframes f;
    if (pf_zrecv(pair, &f, ZMQ_DONTWAIT) != PF_OK) continue;
    if (f.n >= 1 && zmq_msg_size(&f.part[0]) >= 6) {
      const uint8_t *d = zmq_msg_data(&f.part[0]);
      uint16_t ev;
      uint32_t val;
      memcpy(&ev, d, 2);
      memcpy(&val, d + 2, 4);
      if (ev == ZMQ_EVENT_CONNECTED) connected = 1;
      else if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) ok = 1;
      else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) auth = (int)val;
      else proto = 1;
    }
    pf_zframes_close(&f);
  }
  zmq_socket_monitor(sock, NULL, 0);
  zmq_close(pair);
  if (waited_s) *waited_s = pf_clock_s() - t0;
  if (ok) return PF_OK;
  char why[256];
  if (auth >= 0) snprintf(err, errlen, "it refused this client's CURVE key (ZAP status %d)", auth);
  else if (proto) snprintf(err, errlen, "the ZeroMQ handshake failed (a CURVE setting that does not match?)");
  else if (connected)
    snprintf(err, errlen, "something listens there but completed no ZeroMQ handshake "
                          "(not a pefleet daemon, or a CURVE server key that does not match)");
  else if (tcp_reason(endpoint, why, sizeof why), why[0]) snprintf(err, errlen, "%s", why);
  else snprintf(err, errlen, "no connection was made");
  return PF_ETIMEOUT;
}
