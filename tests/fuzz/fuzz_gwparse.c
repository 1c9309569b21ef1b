/* fuzz_gwparse: libFuzzer target for the HTTP gateway's request parsing
 * (gateway/gw_parse.c): the JSON body decoder, the comma-separated vector
 * decoder and the capped field accumulator. The first input byte picks the
 * decoder and a cap, the rest is the body. Checks the contract of
 * gw_parse.h on every answer: return codes, terminated one-line reasons,
 * x within its cap and NUL-terminated, finite vector values within cap and
 * bit for bit what strtod reads from each token (the parser's fast path); a
 * decoded x written back as a JSON string decodes to the same bytes; a
 * decoded vector printed with %.17g decodes to the same values; feeding a
 * field in pieces equals feeding it whole. A violation abort()s so the
 * fuzzer reports it. Built by `make fuzz`, run by `make fuzz-run-gwparse`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_parse.h"
#include "pf_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_gwparse: invariant violated (fuzz_gwparse.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

static void check_reason(const char *err, size_t room) {
  size_t l = strnlen(err, room);
  CHECK(l > 0 && l < room);
  CHECK(!memchr(err, '\n', l));
}

/* x as a JSON document {"x": "..."}: quotes, backslashes and control bytes escaped. */
static uint8_t *as_json(const uint8_t *x, size_t n, size_t *len) {
  uint8_t *o = malloc(n * 6 + 16);
  if (!o) return NULL;
  size_t k = 0;
  memcpy(o, "{\"x\":\"", 6);
  k = 6;
  for (size_t i = 0; i < n; i++) {
    if (x[i] == '"' || x[i] == '\\') { o[k++] = '\\'; o[k++] = x[i]; }
    else if (x[i] < 0x20) k += (size_t)sprintf((char *)o + k, "\\u%04x", x[i]);
    else o[k++] = x[i];
  }
  memcpy(o + k, "\"}", 2);
  *len = k + 2;
  return o;
}

static void fuzz_json(const uint8_t *b, size_t n, size_t limit) {
  gw_params p;
  gw_params_init(&p, limit);
  char err[200];
  memset(err, 0, sizeof err);
  int rc = gw_parse_json(b, n, &p, err, sizeof err);
  CHECK(rc == PF_OK || rc == PF_EINVAL || rc == PF_ELIMIT || rc == PF_ENOMEM);
  if (rc != PF_OK) {
    check_reason(err, sizeof err);
  } else {
    CHECK(strlen(p.sha256) < GW_SMALL_FIELD && strlen(p.threshold) < GW_SMALL_FIELD && strlen(p.top) < GW_SMALL_FIELD);
    CHECK(!p.x_file && !p.too_large);
    if (p.x_set && p.x) {
      CHECK(p.x_len <= limit && p.x[p.x_len] == '\0');
      CHECK(!memchr(p.x, '\0', p.x_len)); /* \u0000 is refused */
      size_t jl;
      uint8_t *j = as_json(p.x, p.x_len, &jl);
      if (j) {
        gw_params q;
        gw_params_init(&q, limit);
        char err2[200];
        int rc2 = gw_parse_json(j, jl, &q, err2, sizeof err2);
        CHECK(rc2 == PF_OK);
        CHECK(q.x_len == p.x_len && memcmp(q.x, p.x, p.x_len) == 0);
        gw_params_destroy(&q);
        free(j);
      }
    }
  }
  gw_params_destroy(&p);
}

#define CAP 600

static void fuzz_vector(const uint8_t *b, size_t n, size_t cap) {
  static double v[CAP], w[CAP];
  size_t nv = 0, nw = 0;
  char err[200];
  memset(err, 0, sizeof err);
  int rc = gw_parse_vector((const char *)b, n, v, cap, &nv, err, sizeof err);
  CHECK(rc == PF_OK || rc == PF_EINVAL);
  if (rc != PF_OK) {
    check_reason(err, sizeof err);
    return;
  }
  CHECK(nv >= 1 && nv <= cap);
  /* every value is bit for bit what strtod reads from its token (the fast path included) */
  size_t a = 0, z = n;
  while (a < z && (b[a] == ' ' || b[a] == '\t' || b[a] == '\n' || b[a] == '\r')) a++;
  while (z > a && (b[z - 1] == ' ' || b[z - 1] == '\t' || b[z - 1] == '\n' || b[z - 1] == '\r')) z--;
  if (z - a >= 2 && b[a] == '[' && b[z - 1] == ']') { a++; z--; }
  for (size_t i = 0, at = a; i < nv; i++) {
    size_t e = at;
    while (e < z && b[e] != ',') e++;
    size_t ta = at, tb = e;
    while (ta < tb && (b[ta] == ' ' || b[ta] == '\t' || b[ta] == '\n' || b[ta] == '\r')) ta++;
    while (tb > ta && (b[tb - 1] == ' ' || b[tb - 1] == '\t' || b[tb - 1] == '\n' || b[tb - 1] == '\r')) tb--;
    char tok[64];
    CHECK(tb > ta && tb - ta < sizeof tok);
    memcpy(tok, b + ta, tb - ta);
    tok[tb - ta] = '\0';
    char *end = NULL;
    double ref = strtod(tok, &end);
    CHECK(end == tok + (tb - ta) && memcmp(&ref, &v[i], sizeof ref) == 0);
    at = e + 1;
  }
  char *text = malloc(nv * 32 + 1);
  if (!text) return;
  size_t k = 0;
  for (size_t i = 0; i < nv; i++) {
    CHECK(isfinite(v[i]));
    k += (size_t)sprintf(text + k, "%s%.17g", i ? "," : "", v[i]);
  }
  rc = gw_parse_vector(text, k, w, cap, &nw, err, sizeof err);
  CHECK(rc == PF_OK && nw == nv);
  for (size_t i = 0; i < nv; i++) CHECK(w[i] == v[i] || (w[i] == 0 && v[i] == 0));
  free(text);
  /* a smaller cap: the same answer, or "more than" */
  if (nv > 1) {
    rc = gw_parse_vector((const char *)b, n, w, nv - 1, &nw, err, sizeof err);
    CHECK(rc == PF_EINVAL && strstr(err, "more than"));
  }
}

static void fuzz_fields(const uint8_t *b, size_t n, size_t limit, size_t piece) {
  gw_params whole, parts;
  gw_params_init(&whole, limit);
  gw_params_init(&parts, limit);
  int r1 = gw_params_add(&whole, "x", b, n, 1);
  int r2 = PF_OK;
  for (size_t off = 0; off < n && r2 == PF_OK; off += piece) {
    size_t l = n - off < piece ? n - off : piece;
    r2 = gw_params_add(&parts, "x", b + off, l, 1);
  }
  CHECK(r1 == PF_OK || r1 == PF_ELIMIT || r1 == PF_ENOMEM);
  if (r1 == PF_OK && r2 == PF_OK) {
    CHECK(whole.x_len == n && parts.x_len == n);
    CHECK(n == 0 || memcmp(whole.x, parts.x, n) == 0);
    CHECK(n == 0 || whole.x[n] == '\0');
  }
  if (r1 == PF_ELIMIT) CHECK(whole.too_large && n > limit && r2 == PF_ELIMIT && parts.too_large);
  /* small fields never pass their cap */
  int r3 = gw_params_add(&whole, "sha256", b, n, 0);
  CHECK(r3 == PF_OK ? strlen(whole.sha256) <= n : (r3 == PF_ELIMIT && whole.bad[0]));
  gw_params_destroy(&whole);
  gw_params_destroy(&parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  const uint8_t *b = data + 1;
  size_t n = size - 1;
  size_t limit = (size_t)(sel >> 2) * 64 + 1; /* 1..4033 bytes */
  switch (sel & 3) {
  case 0: fuzz_json(b, n, limit); break;
  case 1: fuzz_json(b, n, GW_TEXT_MAX); break;
  case 2: fuzz_vector(b, n, (sel >> 2) % 2 ? CAP : 1 + (sel >> 3)); break;
  default: fuzz_fields(b, n, limit, 1 + (sel >> 4)); break;
  }
  return 0;
}
