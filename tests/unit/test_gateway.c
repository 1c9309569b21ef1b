/* Unit tests of the gateway's pure modules: gw_parse (JSON bodies, vectors,
 * capped fields), gw_auth (bearer token, allow-listed paths with symlinks
 * and ..), gw_metrics (routes, Prometheus text) and gw_opts (flags over
 * the fleet configuration, through lib/net/pf_opts). Linked with the
 * gateway objects by its own Makefile rule. */
#include "pf_test.h"

#include "gw_auth.h"
#include "gw_metrics.h"
#include "gw_opts.h"
#include "gw_parse.h"
#include "pf_err.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <unistd.h>

static int json(const char *body, gw_params *p, char *err) {
  gw_params_init(p, 1 << 20);
  return gw_parse_json((const uint8_t *)body, strlen(body), p, err, 200);
}

static void test_json_forms(void **state) {
  gw_params p;
  char err[200];
  assert_int_equal(json("{\"x\": \"1,2.5,-3e2\"}", &p, err), PF_OK);
  assert_true(p.x_set && !p.x_file);
  assert_string_equal((char *)p.x, "1,2.5,-3e2");
  gw_params_destroy(&p);

  assert_int_equal(json(" {\"top\": 5, \"x\": [1, 2.5 ,-3e2], \"other\": {\"a\": [true, null, \"s\"]}, "
                        "\"threshold\": \"0.8\", \"sha256\": \"AB\"} ", &p, err), PF_OK);
  assert_string_equal((char *)p.x, "1,2.5,-3e2");
  assert_string_equal(p.top, "5");
  assert_string_equal(p.threshold, "0.8");
  assert_string_equal(p.sha256, "AB");
  gw_params_destroy(&p);

  assert_int_equal(json("{\"x\": \"/srv/a\\u00e9\\/b.exe\\n\"}", &p, err), PF_OK);
  assert_string_equal((char *)p.x, "/srv/a\xc3\xa9/b.exe\n");
  gw_params_destroy(&p);

  assert_int_equal(json("{\"x\": \"\"}", &p, err), PF_OK); /* given, empty: the route says "missing x" */
  assert_true(p.x_set && p.x_len == 0);
  gw_params_destroy(&p);

  assert_int_equal(json("{}", &p, err), PF_OK);
  assert_false(p.x_set);
  gw_params_destroy(&p);
}

static void test_json_refused(void **state) {
  static const struct { const char *body, *why; } bad[] = {
    {"", "not a JSON object"}, {"[1]", "not a JSON object"}, {"{\"x\": [1, 2", "expected"},
    {"{\"x\": [1, \"a\"]}", "array of numbers"}, {"{\"x\": true}", "wrong type"},
    {"{\"x\": \"a\", \"x\": \"b\"}", "twice"}, {"{\"x\": \"a\"} trailing", "trailing"},
    {"{\"x\": \"\\u0000\"}", "NUL"}, {"{\"x\": \"\\ud800\"}", "surrogate"}, {"{\"x\": \"a\nb\"}", "control"},
    {"{\"a\": 01}", "expected"}, {"{\"a\": 1.}", "digits"},
    {"{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "deeply"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gw_params p;
    char err[200] = "";
    int rc = json(bad[i].body, &p, err);
    if (rc != PF_EINVAL || !strstr(err, bad[i].why)) fail_msg("'%s': rc %d, reason '%s', want '%s'", bad[i].body, rc, err, bad[i].why);
    gw_params_destroy(&p);
  }
}

static void test_json_caps(void **state) {
  gw_params p;
  char err[200];
  gw_params_init(&p, 8);
  const char *body = "{\"x\": \"123456789\"}";
  assert_int_equal(gw_parse_json((const uint8_t *)body, strlen(body), &p, err, sizeof err), PF_ELIMIT);
  assert_true(p.too_large);
  gw_params_destroy(&p);
  char big[300];
  snprintf(big, sizeof big, "{\"sha256\": \"%0200d\"}", 0);
  assert_int_equal(json(big, &p, err), PF_EINVAL);
  assert_non_null(strstr(err, "too long"));
  gw_params_destroy(&p);
}

static void test_vector(void **state) {
  double v[8];
  size_t n = 99;
  char err[200];
  const char *s = " [ 1, -2.5e-3 ,3E2\n] ";
  assert_int_equal(gw_parse_vector(s, strlen(s), v, 8, &n, err, sizeof err), PF_OK);
  assert_int_equal(n, 3);
  assert_true(v[0] == 1 && v[1] == -2.5e-3 && v[2] == 300);
  static const struct { const char *s, *why; } bad[] = {
    {"1,,2", "value 2 is empty"}, {"", "value 1 is empty"}, {"1,2,", "value 3 is empty"},
    {"1,nan", "value 2 is NaN"}, {"-inf,1", "value 1 is infinite"}, {"1e999", "not a finite"},
    {"0x10", "not a number"}, {"1,abc", "('abc') is not a number"}, {"1 2", "not a number"},
    {"1,2,3,4,5,6,7,8,9", "more than 8"}, {"a\nb", "('a?b')"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    int rc = gw_parse_vector(bad[i].s, strlen(bad[i].s), v, 8, &n, err, sizeof err);
    if (rc != PF_EINVAL || !strstr(err, bad[i].why)) fail_msg("'%s': rc %d, reason '%s', want '%s'", bad[i].s, rc, err, bad[i].why);
  }
  assert_true(gw_parse_is_path("/srv/a.exe", 10));
  assert_false(gw_parse_is_path("1,2,3", 5));
}

static void test_fields(void **state) {
  gw_params p;
  gw_params_init(&p, 10);
  assert_int_equal(gw_params_add(&p, "x", (const uint8_t *)"MZ\0\x90", 4, 1), PF_OK);
  assert_int_equal(gw_params_add(&p, "x", (const uint8_t *)"abcdef", 6, 1), PF_OK);
  assert_int_equal(p.x_len, 10);
  assert_true(p.x_file && memcmp(p.x, "MZ\0\x90" "abcdef", 10) == 0);
  assert_int_equal(gw_params_add(&p, "x", (const uint8_t *)"!", 1, 1), PF_ELIMIT); /* past the cap */
  assert_true(p.too_large);
  assert_int_equal(gw_params_add(&p, "ignored", (const uint8_t *)"zz", 2, 0), PF_OK);
  assert_int_equal(gw_params_add(&p, "top", (const uint8_t *)"12", 2, 0), PF_OK);
  assert_string_equal(p.top, "12");
  gw_params_destroy(&p);
}

static void test_token(void **state) {
  gw_auth a;
  memset(&a, 0, sizeof a);
  assert_true(gw_auth_check(&a, NULL)); /* no token configured */
  char path[] = "/tmp/pf-gwtok.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "  s3cret \n", 10), 10);
  close(fd);
  char err[300];
  assert_int_equal(gw_auth_load_token(&a, path, err, sizeof err), PF_OK);
  assert_string_equal(a.token, "s3cret");
  assert_true(gw_auth_check(&a, "Bearer s3cret"));
  assert_false(gw_auth_check(&a, NULL));
  assert_false(gw_auth_check(&a, "Bearer s3cre"));
  assert_false(gw_auth_check(&a, "Bearer s3cret2"));
  assert_false(gw_auth_check(&a, "bearer s3cret"));
  assert_false(gw_auth_check(&a, "s3cret"));
  fd = open(path, O_WRONLY | O_TRUNC);
  close(fd);
  gw_auth b;
  memset(&b, 0, sizeof b);
  assert_int_equal(gw_auth_load_token(&b, path, err, sizeof err), PF_EINVAL); /* empty */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "s3cret\n", 7), 7);
  close(fd);
  for (int k = 0; k < 3; k++) { /* group or other may read it, or write it: refused, with the fix */
    static const mode_t modes[] = {0644, 0640, 0602};
    chmod(path, modes[k]);
    assert_int_equal(gw_auth_load_token(&b, path, err, sizeof err), PF_EINVAL);
    assert_non_null(strstr(err, "chmod 600"));
  }
  chmod(path, 0400);
  assert_int_equal(gw_auth_load_token(&b, path, err, sizeof err), PF_OK);
  char lnk[] = "/tmp/pf-gwtok-link.XXXXXX";
  int lfd = mkstemp(lnk);
  close(lfd);
  unlink(lnk);
  assert_int_equal(symlink(path, lnk), 0); /* a symlink to it is not followed */
  assert_int_equal(gw_auth_load_token(&b, lnk, err, sizeof err), PF_EIO);
  unlink(lnk);
  unlink(path);
  assert_int_equal(gw_auth_load_token(&b, path, err, sizeof err), PF_EIO);
}

/* gw_auth_open: the file comes from the descriptor opened beneath the
 * folder; every refusal but a name missing inside is the same PF_EINVAL
 * with the same text. */
static void test_paths(void **state) {
  char dir[] = "/tmp/pf-gwpath.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char in[256], out[256], f[300], f2[300], link[300], err[300], dots[400];
  snprintf(in, sizeof in, "%s/in", dir);
  snprintf(out, sizeof out, "%s/inside-not", dir); /* shares the prefix "in" */
  mkdir(in, 0700);
  mkdir(out, 0700);
  snprintf(f, sizeof f, "%s/a.exe", in);
  snprintf(f2, sizeof f2, "%s/b.exe", out);
  FILE *w = fopen(f, "w"); fputs("in", w); fclose(w);
  w = fopen(f2, "w"); fputs("x", w); fclose(w);
  snprintf(link, sizeof link, "%s/escape.exe", in);
  assert_int_equal(symlink(f2, link), 0);
  gw_auth a;
  memset(&a, 0, sizeof a);
  int fd = -1;
  assert_int_equal(gw_auth_open(&a, f, &fd, err, sizeof err), PF_EINVAL); /* disabled */
  assert_non_null(strstr(err, "disabled"));
  assert_int_equal(gw_auth_allow(&a, in, err, sizeof err), PF_OK);
  assert_int_equal(gw_auth_allow(&a, f, err, sizeof err), PF_ENOENT); /* a file, not a folder */
  assert_int_equal(gw_auth_open(&a, f, &fd, err, sizeof err), PF_OK);
  char got[8] = {0};
  assert_int_equal(read(fd, got, sizeof got - 1), 2);
  assert_string_equal(got, "in");
  close(fd);
  const char *refused[8];
  char rel_link[300], fifo[300], sub[300], nx_out[400], dots2[400];
  snprintf(dots, sizeof dots, "%s/../inside-not/b.exe", in);
  snprintf(nx_out, sizeof nx_out, "%s/../inside-not/nonexistent", in); /* would be an oracle */
  snprintf(dots2, sizeof dots2, "%s/../../../../etc/passwd", in);
  snprintf(rel_link, sizeof rel_link, "%s/rel.exe", in);
  assert_int_equal(symlink("../inside-not/b.exe", rel_link), 0);
  snprintf(fifo, sizeof fifo, "%s/pipe", in);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  snprintf(sub, sizeof sub, "%s/sub", in);
  mkdir(sub, 0700);
  refused[0] = f2; refused[1] = link; refused[2] = dots; refused[3] = nx_out;
  refused[4] = dots2; refused[5] = rel_link; refused[6] = fifo; refused[7] = sub;
  for (int k = 0; k < 8; k++) {
    fd = -1;
    assert_int_equal(gw_auth_open(&a, refused[k], &fd, err, sizeof err), PF_EINVAL); /* a FIFO at once, too */
    assert_int_equal(fd, -1);
    assert_string_equal(err, GW_PATH_REFUSED);
  }
  assert_int_equal(gw_auth_open(&a, "/nonexistent/x", &fd, err, sizeof err), PF_EINVAL); /* no probing */
  assert_string_equal(err, GW_PATH_REFUSED);
  snprintf(dots, sizeof dots, "%s/nope.exe", in);
  assert_int_equal(gw_auth_open(&a, dots, &fd, err, sizeof err), PF_ENOENT); /* missing inside: 404 */
  snprintf(dots, sizeof dots, "%s/sub/../a.exe", in); /* .. that stays inside */
  assert_int_equal(gw_auth_open(&a, dots, &fd, err, sizeof err), PF_OK);
  close(fd);
  rmdir(sub); unlink(fifo); unlink(rel_link);
  unlink(link); unlink(f); unlink(f2); rmdir(in); rmdir(out); rmdir(dir);
}

/* A tokenless gateway: no Origin, and a Host a rebinding page cannot name. */
static void test_host_origin(void **state) {
  gw_auth a;
  memset(&a, 0, sizeof a);
  char err[200];
  assert_true(gw_auth_origin_ok(&a, "127.0.0.1", "127.0.0.1:8080", NULL));
  assert_true(gw_auth_origin_ok(&a, "127.0.0.1", "localhost:8080", NULL));
  assert_true(gw_auth_origin_ok(&a, "127.0.0.1", NULL, NULL));
  assert_false(gw_auth_origin_ok(&a, "127.0.0.1", "127.0.0.1:8080", "http://evil.example"));
  assert_false(gw_auth_origin_ok(&a, "127.0.0.1", "evil.example:8080", NULL));
  assert_false(gw_auth_origin_ok(&a, "127.0.0.1", "10.1.2.3:8080", NULL));
  assert_false(gw_auth_origin_ok(&a, "127.0.0.1", "", NULL));
  assert_true(gw_auth_origin_ok(&a, "0.0.0.0", "10.1.2.3:8080", NULL)); /* a wildcard bind: any IP literal */
  assert_true(gw_auth_origin_ok(&a, "::", "[::1]:8080", NULL));
  assert_false(gw_auth_origin_ok(&a, "0.0.0.0", "scan.example", NULL));
  assert_int_equal(gw_auth_allow_host(&a, "scan.example", err, sizeof err), PF_OK);
  assert_true(gw_auth_origin_ok(&a, "0.0.0.0", "Scan.Example:80", NULL));
  snprintf(a.token, sizeof a.token, "t"); /* with a token: the token decides */
  assert_true(gw_auth_origin_ok(&a, "127.0.0.1", "evil.example", "http://evil.example"));
}

static void test_metrics(void **state) {
  gw_metrics_init();
  assert_int_equal(gw_metrics_route("/"), GW_R_PREDICT);
  assert_int_equal(gw_metrics_route("/v1/scan"), GW_R_SCAN);
  assert_int_equal(gw_metrics_route("/v1/scan/"), GW_R_OTHER);
  gw_metrics_request(GW_R_PREDICT, 200, 0.0004);
  gw_metrics_request(GW_R_PREDICT, 200, 3);
  gw_metrics_request(GW_R_PREDICT, 418, 0.1);
  gw_metrics_verdict("malicious");
  gw_metrics_verdict("malicious");
  gw_metrics_model("v\"1");
  size_t len = 0;
  char *t = gw_metrics_render(&len);
  assert_non_null(t);
  assert_int_equal(strlen(t), len);
  assert_non_null(strstr(t, "pefleet_gateway_requests_total{route=\"/\",code=\"200\"} 2\n"));
  assert_non_null(strstr(t, "pefleet_gateway_requests_total{route=\"/\",code=\"other\"} 1\n"));
  assert_non_null(strstr(t, "pefleet_gateway_request_duration_seconds_bucket{route=\"/\",le=\"0.0005\"} 1\n"));
  assert_non_null(strstr(t, "pefleet_gateway_request_duration_seconds_bucket{route=\"/\",le=\"2.5\"} 2\n"));
  assert_non_null(strstr(t, "pefleet_gateway_request_duration_seconds_bucket{route=\"/\",le=\"+Inf\"} 3\n"));
  assert_non_null(strstr(t, "pefleet_gateway_request_duration_seconds_count{route=\"/\"} 3\n"));
  assert_non_null(strstr(t, "pefleet_gateway_verdicts_total{verdict=\"malicious\"} 2\n"));
  assert_non_null(strstr(t, "pefleet_gateway_model_info{version=\"v\\\"1\"} 1\n"));
  free(t);
}

/* gw_opts: the defaults, flags over the configuration, the checks made
 * after the flags (classes, the body budget against the largest upload). */
static void test_opts(void **state) {
  static gw_opts o;
  char err[600], dir[64];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "gw-opts"), 0);
  char *a1[] = {"g", "--data", dir, NULL};
  assert_int_equal(gw_opts_parse(3, a1, &o, err, sizeof err), 0);
  assert_int_equal(o.max_upload, 100u << 20);
  assert_int_equal(o.body_budget, 256u << 20);
  assert_int_equal(o.threads, 8);
  assert_int_equal(o.max_connections, 256);
  assert_int_equal(o.per_ip_connections, 64);
  assert_int_equal(o.min_rate, 4096);
  assert_int_equal(o.min_rate_s, 15);
  assert_int_equal(o.conn_timeout_s, 30);
  assert_int_equal(o.score_timeout_ms, 60000);
  assert_int_equal(o.similar_timeout_ms, 5000);
  assert_int_equal(o.port, 8080);
  assert_string_equal(o.address, "127.0.0.1");
  assert_int_equal(o.n_classes, 2);
  assert_string_equal(o.classes[1], "malicious");
  assert_string_equal(o.score_endpoint, o.cfg.score_endpoint);
  char *a2[] = {"g", "--data", dir, "--port", "9001", "--address", "0.0.0.0", "--classes", "a,b,c",
                "--max-upload", "1m", "--body-budget", "4m", "--score-endpoint", "tcp://h:1", NULL};
  assert_int_equal(gw_opts_parse(15, a2, &o, err, sizeof err), 0);
  assert_int_equal(o.port, 9001);
  assert_int_equal(o.cfg.http_port, 9001); /* the printed configuration is the one in effect */
  assert_string_equal(o.cfg.http_address, "0.0.0.0");
  assert_int_equal(o.n_classes, 3);
  assert_int_equal(o.max_upload, 1u << 20);
  assert_string_equal(o.score_endpoint, "tcp://h:1");
  char *a3[] = {"g", "--data", dir, "--max-upload", "3m", "--body-budget", "4m", NULL};
  assert_int_equal(gw_opts_parse(7, a3, &o, err, sizeof err), 2);
  assert_non_null(strstr(err, "--body-budget 4194304 is too small for --max-upload 3145728"));
  char *a4[] = {"g", "--data", dir, "--classes", "one", NULL};
  assert_int_equal(gw_opts_parse(5, a4, &o, err, sizeof err), 2);
  assert_non_null(strstr(err, "at least two names"));
  char *a5[] = {"g", "--threads", "0", NULL};
  assert_int_equal(gw_opts_parse(3, a5, &o, err, sizeof err), 2);
  assert_string_equal(err, "invalid value '0' for --threads (1..256)");
  char *a6[] = {"g", "--help", NULL};
  assert_int_equal(gw_opts_parse(2, a6, &o, err, sizeof err), 1);
  pf_test_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_json_forms), cmocka_unit_test(test_json_refused), cmocka_unit_test(test_json_caps),
    cmocka_unit_test(test_vector),     cmocka_unit_test(test_fields),       cmocka_unit_test(test_token),
    cmocka_unit_test(test_paths),      cmocka_unit_test(test_host_origin), cmocka_unit_test(test_metrics),
    cmocka_unit_test(test_opts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
