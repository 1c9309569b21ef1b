/* The ergo486 feature vector over raw bytes and a pf_pe_view. */
#include "pf_ergo486.h"
#include "pf_err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const pf_ergo486_libs[PF_E486_NLIBS] = {
  "libssp-0", "kernel32", "user32", "advapi32", "oleaut32", "shell32", "ole32",
  "gdi32", "comctl32", "version", "msvcrt", "comdlg32", "shlwapi", "wininet", "ws2_32",
  "winmm", "winspool.drv", "wsock32", "msvbvm60", "rpcrt4", "mpr", "psapi", "iphlpapi",
  "ntdll", "msimg32", "mscoree", "crypt32", "gdiplus", "userenv", "crtdll", "oledlg",
  "mfc42", "urlmon", "imm32", "rtl100.bpl", "netapi32", "wintrust", "vcl100.bpl",
  "vcl50.bpl", "uxtheme", "setupapi", "ntoskrnl.pe", "msi", "msvcp60", "lz32",
  "winhttp", "hal", "core.bpl", "rbrcl1416.bpl", "dbghelp",
  "api-ms-win-crt-runtime-l1-1-0", "api-ms-win-crt-heap-l1-1-0",
  "api-ms-win-crt-math-l1-1-0", "api-ms-win-crt-stdio-l1-1-0",
  "api-ms-win-crt-locale-l1-1-0", "oleacc", "komponentyd17.bpl", "job.bpl", "cam.bpl",
  "vcruntime140", "secur32", "msvcr100", "cxeditorsrs17.bpl", "rasapi32",
  "api-ms-win-crt-string-l1-1-0", "wtsapi32", "imagehlp", "msvcp140", "cnc.bpl",
  "indyprotocols190.bpl", "api-ms-win-crt-convert-l1-1-0", "msvcr120", "vcl60.bpl",
  "rbrcl210.bpl", "rtl170.bpl", "rbide1416.bpl", "rtl60.bpl", "vcl170.bpl", "wldap32",
  "shfolder", "cxlibraryrs17.bpl", "msvcirt", "report.bpl", "rtl190.bpl", "msvcr90",
  "api-ms-win-crt-filesystem-l1-1-0", "cxeditorsrs16.bpl", "avifil32",
  "api-ms-win-crt-time-l1-1-0", "jli", "graphic.bpl", "olepro32", "rtl160.bpl",
  "spmmachine.bpl", "cabinet", "indycore190.bpl", "sacom210.bpl", "rbrtl1416.bpl",
  "api-ms-win-crt-utility-l1-1-0", "vcl160.bpl", "api-ms-win-crt-environment-l1-1-0",
  "zcomponent170.bpl", "msvfw32", "libadm_coreutils6", "rbsha", "dxpscorers16.bpl",
  "msacm32", "vcl70.bpl", "applicationmanagement.bpl", "jobgui.bpl",
  "indyprotocols170.bpl", "rtl70.bpl", "cxed210.bpl", "msvcr80", "libadm_coretinypy6",
  "ucrtbased", "vcruntime140d", "msvcp120", "msvcp140d", "dinput8", "gui.bpl",
  "maincontrols.bpl", "rtl120.bpl", "jcl170.bpl", "frx17.bpl", "fs17.bpl",
  "vcl190.bpl", "sdl2", "machine.bpl", "mfc42u", "normaliz", "sdl2_gfx", "sdl2_ttf",
  "sdl2_mixer", "msvcp80", "cxgridrs17.bpl", "cxeditorsvcld7.bpl", "libeay32",
  "cxlibraryd11.bpl", "vcl120.bpl", "gr32_d6.bpl", "cxlibraryrs16.bpl",
  "cxgridrs16.bpl", "vcl40.bpl", "opengl32", "qt5core", "qtcore4", "wdfldr.sys",
  "nesting.bpl", "fltmgr.sys",
};

static const char *const prop_names[PF_E486_NPROPS] = {
  "has_configuration", "has_debug", "has_exceptions", "has_exports", "has_imports",
  "has_nx", "has_relocations", "has_resources", "has_rich_header", "has_signature", "has_tls",
};

static const char *const section_names[5] = {
  "vsize_ratio", "code_sections_ratio", "pec_sections_ratio",
  "sections_avg_entropy", "sections_vsize_avg_ratio",
};

int pf_ergo486_name(int i, char *buf, size_t buflen) {
  int n;
  if (i < 0 || i >= PF_ERGO486_DIM) return PF_EINVAL;
  if (i < PF_E486_EP) n = snprintf(buf, buflen, "%s", prop_names[i]);
  else if (i < PF_E486_HIST) n = snprintf(buf, buflen, "entrypoint%d", i - PF_E486_EP);
  else if (i < PF_E486_IMPORTS) n = snprintf(buf, buflen, "byte(%02x)", i - PF_E486_HIST);
  else if (i < PF_E486_VSIZE) n = snprintf(buf, buflen, "import(%s)", pf_ergo486_libs[i - PF_E486_IMPORTS]);
  else n = snprintf(buf, buflen, "%s", section_names[i - PF_E486_VSIZE]);
  return n < 0 || (size_t)n >= buflen ? PF_EINVAL : PF_OK;
}

/* ---- properties, as LIEF 0.9 decides them ---- */

/* The directory's RVA is non-zero and maps into a section's raw range.
 * Stores the file offset LIEF would read the directory from. */
static int dir_in_section(const pf_pe_view *v, int d, uint64_t *off) {
  if (v->dirs[d].rva == 0) return 0;
  *off = pf_pe_rva_to_offset(v, v->dirs[d].rva);
  return pf_pe_section_from_offset(v, *off) >= 0;
}

/* LIEF 0.9 picks the largest known load-configuration layout that fits in
 * min(directory size, size field) and reads it whole. */
static int load_config_parsed(const uint8_t *raw, size_t sz, const pf_pe_view *v) {
  static const uint32_t sizes32[] = {0x48, 0x5c, 0x68, 0x78, 0x80, 0x90, 0x98, 0xa0};
  static const uint32_t sizes64[] = {0x70, 0x94, 0xa0, 0xc0, 0xc8, 0xe8, 0xf4, 0x100};
  uint64_t off;
  if (!dir_in_section(v, PF_DIR_LOAD_CONFIG, &off)) return 0;
  if (!pf_pe_fits(sz, off, 4)) return 0;
  uint32_t size = pf_rd32(raw + off);
  if (v->dirs[PF_DIR_LOAD_CONFIG].size < size) size = v->dirs[PF_DIR_LOAD_CONFIG].size;
  const uint32_t *tab = v->pe32plus ? sizes64 : sizes32;
  uint32_t need = 4;
  for (int i = 0; i < 8; i++)
    if (tab[i] <= size) need = tab[i];
  return pf_pe_fits(sz, off, need);
}

/* Relocations: LIEF 0.9's Parser::parse_relocations sets has_relocations
 * only once it has walked the blocks: from the directory's offset (which
 * must lie in a section, with a readable 8-byte block header), block after
 * block while the offset is below offset + size (32-bit, as LIEF's) and
 * the block's PageRVA is non-zero. A block too small (< 8), larger than
 * SizeOfImage, or whose entries run past the file ends the walk and still
 * counts; the next header past the end of the file throws, so a table whose
 * last block ends exactly at the end of the file (GRUB's EFI images) does
 * not count. Block sizes come from the file: the walk is capped at one step
 * per 8 bytes of the file (each step advances by at least 8). */
static int relocations_parsed(size_t sz, const uint8_t *raw, const pf_pe_view *v) {
  uint64_t off64;
  if (!dir_in_section(v, PF_DIR_BASERELOC, &off64)) return 0;
  uint32_t off = (uint32_t)off64; /* LIEF keeps it in a uint32_t */
  uint32_t max_off = off + v->dirs[PF_DIR_BASERELOC].size;
  if (!pf_pe_fits(sz, off, 8)) return 0;
  uint32_t cur = off;
  uint32_t page = pf_rd32(raw + cur), block = pf_rd32(raw + cur + 4);
  for (size_t steps = 0; cur < max_off && page != 0; steps++) {
    if (steps > sz / 8 + 1) return 1; /* cannot happen: every step moves on by >= 8 */
    if (block < 8 || block > v->size_of_image) return 1;
    if (!pf_pe_fits(sz, (uint64_t)cur + 8, ((uint64_t)block - 8) / 2 * 2)) return 1;
    cur += block;
    if (!pf_pe_fits(sz, cur, 8)) return 0; /* the next header's read throws */
    page = pf_rd32(raw + cur);
    block = pf_rd32(raw + cur + 4);
  }
  return 1;
}

/* Exports: the export directory (40 bytes) is readable. */
static int exports_parsed(size_t sz, const pf_pe_view *v) {
  if (v->dirs[PF_DIR_EXPORT].rva == 0) return 0;
  return pf_pe_fits(sz, pf_pe_rva_to_offset(v, v->dirs[PF_DIR_EXPORT].rva), 40);
}

/* Signature: the certificate table (a file offset) holds a WIN_CERTIFICATE
 * whose body is a DER PKCS#7 SignedData (OID 1.2.840.113549.1.7.2). */
static int signature_parsed(const uint8_t *raw, size_t sz, const pf_pe_view *v) {
  static const uint8_t oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
  uint64_t off = v->dirs[PF_DIR_SECURITY].rva;
  if (off == 0 || !pf_pe_fits(sz, off, 8)) return 0;
  uint32_t length = pf_rd32(raw + off);
  if (length < 8 + sizeof oid || !pf_pe_fits(sz, off, length)) return 0;
  const uint8_t *p = raw + off + 8;
  size_t n = length - 8;
  if (p[0] != 0x30) return 0;
  /* the OID follows the outer SEQUENCE header (2 to 6 bytes long) */
  for (size_t at = 2; at <= 6 && at + sizeof oid <= n; at++)
    if (memcmp(p + at, oid, sizeof oid) == 0) return 1;
  return 0;
}

/* Rich header: "Rich" inside the DOS stub [64, e_lfanew) followed by the
 * 4-byte XOR key, also inside the stub. */
static int rich_parsed(const uint8_t *raw, size_t sz, const pf_pe_view *v) {
  uint64_t end = v->e_lfanew;
  if (end > sz) return 0;
  for (uint64_t i = 64; i + 4 <= end; i++) {
    if (memcmp(raw + i, "Rich", 4) == 0) return i + 8 <= end;
  }
  return 0;
}

void pf_ergo486_properties(const uint8_t *raw, size_t sz, const pf_pe_view *v, double out[PF_E486_NPROPS]) {
  uint64_t off;
  memset(out, 0, PF_E486_NPROPS * sizeof *out);
  out[PF_P_CONFIGURATION] = load_config_parsed(raw, sz, v);
  out[PF_P_DEBUG] = dir_in_section(v, PF_DIR_DEBUG, &off);
  out[PF_P_EXCEPTIONS] = 0.0; /* LIEF 0.9 never sets it */
  out[PF_P_EXPORTS] = exports_parsed(sz, v);
  out[PF_P_IMPORTS] = v->n_imports > 0; /* a descriptor was parsed */
  out[PF_P_NX] = (v->dll_characteristics & 0x100) != 0;
  out[PF_P_RELOCATIONS] = relocations_parsed(sz, raw, v);
  out[PF_P_RESOURCES] = dir_in_section(v, PF_DIR_RESOURCE, &off) && pf_pe_fits(sz, off, 16);
  out[PF_P_RICH] = rich_parsed(raw, sz, v);
  out[PF_P_SIGNATURE] = signature_parsed(raw, sz, v);
  out[PF_P_TLS] = dir_in_section(v, PF_DIR_TLS, &off);
}

/* ---- byte groups ---- */

void pf_ergo486_entrypoint(const uint8_t *raw, size_t sz, uint32_t ep, double out[64]) {
  for (int i = 0; i < 64; i++) {
    uint64_t at = (uint64_t)ep + (uint64_t)i;
    out[i] = at < sz ? raw[at] / 255.0 : 0.0;
  }
}

void pf_ergo486_histogram(const uint8_t *raw, size_t sz, double out[256]) {
  /* Four interleaved tables keep the loop free of store-to-load stalls.
   * Their counters are 32-bit (half the cache footprint, about 25% faster
   * than 64-bit) and are added into 64-bit totals every HIST_BLOCK bytes,
   * so none can overflow; the counts, and so the output, are unchanged. */
  enum { HIST_BLOCK = 1 << 30 };
  uint64_t total[256];
  uint32_t c[4][256];
  memset(total, 0, sizeof total);
  for (size_t at = 0; at < sz;) {
    size_t n = sz - at < HIST_BLOCK ? sz - at : HIST_BLOCK;
    const uint8_t *p = raw + at;
    size_t i = 0;
    memset(c, 0, sizeof c);
    for (; i + 4 <= n; i += 4) {
      c[0][p[i]]++;
      c[1][p[i + 1]]++;
      c[2][p[i + 2]]++;
      c[3][p[i + 3]]++;
    }
    for (; i < n; i++) c[0][p[i]]++;
    for (int b = 0; b < 256; b++) total[b] += (uint64_t)c[0][b] + c[1][b] + c[2][b] + c[3][b];
    at += n;
  }
  for (int b = 0; b < 256; b++) out[b] = sz ? (double)total[b] / (double)sz : 0.0;
}

/* ---- imports ---- */

/* Case-insensitive "name == lib" or "name == lib.dll". */
static int lib_match(const char *name, const char *lib, int with_dll) {
  size_t n = strlen(lib);
  if (strncasecmp(name, lib, n) != 0) return 0;
  return with_dll ? strcasecmp(name + n, ".dll") == 0 : name[n] == '\0';
}

/* The seed keyed a dict by lower-cased DLL name (the last descriptor of a
 * name wins), then looked up "lib" before "lib.dll". */
static int64_t lib_count(const pf_pe_view *v, const char *lib, int with_dll) {
  for (uint32_t i = v->n_imports; i-- > 0;)
    if (lib_match(v->imports[i].name, lib, with_dll)) return v->imports[i].n_entries;
  return -1;
}

void pf_ergo486_imports(const pf_pe_view *v, double out[PF_E486_NLIBS]) {
  double total = 0.0;
  for (int i = 0; i < PF_E486_NLIBS; i++) {
    int64_t n = lib_count(v, pf_ergo486_libs[i], 0);
    if (n < 0) n = lib_count(v, pf_ergo486_libs[i], 1);
    out[i] = n > 0 ? (double)n : 0.0;
    total += out[i];
  }
  if (total > 0)
    for (int i = 0; i < PF_E486_NLIBS; i++) out[i] /= total;
}

/* ---- sections and size ---- */

void pf_ergo486_sections(size_t sz, const pf_pe_view *v, double out[5]) {
  double vsize = (double)pf_pe_virtual_size(v);
  double fsz = (double)sz;
  double lo = fsz < vsize ? fsz : vsize, hi = fsz < vsize ? vsize : fsz;
  out[0] = hi > 0 ? lo / hi : 0.0;
  uint32_t n = v->n_sections;
  out[1] = out[2] = out[3] = out[4] = 0.0;
  if (n == 0) return;
  uint32_t code = 0, exec = 0;
  double ent_sum = 0.0, ent_max = 0.0, min_vsize = 0.0, max_size = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    const pf_pe_section *s = &v->sections[i];
    code += (s->characteristics & 0x20u) != 0;
    exec += (s->characteristics & 0x20000000u) != 0;
    ent_sum += s->entropy;
    if (i == 0 || s->entropy > ent_max) ent_max = s->entropy;
    if (i == 0 || (double)s->raw_size > max_size) max_size = (double)s->raw_size;
    if (i == 0 || (double)s->vsize < min_vsize) min_vsize = (double)s->vsize;
  }
  out[1] = (double)code / n;
  out[2] = (double)exec / n;
  out[3] = ent_max > 0 ? (ent_sum / n) / ent_max : 0.0;
  double norm = min_vsize > 0 ? max_size / min_vsize : 0.0;
  if (norm > 0) {
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++) sum += (double)v->sections[i].raw_size / (double)v->sections[i].vsize;
    out[4] = (sum / n) / norm;
  }
}

int pf_ergo486_encode(const uint8_t *raw, size_t sz, const pf_pe_view *v, double out[PF_ERGO486_DIM]) {
  if (sz == 0) return PF_EINVAL;
  pf_ergo486_properties(raw, sz, v, out + PF_E486_PROPS);
  pf_ergo486_entrypoint(raw, sz, v->entrypoint, out + PF_E486_EP);
  pf_ergo486_histogram(raw, sz, out + PF_E486_HIST);
  pf_ergo486_imports(v, out + PF_E486_IMPORTS);
  pf_ergo486_sections(sz, v, out + PF_E486_VSIZE);
  return PF_OK;
}
