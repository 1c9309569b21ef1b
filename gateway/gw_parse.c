#include "gw_parse.h"
#include "pf_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_params_init(gw_params *p, size_t x_limit) {
  memset(p, 0, sizeof *p);
  p->x_limit = x_limit;
}

void gw_params_reserve(gw_params *p, size_t n) {
  if (n > p->x_limit || n + 1 <= p->x_cap) return;
  uint8_t *nx = realloc(p->x, n + 1);
  if (!nx) return; /* best effort: gw_params_add grows it as needed */
  p->x = nx;
  p->x_cap = n + 1;
}

void gw_params_destroy(gw_params *p) {
  free(p->x);
  memset(p, 0, sizeof *p);
}

static int add_small(gw_params *p, char *dst, const char *key, const uint8_t *data, size_t len) {
  size_t have = strlen(dst);
  if (have + len >= GW_SMALL_FIELD) {
    if (!p->bad[0]) snprintf(p->bad, sizeof p->bad, "field %s is too long (at most %d bytes)", key, GW_SMALL_FIELD - 1);
    return PF_ELIMIT;
  }
  memcpy(dst + have, data, len);
  dst[have + len] = '\0';
  return PF_OK;
}

int gw_params_add(gw_params *p, const char *key, const uint8_t *data, size_t len, int is_file) {
  if (!key) return PF_OK;
  if (strcmp(key, "sha256") == 0) return add_small(p, p->sha256, key, data, len);
  if (strcmp(key, "threshold") == 0) return add_small(p, p->threshold, key, data, len);
  if (strcmp(key, "top") == 0) return add_small(p, p->top, key, data, len);
  if (strcmp(key, "explain") == 0) {
    p->explain_set = 1;
    return add_small(p, p->explain, key, data, len);
  }
  if (strcmp(key, "x") != 0) return PF_OK;
  p->x_set = 1;
  p->x_file |= is_file ? 1 : 0;
  size_t limit = p->x_file ? p->x_limit : (p->x_limit < GW_TEXT_MAX ? p->x_limit : GW_TEXT_MAX);
  if (p->too_large || len > limit - p->x_len) {
    p->too_large = 1;
    return PF_ELIMIT;
  }
  if (p->x_len + len + 1 > p->x_cap) {
    size_t cap = p->x_cap ? p->x_cap : 4096;
    while (cap < p->x_len + len + 1) cap *= 2;
    uint8_t *nx = realloc(p->x, cap);
    if (!nx) return PF_ENOMEM;
    p->x = nx;
    p->x_cap = cap;
  }
  if (len) memcpy(p->x + p->x_len, data, len);
  p->x_len += len;
  p->x[p->x_len] = '\0';
  return PF_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

typedef struct {
  const uint8_t *b;
  size_t n, i;
  char *err;
  size_t errlen;
} jp;

static int jfail(jp *j, const char *what) {
  snprintf(j->err, j->errlen, "JSON body: %s at byte %zu", what, j->i);
  return PF_EINVAL;
}

static void jws(jp *j) {
  while (j->i < j->n && (j->b[j->i] == ' ' || j->b[j->i] == '\t' || j->b[j->i] == '\n' || j->b[j->i] == '\r')) j->i++;
}

/* Appends one code point as UTF-8 to a buffer with room for 4 more bytes. */
static size_t put_utf8(uint8_t *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { o[0] = (uint8_t)(0xc0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3f)); return 2; }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xe0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (uint8_t)(0xf0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

static int hex4(jp *j, unsigned *v) {
  if (j->n - j->i < 4) return jfail(j, "short \\u escape");
  unsigned r = 0;
  for (int k = 0; k < 4; k++) {
    uint8_t c = j->b[j->i + k];
    r <<= 4;
    if (c >= '0' && c <= '9') r |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') r |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') r |= (unsigned)(c - 'A' + 10);
    else return jfail(j, "bad \\u escape");
  }
  j->i += 4;
  *v = r;
  return PF_OK;
}

/* A string at j->i (the opening quote). With p and key set, its decoded
 * bytes go to that field; with key NULL it is only checked. */
static int jstring(jp *j, gw_params *p, const char *key) {
  if (j->i >= j->n || j->b[j->i] != '"') return jfail(j, "expected a string");
  j->i++;
  for (;;) {
    if (j->i >= j->n) return jfail(j, "unterminated string");
    uint8_t c = j->b[j->i];
    if (c == '"') { j->i++; return PF_OK; }
    if (c < 0x20) return jfail(j, "control character in a string");
    size_t start = j->i;
    if (c != '\\') { /* a run of plain bytes */
      while (j->i < j->n && j->b[j->i] != '"' && j->b[j->i] != '\\' && j->b[j->i] >= 0x20) j->i++;
      if (key) {
        int rc = gw_params_add(p, key, j->b + start, j->i - start, 0);
        if (rc != PF_OK) return rc;
      }
      continue;
    }
    if (j->n - j->i < 2) return jfail(j, "unterminated escape");
    uint8_t e = j->b[j->i + 1], out[8];
    size_t olen = 1;
    j->i += 2;
    switch (e) {
    case '"': case '\\': case '/': out[0] = e; break;
    case 'b': out[0] = '\b'; break;
    case 'f': out[0] = '\f'; break;
    case 'n': out[0] = '\n'; break;
    case 'r': out[0] = '\r'; break;
    case 't': out[0] = '\t'; break;
    case 'u': {
      unsigned cp;
      int rc = hex4(j, &cp);
      if (rc != PF_OK) return rc;
      if (cp >= 0xd800 && cp < 0xdc00 && j->n - j->i >= 6 && j->b[j->i] == '\\' && j->b[j->i + 1] == 'u') {
        unsigned lo;
        j->i += 2;
        if ((rc = hex4(j, &lo)) != PF_OK) return rc;
        if (lo < 0xdc00 || lo > 0xdfff) return jfail(j, "bad surrogate pair");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xd800 && cp < 0xe000) {
        return jfail(j, "lone surrogate");
      }
      if (cp == 0) return jfail(j, "NUL in a string");
      olen = put_utf8(out, cp);
      break;
    }
    default: return jfail(j, "bad escape");
    }
    if (key) {
      int rc = gw_params_add(p, key, out, olen, 0);
      if (rc != PF_OK) return rc;
    }
  }
}

/* A number at j->i (RFC 8259 grammar); its text span in *start, *len. */
static int jnumber(jp *j, size_t *start, size_t *len) {
  size_t s = j->i;
  if (j->i < j->n && j->b[j->i] == '-') j->i++;
  if (j->i >= j->n) return jfail(j, "expected a number");
  if (j->b[j->i] == '0') j->i++;
  else if (j->b[j->i] >= '1' && j->b[j->i] <= '9') while (j->i < j->n && j->b[j->i] >= '0' && j->b[j->i] <= '9') j->i++;
  else return jfail(j, "expected a value");
  if (j->i < j->n && j->b[j->i] == '.') {
    j->i++;
    size_t d = j->i;
    while (j->i < j->n && j->b[j->i] >= '0' && j->b[j->i] <= '9') j->i++;
    if (d == j->i) return jfail(j, "digits expected after '.'");
  }
  if (j->i < j->n && (j->b[j->i] == 'e' || j->b[j->i] == 'E')) {
    j->i++;
    if (j->i < j->n && (j->b[j->i] == '+' || j->b[j->i] == '-')) j->i++;
    size_t d = j->i;
    while (j->i < j->n && j->b[j->i] >= '0' && j->b[j->i] <= '9') j->i++;
    if (d == j->i) return jfail(j, "digits expected in the exponent");
  }
  *start = s;
  *len = j->i - s;
  return PF_OK;
}

static int jword(jp *j, const char *w) {
  size_t l = strlen(w);
  if (j->n - j->i < l || memcmp(j->b + j->i, w, l) != 0) return jfail(j, "expected a value");
  j->i += l;
  return PF_OK;
}

/* Any value, checked and skipped. */
static int jskip(jp *j, int depth) {
  jws(j);
  if (j->i >= j->n) return jfail(j, "expected a value");
  uint8_t c = j->b[j->i];
  if (c == '"') return jstring(j, NULL, NULL);
  if (c == 't') return jword(j, "true");
  if (c == 'f') return jword(j, "false");
  if (c == 'n') return jword(j, "null");
  if (c == '{' || c == '[') {
    if (depth >= GW_JSON_DEPTH) return jfail(j, "nested too deeply");
    uint8_t close = c == '{' ? '}' : ']';
    j->i++;
    jws(j);
    if (j->i < j->n && j->b[j->i] == close) { j->i++; return PF_OK; }
    for (;;) {
      int rc;
      if (c == '{') {
        jws(j);
        if ((rc = jstring(j, NULL, NULL)) != PF_OK) return rc;
        jws(j);
        if (j->i >= j->n || j->b[j->i] != ':') return jfail(j, "expected ':'");
        j->i++;
      }
      if ((rc = jskip(j, depth + 1)) != PF_OK) return rc;
      jws(j);
      if (j->i < j->n && j->b[j->i] == ',') { j->i++; continue; }
      if (j->i < j->n && j->b[j->i] == close) { j->i++; return PF_OK; }
      return jfail(j, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
  size_t s, l;
  return jnumber(j, &s, &l);
}

/* The value of a wanted member: strings and numbers go to the field; for
 * x, an array of numbers becomes their text joined by commas. */
static int jfield(jp *j, gw_params *p, const char *key) {
  jws(j);
  if (j->i >= j->n) return jfail(j, "expected a value");
  uint8_t c = j->b[j->i];
  if (c == '"') {
    if (strcmp(key, "x") == 0) gw_params_add(p, "x", (const uint8_t *)"", 0, 0); /* "" is a given, empty x */
    return jstring(j, p, key);
  }
  if (c == '[' && strcmp(key, "x") == 0) {
    j->i++;
    gw_params_add(p, "x", (const uint8_t *)"", 0, 0);
    jws(j);
    if (j->i < j->n && j->b[j->i] == ']') { j->i++; return PF_OK; }
    for (int first = 1;; first = 0) {
      jws(j);
      size_t s, l;
      int rc = jnumber(j, &s, &l);
      if (rc != PF_OK) return jfail(j, "x must be an array of numbers");
      if (!first && (rc = gw_params_add(p, "x", (const uint8_t *)",", 1, 0)) != PF_OK) return rc;
      if ((rc = gw_params_add(p, "x", j->b + s, l, 0)) != PF_OK) return rc;
      jws(j);
      if (j->i < j->n && j->b[j->i] == ',') { j->i++; continue; }
      if (j->i < j->n && j->b[j->i] == ']') { j->i++; return PF_OK; }
      return jfail(j, "expected ',' or ']'");
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    size_t s, l;
    int rc = jnumber(j, &s, &l);
    if (rc != PF_OK) return rc;
    return gw_params_add(p, key, j->b + s, l, 0);
  }
  if (c == 'n') return jword(j, "null"); /* null: as if absent */
  snprintf(j->err, j->errlen, "JSON body: member %s has the wrong type", key);
  return PF_EINVAL;
}

int gw_parse_json(const uint8_t *buf, size_t len, gw_params *p, char *err, size_t errlen) {
  jp j = {buf, buf ? len : 0, 0, err, errlen};
  unsigned seen = 0; /* wanted members already given: each once */
  jws(&j);
  if (j.i >= j.n || j.b[j.i] != '{') return jfail(&j, "not a JSON object");
  j.i++;
  jws(&j);
  if (j.i < j.n && j.b[j.i] == '}') j.i++;
  else {
    for (;;) {
      jws(&j);
      /* the key: at most 16 bytes are compared, longer keys are skipped */
      size_t ks = j.i + 1;
      int rc = jstring(&j, NULL, NULL);
      if (rc != PF_OK) return rc;
      size_t kl = j.i - 1 - ks;
      char key[16] = "";
      if (kl < sizeof key) { memcpy(key, j.b + ks, kl); key[kl] = '\0'; }
      jws(&j);
      if (j.i >= j.n || j.b[j.i] != ':') return jfail(&j, "expected ':'");
      j.i++;
      unsigned bit = strcmp(key, "x") == 0 ? 1u : strcmp(key, "sha256") == 0 ? 2u : strcmp(key, "threshold") == 0 ? 4u
                     : strcmp(key, "top") == 0 ? 8u : strcmp(key, "explain") == 0 ? 16u : 0u;
      if (bit & seen) {
        snprintf(err, errlen, "JSON body: member %s given twice", key);
        return PF_EINVAL;
      }
      seen |= bit;
      rc = bit ? jfield(&j, p, key) : jskip(&j, 1);
      if (rc == PF_ELIMIT && !p->too_large) { /* a small field past its cap: bad input, not too large */
        snprintf(err, errlen, "JSON body: %s", p->bad);
        return PF_EINVAL;
      }
      if (rc == PF_ELIMIT) {
        snprintf(err, errlen, "JSON body: member %s is too large", key);
        return rc;
      }
      if (rc == PF_ENOMEM) { snprintf(err, errlen, "out of memory"); return rc; }
      if (rc != PF_OK) return rc;
      jws(&j);
      if (j.i < j.n && j.b[j.i] == ',') { j.i++; continue; }
      if (j.i < j.n && j.b[j.i] == '}') { j.i++; break; }
      return jfail(&j, "expected ',' or '}'");
    }
  }
  jws(&j);
  if (j.i != j.n) return jfail(&j, "trailing bytes after the object");
  if (p->bad[0]) {
    snprintf(err, errlen, "%s", p->bad);
    return PF_EINVAL;
  }
  return PF_OK;
}

/* ---- vectors ----------------------------------------------------------------- */

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The common decimal forms ("0.333333333333", "-2.5e-3") without strtod:
 * at most 19 significant digits making an integer m <= 2^53 and a power of
 * ten 10^k with |k| <= 22, both exact doubles, so one correctly rounded
 * multiply or divide gives exactly strtod's answer (Clinger's fast path).
 * Returns 0 for anything else (strtod decides, and refuses what is not a
 * number). */
static int fast_number(const char *t, size_t n, double *out) {
  static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = 0;
  int neg = 0, digits = 0, any = 0;
  long e10 = 0;
  uint64_t m = 0;
  if (i < n && (t[i] == '-' || t[i] == '+')) neg = t[i++] == '-';
  for (; i < n && t[i] >= '0' && t[i] <= '9'; i++, any = 1) {
    if (m || t[i] != '0') {
      if (++digits > 19) return 0;
      m = m * 10 + (uint64_t)(t[i] - '0');
    }
  }
  if (i < n && t[i] == '.') {
    i++;
    for (; i < n && t[i] >= '0' && t[i] <= '9'; i++, any = 1) {
      if (m || t[i] != '0') {
        if (++digits > 19) return 0;
        m = m * 10 + (uint64_t)(t[i] - '0');
      }
      e10--;
    }
  }
  if (!any) return 0;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    i++;
    int eneg = 0;
    long ev = 0;
    if (i < n && (t[i] == '-' || t[i] == '+')) eneg = t[i++] == '-';
    if (i >= n) return 0;
    for (; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
      ev = ev * 10 + (t[i] - '0');
      if (ev > 1000) return 0;
    }
    e10 += eneg ? -ev : ev;
  }
  if (i != n || m > (1ull << 53) || e10 < -22 || e10 > 22) return 0;
  double v = (double)m;
  v = e10 < 0 ? v / p10[-e10] : v * p10[e10];
  *out = neg ? -v : v;
  return 1;
}

int gw_parse_vector(const char *s, size_t len, double *out, size_t cap, size_t *n, char *err, size_t errlen) {
  *n = 0;
  size_t a = 0, b = len;
  while (a < b && blank(s[a])) a++;
  while (b > a && blank(s[b - 1])) b--;
  if (b - a >= 2 && s[a] == '[' && s[b - 1] == ']') { a++; b--; }
  size_t count = 0;
  for (size_t i = a;; count++) {
    size_t e = i;
    while (e < b && s[e] != ',') e++;
    size_t ta = i, tb = e;
    while (ta < tb && blank(s[ta])) ta++;
    while (tb > ta && blank(s[tb - 1])) tb--;
    if (ta == tb) {
      snprintf(err, errlen, "malformed vector: value %zu is empty", count + 1);
      return PF_EINVAL;
    }
    if (count >= cap) {
      snprintf(err, errlen, "malformed vector: more than %zu values", cap);
      return PF_EINVAL;
    }
    char tok[64];
    size_t tl = tb - ta;
    int ok = tl < sizeof tok;
    if (ok) {
      memcpy(tok, s + ta, tl);
      tok[tl] = '\0';
      /* digits, sign, point and exponent only: strtod's hex, nan and inf forms are refused */
      for (size_t k = 0; k < tl && ok; k++)
        ok = (tok[k] >= '0' && tok[k] <= '9') || tok[k] == '-' || tok[k] == '+' || tok[k] == '.' || tok[k] == 'e' ||
             tok[k] == 'E';
    }
    double v = 0.0;
    if (ok && !fast_number(tok, tl, &v)) {
      char *end = NULL;
      v = strtod(tok, &end);
      if (end != tok + tl) ok = 0;
    }
    if (!ok) {
      size_t sg = (s[ta] == '-' || s[ta] == '+') ? 1 : 0;
      int is_nan = tl - sg >= 3 && strncasecmp(s + ta + sg, "nan", 3) == 0;
      int is_inf = tl - sg >= 3 && strncasecmp(s + ta + sg, "inf", 3) == 0;
      if (is_nan || is_inf)
        snprintf(err, errlen, "malformed vector: value %zu is %s, not a finite number", count + 1, is_nan ? "NaN" : "infinite");
      else {
        char shown[25]; /* the value's start, printable ASCII only (the reason is one line) */
        size_t k = 0;
        for (; k < tl && k + 1 < sizeof shown; k++) shown[k] = s[ta + k] >= 0x20 && s[ta + k] < 0x7f ? s[ta + k] : '?';
        shown[k] = '\0';
        snprintf(err, errlen, "malformed vector: value %zu ('%s%s') is not a number", count + 1, shown, tl > k ? "..." : "");
      }
      return PF_EINVAL;
    }
    if (!isfinite(v)) {
      snprintf(err, errlen, "malformed vector: value %zu is out of range, not a finite number", count + 1);
      return PF_EINVAL;
    }
    out[count] = v;
    if (e >= b) { count++; break; }
    i = e + 1;
  }
  *n = count;
  return PF_OK;
}

int gw_parse_is_path(const char *s, size_t len) {
  return memchr(s, '/', len) != NULL;
}
