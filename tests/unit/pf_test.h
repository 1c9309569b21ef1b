/* pf_test: shared helpers for the cmocka unit tests.
 * Defines where ../shared is, a whole-file reader, and a temporary folder
 * made and removed per test.
 * Called by tests/unit/test_*.c. */
#ifndef PF_TEST_H
#define PF_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

/* ../shared beside the checkout, or $PEFLEET_SHARED. */
static inline const char *pf_test_shared(void) {
  const char *s = getenv("PEFLEET_SHARED");
  return s && *s ? s : "../shared";
}

/* 1 when the shared folder exists. */
static inline int pf_test_have_shared(void) {
  struct stat st;
  return stat(pf_test_shared(), &st) == 0 && S_ISDIR(st.st_mode);
}

/* Skips the current cmocka test, saying why, when ../shared is absent. */
#define PF_TEST_NEED_SHARED()                                                   \
  do {                                                                          \
    if (!pf_test_have_shared()) {                                               \
      printf("skipped: ../shared not found (looked at %s; set PEFLEET_SHARED)\n", \
             pf_test_shared());                                                 \
      skip();                                                                   \
    }                                                                           \
  } while (0)

/* path = $shared/rel into buf. */
static inline const char *pf_test_shared_path(char *buf, size_t n, const char *rel) {
  snprintf(buf, n, "%s/%s", pf_test_shared(), rel);
  return buf;
}

/* Makes a new folder /tmp/NAME.XXXXXX into dir (n >= 32 + strlen(name)). */
static inline int pf_test_mkdtemp(char *dir, size_t n, const char *name) {
  snprintf(dir, n, "/tmp/%s.XXXXXX", name);
  return mkdtemp(dir) ? 0 : -1;
}

/* Removes the folder dir and everything in it (rm -rf). */
static inline int pf_test_rmtree(const char *dir) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Reads a whole file; returns NULL when it cannot. Caller frees. */
static inline uint8_t *pf_test_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  if (n < 0) { fclose(f); return NULL; }
  rewind(f);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) *len = (size_t)n;
  return buf;
}

#endif
