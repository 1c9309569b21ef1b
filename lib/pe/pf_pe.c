/* Bounds-checked PE header reader and LIEF 0.9 address rules. */
#include "pf_pe.h"
#include "pf_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PE_FILE_HEADER_SIZE 24      /* "PE\0\0" + IMAGE_FILE_HEADER */
#define PE_SECTION_HEADER_SIZE 40

static int fail(char *err, size_t errlen, int code, const char *msg) {
  if (err && errlen) snprintf(err, errlen, "%s", msg);
  return code;
}

static uint64_t align_up(uint64_t value, uint64_t a) {
  if (a == 0) return value;
  uint64_t r = value % a;
  return r ? value + (a - r) : value;
}

double pf_pe_entropy(const uint8_t *buf, size_t len) {
  uint64_t freq[256] = {0};
  for (size_t i = 0; i < len; i++) freq[buf[i]]++;
  double e = 0.0;
  for (int i = 0; i < 256; i++) {
    if (freq[i]) {
      double p = (double)freq[i] / (double)len;
      e += p * (double)log2l((long double)p);
    }
  }
  return -e;
}

int pf_pe_sniff(const uint8_t *buf, size_t len, char *err, size_t errlen) {
  if (len == 0) return fail(err, errlen, PF_ENOTPE, "empty file");
  if (len < 2 || buf[0] != 'M' || buf[1] != 'Z') return fail(err, errlen, PF_ENOTPE, "not a PE file (no MZ signature)");
  if (!pf_pe_fits(len, 0, 64)) return fail(err, errlen, PF_ETRUNC, "truncated PE: file ends inside the DOS header");
  uint32_t lfanew = pf_rd32(buf + 0x3c);
  if (!pf_pe_fits(len, lfanew, 4)) return fail(err, errlen, PF_ETRUNC, "truncated PE: e_lfanew points past the end of the file");
  if (memcmp(buf + lfanew, "PE\0\0", 4) != 0) return fail(err, errlen, PF_ENOTPE, "not a PE file (MZ without a PE signature)");
  return PF_OK;
}

int pf_pe_read(const uint8_t *buf, size_t len, pf_pe_view *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!pf_pe_fits(len, 0, 64)) return fail(err, errlen, PF_ETRUNC, "file shorter than a DOS header");
  if (buf[0] != 'M' || buf[1] != 'Z') return fail(err, errlen, PF_ENOTPE, "no MZ signature");
  uint32_t lfanew = pf_rd32(buf + 0x3c);
  if (!pf_pe_fits(len, lfanew, PE_FILE_HEADER_SIZE)) return fail(err, errlen, PF_ETRUNC, "PE header outside the file");
  const uint8_t *ph = buf + lfanew;
  if (memcmp(ph, "PE\0\0", 4) != 0) return fail(err, errlen, PF_ENOTPE, "no PE signature");
  uint32_t nsec = pf_rd16(ph + 6);
  uint32_t opt_size = pf_rd16(ph + 20);
  uint64_t opt = (uint64_t)lfanew + PE_FILE_HEADER_SIZE;
  if (!pf_pe_fits(len, opt, 2)) return fail(err, errlen, PF_ETRUNC, "optional header outside the file");
  uint16_t magic = pf_rd16(buf + opt);
  if (magic != 0x10b && magic != 0x20b) return fail(err, errlen, PF_ENOTPE, "unknown optional header magic");
  int plus = magic == 0x20b;
  uint64_t fixed = plus ? 112 : 96;
  if (!pf_pe_fits(len, opt, fixed)) return fail(err, errlen, PF_ETRUNC, "optional header truncated");
  const uint8_t *oh = buf + opt;
  out->e_lfanew = lfanew;
  out->pe32plus = plus;
  out->entrypoint = pf_rd32(oh + 16);
  out->imagebase = plus ? pf_rd64(oh + 24) : pf_rd32(oh + 28);
  out->section_alignment = pf_rd32(oh + 32);
  out->file_alignment = pf_rd32(oh + 36);
  out->dll_characteristics = pf_rd16(oh + 70);
  out->size_of_image = pf_rd32(oh + 56);
  uint32_t ndirs = pf_rd32(oh + (plus ? 108 : 92));
  if (ndirs > PF_PE_NUM_DIRS) ndirs = PF_PE_NUM_DIRS;
  uint64_t dirs = opt + fixed;
  for (uint32_t i = 0; i < ndirs; i++) {
    if (!pf_pe_fits(len, dirs + 8 * i, 8)) break;
    out->dirs[i].rva = pf_rd32(buf + dirs + 8 * i);
    out->dirs[i].size = pf_rd32(buf + dirs + 8 * i + 4);
  }
  if (nsec > PF_PE_MAX_SECTIONS) return fail(err, errlen, PF_ELIMIT, "too many sections");
  uint64_t sec = opt + opt_size;
  if (nsec == 0) return PF_OK;
  out->sections = calloc(nsec, sizeof *out->sections);
  if (!out->sections) return fail(err, errlen, PF_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < nsec; i++) {
    uint64_t at = sec + (uint64_t)i * PE_SECTION_HEADER_SIZE;
    if (!pf_pe_fits(len, at, PE_SECTION_HEADER_SIZE)) break; /* keep the sections that fit */
    const uint8_t *sh = buf + at;
    pf_pe_section *s = &out->sections[out->n_sections++];
    s->vsize = pf_rd32(sh + 8);
    s->va = pf_rd32(sh + 12);
    s->raw_size = pf_rd32(sh + 16);
    s->raw_off = pf_rd32(sh + 20);
    s->characteristics = pf_rd32(sh + 36);
    uint64_t n = 0;
    if (s->raw_off < len) n = s->raw_size < len - s->raw_off ? s->raw_size : len - s->raw_off;
    s->entropy = pf_pe_entropy(buf + (s->raw_off < len ? s->raw_off : 0), (size_t)n);
  }
  return PF_OK;
}

void pf_pe_view_destroy(pf_pe_view *v) {
  if (!v) return;
  free(v->sections);
  free(v->imports);
  memset(v, 0, sizeof *v);
}

uint64_t pf_pe_rva_to_offset(const pf_pe_view *v, uint64_t rva) {
  for (uint32_t i = 0; i < v->n_sections; i++) {
    const pf_pe_section *s = &v->sections[i];
    if (rva >= s->va && rva < s->va + s->vsize) {
      uint64_t salign = v->section_alignment;
      if (salign < 0x1000) salign = v->file_alignment;
      uint64_t sva = align_up(s->va, salign);
      uint64_t soff = align_up(s->raw_off, v->file_alignment);
      return (rva - sva) + soff; /* wraps like LIEF's uint64 arithmetic */
    }
  }
  return (uint32_t)rva;
}

long pf_pe_section_from_offset(const pf_pe_view *v, uint64_t off) {
  for (uint32_t i = 0; i < v->n_sections; i++) {
    const pf_pe_section *s = &v->sections[i];
    if (off >= s->raw_off && off < s->raw_off + s->raw_size) return (long)i;
  }
  return -1;
}

uint64_t pf_pe_virtual_size(const pf_pe_view *v) {
  uint64_t size = (uint64_t)v->e_lfanew + 24 + (v->pe32plus ? 112 : 96);
  for (uint32_t i = 0; i < v->n_sections; i++) {
    uint64_t end = v->sections[i].va + v->sections[i].vsize;
    if (end > size) size = end;
  }
  return align_up(size, v->section_alignment);
}
