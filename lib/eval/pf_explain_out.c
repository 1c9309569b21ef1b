/* How explanations are shown (see pf_explain_out.h). */
#include "pf_explain_out.h"

#include <stdint.h>
#include <string.h>

#include "pf_ergo486.h"
#include "pf_explain.h"
#include "pf_fmt.h"

static void name_of(const pf_explain_view *e, uint32_t i, char *buf, size_t n) {
  if (e->n != PF_ERGO486_DIM || pf_ergo486_name((int)i, buf, n) != 0) snprintf(buf, n, "feature[%u]", i);
}

void pf_explain_json(FILE *f, const pf_explain_view *e, size_t k, const char *similar_json) {
  uint32_t idx[PF_EXPLAIN_MAX_TOP];
  if (k > PF_EXPLAIN_MAX_TOP) k = PF_EXPLAIN_MAX_TOP;
  size_t got = pf_explain_top(e->contrib, e->n, k, idx);
  double sum = 0.0;
  for (size_t i = 0; i < e->n; i++) sum += e->contrib[i];
  fputs("{\"target\":", f);
  pf_fmt_json_string(f, e->target ? e->target : "");
  fputs(",\"baseline\":", f);
  pf_fmt_json_string(f, e->baseline ? e->baseline : "");
  fputs(",\"p\":", f);
  pf_fmt_json_double(f, e->p);
  fputs(",\"p_baseline\":", f);
  pf_fmt_json_double(f, e->p_baseline);
  fputs(",\"sum\":", f);
  pf_fmt_json_double(f, sum);
  fputs(",\"method\":", f);
  pf_fmt_json_string(f, e->method ? e->method : "");
  fprintf(f, ",\"steps\":%d,\"top\":[", e->steps);
  for (size_t t = 0; t < got; t++) {
    char name[128];
    name_of(e, idx[t], name, sizeof name);
    fputs(t ? ",{\"feature\":" : "{\"feature\":", f);
    pf_fmt_json_string(f, name);
    fprintf(f, ",\"index\":%u,\"value\":", idx[t]);
    pf_fmt_json_double(f, e->x ? e->x[idx[t]] : 0.0);
    fputs(",\"contribution\":", f);
    pf_fmt_json_double(f, e->contrib[idx[t]]);
    fputc('}', f);
  }
  fputc(']', f);
  if (e->n == PF_ERGO486_DIM) {
    fputs(",\"groups\":{", f);
    for (int g = 0; g < PF_EXPLAIN_NGROUPS; g++) {
      fprintf(f, "%s\"%s\":", g ? "," : "", pf_explain_group_name(g));
      pf_fmt_json_double(f, pf_explain_group_sum(e->contrib, g));
    }
    fputc('}', f);
  }
  if (similar_json) {
    fputs(",\"similar\":", f);
    fputs(similar_json, f);
  }
  fputc('}', f);
}

void pf_explain_brief(const pf_explain_view *e, size_t k, char *buf, size_t n) {
  uint32_t idx[16];
  if (k > 16) k = 16;
  size_t got = pf_explain_top(e->contrib, e->n, k, idx), at = 0;
  if (n) buf[0] = '\0';
  for (size_t t = 0; t < got && at < n; t++) {
    char name[128];
    name_of(e, idx[t], name, sizeof name);
    int w = snprintf(buf + at, n - at, "%s%s %+.3f", t ? ", " : "", name, e->contrib[idx[t]]);
    if (w < 0) break;
    at += (size_t)w;
  }
}
