/* The report's tables: confusion matrices, figures, data set and relevance
 * (see pf_page.h). */
#include "pf_page.h"
#include "pf_page_html.h"
#include "pf_svg.h"

#include <math.h>
#include <stdlib.h>

static void cm_table(FILE *f, const pf_folder_split *s, const char *split) {
  fprintf(f, "<div class=\"tbl\"><table aria-label=\"confusion matrix %s\"><caption>", split);
  pf_page__esc(f, split);
  fprintf(f, " (%.0f rows)</caption><tr><th>true \\ predicted</th>", s->n);
  for (int c = 0; c < 2; c++) { fputs("<th>", f); pf_page__esc(f, s->classes[c]); fputs("</th>", f); }
  fputs("</tr>\n", f);
  for (int r = 0; r < 2; r++) {
    double row = s->cm[r][0] + s->cm[r][1];
    fputs("<tr><th>", f);
    pf_page__esc(f, s->classes[r]);
    fputs("</th>", f);
    for (int c = 0; c < 2; c++) {
      double rate = row > 0 ? s->cm[r][c] / row : NAN;
      const char *rgb = r == c ? "42,157,87" : "200,56,47";
      fprintf(f, "<td class=\"num\" style=\"background:rgba(%s,%.2f)\">%.0f<br><small>%.2f%% of true ", rgb,
              isnan(rate) ? 0 : 0.08 + 0.5 * rate, s->cm[r][c], isnan(rate) ? 0 : 100 * rate);
      pf_page__esc(f, s->classes[r]);
      fputs("</small></td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table></div>\n", f);
}

void pf_page_confusion(FILE *f, const pf_report_model *a) {
  pf_page__h2(f, "confusion", "Confusion matrices");
  if (!a->fd.stats.present) { pf_page__unavailable(f, "confusion matrices", a->fd.stats.why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>Counts at the decision threshold, with each cell's share of its true class.</p>\n<div class=\"row\">\n");
  for (int s = 0; s < 3; s++)
    if (a->fd.stats.s[s].present) cm_table(f, &a->fd.stats.s[s], pf_page__split_names[s]);
  fputs("</div>\n</section>\n", f);
}

/* ---- figures ---- */

static void figures_table(FILE *f, const pf_report_model *m) {
  fputs("<div class=\"tbl\"><table aria-label=\"figures ", f);
  pf_page__esc(f, pf_page__name_of(m));
  fputs("\"><caption>", f);
  pf_page__esc(f, pf_page__name_of(m));
  fputs("</caption><tr><th>figure</th>", f);
  for (int s = 0; s < 3; s++) fprintf(f, "<th>%s</th>", pf_page__split_names[s]);
  fputs("</tr>\n", f);
  const pf_folder_split *sp = m->fd.stats.s;
  const char *c0 = sp[2].present ? sp[2].classes[0] : "0", *c1 = sp[2].present ? sp[2].classes[1] : "1";
  enum { ROWS = 15 };
  for (int r = 0; r < ROWS; r++) {
    static const char *const lab[ROWS] = {"rows", "accuracy", "ROC AUC", "threshold", "FPR at the threshold",
      "TPR at FPR ≤ 1%", "threshold for FPR ≤ 1%", "TPR at FPR ≤ 0.1%", "threshold for FPR ≤ 0.1%", "precision ",
      "recall ", "F1 ", "precision ", "recall ", "F1 "};
    fputs("<tr><th>", f);
    pf_page__esc(f, lab[r]);
    if (r >= 9) pf_page__esc(f, r < 12 ? c0 : c1);
    fputs("</th>", f);
    for (int s = 0; s < 3; s++) {
      const pf_folder_split *x = &sp[s];
      if (!x->present) { fputs("<td class=\"num\">—</td>", f); continue; }
      int c = r >= 12;
      switch (r) {
      case 0: pf_page__cell(f, x->n, "%.0f"); break;
      case 1: pf_page__pct_cell(f, x->accuracy); break;
      case 2: pf_page__cell(f, x->roc_auc, "%.4f"); break;
      case 3: pf_page__cell(f, x->threshold, "%g"); break;
      case 4: pf_page__pct_cell(f, x->fpr); break;
      case 5: pf_page__pct_cell(f, x->tpr01); break;
      case 6: pf_page__cell(f, x->thr01, "%.4g"); break;
      case 7: pf_page__pct_cell(f, x->tpr001); break;
      case 8: pf_page__cell(f, x->thr001, "%.4g"); break;
      case 9: case 12: pf_page__pct_cell(f, x->precision[c]); break;
      case 10: case 13: pf_page__pct_cell(f, x->recall[c]); break;
      default: pf_page__pct_cell(f, x->f1[c]); break;
      }
    }
    fputs("</tr>\n", f);
  }
  fputs("</table></div>\n", f);
}

void pf_page_figures(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  pf_page__h2(f, "figures", "Figures per split (stats.json)");
  if (!a->fd.stats.present) { pf_page__unavailable(f, "figures", a->fd.stats.why); fputs("</section>\n", f); return; }
  fputs("<div class=\"row\">\n", f);
  figures_table(f, a);
  if (b) {
    if (b->fd.stats.present) figures_table(f, b);
    else pf_page__unavailable(f, "the compared model's figures", b->fd.stats.why);
  }
  fputs("</div>\n</section>\n", f);
}

/* ---- data set ---- */

void pf_page_dataset(FILE *f, const pf_report_model *a) {
  pf_page__h2(f, "dataset", "Data set size and class balance");
  if (!a->fd.stats.present) { pf_page__unavailable(f, "data set sizes", a->fd.stats.why); fputs("</section>\n", f); return; }
  const pf_folder_split *sp = a->fd.stats.s;
  double total = 0;
  for (int s = 0; s < 3; s++) if (sp[s].present) total += sp[s].n;
  fputs("<table aria-label=\"data set\"><tr><th>split</th><th>rows</th><th>share of all rows</th>", f);
  for (int c = 0; c < 2; c++) { fputs("<th>", f); pf_page__esc(f, sp[2].present ? sp[2].classes[c] : c ? "1" : "0"); fputs("</th>", f); }
  fputs("</tr>\n", f);
  for (int s = 0; s < 3; s++) {
    if (!sp[s].present) continue;
    fprintf(f, "<tr><th>%s</th>", pf_page__split_names[s]);
    pf_page__cell(f, sp[s].n, "%.0f");
    pf_page__pct_cell(f, total > 0 ? sp[s].n / total : NAN);
    for (int c = 0; c < 2; c++)
      fprintf(f, "<td class=\"num\">%.0f <small>(%.1f%%)</small></td>", sp[s].support[c],
              sp[s].n > 0 ? 100 * sp[s].support[c] / sp[s].n : 0);
    fputs("</tr>\n", f);
  }
  fprintf(f, "<tr><th>all</th><td class=\"num\">%.0f</td><td class=\"num\">100%%</td>", total);
  for (int c = 0; c < 2; c++) {
    double n = 0;
    for (int s = 0; s < 3; s++) if (sp[s].present && !isnan(sp[s].support[c])) n += sp[s].support[c];
    fprintf(f, "<td class=\"num\">%.0f <small>(%.1f%%)</small></td>", n, total > 0 ? 100 * n / total : 0);
  }
  fputs("</tr>\n</table>\n</section>\n", f);
}

/* ---- relevance ---- */

void pf_page_relevance(FILE *f, const pf_report_model *a) {
  pf_page__h2(f, "relevance", "Feature relevance (top 25)");
  const pf_folder_relevance *r = &a->fd.relevance;
  if (!r->present) {
    char why[PF_FOLDER_WHY + 80];
    snprintf(why, sizeof why, "%s; run pefleet relevance on the model folder", r->why);
    pf_page__unavailable(f, "feature relevance", why);
    fputs("</section>\n", f);
    return;
  }
  size_t n = r->n < 25 ? r->n : 25;
  char (*names)[96] = malloc(n * sizeof *names);
  const char **np = malloc(n * sizeof *np);
  double *da = malloc(n * sizeof *da), *du = malloc(n * sizeof *du);
  if (names && np && da && du) {
    for (size_t i = 0; i < n; i++) {
      snprintf(names[i], sizeof names[i], "%s [%u]", r->f[i].name, r->f[i].index);
      np[i] = names[i];
      da[i] = r->f[i].d_accuracy;
      du[i] = r->f[i].d_auc;
    }
    fputs("<p>How much test accuracy and ROC AUC drop when one feature is set to 0 in every row (", f);
    pf_page__esc(f, r->source);
    fprintf(f, "; %zu rows", r->rows);
    if (isfinite(r->base_accuracy)) fprintf(f, ", base accuracy %.2f%%", 100 * r->base_accuracy);
    if (isfinite(r->base_auc)) fprintf(f, ", AUC %.4f", r->base_auc);
    fputs("). Feature index in brackets.</p>\n", f);
    int all_zero = 1;
    for (size_t i = 0; i < n; i++)
      if (fabs(da[i]) > 1e-12 || fabs(du[i]) > 1e-12) all_zero = 0;
    if (all_zero)
      fprintf(f, "<p class=\"na\">Every bar is 0: nulling any one feature changed neither a prediction nor the "
                 "ranking of the scores on these %zu rows, so no feature stands out alone (a small test split, or a "
                 "model that does not depend on any single feature; try pefleet relevance --dataset with more rows)."
                 "</p>\n", r->rows);
    fputs("<figure>\n", f);
    pf_svg_hbars(f, 900, "Top 25 features by relevance", np, da, du, n, "accuracy drop", "ROC AUC drop",
                 "drop when the feature is nulled");
    pf_page__fig_close(f, "Most relevant first: by accuracy drop, then by AUC drop.");
  }
  free(names); free(np); free(da); free(du);
  fputs("</section>\n", f);
}

/* ---- PCA ---- */
