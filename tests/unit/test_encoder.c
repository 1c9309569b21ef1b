/* pf_encoder: the isolated parser pool with real pefleet-sandbox children.
 * Children are recycled after recycle_after files without losing a result,
 * and the pool shuts down. */
#include "pf_test.h"

#include "pf_encoder.h"
#include "pf_err.h"

static void test_recycle(void **state) {
  (void)state;
  const char *bin = getenv("BIN");
  char sandbox[1024], path[1024];
  snprintf(sandbox, sizeof sandbox, "%s/pefleet-sandbox", bin && *bin ? bin : "bin");
  snprintf(path, sizeof path, "%s/corpus/clean/t32.exe", pf_test_shared());
  FILE *f = fopen(path, "rb");
  if (!f) { printf("skipped: ../shared not found (%s)\n", path); skip(); }
  fclose(f);
  pf_encoder_opts o;
  pf_encoder_opts_default(&o);
  o.workers = 1;
  o.recycle_after = 2; /* a new child every second file */
  o.sandbox = sandbox;
  pf_encoder *e = NULL;
  char err[256];
  assert_int_equal(pf_encoder_new(&o, &e, err, sizeof err), PF_OK);
  pf_encode_result first, res;
  for (int i = 0; i < 7; i++) {
    assert_int_equal(pf_encoder_encode_one(e, path, &res), PF_OK);
    assert_true(res.ok);
    if (i == 0) first = res;
    assert_memory_equal(res.vec, first.vec, sizeof res.vec); /* every child gives the same vector */
    assert_memory_equal(res.sha256, first.sha256, sizeof res.sha256);
  }
  pf_encoder_free(&e);
  assert_null(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_recycle)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
