/* Unit tests of pf_io_read_file: a whole file with its NUL past the end,
 * an empty file, and each refusal (no file, a folder, a file over the cap,
 * whose size is still reported); of pf_io_open_beneath: what stays inside
 * the folder opens, every way out (.., absolute and relative symlinks, a
 * magic link) and every non-regular file (a FIFO, at once) is refused, a
 * missing name inside is PF_ENOENT. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_io.h"

#include <fcntl.h>
#include <sys/stat.h>
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

static void test_open_beneath(void **state) {
  (void)state;
  char dir[] = "/tmp/pf-test-iob.XXXXXX", p[128], q[128];
  assert_non_null(mkdtemp(dir));
  snprintf(p, sizeof p, "%s/in", dir);
  mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/in/sub", dir);
  mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/in/f", dir);
  FILE *f = fopen(p, "wb");
  fputs("inside", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/out", dir);
  f = fopen(p, "wb");
  fputs("outside", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/in/abs", dir);
  snprintf(q, sizeof q, "%s/out", dir);
  assert_int_equal(symlink(q, p), 0);
  snprintf(p, sizeof p, "%s/in/rel", dir);
  assert_int_equal(symlink("../out", p), 0);
  snprintf(p, sizeof p, "%s/in/ok", dir);
  assert_int_equal(symlink("sub/../f", p), 0);
  snprintf(p, sizeof p, "%s/in/fifo", dir);
  assert_int_equal(mkfifo(p, 0600), 0);
  snprintf(p, sizeof p, "%s/in", dir);
  int d = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
  assert_true(d >= 0);
  static const char *const inside[] = {"f", "sub/../f", "ok", "./f"};
  for (size_t k = 0; k < sizeof inside / sizeof inside[0]; k++) {
    assert_int_equal(pf_io_open_beneath(d, inside[k], &fd), PF_OK);
    uint8_t *b = NULL;
    size_t n = 0;
    assert_int_equal(pf_io_read_fd(fd, 100, &b, &n), PF_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(b, "inside", 6);
    free(b);
    close(fd);
  }
  static const char *const refused[] = {"../out", "abs", "rel", "sub/../../out", "fifo", "sub", "/etc/passwd",
                                        "../in/../out", "../nonexistent", "/proc/self/fd/0"};
  for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
    fd = -1;
    assert_int_equal(pf_io_open_beneath(d, refused[k], &fd), PF_EINVAL);
    assert_int_equal(fd, -1);
  }
  assert_int_equal(pf_io_open_beneath(d, "missing", &fd), PF_ENOENT);
  assert_int_equal(pf_io_open_beneath(d, "f/x", &fd), PF_ENOENT); /* not a folder, inside */
  close(d);
  static const char *const names[] = {"in/abs", "in/rel", "in/ok", "in/fifo", "in/f", "out"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[k]);
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/in/sub", dir);
  rmdir(p);
  snprintf(p, sizeof p, "%s/in", dir);
  rmdir(p);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_read_file), cmocka_unit_test(test_open_beneath)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
