/* Unit tests of pf_walk on a temporary folder tree. */
#include "pf_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pf_err.h"
#include "pf_walk.h"

static char g_root[256];

static void touch(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", g_root, rel);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs("x", f);
  fclose(f);
}

static void mkdir_rel(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", g_root, rel);
  assert_int_equal(mkdir(p, 0755), 0);
}

static void symlink_rel(const char *target, const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", g_root, rel);
  assert_int_equal(symlink(target, p), 0);
}

/* root/
 *   B.exe a.dll b.exe z.exe
 *   flink.exe -> a.dll      (symlink to a file: listed)
 *   link -> sub             (symlink to a folder: neither walked nor listed)
 *   sub/c.exe sub/up -> ..  (a loop, not followed)
 *   sub/deep/d.txt
 *   empty/ */
static int setup(void **state) {
  snprintf(g_root, sizeof g_root, "%s/pf_walk_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(g_root)) return -1;
  touch("B.exe");
  touch("a.dll");
  touch("b.exe");
  touch("z.exe");
  mkdir_rel("sub");
  mkdir_rel("sub/deep");
  mkdir_rel("empty");
  touch("sub/c.exe");
  touch("sub/deep/d.txt");
  symlink_rel("a.dll", "flink.exe");
  symlink_rel("sub", "link");
  symlink_rel("..", "sub/up");
  return 0;
}

static void rm_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char p[1024];
      snprintf(p, sizeof p, "%s/%s", path, e->d_name);
      rm_tree(p);
    }
    if (d) closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int teardown(void **state) {
  if (g_root[0]) rm_tree(g_root);
  return 0;
}

/* The list holds exactly root/want[0..n), in order. */
static void expect_list(const pf_filelist *l, const char *prefix, const char *const *want, size_t n) {
  for (size_t i = 0; i < l->n || i < n; i++) {
    char p[512] = "(none)";
    if (i < n) snprintf(p, sizeof p, "%s/%s", prefix, want[i]);
    const char *got = i < l->n ? l->paths[i] : "(none)";
    if (strcmp(got, p) != 0) print_error("entry %zu: got %s, expected %s\n", i, got, p);
    assert_string_equal(got, p);
  }
}

static void test_walk_sorted(void **state) {
  pf_filelist l = {0};
  char err[256];
  assert_int_equal(pf_walk_add(&l, g_root, NULL, err, sizeof err), PF_OK);
  /* byte order in the C locale, depth first; folders sort among files */
  const char *want[] = {"B.exe", "a.dll", "b.exe", "flink.exe", "sub/c.exe", "sub/deep/d.txt", "z.exe"};
  expect_list(&l, g_root, want, sizeof want / sizeof want[0]);
  pf_filelist_destroy(&l);
  assert_int_equal(l.n, 0);
  assert_null(l.paths);
}

static void test_walk_glob(void **state) {
  pf_filelist l = {0};
  char err[256];
  assert_int_equal(pf_walk_add(&l, g_root, "*.exe", err, sizeof err), PF_OK);
  const char *want[] = {"B.exe", "b.exe", "flink.exe", "sub/c.exe", "z.exe"};
  expect_list(&l, g_root, want, sizeof want / sizeof want[0]);
  pf_filelist_destroy(&l);

  /* the glob applies to the basename only */
  assert_int_equal(pf_walk_add(&l, g_root, "sub*", err, sizeof err), PF_OK);
  assert_int_equal(l.n, 0);
  assert_int_equal(pf_walk_add(&l, g_root, "[a-c].*", err, sizeof err), PF_OK);
  const char *want2[] = {"a.dll", "b.exe", "sub/c.exe"};
  expect_list(&l, g_root, want2, 3);
  pf_filelist_destroy(&l);
}

static void test_walk_files_and_append(void **state) {
  pf_filelist l = {0};
  char err[256], p[512], q[512];
  snprintf(p, sizeof p, "%s/a.dll", g_root);
  snprintf(q, sizeof q, "%s/sub", g_root);
  /* a file as given; the glob also filters direct arguments */
  assert_int_equal(pf_walk_add(&l, p, NULL, err, sizeof err), PF_OK);
  assert_int_equal(pf_walk_add(&l, p, "*.exe", err, sizeof err), PF_OK);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.paths[0], p);
  /* later paths append; a trailing slash does not double */
  char q_slash[520];
  snprintf(q_slash, sizeof q_slash, "%s/", q);
  assert_int_equal(pf_walk_add(&l, q_slash, NULL, err, sizeof err), PF_OK);
  const char *want[] = {"a.dll", "sub/c.exe", "sub/deep/d.txt"};
  expect_list(&l, g_root, want, 3);
  pf_filelist_destroy(&l);
  /* an empty folder adds nothing */
  snprintf(p, sizeof p, "%s/empty", g_root);
  assert_int_equal(pf_walk_add(&l, p, NULL, err, sizeof err), PF_OK);
  assert_int_equal(l.n, 0);
  pf_filelist_destroy(&l);
}

static void test_walk_symlink_given(void **state) {
  /* a symlinked folder given on the command line is walked, as given */
  pf_filelist l = {0};
  char err[256], p[512];
  snprintf(p, sizeof p, "%s/link", g_root);
  assert_int_equal(pf_walk_add(&l, p, NULL, err, sizeof err), PF_OK);
  const char *want[] = {"c.exe", "deep/d.txt"};
  expect_list(&l, p, want, 2);
  pf_filelist_destroy(&l);
}

static void test_walk_missing(void **state) {
  pf_filelist l = {0};
  char err[256] = "", p[512];
  snprintf(p, sizeof p, "%s/no-such-file.exe", g_root);
  assert_int_equal(pf_walk_add(&l, p, NULL, err, sizeof err), PF_ENOENT);
  assert_non_null(strstr(err, "no-such-file.exe"));
  assert_int_equal(l.n, 0);
  pf_filelist_destroy(&l);
}

static void expect_parent(const char *path, const char *want) {
  char buf[64];
  memset(buf, 'x', sizeof buf);
  pf_walk_parent_name(path, buf, sizeof buf);
  if (strcmp(buf, want) != 0) print_error("parent of %s: %s, expected %s\n", path, buf, want);
  assert_string_equal(buf, want);
}

static void test_parent_name(void **state) {
  expect_parent("a/b/c.exe", "b");
  expect_parent("../shared/corpus/clean/t32.exe", "clean");
  expect_parent("/x/y.exe", "x");
  expect_parent("c.exe", ".");
  expect_parent("./c.exe", ".");
  expect_parent("/c.exe", "/");
  expect_parent("dir//c.exe", "dir");
  expect_parent("a/malicious-test///c.exe", "malicious-test");
  char small[4];
  pf_walk_parent_name("abcdef/x", small, sizeof small); /* truncated, terminated */
  assert_string_equal(small, "abc");
}

/* feed's walk: symlinks are handed back, never listed or walked */
static void test_walk_nolinks(void **state) {
  (void)state;
  pf_filelist l = {0}, links = {0};
  char err[256];
  assert_int_equal(pf_walk_add_nolinks(&l, &links, g_root, NULL, err, sizeof err), PF_OK);
  for (size_t i = 0; i < l.n; i++) {
    struct stat st;
    assert_int_equal(lstat(l.paths[i], &st), 0);
    assert_true(S_ISREG(st.st_mode)); /* flink.exe is not among them */
  }
  assert_int_equal(links.n, 3); /* flink.exe, link, sub/up */
  char want[3][512];
  snprintf(want[0], sizeof want[0], "%s/flink.exe", g_root);
  snprintf(want[1], sizeof want[1], "%s/link", g_root);
  snprintf(want[2], sizeof want[2], "%s/sub/up", g_root);
  for (int k = 0; k < 3; k++) {
    int found = 0;
    for (size_t i = 0; i < links.n; i++) found |= strcmp(links.paths[i], want[k]) == 0;
    assert_true(found);
  }
  pf_filelist_destroy(&l);
  pf_filelist_destroy(&links);
  assert_int_equal(pf_walk_add_nolinks(&l, &links, "/nonexistent-for-pf-test", NULL, err, sizeof err), PF_ENOENT);
}

/* opening beneath the folder: a path through a symlink, or out of the
 * folder, is refused whatever it points at */
static void test_open_beneath(void **state) {
  (void)state;
  int dfd = open(g_root, O_RDONLY | O_DIRECTORY);
  assert_true(dfd >= 0);
  char p[600];
  snprintf(p, sizeof p, "%s/sub/c.exe", g_root);
  int fd = pf_walk_open_beneath(dfd, g_root, p);
  assert_true(fd >= 0);
  close(fd);
  snprintf(p, sizeof p, "%s/link/c.exe", g_root); /* link -> sub */
  assert_int_equal(pf_walk_open_beneath(dfd, g_root, p), -1);
  assert_int_equal(errno, ELOOP);
  snprintf(p, sizeof p, "%s/flink.exe", g_root); /* a symlink to a file inside */
  assert_int_equal(pf_walk_open_beneath(dfd, g_root, p), -1);
  snprintf(p, sizeof p, "%s/sub/../../etc/passwd", g_root);
  assert_int_equal(pf_walk_open_beneath(dfd, g_root, p), -1);
  assert_int_equal(errno, EXDEV);
  assert_int_equal(pf_walk_open_beneath(dfd, g_root, "/etc/passwd"), -1);
  assert_int_equal(errno, EINVAL);
  assert_int_equal(pf_walk_open_beneath(dfd, g_root, g_root), -1);
  close(dfd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_walk_sorted),
    cmocka_unit_test(test_walk_glob),
    cmocka_unit_test(test_walk_files_and_append),
    cmocka_unit_test(test_walk_symlink_given),
    cmocka_unit_test(test_walk_missing),
    cmocka_unit_test(test_parent_name),
    cmocka_unit_test(test_walk_nolinks),
    cmocka_unit_test(test_open_beneath),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
