/* Unit tests of pf_io_read_file: a whole file with its NUL past the end,
 * an empty file, and each refusal (no file, a folder, a file over the cap,
 * whose size is still reported). */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_io.h"

#include <unistd.h>

static void test_read_file(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-io.XXXXXX", path[64], empty[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(empty, sizeof empty, "%s/e", dir);
  FILE *f = fopen(path, "wb");
  fwrite("hello\0world", 1, 11, f);
  fclose(f);
  fclose(fopen(empty, "wb"));
  uint8_t *b = NULL;
  size_t n = 0;
  assert_int_equal(pf_io_read_file(path, 11, &b, &n), PF_OK);
  assert_int_equal(n, 11);
  assert_memory_equal(b, "hello\0world", 11);
  assert_int_equal(b[11], 0);
  free(b);
  assert_int_equal(pf_io_read_file(empty, 0, &b, &n), PF_OK);
  assert_int_equal(n, 0);
  free(b);
  assert_int_equal(pf_io_read_file(path, 10, &b, &n), PF_ELIMIT);
  assert_null(b);
  assert_int_equal(n, 11);
  assert_int_equal(pf_io_read_file(dir, 1 << 20, &b, &n), PF_EINVAL);
  assert_null(b);
  snprintf(path, sizeof path, "%s/missing", dir);
  assert_int_equal(pf_io_read_file(path, 10, &b, &n), PF_ENOENT);
  assert_null(b);
  unlink(empty);
  snprintf(path, sizeof path, "%s/f", dir);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_read_file)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
