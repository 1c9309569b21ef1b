/* Unit tests of pf_simindex: every query's answer equals a brute-force
 * double-precision cosine over the same float32 vectors (same hits, same
 * order, bit-identical similarities) on a few thousand random vectors:
 * sparse non-negative ones like ergo486, signed ones (negative
 * similarities), near-duplicates, exact duplicates, and rows built to sit
 * within 1e-6 of each threshold; thresholds -1, -0.3, 0, 0.5, 0.9, 0.99, 1;
 * tops 1..10000; the multi-threaded scan; replacing an entry; bad input. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_hash.h"
#include "pf_simindex.h"

#include <float.h>
#include <math.h>

static uint64_t rng = 88172645463325252ull;
static double urand(void) { /* [0, 1) */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}
static double grand(void) {
  double u = urand() + 1e-300, v = urand();
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void sha_of(int i, char *hex) {
  char msg[32];
  uint8_t d[PF_SHA256_LEN];
  int n = snprintf(msg, sizeof msg, "entry-%d", i);
  pf_sha256((const uint8_t *)msg, (size_t)n, d);
  pf_hex(d, PF_SHA256_LEN, hex);
}

/* ---- the reference: its own copy of the vectors, brute force ---- */

typedef struct {
  uint32_t dim;
  size_t n;
  float *v;            /* n x dim, as float32 */
  char (*sha)[65];
} ref_set;

typedef struct {
  size_t i;
  double s;
} ref_hit;

static void ref_put(ref_set *r, size_t i, const double *x) {
  for (uint32_t j = 0; j < r->dim; j++) r->v[i * r->dim + j] = (float)x[j];
}

static double ref_cos(const ref_set *r, const float *q, size_t i) {
  const float *x = r->v + i * r->dim;
  double d = 0, qq = 0, xx = 0;
  for (uint32_t j = 0; j < r->dim; j++) {
    d += (double)q[j] * (double)x[j];
    qq += (double)q[j] * (double)q[j];
    xx += (double)x[j] * (double)x[j];
  }
  return d / sqrt(qq * xx);
}

static const ref_set *cmp_set;
static int ref_order(const void *a, const void *b) {
  const ref_hit *x = a, *y = b;
  if (x->s != y->s) return x->s < y->s ? 1 : -1;
  return strcmp(cmp_set->sha[x->i], cmp_set->sha[y->i]);
}

/* Brute force: every row >= t, best first, ties by sha; returns how many (all, not cut to top). */
static size_t ref_query(const ref_set *r, const double *qd, double t, ref_hit *out) {
  float *q = malloc(r->dim * sizeof *q);
  for (uint32_t j = 0; j < r->dim; j++) q[j] = (float)qd[j];
  size_t m = 0;
  for (size_t i = 0; i < r->n; i++) {
    double s = ref_cos(r, q, i);
    if (s >= t) out[m++] = (ref_hit){i, s};
  }
  free(q);
  cmp_set = r;
  qsort(out, m, sizeof *out, ref_order);
  return m;
}

/* Compares the index's answer with the reference for one query. */
static void check_query(const pf_simindex *ix, const ref_set *r, const double *q, double t, size_t top,
                        const char *what) {
  static ref_hit want[80000];
  static pf_simhit got[PF_SIMINDEX_MAX_TOP];
  size_t m = ref_query(r, q, t, want), n = 0;
  char err[256] = "";
  pf_simstats st;
  int rc = pf_simindex_query(ix, q, r->dim, t, top, got, &n, &st, err, sizeof err);
  if (rc != PF_OK) fail_msg("%s: query failed: %s", what, err);
  size_t expect = m < top ? m : top;
  if (n != expect) fail_msg("%s t=%g top=%zu: %zu hits, brute force %zu (of %zu above)", what, t, top, n, expect, m);
  for (size_t k = 0; k < n; k++) {
    char sha[65];
    pf_simindex_sha(ix, got[k].idx, sha);
    if (strcmp(sha, r->sha[want[k].i]) != 0 || got[k].similarity != want[k].s)
      fail_msg("%s t=%g top=%zu: hit %zu is %.17g %s, brute force %.17g %s", what, t, top, k, got[k].similarity,
               sha, want[k].s, r->sha[want[k].i]);
  }
  if (st.scanned != pf_simindex_count(ix) || st.reranked > st.candidates)
    fail_msg("%s: stats scanned %zu reranked %zu candidates %zu", what, st.scanned, st.reranked, st.candidates);
}

/* x = cos(a) q^ + sin(a) w^ with w a random direction orthogonal to q */
static void at_angle(const double *q, uint32_t dim, double c, double *x) {
  double qn = 0, w[4096], wn = 0, d = 0;
  for (uint32_t j = 0; j < dim; j++) qn += q[j] * q[j];
  qn = sqrt(qn);
  for (uint32_t j = 0; j < dim; j++) w[j] = grand();
  for (uint32_t j = 0; j < dim; j++) d += w[j] * q[j] / qn;
  for (uint32_t j = 0; j < dim; j++) w[j] -= d * q[j] / qn;
  for (uint32_t j = 0; j < dim; j++) wn += w[j] * w[j];
  wn = sqrt(wn);
  double s = sqrt(fmax(0, 1 - c * c));
  for (uint32_t j = 0; j < dim; j++) x[j] = 3.5 * (c * q[j] / qn + s * w[j] / wn);
}

static const double thresholds[] = {-1, -0.3, 0, 0.5, 0.9, 0.99, 1};

enum { DIM = 486, NBASE = 40 };

/* A few thousand vectors of every kind; queries by vector and by sha. */
static void test_exact_against_brute_force(void **state) {
  enum { N = 4000 };
  pf_simindex *ix = NULL;
  char err[256];
  assert_int_equal(pf_simindex_new(DIM, &ix, err, sizeof err), PF_OK);
  ref_set r = {DIM, N, calloc((size_t)N * DIM, sizeof(float)), calloc(N, 65)};
  static double base[NBASE][DIM], x[DIM];
  for (int b = 0; b < NBASE; b++)
    for (int j = 0; j < DIM; j++) base[b][j] = urand() < 0.4 ? 0 : urand() < 0.1 ? urand() * 50 : urand();
  /* the queries near whose thresholds rows are built */
  static double q0[DIM], q1[DIM];
  for (int j = 0; j < DIM; j++) { q0[j] = base[0][j]; q1[j] = grand(); }
  int i = 0;
  while (i < N) {
    int kind = i % 8;
    if (kind < 3) { /* sparse non-negative, perturbed from a base: a family */
      const double *b = base[(int)(urand() * NBASE)];
      double amp = urand() < 0.5 ? 0.01 : 0.3;
      for (int j = 0; j < DIM; j++) x[j] = b[j] == 0 && urand() < 0.9 ? 0 : fmax(0, b[j] * (1 + amp * grand()));
    } else if (kind == 3) { /* signed */
      for (int j = 0; j < DIM; j++) x[j] = grand();
    } else if (kind == 4 && i > 8) { /* an exact duplicate of an earlier row */
      int k = (int)(urand() * i);
      for (int j = 0; j < DIM; j++) x[j] = r.v[(size_t)k * DIM + j];
    } else if (kind <= 6) { /* within 1e-6 of a threshold of q0 or q1 */
      double t = thresholds[(int)(urand() * 7)];
      double c = t + (urand() - 0.5) * 2e-6;
      if (c > 1) c = 1;
      if (c < -1) c = -1;
      at_angle(kind == 5 ? q0 : q1, DIM, c, x);
    } else { /* a tiny-scale copy (denormal-free float32) */
      for (int j = 0; j < DIM; j++) x[j] = base[1][j] * 1e-20 * (1 + 1e-3 * grand());
    }
    double nz = 0;
    for (int j = 0; j < DIM; j++) nz += fabs(x[j]);
    if (nz == 0) continue;
    sha_of(i, r.sha[i]);
    ref_put(&r, (size_t)i, x);
    if (pf_simindex_add(ix, r.sha[i], x, DIM, i % 2 ? "malicious" : "clean,packed", "train", err, sizeof err) != PF_OK)
      fail_msg("add %d: %s", i, err);
    i++;
  }
  assert_int_equal(pf_simindex_count(ix), N);
  const size_t tops[] = {1, 7, 100, PF_SIMINDEX_MAX_TOP};
  double q[DIM];
  char what[64];
  for (int qi = 0; qi < 12; qi++) {
    if (qi == 0) memcpy(q, q0, sizeof q);
    else if (qi == 1) memcpy(q, q1, sizeof q);
    else if (qi < 8) { /* a stored row */
      int k = (int)(urand() * N);
      for (int j = 0; j < DIM; j++) q[j] = r.v[(size_t)k * DIM + j];
    } else if (qi < 10) {
      for (int j = 0; j < DIM; j++) q[j] = urand() < 0.5 ? 0 : urand();
    } else {
      for (int j = 0; j < DIM; j++) q[j] = grand();
    }
    for (size_t ti = 0; ti < sizeof thresholds / sizeof *thresholds; ti++)
      for (size_t k = 0; k < sizeof tops / sizeof *tops; k++) {
        snprintf(what, sizeof what, "query %d", qi);
        check_query(ix, &r, q, thresholds[ti], tops[k], what);
      }
  }
  /* replacing entries (other vectors, other kinds) keeps the answers exact */
  for (int k = 0; k < 200; k++) {
    int e = (int)(urand() * N);
    for (int j = 0; j < DIM; j++) x[j] = k % 2 ? grand() : base[k % NBASE][j] * (1 + 0.05 * grand());
    x[k % DIM] += 0.5;
    ref_put(&r, (size_t)e, x);
    if (pf_simindex_add(ix, r.sha[e], x, DIM, "replaced", "test", err, sizeof err) != PF_OK)
      fail_msg("replace %d: %s", e, err);
  }
  assert_int_equal(pf_simindex_count(ix), N);
  for (int qi = 0; qi < 4; qi++) {
    if (qi < 2) memcpy(q, qi ? q1 : q0, sizeof q);
    else for (int j = 0; j < DIM; j++) q[j] = qi == 2 ? base[5][j] : grand();
    for (size_t ti = 0; ti < sizeof thresholds / sizeof *thresholds; ti++)
      check_query(ix, &r, q, thresholds[ti], 100, "after replacing");
  }
  /* by sha: the same answer as by the stored vector, the sample itself at 1.0 */
  static pf_simhit a[100], b[100];
  for (int k = 0; k < 20; k++) {
    int e = (int)(urand() * N);
    size_t na = 0, nb = 0;
    for (int j = 0; j < DIM; j++) q[j] = r.v[(size_t)e * DIM + j];
    assert_int_equal(pf_simindex_query_sha(ix, r.sha[e], 0.9, 100, a, &na, NULL, err, sizeof err), PF_OK);
    assert_int_equal(pf_simindex_query(ix, q, DIM, 0.9, 100, b, &nb, NULL, err, sizeof err), PF_OK);
    assert_int_equal(na, nb);
    assert_true(na >= 1);
    assert_memory_equal(a, b, na * sizeof *a);
    int self = 0;
    for (size_t h = 0; h < na; h++) self |= a[h].idx == (uint32_t)e && a[h].similarity == 1.0;
    assert_true(self);
  }
  /* duplicates are found at exactly 1.0 with threshold 1 */
  size_t nd = 0;
  assert_int_equal(pf_simindex_query_sha(ix, r.sha[4 + 8 * 10], 1.0, 100, a, &nd, NULL, err, sizeof err), PF_OK);
  assert_true(nd >= 1);
  for (size_t h = 0; h < nd; h++) assert_true(a[h].similarity == 1.0);
  assert_string_equal(pf_simindex_labels(ix, 1), "malicious");
  assert_string_equal(pf_simindex_labels(ix, 0), "clean,packed");
  assert_string_equal(pf_simindex_split(ix, 0), "train");
  assert_true(pf_simindex_bytes_per_vector(ix) > DIM * 4);
  free(r.v);
  free(r.sha);
  pf_simindex_free(&ix);
  assert_null(ix);
}

/* Over 65,536 rows the scan runs in threads; the answer does not change. */
static void test_threads(void **state) {
  enum { N = 70000, D = 24 };
  pf_simindex *ix = NULL;
  char err[256];
  assert_int_equal(pf_simindex_new(D, &ix, err, sizeof err), PF_OK);
  ref_set r = {D, N, calloc((size_t)N * D, sizeof(float)), calloc(N, 65)};
  double x[D], q[D];
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < D; j++) x[j] = i % 3 ? grand() : urand() < 0.3 ? 0 : urand();
    x[i % D] += 1e-3;
    sha_of(i, r.sha[i]);
    ref_put(&r, (size_t)i, x);
    assert_int_equal(pf_simindex_add(ix, r.sha[i], x, D, NULL, NULL, err, sizeof err), PF_OK);
  }
  assert_string_equal(pf_simindex_split(ix, 0), "");
  for (int nt = 1; nt <= 3; nt++) {
    pf_simindex_set_threads(ix, nt);
    for (int qi = 0; qi < 3; qi++) {
      for (int j = 0; j < D; j++) q[j] = qi ? grand() : urand();
      check_query(ix, &r, q, 0.9, 100, "threads");
      check_query(ix, &r, q, 0.5, 3, "threads");
      check_query(ix, &r, q, -0.2, 1000, "threads");
    }
  }
  free(r.v);
  free(r.sha);
  pf_simindex_free(&ix);
}

/* The same sha replaces its entry: new vector, labels and split. */
static void test_replace(void **state) {
  pf_simindex *ix = NULL;
  char err[256], s1[65], s2[65];
  assert_int_equal(pf_simindex_new(3, &ix, err, sizeof err), PF_OK);
  sha_of(1, s1);
  sha_of(2, s2);
  double a[3] = {1, 0, 0}, b[3] = {0, 1, 0};
  assert_int_equal(pf_simindex_add(ix, s1, a, 3, "clean", "train", err, sizeof err), PF_OK);
  assert_int_equal(pf_simindex_add(ix, s2, a, 3, "clean", "test", err, sizeof err), PF_OK);
  assert_int_equal(pf_simindex_add(ix, s1, b, 3, "malicious", "validation", err, sizeof err), PF_OK);
  assert_int_equal(pf_simindex_count(ix), 2);
  assert_int_equal(pf_simindex_find(ix, s1), 0);
  assert_string_equal(pf_simindex_labels(ix, 0), "malicious");
  assert_string_equal(pf_simindex_split(ix, 0), "validation");
  pf_simhit h[4];
  size_t n = 0;
  assert_int_equal(pf_simindex_query(ix, b, 3, 0.5, 10, h, &n, NULL, err, sizeof err), PF_OK);
  assert_int_equal(n, 1);
  assert_int_equal(h[0].idx, 0);
  assert_true(h[0].similarity == 1.0);
  /* orthogonal: exactly 0, found at threshold 0, not above */
  assert_int_equal(pf_simindex_query(ix, a, 3, 0.0, 10, h, &n, NULL, err, sizeof err), PF_OK);
  assert_int_equal(n, 2);
  assert_true(h[1].similarity == 0.0);
  assert_int_equal(pf_simindex_query(ix, a, 3, 1e-300, 10, h, &n, NULL, err, sizeof err), PF_OK);
  assert_int_equal(n, 1);
  /* empty index: no hits */
  pf_simindex *e = NULL;
  assert_int_equal(pf_simindex_new(3, &e, err, sizeof err), PF_OK);
  assert_int_equal(pf_simindex_query(e, a, 3, 0.9, 10, h, &n, NULL, err, sizeof err), PF_OK);
  assert_int_equal(n, 0);
  pf_simindex_free(&e);
  pf_simindex_free(&ix);
}

/* Each bad input is refused with a one-line reason and changes nothing. */
static void test_bad_input(void **state) {
  pf_simindex *ix = NULL;
  char err[256], s1[65];
  assert_int_equal(pf_simindex_new(0, &ix, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_simindex_new(PF_SIMINDEX_MAX_DIM + 1, &ix, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_simindex_new(4, &ix, err, sizeof err), PF_OK);
  sha_of(1, s1);
  double ok[4] = {1, 2, 3, 4}, v[4];
  assert_int_equal(pf_simindex_add(ix, s1, ok, 4, "x", "train", err, sizeof err), PF_OK);
  struct { double v[4]; uint32_t dim; const char *sha; const char *want; } bad[] = {
    {{0, 0, 0, 0}, 4, s1, "zero vector"},
    {{1, NAN, 0, 0}, 4, s1, "value 2 is not a finite number"},
    {{1, 0, INFINITY, 0}, 4, s1, "value 3 is not a finite number"},
    {{1, 0, 0, 1e39}, 4, s1, "value 4 is beyond float32 range"},
    {{1, 2, 3, 4}, 3, s1, "vector has 3 values"},
    {{1, 2, 3, 4}, 4, "ABC", "sha256 must be 64 lower-case hex"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    if (pf_simindex_add(ix, bad[i].sha, bad[i].v, bad[i].dim, "x", NULL, err, sizeof err) != PF_EINVAL ||
        !strstr(err, bad[i].want))
      fail_msg("add case %zu: reason '%s', want '%s'", i, err, bad[i].want);
    if (bad[i].sha != s1) continue;
    pf_simhit h[2];
    size_t n = 5;
    err[0] = '\0';
    if (pf_simindex_query(ix, bad[i].v, bad[i].dim, 0.9, 2, h, &n, NULL, err, sizeof err) != PF_EINVAL ||
        !strstr(err, bad[i].want) || strchr(err, '\n'))
      fail_msg("query case %zu: reason '%s', want '%s'", i, err, bad[i].want);
  }
  /* the tiniest float32 values still have a direction */
  double tiny[4] = {1e-45, 0, 0, 0};
  assert_int_equal(pf_simindex_add(ix, s1, tiny, 4, "x", NULL, err, sizeof err), PF_OK);
  pf_simindex_vector(ix, 0, v);
  assert_true(v[0] > 0 && v[1] == 0);
  assert_int_equal(pf_simindex_count(ix), 1);
  pf_simhit h[2];
  size_t n;
  assert_int_equal(pf_simindex_query(ix, ok, 4, 1.5, 2, h, &n, NULL, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "threshold"));
  assert_int_equal(pf_simindex_query(ix, ok, 4, NAN, 2, h, &n, NULL, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_simindex_query(ix, ok, 4, 0.5, 0, h, &n, NULL, err, sizeof err), PF_EINVAL);
  assert_non_null(strstr(err, "top"));
  char unknown[65];
  sha_of(99, unknown);
  assert_int_equal(pf_simindex_query_sha(ix, unknown, 0.5, 2, h, &n, NULL, err, sizeof err), PF_ENOENT);
  assert_non_null(strstr(err, "unknown sha256"));
  assert_int_equal(pf_simindex_query_sha(ix, "nothex", 0.5, 2, h, &n, NULL, err, sizeof err), PF_EINVAL);
  assert_int_equal(pf_simindex_find(ix, unknown), -1);
  pf_simindex_free(&ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exact_against_brute_force),
    cmocka_unit_test(test_threads),
    cmocka_unit_test(test_replace),
    cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
