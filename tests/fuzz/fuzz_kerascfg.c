/* fuzz_kerascfg: libFuzzer target for the Keras model_config reader
 * (lib/model/pf_keras_config.c, pf_keras_config_parse), whose input is the
 * JSON text an HDF5 model file carries. The first input byte picks the
 * layer room (0..15), the rest is the text (no NUL at its end). Checks the
 * contract of pf_keras_config.h on every answer: -1 with a terminated,
 * non-empty one-line reason, or a count within the room whose layers have
 * a non-empty class and name and terminated, short fields; and the same
 * answer with a larger room unless the room was what refused it. A
 * violation abort()s so the fuzzer reports it. Built by `make fuzz`, run
 * by `make fuzz-run-kerascfg`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_keras_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_kerascfg: invariant violated (fuzz_kerascfg.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

#define BIG 64

static void check_answer(int n, int room, const pf_keras_layer *l, const char *why) {
  if (n < 0) {
    CHECK(n == -1);
    CHECK(memchr(why, '\0', 200) != NULL);
    CHECK(why[0] != '\0');
    CHECK(strchr(why, '\n') == NULL || strstr(why, "layer ") != NULL); /* a name from the file may hold one */
    return;
  }
  CHECK(n <= room);
  for (int i = 0; i < n; i++) {
    CHECK(memchr(l[i].cls, '\0', sizeof l[i].cls) && memchr(l[i].name, '\0', sizeof l[i].name));
    CHECK(memchr(l[i].activation, '\0', sizeof l[i].activation));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int room = data[0] & 15;
  const uint8_t *text = data + 1;
  size_t len = size - 1;
  /* a copy of exactly len bytes: reading past it is caught by ASan */
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return 0;
  memcpy(buf, text, len);
  static pf_keras_layer small[16], big[BIG];
  char why[200], why2[200];
  memset(why, 'x', sizeof why);
  int n = pf_keras_config_parse(buf, len, small, room, why, sizeof why);
  check_answer(n, room, small, why);
  int m = pf_keras_config_parse(buf, len, big, BIG, why2, sizeof why2);
  check_answer(m, BIG, big, why2);
  if (n >= 0) {
    CHECK(m == n);
    for (int i = 0; i < n; i++) CHECK(memcmp(&small[i], &big[i], sizeof small[i]) == 0);
  } else if (m >= 0) {
    CHECK(m > room && strstr(why, "more than") != NULL); /* only the room refused it */
  }
  free(buf);
  return 0;
}
