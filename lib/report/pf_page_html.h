/* pf_page_html: the HTML pieces every section of the report's page uses
 * (internal to pf_page*.c: the double-underscore names).
 * Defines the colours, escaping, the "not available" panel, headings,
 * figures, table cells and the AUC's text.
 * Called by pf_page.c, pf_page_tables.c and pf_page_plots.c. */
#ifndef PF_PAGE_HTML_H
#define PF_PAGE_HTML_H

#include <stdio.h>

#include "pf_report_model.h"

#define C_TRAIN "#3b6fb6"
#define C_VAL "#e08a2c"
#define C_CLEAN "#2a9d57"
#define C_MAL "#c8382f"
#define C_B "#8e44ad" /* the --compare model */

extern const char *const pf_page__split_names[3]; /* train, validation, test */

void pf_page__esc(FILE *f, const char *s);
/* the model's version, or its folder */
const char *pf_page__name_of(const pf_report_model *m);
void pf_page__unavailable(FILE *f, const char *what, const char *why);
void pf_page__h2(FILE *f, const char *id, const char *title);
void pf_page__fig_open(FILE *f);
void pf_page__fig_close(FILE *f, const char *caption);
/* a number for a table cell: "—" when missing; pct: as a percentage */
void pf_page__cell(FILE *f, double v, const char *fmt);
void pf_page__pct_cell(FILE *f, double v);
/* "0.9876", or "undefined (one class)"; four calls' results live at once */
const char *pf_page__auc_text(double v);

#endif
