/* pf_pe: owns the neutral in-memory view of a parsed PE file.
 * Defines pf_pe_view (headers, data directories, sections, import counts),
 * a bounds-checked header reader over raw bytes, and the LIEF-0.9 address
 * rules (rva_to_offset, section_from_offset) the feature code relies on.
 * Called by pf_lief (fills a view from LIEF), pf_ergo486, tests and fuzzers. */
#ifndef PF_PE_H
#define PF_PE_H

#include <stddef.h>
#include <stdint.h>

#define PF_PE_NUM_DIRS 16
#define PF_PE_MAX_SECTIONS 4096  /* cap on any section count from a file */
#define PF_PE_MAX_IMPORTS 4096   /* cap on import descriptors kept */
#define PF_PE_MAX_DLLNAME 256

enum {
  PF_DIR_EXPORT = 0, PF_DIR_IMPORT = 1, PF_DIR_RESOURCE = 2,
  PF_DIR_EXCEPTION = 3, PF_DIR_SECURITY = 4, PF_DIR_BASERELOC = 5,
  PF_DIR_DEBUG = 6, PF_DIR_TLS = 9, PF_DIR_LOAD_CONFIG = 10,
};

typedef struct {
  uint32_t rva, size;
} pf_pe_dir;

typedef struct {
  uint64_t va;          /* VirtualAddress */
  uint64_t raw_size;    /* SizeOfRawData */
  uint64_t raw_off;     /* PointerToRawData */
  uint32_t vsize;       /* VirtualSize */
  uint32_t characteristics;
  double entropy;       /* bits per byte of the content as read */
} pf_pe_section;

typedef struct {
  char name[PF_PE_MAX_DLLNAME];
  uint32_t n_entries;
} pf_pe_import;

typedef struct {
  uint32_t e_lfanew;
  int pe32plus;               /* 0: PE32 (magic 0x10b), 1: PE32+ */
  uint32_t entrypoint;        /* AddressOfEntryPoint (an RVA) */
  uint64_t imagebase;
  uint32_t section_alignment;
  uint32_t file_alignment;
  uint32_t dll_characteristics;
  uint32_t size_of_image;     /* SizeOfImage */
  pf_pe_dir dirs[PF_PE_NUM_DIRS];
  uint32_t n_sections;
  pf_pe_section *sections;    /* owned by the view */
  uint32_t n_imports;
  pf_pe_import *imports;      /* owned by the view; NULL when none */
} pf_pe_view;

/* Reads the DOS, file and optional headers, the data directories and the
 * section table from buf[0..len), computing each section's entropy over the
 * part of its raw data inside the buffer. Imports are not read (n_imports=0).
 * Returns PF_OK, or PF_ENOTPE/PF_ETRUNC/PF_ELIMIT/PF_ENOMEM with a one-line
 * reason in err. On failure the view holds nothing to free. */
int pf_pe_read(const uint8_t *buf, size_t len, pf_pe_view *out, char *err, size_t errlen);

/* Cheap check that LIEF would even try: at least a DOS header, "MZ", and
 * "PE\0\0" at e_lfanew inside the file. Returns PF_OK, or PF_ENOTPE /
 * PF_ETRUNC with a one-line reason in err. */
int pf_pe_sniff(const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Frees what the view owns and zeroes it; safe on a zeroed view. */
void pf_pe_view_destroy(pf_pe_view *v);

/* LIEF 0.9's Binary::rva_to_offset: the section whose [va, va+vsize)
 * holds rva maps it through aligned addresses; otherwise rva is returned. */
uint64_t pf_pe_rva_to_offset(const pf_pe_view *v, uint64_t rva);

/* LIEF 0.9's section_from_offset: index of the first section whose raw range
 * [raw_off, raw_off+raw_size) holds off, or -1. */
long pf_pe_section_from_offset(const pf_pe_view *v, uint64_t off);

/* LIEF 0.9's Binary::get_virtual_size. */
uint64_t pf_pe_virtual_size(const pf_pe_view *v);

/* Shannon entropy in bits per byte of buf[0..len); 0 for len 0. */
double pf_pe_entropy(const uint8_t *buf, size_t len);

/* Little-endian reads; the caller has checked bounds with pf_pe_fits. */
static inline int pf_pe_fits(size_t len, uint64_t off, uint64_t n) {
  return off <= len && n <= len - off;
}
static inline uint16_t pf_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pf_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pf_rd64(const uint8_t *p) {
  return (uint64_t)pf_rd32(p) | (uint64_t)pf_rd32(p + 4) << 32;
}

#endif
