/* pf_ergo486: owns the seed's 486-value feature vector (schema "ergo486").
 * Defines the layout offsets, the feature names and pf_ergo486_encode(),
 * which turns raw file bytes plus a pf_pe_view into the vector, keeping
 * LIEF 0.9's quirks (see ../shared/spec/ergo486.md).
 * Called by the isolated encoder child (pf_encoder), tests and the fuzzer. */
#ifndef PF_ERGO486_H
#define PF_ERGO486_H

#include <stddef.h>
#include <stdint.h>

#include "pf_pe.h"

#define PF_ERGO486_DIM 486
#define PF_ERGO486_SCHEMA "ergo486"
#define PF_ERGO486_SCHEMA_ID 1u

enum {
  PF_E486_PROPS = 0,      /* 11 properties */
  PF_E486_EP = 11,        /* 64 entry point bytes */
  PF_E486_HIST = 75,      /* 256 byte histogram */
  PF_E486_IMPORTS = 331,  /* 150 import libraries */
  PF_E486_VSIZE = 481,
  PF_E486_CODE = 482,
  PF_E486_PEC = 483,
  PF_E486_ENTROPY = 484,
  PF_E486_VSIZE_AVG = 485,
  PF_E486_NPROPS = 11,
  PF_E486_NLIBS = 150,
};

/* Property order, as in the seed: has_configuration, has_debug,
 * has_exceptions, has_exports, has_imports, has_nx, has_relocations,
 * has_resources, has_rich_header, has_signature, has_tls. */
enum {
  PF_P_CONFIGURATION, PF_P_DEBUG, PF_P_EXCEPTIONS, PF_P_EXPORTS, PF_P_IMPORTS,
  PF_P_NX, PF_P_RELOCATIONS, PF_P_RESOURCES, PF_P_RICH, PF_P_SIGNATURE, PF_P_TLS,
};

/* The 150 library names of the import group, in vector order. */
extern const char *const pf_ergo486_libs[PF_E486_NLIBS];

/* Writes the name of feature i (0..485) as in the seed's attribute.names
 * into buf; returns PF_OK or PF_EINVAL. */
int pf_ergo486_name(int i, char *buf, size_t buflen);

/* Each group on its own (unit-tested one by one). raw/sz is the whole file. */
void pf_ergo486_properties(const uint8_t *raw, size_t sz, const pf_pe_view *v, double out[PF_E486_NPROPS]);
void pf_ergo486_entrypoint(const uint8_t *raw, size_t sz, uint32_t ep, double out[64]);
void pf_ergo486_histogram(const uint8_t *raw, size_t sz, double out[256]);
void pf_ergo486_imports(const pf_pe_view *v, double out[PF_E486_NLIBS]);
void pf_ergo486_sections(size_t sz, const pf_pe_view *v, double out[5]);

/* The whole vector. raw must be the bytes the view was parsed from.
 * Returns PF_OK, or PF_EINVAL for an empty file. */
int pf_ergo486_encode(const uint8_t *raw, size_t sz, const pf_pe_view *v, double out[PF_ERGO486_DIM]);

#endif
