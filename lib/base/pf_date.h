/* pf_date: owns the calendar dates of first-seen times (UTC, unix seconds).
 * Defines parsing of the dates users give (--seen-at, --test-since, a CSV
 * column), their one printed form, and the week and month a time falls in.
 * Called by ingest, feed, import-csv, export, status, train, evaluate and
 * retrain. */
#ifndef PF_DATE_H
#define PF_DATE_H

#include <stddef.h>

#define PF_DATE_MIN 1LL             /* 1970-01-01T00:00:01Z */
#define PF_DATE_MAX 253402300799LL  /* 9999-12-31T23:59:59Z */
#define PF_DATE_LEN 21              /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (a space may stand for
 * the T), or a unix time in seconds ("1733000000": 9 to 12 digits, or "@N"), as UTC,
 * into *t. PF_EINVAL for anything else, an impossible date (2026-02-30) or
 * a time outside PF_DATE_MIN..PF_DATE_MAX. Reads at most n bytes of s
 * (s need not be NUL-terminated). */
int pf_date_parse(const char *s, size_t n, long long *t);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (at least PF_DATE_LEN bytes); "-" for a
 * time outside PF_DATE_MIN..PF_DATE_MAX. Returns buf. */
char *pf_date_format(long long t, char *buf, size_t n);

/* "YYYY-MM-DD" of t (at least 11 bytes); "-" when out of range. */
char *pf_date_day(long long t, char *buf, size_t n);

/* Periods for evaluate --by: the start of the ISO week (Monday 00:00 UTC)
 * or of the month (the 1st, 00:00 UTC) that holds t, and the start of the
 * next one. */
typedef enum { PF_PERIOD_WEEK = 0, PF_PERIOD_MONTH = 1 } pf_period;
long long pf_period_start(pf_period p, long long t);
long long pf_period_next(pf_period p, long long start);

/* "week" or "month" -> *p; PF_EINVAL otherwise. */
int pf_period_parse(const char *s, pf_period *p);

/* A label for the period that starts at start: "2026-W07" (ISO week) or
 * "2026-02" (n >= 12). */
char *pf_period_label(pf_period p, long long start, char *buf, size_t n);

#endif
