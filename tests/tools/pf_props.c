/* pf_props: test-only tool of tests/integration/lief_differential.sh.
 * For each PE file given, prints the properties pefleet derives from what
 * LIEF's C API exposes (lib/pf_ergo486.c, lib/pf_pe.c), in the layout of
 * tests/difftool/lief_props.cc, so the two can be compared line by line:
 *   PATH<TAB>has_configuration,...,has_tls<TAB>virtual_size
 * or PATH<TAB>error<TAB>REASON. Parses in-process (a test tool, run on
 * the test machine's own package files, not on samples). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_ergo486.h"
#include "pf_err.h"
#include "pf_io.h"
#include "pf_lief.h"
#include "pf_pe.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    uint8_t *raw = NULL;
    size_t sz = 0;
    if (pf_io_read_file(argv[i], (size_t)1 << 30, &raw, &sz) != PF_OK) {
      printf("%s\terror\tunreadable\n", argv[i]);
      continue;
    }
    pf_pe_view v;
    int rc = pf_lief_parse(argv[i], &v);
    if (rc != PF_OK) {
      printf("%s\terror\t%s\n", argv[i], pf_strerror(rc));
      free(raw);
      continue;
    }
    double p[PF_E486_NPROPS];
    pf_ergo486_properties(raw, sz, &v, p);
    printf("%s\t", argv[i]);
    for (int k = 0; k < PF_E486_NPROPS; k++) printf("%s%d", k ? "," : "", p[k] != 0.0);
    printf("\t%llu\n", (unsigned long long)pf_pe_virtual_size(&v));
    pf_pe_view_destroy(&v);
    free(raw);
  }
  return 0;
}
