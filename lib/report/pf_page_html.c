/* The HTML pieces of the report's page (see pf_page_html.h). */
#include "pf_page_html.h"
#include "pf_svg.h"

#include <math.h>
#include <stdio.h>

const char *const pf_page__split_names[3] = {"train", "validation", "test"};

void pf_page__esc(FILE *f, const char *s) { pf_svg_escape(f, s); }

const char *pf_page__name_of(const pf_report_model *m) {
  return m->model && m->model->version[0] ? m->model->version : m->dir;
}

void pf_page__unavailable(FILE *f, const char *what, const char *why) {
  fputs("<div class=\"na\" role=\"note\"><strong>Not available: ", f);
  pf_page__esc(f, what);
  fputs("</strong> — ", f);
  pf_page__esc(f, why);
  fputs("</div>\n", f);
}

void pf_page__h2(FILE *f, const char *id, const char *title) {
  fprintf(f, "<section id=\"%s\">\n<h2>", id);
  pf_page__esc(f, title);
  fputs("</h2>\n", f);
}

void pf_page__fig_open(FILE *f) { fputs("<figure>\n", f); }
void pf_page__fig_close(FILE *f, const char *caption) {
  fputs("<figcaption>", f);
  pf_page__esc(f, caption);
  fputs("</figcaption></figure>\n", f);
}

/* a number for a table cell: "—" when missing */
void pf_page__cell(FILE *f, double v, const char *fmt) {
  if (isnan(v)) fputs("<td class=\"num\">—</td>", f);
  else { fputs("<td class=\"num\">", f); fprintf(f, fmt, v); fputs("</td>", f); }
}
void pf_page__pct_cell(FILE *f, double v) { pf_page__cell(f, isnan(v) ? v : 100 * v, "%.2f%%"); }

/* "0.9876", or "undefined" (one class only); a static buffer per call site use */
const char *pf_page__auc_text(double v) {
  static char buf[4][32];
  static int k;
  k = (k + 1) % 4;
  if (isfinite(v)) snprintf(buf[k], sizeof buf[k], "%.4f", v);
  else snprintf(buf[k], sizeof buf[k], "undefined (one class)");
  return buf[k];
}
