/* Unit tests of pf_svg: escaping of every special character (text and
 * attributes, including labels, legends and bar names), nice ticks and
 * ranges, the data-to-pixel mapping, and that a plot is one well-formed
 * <svg> element with its title and aria-label. */
#include "pf_test.h"

#include <math.h>

#include "pf_svg.h"

/* Runs fn into a memory stream and returns the text (caller frees). */
static char *capture(void (*fn)(FILE *, void *), void *arg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  fn(f, arg);
  fclose(f);
  return buf;
}

static void esc(FILE *f, void *arg) { pf_svg_escape(f, arg); }

static void test_escape(void **state) {
  (void)state;
  char *s = capture(esc, "a<b>&\"c\"'d'\x01\te");
  assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39; \te");
  free(s);
  s = capture(esc, "</svg><script>alert(1)</script>");
  assert_null(strstr(s, "<script"));
  assert_null(strstr(s, "</svg"));
  free(s);
  s = capture(esc, NULL);
  assert_string_equal(s, "");
  free(s);
}

static void test_ticks(void **state) {
  (void)state;
  double t[PF_SVG_MAX_TICKS];
  int n = pf_svg_ticks(0, 1, 5, t, PF_SVG_MAX_TICKS);
  assert_int_equal(n, 6);
  for (int i = 0; i < n; i++) assert_true(fabs(t[i] - 0.2 * i) < 1e-12);
  n = pf_svg_ticks(0.13, 0.87, 4, t, PF_SVG_MAX_TICKS);
  assert_int_equal(n, 4);
  assert_true(fabs(t[0] - 0.2) < 1e-12 && fabs(t[3] - 0.8) < 1e-12);
  n = pf_svg_ticks(-3, 47, 5, t, PF_SVG_MAX_TICKS);
  assert_true(n >= 5 && n <= 6);
  assert_true(t[0] == 0.0); /* exactly zero, not -1e-17 */
  assert_int_equal(pf_svg_ticks(NAN, 1, 5, t, PF_SVG_MAX_TICKS), 0);
  assert_int_equal(pf_svg_ticks(2, 1, 5, t, PF_SVG_MAX_TICKS), 0);
  assert_int_equal(pf_svg_ticks(2, 2, 5, t, PF_SVG_MAX_TICKS), 1);
  assert_int_equal(pf_svg_ticks(0, 1e6, 1000, t, 3), 3); /* capped by room */
  double lo = 0.013, hi = 0.87;
  pf_svg_nice_range(&lo, &hi, 5);
  assert_true(fabs(lo) < 1e-12 && fabs(hi - 1.0) < 1e-12);
  lo = hi = 5;
  pf_svg_nice_range(&lo, &hi, 5);
  assert_true(lo == 4 && hi == 6);
}

static void plot(FILE *f, void *arg) {
  (void)arg;
  pf_svg_plot p;
  pf_svg_begin(&p, f, 600, 400, "ROC <test> & \"more\"", 0, 1, 0, 1);
  /* the plotting area: x 64..584, y 14..350 */
  assert_true(fabs(pf_svg_px(&p, 0) - 64) < 1e-9 && fabs(pf_svg_px(&p, 1) - 584) < 1e-9);
  assert_true(fabs(pf_svg_py(&p, 0) - 350) < 1e-9 && fabs(pf_svg_py(&p, 1) - 14) < 1e-9);
  assert_true(fabs(pf_svg_px(&p, 7) - 584) < 1e-9); /* clamped */
  pf_svg_axes(&p, "false positive rate <x>", "true positive rate", 1, 0);
  double x[3] = {0, 0.5, 1}, y[3] = {0, NAN, 1};
  pf_svg_line(&p, x, y, 3, "#123456", "4 2", 2);
  pf_svg_points(&p, x, x, 3, "red", 2, 0.5);
  pf_svg_marker(&p, 0.5, 0.5, "green", "t=0.5 <op>", 1);
  pf_svg_legend_item it[1] = {{"model \"a\" & b", "#123456", NULL, 0}};
  pf_svg_legend(&p, it, 1, 2);
  pf_svg_end(&p);
}

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p++) n++;
  return n;
}

static void test_plot_document(void **state) {
  (void)state;
  char *s = capture(plot, NULL);
  assert_non_null(strstr(s, "<svg viewBox=\"0 0 600 400\""));
  assert_non_null(strstr(s, "aria-label=\"ROC &lt;test&gt; &amp; &quot;more&quot;\""));
  assert_non_null(strstr(s, "<title>ROC &lt;test&gt; &amp; &quot;more&quot;</title>"));
  assert_non_null(strstr(s, "false positive rate &lt;x&gt;"));
  assert_non_null(strstr(s, ">100%</text>")); /* percent ticks on x */
  assert_non_null(strstr(s, "model &quot;a&quot; &amp; b"));
  assert_non_null(strstr(s, "t=0.5 &lt;op&gt;"));
  assert_non_null(strstr(s, "stroke-dasharray=\"4 2\""));
  /* the NaN point is left out of the polyline: two points */
  assert_non_null(strstr(s, "points=\"64.0,350.0 584.0,14.0 \""));
  assert_int_equal(count(s, "<svg"), 1);
  assert_int_equal(count(s, "</svg>"), 1);
  assert_int_equal(count(s, "<"), count(s, ">")); /* no stray bracket from any label */
  free(s);
}

static void logplot(FILE *f, void *arg) {
  (void)arg;
  pf_svg_plot p;
  pf_svg_begin(&p, f, 600, 400, "log", 0.001, 1, 0, 1);
  pf_svg_set_xlog(&p);
  /* three decades over 520 px: 0.01 one third of the way, 0 clamped to 0.001 */
  assert_true(fabs(pf_svg_px(&p, 0.01) - (64 + 520.0 / 3)) < 1e-9);
  assert_true(fabs(pf_svg_px(&p, 0) - 64) < 1e-9);
  pf_svg_axes(&p, "FPR", "TPR", 1, 1);
  pf_svg_end(&p);
}

static void test_log_axis(void **state) {
  (void)state;
  char *s = capture(logplot, NULL);
  assert_non_null(strstr(s, ">0.1%</text>"));
  assert_non_null(strstr(s, ">1%</text>"));
  assert_non_null(strstr(s, ">10%</text>"));
  free(s);
}

static void bars(FILE *f, void *arg) {
  (void)arg;
  const char *names[2] = {"kernel32.dll", "<evil>"};
  double a[2] = {0.25, 0.0}, b[2] = {0.3, NAN};
  pf_svg_hbars(f, 800, "Top features", names, a, b, 2, "accuracy drop", "AUC drop", "drop when nulled");
}

static void test_hbars(void **state) {
  (void)state;
  char *s = capture(bars, NULL);
  assert_non_null(strstr(s, "aria-label=\"Top features\""));
  assert_non_null(strstr(s, ">kernel32.dll</text>"));
  assert_non_null(strstr(s, ">&lt;evil&gt;</text>"));
  assert_non_null(strstr(s, ">accuracy drop</text>"));
  assert_non_null(strstr(s, ">AUC drop</text>"));
  assert_non_null(strstr(s, ">drop when nulled</text>"));
  assert_int_equal(count(s, "<"), count(s, ">"));
  assert_int_equal(count(s, "<rect"), 3 + 1); /* three finite bars + the legend box */
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_escape), cmocka_unit_test(test_ticks), cmocka_unit_test(test_plot_document),
    cmocka_unit_test(test_hbars), cmocka_unit_test(test_log_axis),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
