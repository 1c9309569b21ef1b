/* The model report's page: head, model, training curves and ROC sections
 * (see pf_page.h). */
#include "pf_page.h"
#include "pf_page_html.h"
#include "pf_ergo486.h"
#include "pf_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pf_page_head(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>pefleet model report: ", f);
  pf_page__esc(f, pf_page__name_of(a));
  if (b) { fputs(" vs ", f); pf_page__esc(f, pf_page__name_of(b)); }
  fputs("</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;color:#222;background:#fafafa;margin:0;line-height:1.45}\n"
        "main{max-width:1100px;margin:0 auto;padding:16px 20px 48px;background:#fff}\n"
        "h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:4px;"
        "margin-top:2em}\n"
        ".row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
        ".row>figure,.row>.tbl{flex:1 1 460px;min-width:0;margin:0}\n"
        "figure{margin:0}figcaption{font-size:.88em;color:#555;margin-top:2px}\n"
        "svg{display:block;height:auto}\n"
        "table{border-collapse:collapse;margin:6px 0;font-size:.92em}\n"
        "th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f3f3f3}\n"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
        "caption{text-align:left;font-weight:600;padding:4px 0}\n"
        "td small{color:#555}\n"
        ".na{border:1px dashed #c9a227;background:#fff8e1;padding:10px 14px;margin:8px 0}\n"
        ".meta{color:#555;font-size:.9em}nav{margin:8px 0;font-size:.95em}nav a{color:#2c5aa0}\n"
        "</style>\n</head>\n<body>\n<main>\n<h1>Model report: ", f);
  pf_page__esc(f, pf_page__name_of(a));
  if (b) { fputs(" compared with ", f); pf_page__esc(f, pf_page__name_of(b)); }
  fputs("</h1>\n<p class=\"meta\">Model folder ", f);
  pf_page__esc(f, a->dir);
  if (b) { fputs(" and ", f); pf_page__esc(f, b->dir); }
  char when[64];
  time_t now = time(NULL);
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
  fprintf(f, ". Written by pefleet report on %s.</p>\n", when);
  const pf_folder_split *t = &a->fd.stats.s[2];
  if (a->fd.stats.present && t->present) {
    fprintf(f, "<p class=\"summary\">Test split: %.0f rows, accuracy <strong>%.2f%%</strong>, ROC AUC <strong>%s</strong>, "
               "FPR %.2f%% at the threshold %g, TPR %.2f%% at FPR ≤ 1%%.</p>\n", t->n, 100 * t->accuracy,
            pf_page__auc_text(t->roc_auc), 100 * t->fpr, t->threshold, 100 * t->tpr01);
  }
  fputs("<nav aria-label=\"sections\">", f);
  static const char *const nav[8][2] = {{"model", "Model"}, {"history", "Training curves"}, {"roc", "ROC curve"},
    {"confusion", "Confusion matrices"}, {"figures", "Figures"}, {"dataset", "Data set"},
    {"relevance", "Relevance"}, {"pca", "PCA"}};
  for (int i = 0; i < 8; i++) fprintf(f, "%s<a href=\"#%s\">%s</a>", i ? " · " : "", nav[i][0], nav[i][1]);
  if (a->fd.over_time.exists) fputs(" · <a href=\"#time\">Quality over time</a>", f);
  fputs("</nav>\n", f);
  if (a->computed_from[0]) {
    fputs("<p class=\"meta\">The model folder lacked some figures; they were computed from ", f);
    pf_page__esc(f, a->computed_from);
    fputs(" (every row, shown as the test split).</p>\n", f);
  }
}

void pf_page_tail(FILE *f) { fputs("</main>\n</body>\n</html>\n", f); }

/* ---- model ---- */

static void model_cells(FILE *f, const pf_report_model *m, int row) {
  fputs("<td>", f);
  const pf_model *p = m->model;
  if (!p) {
    if (row == 0) { fputs("not readable: ", f); pf_page__esc(f, m->model_why); }
    fputs("</td>", f);
    return;
  }
  char buf[512];
  size_t used = 0;
  switch (row) {
  case 0: pf_page__esc(f, p->version[0] ? p->version : "(none)"); break;
  case 1: pf_page__esc(f, p->parent[0] ? p->parent : "none (trained from scratch or imported)"); break;
  case 2:
    if (p->schema == PF_ERGO486_SCHEMA_ID) fprintf(f, "%s (id %u)", PF_ERGO486_SCHEMA, p->schema);
    else fprintf(f, "id %u", p->schema);
    break;
  case 3:
    for (uint32_t i = 0; i <= p->n_layers && used < sizeof buf - 16; i++)
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%u", i ? "–" : "", p->sizes[i]);
    fputs(buf, f);
    fprintf(f, " (%zu parameters)", pf_model_params(p));
    break;
  case 4:
    for (uint32_t i = 0; i < pf_model_classes(p); i++) {
      if (i) fputs(", ", f);
      pf_page__esc(f, p->classes[i]);
    }
    break;
  case 5: fprintf(f, "%g on p(%s)", p->threshold, p->classes[1]); break;
  case 6: pf_page__esc(f, m->dir); break;
  }
  fputs("</td>", f);
}

void pf_page_model(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  static const char *const rows[7] = {"version", "parent version", "feature schema", "layers", "classes",
                                      "decision threshold", "folder"};
  pf_page__h2(f, "model", "Model");
  fputs("<table aria-label=\"model summary\"><tr><th></th><th>", f);
  pf_page__esc(f, pf_page__name_of(a));
  fputs("</th>", f);
  if (b) { fputs("<th>", f); pf_page__esc(f, pf_page__name_of(b)); fputs("</th>", f); }
  fputs("</tr>\n", f);
  for (int r = 0; r < 7; r++) {
    fprintf(f, "<tr><th>%s</th>", rows[r]);
    model_cells(f, a, r);
    if (b) model_cells(f, b, r);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n</section>\n", f);
}

/* ---- training history ---- */

static void curve_plot(FILE *f, const pf_folder_history *h, int acc) {
  const double *tr = acc ? h->acc : h->loss, *va = acc ? h->val_acc : h->val_loss;
  double *ep = malloc(h->n * sizeof *ep), lo = INFINITY, hi = -INFINITY;
  if (!ep) return;
  for (size_t i = 0; i < h->n; i++) {
    ep[i] = (double)(i + 1);
    if (isfinite(tr[i])) { lo = fmin(lo, tr[i]); hi = fmax(hi, tr[i]); }
    if (isfinite(va[i])) { lo = fmin(lo, va[i]); hi = fmax(hi, va[i]); }
  }
  if (!isfinite(lo)) { lo = 0; hi = 1; }
  if (acc) hi = fmin(hi, 1.0);
  pf_svg_nice_range(&lo, &hi, 5);
  if (acc) { lo = fmax(lo, 0); hi = fmin(fmax(hi, lo + 0.01), 1); }
  else lo = fmax(lo, 0);
  pf_svg_plot p;
  pf_page__fig_open(f);
  pf_svg_begin(&p, f, 520, 330, acc ? "Accuracy per epoch" : "Loss per epoch", h->n > 1 ? 1 : 0,
               h->n > 1 ? (double)h->n : 2, lo, hi);
  pf_svg_axes(&p, "epoch", acc ? "accuracy" : "cross-entropy loss", 0, acc);
  pf_svg_line(&p, ep, tr, h->n, C_TRAIN, NULL, 2.2);
  pf_svg_line(&p, ep, va, h->n, C_VAL, "6 4", 2.2);
  if (h->n <= 40) { pf_svg_points(&p, ep, tr, h->n, C_TRAIN, 2.5, 1); pf_svg_points(&p, ep, va, h->n, C_VAL, 2.5, 1); }
  pf_svg_legend_item it[2] = {{"training", C_TRAIN, NULL, 0}, {"validation", C_VAL, "6 4", 0}};
  pf_svg_legend(&p, it, 2, acc ? 2 : 1);
  pf_svg_end(&p);
  pf_page__fig_close(f, acc ? "Accuracy on the training batches (dropout on) and on the validation split after each epoch."
                   : "Mean cross-entropy on the training batches and on the validation split after each epoch.");
  free(ep);
}

void pf_page_history(FILE *f, const pf_report_model *a) {
  pf_page__h2(f, "history", "Training curves");
  if (!a->fd.history.present) { pf_page__unavailable(f, "training history", a->fd.history.why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>%zu epochs.</p>\n<div class=\"row\">\n", a->fd.history.n);
  curve_plot(f, &a->fd.history, 0);
  curve_plot(f, &a->fd.history, 1);
  fputs("</div>\n</section>\n", f);
}

/* ---- ROC ---- */


static void roc_label(char *buf, size_t cap, const pf_folder_op *o) {
  /* no threshold reaches a TPR above 0 within the budget: none to name (never "nan") */
  char thr[48];
  if (isfinite(o->threshold)) snprintf(thr, sizeof thr, "%.4g", o->threshold);
  else snprintf(thr, sizeof thr, "none reaches it");
  if (strcmp(o->name, "threshold") == 0)
    snprintf(buf, cap, "threshold %.3g: TPR %.1f%%, FPR %.2f%%", o->threshold, 100 * o->tpr, 100 * o->fpr);
  else
    snprintf(buf, cap, "%s: TPR %.1f%% (threshold %s)", strcmp(o->name, "fpr<=0.01") == 0 ? "FPR ≤ 1%" :
             strcmp(o->name, "fpr<=0.001") == 0 ? "FPR ≤ 0.1%" : o->name, 100 * o->tpr, thr);
}

static void roc_plot(FILE *f, const pf_report_model *a, const pf_report_model *b, int logx) {
  const pf_folder_roc *ra = &a->fd.roc, *rb = b && b->fd.roc.present ? &b->fd.roc : NULL;
  pf_svg_plot p;
  double x0 = 0;
  if (logx) {
    /* one decade below the smallest non-zero FPR the test split can show */
    size_t neg = ra->negatives > 0 ? ra->negatives : 1000;
    if (rb && rb->negatives > neg) neg = rb->negatives;
    x0 = pow(10, floor(log10(1.0 / (double)neg)));
    if (x0 < 1e-6) x0 = 1e-6;
    if (x0 > 1e-3) x0 = 1e-3;
  }
  char title[160];
  snprintf(title, sizeof title, "ROC curve of the test split%s%s", logx ? ", log FPR" : "", rb ? ", both models" : "");
  pf_page__fig_open(f);
  pf_svg_begin(&p, f, 520, 420, title, x0, 1, 0, 1);
  if (logx) pf_svg_set_xlog(&p);
  pf_svg_axes(&p, logx ? "false positive rate (log scale)" : "false positive rate", "true positive rate", 1, 1);
  if (!logx) {
    double d[2] = {0, 1};
    pf_svg_line(&p, d, d, 2, "#999", "3 3", 1);
  }
  char la[200], lb[200];
  snprintf(la, sizeof la, "%s (AUC %s)", pf_page__name_of(a), pf_page__auc_text(ra->roc_auc));
  pf_svg_line(&p, ra->fpr, ra->tpr, ra->n, C_TRAIN, NULL, 2.2);
  if (rb) {
    snprintf(lb, sizeof lb, "%s (AUC %s)", pf_page__name_of(b), pf_page__auc_text(rb->roc_auc));
    pf_svg_line(&p, rb->fpr, rb->tpr, rb->n, C_B, "7 4", 2.2);
  }
  /* the operating points of the first model: rings, named in the legend
   * (the linear plot marks only the decision threshold) */
  static const char *const opc[3] = {"#111", "#c8382f", "#2a9d57"};
  pf_svg_legend_item it[8];
  char ol[3][200];
  int n = 0;
  it[n++] = (pf_svg_legend_item){la, C_TRAIN, NULL, 0};
  if (rb) it[n++] = (pf_svg_legend_item){lb, C_B, "7 4", 0};
  if (!logx) it[n++] = (pf_svg_legend_item){"chance", "#999", "3 3", 0};
  for (int i = 0; i < ra->nop && i < 3; i++) {
    if (!logx && i > 0) break;
    roc_label(ol[i], sizeof ol[i], &ra->op[i]);
    pf_svg_marker(&p, ra->op[i].fpr, ra->op[i].tpr, opc[i], ol[i], 0);
    it[n++] = (pf_svg_legend_item){ol[i], opc[i], NULL, 2};
  }
  pf_svg_legend(&p, it, n, 2);
  pf_svg_end(&p);
  pf_page__fig_close(f, logx ? "The same curve with FPR on a log scale, where the 1% and 0.1% FPR operating points are "
                      "told apart."
                    : "True positive rate against false positive rate as the threshold on p(malicious) moves; "
                      "the ring marks the decision threshold.");
}

void pf_page_roc(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  char title[128];
  snprintf(title, sizeof title, "ROC curve (%s%s)", a->fd.roc.present && a->fd.roc.split[0] ? a->fd.roc.split : "test",
           !a->fd.roc.present || !a->fd.roc.split[0] || strcmp(a->fd.roc.split, "test") == 0 ? " split" : "");
  pf_page__h2(f, "roc", title);
  if (!a->fd.roc.present) { pf_page__unavailable(f, "ROC curve", a->fd.roc.why); fputs("</section>\n", f); return; }
  if (b && !b->fd.roc.present) pf_page__unavailable(f, "the compared model's ROC curve", b->fd.roc.why);
  if (b && a->compare_note[0]) {
    fputs("<p class=\"na\"><strong>Not comparable as drawn:</strong> ", f);
    pf_page__esc(f, a->compare_note);
    fputs("</p>\n", f);
  }
  const pf_folder_roc *r = &a->fd.roc;
  fprintf(f, "<p>%zu rows (%zu positive, %zu negative), ROC AUC <strong>%s</strong>; %zu of the curve's %zu "
             "points drawn.</p>\n<div class=\"row\">\n", r->rows, r->positives, r->negatives, pf_page__auc_text(r->roc_auc), r->n,
          r->points_total);
  roc_plot(f, a, b, 0);
  roc_plot(f, a, b, 1);
  fputs("</div>\n<table aria-label=\"operating points\"><caption>Operating points (test split)</caption>"
        "<tr><th>model</th><th>point</th><th>threshold</th><th>TPR</th><th>FPR</th></tr>\n", f);
  const pf_report_model *ms[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    if (!ms[k] || !ms[k]->fd.roc.present) continue;
    for (int i = 0; i < ms[k]->fd.roc.nop; i++) {
      const pf_folder_op *o = &ms[k]->fd.roc.op[i];
      fputs("<tr><td>", f);
      pf_page__esc(f, pf_page__name_of(ms[k]));
      fputs("</td><td>", f);
      pf_page__esc(f, strcmp(o->name, "threshold") == 0 ? "decision threshold" : strcmp(o->name, "fpr<=0.01") == 0 ? "FPR ≤ 1%"
              : strcmp(o->name, "fpr<=0.001") == 0 ? "FPR ≤ 0.1%" : o->name);
      fputs("</td>", f);
      pf_page__cell(f, o->threshold, "%.6g");
      pf_page__pct_cell(f, o->tpr);
      pf_page__pct_cell(f, o->fpr);
      fputs("</tr>\n", f);
    }
  }
  fputs("</table>\n</section>\n", f);
}

/* ---- confusion matrices ---- */
