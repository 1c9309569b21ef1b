/* A model folder's side files (see model_info.h). stats.json and
 * model.json are written by cli/train_out.c: each split's object on one
 * line, keys in a fixed order, so a key search within a line is enough. */
#include "model_info.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE_FILE (1u << 20)

/* The number after the first "key": in s[0..end), or NaN (absent, null,
 * not a number); *at (may be NULL) receives where the key was found. */
static double number_after(const char *s, const char *end, const char *key, const char **at) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  size_t pl = strlen(pat);
  const char *p = strstr(s, pat);
  if (at) *at = p && p + pl <= end ? p : NULL;
  if (!p || p + pl > end) return NAN;
  const char *v = p + pl;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  char *stop;
  double d = strtod(v, &stop);
  return stop == v ? NAN : d;
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
    double v = number_after(r, buf + n, "train", NULL);
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
  /* roc_auc and fpr follow per_class, whose keys are class names */
  const char *at = NULL;
  *auc = number_after(t, end, "roc_auc", &at);
  if (at) *fpr = number_after(at, end, "fpr", NULL);
  return 0;
}
