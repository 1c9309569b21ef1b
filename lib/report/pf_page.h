/* pf_page: owns the model report's HTML page, drawn from the folder's
 * structs (pf_report_model).
 * Defines one writer per section (model, training curves, ROC, confusion
 * matrices, figures, data set, relevance, PCA), each an <h2> plus inline SVG
 * plots or tables, or a "not available: why" panel when its data is missing.
 * b (may be NULL) is the --compare model. All text is HTML-escaped.
 * Called by pf_report (pefleet report). */
#ifndef PF_PAGE_H
#define PF_PAGE_H

#include <stdio.h>

#include "pf_report_model.h"

void pf_page_head(FILE *f, const pf_report_model *a, const pf_report_model *b);
void pf_page_model(FILE *f, const pf_report_model *a, const pf_report_model *b);
void pf_page_history(FILE *f, const pf_report_model *a);
void pf_page_roc(FILE *f, const pf_report_model *a, const pf_report_model *b);
void pf_page_confusion(FILE *f, const pf_report_model *a);
void pf_page_figures(FILE *f, const pf_report_model *a, const pf_report_model *b);
void pf_page_dataset(FILE *f, const pf_report_model *a);
void pf_page_relevance(FILE *f, const pf_report_model *a);
void pf_page_pca(FILE *f, const pf_report_model *a);
/* Only when the model has figures per period (over_time.json or --over-time). */
void pf_page_over_time(FILE *f, const pf_report_model *a);
void pf_page_tail(FILE *f);

/* The whole page: head, every section, tail. */
void pf_page_write(FILE *f, const pf_report_model *a, const pf_report_model *b);

#endif
