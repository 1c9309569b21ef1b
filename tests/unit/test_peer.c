/* Unit tests of lib/net/pf_peer: the heartbeat cadence, a peer's expiry
 * (interval x liveness), the redial backoff (250 ms doubling to 8 s, over
 * once the server speaks) and the supervisor's restart backoff, on a clock
 * the test sets; and a DEALER dialled to a real ROUTER. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_peer.h"

#include <zmq.h>

static pf_config cfg_of(int interval, int liveness) {
  pf_config c;
  pf_config_default(&c, "/nonexistent");
  c.heartbeat_ms = interval;
  c.liveness = liveness;
  return c;
}

static void test_heartbeat_cadence(void **state) {
  pf_config c = cfg_of(1000, 3);
  pf_heartbeat h;
  pf_heartbeat_init(&h, &c, 5000);
  assert_int_equal(pf_heartbeat_expiry_ms(&h), 3000);
  assert_int_equal(pf_heartbeat_due(&h, 5999), 0);
  assert_int_equal(pf_heartbeat_due(&h, 6000), 1);
  assert_int_equal(pf_heartbeat_due(&h, 6000), 0); /* once per interval */
  assert_int_equal(pf_heartbeat_due(&h, 6999), 0);
  assert_int_equal(pf_heartbeat_due(&h, 7500), 1); /* the next one counts from when it went */
  assert_int_equal(h.next_ms, 8500);
  /* dead only past interval x liveness */
  assert_int_equal(pf_heartbeat_expired(&h, 1000, 4000), 0);
  assert_int_equal(pf_heartbeat_expired(&h, 1000, 4001), 1);
}

static void test_backoff(void **state) {
  static const int client[] = {250, 500, 1000, 2000, 4000, 8000, 8000, 8000};
  for (int i = 0; i < 8; i++) assert_int_equal(pf_backoff_ms(i, 250, 8000), client[i]);
  /* the supervisor's restarts: 0.25 s doubling to 30 s (32 s capped) */
  assert_int_equal(pf_backoff_ms(6, 250, 30000), 16000);
  assert_int_equal(pf_backoff_ms(7, 250, 30000), 30000);
  assert_int_equal(pf_backoff_ms(1000, 250, 30000), 30000);
}

static void test_redial_backoff(void **state) {
  pf_config c = cfg_of(100, 3);
  pf_peer p;
  pf_peer_init(&p, &c);
  pf_peer_dialled(&p, 1000);
  assert_int_equal(p.hb.next_ms, 1100);
  int64_t silent = -1;
  assert_int_equal(pf_peer_lost(&p, 1300, &silent), 0); /* 300 ms: not past the expiry */
  assert_int_equal(silent, 300);
  assert_int_equal(pf_peer_lost(&p, 1301, &silent), 1);
  assert_int_equal(p.backoff_ms, 250);
  /* each redial waits the expiry plus a longer backoff */
  int64_t now = 1301;
  static const int want[] = {500, 1000, 2000, 4000, 8000, 8000};
  for (int k = 0; k < 6; k++) {
    pf_peer_dialled(&p, now);
    int64_t wait = pf_heartbeat_expiry_ms(&p.hb) + p.backoff_ms;
    assert_int_equal(pf_peer_lost(&p, now + wait, NULL), 0);
    assert_int_equal(pf_peer_lost(&p, now + wait + 1, NULL), 1);
    assert_int_equal(p.backoff_ms, want[k]);
    now += wait + 1;
  }
  /* the server speaks: the backoff starts over */
  pf_peer_heard(&p, now);
  assert_int_equal(p.backoff_ms, 0);
  assert_int_equal(pf_peer_lost(&p, now + 300, NULL), 0);
  assert_int_equal(pf_peer_lost(&p, now + 301, NULL), 1);
  assert_int_equal(p.backoff_ms, 250);
}

/* pf_peer_dial: a DEALER with the given identity reaches a ROUTER, and a
 * redial replaces the socket (a new identity here: the ROUTER may not
 * have seen the old connection go yet). */
static void test_dial(void **state) {
  pf_config c = cfg_of(1000, 3);
  void *ctx = zmq_ctx_new();
  void *router = zmq_socket(ctx, ZMQ_ROUTER);
  int zero = 0;
  zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof zero);
  assert_int_equal(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
  char ep[256];
  size_t eplen = sizeof ep;
  zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &eplen);
  char err[256];
  assert_int_equal(pf_peer_check_keys(ctx, &c, err, sizeof err), PF_OK); /* no CURVE: nothing to check */
  void *sock = NULL;
  int timeout = 5000;
  zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  for (int round = 0; round < 2; round++) {
    const char *name = round ? "peer-two" : "peer-one";
    assert_int_equal(pf_peer_dial(ctx, &c, ep, name, 4096, 10, &sock), PF_OK);
    assert_non_null(sock);
    assert_true(zmq_send(sock, "hi", 2, 0) == 2);
    char id[64], body[8];
    assert_int_equal(zmq_recv(router, id, sizeof id, 0), 8);
    assert_memory_equal(id, name, 8);
    assert_int_equal(zmq_recv(router, body, sizeof body, 0), 2);
  }
  zmq_close(sock);
  zmq_close(router);
  zmq_ctx_term(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_heartbeat_cadence),
    cmocka_unit_test(test_backoff),
    cmocka_unit_test(test_redial_backoff),
    cmocka_unit_test(test_dial),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
