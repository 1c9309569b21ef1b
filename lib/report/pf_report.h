/* pf_report: owns `pefleet report`'s work: one self-contained HTML page
 * (inline SVG, no scripts, nothing fetched) about a model folder, drawn
 * straight from its files' structs, with --compare's second model,
 * --dataset's figures computed in memory and --over-time's file.
 * Defines the options and the one call that builds and writes the page.
 * Called by cli/cmd_report.c. */
#ifndef PF_REPORT_H
#define PF_REPORT_H

#include <stddef.h>

#include "pf_report_model.h"

typedef struct {
  const char *out;       /* the page's path */
  const char *compare;   /* a second model folder, or NULL */
  const char *dataset;   /* a seed-layout CSV for the figures the folders lack, or NULL */
  const char *label_map; /* the CSV's labels as classes (L=C,...), or NULL */
  const char *over_time; /* evaluate --by --json's output, or NULL */
} pf_report_opts;

/* Builds the page of a (loaded with pf_report_model_load, which said it is
 * a model folder) and writes o->out whole or not at all. Returns PF_OK, or
 * an error code with one line in err. note receives a warning to show the
 * user ("" when none): two compared curves that are not on the same rows. */
int pf_report_write(pf_report_model *a, const pf_report_opts *o, char *err, size_t errlen, char *note,
                    size_t notelen);

#endif
