/* pf_csvrow: one dataset.csv row, decoded from bytes (see pf_csvrow.h).
 * No I/O: the caller splits the input into lines and strips line endings.
 * Every field is bounded (label_cap, PF_CSVROW_MAX_NUMBER) and so is the
 * number of fields; numbers are checked against a strict grammar before
 * strtod sees them, so strtod's leniency (spaces, hex, inf, nan) never
 * applies. strtod follows the C locale, which pefleet never changes. */
#include "pf_csvrow.h"
#include "pf_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void row_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void row_err(char *err, size_t n, const char *fmt, ...) {
  if (!err || n == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

/* At most 24 bytes of a field, for a reason: anything not printable ASCII
 * (and the quote character) becomes '?', and "..." marks a cut. */
static void show(const char *s, size_t len, char out[32]) {
  size_t k = len < 24 ? len : 24;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = c < 0x20 || c > 0x7e || c == '\'' ? '?' : (char)c;
  }
  if (len > k) memcpy(out + k, "...", 3), k += 3;
  out[k] = '\0';
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* 1 when s[0..len) follows the grammar of pf_csvrow_number. */
static int grammar(const char *s, size_t len) {
  size_t i = 0, digits = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  while (i < len && is_digit(s[i])) i++, digits++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && is_digit(s[i])) i++, digits++;
  }
  if (digits == 0) return 0;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t exp = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    while (i < len && is_digit(s[i])) i++, exp++;
    if (exp == 0) return 0;
  }
  return i == len;
}

/* [+-]?(nan|inf|infinity), any case: what other writers print for them. */
static int names_non_finite(const char *s, size_t len) {
  if (len > 0 && (s[0] == '+' || s[0] == '-')) s++, len--;
  return (len == 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0)) ||
         (len == 8 && strncasecmp(s, "infinity", 8) == 0);
}

enum { NUM_OK, NUM_EMPTY, NUM_LONG, NUM_SYNTAX, NUM_NONFINITE, NUM_RANGE };

/* s holds len bytes and one more (written here) for the terminator. */
static int number(char *s, size_t len, double *out) {
  if (len == 0) return NUM_EMPTY;
  if (len > PF_CSVROW_MAX_NUMBER) return NUM_LONG;
  if (!grammar(s, len)) return names_non_finite(s, len) ? NUM_NONFINITE : NUM_SYNTAX;
  s[len] = '\0';
  char *end = NULL;
  double v = strtod(s, &end);
  if (end != s + len) return NUM_SYNTAX; /* cannot happen after the grammar check */
  if (!isfinite(v)) return NUM_RANGE;
  *out = v;
  return NUM_OK;
}

int pf_csvrow_number(const uint8_t *buf, size_t len, double *out) {
  char tmp[PF_CSVROW_MAX_NUMBER + 1];
  if (!buf || !out || len > PF_CSVROW_MAX_NUMBER) return PF_EINVAL;
  memcpy(tmp, buf, len);
  return number(tmp, len, out) == NUM_OK ? PF_OK : PF_EINVAL;
}

/* The field that starts at buf[*pos], unquoted: its first cap bytes go to
 * dst, *n receives its whole length, *pos moves to the comma after it (or
 * to len). Returns NULL, or why the field is malformed. */
static const char *take_field(const uint8_t *buf, size_t len, size_t *pos, char *dst, size_t cap, size_t *n) {
  size_t p = *pos, k = 0;
  if (p < len && buf[p] == '"') {
    for (p++;; p++) {
      if (p >= len) return "has no closing quote";
      uint8_t c = buf[p];
      if (c == '"') {
        if (p + 1 < len && buf[p + 1] == '"') p++; /* "" is one quote */
        else break;
      } else if (c == '\0' || c == '\r' || c == '\n') {
        return c ? "holds a line break" : "holds a NUL byte";
      }
      if (k < cap) dst[k] = (char)c;
      k++;
    }
    p++; /* the closing quote */
    if (p < len && buf[p] != ',') return "has bytes after its closing quote";
  } else {
    for (; p < len && buf[p] != ','; p++) {
      uint8_t c = buf[p];
      if (c == '\0' || c == '\r' || c == '\n') return c ? "holds a line break" : "holds a NUL byte";
      if (k < cap) dst[k] = (char)c;
      k++;
    }
  }
  *pos = p;
  *n = k;
  return NULL;
}

int pf_csvrow_parse(const uint8_t *buf, size_t len, char *label, size_t label_cap, double *vals, size_t cap,
                    size_t *nvals, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (nvals) *nvals = 0;
  if (label && label_cap) label[0] = '\0';
  if ((!buf && len) || !label || label_cap == 0 || (!vals && cap) || !nvals) {
    row_err(err, errlen, "bad arguments");
    return PF_EINVAL;
  }
  if (len == 0) {
    row_err(err, errlen, "empty line");
    return PF_EINVAL;
  }
  if (len > PF_CSVROW_MAX_LINE) {
    row_err(err, errlen, "line longer than %u bytes", PF_CSVROW_MAX_LINE);
    return PF_ELIMIT;
  }
  size_t pos = 0, n = 0, nf = 0;
  const char *why = take_field(buf, len, &pos, label, label_cap - 1, &n);
  if (why) {
    label[0] = '\0';
    row_err(err, errlen, "the label %s", why);
    return PF_EINVAL;
  }
  if (n > label_cap - 1) {
    label[label_cap - 1] = '\0';
    row_err(err, errlen, "label longer than %zu bytes", label_cap - 1);
    return PF_EINVAL;
  }
  label[n] = '\0';
  nf = 1;
  char tmp[PF_CSVROW_MAX_NUMBER + 1];
  while (pos < len) {
    pos++; /* the comma */
    if (nf >= PF_CSVROW_MAX_FIELDS) {
      row_err(err, errlen, "more than %d fields", PF_CSVROW_MAX_FIELDS);
      return PF_ELIMIT;
    }
    size_t at = pos, vi = nf; /* value number, from 1 */
    why = take_field(buf, len, &pos, tmp, PF_CSVROW_MAX_NUMBER + 1, &n);
    if (why) {
      row_err(err, errlen, "value %zu %s", vi, why);
      return PF_EINVAL;
    }
    double v = 0;
    int r = number(tmp, n, &v);
    if (r != NUM_OK) {
      char shown[32];
      show((const char *)buf + at, pos - at, shown);
      switch (r) {
      case NUM_EMPTY: row_err(err, errlen, "value %zu is empty", vi); break;
      case NUM_LONG: row_err(err, errlen, "value %zu is longer than %d bytes", vi, PF_CSVROW_MAX_NUMBER); break;
      case NUM_NONFINITE: row_err(err, errlen, "value %zu is not finite: '%s'", vi, shown); break;
      case NUM_RANGE: row_err(err, errlen, "value %zu is out of range: '%s'", vi, shown); break;
      default: row_err(err, errlen, "value %zu is not a number: '%s'", vi, shown); break;
      }
      return PF_EINVAL;
    }
    if (vi - 1 < cap) vals[vi - 1] = v;
    *nvals = vi;
    nf++;
  }
  return PF_OK;
}
