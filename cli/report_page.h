/* report_page: owns the sections of the model report's HTML page.
 * Defines one writer per section (model, training curves, ROC, confusion
 * matrices, figures, data set, relevance, PCA), each an <h2> plus inline SVG
 * plots or tables, or a "not available: why" panel when its data is missing.
 * b (may be NULL) is the --compare model. All text is HTML-escaped.
 * Called by cli/cmd_report.c. */
#ifndef PF_REPORT_PAGE_H
#define PF_REPORT_PAGE_H

#include <stdio.h>

#include "report_data.h"

void report_page_head(FILE *f, const report_model *a, const report_model *b);
void report_section_model(FILE *f, const report_model *a, const report_model *b);
void report_section_history(FILE *f, const report_model *a);
void report_section_roc(FILE *f, const report_model *a, const report_model *b);
void report_section_confusion(FILE *f, const report_model *a);
void report_section_figures(FILE *f, const report_model *a, const report_model *b);
void report_section_dataset(FILE *f, const report_model *a);
void report_section_relevance(FILE *f, const report_model *a);
void report_section_pca(FILE *f, const report_model *a);
/* Only when the model has figures per period (over_time.json or --over-time). */
void report_section_over_time(FILE *f, const report_model *a);
void report_page_tail(FILE *f);

#endif
