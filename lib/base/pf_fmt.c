#include "pf_fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pf_fmt_double(double v, char *buf, size_t n) {
  if (!isfinite(v)) return snprintf(buf, n, "null");
  if (v == 0.0) return snprintf(buf, n, signbit(v) ? "-0" : "0");
  int len = 0;
  for (int prec = 15; prec <= 17; prec++) {
    len = snprintf(buf, n, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return len;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4)) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  /* overlong 3- and 4-byte forms, UTF-16 surrogates, past U+10FFFF */
  if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
      (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
    return 0;
  return n;
}

void pf_fmt_json_double(FILE *f, double v) {
  char b[40];
  pf_fmt_double(v, b, sizeof b);
  fputs(b, f);
}

void pf_fmt_json_string(FILE *f, const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  fputc('"', f);
  while (*s) {
    unsigned char c = *s;
    if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); s++; }
    else if (c == '\n') { fputs("\\n", f); s++; }
    else if (c == '\r') { fputs("\\r", f); s++; }
    else if (c == '\t') { fputs("\\t", f); s++; }
    else if (c < 0x20 || c == 0x7f) { fprintf(f, "\\u%04x", c); s++; }
    else {
      size_t n = utf8_len(s);
      if (n == 0) { fprintf(f, "\\u%04x", c); s++; }
      else { fwrite(s, 1, n, f); s += n; }
    }
  }
  fputc('"', f);
}

void pf_fmt_csv_field(FILE *f, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) { fputs(s, f); return; }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}
