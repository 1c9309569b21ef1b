/* fuzz_pe: libFuzzer target for the parsing code that lives outside LIEF.
 * Runs pf_pe_sniff and pf_pe_read over the input bytes and, when the read
 * succeeds, the LIEF-0.9 address rules and pf_ergo486_encode over the bytes
 * plus that view; every output is checked and a violation abort()s so the
 * fuzzer reports it. Built by `make fuzz`, run by `make fuzz-run`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EPS 1e-9
#define FUZZ_MAX_IMPORTS 8 /* imports the target makes up per input */

static void fuzz_fail(const char *what, int line) {
  fprintf(stderr, "fuzz_pe: invariant violated (fuzz_pe.c:%d): %s\n", line, what);
  abort();
}
#define CHECK(cond) do { if (!(cond)) fuzz_fail(#cond, __LINE__); } while (0)

static int is_code(int rc) { return rc <= PF_OK && rc >= PF_ENOENT; }

/* An error message is set, printable and NUL-terminated inside its buffer. */
static void check_message(const char *err, size_t errlen) {
  size_t n = strnlen(err, errlen);
  CHECK(n < errlen);
  CHECK(n > 0);
}

/* ---- independent references (written apart from the library on purpose) ---- */

static double ref_entropy(const uint8_t *buf, size_t len) {
  if (len == 0) return 0.0;
  size_t freq[256] = {0};
  for (size_t i = 0; i < len; i++) freq[buf[i]]++;
  double e = 0.0;
  for (int b = 0; b < 256; b++) {
    if (!freq[b]) continue;
    double p = (double)freq[b] / (double)len;
    e -= p * log2(p);
  }
  return e;
}

static int ref_contains(const pf_pe_section *s, uint64_t off) {
  return off >= s->raw_off && off - s->raw_off < s->raw_size;
}

static void lower_copy(char *dst, const char *src, size_t cap) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; i++) {
    char c = src[i];
    dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  dst[i] = '\0';
}

/* The seed: dict keyed by lower-cased DLL name (last descriptor wins), then
 * lookup of "lib" before "lib.dll". lowered[i] is imports[i].name in lower
 * case. Returns -1 when neither is present. */
static int64_t ref_import_count(const pf_pe_view *v, char (*lowered)[PF_PE_MAX_DLLNAME], const char *lib) {
  char want[PF_PE_MAX_DLLNAME + 8];
  for (int pass = 0; pass < 2; pass++) {
    snprintf(want, sizeof want, "%s%s", lib, pass ? ".dll" : "");
    for (uint32_t i = v->n_imports; i-- > 0;)
      if (strcmp(lowered[i], want) == 0) return v->imports[i].n_entries;
  }
  return -1;
}

/* ---- synthetic imports: pf_pe_read leaves them to LIEF, so the target
 * makes some from the input's last bytes to reach the import rules. ---- */

static void make_import(pf_pe_import *imp, uint8_t pick, uint8_t how, uint8_t count) {
  const char *base = pf_ergo486_libs[pick % PF_E486_NLIBS];
  char *n = imp->name;
  size_t cap = sizeof imp->name;
  switch (how & 7) {
  case 0: snprintf(n, cap, "%s", base); break;
  case 1: snprintf(n, cap, "%s.dll", base); break;
  case 2: snprintf(n, cap, "%s.DLL", base); for (char *p = n; *p; p++) if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32); break;
  case 3: snprintf(n, cap, "%s.dl", base); break;             /* near miss */
  case 4: snprintf(n, cap, "%.*s", (int)(strlen(base) - 1), base); break; /* prefix only */
  case 5: n[0] = '\0'; break;
  case 6: snprintf(n, cap, "%s.dll.dll", base); break;
  default: memset(n, 'A' + (pick % 26), cap - 1); n[cap - 1] = '\0'; break;
  }
  imp->n_entries = (how & 0x80) ? (uint32_t)count * 0x01010101u : count;
}

static int attach_imports(const uint8_t *data, size_t size, pf_pe_view *v) {
  if (size < 1) return 0;
  uint32_t n = data[size - 1] % (FUZZ_MAX_IMPORTS + 1);
  if (n == 0 || size < 1 + 3 * (size_t)n) return 0;
  v->imports = calloc(n, sizeof *v->imports);
  if (!v->imports) return -1;
  const uint8_t *p = data + size - 1 - 3 * (size_t)n;
  for (uint32_t i = 0; i < n; i++) make_import(&v->imports[i], p[3 * i], p[3 * i + 1], p[3 * i + 2]);
  v->n_imports = n;
  return 0;
}

/* ---- checks ---- */

static uint64_t tail_u64(const uint8_t *data, size_t size, size_t k) {
  if (size < 8 * (k + 1)) return 0;
  return pf_rd64(data + size - 8 * (k + 1));
}

static void check_view(const uint8_t *data, size_t size, const pf_pe_view *v) {
  CHECK(size >= 64);
  CHECK(v->e_lfanew == pf_rd32(data + 0x3c));
  CHECK(pf_pe_fits(size, v->e_lfanew, 26));
  uint16_t magic = pf_rd16(data + v->e_lfanew + 24);
  CHECK(v->pe32plus == (magic == 0x20b));
  CHECK(v->n_sections <= pf_rd16(data + v->e_lfanew + 6));
  CHECK(v->n_sections <= PF_PE_MAX_SECTIONS);
  CHECK(v->n_sections == 0 || v->sections != NULL);
  CHECK(v->n_imports == 0 && v->imports == NULL);
  for (uint32_t i = 0; i < v->n_sections; i++) {
    const pf_pe_section *s = &v->sections[i];
    CHECK(isfinite(s->entropy) && s->entropy >= 0.0 && s->entropy <= 8.0 + EPS);
    if (i >= 8 && i + 1 < v->n_sections) continue; /* the reference costs as much as the read */
    size_t n = 0, off = 0;
    if (s->raw_off < size) {
      off = (size_t)s->raw_off;
      n = s->raw_size < size - off ? (size_t)s->raw_size : size - off;
    }
    CHECK(fabs(s->entropy - ref_entropy(data + off, n)) <= EPS);
  }
}

/* rva_to_offset, section_from_offset and virtual_size at the values the
 * input holds: directory RVAs, the entry point, section edges, its tail. */
static void check_addresses(const uint8_t *data, size_t size, const pf_pe_view *v) {
  uint64_t probes[PF_PE_NUM_DIRS + 4 + 6 * 8];
  size_t np = 0;
  for (int d = 0; d < PF_PE_NUM_DIRS; d++) probes[np++] = v->dirs[d].rva;
  probes[np++] = v->entrypoint;
  for (size_t k = 0; k < 3; k++) probes[np++] = tail_u64(data, size, k);
  for (uint32_t i = 0; i < v->n_sections && i < 8; i++) {
    const pf_pe_section *s = &v->sections[i];
    probes[np++] = s->va;
    probes[np++] = s->va + s->vsize - 1;
    probes[np++] = s->va + s->vsize;
    probes[np++] = s->raw_off;
    probes[np++] = s->raw_off + s->raw_size - 1;
    probes[np++] = s->raw_off + s->raw_size;
  }
  for (size_t k = 0; k < np; k++) {
    uint64_t x = probes[k];
    long idx = pf_pe_section_from_offset(v, x);
    CHECK(idx >= -1 && idx < (long)v->n_sections);
    for (long i = 0; i < (idx < 0 ? (long)v->n_sections : idx); i++) CHECK(!ref_contains(&v->sections[i], x));
    if (idx >= 0) CHECK(ref_contains(&v->sections[idx], x));

    uint64_t off = pf_pe_rva_to_offset(v, x);
    int inside = 0;
    for (uint32_t i = 0; i < v->n_sections && !inside; i++) {
      const pf_pe_section *s = &v->sections[i];
      if (x >= s->va && x - s->va < s->vsize) {
        inside = 1;
        uint32_t sa = v->section_alignment < 0x1000 ? v->file_alignment : v->section_alignment;
        if (sa <= 1 && v->file_alignment <= 1) CHECK(off == x - s->va + s->raw_off);
      }
    }
    if (!inside) CHECK(off == (uint32_t)x);
  }

  uint64_t vs = pf_pe_virtual_size(v);
  uint64_t floor = (uint64_t)v->e_lfanew + 24 + (v->pe32plus ? 112 : 96);
  uint64_t hi = floor;
  for (uint32_t i = 0; i < v->n_sections; i++) {
    uint64_t end = v->sections[i].va + v->sections[i].vsize;
    if (end > hi) hi = end;
  }
  CHECK(vs >= hi);
  if (v->section_alignment) {
    CHECK(vs % v->section_alignment == 0);
    CHECK(vs - hi < v->section_alignment);
  } else {
    CHECK(vs == hi);
  }
}

static void check_vector(const uint8_t *data, size_t size, const pf_pe_view *v, const double *x) {
  for (int i = 0; i < PF_ERGO486_DIM; i++) CHECK(isfinite(x[i]));

  /* properties: 0/1, with the rules that need no LIEF checked exactly */
  const double *p = x + PF_E486_PROPS;
  for (int i = 0; i < PF_E486_NPROPS; i++) CHECK(p[i] == 0.0 || p[i] == 1.0);
  CHECK(p[PF_P_EXCEPTIONS] == 0.0);
  CHECK(p[PF_P_NX] == ((v->dll_characteristics & 0x100) ? 1.0 : 0.0));
  CHECK(p[PF_P_IMPORTS] == (v->n_imports > 0 ? 1.0 : 0.0));
  static const int in_section[][2] = {
    {PF_P_DEBUG, PF_DIR_DEBUG}, {PF_P_RELOCATIONS, PF_DIR_BASERELOC}, {PF_P_RESOURCES, PF_DIR_RESOURCE},
    {PF_P_TLS, PF_DIR_TLS}, {PF_P_CONFIGURATION, PF_DIR_LOAD_CONFIG},
  };
  for (size_t i = 0; i < sizeof in_section / sizeof in_section[0]; i++) {
    uint32_t rva = v->dirs[in_section[i][1]].rva;
    if (p[in_section[i][0]] == 1.0) {
      CHECK(rva != 0);
      CHECK(pf_pe_section_from_offset(v, pf_pe_rva_to_offset(v, rva)) >= 0);
    }
  }
  if (p[PF_P_EXPORTS] == 1.0) CHECK(v->dirs[PF_DIR_EXPORT].rva != 0);
  if (p[PF_P_SIGNATURE] == 1.0) {
    uint32_t off = v->dirs[PF_DIR_SECURITY].rva;
    CHECK(off != 0 && pf_pe_fits(size, off, 8));
    uint32_t length = pf_rd32(data + off);
    CHECK(length >= 19 && pf_pe_fits(size, off, length) && data[off + 8] == 0x30);
  }
  if (p[PF_P_RICH] == 1.0) {
    CHECK(v->e_lfanew <= size);
    int found = 0;
    for (uint64_t i = 64; i + 8 <= v->e_lfanew && !found; i++) found = memcmp(data + i, "Rich", 4) == 0;
    CHECK(found);
  }

  /* entry point bytes: raw[ep + i] / 255, 0 past the end */
  for (int i = 0; i < 64; i++) {
    uint64_t at = (uint64_t)v->entrypoint + (uint64_t)i;
    CHECK(x[PF_E486_EP + i] == (at < size ? data[at] / 255.0 : 0.0));
  }

  /* byte histogram: exact counts / size, summing to 1 */
  size_t count[256] = {0};
  for (size_t i = 0; i < size; i++) count[data[i]]++;
  double sum = 0.0;
  for (int b = 0; b < 256; b++) {
    CHECK(x[PF_E486_HIST + b] == (double)count[b] / (double)size);
    sum += x[PF_E486_HIST + b];
  }
  CHECK(fabs(sum - 1.0) <= EPS);

  /* imports: the seed's lookup, normalised; sums to 1 or is all 0 */
  double want[PF_E486_NLIBS], total = 0.0;
  char lowered[FUZZ_MAX_IMPORTS][PF_PE_MAX_DLLNAME];
  CHECK(v->n_imports <= FUZZ_MAX_IMPORTS);
  for (uint32_t i = 0; i < v->n_imports; i++) lower_copy(lowered[i], v->imports[i].name, sizeof lowered[i]);
  for (int i = 0; i < PF_E486_NLIBS; i++) {
    int64_t n = ref_import_count(v, lowered, pf_ergo486_libs[i]);
    want[i] = n > 0 ? (double)n : 0.0;
    total += want[i];
  }
  sum = 0.0;
  for (int i = 0; i < PF_E486_NLIBS; i++) {
    double w = total > 0 ? want[i] / total : 0.0, got = x[PF_E486_IMPORTS + i];
    CHECK(got >= 0.0 && got <= 1.0);
    CHECK(fabs(got - w) <= EPS);
    sum += got;
  }
  CHECK(total > 0 ? fabs(sum - 1.0) <= EPS : sum == 0.0);

  /* section group: ratios in [0, 1], counts exact */
  for (int i = PF_E486_VSIZE; i < PF_ERGO486_DIM; i++) CHECK(x[i] >= 0.0 && x[i] <= 1.0 + EPS);
  uint32_t code = 0, exec = 0;
  for (uint32_t i = 0; i < v->n_sections; i++) {
    code += (v->sections[i].characteristics & 0x20u) != 0;
    exec += (v->sections[i].characteristics & 0x20000000u) != 0;
  }
  CHECK(x[PF_E486_CODE] == (v->n_sections ? (double)code / v->n_sections : 0.0));
  CHECK(x[PF_E486_PEC] == (v->n_sections ? (double)exec / v->n_sections : 0.0));
  double vsize = (double)pf_pe_virtual_size(v), fsz = (double)size;
  CHECK(x[PF_E486_VSIZE] == (fsz < vsize ? fsz / vsize : vsize / fsz));
}

/* Each group on its own gives what the whole vector holds. */
static void check_groups(const uint8_t *data, size_t size, const pf_pe_view *v, const double *x) {
  double g[256];
  pf_ergo486_properties(data, size, v, g);
  CHECK(memcmp(g, x + PF_E486_PROPS, PF_E486_NPROPS * sizeof *g) == 0);
  pf_ergo486_entrypoint(data, size, v->entrypoint, g);
  CHECK(memcmp(g, x + PF_E486_EP, 64 * sizeof *g) == 0);
  pf_ergo486_histogram(data, size, g);
  CHECK(memcmp(g, x + PF_E486_HIST, 256 * sizeof *g) == 0);
  pf_ergo486_imports(v, g);
  CHECK(memcmp(g, x + PF_E486_IMPORTS, PF_E486_NLIBS * sizeof *g) == 0);
  pf_ergo486_sections(size, v, g);
  CHECK(memcmp(g, x + PF_E486_VSIZE, 5 * sizeof *g) == 0);
}

/* Feature names: any index, any buffer size (the first three input bytes). */
static void check_name(const uint8_t *data, size_t size) {
  if (size < 3) return;
  char buf[48];
  int i = (int)(pf_rd16(data) % 640) - 80;
  size_t buflen = data[2] % sizeof buf;
  memset(buf, 'x', sizeof buf);
  int rc = pf_ergo486_name(i, buf, buflen);
  CHECK(rc == PF_OK || rc == PF_EINVAL);
  if (i < 0 || i >= PF_ERGO486_DIM) CHECK(rc == PF_EINVAL);
  if (rc == PF_OK) CHECK(buflen > 0 && strnlen(buf, buflen) < buflen && buf[0] != '\0');
  for (size_t k = buflen; k < sizeof buf; k++) CHECK(buf[k] == 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[160], small[6];

  check_name(data, size);

  int sniff = pf_pe_sniff(data, size, err, sizeof err);
  CHECK(is_code(sniff));
  if (sniff != PF_OK) check_message(err, sizeof err);
  CHECK(pf_pe_sniff(data, size, NULL, 0) == sniff);
  CHECK(pf_pe_sniff(data, size, small, sizeof small) == sniff);
  if (sniff != PF_OK) CHECK(strnlen(small, sizeof small) < sizeof small);

  pf_pe_view v;
  int rc = pf_pe_read(data, size, &v, err, sizeof err);
  CHECK(is_code(rc));
  if (rc != PF_OK) {
    check_message(err, sizeof err);
    CHECK(v.sections == NULL && v.imports == NULL && v.n_sections == 0);
    pf_pe_view_destroy(&v); /* safe on what a failed read leaves */
    return 0;
  }
  CHECK(sniff == PF_OK); /* read is stricter than sniff */
  check_view(data, size, &v);
  check_addresses(data, size, &v);
  if (attach_imports(data, size, &v) != 0) {
    pf_pe_view_destroy(&v);
    return 0;
  }

  double x[PF_ERGO486_DIM];
  CHECK(pf_ergo486_encode(data, size, &v, x) == PF_OK);
  check_vector(data, size, &v, x);
  check_groups(data, size, &v, x);

  pf_pe_view_destroy(&v);
  CHECK(v.sections == NULL && v.imports == NULL && v.n_sections == 0 && v.n_imports == 0);
  pf_pe_view_destroy(&v);
  return 0;
}
