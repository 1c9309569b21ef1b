/* The model report's sections (see pf_page.h). */
#include "pf_page.h"
#include "pf_ergo486.h"
#include "pf_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define C_TRAIN "#3b6fb6"
#define C_VAL "#e08a2c"
#define C_CLEAN "#2a9d57"
#define C_MAL "#c8382f"
#define C_B "#8e44ad" /* the --compare model */

static const char *const split_names[3] = {"train", "validation", "test"};

static void esc(FILE *f, const char *s) { pf_svg_escape(f, s); }
static const char *auc_text(double v);

static const char *name_of(const pf_report_model *m) {
  return m->model && m->model->version[0] ? m->model->version : m->dir;
}

static void unavailable(FILE *f, const char *what, const char *why) {
  fputs("<div class=\"na\" role=\"note\"><strong>Not available: ", f);
  esc(f, what);
  fputs("</strong> — ", f);
  esc(f, why);
  fputs("</div>\n", f);
}

static void h2(FILE *f, const char *id, const char *title) {
  fprintf(f, "<section id=\"%s\">\n<h2>", id);
  esc(f, title);
  fputs("</h2>\n", f);
}

static void fig_open(FILE *f) { fputs("<figure>\n", f); }
static void fig_close(FILE *f, const char *caption) {
  fputs("<figcaption>", f);
  esc(f, caption);
  fputs("</figcaption></figure>\n", f);
}

/* a number for a table cell: "—" when missing */
static void cell(FILE *f, double v, const char *fmt) {
  if (isnan(v)) fputs("<td class=\"num\">—</td>", f);
  else { fputs("<td class=\"num\">", f); fprintf(f, fmt, v); fputs("</td>", f); }
}
static void pct_cell(FILE *f, double v) { cell(f, isnan(v) ? v : 100 * v, "%.2f%%"); }

void pf_page_head(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>pefleet model report: ", f);
  esc(f, name_of(a));
  if (b) { fputs(" vs ", f); esc(f, name_of(b)); }
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
  esc(f, name_of(a));
  if (b) { fputs(" compared with ", f); esc(f, name_of(b)); }
  fputs("</h1>\n<p class=\"meta\">Model folder ", f);
  esc(f, a->dir);
  if (b) { fputs(" and ", f); esc(f, b->dir); }
  char when[64];
  time_t now = time(NULL);
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
  fprintf(f, ". Written by pefleet report on %s.</p>\n", when);
  const pf_folder_split *t = &a->fd.stats.s[2];
  if (a->fd.stats.present && t->present) {
    fprintf(f, "<p class=\"summary\">Test split: %.0f rows, accuracy <strong>%.2f%%</strong>, ROC AUC <strong>%s</strong>, "
               "FPR %.2f%% at the threshold %g, TPR %.2f%% at FPR ≤ 1%%.</p>\n", t->n, 100 * t->accuracy,
            auc_text(t->roc_auc), 100 * t->fpr, t->threshold, 100 * t->tpr01);
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
    esc(f, a->computed_from);
    fputs(" (every row, shown as the test split).</p>\n", f);
  }
}

void pf_page_tail(FILE *f) { fputs("</main>\n</body>\n</html>\n", f); }

/* ---- model ---- */

static void model_cells(FILE *f, const pf_report_model *m, int row) {
  fputs("<td>", f);
  const pf_model *p = m->model;
  if (!p) {
    if (row == 0) { fputs("not readable: ", f); esc(f, m->model_why); }
    fputs("</td>", f);
    return;
  }
  char buf[512];
  size_t used = 0;
  switch (row) {
  case 0: esc(f, p->version[0] ? p->version : "(none)"); break;
  case 1: esc(f, p->parent[0] ? p->parent : "none (trained from scratch or imported)"); break;
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
      esc(f, p->classes[i]);
    }
    break;
  case 5: fprintf(f, "%g on p(%s)", p->threshold, p->classes[1]); break;
  case 6: esc(f, m->dir); break;
  }
  fputs("</td>", f);
}

void pf_page_model(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  static const char *const rows[7] = {"version", "parent version", "feature schema", "layers", "classes",
                                      "decision threshold", "folder"};
  h2(f, "model", "Model");
  fputs("<table aria-label=\"model summary\"><tr><th></th><th>", f);
  esc(f, name_of(a));
  fputs("</th>", f);
  if (b) { fputs("<th>", f); esc(f, name_of(b)); fputs("</th>", f); }
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
  fig_open(f);
  pf_svg_begin(&p, f, 520, 330, acc ? "Accuracy per epoch" : "Loss per epoch", h->n > 1 ? 1 : 0,
               h->n > 1 ? (double)h->n : 2, lo, hi);
  pf_svg_axes(&p, "epoch", acc ? "accuracy" : "cross-entropy loss", 0, acc);
  pf_svg_line(&p, ep, tr, h->n, C_TRAIN, NULL, 2.2);
  pf_svg_line(&p, ep, va, h->n, C_VAL, "6 4", 2.2);
  if (h->n <= 40) { pf_svg_points(&p, ep, tr, h->n, C_TRAIN, 2.5, 1); pf_svg_points(&p, ep, va, h->n, C_VAL, 2.5, 1); }
  pf_svg_legend_item it[2] = {{"training", C_TRAIN, NULL, 0}, {"validation", C_VAL, "6 4", 0}};
  pf_svg_legend(&p, it, 2, acc ? 2 : 1);
  pf_svg_end(&p);
  fig_close(f, acc ? "Accuracy on the training batches (dropout on) and on the validation split after each epoch."
                   : "Mean cross-entropy on the training batches and on the validation split after each epoch.");
  free(ep);
}

void pf_page_history(FILE *f, const pf_report_model *a) {
  h2(f, "history", "Training curves");
  if (!a->fd.history.present) { unavailable(f, "training history", a->fd.history.why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>%zu epochs.</p>\n<div class=\"row\">\n", a->fd.history.n);
  curve_plot(f, &a->fd.history, 0);
  curve_plot(f, &a->fd.history, 1);
  fputs("</div>\n</section>\n", f);
}

/* ---- ROC ---- */

/* "0.9876", or "undefined" (one class only); a static buffer per call site use */
static const char *auc_text(double v) {
  static char buf[4][32];
  static int k;
  k = (k + 1) % 4;
  if (isfinite(v)) snprintf(buf[k], sizeof buf[k], "%.4f", v);
  else snprintf(buf[k], sizeof buf[k], "undefined (one class)");
  return buf[k];
}

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
  fig_open(f);
  pf_svg_begin(&p, f, 520, 420, title, x0, 1, 0, 1);
  if (logx) pf_svg_set_xlog(&p);
  pf_svg_axes(&p, logx ? "false positive rate (log scale)" : "false positive rate", "true positive rate", 1, 1);
  if (!logx) {
    double d[2] = {0, 1};
    pf_svg_line(&p, d, d, 2, "#999", "3 3", 1);
  }
  char la[200], lb[200];
  snprintf(la, sizeof la, "%s (AUC %s)", name_of(a), auc_text(ra->roc_auc));
  pf_svg_line(&p, ra->fpr, ra->tpr, ra->n, C_TRAIN, NULL, 2.2);
  if (rb) {
    snprintf(lb, sizeof lb, "%s (AUC %s)", name_of(b), auc_text(rb->roc_auc));
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
  fig_close(f, logx ? "The same curve with FPR on a log scale, where the 1% and 0.1% FPR operating points are "
                      "told apart."
                    : "True positive rate against false positive rate as the threshold on p(malicious) moves; "
                      "the ring marks the decision threshold.");
}

void pf_page_roc(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  char title[128];
  snprintf(title, sizeof title, "ROC curve (%s%s)", a->fd.roc.present && a->fd.roc.split[0] ? a->fd.roc.split : "test",
           !a->fd.roc.present || !a->fd.roc.split[0] || strcmp(a->fd.roc.split, "test") == 0 ? " split" : "");
  h2(f, "roc", title);
  if (!a->fd.roc.present) { unavailable(f, "ROC curve", a->fd.roc.why); fputs("</section>\n", f); return; }
  if (b && !b->fd.roc.present) unavailable(f, "the compared model's ROC curve", b->fd.roc.why);
  if (b && a->compare_note[0]) {
    fputs("<p class=\"na\"><strong>Not comparable as drawn:</strong> ", f);
    esc(f, a->compare_note);
    fputs("</p>\n", f);
  }
  const pf_folder_roc *r = &a->fd.roc;
  fprintf(f, "<p>%zu rows (%zu positive, %zu negative), ROC AUC <strong>%s</strong>; %zu of the curve's %zu "
             "points drawn.</p>\n<div class=\"row\">\n", r->rows, r->positives, r->negatives, auc_text(r->roc_auc), r->n,
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
      esc(f, name_of(ms[k]));
      fputs("</td><td>", f);
      esc(f, strcmp(o->name, "threshold") == 0 ? "decision threshold" : strcmp(o->name, "fpr<=0.01") == 0 ? "FPR ≤ 1%"
              : strcmp(o->name, "fpr<=0.001") == 0 ? "FPR ≤ 0.1%" : o->name);
      fputs("</td>", f);
      cell(f, o->threshold, "%.6g");
      pct_cell(f, o->tpr);
      pct_cell(f, o->fpr);
      fputs("</tr>\n", f);
    }
  }
  fputs("</table>\n</section>\n", f);
}

/* ---- confusion matrices ---- */

static void cm_table(FILE *f, const pf_folder_split *s, const char *split) {
  fprintf(f, "<div class=\"tbl\"><table aria-label=\"confusion matrix %s\"><caption>", split);
  esc(f, split);
  fprintf(f, " (%.0f rows)</caption><tr><th>true \\ predicted</th>", s->n);
  for (int c = 0; c < 2; c++) { fputs("<th>", f); esc(f, s->classes[c]); fputs("</th>", f); }
  fputs("</tr>\n", f);
  for (int r = 0; r < 2; r++) {
    double row = s->cm[r][0] + s->cm[r][1];
    fputs("<tr><th>", f);
    esc(f, s->classes[r]);
    fputs("</th>", f);
    for (int c = 0; c < 2; c++) {
      double rate = row > 0 ? s->cm[r][c] / row : NAN;
      const char *rgb = r == c ? "42,157,87" : "200,56,47";
      fprintf(f, "<td class=\"num\" style=\"background:rgba(%s,%.2f)\">%.0f<br><small>%.2f%% of true ", rgb,
              isnan(rate) ? 0 : 0.08 + 0.5 * rate, s->cm[r][c], isnan(rate) ? 0 : 100 * rate);
      esc(f, s->classes[r]);
      fputs("</small></td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table></div>\n", f);
}

void pf_page_confusion(FILE *f, const pf_report_model *a) {
  h2(f, "confusion", "Confusion matrices");
  if (!a->fd.stats.present) { unavailable(f, "confusion matrices", a->fd.stats.why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>Counts at the decision threshold, with each cell's share of its true class.</p>\n<div class=\"row\">\n");
  for (int s = 0; s < 3; s++)
    if (a->fd.stats.s[s].present) cm_table(f, &a->fd.stats.s[s], split_names[s]);
  fputs("</div>\n</section>\n", f);
}

/* ---- figures ---- */

static void figures_table(FILE *f, const pf_report_model *m) {
  fputs("<div class=\"tbl\"><table aria-label=\"figures ", f);
  esc(f, name_of(m));
  fputs("\"><caption>", f);
  esc(f, name_of(m));
  fputs("</caption><tr><th>figure</th>", f);
  for (int s = 0; s < 3; s++) fprintf(f, "<th>%s</th>", split_names[s]);
  fputs("</tr>\n", f);
  const pf_folder_split *sp = m->fd.stats.s;
  const char *c0 = sp[2].present ? sp[2].classes[0] : "0", *c1 = sp[2].present ? sp[2].classes[1] : "1";
  enum { ROWS = 15 };
  for (int r = 0; r < ROWS; r++) {
    static const char *const lab[ROWS] = {"rows", "accuracy", "ROC AUC", "threshold", "FPR at the threshold",
      "TPR at FPR ≤ 1%", "threshold for FPR ≤ 1%", "TPR at FPR ≤ 0.1%", "threshold for FPR ≤ 0.1%", "precision ",
      "recall ", "F1 ", "precision ", "recall ", "F1 "};
    fputs("<tr><th>", f);
    esc(f, lab[r]);
    if (r >= 9) esc(f, r < 12 ? c0 : c1);
    fputs("</th>", f);
    for (int s = 0; s < 3; s++) {
      const pf_folder_split *x = &sp[s];
      if (!x->present) { fputs("<td class=\"num\">—</td>", f); continue; }
      int c = r >= 12;
      switch (r) {
      case 0: cell(f, x->n, "%.0f"); break;
      case 1: pct_cell(f, x->accuracy); break;
      case 2: cell(f, x->roc_auc, "%.4f"); break;
      case 3: cell(f, x->threshold, "%g"); break;
      case 4: pct_cell(f, x->fpr); break;
      case 5: pct_cell(f, x->tpr01); break;
      case 6: cell(f, x->thr01, "%.4g"); break;
      case 7: pct_cell(f, x->tpr001); break;
      case 8: cell(f, x->thr001, "%.4g"); break;
      case 9: case 12: pct_cell(f, x->precision[c]); break;
      case 10: case 13: pct_cell(f, x->recall[c]); break;
      default: pct_cell(f, x->f1[c]); break;
      }
    }
    fputs("</tr>\n", f);
  }
  fputs("</table></div>\n", f);
}

void pf_page_figures(FILE *f, const pf_report_model *a, const pf_report_model *b) {
  h2(f, "figures", "Figures per split (stats.json)");
  if (!a->fd.stats.present) { unavailable(f, "figures", a->fd.stats.why); fputs("</section>\n", f); return; }
  fputs("<div class=\"row\">\n", f);
  figures_table(f, a);
  if (b) {
    if (b->fd.stats.present) figures_table(f, b);
    else unavailable(f, "the compared model's figures", b->fd.stats.why);
  }
  fputs("</div>\n</section>\n", f);
}

/* ---- data set ---- */

void pf_page_dataset(FILE *f, const pf_report_model *a) {
  h2(f, "dataset", "Data set size and class balance");
  if (!a->fd.stats.present) { unavailable(f, "data set sizes", a->fd.stats.why); fputs("</section>\n", f); return; }
  const pf_folder_split *sp = a->fd.stats.s;
  double total = 0;
  for (int s = 0; s < 3; s++) if (sp[s].present) total += sp[s].n;
  fputs("<table aria-label=\"data set\"><tr><th>split</th><th>rows</th><th>share of all rows</th>", f);
  for (int c = 0; c < 2; c++) { fputs("<th>", f); esc(f, sp[2].present ? sp[2].classes[c] : c ? "1" : "0"); fputs("</th>", f); }
  fputs("</tr>\n", f);
  for (int s = 0; s < 3; s++) {
    if (!sp[s].present) continue;
    fprintf(f, "<tr><th>%s</th>", split_names[s]);
    cell(f, sp[s].n, "%.0f");
    pct_cell(f, total > 0 ? sp[s].n / total : NAN);
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
  h2(f, "relevance", "Feature relevance (top 25)");
  const pf_folder_relevance *r = &a->fd.relevance;
  if (!r->present) {
    char why[PF_FOLDER_WHY + 80];
    snprintf(why, sizeof why, "%s; run pefleet relevance on the model folder", r->why);
    unavailable(f, "feature relevance", why);
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
    esc(f, r->source);
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
    fig_close(f, "Most relevant first: by accuracy drop, then by AUC drop.");
  }
  free(names); free(np); free(da); free(du);
  fputs("</section>\n", f);
}

/* ---- PCA ---- */

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
  fig_open(f);
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
  fig_close(f, "Test rows on the first two principal components of the standardized features, coloured by true "
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
  fig_open(f);
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
  fig_close(f, cap);
}

void pf_page_pca(FILE *f, const pf_report_model *a) {
  h2(f, "pca", "PCA of the test split");
  const pf_folder_pca *p = &a->fd.pca;
  if (!p->present) { unavailable(f, "PCA projection", p->why); fputs("</section>\n", f); return; }
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
    fig_open(f);
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
    fig_close(f, "Per period of first-seen time: the thresholds for 1% and 0.1% FPR were chosen on the model's "
                 "validation split, so a falling TPR means newer samples are missed, not that the threshold moved.");
  }
  free(auc); free(t1); free(tt); free(fp); free(x);
}

void pf_page_over_time(FILE *f, const pf_report_model *a) {
  const pf_folder_over_time *o = &a->fd.over_time;
  if (!o->exists) return; /* only models trained by time, or --over-time */
  h2(f, "time", "Quality over time");
  if (!o->present) { unavailable(f, "quality over time", o->why); fputs("</section>\n", f); return; }
  fprintf(f, "<p>%zu %s%s of first-seen time, from ", o->n, strcmp(o->by, "month") == 0 ? "month" : "week",
          o->n == 1 ? "" : "s");
  esc(f, o->source);
  fputs(".</p>\n", f);
  if (o->n == 0) { unavailable(f, "quality over time", "no period has samples"); fputs("</section>\n", f); return; }
  time_plot(f, o);
  fputs("<table aria-label=\"quality over time\"><thead><tr><th>period</th><th>start</th><th>clean</th>"
        "<th>malicious</th><th>ROC AUC</th><th>TPR</th><th>FPR</th><th>TPR at 1% FPR</th><th>FPR at 1%</th>"
        "<th>TPR at 0.1% FPR</th></tr></thead>\n<tbody>\n", f);
  for (size_t i = 0; i < o->n; i++) {
    const pf_folder_period *p = &o->p[i];
    fputs("<tr><td>", f);
    esc(f, p->label);
    char day[16];
    snprintf(day, sizeof day, "%.10s", p->start); /* the day the period starts (UTC) */
    fputs("</td><td>", f);
    esc(f, day);
    fputs("</td>", f);
    cell(f, p->clean, "%.0f");
    cell(f, p->malicious, "%.0f");
    cell(f, p->roc_auc, "%.4f");
    pct_cell(f, p->tpr);
    pct_cell(f, p->fpr);
    pct_cell(f, p->tpr1);
    pct_cell(f, p->fpr1);
    pct_cell(f, p->tpr01);
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
