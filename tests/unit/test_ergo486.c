/* Unit tests of the ergo486 feature groups on small synthetic inputs:
 * byte arrays and hand-filled pf_pe_view structs, exact expected values. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_pe.h"

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}

/* ---- properties ---------------------------------------------------------
 * One section: va 0x1000, vsize 0x1000, raw [0x200, 0x400); alignments
 * 0x1000/0x200, so rva 0x1000+x maps to offset 0x200+x, and that offset is
 * inside the section's raw range for x < 0x200. The file is 0x400 bytes. */
#define PSZ 0x400
typedef struct {
  uint8_t raw[PSZ];
  pf_pe_section sec[1];
  pf_pe_import imp[1];
  pf_pe_view v;
  double out[PF_E486_NPROPS];
} pfix;

static void pfix_init(pfix *f) {
  memset(f, 0, sizeof *f);
  f->raw[0] = 'M';
  f->raw[1] = 'Z';
  put32(f->raw + 0x3c, 0x80);
  memcpy(f->raw + 0x80, "PE\0\0", 4);
  f->sec[0] = (pf_pe_section){.va = 0x1000, .vsize = 0x1000, .raw_off = 0x200, .raw_size = 0x200,
                              .characteristics = 0x60000020};
  f->v.e_lfanew = 0x80;
  f->v.section_alignment = 0x1000;
  f->v.file_alignment = 0x200;
  f->v.n_sections = 1;
  f->v.sections = f->sec;
}

static const double *props(pfix *f, size_t sz) {
  for (int i = 0; i < PF_E486_NPROPS; i++) f->out[i] = -1.0;
  pf_ergo486_properties(f->raw, sz, &f->v, f->out);
  return f->out;
}

/* Every property is 0.0 except `only` (1.0); only = -1 for none. */
static void expect_only(const double *out, int only) {
  for (int i = 0; i < PF_E486_NPROPS; i++) {
    if (out[i] != (i == only ? 1.0 : 0.0)) print_error("property %d is %g (expected only %d set)\n", i, out[i], only);
    assert_true(out[i] == (i == only ? 1.0 : 0.0));
  }
}

static void test_props_none(void **state) {
  pfix f;
  pfix_init(&f);
  expect_only(props(&f, PSZ), -1);
}

static void test_props_configuration(void **state) {
  pfix f;
  pfix_init(&f);
  f.v.dirs[PF_DIR_LOAD_CONFIG] = (pf_pe_dir){0x1010, 0x48};
  put32(f.raw + 0x210, 0x48); /* the structure's own size field */
  expect_only(props(&f, PSZ), PF_P_CONFIGURATION);

  /* PE32+: the smallest 64-bit layout is 0x70 bytes */
  f.v.pe32plus = 1;
  f.v.dirs[PF_DIR_LOAD_CONFIG].size = 0x70;
  put32(f.raw + 0x210, 0x70);
  expect_only(props(&f, PSZ), PF_P_CONFIGURATION);
  f.v.pe32plus = 0;

  /* the layout read is the largest that fits in min(dir size, size field):
   * 0x5c bytes do not fit in a file ending 0x50 bytes after the structure,
   * 0x48 bytes do */
  put32(f.raw + 0x210, 0x1000);
  f.v.dirs[PF_DIR_LOAD_CONFIG].size = 0x5c;
  expect_only(props(&f, 0x260), -1);
  f.v.dirs[PF_DIR_LOAD_CONFIG].size = 0x48;
  expect_only(props(&f, 0x260), PF_P_CONFIGURATION);
  put32(f.raw + 0x210, 0x5c); /* size field smaller than dir size: 0x5c */
  f.v.dirs[PF_DIR_LOAD_CONFIG].size = 0x1000;
  expect_only(props(&f, 0x260), -1);
  expect_only(props(&f, 0x210 + 0x5c), PF_P_CONFIGURATION);

  /* negatives: no RVA; RVA whose offset is outside every raw range */
  put32(f.raw + 0x210, 0x48);
  f.v.dirs[PF_DIR_LOAD_CONFIG] = (pf_pe_dir){0, 0x48};
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[PF_DIR_LOAD_CONFIG] = (pf_pe_dir){0x1300, 0x48}; /* -> offset 0x500 */
  expect_only(props(&f, PSZ), -1);
  /* the file ends before the 0x48-byte structure */
  f.v.dirs[PF_DIR_LOAD_CONFIG] = (pf_pe_dir){0x1010, 0x48};
  expect_only(props(&f, 0x220), -1);
}

/* debug, relocations, TLS: RVA non-zero and mapping into a raw range. */
static void check_dir_prop(int dir, int prop) {
  pfix f;
  pfix_init(&f);
  f.v.dirs[dir] = (pf_pe_dir){0x1020, 0x1c};
  expect_only(props(&f, PSZ), prop);
  f.v.dirs[dir] = (pf_pe_dir){0x11f0, 0x1c}; /* the last 16 bytes of the raw range */
  expect_only(props(&f, PSZ), prop);
  /* LIEF quirk: an RVA outside every section is used as the offset */
  f.v.dirs[dir] = (pf_pe_dir){0x300, 0x1c};
  expect_only(props(&f, PSZ), prop);

  f.v.dirs[dir] = (pf_pe_dir){0, 0x1c};
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[dir] = (pf_pe_dir){0x1200, 0x1c}; /* in the section, past its raw data */
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[dir] = (pf_pe_dir){0x100, 0x1c}; /* outside sections, offset 0x100 not raw */
  expect_only(props(&f, PSZ), -1);
}

static void test_props_debug(void **state) { check_dir_prop(PF_DIR_DEBUG, PF_P_DEBUG); }
static void test_props_relocations(void **state) { check_dir_prop(PF_DIR_BASERELOC, PF_P_RELOCATIONS); }
static void test_props_tls(void **state) { check_dir_prop(PF_DIR_TLS, PF_P_TLS); }

static void test_props_resources(void **state) {
  check_dir_prop(PF_DIR_RESOURCE, PF_P_RESOURCES);
  pfix f;
  pfix_init(&f);
  /* resources also need the 16-byte root directory inside the file, which
   * debug does not */
  f.v.dirs[PF_DIR_RESOURCE] = (pf_pe_dir){0x1010, 0x100};
  expect_only(props(&f, 0x220), PF_P_RESOURCES);
  expect_only(props(&f, 0x21f), -1);
  f.v.dirs[PF_DIR_RESOURCE] = (pf_pe_dir){0, 0};
  f.v.dirs[PF_DIR_DEBUG] = (pf_pe_dir){0x1010, 0x1c};
  expect_only(props(&f, 0x218), PF_P_DEBUG);
}

static void test_props_exports(void **state) {
  pfix f;
  pfix_init(&f);
  f.v.dirs[PF_DIR_EXPORT] = (pf_pe_dir){0x1100, 0x28}; /* offset 0x300 */
  expect_only(props(&f, PSZ), PF_P_EXPORTS);
  f.v.dirs[PF_DIR_EXPORT].rva = 0x11d8; /* offset 0x3d8: the last 40 bytes */
  expect_only(props(&f, PSZ), PF_P_EXPORTS);
  /* no section needed, only readable bytes: rva 0x100 is offset 0x100 */
  f.v.dirs[PF_DIR_EXPORT].rva = 0x100;
  expect_only(props(&f, PSZ), PF_P_EXPORTS);

  f.v.dirs[PF_DIR_EXPORT].rva = 0x11d9; /* 39 bytes left */
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[PF_DIR_EXPORT].rva = 0x13f0; /* offset 0x5f0, past the end */
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[PF_DIR_EXPORT].rva = 0;
  expect_only(props(&f, PSZ), -1);
}

static const uint8_t oid_signed_data[11] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};

/* WIN_CERTIFICATE at off: length, revision 0x200, type 2 (PKCS#7), then a
 * DER SEQUENCE with a 2-byte (short) or 4-byte (0x82) header and the OID. */
static void put_cert(uint8_t *raw, uint32_t off, uint32_t length, int long_form) {
  put32(raw + off, length);
  put16(raw + off + 4, 0x0200);
  put16(raw + off + 6, 0x0002);
  uint8_t *p = raw + off + 8;
  p[0] = 0x30;
  if (long_form) {
    p[1] = 0x82;
    p[2] = 0x01;
    p[3] = 0x00;
    memcpy(p + 4, oid_signed_data, sizeof oid_signed_data);
  } else {
    p[1] = 0x2e;
    memcpy(p + 2, oid_signed_data, sizeof oid_signed_data);
  }
}

static void test_props_signature(void **state) {
  pfix f;
  pfix_init(&f);
  put_cert(f.raw, 0x300, 0x30, 1);
  f.v.dirs[PF_DIR_SECURITY] = (pf_pe_dir){0x300, 0x30}; /* a file offset, not an RVA */
  expect_only(props(&f, PSZ), PF_P_SIGNATURE);
  pfix_init(&f);
  put_cert(f.raw, 0x100, 0x30, 0); /* outside every section: still read */
  f.v.dirs[PF_DIR_SECURITY] = (pf_pe_dir){0x100, 0x30};
  expect_only(props(&f, PSZ), PF_P_SIGNATURE);

  /* negatives */
  f.v.dirs[PF_DIR_SECURITY].rva = 0;
  expect_only(props(&f, PSZ), -1);
  f.v.dirs[PF_DIR_SECURITY].rva = 0x100;
  f.raw[0x108 + 2 + 10] = 0x01; /* 1.2.840.113549.1.7.1 (data), not SignedData */
  expect_only(props(&f, PSZ), -1);
  f.raw[0x108 + 2 + 10] = 0x02;
  f.raw[0x108] = 0x31; /* not a SEQUENCE */
  expect_only(props(&f, PSZ), -1);
  f.raw[0x108] = 0x30;
  expect_only(props(&f, PSZ), PF_P_SIGNATURE);
  put32(f.raw + 0x100, 8 + 10); /* too short to hold the OID */
  expect_only(props(&f, PSZ), -1);
  put32(f.raw + 0x100, 0x30);
  expect_only(props(&f, 0x12f), -1); /* the certificate runs past the end */
  expect_only(props(&f, 0x130), PF_P_SIGNATURE);
  f.v.dirs[PF_DIR_SECURITY].rva = PSZ - 4; /* header outside the file */
  expect_only(props(&f, PSZ), -1);
}

static void test_props_imports(void **state) {
  pfix f;
  pfix_init(&f);
  snprintf(f.imp[0].name, sizeof f.imp[0].name, "notlisted.dll");
  f.imp[0].n_entries = 0;
  f.v.imports = f.imp;
  f.v.n_imports = 1; /* a parsed descriptor, even unlisted and empty */
  expect_only(props(&f, PSZ), PF_P_IMPORTS);
  f.v.n_imports = 0;
  expect_only(props(&f, PSZ), -1);
}

static void test_props_nx(void **state) {
  pfix f;
  pfix_init(&f);
  f.v.dll_characteristics = 0x100;
  expect_only(props(&f, PSZ), PF_P_NX);
  f.v.dll_characteristics = 0x8160;
  expect_only(props(&f, PSZ), PF_P_NX);
  f.v.dll_characteristics = 0xfeff;
  expect_only(props(&f, PSZ), -1);
}

static void test_props_rich(void **state) {
  pfix f;
  pfix_init(&f);
  memcpy(f.raw + 0x70, "Rich", 4); /* key at 0x74..0x78, stub ends at 0x80 */
  expect_only(props(&f, PSZ), PF_P_RICH);
  pfix_init(&f);
  memcpy(f.raw + 0x78, "Rich", 4); /* key ends exactly at e_lfanew */
  expect_only(props(&f, PSZ), PF_P_RICH);

  pfix_init(&f);
  memcpy(f.raw + 0x7c, "Rich", 4); /* key would overlap the PE header */
  expect_only(props(&f, PSZ), -1);
  pfix_init(&f);
  memcpy(f.raw + 0x20, "Rich", 4); /* inside the DOS header, not the stub */
  expect_only(props(&f, PSZ), -1);
  pfix_init(&f);
  memcpy(f.raw + 0x90, "Rich", 4); /* after e_lfanew */
  expect_only(props(&f, PSZ), -1);
  pfix_init(&f);
  memcpy(f.raw + 0x70, "rich", 4); /* case matters */
  expect_only(props(&f, PSZ), -1);
  pfix_init(&f);
  memcpy(f.raw + 0x70, "Rich", 4);
  f.v.e_lfanew = PSZ + 0x10; /* stub end past the end of the file */
  expect_only(props(&f, PSZ), -1);
}

static void test_props_exceptions_always_zero(void **state) {
  pfix f;
  pfix_init(&f);
  f.v.dirs[PF_DIR_EXCEPTION] = (pf_pe_dir){0x1010, 0x30};
  expect_only(props(&f, PSZ), -1);
}

static void test_props_all(void **state) {
  pfix f;
  pfix_init(&f);
  memcpy(f.raw + 0x70, "Rich", 4);
  put32(f.raw + 0x210, 0x48);
  put_cert(f.raw, 0x100, 0x30, 0);
  f.v.dirs[PF_DIR_LOAD_CONFIG] = (pf_pe_dir){0x1010, 0x48};
  f.v.dirs[PF_DIR_DEBUG] = (pf_pe_dir){0x1060, 0x1c};
  f.v.dirs[PF_DIR_EXCEPTION] = (pf_pe_dir){0x1080, 0x30};
  f.v.dirs[PF_DIR_EXPORT] = (pf_pe_dir){0x10c0, 0x28};
  f.v.dirs[PF_DIR_BASERELOC] = (pf_pe_dir){0x1100, 0x10};
  f.v.dirs[PF_DIR_RESOURCE] = (pf_pe_dir){0x1120, 0x10};
  f.v.dirs[PF_DIR_SECURITY] = (pf_pe_dir){0x100, 0x30};
  f.v.dirs[PF_DIR_TLS] = (pf_pe_dir){0x1140, 0x18};
  f.v.dll_characteristics = 0x100;
  snprintf(f.imp[0].name, sizeof f.imp[0].name, "KERNEL32.dll");
  f.imp[0].n_entries = 3;
  f.v.imports = f.imp;
  f.v.n_imports = 1;
  const double *out = props(&f, PSZ);
  static const double want[PF_E486_NPROPS] = {1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  for (int i = 0; i < PF_E486_NPROPS; i++) assert_true(out[i] == want[i]);
}

/* ---- entry point bytes ---- */

static void test_entrypoint(void **state) {
  uint8_t raw[100];
  double out[64];
  for (int i = 0; i < 100; i++) raw[i] = (uint8_t)(i * 37 + 11);
  raw[20] = 255;
  raw[21] = 0;

  pf_ergo486_entrypoint(raw, sizeof raw, 10, out);
  for (int i = 0; i < 64; i++) assert_true(out[i] == raw[10 + i] / 255.0);
  assert_true(out[10] == 1.0);
  assert_true(out[11] == 0.0);

  /* 40 bytes left after offset 60: the rest is zero padding */
  pf_ergo486_entrypoint(raw, sizeof raw, 60, out);
  for (int i = 0; i < 40; i++) assert_true(out[i] == raw[60 + i] / 255.0);
  for (int i = 40; i < 64; i++) assert_true(out[i] == 0.0);

  /* last byte only */
  pf_ergo486_entrypoint(raw, sizeof raw, 99, out);
  assert_true(out[0] == raw[99] / 255.0);
  for (int i = 1; i < 64; i++) assert_true(out[i] == 0.0);

  /* at or beyond the end of the file, including where ep+i overflows 32 bits */
  const uint32_t eps[] = {100, 101, 0x10000, 0xffffffffu, 0xffffffc8u};
  for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
    for (int i = 0; i < 64; i++) out[i] = -1.0;
    pf_ergo486_entrypoint(raw, sizeof raw, eps[k], out);
    for (int i = 0; i < 64; i++) assert_true(out[i] == 0.0);
  }
}

/* ---- byte histogram ---- */

static void check_histogram(const uint8_t *raw, size_t sz) {
  double out[256];
  uint64_t count[256] = {0};
  for (size_t i = 0; i < sz; i++) count[raw[i]]++;
  pf_ergo486_histogram(raw, sz, out);
  double sum = 0.0;
  for (int b = 0; b < 256; b++) {
    if (out[b] != (double)count[b] / (double)sz)
      print_error("size %zu byte %02x: %.17g, expected %.17g\n", sz, b, out[b], (double)count[b] / (double)sz);
    assert_true(out[b] == (double)count[b] / (double)sz);
    sum += out[b];
  }
  assert_true(sum > 1.0 - 1e-12 && sum < 1.0 + 1e-12);
}

static void test_histogram(void **state) {
  uint8_t raw[1031];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof raw; i++) {
    x = x * 1103515245u + 12345u;
    raw[i] = (uint8_t)(x >> 16);
  }
  /* every size from 1 to 40 and a few larger odd ones: the loop is unrolled
   * by four, the tail must still be counted */
  for (size_t sz = 1; sz <= 40; sz++) check_histogram(raw, sz);
  check_histogram(raw, 1029);
  check_histogram(raw, 1030);
  check_histogram(raw, 1031);

  /* hand-checked: 5 bytes, tail of one */
  const uint8_t five[5] = {7, 7, 0, 255, 7};
  double out[256];
  pf_ergo486_histogram(five, 5, out);
  assert_true(out[7] == 0.6);
  assert_true(out[0] == 0.2);
  assert_true(out[255] == 0.2);
  assert_true(out[1] == 0.0);

  /* the same byte everywhere */
  memset(raw, 0xab, sizeof raw);
  pf_ergo486_histogram(raw, 7, out);
  for (int b = 0; b < 256; b++) assert_true(out[b] == (b == 0xab ? 1.0 : 0.0));
}

/* ---- imports ---- */

static int lib_index(const char *lib) {
  for (int i = 0; i < PF_E486_NLIBS; i++)
    if (strcmp(pf_ergo486_libs[i], lib) == 0) return i;
  fail_msg("library %s is not in the list", lib);
  return -1;
}

typedef struct {
  const char *name;
  uint32_t n;
} imp_spec;

static void run_imports(const imp_spec *spec, uint32_t n, double out[PF_E486_NLIBS]) {
  pf_pe_import imps[16];
  pf_pe_view v;
  memset(&v, 0, sizeof v);
  memset(imps, 0, sizeof imps);
  assert_true(n <= 16);
  for (uint32_t i = 0; i < n; i++) {
    snprintf(imps[i].name, sizeof imps[i].name, "%s", spec[i].name);
    imps[i].n_entries = spec[i].n;
  }
  v.imports = imps;
  v.n_imports = n;
  pf_ergo486_imports(&v, out);
}

/* out is exactly want at the named libraries and 0.0 elsewhere. */
static void expect_libs(const double *out, const char *const *libs, const double *want, int n) {
  for (int i = 0; i < PF_E486_NLIBS; i++) {
    double w = 0.0;
    for (int k = 0; k < n; k++)
      if (strcmp(pf_ergo486_libs[i], libs[k]) == 0) w = want[k];
    if (out[i] != w) print_error("import(%s) = %.17g, expected %.17g\n", pf_ergo486_libs[i], out[i], w);
    assert_true(out[i] == w);
  }
}

static void test_imports_case_and_suffix(void **state) {
  double out[PF_E486_NLIBS];
  assert_int_equal(lib_index("kernel32"), 1);
  const imp_spec a[] = {{"KERNEL32.DLL", 3}, {"User32.dll", 1}};
  run_imports(a, 2, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){0.75, 0.25}, 2);

  const imp_spec b[] = {{"kernel32", 3}, {"USER32", 1}};
  run_imports(b, 2, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){0.75, 0.25}, 2);

  /* names with a dot of their own: "winspool.drv" exactly or + ".dll" */
  const imp_spec c[] = {{"WINSPOOL.DRV", 1}, {"rtl100.bpl.dll", 1}};
  run_imports(c, 2, out);
  expect_libs(out, (const char *const[]){"winspool.drv", "rtl100.bpl"}, (const double[]){0.5, 0.5}, 2);
}

static void test_imports_exact_before_dll(void **state) {
  double out[PF_E486_NLIBS];
  /* both "kernel32" and "kernel32.dll" present: the bare name is looked up
   * first, whichever order the descriptors came in */
  const imp_spec a[] = {{"kernel32", 2}, {"kernel32.dll", 6}, {"user32.dll", 2}};
  run_imports(a, 3, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){0.5, 0.5}, 2);
  const imp_spec b[] = {{"KERNEL32.DLL", 6}, {"Kernel32", 2}, {"user32.dll", 2}};
  run_imports(b, 3, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){0.5, 0.5}, 2);
  /* a bare name with no entries still wins over "lib.dll" */
  const imp_spec c[] = {{"kernel32.dll", 6}, {"kernel32", 0}, {"user32.dll", 2}};
  run_imports(c, 3, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){0.0, 1.0}, 2);
}

static void test_imports_last_wins(void **state) {
  double out[PF_E486_NLIBS];
  const imp_spec a[] = {{"kernel32.dll", 4}, {"user32.dll", 1}, {"KERNEL32.dll", 7}};
  run_imports(a, 3, out);
  expect_libs(out, (const char *const[]){"kernel32", "user32"}, (const double[]){7.0 / 8.0, 1.0 / 8.0}, 2);
  /* the last descriptor counts even when it has fewer (or no) entries */
  const imp_spec b[] = {{"kernel32.dll", 9}, {"user32.dll", 1}, {"kernel32.dll", 0}};
  run_imports(b, 3, out);
  expect_libs(out, (const char *const[]){"user32"}, (const double[]){1.0}, 1);
}

static void test_imports_normalised(void **state) {
  double out[PF_E486_NLIBS];
  const imp_spec a[] = {{"kernel32.dll", 10}, {"advapi32.dll", 5}, {"msvcrt.dll", 3},
                        {"unlisted.dll", 100}, {"fltmgr.sys", 2}, {"ws2_32.dll", 0}};
  run_imports(a, 6, out);
  /* unlisted libraries do not count in the total */
  expect_libs(out, (const char *const[]){"kernel32", "advapi32", "msvcrt", "fltmgr.sys"},
              (const double[]){10.0 / 20, 5.0 / 20, 3.0 / 20, 2.0 / 20}, 4);
  double sum = 0.0;
  for (int i = 0; i < PF_E486_NLIBS; i++) sum += out[i];
  assert_true(sum > 1.0 - 1e-12 && sum < 1.0 + 1e-12);
  assert_true(out[lib_index("fltmgr.sys")] == 0.1);
  assert_true(out[PF_E486_NLIBS - 1] == 0.1); /* the last of the list */
}

static void test_imports_none_listed(void **state) {
  double out[PF_E486_NLIBS];
  const imp_spec a[] = {{"foo.dll", 3}, {"kernel32.exe", 2}, {"kernel3.dll", 1}, {"kernel32.dl", 1},
                        {"kernel32.dll.dll", 1}, {"xkernel32.dll", 1}, {"", 4}};
  run_imports(a, 7, out);
  for (int i = 0; i < PF_E486_NLIBS; i++) assert_true(out[i] == 0.0);
  /* listed but with zero entries: total 0, all zero, no division */
  const imp_spec b[] = {{"kernel32.dll", 0}, {"user32.dll", 0}};
  run_imports(b, 2, out);
  for (int i = 0; i < PF_E486_NLIBS; i++) assert_true(out[i] == 0.0);
  run_imports(NULL, 0, out);
  for (int i = 0; i < PF_E486_NLIBS; i++) assert_true(out[i] == 0.0);
}

/* ---- sections and virtual size ---- */

static pf_pe_view sec_view(pf_pe_section *secs, uint32_t n) {
  pf_pe_view v;
  memset(&v, 0, sizeof v);
  v.e_lfanew = 0x80;
  v.section_alignment = 0x1000;
  v.file_alignment = 0x200;
  v.sections = secs;
  v.n_sections = n;
  return v;
}

static void test_sections_ratios(void **state) {
  pf_pe_section s[4] = {
    {.va = 0x1000, .vsize = 0x1000, .raw_size = 0x200, .characteristics = 0x60000020},  /* code, exec */
    {.va = 0x2000, .vsize = 0x1000, .raw_size = 0x200, .characteristics = 0x00000020},  /* code */
    {.va = 0x3000, .vsize = 0x1000, .raw_size = 0x200, .characteristics = 0xc0000040},  /* data */
    {.va = 0x4000, .vsize = 0x1000, .raw_size = 0x200, .characteristics = 0x20000000},  /* exec */
  };
  double out[5];
  pf_pe_view v = sec_view(s, 4);
  pf_ergo486_sections(0x5000, &v, out);
  assert_true(out[1] == 0.5);
  assert_true(out[2] == 0.5);
  v.n_sections = 3;
  pf_ergo486_sections(0x5000, &v, out);
  assert_true(out[1] == 2.0 / 3.0);
  assert_true(out[2] == 1.0 / 3.0);
  v.n_sections = 1;
  pf_ergo486_sections(0x5000, &v, out);
  assert_true(out[1] == 1.0);
  assert_true(out[2] == 1.0);
  s[0].characteristics = 0x40000040;
  pf_ergo486_sections(0x5000, &v, out);
  assert_true(out[1] == 0.0);
  assert_true(out[2] == 0.0);
}

static void test_sections_entropy(void **state) {
  pf_pe_section s[3] = {
    {.va = 0x1000, .vsize = 0x1000, .raw_size = 0x200, .entropy = 2.0},
    {.va = 0x2000, .vsize = 0x1000, .raw_size = 0x200, .entropy = 6.0},
    {.va = 0x3000, .vsize = 0x1000, .raw_size = 0x200, .entropy = 4.0},
  };
  double out[5];
  pf_pe_view v = sec_view(s, 3);
  pf_ergo486_sections(0x4000, &v, out);
  assert_true(out[3] == (12.0 / 3) / 6.0);
  s[0].entropy = 7.25;
  s[1].entropy = 0.5;
  s[2].entropy = 3.0;
  pf_ergo486_sections(0x4000, &v, out);
  assert_true(out[3] == ((7.25 + 0.5 + 3.0) / 3) / 7.25);
  for (int i = 0; i < 3; i++) s[i].entropy = 0.0;
  pf_ergo486_sections(0x4000, &v, out);
  assert_true(out[3] == 0.0);
  s[2].entropy = 1.0; /* max found after zeros */
  pf_ergo486_sections(0x4000, &v, out);
  assert_true(out[3] == (1.0 / 3) / 1.0);
}

static void test_sections_vsize_avg(void **state) {
  pf_pe_section s[3] = {
    {.va = 0x1000, .vsize = 0x1000, .raw_size = 0x200},
    {.va = 0x2000, .vsize = 0x800, .raw_size = 0x400},
    {.va = 0x3000, .vsize = 0x2000, .raw_size = 0x1000},
  };
  double out[5];
  pf_pe_view v = sec_view(s, 2);
  /* mean(0x200/0x1000, 0x400/0x800) = 0.3125, norm = 0x400 / 0x800 = 0.5 */
  pf_ergo486_sections(0x4000, &v, out);
  assert_true(out[4] == 0.625);
  v.n_sections = 3;
  /* mean(0.125, 0.5, 0.5) = 0.375, norm = 0x1000 / 0x800 = 2 */
  pf_ergo486_sections(0x6000, &v, out);
  assert_true(out[4] == (1.125 / 3) / 2.0);
  /* the smallest virtual size is 0: the ratio is 0, no division by zero */
  s[1].vsize = 0;
  pf_ergo486_sections(0x6000, &v, out);
  assert_true(out[4] == 0.0);
}

static void test_virtual_size(void **state) {
  pf_pe_section s[2] = {
    {.va = 0x1000, .vsize = 0x1800},
    {.va = 0x500, .vsize = 0x10},
  };
  pf_pe_view v = sec_view(s, 2);
  assert_int_equal(pf_pe_virtual_size(&v), 0x3000);    /* align(0x2800, 0x1000) */
  v.section_alignment = 0;
  assert_int_equal(pf_pe_virtual_size(&v), 0x2800);    /* unchanged when 0 */
  v.section_alignment = 0x300;
  assert_int_equal(pf_pe_virtual_size(&v), 0x2a00);    /* not a power of two */

  /* headers only: e_lfanew + 24 + 96 (PE32) or + 112 (PE32+) */
  v.n_sections = 0;
  v.section_alignment = 0;
  assert_int_equal(pf_pe_virtual_size(&v), 0x80 + 24 + 96);
  v.pe32plus = 1;
  assert_int_equal(pf_pe_virtual_size(&v), 0x80 + 24 + 112);
  v.section_alignment = 0x1000;
  assert_int_equal(pf_pe_virtual_size(&v), 0x1000);
  /* sections that end before the headers do */
  s[0] = (pf_pe_section){.va = 0x10, .vsize = 0x20};
  v.n_sections = 1;
  v.section_alignment = 0;
  v.e_lfanew = 0x200;
  assert_int_equal(pf_pe_virtual_size(&v), 0x200 + 24 + 112);
  /* va + vsize beyond 32 bits stays 64-bit */
  s[0] = (pf_pe_section){.va = 0xfffff000u, .vsize = 0x2000};
  assert_true(pf_pe_virtual_size(&v) == 0x100001000ull);
}

static void test_sections_vsize_ratio(void **state) {
  pf_pe_section s[1] = {{.va = 0x1000, .vsize = 0x1800, .raw_off = 0x400, .raw_size = 0x1800}};
  double out[5];
  pf_pe_view v = sec_view(s, 1);
  pf_ergo486_sections(0x1800, &v, out); /* file smaller than the image (0x3000) */
  assert_true(out[0] == 0.5);
  pf_ergo486_sections(0x6000, &v, out); /* file larger */
  assert_true(out[0] == 0.5);
  pf_ergo486_sections(0x3000, &v, out);
  assert_true(out[0] == 1.0);
  v.section_alignment = 0; /* image 0x2800 */
  pf_ergo486_sections(0x1400, &v, out);
  assert_true(out[0] == 0.5);
  pf_ergo486_sections(0x1000, &v, out);
  assert_true(out[0] == (double)0x1000 / (double)0x2800);
}

static void test_sections_none(void **state) {
  double out[5] = {-1, -1, -1, -1, -1};
  pf_pe_view v = sec_view(NULL, 0);
  v.section_alignment = 0;
  pf_ergo486_sections(0x400, &v, out);
  assert_true(out[0] == (double)(0x80 + 24 + 96) / (double)0x400);
  for (int i = 1; i < 5; i++) assert_true(out[i] == 0.0);
  v.section_alignment = 0x1000;
  pf_ergo486_sections(0x400, &v, out);
  assert_true(out[0] == 0.25);
  for (int i = 1; i < 5; i++) assert_true(out[i] == 0.0);
}

/* ---- names and the whole vector ---- */

static void test_names(void **state) {
  PF_TEST_NEED_SHARED();
  char path[4096], name[256];
  pf_test_shared_path(path, sizeof path, "seed/ergo-pe-av/attribute.names");
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  char line[512];
  int i = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (i >= PF_ERGO486_DIM) {
      fclose(f);
      fail_msg("attribute.names has more than %d lines", PF_ERGO486_DIM);
    }
    assert_int_equal(pf_ergo486_name(i, name, sizeof name), PF_OK);
    if (strcmp(name, line) != 0) {
      fclose(f);
      fail_msg("name %d: ours \"%s\", attribute.names \"%s\"", i, name, line);
    }
    i++;
  }
  fclose(f);
  assert_int_equal(i, PF_ERGO486_DIM);
  printf("all %d names match attribute.names\n", i);

  assert_int_equal(pf_ergo486_name(-1, name, sizeof name), PF_EINVAL);
  assert_int_equal(pf_ergo486_name(PF_ERGO486_DIM, name, sizeof name), PF_EINVAL);
  assert_int_equal(pf_ergo486_name(0, name, 5), PF_EINVAL); /* "has_configuration" does not fit */
}

static void test_layout(void **state) {
  assert_int_equal(PF_E486_EP, PF_E486_PROPS + PF_E486_NPROPS);
  assert_int_equal(PF_E486_HIST, PF_E486_EP + 64);
  assert_int_equal(PF_E486_IMPORTS, PF_E486_HIST + 256);
  assert_int_equal(PF_E486_VSIZE, PF_E486_IMPORTS + PF_E486_NLIBS);
  assert_int_equal(PF_E486_VSIZE_AVG + 1, PF_ERGO486_DIM);
  char name[64];
  assert_int_equal(pf_ergo486_name(PF_E486_HIST + 0xab, name, sizeof name), PF_OK);
  assert_string_equal(name, "byte(ab)");
  assert_int_equal(pf_ergo486_name(PF_E486_EP + 63, name, sizeof name), PF_OK);
  assert_string_equal(name, "entrypoint63");
  assert_int_equal(pf_ergo486_name(PF_E486_IMPORTS + 1, name, sizeof name), PF_OK);
  assert_string_equal(name, "import(kernel32)");
  assert_int_equal(pf_ergo486_name(PF_E486_VSIZE_AVG, name, sizeof name), PF_OK);
  assert_string_equal(name, "sections_vsize_avg_ratio");
}

static void test_encode(void **state) {
  pfix f;
  pfix_init(&f);
  for (int i = 0x200; i < PSZ; i++) f.raw[i] = (uint8_t)(i * 7);
  f.v.entrypoint = 0x3f0; /* as a file offset: 16 bytes left */
  f.v.dll_characteristics = 0x100;
  f.sec[0].entropy = 5.0;
  snprintf(f.imp[0].name, sizeof f.imp[0].name, "ADVAPI32.dll");
  f.imp[0].n_entries = 4;
  f.v.imports = f.imp;
  f.v.n_imports = 1;

  double out[PF_ERGO486_DIM], want[PF_ERGO486_DIM];
  for (int i = 0; i < PF_ERGO486_DIM; i++) out[i] = -1.0;
  assert_int_equal(pf_ergo486_encode(f.raw, PSZ, &f.v, out), PF_OK);
  pf_ergo486_properties(f.raw, PSZ, &f.v, want + PF_E486_PROPS);
  pf_ergo486_entrypoint(f.raw, PSZ, 0x3f0, want + PF_E486_EP);
  pf_ergo486_histogram(f.raw, PSZ, want + PF_E486_HIST);
  pf_ergo486_imports(&f.v, want + PF_E486_IMPORTS);
  pf_ergo486_sections(PSZ, &f.v, want + PF_E486_VSIZE);
  for (int i = 0; i < PF_ERGO486_DIM; i++) assert_true(out[i] == want[i]);

  /* spot values at their positions */
  assert_true(out[PF_E486_PROPS + PF_P_NX] == 1.0);
  assert_true(out[PF_E486_PROPS + PF_P_IMPORTS] == 1.0);
  assert_true(out[PF_E486_EP] == f.raw[0x3f0] / 255.0);
  assert_true(out[PF_E486_EP + 16] == 0.0);
  assert_true(out[PF_E486_IMPORTS + 3] == 1.0); /* advapi32 */
  assert_true(out[PF_E486_VSIZE] == 0.125);     /* 0x400 / 0x2000 */
  assert_true(out[PF_E486_CODE] == 1.0);
  assert_true(out[PF_E486_PEC] == 1.0);
  assert_true(out[PF_E486_ENTROPY] == 1.0);
  assert_true(out[PF_E486_VSIZE_AVG] == 1.0);   /* one section: (r/v)/(r/v) */

  assert_int_equal(pf_ergo486_encode(f.raw, 0, &f.v, out), PF_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_props_none),
    cmocka_unit_test(test_props_configuration),
    cmocka_unit_test(test_props_debug),
    cmocka_unit_test(test_props_relocations),
    cmocka_unit_test(test_props_tls),
    cmocka_unit_test(test_props_resources),
    cmocka_unit_test(test_props_exports),
    cmocka_unit_test(test_props_signature),
    cmocka_unit_test(test_props_imports),
    cmocka_unit_test(test_props_nx),
    cmocka_unit_test(test_props_rich),
    cmocka_unit_test(test_props_exceptions_always_zero),
    cmocka_unit_test(test_props_all),
    cmocka_unit_test(test_entrypoint),
    cmocka_unit_test(test_histogram),
    cmocka_unit_test(test_imports_case_and_suffix),
    cmocka_unit_test(test_imports_exact_before_dll),
    cmocka_unit_test(test_imports_last_wins),
    cmocka_unit_test(test_imports_normalised),
    cmocka_unit_test(test_imports_none_listed),
    cmocka_unit_test(test_sections_ratios),
    cmocka_unit_test(test_sections_entropy),
    cmocka_unit_test(test_sections_vsize_avg),
    cmocka_unit_test(test_virtual_size),
    cmocka_unit_test(test_sections_vsize_ratio),
    cmocka_unit_test(test_sections_none),
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_layout),
    cmocka_unit_test(test_encode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
