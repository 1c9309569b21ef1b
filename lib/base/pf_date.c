/* pf_date: UTC dates of first-seen times (see pf_date.h). Days from the
 * civil date with Howard Hinnant's algorithm, so no time zone or locale
 * ever enters (timegm is not in C11). */
#include "pf_date.h"
#include "pf_err.h"

#include <stdio.h>
#include <string.h>

static long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (long long)yoe + era * 400 + (*m <= 2);
}

static int month_days(long long y, unsigned m) {
  static const int k[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : k[m - 1];
}

/* Reads exactly w digits at s[*i]; -1 when they are not there. */
static long long digits(const char *s, size_t n, size_t *i, int w) {
  long long v = 0;
  for (int k = 0; k < w; k++, (*i)++) {
    if (*i >= n || s[*i] < '0' || s[*i] > '9') return -1;
    v = v * 10 + (s[*i] - '0');
  }
  return v;
}

int pf_date_parse(const char *s, size_t n, long long *t) {
  if (!s || !t) return PF_EINVAL;
  n = strnlen(s, n);
  size_t i = 0;
  if (n > 0 && s[0] == '@') i = 1;
  /* unix seconds: "@N", or 9 to 12 plain digits (a short number is no date) */
  if (n - i >= 1 && n - i <= 12 && (i == 1 || (n >= 9 && memchr(s, '-', n) == NULL))) {
    long long v = digits(s, n, &i, (int)(n - i));
    if (v < PF_DATE_MIN || v > PF_DATE_MAX || i != n) return PF_EINVAL;
    *t = v;
    return PF_OK;
  }
  i = 0;
  long long y = digits(s, n, &i, 4);
  if (y < 1970 || i >= n || s[i++] != '-') return PF_EINVAL;
  long long mo = digits(s, n, &i, 2);
  if (mo < 1 || mo > 12 || i >= n || s[i++] != '-') return PF_EINVAL;
  long long d = digits(s, n, &i, 2);
  if (d < 1 || d > month_days(y, (unsigned)mo)) return PF_EINVAL;
  long long hh = 0, mm = 0, ss = 0;
  if (i < n) {
    if (s[i] != 'T' && s[i] != ' ') return PF_EINVAL;
    i++;
    hh = digits(s, n, &i, 2);
    if (hh < 0 || hh > 23 || i >= n || s[i++] != ':') return PF_EINVAL;
    mm = digits(s, n, &i, 2);
    if (mm < 0 || mm > 59) return PF_EINVAL;
    if (i < n && s[i] == ':') {
      i++;
      ss = digits(s, n, &i, 2);
      if (ss < 0 || ss > 59) return PF_EINVAL;
    }
    if (i < n && s[i] == 'Z') i++;
    if (i != n) return PF_EINVAL;
  }
  long long v = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mm * 60 + ss;
  if (v < PF_DATE_MIN || v > PF_DATE_MAX) return PF_EINVAL;
  *t = v;
  return PF_OK;
}

static long long floor_div(long long a, long long b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

char *pf_date_format(long long t, char *buf, size_t n) {
  if (t < PF_DATE_MIN || t > PF_DATE_MAX) { snprintf(buf, n, "-"); return buf; }
  long long days = floor_div(t, 86400), sec = t - days * 86400, y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, n, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d, sec / 3600, sec / 60 % 60, sec % 60);
  return buf;
}

char *pf_date_day(long long t, char *buf, size_t n) {
  if (t < PF_DATE_MIN || t > PF_DATE_MAX) { snprintf(buf, n, "-"); return buf; }
  long long y;
  unsigned m, d;
  civil_from_days(floor_div(t, 86400), &y, &m, &d);
  snprintf(buf, n, "%04lld-%02u-%02u", y, m, d);
  return buf;
}

long long pf_period_start(pf_period p, long long t) {
  long long days = floor_div(t, 86400);
  if (p == PF_PERIOD_WEEK) /* 1970-01-01 was a Thursday: Monday is 3 days before */
    return (days - ((days % 7 + 7 + 3) % 7)) * 86400;
  long long y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  return days_from_civil(y, m, 1) * 86400;
}

long long pf_period_next(pf_period p, long long start) {
  if (p == PF_PERIOD_WEEK) return start + 7 * 86400;
  long long y;
  unsigned m, d;
  civil_from_days(floor_div(start, 86400), &y, &m, &d);
  if (++m > 12) { m = 1; y++; }
  return days_from_civil(y, m, 1) * 86400;
}

int pf_period_parse(const char *s, pf_period *p) {
  if (s && strcmp(s, "week") == 0) { *p = PF_PERIOD_WEEK; return PF_OK; }
  if (s && strcmp(s, "month") == 0) { *p = PF_PERIOD_MONTH; return PF_OK; }
  return PF_EINVAL;
}

char *pf_period_label(pf_period p, long long start, char *buf, size_t n) {
  long long y;
  unsigned m, d;
  long long days = floor_div(start, 86400);
  if (p == PF_PERIOD_MONTH) {
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02u", y, m);
    return buf;
  }
  /* ISO week: the week's Thursday decides the year */
  long long thu = days - ((days % 7 + 7 + 3) % 7) + 3;
  civil_from_days(thu, &y, &m, &d);
  long long jan1 = days_from_civil(y, 1, 1);
  snprintf(buf, n, "%04lld-W%02lld", y, (thu - jan1) / 7 + 1);
  return buf;
}
