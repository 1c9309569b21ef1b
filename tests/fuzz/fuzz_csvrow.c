/* fuzz_csvrow: libFuzzer target for the dataset.csv row decoder (pf_csvrow).
 * The first input byte picks the label room and the value room, the rest
 * is the line. Checks the contract of pf_csvrow.h on every answer: codes,
 * terminated one-line reasons, finite values, the same answer whatever the
 * value room, and that a decoded row written out again (label quoted,
 * values as %.17g) decodes to the very same label and values. A violation
 * abort()s so the fuzzer reports it. Built by `make fuzz`, run by
 * `make fuzz-run-csvrow`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_csvrow.h"
#include "pf_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_csvrow: invariant violated (fuzz_csvrow.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

#define MAX_VALS 600
#define LABEL_ROOM 200

typedef struct {
  int rc;
  char label[LABEL_ROOM + 8];
  double v[MAX_VALS + 8];
  size_t n;
  char err[160];
} answer;

/* Parses with label_cap and cap, checking what holds for every answer. */
static void run(const uint8_t *line, size_t len, size_t label_cap, size_t cap, size_t errlen, answer *a) {
  memset(a->label, 'L', sizeof a->label);
  memset(a->err, 'E', sizeof a->err);
  for (size_t i = 0; i < sizeof a->v / sizeof a->v[0]; i++) a->v[i] = 12345.678;
  a->n = (size_t)-1;
  a->rc = pf_csvrow_parse(line, len, a->label, label_cap, a->v, cap, &a->n, a->err, errlen);
  CHECK(a->rc == PF_OK || a->rc == PF_EINVAL || a->rc == PF_ELIMIT);
  CHECK(a->rc != PF_ELIMIT || len > PF_CSVROW_MAX_LINE || memchr(line, ',', len));
  /* the label is terminated within its room, nothing written past it */
  CHECK(memchr(a->label, '\0', label_cap) != NULL);
  for (size_t i = label_cap; i < sizeof a->label; i++) CHECK(a->label[i] == 'L');
  /* the reason: terminated within errlen, one printable line, empty on success */
  CHECK(memchr(a->err, '\0', errlen) != NULL);
  for (size_t i = errlen; i < sizeof a->err; i++) CHECK(a->err[i] == 'E');
  for (const char *p = a->err; *p; p++) CHECK(*p >= 0x20 && *p <= 0x7e);
  CHECK((a->rc == PF_OK) == (a->err[0] == '\0') || errlen == 1);
  /* values: finite, only within cap; the count is bounded */
  CHECK(a->n < PF_CSVROW_MAX_FIELDS);
  size_t stored = a->n < cap ? a->n : cap;
  for (size_t i = 0; i < stored; i++) CHECK(isfinite(a->v[i]));
  for (size_t i = cap; i < sizeof a->v / sizeof a->v[0]; i++) CHECK(a->v[i] == 12345.678);
  if (a->rc == PF_OK) {
    CHECK(len > 0);
    CHECK(!memchr(line, '\0', len) && !memchr(line, '\r', len) && !memchr(line, '\n', len));
  }
}

static uint8_t out[LABEL_ROOM * 2 + 8 + MAX_VALS * 32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t label_cap = 1 + (size_t)(data[0] & 0x7f) * LABEL_ROOM / 127; /* 1..LABEL_ROOM */
  size_t cap = (data[0] & 0x80) ? MAX_VALS : (size_t)(data[0] & 0x0f);
  const uint8_t *line = data + 1;
  size_t len = size - 1;

  static answer a, b;
  run(line, len, label_cap, cap, sizeof a.err, &a);

  /* another value room (and a tiny reason room) gives the same answer */
  run(line, len, label_cap, cap == MAX_VALS ? 3 : MAX_VALS, 1 + (size_t)(data[0] % 7), &b);
  CHECK(a.rc == b.rc && a.n == b.n && strcmp(a.label, b.label) == 0);
  size_t common = a.n < 3 ? a.n : 3;
  if (common > cap) common = cap;
  for (size_t i = 0; i < common; i++) CHECK(memcmp(&a.v[i], &b.v[i], sizeof(double)) == 0);

  /* the whole input as one number */
  double x = 777;
  if (pf_csvrow_number(line, len, &x) == PF_OK) {
    CHECK(isfinite(x));
    for (size_t i = 0; i < len; i++) CHECK(strchr("0123456789+-.eE", line[i]) && line[i]);
    /* a one-value row of that number agrees */
    static uint8_t row[PF_CSVROW_MAX_NUMBER + 8];
    row[0] = 'l';
    row[1] = ',';
    memcpy(row + 2, line, len);
    run(row, len + 2, label_cap < 2 ? 2 : label_cap, 1, sizeof b.err, &b);
    CHECK(b.rc == PF_OK && b.n == 1 && memcmp(&b.v[0], &x, sizeof x) == 0);
  } else {
    CHECK(x == 777);
  }

  /* a decoded row, written out again, decodes to the same row */
  if (a.rc == PF_OK && a.n <= cap) {
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = a.label; *p; p++) {
      if (*p == '"') out[o++] = '"';
      out[o++] = (uint8_t)*p;
    }
    out[o++] = '"';
    for (size_t i = 0; i < a.n; i++) o += (size_t)snprintf((char *)out + o, sizeof out - o, ",%.17g", a.v[i]);
    CHECK(o < sizeof out);
    run(out, o, label_cap, cap, sizeof b.err, &b);
    CHECK(b.rc == PF_OK && b.n == a.n && strcmp(a.label, b.label) == 0);
    for (size_t i = 0; i < a.n; i++) CHECK(memcmp(&a.v[i], &b.v[i], sizeof(double)) == 0);
  }
  return 0;
}
