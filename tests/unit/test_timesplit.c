/* Unit tests of pf_date and pf_timesplit: dates parsed and printed in UTC
 * (impossible dates refused), ISO weeks and months, and the time split:
 * the same split whatever order the rows come in, no row in two splits,
 * every test row newer than every train row even with many equal times,
 * the --test-since cut, and windows of time. */
#include "pf_test.h"

#include "pf_date.h"
#include "pf_err.h"
#include "pf_timesplit.h"

static long long parse(const char *s) {
  long long t = -1;
  return pf_date_parse(s, strlen(s), &t) == PF_OK ? t : -1;
}

static void test_dates(void **state) {
  assert_true(parse("2026-01-05") == 1767571200LL);
  assert_true(parse("2026-01-05T00:00:00Z") == 1767571200LL);
  assert_true(parse("2026-01-05 01:02:03") == 1767571200LL + 3723);
  assert_true(parse("2026-01-05T01:02") == 1767571200LL + 3720);
  assert_true(parse("1767571200") == 1767571200LL);
  assert_true(parse("@86400") == 86400);
  assert_true(parse("2024-02-29") > 0);
  const char *bad[] = {"", "2026-02-29", "2026-13-01", "2026-00-10", "2026-01-32", "2026-1-5", "3", "12345",
                       "2026-01-05T24:00", "2026-01-05X", "yesterday", "2026-01-05T01:02:03+01:00", "@0", "1969-12-31"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (parse(bad[i]) != -1) fail_msg("'%s' was accepted", bad[i]);
  char buf[PF_DATE_LEN];
  assert_string_equal(pf_date_format(1767571200LL + 3723, buf, sizeof buf), "2026-01-05T01:02:03Z");
  assert_string_equal(pf_date_format(0, buf, sizeof buf), "-");
  /* not NUL-terminated input: only n bytes are read */
  long long t;
  assert_int_equal(pf_date_parse("2026-01-05,rest", 10, &t), PF_OK);
  assert_true(t == 1767571200LL);
}

static void test_periods(void **state) {
  char b[16];
  long long wed = parse("2026-01-07T12:00:00Z"), mon = parse("2026-01-05");
  assert_true(pf_period_start(PF_PERIOD_WEEK, wed) == mon);
  assert_true(pf_period_start(PF_PERIOD_WEEK, mon) == mon);
  assert_true(pf_period_next(PF_PERIOD_WEEK, mon) == parse("2026-01-12"));
  assert_string_equal(pf_period_label(PF_PERIOD_WEEK, mon, b, sizeof b), "2026-W02");
  /* 2026-12-28 is in ISO week 53 of 2026; 2024-12-30 in week 1 of 2025 */
  assert_string_equal(pf_period_label(PF_PERIOD_WEEK, parse("2026-12-28"), b, sizeof b), "2026-W53");
  assert_string_equal(pf_period_label(PF_PERIOD_WEEK, parse("2024-12-30"), b, sizeof b), "2025-W01");
  assert_true(pf_period_start(PF_PERIOD_MONTH, wed) == parse("2026-01-01"));
  assert_true(pf_period_next(PF_PERIOD_MONTH, parse("2026-12-01")) == parse("2027-01-01"));
  assert_string_equal(pf_period_label(PF_PERIOD_MONTH, parse("2026-02-01"), b, sizeof b), "2026-02");
  pf_period p;
  assert_int_equal(pf_period_parse("fortnight", &p), PF_EINVAL);
}

/* n rows, first-seen times from times[], pushed in the order given by perm */
static void build(pf_timed *t, size_t n, const long long *times, const size_t *perm) {
  memset(t, 0, sizeof *t);
  t->d.dim = 2;
  for (size_t k = 0; k < n; k++) {
    size_t i = perm ? perm[k] : k;
    char sha[65];
    snprintf(sha, sizeof sha, "%064zx", i * 2654435761u % 1000003u);
    double v[2] = {(double)i, 0};
    assert_int_equal(pf_timed_push(t, v, (int32_t)(i % 2), times[i], sha, 0), PF_OK);
  }
}

static void test_split(void **state) {
  enum { N = 1000 };
  long long times[N];
  size_t perm[N];
  for (size_t i = 0; i < N; i++) {
    times[i] = 1767571200LL + (long long)(i / 7) * 3600; /* runs of 7 equal times */
    perm[i] = (i * 379) % N;                              /* 379 is prime to 1000 */
  }
  pf_timed a, b, sa[3], sb[3];
  pf_time_range ra[3], rb[3];
  build(&a, N, times, NULL);
  build(&b, N, times, perm);
  memset(sa, 0, sizeof sa);
  memset(sb, 0, sizeof sb);
  assert_int_equal(pf_time_split(&a, 0, sa, ra), PF_OK);
  assert_int_equal(pf_time_split(&b, 0, sb, rb), PF_OK);
  size_t total = 0;
  for (int s = 0; s < 3; s++) {
    total += sa[s].d.n;
    assert_int_equal(sa[s].d.n, sb[s].d.n); /* input order does not matter */
    for (size_t i = 0; i < sa[s].d.n; i++) assert_string_equal(sa[s].sha[i], sb[s].sha[i]);
  }
  assert_int_equal(total, N);
  assert_true(sa[0].d.n >= 700 && sa[0].d.n < 707);
  assert_true(ra[0].last < ra[1].first && ra[1].last < ra[2].first); /* runs are never cut */
  /* no row in two splits: every row's value (its index) appears once */
  int seen[N] = {0};
  for (int s = 0; s < 3; s++)
    for (size_t i = 0; i < sa[s].d.n; i++) seen[(size_t)sa[s].d.x[2 * i]]++;
  for (size_t i = 0; i < N; i++) assert_int_equal(seen[i], 1);
  /* --test-since: test is everything from that time on */
  pf_timed c[3];
  pf_time_range rc[3];
  memset(c, 0, sizeof c);
  long long cut = times[600];
  assert_int_equal(pf_time_split(&a, cut, c, rc), PF_OK);
  assert_true(rc[2].first == cut && rc[1].last < cut && rc[0].last < rc[1].first);
  size_t want_test = 0;
  for (size_t i = 0; i < N; i++) want_test += times[i] >= cut;
  assert_int_equal(c[2].d.n, want_test);
  /* a window: strictly after, strictly before */
  pf_timed w;
  pf_time_range rw;
  memset(&w, 0, sizeof w);
  assert_int_equal(pf_timed_window(&a, times[100], times[200], &w, &rw), PF_OK);
  assert_true(rw.first > times[100] && rw.last < times[200]);
  for (int s = 0; s < 3; s++) { pf_timed_free(&sa[s]); pf_timed_free(&sb[s]); pf_timed_free(&c[s]); }
  pf_timed_free(&w);
  pf_timed_free(&a);
  pf_timed_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dates),
    cmocka_unit_test(test_periods),
    cmocka_unit_test(test_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
