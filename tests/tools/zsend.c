/* zsend: sends one (usually bad) message to a pefleet ZeroMQ endpoint and
 * prints the reply, for the integration tests of the broker's input checks.
 *
 *   zsend [--delim|--no-delim] [--timeout MS] [--curve KEYFILE SERVERKEY] ENDPOINT MODE [ARG...]
 *
 * Connects a DEALER to ENDPOINT, sends one message, and prints one line:
 *   ack status=N (NAME) sha256=SHA sample_status=S error=TEXT   an IngestAck
 *   reply BODY                                                  another envelope
 *   bad reply: REASON                                           not an envelope
 *   no reply                                                    nothing within MS (default 2000)
 * MODEs:
 *   garbage N [SEED]   N random bytes (SEED: reproducible bytes)
 *   oversize N         N zero bytes, N > 65536
 *   version2           a valid IngestRequest envelope with version 2
 *   empty              an envelope with version 1 and no body
 *   frames K           K empty frames
 *   ingest SHA LABEL   an IngestRequest (size 0)
 *   job-to-ingest      an EncodeJob, meant for the ingest socket
 * ingest and job-to-ingest are sent behind the empty delimiter frame, as
 * `pefleet ingest` does; the other modes are one bare frame, so that they
 * reach the decoder on the ingest and the worker endpoint alike.
 * --delim / --no-delim override that. --curve: a CURVE client with the key
 * pair KEYFILE (pefleet keygen) and the server's public key SERVERKEY (Z85
 * or a .pub file), as curve_secret_file and curve_server_key. Exit status: 0 sent (reply or not),
 * 1 could not send, 2 usage. */
#include "pf_config.h"
#include "pf_curve.h"
#include "pf_msg.h"
#include "pf_zmq.h"
#include "pf_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define SHA_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static void usage(void) {
  fprintf(stderr, "usage: zsend [--delim|--no-delim] [--timeout MS] [--curve KEYFILE SERVERKEY] ENDPOINT MODE [ARG...]\n"
                  "modes: garbage N [SEED] | oversize N | version2 | empty | frames K |\n"
                  "       ingest SHA LABEL | job-to-ingest\n");
  exit(2);
}

static long num_arg(const char *s, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) {
    fprintf(stderr, "zsend: %s: expected a number in %ld..%ld\n", s, lo, hi);
    exit(2);
  }
  return v;
}

/* Packs env exactly as given (version included). Caller frees. */
static uint8_t *pack_raw(const Pefleet__Envelope *env, size_t *len) {
  *len = pefleet__envelope__get_packed_size(env);
  uint8_t *buf = malloc(*len ? *len : 1);
  if (!buf) { fprintf(stderr, "zsend: out of memory\n"); exit(1); }
  pefleet__envelope__pack(env, buf);
  return buf;
}

static const char *status_name(int s) {
  switch (s) {
  case PEFLEET__INGEST_STATUS__INGEST_QUEUED: return "queued";
  case PEFLEET__INGEST_STATUS__INGEST_DUPLICATE: return "duplicate";
  case PEFLEET__INGEST_STATUS__INGEST_REJECTED: return "rejected";
  case PEFLEET__INGEST_STATUS__INGEST_UNAVAILABLE: return "unavailable";
  default: return "unknown";
  }
}

/* Prints the reply (its last frame) as one line. */
static void print_reply(pf_zframes *f) {
  if (f->n < 1) { printf("bad reply: no frames\n"); return; }
  char err[256];
  zmq_msg_t *last = &f->part[f->n - 1];
  Pefleet__Envelope *e = pf_msg_decode(zmq_msg_data(last), zmq_msg_size(last), PF_MSG_MAX_CONTROL, err, sizeof err);
  if (!e) { printf("bad reply: %s\n", err); return; }
  if (e->body_case == PEFLEET__ENVELOPE__BODY_INGEST_ACK) {
    const Pefleet__IngestAck *a = e->ingest_ack;
    printf("ack status=%d (%s) sha256=%s sample_status=%s error=%s\n", (int)a->status, status_name((int)a->status),
           a->sha256[0] ? a->sha256 : "-", a->sample_status[0] ? a->sample_status : "-", a->error);
  } else {
    printf("reply %s\n", pf_msg_body_name(e));
  }
  pf_msg_free(e);
}

int main(int argc, char **argv) {
  int delim = -1; /* -1: the mode's default */
  long timeout_ms = 2000;
  static pf_config cc; /* curve off unless --curve */
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--delim") == 0) delim = 1;
    else if (strcmp(argv[i], "--no-delim") == 0) delim = 0;
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout_ms = num_arg(argv[++i], 0, 600000);
    else if (strcmp(argv[i], "--curve") == 0 && i + 2 < argc) {
      cc.curve = 1;
      snprintf(cc.curve_secret_file, sizeof cc.curve_secret_file, "%s", argv[++i]);
      snprintf(cc.curve_server_key, sizeof cc.curve_server_key, "%s", argv[++i]);
    }
    else usage();
  }
  if (argc - i < 2) usage();
  const char *endpoint = argv[i], *mode = argv[i + 1];
  char **arg = argv + i + 2;
  int nargs = argc - i - 2;

  /* the frames to send after the optional delimiter */
  uint8_t *payload = NULL;
  size_t plen = 0;
  int nframes = 1; /* frames mode: that many empty frames, no payload */
  int mode_delim = 0;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  Pefleet__EncodeJob job = PEFLEET__ENCODE_JOB__INIT;
  if (strcmp(mode, "garbage") == 0 && (nargs == 1 || nargs == 2)) {
    plen = (size_t)num_arg(arg[0], 0, 1L << 30);
    unsigned seed = nargs == 2 ? (unsigned)num_arg(arg[1], 0, 0x7fffffff) : (unsigned)time(NULL) ^ (unsigned)getpid();
    payload = malloc(plen ? plen : 1);
    if (!payload) { fprintf(stderr, "zsend: out of memory\n"); return 1; }
    srand(seed);
    for (size_t k = 0; k < plen; k++) payload[k] = (uint8_t)(rand() >> 7);
  } else if (strcmp(mode, "oversize") == 0 && nargs == 1) {
    plen = (size_t)num_arg(arg[0], (long)PF_MSG_MAX_CONTROL + 1, 1L << 30);
    payload = calloc(1, plen);
    if (!payload) { fprintf(stderr, "zsend: out of memory\n"); return 1; }
  } else if ((strcmp(mode, "version2") == 0 || strcmp(mode, "empty") == 0) && nargs == 0) {
    env.version = 2;
    if (strcmp(mode, "empty") == 0) {
      env.version = PF_PROTO_VERSION;
    } else {
      rq.sha256 = (char *)SHA_ZERO;
      rq.label = (char *)"clean";
      rq.size = 1;
      env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
      env.ingest = &rq;
    }
    payload = pack_raw(&env, &plen);
  } else if (strcmp(mode, "frames") == 0 && nargs == 1) {
    nframes = (int)num_arg(arg[0], 1, 100000);
  } else if (strcmp(mode, "ingest") == 0 && nargs == 2) {
    rq.sha256 = arg[0];
    rq.label = arg[1];
    env.version = PF_PROTO_VERSION;
    env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
    env.ingest = &rq;
    payload = pack_raw(&env, &plen);
    mode_delim = 1;
  } else if (strcmp(mode, "job-to-ingest") == 0 && nargs == 0) {
    job.sha256 = (char *)SHA_ZERO;
    job.attempt = 1;
    env.version = PF_PROTO_VERSION;
    env.body_case = PEFLEET__ENVELOPE__BODY_JOB;
    env.job = &job;
    payload = pack_raw(&env, &plen);
    mode_delim = 1;
  } else {
    usage();
  }
  if (delim < 0) delim = mode_delim;

  void *ctx = zmq_ctx_new();
  void *sock = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 1000, tmo = (int)timeout_ms;
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sock, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
  char cerr[1400];
  if (pf_curve_client(sock, &cc, cerr, sizeof cerr) != PF_OK) {
    fprintf(stderr, "zsend: %s\n", cerr);
    return 1;
  }
  if (zmq_connect(sock, endpoint) != 0) {
    fprintf(stderr, "zsend: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
    return 1;
  }
  int rc = 0;
  if (delim && zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0) rc = -1;
  if (payload) {
    if (rc == 0 && zmq_send(sock, payload, plen, 0) < 0) rc = -1;
  } else {
    for (int k = 0; rc == 0 && k < nframes; k++)
      if (zmq_send(sock, "", 0, k + 1 < nframes ? ZMQ_SNDMORE : 0) < 0) rc = -1;
  }
  free(payload);
  if (rc != 0) {
    fprintf(stderr, "zsend: cannot send to %s: %s\n", endpoint, zmq_strerror(errno));
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 1;
  }

  zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&it, 1, timeout_ms) > 0 && (it.revents & ZMQ_POLLIN)) {
    pf_zframes f;
    int r = pf_zrecv(sock, &f, ZMQ_DONTWAIT);
    if (r == PF_OK) print_reply(&f);
    else if (r == PF_ELIMIT) printf("bad reply: %d frames\n", f.dropped);
    else printf("no reply\n");
    pf_zframes_close(&f);
  } else {
    printf("no reply\n");
  }
  fflush(stdout);
  zmq_close(sock);
  zmq_ctx_term(ctx);
  return 0;
}
