/* Unit tests of pf_model: allocation limits, the PFNN file format (round
 * trip, every truncation, bad magic / version / sizes / names / weights /
 * checksum refused with a reason), save and load, and inference against a
 * naive double-precision reference. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_model.h"

#include <math.h>
#include <unistd.h>

/* splitmix64: a repeatable stream for weights and inputs. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* Uniform in [-a, a). */
static float rng_uniform(float a) { return (float)(((double)(rng_next() >> 11) / 9007199254740992.0 * 2.0 - 1.0) * a); }

/* A model of the given shape with Glorot-scaled random weights, small
 * random biases, and names that exercise the string fields. */
static pf_model *random_model(uint32_t n_layers, const uint32_t *sizes, uint64_t seed) {
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(n_layers, sizes, &m), PF_OK);
  rng_state = seed;
  for (uint32_t i = 0; i < n_layers; i++) {
    float a = sqrtf(6.0f / (float)(sizes[i] + sizes[i + 1]));
    for (size_t k = 0; k < (size_t)sizes[i] * sizes[i + 1]; k++) m->w[i][k] = rng_uniform(a);
    for (uint32_t k = 0; k < sizes[i + 1]; k++) m->b[i][k] = rng_uniform(0.1f);
  }
  snprintf(m->version, sizeof m->version, "v-%llu", (unsigned long long)seed);
  snprintf(m->parent, sizeof m->parent, "seed-keras");
  snprintf(m->classes[0], PF_MODEL_NAME, "clean");
  snprintf(m->classes[1], PF_MODEL_NAME, "malicious");
  m->threshold = 0.375;
  return m;
}

static uint8_t *encode(const pf_model *m, size_t *len) {
  *len = pf_model_encoded_size(m);
  uint8_t *buf = malloc(*len);
  assert_non_null(buf);
  assert_int_equal(pf_model_encode(m, buf, *len), PF_OK);
  return buf;
}

static void assert_same_model(const pf_model *a, const pf_model *b) {
  assert_int_equal(a->n_layers, b->n_layers);
  assert_memory_equal(a->sizes, b->sizes, (a->n_layers + 1) * sizeof a->sizes[0]);
  assert_int_equal(a->schema, b->schema);
  assert_true(a->threshold == b->threshold);
  assert_string_equal(a->version, b->version);
  assert_string_equal(a->parent, b->parent);
  for (uint32_t c = 0; c < pf_model_classes(a); c++) assert_string_equal(a->classes[c], b->classes[c]);
  for (uint32_t i = 0; i < a->n_layers; i++) {
    assert_memory_equal(a->w[i], b->w[i], (size_t)a->sizes[i] * a->sizes[i + 1] * sizeof(float));
    assert_memory_equal(a->b[i], b->b[i], a->sizes[i + 1] * sizeof(float));
  }
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32 as the file uses it, written independently of pf_model.c (table form). */
static uint32_t crc32_ref(const uint8_t *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}
static void fix_crc(uint8_t *buf, size_t len) { put32(buf + len - 4, crc32_ref(buf, len - 4)); }

/* Decoding buf must fail with rc and a reason containing want; out stays NULL. */
static void expect_refused(const uint8_t *buf, size_t len, int rc, const char *want) {
  pf_model *m = (pf_model *)buf; /* a non-NULL poison value */
  char err[256] = "";
  int got = pf_model_decode(buf, len, &m, err, sizeof err);
  if (got != rc) fail_msg("decode: rc %d (%s), want %d; reason '%s'", got, pf_strerror(got), rc, err);
  assert_null(m);
  if (!strstr(err, want)) fail_msg("reason '%s' lacks '%s'", err, want);
}

static const uint32_t SEED_SIZES[4] = {486, 70, 70, 2};
/* Offsets in the file of a 3-layer model. */
enum { O_FORMAT = 4, O_TOTAL = 8, O_SCHEMA = 16, O_RESERVED = 18, O_NLAYERS = 20, O_SIZES = 24, O_THRESH = 40,
       O_VERSION = 48 };

static void test_new_limits(void **state) {
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(3, SEED_SIZES, &m), PF_OK);
  assert_int_equal(pf_model_classes(m), 2);
  assert_int_equal(pf_model_params(m), 486 * 70 + 70 + 70 * 70 + 70 + 70 * 2 + 2);
  assert_string_equal(m->classes[0], "class0");
  assert_string_equal(m->classes[1], "class1");
  assert_true(m->threshold == 0.5);
  assert_string_equal(m->version, "");
  for (size_t k = 0; k < 486 * 70; k++) assert_true(m->w[0][k] == 0.0f);
  pf_model_free(&m);
  assert_null(m);
  pf_model_free(&m); /* twice is harmless */

  uint32_t s[PF_MODEL_MAX_LAYERS + 2] = {4, 3, 2};
  assert_int_equal(pf_model_new(0, s, &m), PF_EINVAL);
  assert_int_equal(pf_model_new(PF_MODEL_MAX_LAYERS + 1, s, &m), PF_EINVAL);
  assert_null(m);
  uint32_t one_class[] = {4, 3, 1};
  assert_int_equal(pf_model_new(2, one_class, &m), PF_EINVAL);
  uint32_t many_classes[] = {4, PF_MODEL_MAX_CLASSES + 1};
  assert_int_equal(pf_model_new(1, many_classes, &m), PF_EINVAL);
  uint32_t zero_width[] = {4, 0, 2};
  assert_int_equal(pf_model_new(2, zero_width, &m), PF_EINVAL);
  uint32_t too_wide[] = {4, PF_MODEL_MAX_WIDTH + 1, 2};
  assert_int_equal(pf_model_new(2, too_wide, &m), PF_EINVAL);
  uint32_t too_many_params[] = {PF_MODEL_MAX_WIDTH, PF_MODEL_MAX_WIDTH, 2};
  assert_int_equal(pf_model_new(2, too_many_params, &m), PF_EINVAL);
  assert_null(m);
  assert_int_equal(pf_model_new(2, NULL, &m), PF_EINVAL);
  for (int i = 0; i <= PF_MODEL_MAX_LAYERS; i++) s[i] = 3;
  assert_int_equal(pf_model_new(PF_MODEL_MAX_LAYERS, s, &m), PF_OK);
  pf_model_free(&m);
}

static void test_roundtrip(void **state) {
  pf_model *m = random_model(3, SEED_SIZES, 42), *d = NULL;
  m->schema = 7;
  snprintf(m->parent, sizeof m->parent, "%s", "p-0123456789012345678901234567890123456789012345678901234567890"); /* 63 */
  size_t len;
  uint8_t *buf = encode(m, &len);
  assert_int_equal(len, pf_model_encoded_size(m));
  assert_memory_equal(buf, "PFNN", 4);
  char err[256];
  assert_int_equal(pf_model_decode(buf, len, &d, err, sizeof err), PF_OK);
  assert_string_equal(err, "");
  assert_same_model(m, d);
  size_t len2;
  uint8_t *buf2 = encode(d, &len2); /* and back to the very same bytes */
  assert_int_equal(len, len2);
  assert_memory_equal(buf, buf2, len);
  assert_int_equal(pf_model_encode(m, buf2, len - 1), PF_EINVAL); /* too small a buffer */
  free(buf);
  free(buf2);
  pf_model_free(&m);
  pf_model_free(&d);

  uint32_t wide[] = {3, 5, 4, 9, PF_MODEL_MAX_CLASSES};
  m = random_model(4, wide, 5);
  for (uint32_t c = 0; c < PF_MODEL_MAX_CLASSES; c++) snprintf(m->classes[c], PF_MODEL_NAME, "c%u", c * 7);
  m->threshold = 1.0;
  buf = encode(m, &len);
  assert_int_equal(pf_model_decode(buf, len, &d, err, sizeof err), PF_OK);
  assert_same_model(m, d);
  free(buf);
  pf_model_free(&m);
  pf_model_free(&d);
}

static void test_encode_refuses_bad_models(void **state) {
  pf_model *m = random_model(3, SEED_SIZES, 1);
  size_t len = pf_model_encoded_size(m);
  uint8_t *buf = malloc(len + 64);
  m->threshold = NAN;
  assert_int_equal(pf_model_encode(m, buf, len + 64), PF_EINVAL);
  m->threshold = 1.5;
  assert_int_equal(pf_model_encode(m, buf, len + 64), PF_EINVAL);
  m->threshold = 0.5;
  strcpy(m->classes[1], "bad\nname");
  assert_int_equal(pf_model_encode(m, buf, len + 64), PF_EINVAL);
  m->classes[1][0] = '\0';
  assert_int_equal(pf_model_encode(m, buf, len + 64), PF_EINVAL);
  strcpy(m->classes[1], "malicious");
  memset(m->version, 'v', sizeof m->version); /* no terminator: 64 bytes */
  assert_int_equal(pf_model_encode(m, buf, len + 64), PF_EINVAL);
  free(buf);
  pf_model_free(&m);
}

/* Every prefix of a valid file is refused, both as it is and with the
 * declared total length patched to match the prefix (so that the checks
 * past the header are reached too). */
static void check_truncations(const pf_model *m, size_t step_after) {
  size_t len;
  uint8_t *buf = encode(m, &len);
  uint8_t *cut = malloc(len);
  for (size_t n = 0; n < len; n += n < step_after ? 1 : 97) {
    pf_model *d = NULL;
    char err[256] = "";
    int rc = pf_model_decode(buf, n, &d, err, sizeof err);
    if (rc == PF_OK || d) fail_msg("a %zu-byte prefix of %zu was accepted", n, len);
    if (n >= 16 && !strstr(err, "size mismatch")) fail_msg("prefix %zu: reason '%s'", n, err);
    if (n < 16) continue;
    memcpy(cut, buf, n);
    put64(cut + O_TOTAL, n);
    rc = pf_model_decode(cut, n, &d, err, sizeof err);
    if (rc == PF_OK || d) fail_msg("a %zu-byte prefix of %zu with its length patched was accepted", n, len);
    if (!err[0]) fail_msg("prefix %zu: no reason", n);
  }
  free(cut);
  free(buf);
}

static void test_every_truncation(void **state) {
  uint32_t small[] = {5, 4, 3, 2};
  pf_model *m = random_model(3, small, 9);
  check_truncations(m, (size_t)-1); /* every length */
  pf_model_free(&m);
  m = random_model(3, SEED_SIZES, 10);
  check_truncations(m, 4096); /* every length through the header and names, then a stride */
  pf_model_free(&m);

  size_t len;
  m = random_model(3, small, 11);
  uint8_t *buf = encode(m, &len);
  expect_refused(buf, 3, PF_ETRUNC, "truncated");
  expect_refused(buf, len - 1, PF_ETRUNC, "size mismatch");
  uint8_t *cut = malloc(len);
  memcpy(cut, buf, len);
  put64(cut + O_TOTAL, len - 1);
  expect_refused(cut, len - 1, PF_ETRUNC, "weights and checksum");
  /* one byte too many, declared */
  uint8_t *more = calloc(1, len + 1);
  memcpy(more, buf, len);
  put64(more + O_TOTAL, len + 1);
  fix_crc(more, len + 1);
  expect_refused(more, len + 1, PF_EINVAL, "bytes after the weights");
  pf_model *d = NULL; /* and the untouched bytes still decode */
  assert_int_equal(pf_model_decode(buf, len, &d, NULL, 0), PF_OK);
  pf_model_free(&d);
  free(more);
  free(cut);
  free(buf);
  pf_model_free(&m);
}

/* Mutates one field of a valid seed-shaped file and expects a refusal. */
typedef void (*mutator)(uint8_t *buf, size_t len);
static void refuse_mutated(mutator f, int crc, int rc, const char *want) {
  pf_model *m = random_model(3, SEED_SIZES, 3);
  size_t len;
  uint8_t *buf = encode(m, &len);
  f(buf, len);
  if (crc) fix_crc(buf, len);
  expect_refused(buf, len, rc, want);
  free(buf);
  pf_model_free(&m);
}
static void mut_magic(uint8_t *b, size_t n) { b[0] = 'X'; }
static void mut_format(uint8_t *b, size_t n) { put32(b + O_FORMAT, 3); }
static void mut_format2(uint8_t *b, size_t n) { put32(b + O_FORMAT, 2); } /* 2 needs a baseline */
static void mut_format0(uint8_t *b, size_t n) { put32(b + O_FORMAT, 0); }
static void mut_reserved(uint8_t *b, size_t n) { b[O_RESERVED] = 1; }
static void mut_layers0(uint8_t *b, size_t n) { put32(b + O_NLAYERS, 0); }
static void mut_layers_big(uint8_t *b, size_t n) { put32(b + O_NLAYERS, PF_MODEL_MAX_LAYERS + 1); }
static void mut_layers_huge(uint8_t *b, size_t n) { put32(b + O_NLAYERS, 0xffffffffu); }
static void mut_width_big(uint8_t *b, size_t n) { put32(b + O_SIZES + 4, PF_MODEL_MAX_WIDTH + 1); }
static void mut_width0(uint8_t *b, size_t n) { put32(b + O_SIZES, 0); }
static void mut_width_huge(uint8_t *b, size_t n) { put32(b + O_SIZES + 8, 0xffffffffu); }
static void mut_params(uint8_t *b, size_t n) {
  put32(b + O_SIZES, PF_MODEL_MAX_WIDTH);
  put32(b + O_SIZES + 4, PF_MODEL_MAX_WIDTH);
}
static void mut_classes_big(uint8_t *b, size_t n) { put32(b + O_SIZES + 12, PF_MODEL_MAX_CLASSES + 1); }
static void mut_classes_one(uint8_t *b, size_t n) { put32(b + O_SIZES + 12, 1); }
/* a wider but in-cap layer: the file is then far shorter than it declares */
static void mut_width_ok(uint8_t *b, size_t n) { put32(b + O_SIZES + 4, 4000); }
static void mut_thresh_nan(uint8_t *b, size_t n) {
  double d = NAN;
  uint64_t v;
  memcpy(&v, &d, 8);
  put64(b + O_THRESH, v);
}
static void mut_thresh_big(uint8_t *b, size_t n) {
  double d = 1.5;
  uint64_t v;
  memcpy(&v, &d, 8);
  put64(b + O_THRESH, v);
}
static void mut_version_len(uint8_t *b, size_t n) { b[O_VERSION] = PF_MODEL_NAME; }
static void mut_version_huge(uint8_t *b, size_t n) { b[O_VERSION] = b[O_VERSION + 1] = 0xff; }
static void mut_version_ctrl(uint8_t *b, size_t n) { b[O_VERSION + 2] = '\n'; }
/* version "v-3" (3 bytes), parent "seed-keras" (10): the class count follows */
enum { O_NCLASSES = O_VERSION + 2 + 3 + 2 + 10, O_CLASS0 = O_NCLASSES + 4 };
static void mut_nclasses(uint8_t *b, size_t n) { put32(b + O_NCLASSES, 3); }
static void mut_nclasses_huge(uint8_t *b, size_t n) { put32(b + O_NCLASSES, 0x7fffffffu); }
static void mut_class_nul(uint8_t *b, size_t n) { b[O_CLASS0 + 3] = '\0'; }
static void mut_class_empty(uint8_t *b, size_t n) { b[O_CLASS0] = 0; }
static void mut_weight_nan(uint8_t *b, size_t n) { put32(b + n - 4 - 4 * 100, 0x7fc00000u); }
static void mut_weight_inf(uint8_t *b, size_t n) { put32(b + n - 8, 0x7f800000u); }
static void mut_weight_flip(uint8_t *b, size_t n) { b[n - 4 - 4 * 1000] ^= 1; }
static void mut_crc(uint8_t *b, size_t n) { b[n - 1] ^= 0x80; }

static void test_bad_headers(void **state) {
  refuse_mutated(mut_magic, 1, PF_EINVAL, "bad magic");
  refuse_mutated(mut_format, 1, PF_EINVAL, "unsupported format version 3");
  refuse_mutated(mut_format2, 1, PF_EINVAL, "baseline of");
  refuse_mutated(mut_format0, 1, PF_EINVAL, "unsupported format version 0");
  refuse_mutated(mut_reserved, 1, PF_EINVAL, "reserved");
  refuse_mutated(mut_layers0, 1, PF_ELIMIT, "0 layers");
  refuse_mutated(mut_layers_big, 1, PF_ELIMIT, "9 layers");
  refuse_mutated(mut_layers_huge, 1, PF_ELIMIT, "4294967295 layers");
  refuse_mutated(mut_width_big, 1, PF_ELIMIT, "size 65537 of layer 1");
  refuse_mutated(mut_width0, 1, PF_ELIMIT, "size 0 of layer 0");
  refuse_mutated(mut_width_huge, 1, PF_ELIMIT, "size 4294967295 of layer 2");
  refuse_mutated(mut_params, 1, PF_ELIMIT, "parameters");
  refuse_mutated(mut_classes_big, 1, PF_ELIMIT, "17 classes");
  refuse_mutated(mut_classes_one, 1, PF_ELIMIT, "1 classes");
  refuse_mutated(mut_width_ok, 1, PF_ETRUNC, "weights and checksum");
  refuse_mutated(mut_thresh_nan, 1, PF_EINVAL, "threshold");
  refuse_mutated(mut_thresh_big, 1, PF_EINVAL, "threshold 1.5");
  refuse_mutated(mut_version_len, 1, PF_ELIMIT, "version is 64 bytes");
  refuse_mutated(mut_version_huge, 1, PF_ELIMIT, "version is 65535 bytes");
  refuse_mutated(mut_version_ctrl, 1, PF_EINVAL, "control byte");
  refuse_mutated(mut_nclasses, 1, PF_EINVAL, "3 class names for 2 outputs");
  refuse_mutated(mut_nclasses_huge, 1, PF_EINVAL, "class names for 2 outputs");
  refuse_mutated(mut_class_nul, 1, PF_EINVAL, "class name 0 holds a control byte");
  refuse_mutated(mut_class_empty, 1, PF_EINVAL, "class name 0 is empty");
  refuse_mutated(mut_weight_nan, 1, PF_EINVAL, "not finite");
  refuse_mutated(mut_weight_inf, 1, PF_EINVAL, "layer 3 bias value 1 is not finite");
  refuse_mutated(mut_weight_flip, 0, PF_EINVAL, "checksum mismatch");
  refuse_mutated(mut_crc, 0, PF_EINVAL, "checksum mismatch");

  pf_model *m = NULL;
  assert_int_equal(pf_model_decode(NULL, 0, &m, NULL, 0), PF_EINVAL);
  assert_int_equal(pf_model_decode((const uint8_t *)"PFNN", 4, NULL, NULL, 0), PF_EINVAL);
  expect_refused((const uint8_t *)"", 0, PF_ETRUNC, "truncated");
  uint8_t zeros[4096] = {0};
  expect_refused(zeros, sizeof zeros, PF_EINVAL, "bad magic");
}

/* y = softmax(relu(...relu(x W1 + b1)...) Wn + bn), all in double. */
static void reference(const pf_model *m, const float *x, double *out) {
  double a[1024], b[1024];
  for (uint32_t k = 0; k < m->sizes[0]; k++) a[k] = x[k];
  for (uint32_t i = 0; i < m->n_layers; i++) {
    uint32_t in = m->sizes[i], o = m->sizes[i + 1];
    for (uint32_t j = 0; j < o; j++) {
      double s = m->b[i][j];
      for (uint32_t k = 0; k < in; k++) s += a[k] * (double)m->w[i][(size_t)k * o + j];
      b[j] = i + 1 < m->n_layers && s < 0 ? 0 : s;
    }
    memcpy(a, b, o * sizeof *a);
  }
  uint32_t nc = pf_model_classes(m);
  double mx = a[0], sum = 0;
  for (uint32_t c = 1; c < nc; c++) mx = a[c] > mx ? a[c] : mx;
  for (uint32_t c = 0; c < nc; c++) sum += out[c] = exp(a[c] - mx);
  for (uint32_t c = 0; c < nc; c++) out[c] /= sum;
}

/* predict on n random rows against the reference; returns the largest difference. */
static double check_predict(uint32_t n_layers, const uint32_t *sizes, size_t n, float in_scale, uint64_t seed) {
  pf_model *m = random_model(n_layers, sizes, seed);
  uint32_t nc = pf_model_classes(m);
  float *x = malloc(n * sizes[0] * sizeof *x), *p = malloc(n * nc * sizeof *p);
  for (size_t k = 0; k < n * sizes[0]; k++) x[k] = rng_uniform(in_scale);
  assert_int_equal(pf_model_predict(m, x, n, p), PF_OK);
  double worst = 0, ref[PF_MODEL_MAX_CLASSES];
  for (size_t r = 0; r < n; r++) {
    reference(m, x + r * sizes[0], ref);
    double sum = 0;
    for (uint32_t c = 0; c < nc; c++) {
      double d = fabs(ref[c] - p[r * nc + c]);
      if (d > worst) worst = d;
      sum += p[r * nc + c];
    }
    if (fabs(sum - 1.0) > 1e-6) fail_msg("row %zu: probabilities sum to %.9f", r, sum);
  }
  if (worst > 1e-5) fail_msg("largest difference %.3g > 1e-5 (%u layers)", worst, n_layers);
  print_message("%u layers, %zu rows: largest difference from the double reference %.3g\n", n_layers, n, worst);
  free(x);
  free(p);
  pf_model_free(&m);
  return worst;
}

static void test_predict_reference(void **state) {
  check_predict(3, SEED_SIZES, 1500, 2.0f, 77); /* more rows than one GEMM chunk */
  uint32_t one[] = {16, 3};
  check_predict(1, one, 10, 1.0f, 78);
  uint32_t deep[] = {40, 64, 7, 33, 5};
  check_predict(4, deep, 300, 1.0f, 79);
  uint32_t wide[] = {486, 1000, 2};
  check_predict(2, wide, 20, 0.5f, 80);

  pf_model *m = random_model(3, SEED_SIZES, 1);
  assert_int_equal(pf_model_predict(m, NULL, 0, NULL), PF_OK);
  assert_int_equal(pf_model_predict(m, NULL, 1, NULL), PF_EINVAL);
  pf_model_free(&m);
}

/* pf_model_predict_class gives exactly the column of pf_model_predict,
 * across more rows than one chunk, and refuses a class the model lacks. */
static void test_predict_class(void **state) {
  uint32_t sizes[] = {16, 9, 3};
  pf_model *m = random_model(2, sizes, 5);
  size_t n = 2500;
  float *x = malloc(n * 16 * sizeof *x), *p = malloc(n * 3 * sizeof *p), *c = malloc(n * sizeof *c);
  assert_non_null(x); assert_non_null(p); assert_non_null(c);
  for (size_t i = 0; i < n * 16; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  assert_int_equal(pf_model_predict(m, x, n, p), PF_OK);
  for (uint32_t k = 0; k < 3; k++) {
    assert_int_equal(pf_model_predict_class(m, x, n, k, c), PF_OK);
    for (size_t i = 0; i < n; i++) assert_true(c[i] == p[i * 3 + k]);
  }
  assert_int_equal(pf_model_predict_class(m, x, n, 3, c), PF_EINVAL);
  assert_int_equal(pf_model_predict_class(m, NULL, 0, 1, NULL), PF_OK);
  free(x); free(p); free(c);
  pf_model_free(&m);
}

static void test_softmax_stable(void **state) {
  uint32_t sizes[] = {4, 3};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(1, sizes, &m), PF_OK);
  /* logits of +-1e4: a naive exp overflows */
  m->b[0][0] = 10000.0f;
  m->b[0][1] = 9999.0f;
  m->b[0][2] = -10000.0f;
  float x[8] = {0}, p[6];
  assert_int_equal(pf_model_predict(m, x, 2, p), PF_OK);
  for (int r = 0; r < 2; r++) {
    double sum = 0;
    for (int c = 0; c < 3; c++) {
      assert_true(isfinite(p[r * 3 + c]) && p[r * 3 + c] >= 0.0f && p[r * 3 + c] <= 1.0f);
      sum += p[r * 3 + c];
    }
    assert_true(fabs(sum - 1.0) < 1e-6);
  }
  assert_true(fabs(p[0] - 1.0 / (1.0 + exp(-1.0))) < 1e-6);
  assert_true(p[2] == 0.0f);
  m->b[0][0] = m->b[0][1] = m->b[0][2] = 0.0f;
  assert_int_equal(pf_model_predict(m, x, 1, p), PF_OK);
  for (int c = 0; c < 3; c++) assert_true(fabs(p[c] - 1.0 / 3.0) < 1e-7);
  assert_int_equal(pf_model_verdict(m, (float[]){0.2f, 0.5f, 0.3f}), 1);
  pf_model_free(&m);

  m = random_model(3, SEED_SIZES, 2);
  m->threshold = 0.7;
  assert_int_equal(pf_model_verdict(m, (float[]){0.3f, 0.7f}), 1);
  assert_int_equal(pf_model_verdict(m, (float[]){0.31f, 0.69f}), 0);
  pf_model_free(&m);
}

static void test_save_load(void **state) {
  char dir[] = "/tmp/pf-test-model.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[256], path[300], err[512];
  snprintf(sub, sizeof sub, "%s/m1", dir); /* created by save */
  pf_model *m = random_model(3, SEED_SIZES, 21), *d = NULL;
  assert_int_equal(pf_model_save(m, sub), PF_OK);
  assert_int_equal(pf_model_load(sub, &d, err, sizeof err), PF_OK);
  assert_same_model(m, d);
  pf_model_free(&d);
  m->threshold = 0.9; /* overwrite in place */
  assert_int_equal(pf_model_save(m, sub), PF_OK);
  assert_int_equal(pf_model_load(sub, &d, err, sizeof err), PF_OK);
  assert_true(d->threshold == 0.9);
  pf_model_free(&d);
  snprintf(path, sizeof path, "ls -A %s | grep -v '^model.pfnn$' | grep -q .", sub);
  assert_int_not_equal(system(path), 0); /* no temporary left behind */

  assert_int_equal(pf_model_load(dir, &d, err, sizeof err), PF_ENOENT);
  assert_non_null(strstr(err, "model.pfnn"));
  snprintf(path, sizeof path, "%s/model.pfnn", dir);
  FILE *f = fopen(path, "wb");
  fputs("PFNN garbage", f);
  fclose(f);
  assert_int_not_equal(pf_model_load(dir, &d, err, sizeof err), PF_OK);
  assert_null(d);
  assert_non_null(strstr(err, path));
  snprintf(path, sizeof path, "%s/no/such/dir", dir);
  assert_int_equal(pf_model_save(m, path), PF_EIO);

  snprintf(path, sizeof path, "rm -rf %s", dir);
  assert_int_equal(system(path), 0);
  pf_model_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_limits),       cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_encode_refuses_bad_models), cmocka_unit_test(test_every_truncation),
    cmocka_unit_test(test_bad_headers),      cmocka_unit_test(test_predict_reference),
    cmocka_unit_test(test_predict_class), cmocka_unit_test(test_softmax_stable),   cmocka_unit_test(test_save_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
