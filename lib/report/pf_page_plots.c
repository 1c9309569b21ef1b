/* The report's PCA and quality-over-time plots, and the whole page (see
 * pf_page.h). */
#include "pf_page.h"
#include "pf_page_html.h"
#include "pf_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void pca_scatter(FILE *f, const pf_folder_pca *p) {
  double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
  size_t cnt[2] = {0, 0};
  for (size_t i = 0; i < p->n; i++) {
    if (!isfinite(p->pc1[i]) || !isfinite(p->pc2[i])) continue;
    xl = fmin(xl, p->pc1[i]); xh = fmax(xh, p->pc1[i]);
    yl = fmin(yl, p->pc2[i]); yh = fmax(yh, p->pc2[i]);
    cnt[p->label[i]]++;
  }
  if (!isfinite(xl)) { xl = yl = -1; xh = yh = 1; }
  pf_svg_nice_range(&xl, &xh, 6);
  pf_svg_nice_range(&yl, &yh, 5);
  double *x = malloc((p->n ? p->n : 1) * sizeof *x), *y = malloc((p->n ? p->n : 1) * sizeof *y);
  if (!x || !y) { free(x); free(y); return; }
  char xt[64], yt[64], l0[120], l1[120];
  snprintf(xt, sizeof xt, "PC1 (%.1f%% of the variance)", 100 * p->ratio[0]);
  snprintf(yt, sizeof yt, "PC2 (%.1f%% of the variance)", p->k > 1 ? 100 * p->ratio[1] : 0.0);
  pf_svg_plot pl;
  pf_page__fig_open(f);
  pf_svg_begin(&pl, f, 520, 420, "PCA projection of the test split", xl, xh, yl, yh);
  pf_svg_axes(&pl, xt, yt, 0, 0);
  static const char *const col[2] = {C_CLEAN, C_MAL};
  for (int c = 0; c < 2; c++) {
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++)
      if (p->label[i] == c) { x[m] = p->pc1[i]; y[m] = p->pc2[i]; m++; }
    pf_svg_points(&pl, x, y, m, col[c], 2.6, 0.55);
  }
  snprintf(l0, sizeof l0, "%s (%zu)", p->classes[0], cnt[0]);
  snprintf(l1, sizeof l1, "%s (%zu)", p->classes[1], cnt[1]);
  pf_svg_legend_item it[2] = {{l0, C_CLEAN, NULL, 1}, {l1, C_MAL, NULL, 1}};
  pf_svg_legend(&pl, it, 2, 1);
  pf_svg_end(&pl);
  pf_page__fig_close(f, "Test rows on the first two principal components of the standardized features, coloured by true "
               "class.");
  free(x); free(y);
}

static void pca_variance(FILE *f, const pf_folder_pca *p) {
  double x[64], r[64], cum[64], acc = 0;
  for (size_t i = 0; i < p->k; i++) { x[i] = (double)(i + 1); r[i] = p->ratio[i]; acc += r[i]; cum[i] = acc; }
  double hi = acc > 0 ? fmin(1, acc * 1.05) : 1;
  double lo = 0;
  pf_svg_nice_range(&lo, &hi, 5);
  if (hi > 1) hi = 1;
  pf_svg_plot pl;
  pf_page__fig_open(f);
  pf_svg_begin(&pl, f, 520, 420, "Explained variance per principal component", 0.4, (double)p->k + 0.6, 0, hi);
  pf_svg_axes(&pl, "principal component", "share of the total variance", 0, 1);
  pf_svg_vbars(&pl, x, r, p->k, 0.7, C_TRAIN);
  pf_svg_line(&pl, x, cum, p->k, C_VAL, NULL, 2.2);
  pf_svg_points(&pl, x, cum, p->k, C_VAL, 2.5, 1);
  pf_svg_legend_item it[2] = {{"each component", C_TRAIN, NULL, 1}, {"cumulative", C_VAL, NULL, 0}};
  pf_svg_legend(&pl, it, 2, 0);
  pf_svg_end(&pl);
  char cap[200];
  snprintf(cap, sizeof cap, "The first %zu components explain %.1f%% of the variance of the standardized features.",
           p->k, 100 * acc);
  pf_page__fig_close(f, cap);
}

void pf_page_pca(FILE *f, const pf_report_model *a) {
  pf_page__h2(f, "pca", "PCA of the test split");
  const pf_folder_pca *p = &a->fd.pca;
  if (!p->present) { pf_page__unavailable(f, "PCA projection", p->why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>%zu of %zu test rows drawn (a class-stratified sample); the PCA was fitted on %zu rows with LAPACK "
             "(dsyevr) on the correlation matrix.</p>\n<div class=\"row\">\n", p->n, p->rows, p->fit_rows);
  pca_scatter(f, p);
  pca_variance(f, p);
  fputs("</div>\n</section>\n", f);
}

/* ---- quality over time ---- */

static void time_plot(FILE *f, const pf_folder_over_time *o) {
  size_t n = o->n;
  double *x = malloc((n ? n : 1) * sizeof *x);
  if (!x) return;
  for (size_t i = 0; i < n; i++) x[i] = (double)(i + 1);
  const char *per = strcmp(o->by, "month") == 0 ? "month" : "week";
  char label[64], xt[64];
  snprintf(label, sizeof label, "Quality per %s", per);
  snprintf(xt, sizeof xt, "%s (1 = %s)", per, n ? o->p[0].label : "-");
  double *auc = malloc((n ? n : 1) * sizeof *auc), *t1 = malloc((n ? n : 1) * sizeof *t1);
  double *tt = malloc((n ? n : 1) * sizeof *tt), *fp = malloc((n ? n : 1) * sizeof *fp);
  if (auc && t1 && tt && fp) {
    for (size_t i = 0; i < n; i++) {
      auc[i] = o->p[i].roc_auc;
      t1[i] = o->p[i].tpr1;
      tt[i] = o->p[i].tpr;
      fp[i] = o->p[i].fpr;
    }
    pf_svg_plot p;
    pf_page__fig_open(f);
    pf_svg_begin(&p, f, 620, 360, label, n > 1 ? 1 : 0, n > 1 ? (double)n : 2, 0, 1);
    pf_svg_axes(&p, xt, "rate", 0, 1);
    pf_svg_line(&p, x, t1, n, C_TRAIN, NULL, 2.4);
    pf_svg_line(&p, x, tt, n, C_VAL, "6 4", 2);
    pf_svg_line(&p, x, auc, n, C_B, "2 3", 2);
    pf_svg_line(&p, x, fp, n, "#c0392b", "1 3", 1.6);
    if (n <= 60) pf_svg_points(&p, x, t1, n, C_TRAIN, 3, 1);
    pf_svg_legend_item it[4] = {{"TPR at 1% FPR", C_TRAIN, NULL, 0}, {"TPR at the threshold", C_VAL, "6 4", 0},
                                {"ROC AUC", C_B, "2 3", 0}, {"FPR at the threshold", "#c0392b", "1 3", 0}};
    pf_svg_legend(&p, it, 4, 1);
    pf_svg_end(&p);
    pf_page__fig_close(f, "Per period of first-seen time: the thresholds for 1% and 0.1% FPR were chosen on the model's "
                 "validation split, so a falling TPR means newer samples are missed, not that the threshold moved.");
  }
  free(auc); free(t1); free(tt); free(fp); free(x);
}

void pf_page_over_time(FILE *f, const pf_report_model *a) {
  const pf_folder_over_time *o = &a->fd.over_time;
  if (!o->exists) return; /* only models trained by time, or --over-time */
  pf_page__h2(f, "time", "Quality over time");
  if (!o->present) { pf_page__unavailable(f, "quality over time", o->why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>%zu %s%s of first-seen time, from ", o->n, strcmp(o->by, "month") == 0 ? "month" : "week",
          o->n == 1 ? "" : "s");
  pf_page__esc(f, o->source);
  fputs(".</p>\n", f);
  if (o->n == 0) { pf_page__unavailable(f, "quality over time", "no period has samples"); fputs("</section>\n", f); return; }
  time_plot(f, o);
  fputs("<table aria-label=\"quality over time\"><thead><tr><th>period</th><th>start</th><th>clean</th>"
        "<th>malicious</th><th>ROC AUC</th><th>TPR</th><th>FPR</th><th>TPR at 1% FPR</th><th>FPR at 1%</th>"
        "<th>TPR at 0.1% FPR</th></tr></thead>\n<tbody>\n", f);
  for (size_t i = 0; i < o->n; i++) {
    const pf_folder_period *p = &o->p[i];
    fputs("<tr><td>", f);
    pf_page__esc(f, p->label);
    char day[16];
    snprintf(day, sizeof day, "%.10s", p->start); /* the day the period starts (UTC) */
    fputs("</td><td>", f);
    pf_page__esc(f, day);
    fputs("</td>", f);
    pf_page__cell(f, p->clean, "%.0f");
    pf_page__cell(f, p->malicious, "%.0f");
    pf_page__cell(f, p->roc_auc, "%.4f");
    pf_page__pct_cell(f, p->tpr);
    pf_page__pct_cell(f, p->fpr);
    pf_page__pct_cell(f, p->tpr1);
    pf_page__pct_cell(f, p->fpr1);
    pf_page__pct_cell(f, p->tpr01);
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table>\n</section>\n", f);
}

void pf_page_write(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  pf_page_head(f, a, b);
  pf_page_model(f, a, b);
  pf_page_history(f, a);
  pf_page_roc(f, a, b);
  pf_page_confusion(f, a);
  pf_page_figures(f, a, b);
  pf_page_dataset(f, a);
  pf_page_relevance(f, a);
  pf_page_pca(f, a);
  pf_page_over_time(f, a);
  pf_page_tail(f);
}
