/* A model folder's side files (see model_info.h). stats.json and
 * model.json are written by cli/train_out.c: each split's object on one
 * line, keys in a fixed order, so a key search within a line is enough. */
#include "model_info.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE_FILE (1u << 20)

/* The number after "key": in s[0..end), its first occurrence, or its last
 * when last is set; NaN when absent, null or not a number. *at (may be
 * NULL) receives where the key was found (NULL: nowhere). */
static double number_after(const char *s, const char *end, const char *key, int last, const char **at) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  size_t pl = strlen(pat);
  const char *p = NULL;
  for (const char *q = strstr(s, pat); q && q + pl <= end; q = strstr(q + 1, pat)) {
    p = q;
    if (!last) break;
  }
  if (at) *at = p;
  if (!p) return NAN;
  const char *v = p + pl;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  char *stop;
  double d = strtod(v, &stop);
  return stop == v || stop > end ? NAN : d;
}

long long model_info_samples(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/model.json", dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char *buf = malloc(MAX_SIDE_FILE + 1);
  size_t n = buf ? fread(buf, 1, MAX_SIDE_FILE, f) : 0;
  fclose(f);
  if (!buf) return -1;
  buf[n] = '\0';
  long long rows = -1;
  const char *r = strstr(buf, "\"rows\":");
  if (r) {
    double v = number_after(r, buf + n, "train", 0, NULL);
    if (isfinite(v) && v >= 0) rows = (long long)v;
  }
  free(buf);
  return rows;
}

int model_info_test_figures(const char *stats, double *auc, double *fpr) {
  *auc = *fpr = NAN;
  const char *t = stats ? strstr(stats, "\"test\":") : NULL;
  if (!t) return -1;
  const char *end = strchr(t, '\n');
  if (!end) end = t + strlen(t);
  /* roc_auc and fpr follow per_class, whose keys are class names (which
   * may be "roc_auc" or "fpr"): the last roc_auc, the first fpr after it */
  const char *at = NULL;
  *auc = number_after(t, end, "roc_auc", 1, &at);
  if (at) *fpr = number_after(at, end, "fpr", 0, NULL);
  return 0;
}
