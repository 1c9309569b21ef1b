/* pf_test: shared helpers for the cmocka unit tests.
 * Defines where ../shared is and a whole-file reader.
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
#include <cmocka.h>

/* ../shared beside the checkout, or $PEFLEET_SHARED. */
static inline const char *pf_test_shared(void) {
  const char *s = getenv("PEFLEET_SHARED");
  return s && *s ? s : "../shared";
}

/* Reads a whole file; returns NULL when it cannot. Caller frees. */
static inline uint8_t *pf_test_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) *len = (size_t)n;
  return buf;
}

#endif
