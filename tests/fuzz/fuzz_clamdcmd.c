/* fuzz_clamdcmd: libFuzzer target for pefleet-clamd's command grammar
 * (clamd/cd_cmd.c). The first byte picks `whole`; the rest is what a client
 * sent. Checks the contract of cd_cmd.h on every answer: a known code; OK
 * consumes between 1 and len bytes; an argument lies inside the consumed
 * bytes, holds no NUL and exists only for the commands that take one; MORE
 * only while no terminator was seen within CD_CMD_MAX; and parsing the
 * consumed bytes alone gives the same command. A violation abort()s so the
 * fuzzer reports it. Built by `make fuzz`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_clamdcmd: invariant violated (fuzz_clamdcmd.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

static int takes_arg(cd_kind k) { return k == CD_SCAN || k == CD_CONTSCAN || k == CD_MULTISCAN || k == CD_ALLMATCHSCAN; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int whole = data[0] & 1;
  const uint8_t *buf = data + 1;
  size_t len = size - 1;
  uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees reads past it */
  if (!copy) return 0;
  memcpy(copy, buf, len);
  cd_cmd c;
  size_t used = 12345;
  int rc = cd_cmd_parse(copy, len, whole, &c, &used);
  CHECK(rc == CD_PARSE_OK || rc == CD_PARSE_MORE || rc == CD_PARSE_TOO_LONG);
  if (rc == CD_PARSE_OK) {
    CHECK(used >= 1 && used <= len);
    CHECK(c.term == '\0' || c.term == '\n');
    CHECK(c.name != NULL);
    if (c.arg) {
      CHECK(takes_arg(c.kind));
      CHECK((const uint8_t *)c.arg >= copy && (const uint8_t *)c.arg + c.arglen <= copy + used);
      CHECK(c.arglen > 0 && memchr(c.arg, '\0', c.arglen) == NULL);
    } else {
      CHECK(!takes_arg(c.kind));
    }
    cd_cmd again;
    size_t used2 = 0;
    CHECK(cd_cmd_parse(copy, used, 1, &again, &used2) == CD_PARSE_OK);
    CHECK(used2 == used && again.kind == c.kind && again.term == c.term && again.arglen == c.arglen);
  } else if (rc == CD_PARSE_MORE) {
    CHECK(len < CD_CMD_MAX);
  } else {
    CHECK(len >= CD_CMD_MAX);
  }
  free(copy);
  return 0;
}
