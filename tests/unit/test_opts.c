/* Unit tests of lib/net/pf_opts, the command line of the listening fronts
 * (gateway, pefleet-clamd): defaults, bounds, byte suffixes, repeatable
 * words with their cap, flags, --help, the one-line errors, and the fleet
 * configuration resolved from --data / --config. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_opts.h"

#include <unistd.h>

typedef struct {
  int port, on;
  long rate;
  size_t bytes;
  const char *word, *list[2];
  int nlist;
} vals;

static char dir[64];

static int parse(vals *v, pf_config *c, char *err, int argc, char **argv) {
  memset(v, 0, sizeof *v);
  const pf_opt t[] = {
    {"port", PF_OPT_INT, &v->port, 1, 65535, 8080, 0, NULL},
    {"min-rate", PF_OPT_LONG, &v->rate, 0, 1000, 7, 0, NULL},
    {"max-upload", PF_OPT_SIZE, &v->bytes, 1, 1LL << 30, 100 << 20, 0, NULL},
    {"word", PF_OPT_STR, &v->word, 0, 0, 0, 0, NULL},
    {"allow-path", PF_OPT_LIST, v->list, 0, 0, 0, 2, &v->nlist},
    {"allow-shutdown", PF_OPT_FLAG, &v->on, 0, 0, 0, 0, NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
  };
  err[0] = '\0';
  return pf_opts_parse(argc, argv, t, c, err, 300);
}

#define ARGV(...) (char *[]){"prog", __VA_ARGS__, NULL}
#define NARGS(...) ((int)(sizeof((char *[]){"prog", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(...) parse(&v, &c, err, NARGS(__VA_ARGS__), ARGV(__VA_ARGS__))

static void test_defaults_and_values(void **state) {
  vals v;
  pf_config c;
  char err[300];
  assert_int_equal(PARSE("--data", dir), 0);
  assert_int_equal(v.port, 8080);
  assert_int_equal(v.rate, 7);
  assert_int_equal(v.bytes, 100u << 20);
  assert_null(v.word);
  assert_int_equal(v.nlist, 0);
  assert_int_equal(v.on, 0);
  assert_string_equal(c.data, dir);
  assert_int_equal(PARSE("--data", dir, "--port", "9", "--min-rate=0", "--max-upload", "3m", "--word", "w",
                         "--allow-path", "/a", "--allow-path", "/b", "--allow-shutdown"), 0);
  assert_int_equal(v.port, 9);
  assert_int_equal(v.rate, 0);
  assert_int_equal(v.bytes, 3u << 20);
  assert_string_equal(v.word, "w");
  assert_int_equal(v.nlist, 2);
  assert_string_equal(v.list[1], "/b");
  assert_int_equal(v.on, 1);
  assert_int_equal(PARSE("--data", dir, "--max-upload", "2k"), 0);
  assert_int_equal(v.bytes, 2048);
  assert_int_equal(PARSE("--data", dir, "--max-upload", "1G"), 0);
  assert_int_equal(v.bytes, 1u << 30);
  assert_int_equal(PARSE("--data", dir, "--max-up", "5"), 0); /* an abbreviation */
  assert_int_equal(v.bytes, 5);
}

static void test_errors(void **state) {
  vals v;
  pf_config c;
  char err[300];
  assert_int_equal(PARSE("--data", dir, "--port", "0"), 2);
  assert_string_equal(err, "invalid value '0' for --port (1..65535)");
  assert_int_equal(PARSE("--data", dir, "--port", "8k"), 2); /* a suffix only on byte counts */
  assert_string_equal(err, "invalid value '8k' for --port (1..65535)");
  assert_int_equal(PARSE("--data", dir, "--max-upload", "2g"), 2); /* past the bound once multiplied */
  assert_string_equal(err, "invalid value '2g' for --max-upload (1..1073741824)");
  assert_int_equal(PARSE("--data", dir, "--max-upload", ""), 2);
  assert_int_equal(PARSE("--data", dir, "--allow-path", "/a", "--allow-path", "/b", "--allow-path", "/c"), 2);
  assert_string_equal(err, "at most 2 --allow-path");
  assert_int_equal(PARSE("--data", dir, "--foo"), 2);
  assert_string_equal(err, "unknown option '--foo'");
  assert_int_equal(PARSE("--data", dir, "--port"), 2);
  assert_string_equal(err, "incomplete or invalid option '--port'");
  assert_int_equal(PARSE("--data", dir, "--allow-shutdown=1"), 2);
  assert_string_equal(err, "incomplete or invalid option '--allow-shutdown=1'");
  assert_int_equal(PARSE("--data", dir, "stray"), 2);
  assert_string_equal(err, "unexpected argument 'stray'");
  /* --help wins over what comes after it */
  assert_int_equal(PARSE("--help", "--port", "0"), 1);
  /* a --config that does not exist: the configuration's own error */
  assert_int_equal(PARSE("--config", "/nonexistent/pefleet.conf"), 2);
  assert_non_null(strstr(err, "/nonexistent/pefleet.conf"));
}

static void test_config_file(void **state) {
  char path[128];
  snprintf(path, sizeof path, "%s/other.conf", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "http_port = 8181\nscore_endpoint = tcp://127.0.0.1:7000\n");
  fclose(f);
  vals v;
  pf_config c;
  char err[300];
  assert_int_equal(PARSE("--config", path, "--port", "9"), 0);
  assert_int_equal(c.http_port, 8181);
  assert_string_equal(c.score_endpoint, "tcp://127.0.0.1:7000");
  assert_int_equal(v.port, 9);
  unlink(path);
}

static int setup(void **state) { return pf_test_mkdtemp(dir, sizeof dir, "pf-opts"); }
static int teardown(void **state) { return pf_test_rmtree(dir); }

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults_and_values),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_config_file),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
