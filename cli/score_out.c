#include "score_out.h"
#include "pf_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void score_out_init(score_out *o, int jsonl, uint32_t nc, const char *const *names) {
  memset(o, 0, sizeof *o);
  o->jsonl = jsonl;
  o->nc = nc > PF_MODEL_MAX_CLASSES ? PF_MODEL_MAX_CLASSES : nc;
  for (uint32_t c = 0; c < o->nc; c++) {
    o->names[c] = names[c];
    o->colw[c] = 8;
  }
}

/* The shortest %g form of a float that reads back as the same float. */
static void fmt_float(float v, char *buf, size_t n) {
  for (int prec = 6; prec <= 9; prec++) {
    snprintf(buf, n, "%.*g", prec, (double)v);
    if (strtof(buf, NULL) == v) return;
  }
}

void score_out_header(score_out *o) {
  if (o->jsonl) return;
  printf("%-12s", "verdict");
  for (uint32_t c = 0; c < o->nc; c++) {
    char h[PF_MODEL_NAME + 3];
    snprintf(h, sizeof h, "p_%s", o->names[c]);
    o->colw[c] = (int)strlen(h) > 8 ? (int)strlen(h) : 8;
    printf(" %*s", o->colw[c], h);
  }
  printf("  %-12s  %s\n", "sha256", "path");
}

void score_out_line(const score_out *o, const char *path, const char *sha256_hex, const float *p, const char *verdict,
                    const char *why, const pf_explain_view *ex, const char *similar_json) {
  int ok = p != NULL;
  char num[40];
  if (o->jsonl) {
    fputs("{\"path\":", stdout);
    pf_fmt_json_string(stdout, path);
    fputs(",\"sha256\":", stdout);
    if (sha256_hex) printf("\"%s\"", sha256_hex);
    else fputs("null", stdout);
    if (ok) {
      fputs(",\"probabilities\":[", stdout);
      for (uint32_t c = 0; c < o->nc; c++) {
        fmt_float(p[c], num, sizeof num);
        printf("%s%s", c ? "," : "", num);
      }
      fputs("],\"verdict\":", stdout);
      pf_fmt_json_string(stdout, verdict ? verdict : "");
      if (ex && o->explain_k) {
        fputs(",\"explanation\":", stdout);
        pf_explain_json(stdout, ex, o->explain_k, similar_json);
      }
    } else {
      fputs(",\"error\":", stdout);
      pf_fmt_json_string(stdout, why ? why : "failed");
    }
    fputs("}\n", stdout);
    return;
  }
  printf("%-12s", ok ? verdict : "ERROR");
  for (uint32_t c = 0; c < o->nc; c++) {
    if (ok) printf(" %*.6f", o->colw[c], (double)p[c]);
    else printf(" %*s", o->colw[c], "-");
  }
  printf("  %-12.12s  %s\n", sha256_hex ? sha256_hex : "-", path);
  if (ok && ex && o->explain_k) {
    char brief[600];
    pf_explain_brief(ex, o->explain_k < 3 ? o->explain_k : 3, brief, sizeof brief);
    printf("    why (%s vs %s baseline): %s\n", ex->target ? ex->target : "", ex->baseline ? ex->baseline : "",
           brief);
  }
}

int score_out_explain_k(const char *arg, size_t *k, char *err, size_t errlen) {
  *k = 10;
  if (!arg) return 1;
  char *end = NULL;
  long v = strtol(arg, &end, 10);
  if (!*arg || *end || v < 1 || v > 486) {
    snprintf(err, errlen, "--explain=%s: K must be 1..486 (the features shown)", arg);
    *k = 0;
    return 0;
  }
  *k = (size_t)v;
  return 1;
}

int score_out_exit(int infected_exit, int any_failed, size_t n_infected) {
  if (!infected_exit) return any_failed ? 1 : 0;
  return any_failed ? 2 : n_infected ? 1 : 0;
}
