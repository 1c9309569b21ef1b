/* Unit tests of pf_curve: key pair files (format, checks, permissions),
 * public keys, the server/client socket set-up from a pf_config, and roles:
 * a key is admitted only at the server sockets of the role whose allow list
 * holds it (clients, workers, scorers), and each refusal is logged. */
#include "pf_test.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "pf_config.h"
#include "pf_curve.h"
#include "pf_err.h"

static char dir[64];

static int setup(void **state) {
  (void)state;
  return pf_test_mkdtemp(dir, sizeof dir, "pf-curve-test");
}

static int teardown(void **state) {
  (void)state;
  return pf_test_rmtree(dir);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* keygen's files read back to the same pair, with the modes it promises */
static void test_write_read_roundtrip(void **state) {
  (void)state;
  pf_curve_keypair kp, back;
  char err[1400], path[256];
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "w1", &kp, 0, err, sizeof err), PF_OK);
  snprintf(path, sizeof path, "%s/w1.key", dir);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(pf_curve_read_keypair(path, &back, err, sizeof err), PF_OK);
  assert_string_equal(back.pub, kp.pub);
  assert_string_equal(back.sec, kp.sec);
  /* the .pub holds the public key */
  uint8_t buf[256];
  char pub[PF_CURVE_Z85_LEN + 1];
  snprintf(path, sizeof path, "%s/w1.pub", dir);
  size_t n = slurp(path, buf, sizeof buf);
  assert_int_equal(pf_curve_parse_public(buf, n, pub, err, sizeof err), PF_OK);
  assert_string_equal(pub, kp.pub);
  /* an existing key is not replaced without force */
  assert_int_equal(pf_curve_write(dir, "w1", &kp, 0, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "exists"));
  assert_int_equal(pf_curve_write(dir, "w1", &kp, 1, err, sizeof err), PF_OK);
  /* names that would leave the folder are refused */
  assert_int_equal(pf_curve_write(dir, "../x", &kp, 0, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_curve_write(dir, ".hidden", &kp, 0, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_curve_write(dir, "", &kp, 0, err, sizeof err), PF_EINVAL);
}

/* a secret file others may read is refused, as ssh does */
static void test_open_permissions_refused(void **state) {
  (void)state;
  pf_curve_keypair kp, back;
  char err[1400], path[256];
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "open", &kp, 0, err, sizeof err), PF_OK);
  snprintf(path, sizeof path, "%s/open.key", dir);
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(pf_curve_read_keypair(path, &back, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "chmod 600"));
}

static int parse(const char *text, pf_curve_keypair *kp, char *err) {
  return pf_curve_parse_keypair((const uint8_t *)text, strlen(text), kp, err, 256);
}

/* every way a key pair file can be wrong is refused with a reason */
static void test_parse_keypair_checks(void **state) {
  (void)state;
  pf_curve_keypair kp, other, got;
  char err[256], text[512];
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_generate(&other, err, sizeof err), PF_OK);
  snprintf(text, sizeof text, "# c\n\npefleet-curve-keypair 1\npublic %s\nsecret %s\n", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_OK);
  assert_string_equal(got.sec, kp.sec);
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\r\npublic %s\r\nsecret %s", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_OK); /* CRLF, no final newline */

  assert_int_equal(parse("", &got, err), PF_EINVAL);
  assert_non_null(strstr(err, "not a pefleet key pair file"));
  snprintf(text, sizeof text, "pefleet-curve-keypair 2\npublic %s\nsecret %s\n", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_EINVAL);
  assert_non_null(strstr(err, "version"));
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\nsecret %s\npublic %s\n", kp.sec, kp.pub);
  assert_int_equal(parse(text, &got, err), PF_EINVAL); /* order */
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\npublic %s\nsecret %.39s\n", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_EINVAL); /* short key */
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\npublic %s\nsecret %.39s~\n", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_EINVAL); /* not Z85 */
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\npublic %s\nsecret %s\n", other.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_EINVAL); /* halves of two pairs */
  assert_non_null(strstr(err, "not the one its secret key gives"));
  snprintf(text, sizeof text, "pefleet-curve-keypair 1\npublic %s\nsecret %s\nmore\n", kp.pub, kp.sec);
  assert_int_equal(parse(text, &got, err), PF_EINVAL);
  assert_string_equal(got.sec, ""); /* nothing half-filled on failure */
  static uint8_t big[PF_CURVE_MAX_FILE + 1];
  assert_int_equal(pf_curve_parse_keypair(big, sizeof big, &got, err, sizeof err), PF_EINVAL);
}

/* .pub files: comment lines, one key line, nothing else */
static void test_parse_public(void **state) {
  (void)state;
  char out[PF_CURVE_Z85_LEN + 1], err[256], text[160];
  pf_curve_keypair kp;
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  snprintf(text, sizeof text, "# comment\n#\n  %s  \n\n", kp.pub);
  assert_int_equal(pf_curve_parse_public((const uint8_t *)text, strlen(text), out, err, sizeof err), PF_OK);
  assert_string_equal(out, kp.pub);
  assert_int_equal(pf_curve_parse_public((const uint8_t *)"abc\n", 4, out, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_curve_parse_public((const uint8_t *)"", 0, out, err, sizeof err), PF_EINVAL);
  snprintf(text, sizeof text, "%s\n%s\n", kp.pub, kp.pub);
  assert_int_equal(pf_curve_parse_public((const uint8_t *)text, strlen(text), out, err, sizeof err), PF_EINVAL);
  assert_string_equal(out, "");
}

/* sockets: no-ops with curve off; a server needs the ZAP handler; a client
 * takes its server key as a file (tried first) or as Z85 text */
static void test_sockets(void **state) {
  (void)state;
  pf_config c;
  pf_config_default(&c, dir);
  char err[1400];
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_ROUTER), *k = zmq_socket(ctx, ZMQ_DEALER);
  assert_int_equal(pf_curve_server(s, &c, PF_CURVE_CLIENTS, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_OK); /* off: nothing started */

  pf_curve_keypair srv, cli;
  assert_int_equal(pf_curve_generate(&srv, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_generate(&cli, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "srv", &srv, 1, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "cli", &cli, 1, err, sizeof err), PF_OK);
  c.curve = 1;
  snprintf(c.curve_secret_file, sizeof c.curve_secret_file, "%s/srv.key", dir);
  assert_int_equal(pf_curve_server(s, &c, PF_CURVE_CLIENTS, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "ZAP"));
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_EINVAL); /* no allow dir */
  snprintf(c.curve_allow_dir, sizeof c.curve_allow_dir, "%s", dir);
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_EINVAL); /* one per process */
  assert_int_equal(pf_curve_server(s, &c, PF_CURVE_CLIENTS, err, sizeof err), PF_OK);

  snprintf(c.curve_secret_file, sizeof c.curve_secret_file, "%s/cli.key", dir);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_EINVAL); /* no server key */
  snprintf(c.curve_server_key, sizeof c.curve_server_key, "%s", srv.pub);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_OK);
  snprintf(c.curve_server_key, sizeof c.curve_server_key, "%s/srv.pub", dir);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_OK);
  snprintf(c.curve_server_key, sizeof c.curve_server_key, "%s/none.pub", dir);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_EINVAL);

  zmq_close(s);
  zmq_close(k);
  pf_curve_zap_stop();
  pf_curve_zap_stop(); /* harmless twice */
  zmq_ctx_term(ctx);
}

/* a client socket with the key pair NAME in dir, for the server key srv */
static void *client(void *ctx, const char *name, const char *srv_pub, const char *ep) {
  pf_config c;
  pf_config_default(&c, dir);
  c.curve = 1;
  snprintf(c.curve_secret_file, sizeof c.curve_secret_file, "%s/%s.key", dir, name);
  snprintf(c.curve_server_key, sizeof c.curve_server_key, "%s", srv_pub);
  char err[1400];
  void *k = zmq_socket(ctx, ZMQ_DEALER);
  int zero = 0;
  zmq_setsockopt(k, ZMQ_LINGER, &zero, sizeof zero);
  assert_int_equal(pf_curve_client(k, &c, err, sizeof err), PF_OK);
  assert_int_equal(zmq_connect(k, ep), 0);
  assert_int_equal(zmq_send(k, name, strlen(name), 0), (int)strlen(name));
  return k;
}

/* what the server receives within ms: the client's message, or "" */
static void server_got(void *s, int ms, char *out, size_t cap) {
  out[0] = '\0';
  zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&it, 1, ms) <= 0) return;
  char id[256];
  int n = zmq_recv(s, id, sizeof id, 0); /* routing id */
  assert_true(n >= 0);
  n = zmq_recv(s, out, cap - 1, 0);
  assert_true(n >= 0);
  out[n < (int)cap - 1 ? n : (int)cap - 1] = '\0';
}

/* a server's settings: curve on, key pair dir/srv.key, allow folder allow */
static void server_config(pf_config *c, const char *allow) {
  pf_config_default(c, dir);
  c->curve = 1;
  snprintf(c->curve_secret_file, sizeof c->curve_secret_file, "%s/srv.key", dir);
  snprintf(c->curve_allow_dir, sizeof c->curve_allow_dir, "%s", allow);
}

/* end to end over TCP: an allowed key gets through, an unknown key does
 * not, and once the ZAP handler is gone nobody new does */
static void test_zap_admits_and_refuses(void **state) {
  (void)state;
  char err[1400], ep[128], got[64];
  pf_curve_keypair kp;
  const char *names[] = {"srv", "good", "stranger"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
    assert_int_equal(pf_curve_write(dir, names[i], &kp, 1, err, sizeof err), PF_OK);
  }
  char allow[128], cmd[1000], srv_pub[128];
  snprintf(allow, sizeof allow, "%s/allowed", dir);
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "roleless", &kp, 1, err, sizeof err), PF_OK);
  /* good.pub in the clients' list; roleless.pub directly in the folder (the
   * layout before roles): a key of no role, admitted nowhere */
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/clients' && cp '%s/good.pub' '%s/clients/' && cp '%s/roleless.pub' '%s/'",
           allow, dir, allow, dir, allow);
  assert_int_equal(system(cmd), 0);
  snprintf(srv_pub, sizeof srv_pub, "%s/srv.pub", dir);
  pf_config c;
  server_config(&c, allow);
  void *ctx = zmq_ctx_new();
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_OK);
  void *s = zmq_socket(ctx, ZMQ_ROUTER);
  int zero = 0;
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
  assert_int_equal(pf_curve_server(s, &c, PF_CURVE_CLIENTS, err, sizeof err), PF_OK);
  assert_int_equal(zmq_bind(s, "tcp://127.0.0.1:*"), 0);
  size_t len = sizeof ep;
  assert_int_equal(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len), 0);

  void *k1 = client(ctx, "good", srv_pub, ep);
  server_got(s, 5000, got, sizeof got);
  assert_string_equal(got, "good");
  void *k2 = client(ctx, "stranger", srv_pub, ep);
  server_got(s, 700, got, sizeof got);
  assert_string_equal(got, ""); /* refused: never reaches the server socket */
  void *k4 = client(ctx, "roleless", srv_pub, ep);
  server_got(s, 700, got, sizeof got);
  assert_string_equal(got, "");
  zmq_close(k4);

  pf_curve_zap_stop(); /* no handler: a new client, even an allowed one, is refused */
  void *k3 = client(ctx, "good", srv_pub, ep);
  server_got(s, 700, got, sizeof got);
  assert_string_equal(got, "");
  zmq_close(k1);
  zmq_close(k2);
  zmq_close(k3);
  zmq_close(s);
  zmq_ctx_term(ctx);
}

/* Three roles' keys against three server sockets, one per role: each key
 * gets through at its own role's socket only, and a refusal names the
 * socket's role and the role the key has. */
static void test_roles_refused_at_other_sockets(void **state) {
  (void)state;
  char err[1400], allow[128], srv_pub[128], logpath[128];
  pf_curve_keypair kp;
  const char *names[PF_CURVE_NROLES] = {"gateway", "worker-1", "scorer-1"};
  pf_curve_role roles[PF_CURVE_NROLES] = {PF_CURVE_CLIENTS, PF_CURVE_WORKERS, PF_CURVE_SCORERS};
  snprintf(allow, sizeof allow, "%s/allowed", dir);
  assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
  assert_int_equal(pf_curve_write(dir, "srv", &kp, 1, err, sizeof err), PF_OK);
  for (int i = 0; i < PF_CURVE_NROLES; i++) {
    assert_int_equal(pf_curve_generate(&kp, err, sizeof err), PF_OK);
    assert_int_equal(pf_curve_write(dir, names[i], &kp, 1, err, sizeof err), PF_OK);
    assert_int_equal(pf_curve_allow(allow, roles[i], names[i], kp.pub, err, sizeof err), PF_OK);
  }
  /* one role per key: the scorer's key cannot also be listed as a client */
  assert_int_equal(pf_curve_allow(allow, PF_CURVE_CLIENTS, "scorer-1", kp.pub, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "already a scorer key"));
  char probe[256];
  snprintf(probe, sizeof probe, "%s/workers/worker-1.pub", allow);
  assert_int_equal(access(probe, F_OK), 0);
  snprintf(srv_pub, sizeof srv_pub, "%s/srv.pub", dir);
  pf_config c;
  server_config(&c, allow);

  /* the refusals are logged on stderr: keep them in a file */
  snprintf(logpath, sizeof logpath, "%s/zap.log", dir);
  fflush(stderr);
  int saved = dup(2), lf = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(lf >= 0);
  dup2(lf, 2);
  void *ctx = zmq_ctx_new();
  assert_int_equal(pf_curve_zap_start(ctx, &c, err, sizeof err), PF_OK);
  void *srv[PF_CURVE_NROLES];
  char ep[PF_CURVE_NROLES][128];
  int zero = 0;
  for (int r = 0; r < PF_CURVE_NROLES; r++) {
    srv[r] = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_setsockopt(srv[r], ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(pf_curve_server(srv[r], &c, roles[r], err, sizeof err), PF_OK);
    assert_int_equal(zmq_bind(srv[r], "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof ep[r];
    assert_int_equal(zmq_getsockopt(srv[r], ZMQ_LAST_ENDPOINT, ep[r], &len), 0);
  }
  assert_int_equal(pf_curve_server(srv[0], &c, PF_CURVE_NROLES, err, sizeof err), PF_EINVAL);
  for (int k = 0; k < PF_CURVE_NROLES; k++)   /* the key of role k */
    for (int r = 0; r < PF_CURVE_NROLES; r++) { /* at the socket of role r */
      char got[64];
      void *cl = client(ctx, names[k], srv_pub, ep[r]);
      server_got(srv[r], k == r ? 5000 : 700, got, sizeof got);
      if (k == r) assert_string_equal(got, names[k]);
      else assert_string_equal(got, "");
      zmq_close(cl);
    }
  for (int r = 0; r < PF_CURVE_NROLES; r++) zmq_close(srv[r]);
  pf_curve_zap_stop();
  zmq_ctx_term(ctx);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(lf);

  uint8_t log[16384];
  size_t n = slurp(logpath, log, sizeof log - 1);
  log[n] = '\0';
  const char *text = (const char *)log;
  assert_non_null(strstr(text, "curve: 3 allowed client key(s)"));
  /* six refusals, each naming the socket's list and the key's own role */
  for (int k = 0; k < PF_CURVE_NROLES; k++)
    for (int r = 0; r < PF_CURVE_NROLES; r++) {
      if (k == r) continue;
      char want[300];
      snprintf(want, sizeof want, "not in %s/%s (the %s socket's list); it is a %s key", allow,
               pf_curve_role_folder(roles[r]), pf_curve_role_name(roles[r]), pf_curve_role_name(roles[k]));
      if (!strstr(text, want)) fail_msg("no log line with '%s' in:\n%s", want, text);
    }
}

static void test_role_names(void **state) {
  (void)state;
  pf_curve_role r;
  assert_int_equal(pf_curve_role_parse("worker", &r), PF_OK);
  assert_int_equal(r, PF_CURVE_WORKERS);
  assert_int_equal(pf_curve_role_parse("scorer", &r), PF_OK);
  assert_int_equal(r, PF_CURVE_SCORERS);
  assert_int_equal(pf_curve_role_parse("client", &r), PF_OK);
  assert_int_equal(r, PF_CURVE_CLIENTS);
  assert_int_equal(pf_curve_role_parse("server", &r), PF_EINVAL);
  assert_int_equal(pf_curve_role_parse("", &r), PF_EINVAL);
  assert_string_equal(pf_curve_role_folder(PF_CURVE_SCORERS), "scorers");
  char err[256];
  assert_int_equal(pf_curve_allow("/tmp", PF_CURVE_CLIENTS, "../evil", "x", err, sizeof err), PF_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_write_read_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_open_permissions_refused, setup, teardown),
    cmocka_unit_test(test_parse_keypair_checks),
    cmocka_unit_test(test_parse_public),
    cmocka_unit_test_setup_teardown(test_sockets, setup, teardown),
    cmocka_unit_test_setup_teardown(test_zap_admits_and_refuses, setup, teardown),
    cmocka_unit_test_setup_teardown(test_roles_refused_at_other_sockets, setup, teardown),
    cmocka_unit_test(test_role_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
