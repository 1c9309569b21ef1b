/* Unit tests of pf_pca: data built along known orthonormal axes with known
 * variances (the answer is exact), a correlation PCA of features of very
 * different scales, the sign rule, projection, and bad input. */
#include "pf_test.h"

#include <math.h>

#include "pf_err.h"
#include "pf_pca.h"

#define TOL 1e-6 /* inputs are float32 */

static void close_to(double got, double want, const char *what) {
  if (!(fabs(got - want) <= TOL)) fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* Six points c +- 3 u1, c +- 2 u2, c +- 1 u3: the covariance (n-1 = 5) is
 * (18 u1u1' + 8 u2u2' + 2 u3u3') / 5, eigenvalues 3.6, 1.6, 0.4. */
static void test_known_axes(void **state) {
  (void)state;
  const double u[3][3] = {{0.6, 0.8, 0}, {-0.8, 0.6, 0}, {0, 0, 1}}, a[3] = {3, 2, 1}, c[3] = {1, -1, 2};
  float x[6 * 3];
  for (int i = 0; i < 3; i++)
    for (int s = 0; s < 2; s++)
      for (int j = 0; j < 3; j++) x[(2 * i + s) * 3 + j] = (float)(c[j] + (s ? -1 : 1) * a[i] * u[i][j]);
  pf_pca p;
  assert_int_equal(pf_pca_fit(x, 6, 3, 3, 0, &p), PF_OK);
  close_to(p.var[0], 3.6, "var 0");
  close_to(p.var[1], 1.6, "var 1");
  close_to(p.var[2], 0.4, "var 2");
  close_to(p.total_var, 5.6, "total variance");
  for (int j = 0; j < 3; j++) close_to(p.mean[j], c[j], "mean");
  /* axes up to sign, then the sign rule: largest-magnitude entry positive */
  const double want[3][3] = {{0.6, 0.8, 0}, {0.8, -0.6, 0}, {0, 0, 1}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) close_to(p.axes[i * 3 + j], want[i][j], "axis entry");
  /* c + 3 u1 projects to (3, 0, 0); c + 2 u2 to (0, -2, 0) under the flipped u2 */
  double pr[6 * 2];
  assert_int_equal(pf_pca_project(&p, x, 6, 2, pr), PF_OK);
  close_to(pr[0], 3, "proj 0.0");
  close_to(pr[1], 0, "proj 0.1");
  close_to(pr[2 * 2 + 0], 0, "proj 2.0");
  close_to(pr[2 * 2 + 1], -2, "proj 2.1");
  assert_int_equal(pf_pca_project(&p, x, 6, 4, pr), PF_EINVAL);
  pf_pca_free(&p);
  assert_null(p.axes);
}

/* x2 = 1000 x1, x3 orthogonal to x1 with x1's scale: the correlation matrix
 * is [[1,1,0],[1,1,0],[0,0,1]], eigenvalues 2, 1, 0, first axis (1,1,0)/sqrt2.
 * Unstandardized, x2 alone dominates. */
static void test_standardize(void **state) {
  (void)state;
  const float x1[4] = {1, -1, 1, -1}, x3[4] = {1, 1, -1, -1};
  float x[4 * 3];
  for (int i = 0; i < 4; i++) { x[i * 3] = x1[i]; x[i * 3 + 1] = 1000 * x1[i]; x[i * 3 + 2] = x3[i]; }
  pf_pca p;
  assert_int_equal(pf_pca_fit(x, 4, 3, 2, 1, &p), PF_OK);
  close_to(p.total_var, 3, "total of a correlation matrix");
  close_to(p.var[0], 2, "var 0");
  close_to(p.var[1], 1, "var 1");
  close_to(p.axes[0], M_SQRT1_2, "axis 0.0");
  close_to(p.axes[1], M_SQRT1_2, "axis 0.1");
  close_to(p.axes[2], 0, "axis 0.2");
  close_to(fabs(p.axes[5]), 1, "axis 1 is x3");
  pf_pca_free(&p);
  assert_int_equal(pf_pca_fit(x, 4, 3, 1, 0, &p), PF_OK);
  if (!(p.var[0] / p.total_var > 0.999)) fail_msg("unstandardized: x2 should carry the variance, ratio %g", p.var[0] / p.total_var);
  pf_pca_free(&p);
}

/* All components of a random matrix: eigenvalues sum to the trace, axes
 * are orthonormal, variances decrease. */
static void test_random_full(void **state) {
  (void)state;
  enum { N = 300, D = 12 };
  static float x[N * D];
  unsigned s = 12345;
  for (int i = 0; i < N * D; i++) {
    s = s * 1103515245u + 12345u;
    x[i] = (float)((s >> 8) % 1000) / 100.0f * (float)(1 + i % D);
  }
  pf_pca p;
  assert_int_equal(pf_pca_fit(x, N, D, D, 0, &p), PF_OK);
  double sum = 0;
  for (int c = 0; c < D; c++) {
    sum += p.var[c];
    if (c && p.var[c] > p.var[c - 1] + 1e-9) fail_msg("variance %d above %d", c, c - 1);
    for (int d = 0; d < D; d++) {
      double dot = 0;
      for (int j = 0; j < D; j++) dot += p.axes[c * D + j] * p.axes[d * D + j];
      if (fabs(dot - (c == d)) > 1e-9) fail_msg("axes %d, %d: dot %g", c, d, dot);
    }
  }
  if (fabs(sum - p.total_var) > 1e-9 * p.total_var) fail_msg("eigenvalues sum %g, trace %g", sum, p.total_var);
  pf_pca_free(&p);
}

static void test_bad_input(void **state) {
  (void)state;
  float x[6] = {1, 2, 3, 4, 5, 6};
  pf_pca p;
  assert_int_equal(pf_pca_fit(x, 1, 3, 1, 0, &p), PF_EINVAL);
  assert_int_equal(pf_pca_fit(x, 2, 3, 4, 0, &p), PF_EINVAL);
  assert_int_equal(pf_pca_fit(x, 2, 3, 0, 0, &p), PF_EINVAL);
  assert_int_equal(pf_pca_fit(NULL, 2, 3, 1, 0, &p), PF_EINVAL);
  x[4] = NAN;
  assert_int_equal(pf_pca_fit(x, 2, 3, 1, 0, &p), PF_EINVAL);
  assert_null(p.axes);
  assert_int_equal(pf_pca_fit(x, 2, PF_PCA_MAX_DIM + 1, 1, 0, &p), PF_ELIMIT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known_axes), cmocka_unit_test(test_standardize), cmocka_unit_test(test_random_full),
    cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
