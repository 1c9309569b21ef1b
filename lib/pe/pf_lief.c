/* LIEF C API adapter: Pe_Binary_t -> pf_pe_view. */
#include "pf_lief.h"
#include "pf_err.h"

#include <LIEF/LIEF.h>
#include <stdlib.h>
#include <string.h>

static int copy_sections(const Pe_Binary_t *b, pf_pe_view *out) {
  uint32_t n = 0;
  while (b->sections && b->sections[n]) {
    if (++n > PF_PE_MAX_SECTIONS) return PF_ELIMIT;
  }
  if (n == 0) return PF_OK;
  out->sections = calloc(n, sizeof *out->sections);
  if (!out->sections) return PF_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    const Pe_Section_t *s = b->sections[i];
    pf_pe_section *d = &out->sections[i];
    d->va = s->virtual_address;
    d->raw_size = s->size;
    d->raw_off = s->offset;
    d->vsize = s->virtual_size;
    d->characteristics = s->characteristics;
    d->entropy = s->entropy;
  }
  out->n_sections = n;
  return PF_OK;
}

static int copy_imports(const Pe_Binary_t *b, pf_pe_view *out) {
  uint32_t n = 0;
  while (b->imports && b->imports[n]) {
    if (++n > PF_PE_MAX_IMPORTS) return PF_ELIMIT;
  }
  if (n == 0) return PF_OK;
  out->imports = calloc(n, sizeof *out->imports);
  if (!out->imports) return PF_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    const Pe_Import_t *imp = b->imports[i];
    pf_pe_import *d = &out->imports[i];
    if (imp->name) {
      strncpy(d->name, imp->name, sizeof d->name - 1);
      d->name[sizeof d->name - 1] = '\0';
    }
    uint32_t e = 0;
    while (imp->entries && imp->entries[e] && e < UINT32_MAX) e++;
    d->n_entries = e;
  }
  out->n_imports = n;
  return PF_OK;
}

int pf_lief_parse(const char *path, pf_pe_view *out) {
  memset(out, 0, sizeof *out);
  Pe_Binary_t *b = pe_parse(path);
  if (!b) return PF_ENOTPE;
  out->e_lfanew = b->dos_header.addressof_new_exeheader;
  out->pe32plus = b->optional_header.magic != LIEF_PE_PE32;
  out->entrypoint = b->optional_header.addressof_entrypoint;
  out->imagebase = b->optional_header.imagebase;
  out->section_alignment = b->optional_header.section_alignment;
  out->file_alignment = b->optional_header.file_alignment;
  out->dll_characteristics = b->optional_header.dll_characteristics;
  out->size_of_image = b->optional_header.sizeof_image;
  for (int i = 0; i < PF_PE_NUM_DIRS && b->data_directories && b->data_directories[i]; i++) {
    out->dirs[i].rva = b->data_directories[i]->rva;
    out->dirs[i].size = b->data_directories[i]->size;
  }
  int rc = copy_sections(b, out);
  if (rc == PF_OK) rc = copy_imports(b, out);
  pe_binary_destroy(b);
  if (rc != PF_OK) pf_pe_view_destroy(out);
  return rc;
}
