/* pf_model: dense ReLU/softmax networks, their PFNN file and inference. */
#include "pf_model.h"
#include "pf_atomic.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_io.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXED_HEADER 16u         /* magic, format, total length */
#define PREDICT_CHUNK 1024u      /* rows per GEMM pass: bounds scratch memory */
#define LOAD_MAX ((size_t)PF_MODEL_MAX_PARAMS * 4u + (1u << 20)) /* largest model file */

/* ---- sizes ---------------------------------------------------------------- */

/* Checks n_layers and sizes against the caps; on failure writes a reason. */
static int check_sizes(uint32_t n_layers, const uint32_t *sizes, char *err, size_t errlen) {
  if (n_layers < 1 || n_layers > PF_MODEL_MAX_LAYERS) {
    snprintf(err, errlen, "%u layers (1..%d allowed)", n_layers, PF_MODEL_MAX_LAYERS);
    return PF_ELIMIT;
  }
  uint64_t params = 0;
  for (uint32_t i = 0; i <= n_layers; i++) {
    if (sizes[i] < 1 || sizes[i] > PF_MODEL_MAX_WIDTH) {
      snprintf(err, errlen, "size %u of layer %u (1..%d allowed)", sizes[i], i, PF_MODEL_MAX_WIDTH);
      return PF_ELIMIT;
    }
    if (i > 0) params += (uint64_t)sizes[i - 1] * sizes[i] + sizes[i];
  }
  if (sizes[n_layers] < 2 || sizes[n_layers] > PF_MODEL_MAX_CLASSES) {
    snprintf(err, errlen, "%u classes (2..%d allowed)", sizes[n_layers], PF_MODEL_MAX_CLASSES);
    return PF_ELIMIT;
  }
  if (params > PF_MODEL_MAX_PARAMS) {
    snprintf(err, errlen, "%llu parameters (at most %u)", (unsigned long long)params, PF_MODEL_MAX_PARAMS);
    return PF_ELIMIT;
  }
  return PF_OK;
}

int pf_model_new(uint32_t n_layers, const uint32_t *sizes, pf_model **out) {
  char why[128];
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!sizes || check_sizes(n_layers, sizes, why, sizeof why) != PF_OK) return PF_EINVAL;
  pf_model *m = calloc(1, sizeof *m);
  if (!m) return PF_ENOMEM;
  m->n_layers = n_layers;
  memcpy(m->sizes, sizes, (n_layers + 1) * sizeof *sizes);
  m->schema = PF_ERGO486_SCHEMA_ID;
  m->threshold = 0.5;
  for (uint32_t c = 0; c < sizes[n_layers]; c++) snprintf(m->classes[c], PF_MODEL_NAME, "class%u", c);
  for (uint32_t i = 0; i < n_layers; i++) {
    m->w[i] = calloc((size_t)sizes[i] * sizes[i + 1], sizeof(float));
    m->b[i] = calloc(sizes[i + 1], sizeof(float));
    if (!m->w[i] || !m->b[i]) {
      pf_model_free(&m);
      return PF_ENOMEM;
    }
  }
  *out = m;
  return PF_OK;
}

void pf_model_free(pf_model **m) {
  if (!m || !*m) return;
  for (uint32_t i = 0; i < PF_MODEL_MAX_LAYERS; i++) {
    free((*m)->w[i]);
    free((*m)->b[i]);
  }
  free((*m)->baseline);
  free(*m);
  *m = NULL;
}

uint32_t pf_model_classes(const pf_model *m) { return m->sizes[m->n_layers]; }

size_t pf_model_params(const pf_model *m) {
  size_t n = 0;
  for (uint32_t i = 0; i < m->n_layers; i++) n += (size_t)m->sizes[i] * m->sizes[i + 1] + m->sizes[i + 1];
  return n;
}

/* ---- the file format ------------------------------------------------------ */

/* CRC-32 (IEEE, reflected, as zlib computes it), bit by bit: models are
 * written and read rarely, so no table. */
static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/* A name fits the file when it is shorter than PF_MODEL_NAME and holds no
 * control bytes (it is printed in JSON and tables). */
static int name_ok(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
  return n < PF_MODEL_NAME;
}

static size_t bounded_len(const char *s) { return strnlen(s, PF_MODEL_NAME); }

size_t pf_model_encoded_size(const pf_model *m) {
  size_t n = FIXED_HEADER + 2 + 2 + 4 + 4 * ((size_t)m->n_layers + 1) + 8;
  n += 2 + bounded_len(m->version) + 2 + bounded_len(m->parent) + 4;
  for (uint32_t c = 0; c < pf_model_classes(m) && c < PF_MODEL_MAX_CLASSES; c++) n += 2 + bounded_len(m->classes[c]);
  n += 4 * pf_model_params(m);
  if (m->baseline) n += 4 + 2 + bounded_len(m->baseline_name) + 4 * (size_t)m->sizes[0];
  return n + 4;
}

int pf_model_set_baseline(pf_model *m, const float *x, const char *name) {
  if (!m) return PF_EINVAL;
  if (!x) {
    free(m->baseline);
    m->baseline = NULL;
    m->baseline_name[0] = '\0';
    return PF_OK;
  }
  size_t n = m->sizes[0];
  if (!name || !name_ok(name, strlen(name))) return PF_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return PF_EINVAL;
  float *b = malloc(n * sizeof *b);
  if (!b) return PF_ENOMEM;
  memcpy(b, x, n * sizeof *b);
  free(m->baseline);
  m->baseline = b;
  snprintf(m->baseline_name, sizeof m->baseline_name, "%s", name);
  return PF_OK;
}

static void put_u16(uint8_t **p, uint16_t v) {
  (*p)[0] = (uint8_t)v;
  (*p)[1] = (uint8_t)(v >> 8);
  *p += 2;
}
static void put_u32(uint8_t **p, uint32_t v) {
  for (int i = 0; i < 4; i++) (*p)[i] = (uint8_t)(v >> (8 * i));
  *p += 4;
}
static void put_u64(uint8_t **p, uint64_t v) {
  for (int i = 0; i < 8; i++) (*p)[i] = (uint8_t)(v >> (8 * i));
  *p += 8;
}
static void put_f64(uint8_t **p, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put_u64(p, v);
}
static void put_f32s(uint8_t **p, const float *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t v;
    memcpy(&v, &f[i], 4);
    put_u32(p, v);
  }
}
static void put_str(uint8_t **p, const char *s) {
  size_t n = bounded_len(s);
  put_u16(p, (uint16_t)n);
  memcpy(*p, s, n);
  *p += n;
}

int pf_model_encode(const pf_model *m, uint8_t *buf, size_t cap) {
  char why[128];
  if (!m || !buf || check_sizes(m->n_layers, m->sizes, why, sizeof why) != PF_OK) return PF_EINVAL;
  if (!(m->threshold >= 0.0 && m->threshold <= 1.0)) return PF_EINVAL;
  if (!name_ok(m->version, bounded_len(m->version)) || !name_ok(m->parent, bounded_len(m->parent))) return PF_EINVAL;
  uint32_t nc = pf_model_classes(m);
  for (uint32_t c = 0; c < nc; c++)
    if (!name_ok(m->classes[c], bounded_len(m->classes[c])) || !m->classes[c][0]) return PF_EINVAL;
  size_t total = pf_model_encoded_size(m);
  if (cap < total) return PF_EINVAL;
  uint8_t *p = buf;
  memcpy(p, PF_MODEL_MAGIC, 4);
  p += 4;
  put_u32(&p, m->baseline ? 2u : 1u);
  put_u64(&p, total);
  put_u16(&p, m->schema);
  put_u16(&p, 0);
  put_u32(&p, m->n_layers);
  for (uint32_t i = 0; i <= m->n_layers; i++) put_u32(&p, m->sizes[i]);
  put_f64(&p, m->threshold);
  put_str(&p, m->version);
  put_str(&p, m->parent);
  put_u32(&p, nc);
  for (uint32_t c = 0; c < nc; c++) put_str(&p, m->classes[c]);
  for (uint32_t i = 0; i < m->n_layers; i++) {
    put_f32s(&p, m->w[i], (size_t)m->sizes[i] * m->sizes[i + 1]);
    put_f32s(&p, m->b[i], m->sizes[i + 1]);
  }
  if (m->baseline) {
    if (!name_ok(m->baseline_name, bounded_len(m->baseline_name))) return PF_EINVAL;
    put_u32(&p, m->sizes[0]);
    put_str(&p, m->baseline_name);
    put_f32s(&p, m->baseline, m->sizes[0]);
  }
  put_u32(&p, crc32_of(buf, (size_t)(p - buf)));
  return (size_t)(p - buf) == total ? PF_OK : PF_EINVAL;
}

/* A bounds-checked cursor over the bytes being decoded: every read goes
 * through need(). */
typedef struct {
  const uint8_t *p;
  size_t len, off;
  char *err;
  size_t errlen;
} reader;

static int fail(reader *r, int code, const char *fmt, ...) {
  if (r->err && r->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int need(reader *r, size_t n, const char *what) {
  if (n > r->len - r->off)
    return fail(r, PF_ETRUNC, "truncated: %s needs %zu bytes at offset %zu, %zu left", what, n, r->off,
                r->len - r->off);
  return PF_OK;
}
static uint16_t get_u16(reader *r) {
  const uint8_t *p = r->p + r->off;
  r->off += 2;
  return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t get_u32(reader *r) {
  const uint8_t *p = r->p + r->off;
  r->off += 4;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get_u64(reader *r) {
  uint64_t lo = get_u32(r);
  return lo | ((uint64_t)get_u32(r) << 32);
}

/* A u16-length string into out (PF_MODEL_NAME bytes). */
static int get_str(reader *r, char *out, const char *what) {
  int rc = need(r, 2, what);
  if (rc != PF_OK) return rc;
  uint16_t n = get_u16(r);
  if (n >= PF_MODEL_NAME) return fail(r, PF_ELIMIT, "%s is %u bytes long (at most %d)", what, n, PF_MODEL_NAME - 1);
  if ((rc = need(r, n, what)) != PF_OK) return rc;
  if (!name_ok((const char *)r->p + r->off, n)) return fail(r, PF_EINVAL, "%s holds a control byte", what);
  memcpy(out, r->p + r->off, n);
  out[n] = '\0';
  r->off += n;
  return PF_OK;
}

/* n float32 values, each finite. */
static int get_f32s(reader *r, float *out, size_t n, const char *what, uint32_t layer) {
  for (size_t i = 0; i < n; i++) {
    uint32_t v = get_u32(r);
    memcpy(&out[i], &v, 4);
    if (!isfinite(out[i])) return fail(r, PF_EINVAL, "layer %u %s value %zu is not finite", layer, what, i);
  }
  return PF_OK;
}

int pf_model_decode(const uint8_t *buf, size_t len, pf_model **out, char *err, size_t errlen) {
  reader r = {buf, len, 0, err, errlen};
  if (err && errlen) err[0] = '\0';
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!buf) return fail(&r, PF_EINVAL, "no bytes");
  if (len < FIXED_HEADER) return fail(&r, PF_ETRUNC, "truncated: %zu bytes, the header alone is %u", len, FIXED_HEADER);
  if (memcmp(buf, PF_MODEL_MAGIC, 4) != 0) return fail(&r, PF_EINVAL, "bad magic (not a pefleet model file)");
  r.off = 4;
  uint32_t format = get_u32(&r);
  if (format != 1 && format != PF_MODEL_FORMAT)
    return fail(&r, PF_EINVAL, "unsupported format version %u (this build reads 1 and %d)", format, PF_MODEL_FORMAT);
  uint64_t total = get_u64(&r);
  if (total != len)
    return fail(&r, total > len ? PF_ETRUNC : PF_EINVAL, "size mismatch: the header says %llu bytes, the input has %zu",
                (unsigned long long)total, len);
  int rc = need(&r, 8, "schema and layer count");
  if (rc != PF_OK) return rc;
  uint16_t schema = get_u16(&r);
  uint16_t reserved = get_u16(&r);
  uint32_t n_layers = get_u32(&r);
  if (reserved != 0) return fail(&r, PF_EINVAL, "reserved header field is %u, not 0", reserved);
  if (n_layers < 1 || n_layers > PF_MODEL_MAX_LAYERS)
    return fail(&r, PF_ELIMIT, "%u layers (1..%d allowed)", n_layers, PF_MODEL_MAX_LAYERS);
  if ((rc = need(&r, 4 * ((size_t)n_layers + 1) + 8, "layer sizes and threshold")) != PF_OK) return rc;
  uint32_t sizes[PF_MODEL_MAX_LAYERS + 1];
  for (uint32_t i = 0; i <= n_layers; i++) sizes[i] = get_u32(&r);
  char why[160];
  if ((rc = check_sizes(n_layers, sizes, why, sizeof why)) != PF_OK) return fail(&r, rc, "%s", why);
  uint64_t tbits = get_u64(&r);
  double threshold;
  memcpy(&threshold, &tbits, 8);
  if (!(threshold >= 0.0 && threshold <= 1.0)) return fail(&r, PF_EINVAL, "threshold %g outside [0, 1]", threshold);

  pf_model tmp; /* names first, into a stack copy: nothing is allocated before the sizes fit */
  memset(tmp.classes, 0, sizeof tmp.classes);
  if ((rc = get_str(&r, tmp.version, "version")) != PF_OK) return rc;
  if ((rc = get_str(&r, tmp.parent, "parent")) != PF_OK) return rc;
  if ((rc = need(&r, 4, "class count")) != PF_OK) return rc;
  uint32_t nc = get_u32(&r);
  if (nc != sizes[n_layers])
    return fail(&r, PF_EINVAL, "%u class names for %u outputs", nc, sizes[n_layers]);
  for (uint32_t c = 0; c < nc; c++) {
    char what[32];
    snprintf(what, sizeof what, "class name %u", c);
    if ((rc = get_str(&r, tmp.classes[c], what)) != PF_OK) return rc;
    if (!tmp.classes[c][0]) return fail(&r, PF_EINVAL, "class name %u is empty", c);
  }
  uint64_t params = 0;
  for (uint32_t i = 0; i < n_layers; i++) params += (uint64_t)sizes[i] * sizes[i + 1] + sizes[i + 1];
  if ((rc = need(&r, (size_t)params * 4 + 4, "weights and checksum")) != PF_OK) return rc;
  /* format 2: the baseline after the weights: u32 count, name, floats */
  size_t base_bytes = 0;
  char base_name[PF_MODEL_NAME] = "";
  if (format == 2) {
    reader q = r;
    q.off += (size_t)params * 4;
    if ((rc = need(&q, 4, "baseline size")) != PF_OK) return fail(&r, rc, "%s", q.err && q.errlen ? q.err : "truncated");
    uint32_t nb = get_u32(&q);
    if (nb != sizes[0]) return fail(&r, PF_EINVAL, "baseline of %u values for %u inputs", nb, sizes[0]);
    if ((rc = get_str(&q, base_name, "baseline name")) != PF_OK) return rc;
    base_bytes = 4 + 2 + strlen(base_name) + 4 * (size_t)nb;
  }
  if (r.len - r.off != (size_t)params * 4 + base_bytes + 4)
    return fail(&r, r.len - r.off < (size_t)params * 4 + base_bytes + 4 ? PF_ETRUNC : PF_EINVAL,
                "%zu bytes after the weights, where the %s and checksum take %zu", r.len - r.off - (size_t)params * 4,
                format == 2 ? "baseline" : "format-1 end", base_bytes + 4);
  uint32_t want_crc = crc32_of(buf, len - 4);

  pf_model *m = NULL;
  if ((rc = pf_model_new(n_layers, sizes, &m)) != PF_OK) return fail(&r, rc, "%s", pf_strerror(rc));
  m->schema = schema;
  m->threshold = threshold;
  memcpy(m->version, tmp.version, sizeof m->version);
  memcpy(m->parent, tmp.parent, sizeof m->parent);
  memcpy(m->classes, tmp.classes, sizeof m->classes);
  for (uint32_t i = 0; i < n_layers && rc == PF_OK; i++) {
    rc = get_f32s(&r, m->w[i], (size_t)sizes[i] * sizes[i + 1], "weight", i + 1);
    if (rc == PF_OK) rc = get_f32s(&r, m->b[i], sizes[i + 1], "bias", i + 1);
  }
  if (rc == PF_OK && format == 2) {
    r.off += 4 + 2 + strlen(base_name); /* count and name, checked above */
    m->baseline = malloc((size_t)sizes[0] * sizeof(float));
    if (!m->baseline) rc = fail(&r, PF_ENOMEM, "out of memory");
    else rc = get_f32s(&r, m->baseline, sizes[0], "baseline", 0);
    memcpy(m->baseline_name, base_name, sizeof m->baseline_name);
  }
  if (rc == PF_OK) {
    uint32_t crc = get_u32(&r);
    if (crc != want_crc) rc = fail(&r, PF_EINVAL, "checksum mismatch (file %08x, computed %08x)", crc, want_crc);
  }
  if (rc != PF_OK) {
    pf_model_free(&m);
    return rc;
  }
  *out = m;
  return PF_OK;
}

/* ---- files ---------------------------------------------------------------- */

int pf_model_save(const pf_model *m, const char *dir) {
  if (!m || !dir || !*dir) return PF_EINVAL;
  size_t n = pf_model_encoded_size(m);
  uint8_t *buf = malloc(n);
  if (!buf) return PF_ENOMEM;
  int rc = pf_model_encode(m, buf, n);
  if (rc != PF_OK) {
    free(buf);
    return rc;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    free(buf);
    return PF_EIO;
  }
  pf_atomic a;
  FILE *f = pf_atomic_open(&a, dir, PF_MODEL_FILE);
  if (!f) {
    free(buf);
    return PF_EIO;
  }
  int bad = fwrite(buf, 1, n, f) != n;
  free(buf);
  if (bad) {
    int saved = errno;
    pf_atomic_abort(&a);
    errno = saved;
    return PF_EIO;
  }
  return pf_atomic_commit(&a); /* fsyncs the file and the folder */
}

/* snprintf into an optional reason buffer. */
static void say(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

int pf_model_load(const char *dir, pf_model **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!dir) return PF_EINVAL;
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, PF_MODEL_FILE) >= sizeof path) {
    say(err, errlen, "%s: path too long", dir);
    return PF_EINVAL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    say(err, errlen, "cannot open %s: %s", path, strerror(e));
    return e == ENOENT ? PF_ENOENT : PF_EIO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    say(err, errlen, "%s is not a regular file", path);
    close(fd);
    return PF_EIO;
  }
  if ((uint64_t)st.st_size > LOAD_MAX) {
    say(err, errlen, "%s: %lld bytes, larger than any model can be", path, (long long)st.st_size);
    close(fd);
    return PF_ELIMIT;
  }
  size_t len = (size_t)st.st_size;
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) {
    close(fd);
    say(err, errlen, "%s: out of memory", path);
    return PF_ENOMEM;
  }
  if (pf_io_read_exact(fd, buf, len) != 0) {
    say(err, errlen, "cannot read %s: %s", path, errno ? strerror(errno) : "short read");
    free(buf);
    close(fd);
    return PF_EIO;
  }
  close(fd);
  char why[256];
  int rc = pf_model_decode(buf, len, out, why, sizeof why);
  free(buf);
  if (rc != PF_OK) say(err, errlen, "%s: %s", path, why);
  return rc;
}

/* ---- inference ------------------------------------------------------------ */

/* Softmax of each of rows rows of k values in place, shifted by the row's
 * maximum so that exp never overflows; sums in double. */
static void softmax_rows(float *z, size_t rows, uint32_t k) {
  for (size_t r = 0; r < rows; r++) {
    float *row = z + r * k;
    float mx = row[0];
    for (uint32_t j = 1; j < k; j++)
      if (row[j] > mx) mx = row[j];
    double e[PF_MODEL_MAX_CLASSES], sum = 0;
    for (uint32_t j = 0; j < k; j++) sum += e[j] = exp((double)row[j] - (double)mx);
    for (uint32_t j = 0; j < k; j++) row[j] = (float)(e[j] / sum);
  }
}

/* One dense layer on rows rows: y (rows x out) = x (rows x in) . w (in x out)
 * + b, then ReLU when relu. */
static void dense(const float *x, size_t rows, uint32_t in, uint32_t out, const float *w, const float *b, int relu,
                  float *y) {
  for (size_t r = 0; r < rows; r++) memcpy(y + r * out, b, out * sizeof *b);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)out, (int)in, 1.0f, x, (int)in, w, (int)out,
              1.0f, y, (int)out);
  if (relu)
    for (size_t i = 0; i < rows * out; i++)
      if (!(y[i] > 0.0f)) y[i] = 0.0f;
}

int pf_model_predict(const pf_model *m, const float *x, size_t n, float *probs) {
  if (!m || (!x && n) || (!probs && n)) return PF_EINVAL;
  if (n == 0) return PF_OK;
  uint32_t widest = 1, nc = pf_model_classes(m);
  for (uint32_t i = 1; i < m->n_layers; i++)
    if (m->sizes[i] > widest) widest = m->sizes[i];
  size_t chunk = n < PREDICT_CHUNK ? n : PREDICT_CHUNK;
  float *a = m->n_layers > 1 ? malloc(chunk * widest * sizeof *a) : NULL;
  float *bb = m->n_layers > 2 ? malloc(chunk * widest * sizeof *bb) : NULL;
  if ((m->n_layers > 1 && !a) || (m->n_layers > 2 && !bb)) {
    free(a);
    free(bb);
    return PF_ENOMEM;
  }
  for (size_t r0 = 0; r0 < n; r0 += chunk) {
    size_t rows = n - r0 < chunk ? n - r0 : chunk;
    const float *cur = x + r0 * m->sizes[0];
    for (uint32_t i = 0; i < m->n_layers; i++) {
      int last = i + 1 == m->n_layers;
      float *dst = last ? probs + r0 * nc : (cur == a ? bb : a);
      dense(cur, rows, m->sizes[i], m->sizes[i + 1], m->w[i], m->b[i], !last, dst);
      cur = dst;
    }
    softmax_rows(probs + r0 * nc, rows, nc);
  }
  free(a);
  free(bb);
  return PF_OK;
}

int pf_model_predict_class(const pf_model *m, const float *x, size_t n, uint32_t cls, float *out) {
  if (!m || (!x && n) || (!out && n) || cls >= pf_model_classes(m)) return PF_EINVAL;
  uint32_t nc = pf_model_classes(m);
  size_t chunk = n < PREDICT_CHUNK ? n : PREDICT_CHUNK;
  float *probs = malloc((chunk ? chunk : 1) * nc * sizeof *probs);
  if (!probs) return PF_ENOMEM;
  int rc = PF_OK;
  for (size_t r0 = 0; rc == PF_OK && r0 < n; r0 += chunk) {
    size_t rows = n - r0 < chunk ? n - r0 : chunk;
    rc = pf_model_predict(m, x + r0 * m->sizes[0], rows, probs);
    for (size_t i = 0; rc == PF_OK && i < rows; i++) out[r0 + i] = probs[i * nc + cls];
  }
  free(probs);
  return rc;
}

uint32_t pf_model_verdict(const pf_model *m, const float *probs) {
  uint32_t nc = pf_model_classes(m);
  if (nc == 2) return probs[1] >= (float)m->threshold ? 1u : 0u; /* compared as the float it is printed from */
  uint32_t best = 0;
  for (uint32_t c = 1; c < nc; c++)
    if (probs[c] > probs[best]) best = c;
  return best;
}
