/* Unit tests of the bounds-checked PE header reader and the LIEF 0.9
 * address rules, on headers crafted byte by byte in the test. */
#include "pf_test.h"

#include <math.h>

#include "pf_err.h"
#include "pf_pe.h"

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- a tiny PE writer ---- */

typedef struct {
  uint32_t va, vsize, raw_off, raw_size, chr;
} tsec;

typedef struct {
  uint32_t lfanew;
  int plus;
  uint32_t ep;
  uint64_t imagebase;
  uint32_t salign, falign;
  uint16_t dllchar;
  uint32_t ndirs;           /* NumberOfRvaAndSizes as written */
  pf_pe_dir dirs[16];
  uint16_t nsec;            /* NumberOfSections as written */
  const tsec *secs;         /* min(nsec, nsecs_given) headers are written */
  uint32_t nsecs_given;
  int opt_size;             /* SizeOfOptionalHeader; -1: fixed part + dirs */
} tpe;

/* Writes the headers into buf (zeroed, cap bytes; everything written must
 * fit). Returns the offset just past the section table. */
static size_t build(uint8_t *buf, size_t cap, const tpe *p) {
  size_t fixed = p->plus ? 112 : 96;
  uint32_t nd = p->ndirs < 16 ? p->ndirs : 16;
  size_t opt_size = p->opt_size >= 0 ? (size_t)p->opt_size : fixed + 8 * nd;
  size_t opt = p->lfanew + 24;
  assert_true(opt + fixed + 8 * nd <= cap);
  buf[0] = 'M';
  buf[1] = 'Z';
  put32(buf + 0x3c, p->lfanew);
  memcpy(buf + p->lfanew, "PE\0\0", 4);
  put16(buf + p->lfanew + 4, p->plus ? 0x8664 : 0x14c);
  put16(buf + p->lfanew + 6, p->nsec);
  put16(buf + p->lfanew + 20, (uint16_t)opt_size);
  uint8_t *oh = buf + opt;
  put16(oh, p->plus ? 0x20b : 0x10b);
  put32(oh + 16, p->ep);
  if (p->plus) put64(oh + 24, p->imagebase);
  else put32(oh + 28, (uint32_t)p->imagebase);
  put32(oh + 32, p->salign);
  put32(oh + 36, p->falign);
  put16(oh + 70, p->dllchar);
  put32(oh + (p->plus ? 108 : 92), p->ndirs);
  for (uint32_t i = 0; i < nd; i++) {
    put32(oh + fixed + 8 * i, p->dirs[i].rva);
    put32(oh + fixed + 8 * i + 4, p->dirs[i].size);
  }
  size_t at = opt + opt_size;
  uint32_t ns = p->nsec < p->nsecs_given ? p->nsec : p->nsecs_given;
  for (uint32_t i = 0; i < ns; i++, at += 40) {
    assert_true(at + 40 <= cap);
    uint8_t *sh = buf + at;
    snprintf((char *)sh, 8, ".s%u", i);
    put32(sh + 8, p->secs[i].vsize);
    put32(sh + 12, p->secs[i].va);
    put32(sh + 16, p->secs[i].raw_size);
    put32(sh + 20, p->secs[i].raw_off);
    put32(sh + 36, p->secs[i].chr);
  }
  return at;
}

static int read_pe(const uint8_t *buf, size_t len, pf_pe_view *v, char *err, size_t errlen) {
  err[0] = '\0';
  int rc = pf_pe_read(buf, len, v, err, errlen);
  if (rc != PF_OK) {
    /* on failure nothing is left to free, and the reason is said */
    assert_null(v->sections);
    assert_null(v->imports);
    assert_int_equal(v->n_sections, 0);
    assert_true(err[0] != '\0');
  }
  return rc;
}

/* ---- pf_pe_sniff ---- */

static void test_sniff(void **state) {
  uint8_t buf[0x100];
  char err[128];
  memset(buf, 0, sizeof buf);
  assert_int_equal(pf_pe_sniff(buf, 0, err, sizeof err), PF_ENOTPE);
  assert_non_null(strstr(err, "empty"));
  buf[0] = 'M';
  assert_int_equal(pf_pe_sniff(buf, 1, err, sizeof err), PF_ENOTPE);
  buf[1] = 'Y';
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ENOTPE);
  assert_non_null(strstr(err, "MZ"));
  buf[1] = 'Z';
  assert_int_equal(pf_pe_sniff(buf, 2, err, sizeof err), PF_ETRUNC);
  assert_int_equal(pf_pe_sniff(buf, 63, err, sizeof err), PF_ETRUNC);
  assert_non_null(strstr(err, "DOS header"));
  put32(buf + 0x3c, 0x100); /* e_lfanew at the end of the file */
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ETRUNC);
  assert_non_null(strstr(err, "e_lfanew"));
  put32(buf + 0x3c, 0xfd); /* 3 bytes left */
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ETRUNC);
  put32(buf + 0x3c, 0xfffffffe); /* offset + 4 wraps 32 bits */
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ETRUNC);
  put32(buf + 0x3c, 0x80);
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ENOTPE);
  assert_non_null(strstr(err, "PE signature"));
  memcpy(buf + 0x80, "PE\0\1", 4);
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_ENOTPE);
  memcpy(buf + 0x80, "PE\0\0", 4);
  assert_int_equal(pf_pe_sniff(buf, sizeof buf, err, sizeof err), PF_OK);
  assert_int_equal(pf_pe_sniff(buf, 0x84, err, sizeof err), PF_OK); /* signature ends the file */
  assert_int_equal(pf_pe_sniff(buf, 0x83, err, sizeof err), PF_ETRUNC);
  /* e_lfanew pointing at itself: the bytes there are "\x3c\0\0\0" */
  put32(buf + 0x3c, 0x3c);
  assert_int_equal(pf_pe_sniff(buf, 64, err, sizeof err), PF_ENOTPE);
  /* a NULL err is allowed */
  assert_int_equal(pf_pe_sniff(buf, 0, NULL, 0), PF_ENOTPE);
}

/* ---- pf_pe_read ---- */

static void test_read_pe32(void **state) {
  static uint8_t buf[0x600];
  memset(buf, 0, sizeof buf);
  const tsec secs[2] = {
    {.va = 0x1000, .vsize = 0x1ff, .raw_off = 0x200, .raw_size = 0x200, .chr = 0x60000020},
    {.va = 0x2000, .vsize = 0x3000, .raw_off = 0x400, .raw_size = 0x100, .chr = 0xc0000040},
  };
  tpe p = {.lfanew = 0x80, .ep = 0x1234, .imagebase = 0x400000, .salign = 0x1000, .falign = 0x200,
           .dllchar = 0x8140, .ndirs = 16, .nsec = 2, .secs = secs, .nsecs_given = 2, .opt_size = -1};
  p.dirs[PF_DIR_IMPORT] = (pf_pe_dir){0x2010, 0x50};
  p.dirs[PF_DIR_SECURITY] = (pf_pe_dir){0x500, 0x40};
  p.dirs[15] = (pf_pe_dir){0xdead, 0xbeef};
  size_t end = build(buf, sizeof buf, &p);
  assert_int_equal(end, 0x80 + 24 + 96 + 128 + 80);
  for (int i = 0; i < 0x200; i++) buf[0x200 + i] = (uint8_t)i;        /* 256 values twice */
  for (int i = 0; i < 0x100; i++) buf[0x400 + i] = (uint8_t)(i & 1); /* two values */

  pf_pe_view v;
  char err[128];
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.e_lfanew, 0x80);
  assert_int_equal(v.pe32plus, 0);
  assert_int_equal(v.entrypoint, 0x1234);
  assert_int_equal(v.imagebase, 0x400000);
  assert_int_equal(v.section_alignment, 0x1000);
  assert_int_equal(v.file_alignment, 0x200);
  assert_int_equal(v.dll_characteristics, 0x8140);
  for (int i = 0; i < 16; i++) {
    assert_int_equal(v.dirs[i].rva, p.dirs[i].rva);
    assert_int_equal(v.dirs[i].size, p.dirs[i].size);
  }
  assert_int_equal(v.n_imports, 0);
  assert_null(v.imports);
  assert_int_equal(v.n_sections, 2);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(v.sections[i].va, secs[i].va);
    assert_int_equal(v.sections[i].vsize, secs[i].vsize);
    assert_int_equal(v.sections[i].raw_off, secs[i].raw_off);
    assert_int_equal(v.sections[i].raw_size, secs[i].raw_size);
    assert_int_equal(v.sections[i].characteristics, secs[i].chr);
  }
  /* over SizeOfRawData bytes (see test_read_section_data_clipped) */
  assert_true(fabs(v.sections[0].entropy - 8.0) < 1e-12);
  assert_true(fabs(v.sections[1].entropy - 1.0) < 1e-12);
  pf_pe_view_destroy(&v);
  assert_null(v.sections);
  assert_int_equal(v.n_sections, 0);
  pf_pe_view_destroy(&v); /* safe on a zeroed view */
}

static void test_read_pe32plus(void **state) {
  static uint8_t buf[0x400];
  memset(buf, 0, sizeof buf);
  const tsec secs[1] = {{.va = 0x1000, .vsize = 0x10, .raw_off = 0x300, .raw_size = 0x100, .chr = 0x60000020}};
  tpe p = {.lfanew = 0x40, .plus = 1, .ep = 0x1000, .imagebase = 0x140000000ull, .salign = 0x1000,
           .falign = 0x200, .dllchar = 0x160, .ndirs = 16, .nsec = 1, .secs = secs, .nsecs_given = 1,
           .opt_size = -1};
  for (int i = 0; i < 16; i++) p.dirs[i] = (pf_pe_dir){0x1000u * (uint32_t)(i + 1), (uint32_t)i + 1};
  size_t end = build(buf, sizeof buf, &p);
  assert_int_equal(end, 0x40 + 24 + 112 + 128 + 40);
  pf_pe_view v;
  char err[128];
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.pe32plus, 1);
  assert_true(v.imagebase == 0x140000000ull);
  assert_int_equal(v.entrypoint, 0x1000);
  assert_int_equal(v.dll_characteristics, 0x160);
  for (int i = 0; i < 16; i++) {
    assert_int_equal(v.dirs[i].rva, 0x1000u * (uint32_t)(i + 1));
    assert_int_equal(v.dirs[i].size, (uint32_t)i + 1);
  }
  assert_int_equal(v.n_sections, 1);
  assert_int_equal(v.sections[0].raw_off, 0x300);
  assert_true(v.sections[0].entropy == 0.0); /* 0x100 zero bytes */
  pf_pe_view_destroy(&v);
}

static void test_read_ndirs(void **state) {
  static uint8_t buf[0x400];
  pf_pe_view v;
  char err[128];
  tpe p = {.lfanew = 0x80, .salign = 0x1000, .falign = 0x200, .ndirs = 4, .opt_size = -1};
  for (int i = 0; i < 16; i++) p.dirs[i] = (pf_pe_dir){0x100u + (uint32_t)i, 8};
  /* 4 directories: the bytes after them are not read as directories */
  memset(buf, 0, sizeof buf);
  build(buf, sizeof buf, &p);
  memset(buf + 0x80 + 24 + 96 + 32, 0xee, 96);
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  for (int i = 0; i < 16; i++) assert_int_equal(v.dirs[i].rva, i < 4 ? 0x100u + (uint32_t)i : 0u);
  pf_pe_view_destroy(&v);
  /* more than 16 declared: 16 read */
  memset(buf, 0, sizeof buf);
  p.ndirs = 0x1000;
  build(buf, sizeof buf, &p);
  memset(buf + 0x80 + 24 + 96 + 128, 0xee, 64);
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  for (int i = 0; i < 16; i++) assert_int_equal(v.dirs[i].rva, 0x100u + (uint32_t)i);
  pf_pe_view_destroy(&v);
  /* the file ends inside directory 3: directories 0..2 read, no error */
  size_t opt = 0x80 + 24;
  assert_int_equal(read_pe(buf, opt + 96 + 8 * 3 + 7, &v, err, sizeof err), PF_OK);
  for (int i = 0; i < 16; i++) assert_int_equal(v.dirs[i].rva, i < 3 ? 0x100u + (uint32_t)i : 0u);
  assert_int_equal(v.n_sections, 0);
  pf_pe_view_destroy(&v);
}

static void test_read_bad_headers(void **state) {
  static uint8_t buf[0x400];
  pf_pe_view v;
  char err[128];
  memset(buf, 0, sizeof buf);
  tpe p = {.lfanew = 0x80, .salign = 0x1000, .falign = 0x200, .ndirs = 16, .opt_size = -1};
  build(buf, sizeof buf, &p);
  size_t opt = 0x80 + 24;

  assert_int_equal(read_pe(buf, 63, &v, err, sizeof err), PF_ETRUNC);
  assert_int_equal(read_pe(buf, 0, &v, err, sizeof err), PF_ETRUNC);
  assert_int_equal(read_pe(buf, opt - 1, &v, err, sizeof err), PF_ETRUNC); /* file header cut */
  assert_int_equal(read_pe(buf, opt + 1, &v, err, sizeof err), PF_ETRUNC); /* magic cut */
  assert_int_equal(read_pe(buf, opt + 95, &v, err, sizeof err), PF_ETRUNC); /* PE32 fixed part cut */
  assert_non_null(strstr(err, "optional header"));
  assert_int_equal(read_pe(buf, opt + 96, &v, err, sizeof err), PF_OK);    /* no directories fit */
  for (int i = 0; i < 16; i++) assert_int_equal(v.dirs[i].rva, 0);
  pf_pe_view_destroy(&v);

  memset(buf, 0, sizeof buf);
  p.plus = 1;
  build(buf, sizeof buf, &p);
  assert_int_equal(read_pe(buf, opt + 111, &v, err, sizeof err), PF_ETRUNC); /* PE32+ needs 112 */
  assert_int_equal(read_pe(buf, opt + 112, &v, err, sizeof err), PF_OK);
  pf_pe_view_destroy(&v);

  put16(buf + opt, 0x107); /* ROM image magic */
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_ENOTPE);
  put16(buf + opt, 0x20b);
  memcpy(buf + 0x80, "PX\0\0", 4);
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_ENOTPE);
  memcpy(buf + 0x80, "PE\0\0", 4);
  buf[1] = 'X';
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_ENOTPE);
  buf[1] = 'Z';
  put32(buf + 0x3c, 0xfffffff0u); /* e_lfanew far past the end */
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_ETRUNC);
  put32(buf + 0x3c, 0x80);
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  pf_pe_view_destroy(&v);
}

static void test_read_sections_partly_outside(void **state) {
  static uint8_t buf[0x400];
  memset(buf, 0, sizeof buf);
  tsec secs[3];
  for (uint32_t i = 0; i < 3; i++)
    secs[i] = (tsec){.va = 0x1000 * (i + 1), .vsize = 0x1000, .raw_off = 0, .raw_size = 0, .chr = i + 1};
  tpe p = {.lfanew = 0x80, .salign = 0x1000, .falign = 0x200, .ndirs = 16, .nsec = 3, .secs = secs,
           .nsecs_given = 3, .opt_size = -1};
  size_t end = build(buf, sizeof buf, &p);
  pf_pe_view v;
  char err[128];
  /* the third header is cut by one byte: two sections */
  assert_int_equal(read_pe(buf, end - 1, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 2);
  assert_int_equal(v.sections[1].va, 0x2000);
  assert_int_equal(v.sections[1].characteristics, 2);
  pf_pe_view_destroy(&v);
  assert_int_equal(read_pe(buf, end, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 3);
  pf_pe_view_destroy(&v);
  assert_int_equal(read_pe(buf, end - 80, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 1);
  pf_pe_view_destroy(&v);
  assert_int_equal(read_pe(buf, end - 81, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 0);
  pf_pe_view_destroy(&v);

  /* a larger SizeOfOptionalHeader moves the section table */
  memset(buf, 0, sizeof buf);
  p.opt_size = 96 + 128 + 24;
  end = build(buf, sizeof buf, &p);
  assert_int_equal(end, 0x80 + 24 + 96 + 128 + 24 + 120);
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 3);
  assert_int_equal(v.sections[2].va, 0x3000);
  pf_pe_view_destroy(&v);
}

static void test_read_section_data_clipped(void **state) {
  static uint8_t buf[0x500];
  memset(buf, 0, sizeof buf);
  const tsec secs[5] = {
    {.va = 0x1000, .vsize = 0x1000, .raw_off = 0x400, .raw_size = 0x1000},  /* runs past the end */
    {.va = 0x2000, .vsize = 0x1000, .raw_off = 0x9000, .raw_size = 0x200},  /* starts past the end */
    {.va = 0x3000, .vsize = 0x1000, .raw_off = 0x480, .raw_size = 0xffffffffu},
    {.va = 0x4000, .vsize = 0, .raw_off = 0x3f0, .raw_size = 0x20},         /* vsize 0: raw size */
    {.va = 0x5000, .vsize = 0x10, .raw_off = 0x3f0, .raw_size = 0x20},      /* vsize < raw size */
  };
  tpe p = {.lfanew = 0x80, .salign = 0x1000, .falign = 0x200, .ndirs = 16, .nsec = 5, .secs = secs,
           .nsecs_given = 5, .opt_size = -1};
  build(buf, sizeof buf, &p);
  for (int i = 0; i < 0x100; i++) buf[0x400 + i] = (uint8_t)i; /* 0x480..0x500: 128 values */
  memset(buf + 0x3f0, 0xff, 16);
  pf_pe_view v;
  char err[128];
  assert_int_equal(read_pe(buf, sizeof buf, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 5);
  assert_true(fabs(v.sections[0].entropy - 8.0) < 1e-12); /* the 0x100 bytes inside the file */
  assert_true(fabs(v.sections[3].entropy - 3.0) < 1e-12); /* 16 x 0xff, then 0x00..0x0f */
  /* pf_pe_read's documented rule: all SizeOfRawData bytes inside the file,
   * whatever VirtualSize says. LIEF 0.9 reads only min(VirtualSize,
   * SizeOfRawData) bytes (0x10 x 0xff here: entropy 0); test_lief_parity
   * shows the difference on the corpus. */
  assert_true(fabs(v.sections[4].entropy - 3.0) < 1e-12);
  assert_true(v.sections[1].entropy == 0.0);
  assert_true(fabs(v.sections[2].entropy - 7.0) < 1e-12);
  assert_int_equal(v.sections[0].raw_size, 0x1000); /* the header's value is kept */
  assert_true(v.sections[2].raw_size == 0xffffffffu);
  pf_pe_view_destroy(&v);
}

static void test_read_nsec_cap(void **state) {
  static uint8_t buf[0x400];
  memset(buf, 0, sizeof buf);
  const tsec secs[2] = {{.va = 0x1000, .vsize = 0x10}, {.va = 0x2000, .vsize = 0x10}};
  tpe p = {.lfanew = 0x80, .salign = 0x1000, .falign = 0x200, .ndirs = 16, .nsec = PF_PE_MAX_SECTIONS + 1,
           .secs = secs, .nsecs_given = 2, .opt_size = -1};
  size_t end = build(buf, sizeof buf, &p);
  pf_pe_view v;
  char err[128];
  assert_int_equal(read_pe(buf, end, &v, err, sizeof err), PF_ELIMIT);
  put16(buf + 0x80 + 6, 0xffff);
  assert_int_equal(read_pe(buf, end, &v, err, sizeof err), PF_ELIMIT);
  /* at the cap: accepted, and only the headers inside the file are kept */
  put16(buf + 0x80 + 6, PF_PE_MAX_SECTIONS);
  assert_int_equal(read_pe(buf, end, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 2);
  pf_pe_view_destroy(&v);
  put16(buf + 0x80 + 6, 0);
  assert_int_equal(read_pe(buf, end, &v, err, sizeof err), PF_OK);
  assert_int_equal(v.n_sections, 0);
  assert_null(v.sections);
  pf_pe_view_destroy(&v);
}

/* ---- address rules ---- */

static pf_pe_view view_of(pf_pe_section *s, uint32_t n, uint32_t salign, uint32_t falign) {
  pf_pe_view v;
  memset(&v, 0, sizeof v);
  v.sections = s;
  v.n_sections = n;
  v.section_alignment = salign;
  v.file_alignment = falign;
  return v;
}

static void test_rva_to_offset(void **state) {
  pf_pe_section s[3] = {
    {.va = 0x1000, .vsize = 0x800, .raw_off = 0x400, .raw_size = 0x800},
    {.va = 0x1000, .vsize = 0x2000, .raw_off = 0x2000, .raw_size = 0x800}, /* overlaps the first */
    {.va = 0x8000, .vsize = 0, .raw_off = 0x3000, .raw_size = 0x200},      /* holds nothing */
  };
  pf_pe_view v = view_of(s, 3, 0x1000, 0x200);
  assert_true(pf_pe_rva_to_offset(&v, 0x1000) == 0x400);
  assert_true(pf_pe_rva_to_offset(&v, 0x1234) == 0x634);
  assert_true(pf_pe_rva_to_offset(&v, 0x17ff) == 0xbff);
  assert_true(pf_pe_rva_to_offset(&v, 0x1800) == 0x2800); /* second section: first one ends */
  assert_true(pf_pe_rva_to_offset(&v, 0x2fff) == 0x3fff);
  /* outside every section (and vsize 0 holds nothing): the rva, as a uint32 */
  assert_true(pf_pe_rva_to_offset(&v, 0x3000) == 0x3000);
  assert_true(pf_pe_rva_to_offset(&v, 0x8000) == 0x8000);
  assert_true(pf_pe_rva_to_offset(&v, 0xfff) == 0xfff);
  assert_true(pf_pe_rva_to_offset(&v, 0x123456789ull) == 0x23456789u);
  pf_pe_view none = view_of(NULL, 0, 0x1000, 0x200);
  assert_true(pf_pe_rva_to_offset(&none, 0x1234) == 0x1234);

  /* unaligned headers: va and offset are aligned before subtracting */
  pf_pe_section u[1] = {{.va = 0x1100, .vsize = 0x200, .raw_off = 0x310, .raw_size = 0x200}};
  v = view_of(u, 1, 0x1000, 0x200);
  /* va aligns to 0x2000, offset to 0x400: 0x1180 - 0x2000 + 0x400 wraps */
  assert_true(pf_pe_rva_to_offset(&v, 0x1180) == (uint64_t)0x1180 - 0x2000 + 0x400);
  assert_true(pf_pe_rva_to_offset(&v, 0x1180) == 0xfffffffffffff580ull);
  /* LIEF 0.9: a section alignment below 0x1000 is replaced by the file
   * alignment; va aligns to 0x1200 then */
  v.section_alignment = 0x800;
  assert_true(pf_pe_rva_to_offset(&v, 0x1280) == 0x480);
  assert_true(pf_pe_rva_to_offset(&v, 0x1180) == (uint64_t)0x1180 - 0x1200 + 0x400);
  v.section_alignment = 0xfff;
  assert_true(pf_pe_rva_to_offset(&v, 0x1280) == 0x480);
  /* both alignments 0: nothing aligned */
  v.section_alignment = 0;
  v.file_alignment = 0;
  assert_true(pf_pe_rva_to_offset(&v, 0x1180) == 0x390);
  /* file alignment 0 with a large section alignment: only va aligned */
  v.section_alignment = 0x1000;
  assert_true(pf_pe_rva_to_offset(&v, 0x1180) == (uint64_t)0x1180 - 0x2000 + 0x310);
}

static void test_section_from_offset(void **state) {
  pf_pe_section s[3] = {
    {.va = 0x1000, .raw_off = 0x400, .raw_size = 0x800},
    {.va = 0x2000, .raw_off = 0xa00, .raw_size = 0x400}, /* overlaps the first */
    {.va = 0x3000, .raw_off = 0xe00, .raw_size = 0},     /* empty */
  };
  pf_pe_view v = view_of(s, 3, 0x1000, 0x200);
  assert_int_equal(pf_pe_section_from_offset(&v, 0x3ff), -1);
  assert_int_equal(pf_pe_section_from_offset(&v, 0x400), 0);
  assert_int_equal(pf_pe_section_from_offset(&v, 0xa00), 0); /* the first that holds it */
  assert_int_equal(pf_pe_section_from_offset(&v, 0xbff), 0);
  assert_int_equal(pf_pe_section_from_offset(&v, 0xc00), 1);
  assert_int_equal(pf_pe_section_from_offset(&v, 0xdff), 1);
  assert_int_equal(pf_pe_section_from_offset(&v, 0xe00), -1);
  assert_int_equal(pf_pe_section_from_offset(&v, UINT64_MAX), -1);
  pf_pe_view none = view_of(NULL, 0, 0x1000, 0x200);
  assert_int_equal(pf_pe_section_from_offset(&none, 0), -1);
}

static void test_entropy(void **state) {
  uint8_t buf[768];
  assert_true(pf_pe_entropy(NULL, 0) == 0.0);
  assert_true(pf_pe_entropy(buf, 0) == 0.0);
  memset(buf, 0x41, sizeof buf);
  assert_true(pf_pe_entropy(buf, sizeof buf) == 0.0);
  for (int i = 0; i < 768; i++) buf[i] = (uint8_t)i;
  assert_true(fabs(pf_pe_entropy(buf, 256) - 8.0) < 1e-12);
  assert_true(fabs(pf_pe_entropy(buf, 768) - 8.0) < 1e-12);
  assert_true(fabs(pf_pe_entropy(buf, 16) - 4.0) < 1e-12);
  for (int i = 0; i < 100; i++) buf[i] = i % 2 ? 0x00 : 0xff;
  assert_true(fabs(pf_pe_entropy(buf, 100) - 1.0) < 1e-12);
  /* 1:1:2 -> 1.5 bits */
  const uint8_t q[4] = {1, 2, 3, 3};
  assert_true(fabs(pf_pe_entropy(q, 4) - 1.5) < 1e-12);
  /* 1:2 -> log2(3) - 2/3 */
  const uint8_t t[3] = {9, 7, 7};
  assert_true(fabs(pf_pe_entropy(t, 3) - (log2(3.0) - 2.0 / 3.0)) < 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sniff),
    cmocka_unit_test(test_read_pe32),
    cmocka_unit_test(test_read_pe32plus),
    cmocka_unit_test(test_read_ndirs),
    cmocka_unit_test(test_read_bad_headers),
    cmocka_unit_test(test_read_sections_partly_outside),
    cmocka_unit_test(test_read_section_data_clipped),
    cmocka_unit_test(test_read_nsec_cap),
    cmocka_unit_test(test_rva_to_offset),
    cmocka_unit_test(test_section_from_offset),
    cmocka_unit_test(test_entropy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
