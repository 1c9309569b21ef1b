/* pf_simindex: exact cosine search over stored vectors (see pf_simindex.h).
 *
 * Per entry, beside the float32 vector and its squared norm (double):
 *   c[]   int8 codes of the unit vector u = x/|x|: u ~= s * c, s = max|u|/127
 *   s     the row's scale (float)
 *   E     |u - s*c|_2, rounded up (float): the row's quantisation error
 * A query q is normalised and quantised to int16 codes d with scale t and
 * error F = |q/|q| - t*d|_2. Then for every row
 *   u.q^ = s*t*(c.d) + s*c.f + e.q^,  |s*c.f| <= (1+E)F,  |e.q^| <= E
 * (Cauchy-Schwarz), so approx = s*t*(c.d) (an exact integer dot product,
 * scaled) is within E + (1+E)F + SLACK of the cosine; SLACK covers the
 * double rounding of the normalisations (~1e-13).
 *
 * The scan reads less than that: the dimensions are ranked by their share
 * of the stored unit vectors' energy (re-ranked each time the index
 * doubles), and the first HEAD_DIMS of them form a head, kept as a separate
 * int8 array. Splitting u = uA + uB and q^ = qA + qB over head and rest,
 *   u.q^ = uA.qA + uB.qB,  |uA.qA - s*t*(cA.dA)| <= EA + (1+EA)FA,
 *   |uB.qB| <= |uB| |qB|
 * so the head alone bounds the cosine; for ergo486 vectors the rest holds
 * about 1% of a vector's norm. A row whose head bound is loose (its tail
 * term larger than its quantisation terms) is also bounded with its full
 * codes, and the tighter of the two bounds is kept. Rows whose upper bound
 * reaches the threshold are candidates; candidates are recomputed exactly,
 * best upper bound first, until no remaining one can enter the top. */
#include "pf_simindex.h"
#include "pf_err.h"
#include "pf_hash.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLACK 1e-9
#define ROW_ALIGN 16               /* int8 rows padded to a multiple of this */
#define HEAD_DIMS 128              /* dimensions in the head (a multiple of ROW_ALIGN) */
#define RETUNE_MIN 1024            /* rank the dimensions once this many rows are in, then at each doubling */
#define PAR_MIN_ROWS 65536         /* below this, one thread scans */
#define EMPTY_SLOT UINT32_MAX

struct pf_simindex {
  uint32_t dim, dpad;
  uint32_t hd, hpad;   /* head dimensions (min(HEAD_DIMS, dim)) and their padded width */
  uint32_t *perm;      /* dim: dimensions by energy, largest first; the head is perm[0..hd) */
  double *energy;      /* dim: sum over rows of u_j^2 (for the ranking) */
  size_t tuned_at;     /* rows when the dimensions were last ranked */
  int threads;
  size_t n, cap;
  float *raw;          /* n x dim */
  int8_t *codes;       /* n x dpad, natural order */
  int8_t *head;        /* n x hpad: codes[perm[j]] */
  float *scale, *err;  /* per row: s, E */
  float *errh, *tail;  /* per row: EA (head part of E), |uB| (norm of the unit vector off the head) */
  double *norm2;       /* per row: dot(x, x) */
  uint8_t (*sha)[PF_SHA256_LEN];
  char **labels;       /* per row, malloc'd (NULL: none) */
  uint8_t *split;      /* 0 train, 1 validation, 2 test, 3 none */
  size_t label_bytes;
  uint32_t *slots;     /* open addressing: entry index or EMPTY_SLOT */
  size_t nslots;       /* power of two, >= 2 * cap */
};

static const char *const split_names[4] = {"train", "validation", "test", ""};

static int fail(char *err, size_t errlen, int code, const char *msg) {
  if (err && errlen) snprintf(err, errlen, "%s", msg);
  return code;
}

int pf_simindex_new(uint32_t dim, pf_simindex **out, char *err, size_t errlen) {
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (dim == 0 || dim > PF_SIMINDEX_MAX_DIM) {
    if (err && errlen) snprintf(err, errlen, "dimension must be 1-%d, not %u", PF_SIMINDEX_MAX_DIM, dim);
    return PF_EINVAL;
  }
  pf_simindex *ix = calloc(1, sizeof *ix);
  if (!ix) return fail(err, errlen, PF_ENOMEM, "out of memory");
  ix->dim = dim;
  ix->dpad = (dim + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
  ix->hd = dim < HEAD_DIMS ? dim : HEAD_DIMS;
  ix->hpad = (ix->hd + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
  ix->perm = malloc(dim * sizeof *ix->perm);
  ix->energy = calloc(dim, sizeof *ix->energy);
  if (!ix->perm || !ix->energy) {
    free(ix->perm);
    free(ix->energy);
    free(ix);
    return fail(err, errlen, PF_ENOMEM, "out of memory");
  }
  for (uint32_t j = 0; j < dim; j++) ix->perm[j] = j;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  ix->threads = cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
  *out = ix;
  return PF_OK;
}

void pf_simindex_free(pf_simindex **p) {
  if (!p || !*p) return;
  pf_simindex *ix = *p;
  for (size_t i = 0; i < ix->n; i++) free(ix->labels[i]);
  free(ix->raw);
  free(ix->codes);
  free(ix->scale);
  free(ix->head);
  free(ix->errh);
  free(ix->tail);
  free(ix->perm);
  free(ix->energy);
  free(ix->err);
  free(ix->norm2);
  free(ix->sha);
  free(ix->labels);
  free(ix->split);
  free(ix->slots);
  free(ix);
  *p = NULL;
}

void pf_simindex_set_threads(pf_simindex *ix, int n) {
  if (ix) ix->threads = n < 1 ? 1 : n > 64 ? 64 : n;
}

size_t pf_simindex_count(const pf_simindex *ix) { return ix ? ix->n : 0; }
uint32_t pf_simindex_dim(const pf_simindex *ix) { return ix ? ix->dim : 0; }

double pf_simindex_bytes_per_vector(const pf_simindex *ix) {
  if (!ix || ix->n == 0) return 0;
  double per = (double)ix->dim * sizeof(float) + ix->dpad + ix->hpad + 4 * sizeof(float) + sizeof(double) +
               PF_SHA256_LEN +
               sizeof(char *) + 1;
  return per + (double)ix->nslots * sizeof(uint32_t) / (double)ix->n + (double)ix->label_bytes / (double)ix->n;
}

void pf_simindex_sha(const pf_simindex *ix, uint32_t idx, char *sha) { pf_hex(ix->sha[idx], PF_SHA256_LEN, sha); }

const char *pf_simindex_labels(const pf_simindex *ix, uint32_t idx) {
  return ix->labels[idx] ? ix->labels[idx] : "";
}

const char *pf_simindex_split(const pf_simindex *ix, uint32_t idx) { return split_names[ix->split[idx] & 3]; }

void pf_simindex_vector(const pf_simindex *ix, uint32_t idx, double *out) {
  const float *x = ix->raw + (size_t)idx * ix->dim;
  for (uint32_t j = 0; j < ix->dim; j++) out[j] = x[j];
}

/* ---- sha -> entry ---- */

static int unhex(const char *hex, uint8_t *out) {
  if (!hex || !pf_is_sha256_hex(hex)) return 0;
  for (int i = 0; i < PF_SHA256_LEN; i++) {
    int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
    int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 1;
}

static size_t slot_of(const uint8_t *sha, size_t nslots) {
  uint64_t h;
  memcpy(&h, sha, sizeof h); /* a sha256 is already uniformly spread */
  return (size_t)(h & (nslots - 1));
}

static long find_bin(const pf_simindex *ix, const uint8_t *sha) {
  if (!ix->slots) return -1;
  for (size_t k = slot_of(sha, ix->nslots);; k = (k + 1) & (ix->nslots - 1)) {
    uint32_t e = ix->slots[k];
    if (e == EMPTY_SLOT) return -1;
    if (memcmp(ix->sha[e], sha, PF_SHA256_LEN) == 0) return (long)e;
  }
}

long pf_simindex_find(const pf_simindex *ix, const char *sha) {
  uint8_t b[PF_SHA256_LEN];
  if (!ix || !unhex(sha, b)) return -1;
  return find_bin(ix, b);
}

static void slot_put(pf_simindex *ix, uint32_t e) {
  size_t k = slot_of(ix->sha[e], ix->nslots);
  while (ix->slots[k] != EMPTY_SLOT) k = (k + 1) & (ix->nslots - 1);
  ix->slots[k] = e;
}

/* ---- storage ---- */

#define GROW(field, count) \
  do { \
    void *p_ = realloc(ix->field, (count) * sizeof *ix->field); \
    if (!p_) return PF_ENOMEM; \
    ix->field = p_; \
  } while (0)

static int grow(pf_simindex *ix) {
  size_t cap = ix->cap ? ix->cap + ix->cap / 2 : 1024;
  if (cap > PF_SIMINDEX_MAX_ENTRIES) cap = PF_SIMINDEX_MAX_ENTRIES;
  if (cap <= ix->n) return PF_ELIMIT;
  GROW(raw, cap * ix->dim);
  GROW(codes, cap * ix->dpad);
  GROW(scale, cap);
  GROW(head, cap * ix->hpad);
  GROW(errh, cap);
  GROW(tail, cap);
  GROW(err, cap);
  GROW(norm2, cap);
  GROW(sha, cap);
  GROW(labels, cap);
  GROW(split, cap);
  size_t nslots = ix->nslots ? ix->nslots : 2048;
  while (nslots < 2 * cap) nslots *= 2;
  if (nslots != ix->nslots) {
    uint32_t *s = malloc(nslots * sizeof *s);
    if (!s) return PF_ENOMEM;
    free(ix->slots);
    ix->slots = s;
    ix->nslots = nslots;
    memset(s, 0xff, nslots * sizeof *s);
    for (size_t i = 0; i < ix->n; i++) slot_put(ix, (uint32_t)i);
  }
  ix->cap = cap;
  return PF_OK;
}

/* Rounds v (dim doubles) to float32 into f, with dot(f, f) in *n2.
 * PF_EINVAL with a reason for a non-finite value, one beyond float32
 * range, or a zero vector. */
static int to_f32(const double *v, uint32_t dim, float *f, double *n2, char *err, size_t errlen) {
  double s = 0;
  for (uint32_t j = 0; j < dim; j++) {
    if (!isfinite(v[j])) {
      if (err && errlen) snprintf(err, errlen, "value %u is not a finite number", j + 1);
      return PF_EINVAL;
    }
    if (fabs(v[j]) > FLT_MAX) {
      if (err && errlen) snprintf(err, errlen, "value %u is beyond float32 range", j + 1);
      return PF_EINVAL;
    }
    f[j] = (float)v[j];
    s += (double)f[j] * (double)f[j];
  }
  if (s == 0) return fail(err, errlen, PF_EINVAL, "zero vector: it has no direction, so no cosine similarity");
  *n2 = s;
  return PF_OK;
}

/* Quantises the unit vector of f (norm2 n2) to codes in [-qmax, qmax]
 * (written through put), returning the scale and, in *bound, the error
 * |u - scale*codes|_2 rounded up. */
static float quantise(const float *f, uint32_t dim, double n2, int qmax, void *codes, int wide, float *bound) {
  double norm = sqrt(n2), m = 0;
  for (uint32_t j = 0; j < dim; j++) {
    double a = fabs((double)f[j] / norm);
    if (a > m) m = a;
  }
  float s = (float)(m / qmax);
  if (s <= 0) s = FLT_MIN; /* cannot happen for a nonzero vector; keeps the division finite */
  double e2 = 0;
  for (uint32_t j = 0; j < dim; j++) {
    double u = (double)f[j] / norm;
    long c = lrint(u / s);
    if (c > qmax) c = qmax;
    if (c < -qmax) c = -qmax;
    if (wide) ((int16_t *)codes)[j] = (int16_t)c;
    else ((int8_t *)codes)[j] = (int8_t)c;
    double e = u - (double)s * (double)c;
    e2 += e * e;
  }
  double e = sqrt(e2) * (1 + 1e-12) + 1e-30;
  float b = (float)e;
  if ((double)b < e) b = nextafterf(b, INFINITY);
  *bound = b;
  return s;
}

/* Row i's head codes (its codes in perm order), EA and |uB|, both rounded up. */
static void head_row(pf_simindex *ix, size_t i) {
  const uint32_t dim = ix->dim;
  const float *x = ix->raw + i * dim;
  const int8_t *c = ix->codes + i * ix->dpad;
  int8_t *h = ix->head + i * ix->hpad;
  double norm = sqrt(ix->norm2[i]), s = ix->scale[i], ea = 0, tb = 0;
  memset(h, 0, ix->hpad);
  for (uint32_t k = 0; k < dim; k++) {
    uint32_t j = ix->perm[k];
    double u = (double)x[j] / norm;
    if (k < ix->hd) {
      h[k] = c[j];
      double e = u - s * (double)c[j];
      ea += e * e;
    } else {
      tb += u * u;
    }
  }
  double a = sqrt(ea) * (1 + 1e-12) + 1e-30, b = sqrt(tb) * (1 + 1e-12) + (ix->hd < dim ? 1e-30 : 0);
  float fa = (float)a, fb = (float)b;
  if ((double)fa < a) fa = nextafterf(fa, INFINITY);
  if ((double)fb < b) fb = nextafterf(fb, INFINITY);
  ix->errh[i] = fa;
  ix->tail[i] = fb;
}

static int by_energy_desc(const void *a, const void *b, void *arg) {
  const double *e = arg;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (e[x] != e[y]) return e[x] < e[y] ? 1 : -1;
  return x < y ? -1 : x > y;
}

/* Ranks the dimensions by energy again and rebuilds every row's head. */
static void retune(pf_simindex *ix) {
  for (uint32_t j = 0; j < ix->dim; j++) ix->perm[j] = j;
  qsort_r(ix->perm, ix->dim, sizeof *ix->perm, by_energy_desc, ix->energy);
  for (size_t i = 0; i < ix->n; i++) head_row(ix, i);
  ix->tuned_at = ix->n;
}

int pf_simindex_add(pf_simindex *ix, const char *sha, const double *vec, uint32_t dim, const char *labels,
                    const char *split, char *err, size_t errlen) {
  if (!ix || !vec) return fail(err, errlen, PF_EINVAL, "no index or no vector");
  uint8_t bin[PF_SHA256_LEN];
  if (!unhex(sha, bin)) return fail(err, errlen, PF_EINVAL, "sha256 must be 64 lower-case hex characters");
  if (dim != ix->dim) {
    if (err && errlen) snprintf(err, errlen, "vector has %u values, the index holds %u", dim, ix->dim);
    return PF_EINVAL;
  }
  float *f = malloc(dim * sizeof *f);
  if (!f) return fail(err, errlen, PF_ENOMEM, "out of memory");
  double n2;
  int rc = to_f32(vec, dim, f, &n2, err, errlen);
  if (rc != PF_OK) { free(f); return rc; }
  char *lab = NULL;
  if (labels && *labels) {
    size_t k = strnlen(labels, PF_SIMINDEX_MAX_LABELS - 1);
    lab = malloc(k + 1);
    if (!lab) { free(f); return fail(err, errlen, PF_ENOMEM, "out of memory"); }
    memcpy(lab, labels, k);
    lab[k] = '\0';
  }
  long at = find_bin(ix, bin);
  size_t i;
  if (at >= 0) {
    i = (size_t)at;
    if (ix->labels[i]) ix->label_bytes -= strlen(ix->labels[i]) + 1;
    free(ix->labels[i]);
  } else {
    if (ix->n == ix->cap && (rc = grow(ix)) != PF_OK) {
      free(f);
      free(lab);
      return fail(err, errlen, rc, rc == PF_ELIMIT ? "the index is full" : "out of memory");
    }
    i = ix->n++;
    memcpy(ix->sha[i], bin, PF_SHA256_LEN);
    slot_put(ix, (uint32_t)i);
  }
  int8_t *c = ix->codes + i * ix->dpad;
  memset(c, 0, ix->dpad);
  ix->scale[i] = quantise(f, dim, n2, 127, c, 0, &ix->err[i]);
  if (at >= 0) /* the replaced vector's share of the ranking goes */
    for (uint32_t j = 0; j < dim; j++) {
      double u = (double)ix->raw[i * dim + j] / sqrt(ix->norm2[i]);
      ix->energy[j] = fmax(0, ix->energy[j] - u * u);
    }
  for (uint32_t j = 0; j < dim; j++) {
    double u = (double)f[j] / sqrt(n2);
    ix->energy[j] += u * u;
  }
  memcpy(ix->raw + i * dim, f, dim * sizeof *f);
  ix->norm2[i] = n2;
  head_row(ix, i);
  ix->labels[i] = lab;
  if (lab) ix->label_bytes += strlen(lab) + 1;
  int sp = 3;
  for (int k = 0; k < 3 && split; k++)
    if (strcmp(split, split_names[k]) == 0) sp = k;
  ix->split[i] = (uint8_t)sp;
  free(f);
  if (ix->hd < dim && ix->n >= RETUNE_MIN && ix->n >= 2 * ix->tuned_at) retune(ix);
  return PF_OK;
}

/* ---- the scan ---- */

/* c.d over n values: int8 row times int16 query; |sum| < 2^31 by the
 * query's code range (see query_codes). One clone per instruction set. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static int32_t dot_i8_i16(const int8_t *restrict a, const int16_t *restrict b, uint32_t n) {
  int32_t s = 0;
  for (uint32_t j = 0; j < n; j++) s += (int32_t)a[j] * (int32_t)b[j];
  return s;
}

typedef struct {
  uint32_t idx;
  double upper, lower; /* bounds of the row's similarity */
} cand;

typedef struct {
  const pf_simindex *ix;
  const int16_t *qc;  /* full query codes, natural order (dpad) */
  const int16_t *qh;  /* head query codes, perm order (hpad) */
  double qscale;      /* t */
  double qerr;        /* F: the full query's quantisation error */
  double qerrh;       /* FA: its head part */
  double qtail;       /* |qB|: the unit query's norm off the head */
  double threshold;
  size_t lo, hi;
  cand *c;
  size_t n, cap;
  int oom;
} scan_job;

static void *scan_rows(void *arg) {
  scan_job *job = arg;
  const pf_simindex *ix = job->ix;
  const uint32_t dpad = ix->dpad, hpad = ix->hpad;
  const double F = job->qerr, FA = job->qerrh, QB = job->qtail, t = job->threshold, ts = job->qscale;
  for (size_t r = job->lo; r < job->hi; r++) {
    double s = (double)ix->scale[r] * ts;
    double approx = s * (double)dot_i8_i16(ix->head + r * hpad, job->qh, hpad);
    double EA = ix->errh[r], tb = (double)ix->tail[r] * QB;
    double b = EA + (1 + EA) * FA + tb + SLACK;
    if (approx + b < t) continue;
    double up = approx + b, low = approx - b;
    if (tb > EA + FA) { /* the head says little about this row: its full codes too */
      double af = s * (double)dot_i8_i16(ix->codes + r * dpad, job->qc, dpad);
      double E = ix->err[r], bf = E + (1 + E) * F + SLACK;
      if (af + bf < up) up = af + bf;
      if (af - bf > low) low = af - bf;
      if (up < t) continue;
    }
    if (job->n == job->cap) {
      size_t cap = job->cap ? job->cap * 2 : 1024;
      cand *p = realloc(job->c, cap * sizeof *p);
      if (!p) { job->oom = 1; return NULL; }
      job->c = p;
      job->cap = cap;
    }
    job->c[job->n++] = (cand){(uint32_t)r, up, low};
  }
  return NULL;
}

/* Exact similarity of the float32 query qf (dot(q,q) = qn2) and row r. */
static double exact_sim(const pf_simindex *ix, const double *qd, double qn2, uint32_t r) {
  const float *x = ix->raw + (size_t)r * ix->dim;
  double d = 0;
  for (uint32_t j = 0; j < ix->dim; j++) d += qd[j] * (double)x[j];
  return d / sqrt(qn2 * ix->norm2[r]);
}

/* a ranks after b: lower similarity, or equal and a larger sha */
static int worse(const pf_simindex *ix, const pf_simhit *a, const pf_simhit *b) {
  if (a->similarity != b->similarity) return a->similarity < b->similarity;
  return memcmp(ix->sha[a->idx], ix->sha[b->idx], PF_SHA256_LEN) > 0;
}

/* min-heap on "worse": the root is the worst kept hit */
static void heap_down(const pf_simindex *ix, pf_simhit *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && worse(ix, &h[l], &h[m])) m = l;
    if (r < n && worse(ix, &h[r], &h[m])) m = r;
    if (m == i) return;
    pf_simhit tmp = h[i];
    h[i] = h[m];
    h[m] = tmp;
    i = m;
  }
}

static void heap_up(const pf_simindex *ix, pf_simhit *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(ix, &h[i], &h[p])) return;
    pf_simhit tmp = h[i];
    h[i] = h[p];
    h[p] = tmp;
    i = p;
  }
}

static int by_upper_desc(const void *a, const void *b) {
  double x = ((const cand *)a)->upper, y = ((const cand *)b)->upper;
  return x < y ? 1 : x > y ? -1 : 0;
}

static const pf_simindex *sort_ix; /* for qsort of hits (queries do not run concurrently with each other's sort) */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;
static int by_rank(const void *a, const void *b) {
  const pf_simhit *x = a, *y = b;
  if (worse(sort_ix, x, y)) return 1;
  if (worse(sort_ix, y, x)) return -1;
  return 0;
}

/* k-th largest (1 <= k <= n) of v[0..n), reordering v (three-way quickselect) */
static double kth_largest(double *v, size_t n, size_t k) {
  long lo = 0, hi = (long)n - 1, want = (long)k - 1;
  while (lo < hi) {
    double p = v[lo + (hi - lo) / 2];
    long a = lo, i = lo, b = hi;
    while (i <= b) { /* [lo,a) > p, [a,i) == p, (b,hi] < p */
      double x = v[i];
      if (x > p) { v[i] = v[a]; v[a++] = x; i++; }
      else if (x < p) { v[i] = v[b]; v[b--] = x; }
      else i++;
    }
    if (want < a) hi = a - 1;
    else if (want > b) lo = b + 1;
    else return p;
  }
  return v[want];
}

/* The query's int16 codes (full, and the head in perm order), scale and
 * error bounds; the largest code keeps dpad * 127 * qmax < 2^31. */
static void query_codes(const pf_simindex *ix, const float *qf, double qn2, int16_t *qc, int16_t *qh, double *qs,
                        double *qe, double *qeh, double *qtail) {
  long qmax = 2147483647L / ((long)ix->dpad * 127);
  if (qmax > 32767) qmax = 32767;
  memset(qc, 0, ix->dpad * sizeof *qc);
  memset(qh, 0, ix->hpad * sizeof *qh);
  float b;
  float sc = quantise(qf, ix->dim, qn2, (int)qmax, qc, 1, &b);
  *qs = sc;
  *qe = b;
  double norm = sqrt(qn2), ea = 0, tb = 0;
  for (uint32_t k = 0; k < ix->dim; k++) {
    uint32_t j = ix->perm[k];
    double u = (double)qf[j] / norm;
    if (k < ix->hd) {
      qh[k] = qc[j];
      double e = u - (double)sc * (double)qc[j];
      ea += e * e;
    } else {
      tb += u * u;
    }
  }
  *qeh = sqrt(ea) * (1 + 1e-12) + 1e-30;
  *qtail = sqrt(tb) * (1 + 1e-12) + (ix->hd < ix->dim ? 1e-30 : 0);
}

static int run_query(const pf_simindex *ix, const float *qf, double qn2, double threshold, size_t top,
                     pf_simhit *hits, size_t *nhits, pf_simstats *st, char *err, size_t errlen) {
  pf_simstats stats = {0};
  *nhits = 0;
  if (st) *st = stats;
  if (ix->n == 0) return PF_OK;
  int16_t *qc = malloc((ix->dpad + ix->hpad) * sizeof(int16_t));
  double *qd = malloc(ix->dim * sizeof *qd);
  int nt = ix->n < PAR_MIN_ROWS ? 1 : ix->threads;
  scan_job *jobs = calloc((size_t)nt, sizeof *jobs);
  if (!qc || !qd || !jobs) {
    free(qc);
    free(qd);
    free(jobs);
    return fail(err, errlen, PF_ENOMEM, "out of memory");
  }
  int16_t *qh = qc + ix->dpad;
  for (uint32_t j = 0; j < ix->dim; j++) qd[j] = qf[j];
  double qs, qe, qeh, qtail;
  query_codes(ix, qf, qn2, qc, qh, &qs, &qe, &qeh, &qtail);
  pthread_t tid[64];
  int started[64] = {0};
  for (int k = 0; k < nt; k++) {
    jobs[k] = (scan_job){.ix = ix, .qc = qc, .qh = qh, .qscale = qs, .qerr = qe, .qerrh = qeh, .qtail = qtail,
                         .threshold = threshold,
                         .lo = ix->n * (size_t)k / (size_t)nt, .hi = ix->n * (size_t)(k + 1) / (size_t)nt};
    if (k > 0) started[k] = pthread_create(&tid[k], NULL, scan_rows, &jobs[k]) == 0;
  }
  scan_rows(&jobs[0]);
  for (int k = 1; k < nt; k++) {
    if (started[k]) pthread_join(tid[k], NULL);
    else scan_rows(&jobs[k]);
  }
  int rc = PF_OK;
  size_t nc = 0;
  for (int k = 0; k < nt; k++) {
    if (jobs[k].oom) rc = PF_ENOMEM;
    nc += jobs[k].n;
  }
  cand *c = NULL;
  if (rc == PF_OK && nc > 0) {
    if (nt == 1) {
      c = jobs[0].c;
      jobs[0].c = NULL;
    } else if ((c = malloc(nc * sizeof *c)) != NULL) {
      size_t at = 0;
      for (int k = 0; k < nt; k++) {
        if (jobs[k].n) memcpy(c + at, jobs[k].c, jobs[k].n * sizeof *c);
        at += jobs[k].n;
      }
    } else rc = PF_ENOMEM;
  }
  for (int k = 0; k < nt; k++) free(jobs[k].c);
  free(jobs);
  free(qc);
  stats.scanned = ix->n;
  stats.candidates = nc;
  if (rc != PF_OK) {
    free(qd);
    free(c);
    return fail(err, errlen, rc, "out of memory");
  }
  /* more candidates than top: rows whose upper bound is below the top-th
   * best lower bound can never make the top */
  double cut = threshold;
  if (nc > top) {
    double *low = malloc(nc * sizeof *low);
    if (low) {
      for (size_t i = 0; i < nc; i++) low[i] = c[i].lower;
      double lk = kth_largest(low, nc, top);
      if (lk > cut) cut = lk;
      free(low);
    }
    size_t keep = 0;
    for (size_t i = 0; i < nc; i++)
      if (c[i].upper >= cut) c[keep++] = c[i];
    nc = keep;
  }
  if (nc > 1) qsort(c, nc, sizeof *c, by_upper_desc);
  size_t nh = 0;
  for (size_t i = 0; i < nc; i++) {
    if (nh == top && c[i].upper < hits[0].similarity) break; /* none left can enter */
    double s = exact_sim(ix, qd, qn2, c[i].idx);
    stats.reranked++;
    if (!(s >= threshold)) continue;
    stats.above++;
    pf_simhit h = {c[i].idx, s};
    if (nh < top) {
      hits[nh] = h;
      heap_up(ix, hits, nh++);
    } else if (worse(ix, &hits[0], &h)) {
      hits[0] = h;
      heap_down(ix, hits, nh, 0);
    }
  }
  free(c);
  free(qd);
  pthread_mutex_lock(&sort_lock);
  sort_ix = ix;
  if (nh > 1) qsort(hits, nh, sizeof *hits, by_rank);
  pthread_mutex_unlock(&sort_lock);
  *nhits = nh;
  if (st) *st = stats;
  return PF_OK;
}

static int check_args(double threshold, size_t top, pf_simhit *hits, size_t *nhits, char *err, size_t errlen) {
  if (!hits || !nhits) return fail(err, errlen, PF_EINVAL, "no room for hits");
  if (!(threshold >= -1 && threshold <= 1)) return fail(err, errlen, PF_EINVAL, "threshold must be in [-1, 1]");
  if (top < 1 || top > PF_SIMINDEX_MAX_TOP) {
    if (err && errlen) snprintf(err, errlen, "top must be 1-%d", PF_SIMINDEX_MAX_TOP);
    return PF_EINVAL;
  }
  return PF_OK;
}

int pf_simindex_query(const pf_simindex *ix, const double *q, uint32_t dim, double threshold, size_t top,
                      pf_simhit *hits, size_t *nhits, pf_simstats *st, char *err, size_t errlen) {
  if (!ix || !q) return fail(err, errlen, PF_EINVAL, "no index or no vector");
  int rc = check_args(threshold, top, hits, nhits, err, errlen);
  if (rc != PF_OK) return rc;
  if (dim != ix->dim) {
    if (err && errlen) snprintf(err, errlen, "vector has %u values, expected %u", dim, ix->dim);
    return PF_EINVAL;
  }
  float *qf = malloc(dim * sizeof *qf);
  if (!qf) return fail(err, errlen, PF_ENOMEM, "out of memory");
  double qn2;
  rc = to_f32(q, dim, qf, &qn2, err, errlen);
  if (rc == PF_OK) rc = run_query(ix, qf, qn2, threshold, top, hits, nhits, st, err, errlen);
  free(qf);
  return rc;
}

int pf_simindex_query_sha(const pf_simindex *ix, const char *sha, double threshold, size_t top, pf_simhit *hits,
                          size_t *nhits, pf_simstats *st, char *err, size_t errlen) {
  if (!ix) return fail(err, errlen, PF_EINVAL, "no index");
  int rc = check_args(threshold, top, hits, nhits, err, errlen);
  if (rc != PF_OK) return rc;
  uint8_t bin[PF_SHA256_LEN];
  if (!unhex(sha, bin)) return fail(err, errlen, PF_EINVAL, "sha256 must be 64 lower-case hex characters");
  long at = find_bin(ix, bin);
  if (at < 0) return fail(err, errlen, PF_ENOENT, "unknown sha256: no stored vector for this sample");
  return run_query(ix, ix->raw + (size_t)at * ix->dim, ix->norm2[at], threshold, top, hits, nhits, st, err,
                   errlen);
}
