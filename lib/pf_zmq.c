#include "pf_zmq.h"
#include "pf_err.h"

#include <errno.h>
#include <stdlib.h>

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
