/* pf_svg: owns inline-SVG plot primitives for self-contained HTML pages.
 * Defines HTML/XML escaping, "nice" axis ticks, and a plot frame (data
 * ranges mapped to a responsive viewBox) with axes and their titles,
 * polylines, scatter points, labelled markers, legends and a horizontal bar
 * chart. Every text written is escaped; no scripts, no external resources.
 * Called by `pefleet report` (cli/cmd_report.c) and its unit test. */
#ifndef PF_SVG_H
#define PF_SVG_H

#include <stddef.h>
#include <stdio.h>

#define PF_SVG_MAX_TICKS 16

/* Writes s with & < > " ' escaped as entities (safe in text and in quoted
 * attributes); bytes below 0x20 other than tab/newline become spaces.
 * NULL writes nothing. */
void pf_svg_escape(FILE *f, const char *s);

/* Round tick values (steps of 1, 2 or 5 x 10^k) covering [lo, hi], about
 * target of them, into ticks (room cap <= PF_SVG_MAX_TICKS). Returns how
 * many (0 when lo or hi is not finite or hi < lo; one tick when lo == hi). */
int pf_svg_ticks(double lo, double hi, int target, double *ticks, int cap);

/* Widens [*lo, *hi] to the outer ticks pf_svg_ticks gives (for axes that
 * should end on a tick); a zero-width range becomes lo-1..hi+1. */
void pf_svg_nice_range(double *lo, double *hi, int target);

typedef struct {
  FILE *f;
  double w, h;                  /* viewBox width and height */
  double ml, mr, mt, mb;        /* margins around the plotting area */
  double x0, x1, y0, y1;        /* data ranges shown */
  int xlog;                     /* x axis in decades (pf_svg_set_xlog) */
} pf_svg_plot;

/* Opens <svg viewBox="0 0 w h" role="img" aria-label=label> with a <title>
 * (label) and sets the data ranges; plot margins leave room for tick
 * labels and axis titles. */
void pf_svg_begin(pf_svg_plot *p, FILE *f, double w, double h, const char *label, double x0, double x1, double y0,
                  double y1);
void pf_svg_end(pf_svg_plot *p);

/* Makes the x axis logarithmic (decade ticks) when 0 < x0 < x1; values
 * below x0 are drawn at x0. */
void pf_svg_set_xlog(pf_svg_plot *p);

/* Pixel position of a data coordinate (clamped to the plotting area). */
double pf_svg_px(const pf_svg_plot *p, double x);
double pf_svg_py(const pf_svg_plot *p, double y);

/* Frame, grid lines, ticks with labels (%g, or percentages when pct), and
 * the axis titles. */
void pf_svg_axes(pf_svg_plot *p, const char *xtitle, const char *ytitle, int xpct, int ypct);

/* A polyline through n points (non-finite points skipped); dash may be
 * NULL (solid). */
void pf_svg_line(pf_svg_plot *p, const double *x, const double *y, size_t n, const char *color, const char *dash,
                 double width);

/* Filled circles of radius r. */
void pf_svg_points(pf_svg_plot *p, const double *x, const double *y, size_t n, const char *color, double r,
                   double opacity);

/* A ringed point with label as its <title> tooltip and, when show_label,
 * as a short text beside it. */
void pf_svg_marker(pf_svg_plot *p, double x, double y, const char *color, const char *label, int show_label);

/* Vertical bars from 0 to y[i] centred on x[i], width in data units. */
void pf_svg_vbars(pf_svg_plot *p, const double *x, const double *y, size_t n, double width, const char *color);

typedef struct {
  const char *label;
  const char *color;
  const char *dash;  /* NULL: solid */
  int dot;           /* 1: a dot instead of a line sample, 2: a ring */
} pf_svg_legend_item;

/* A boxed legend in a corner of the plotting area: corner 0 top-left,
 * 1 top-right, 2 bottom-right, 3 bottom-left. */
void pf_svg_legend(pf_svg_plot *p, const pf_svg_legend_item *items, int n, int corner);

/* A standalone horizontal bar chart (its own <svg>, width w): one row per
 * name, series a (and b unless NULL) as bars from 0, values printed at the
 * bar ends, a legend naming the series, an x axis titled xtitle. */
void pf_svg_hbars(FILE *f, double w, const char *label, const char *const *names, const double *a, const double *b,
                  size_t n, const char *a_name, const char *b_name, const char *xtitle);

#endif
