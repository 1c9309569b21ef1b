/* Inline-SVG plot primitives (see pf_svg.h). */
#include "pf_svg.h"

#include <math.h>
#include <string.h>

#define FONT "font-family=\"system-ui, sans-serif\""

void pf_svg_escape(FILE *f, const char *s) {
  if (!s) return;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(c < 0x20 && c != '\t' && c != '\n' ? ' ' : c, f);
    }
  }
}

static double nice_step(double range, int target) {
  if (target < 1) target = 1;
  double raw = range / target, mag = pow(10, floor(log10(raw))), norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

int pf_svg_ticks(double lo, double hi, int target, double *ticks, int cap) {
  if (!isfinite(lo) || !isfinite(hi) || hi < lo || cap < 1 || !ticks) return 0;
  if (cap > PF_SVG_MAX_TICKS) cap = PF_SVG_MAX_TICKS;
  if (hi == lo) { ticks[0] = lo; return 1; }
  double step = nice_step(hi - lo, target);
  int n = 0;
  for (double k = ceil(lo / step - 1e-9); n < cap; k++) {
    double v = k * step;
    if (v > hi + step * 1e-9) break;
    ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
  }
  return n;
}

void pf_svg_nice_range(double *lo, double *hi, int target) {
  if (!isfinite(*lo) || !isfinite(*hi)) { *lo = 0; *hi = 1; return; }
  if (*hi <= *lo) { *lo -= 1; *hi += 1; return; }
  double step = nice_step(*hi - *lo, target);
  *lo = floor(*lo / step + 1e-9) * step;
  *hi = ceil(*hi / step - 1e-9) * step;
}

void pf_svg_begin(pf_svg_plot *p, FILE *f, double w, double h, const char *label, double x0, double x1, double y0,
                  double y1) {
  memset(p, 0, sizeof *p);
  p->f = f;
  p->w = w; p->h = h;
  p->ml = 64; p->mr = 16; p->mt = 14; p->mb = 50;
  p->x0 = x0; p->x1 = x1 > x0 ? x1 : x0 + 1;
  p->y0 = y0; p->y1 = y1 > y0 ? y1 : y0 + 1;
  fprintf(f, "<svg viewBox=\"0 0 %g %g\" width=\"100%%\" style=\"max-width:%gpx\" role=\"img\" aria-label=\"", w, h, w);
  pf_svg_escape(f, label);
  fputs("\"><title>", f);
  pf_svg_escape(f, label);
  fputs("</title>\n", f);
}

void pf_svg_end(pf_svg_plot *p) { fputs("</svg>\n", p->f); }

void pf_svg_set_xlog(pf_svg_plot *p) { p->xlog = p->x0 > 0 && p->x1 > p->x0; }

double pf_svg_px(const pf_svg_plot *p, double x) {
  double t = p->xlog ? (log10(x > p->x0 ? x : p->x0) - log10(p->x0)) / (log10(p->x1) - log10(p->x0))
                     : (x - p->x0) / (p->x1 - p->x0);
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  return p->ml + t * (p->w - p->ml - p->mr);
}

double pf_svg_py(const pf_svg_plot *p, double y) {
  double t = (y - p->y0) / (p->y1 - p->y0);
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  return p->h - p->mb - t * (p->h - p->mt - p->mb);
}

static void tick_label(FILE *f, double v, int pct) {
  if (pct) fprintf(f, "%g%%", round(v * 1e6) / 1e4);
  else fprintf(f, "%g", v);
}

void pf_svg_axes(pf_svg_plot *p, const char *xtitle, const char *ytitle, int xpct, int ypct) {
  FILE *f = p->f;
  double t[PF_SVG_MAX_TICKS], L = p->ml, R = p->w - p->mr, T = p->mt, B = p->h - p->mb;
  int n = 0;
  if (p->xlog)
    for (double k = ceil(log10(p->x0) - 1e-9); k <= floor(log10(p->x1) + 1e-9) && n < PF_SVG_MAX_TICKS; k++)
      t[n++] = pow(10, k);
  else
    n = pf_svg_ticks(p->x0, p->x1, 6, t, PF_SVG_MAX_TICKS);
  fputs("<g " FONT " font-size=\"12\" fill=\"#333\">\n", f);
  for (int i = 0; i < n; i++) {
    double x = pf_svg_px(p, t[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>", x, T, x, B);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, B + 16);
    tick_label(f, t[i], xpct);
    fputs("</text>\n", f);
  }
  n = pf_svg_ticks(p->y0, p->y1, 5, t, PF_SVG_MAX_TICKS);
  for (int i = 0; i < n; i++) {
    double y = pf_svg_py(p, t[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>", L, y, R, y);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", L - 6, y + 4);
    tick_label(f, t[i], ypct);
    fputs("</text>\n", f);
  }
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#666\"/>\n", L, T, R - L,
          B - T);
  fprintf(f, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">", (L + R) / 2,
          p->h - 10);
  pf_svg_escape(f, xtitle);
  fprintf(f, "</text>\n<text class=\"axis-title\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" "
             "font-size=\"13\">", (T + B) / 2);
  pf_svg_escape(f, ytitle);
  fputs("</text>\n</g>\n", f);
}

void pf_svg_line(pf_svg_plot *p, const double *x, const double *y, size_t n, const char *color, const char *dash,
                 double width) {
  fputs("<polyline fill=\"none\" stroke=\"", p->f);
  pf_svg_escape(p->f, color);
  fprintf(p->f, "\" stroke-width=\"%g\"", width);
  if (dash) {
    fputs(" stroke-dasharray=\"", p->f);
    pf_svg_escape(p->f, dash);
    fputc('"', p->f);
  }
  fputs(" stroke-linejoin=\"round\" points=\"", p->f);
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i]) && isfinite(y[i])) fprintf(p->f, "%.1f,%.1f ", pf_svg_px(p, x[i]), pf_svg_py(p, y[i]));
  fputs("\"/>\n", p->f);
}

void pf_svg_points(pf_svg_plot *p, const double *x, const double *y, size_t n, const char *color, double r,
                   double opacity) {
  fputs("<g fill=\"", p->f);
  pf_svg_escape(p->f, color);
  fprintf(p->f, "\" fill-opacity=\"%g\">", opacity);
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i]) && isfinite(y[i]))
      fprintf(p->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\"/>", pf_svg_px(p, x[i]), pf_svg_py(p, y[i]), r);
  fputs("</g>\n", p->f);
}

void pf_svg_marker(pf_svg_plot *p, double x, double y, const char *color, const char *label, int show_label) {
  if (!isfinite(x) || !isfinite(y)) return;
  double px = pf_svg_px(p, x), py = pf_svg_py(p, y);
  int right = px > (p->ml + p->w - p->mr) / 2; /* label on the side with room */
  fprintf(p->f, "<g><title>");
  pf_svg_escape(p->f, label);
  fprintf(p->f, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#fff\" stroke=\"", px, py);
  pf_svg_escape(p->f, color);
  fputs("\" stroke-width=\"2.5\"/>", p->f);
  if (show_label) {
    fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" " FONT " font-size=\"11\" fill=\"#222\">",
            right ? px - 9 : px + 9, py + 4, right ? "end" : "start");
    pf_svg_escape(p->f, label);
    fputs("</text>", p->f);
  }
  fputs("</g>\n", p->f);
}

void pf_svg_vbars(pf_svg_plot *p, const double *x, const double *y, size_t n, double width, const char *color) {
  fputs("<g fill=\"", p->f);
  pf_svg_escape(p->f, color);
  fputs("\">", p->f);
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    double l = pf_svg_px(p, x[i] - width / 2), r = pf_svg_px(p, x[i] + width / 2);
    double top = pf_svg_py(p, y[i] > 0 ? y[i] : 0), bot = pf_svg_py(p, y[i] > 0 ? 0 : y[i]);
    fprintf(p->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", l, top, r - l, bot - top);
  }
  fputs("</g>\n", p->f);
}

void pf_svg_legend(pf_svg_plot *p, const pf_svg_legend_item *items, int n, int corner) {
  if (n <= 0) return;
  size_t longest = 0;
  for (int i = 0; i < n; i++) {
    size_t l = items[i].label ? strlen(items[i].label) : 0;
    if (l > longest) longest = l;
  }
  double bw = 40 + 7.2 * (double)longest, bh = 8 + 18.0 * n;
  double L = p->ml + 8, R = p->w - p->mr - 8 - bw, T = p->mt + 8, B = p->h - p->mb - 8 - bh;
  double x = corner == 1 || corner == 2 ? R : L, y = corner >= 2 ? B : T;
  fprintf(p->f, "<g class=\"legend\" " FONT " font-size=\"12\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n", x, y, bw, bh);
  for (int i = 0; i < n; i++) {
    double cy = y + 14 + 18.0 * i;
    if (items[i].dot) {
      fprintf(p->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" %s=\"", x + 16, cy - 4,
              items[i].dot == 2 ? "fill=\"#fff\" stroke-width=\"2.5\" stroke" : "fill");
      pf_svg_escape(p->f, items[i].color);
      fputs("\"/>", p->f);
    } else {
      fprintf(p->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"2.5\" stroke=\"", x + 6,
              cy - 4, x + 26, cy - 4);
      pf_svg_escape(p->f, items[i].color);
      fputc('"', p->f);
      if (items[i].dash) {
        fputs(" stroke-dasharray=\"", p->f);
        pf_svg_escape(p->f, items[i].dash);
        fputc('"', p->f);
      }
      fputs("/>", p->f);
    }
    fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">", x + 32, cy);
    pf_svg_escape(p->f, items[i].label);
    fputs("</text>\n", p->f);
  }
  fputs("</g>\n", p->f);
}

void pf_svg_hbars(FILE *f, double w, const char *label, const char *const *names, const double *a, const double *b,
                  size_t n, const char *a_name, const char *b_name, const char *xtitle) {
  double row = b ? 24 : 18, top = 8 + 8 + 18.0 * (b ? 2 : 1) + 8, left = 230, right = 70;
  double h = top + row * (double)n + 50;
  double lo = 0, hi = 0;
  for (size_t i = 0; i < n; i++) {
    if (isfinite(a[i])) { lo = fmin(lo, a[i]); hi = fmax(hi, a[i]); }
    if (b && isfinite(b[i])) { lo = fmin(lo, b[i]); hi = fmax(hi, b[i]); }
  }
  if (hi <= lo) hi = lo + 0.01;
  pf_svg_nice_range(&lo, &hi, 5);
  pf_svg_plot p;
  pf_svg_begin(&p, f, w, h, label, lo, hi, 0, 1);
  p.ml = left; p.mr = right; p.mt = top; p.mb = 50;
  double t[PF_SVG_MAX_TICKS], B = h - p.mb;
  int nt = pf_svg_ticks(lo, hi, 6, t, PF_SVG_MAX_TICKS);
  fputs("<g " FONT " font-size=\"12\" fill=\"#333\">\n", f);
  for (int i = 0; i < nt; i++) {
    double x = pf_svg_px(&p, t[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x, top, x, B,
            t[i] == 0 ? "#888" : "#e3e3e3");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, B + 16, t[i]);
  }
  fprintf(f, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">",
          (left + w - right) / 2, h - 10);
  pf_svg_escape(f, xtitle);
  fputs("</text>\n", f);
  double x0 = pf_svg_px(&p, 0);
  for (size_t i = 0; i < n; i++) {
    double y = top + row * (double)i;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + row / 2 + 4);
    pf_svg_escape(f, names[i]);
    fputs("</text>", f);
    for (int s = 0; s < (b ? 2 : 1); s++) {
      double v = s ? b[i] : a[i], bh = b ? row / 2 - 2 : row - 4, by = y + 2 + s * (row / 2 - 1);
      if (!isfinite(v)) continue;
      double xv = pf_svg_px(&p, v), l = fmin(x0, xv);
      fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", l, by, fabs(xv - x0), bh,
              s ? "#e08a2c" : "#3b6fb6");
      fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%.4g</text>", fmax(xv, x0) + 4, by + bh - 1, v);
    }
    fputc('\n', f);
  }
  fputs("</g>\n", f);
  pf_svg_legend_item it[2] = {{a_name, "#3b6fb6", NULL, 0}, {b_name, "#e08a2c", NULL, 0}};
  double save_mt = p.mt;
  p.mt = 0; /* the legend sits above the bars */
  pf_svg_legend(&p, it, b ? 2 : 1, 1);
  p.mt = save_mt;
  pf_svg_end(&p);
}
