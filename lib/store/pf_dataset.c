/* Labelled feature matrices (see pf_dataset.h). */
#include "pf_dataset.h"
#include "pf_csvrow.h"
#include "pf_err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_classes_parse(const char *list, pf_classes *c) {
  memset(c, 0, sizeof *c);
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && isspace((unsigned char)*p)) { p++; len--; }
    while (len && isspace((unsigned char)p[len - 1])) len--;
    if (len == 0 || len >= sizeof c->names[0] || c->n >= 16) return PF_EINVAL;
    memcpy(c->names[c->n], p, len);
    c->names[c->n++][len] = '\0';
    if (!end) break;
    p = end + 1;
  }
  return c->n >= 2 ? PF_OK : PF_EINVAL;
}

int pf_classes_map(pf_classes *c, const char *spec, char *err, size_t errlen) {
  const char *p = spec;
  while (*p) {
    const char *end = strchr(p, ','), *eq = strchr(p, '=');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (!eq || eq >= p + len || eq == p || eq == p + len - 1) {
      snprintf(err, errlen, "'%.*s' is not LABEL=CLASS", (int)len, p);
      return PF_EINVAL;
    }
    size_t llen = (size_t)(eq - p), clen = len - llen - 1;
    char cname[64];
    if (llen >= sizeof c->alias[0] || clen >= sizeof cname) { snprintf(err, errlen, "a label of --label-map is too long"); return PF_EINVAL; }
    if (c->n_alias >= 16) { snprintf(err, errlen, "at most 16 labels can be mapped"); return PF_EINVAL; }
    memcpy(cname, eq + 1, clen);
    cname[clen] = '\0';
    int to = pf_classes_index(c, cname);
    if (to < 0) {
      char list[1100];
      pf_classes_list(c, list, sizeof list);
      snprintf(err, errlen, "'%s' is not a class (%s)", cname, list);
      return PF_EINVAL;
    }
    memcpy(c->alias[c->n_alias], p, llen);
    c->alias[c->n_alias][llen] = '\0';
    c->alias_to[c->n_alias++] = to;
    if (!end) break;
    p = end + 1;
  }
  return PF_OK;
}

void pf_classes_list(const pf_classes *c, char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < c->n && used < n; i++) {
    int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", c->names[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

int pf_dataset_missing_class(const pf_dataset *d, const pf_classes *c) {
  size_t count[16] = {0};
  for (size_t i = 0; i < d->n; i++)
    if (d->y[i] >= 0 && d->y[i] < 16) count[d->y[i]]++;
  for (int k = 0; k < c->n && k < 16; k++)
    if (count[k] == 0) return k;
  return -1;
}

void pf_classes_of_model(const pf_model *m, pf_classes *c) {
  memset(c, 0, sizeof *c);
  uint32_t n = pf_model_classes(m);
  c->n = (int)(n < 16 ? n : 16);
  for (int i = 0; i < c->n; i++) snprintf(c->names[i], sizeof c->names[i], "%s", m->classes[i]);
}

int pf_classes_index(const pf_classes *c, const char *label) {
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->names[i], label) == 0) return i;
  for (int i = 0; i < c->n_alias && i < 16; i++)
    if (strcmp(c->alias[i], label) == 0) return c->alias_to[i];
  char *end;
  errno = 0;
  long v = strtol(label, &end, 10);
  if (*label && !*end && !errno && v >= 0 && v < c->n) return (int)v;
  return -1;
}

void pf_dataset_free(pf_dataset *d) {
  free(d->x);
  free(d->y);
  memset(d, 0, sizeof *d);
}

int pf_dataset_push(pf_dataset *d, const double *v, int32_t y) {
  if (d->n >= PF_DATASET_MAX_ROWS) return PF_ELIMIT;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 1024;
    float *x = realloc(d->x, cap * d->dim * sizeof *x);
    if (!x) return PF_ENOMEM;
    d->x = x;
    int32_t *yy = realloc(d->y, cap * sizeof *yy);
    if (!yy) return PF_ENOMEM;
    d->y = yy;
    d->cap = cap;
  }
  for (size_t i = 0; i < d->dim; i++) d->x[d->n * d->dim + i] = (float)v[i];
  d->y[d->n++] = y;
  return PF_OK;
}

static void report(const char *path, size_t line, const char *why, size_t *shown) {
  if (*shown < 20) fprintf(stderr, "%s:%zu: %s\n", path, line, why);
  (*shown)++;
}

/* The labels that are not classes, with their counts (the first 8 by name;
 * the rest counted together). */
typedef struct {
  int n;
  char name[8][64];
  size_t count[8];
  size_t others, total;
} label_tally;

static void tally_add(label_tally *t, const char *label) {
  t->total++;
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->name[i], label) == 0) { t->count[i]++; return; }
  if (t->n >= 8) { t->others++; return; }
  snprintf(t->name[t->n], sizeof t->name[0], "%.63s", label);
  t->count[t->n++] = 1;
}

/* One line: what was skipped and the fix, naming a class the first unknown
 * label probably means (the class its name starts with, else the last). */
static void tally_print(const char *path, const label_tally *t, const pf_classes *c) {
  if (!t->total) return;
  char classes[1100], labels[900] = "";
  pf_classes_list(c, classes, sizeof classes);
  size_t used = 0;
  for (int i = 0; i < t->n && used < sizeof labels; i++) {
    int w = snprintf(labels + used, sizeof labels - used, "%s'%s' %zu", i ? ", " : "", t->name[i], t->count[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (t->others && used < sizeof labels) snprintf(labels + used, sizeof labels - used, ", %zu more", t->others);
  int guess = c->n - 1;
  for (int k = 0; k < c->n; k++)
    if (strncmp(t->name[0], c->names[k], strlen(c->names[k])) == 0) guess = k;
  fprintf(stderr,
          "%s: %zu rows skipped: their label is not a class (%s): %s (label the files with pefleet encode --label NAME, "
          "or read a label as a class with --label-map %s=%s)\n",
          path, t->total, classes, labels, t->name[0], c->names[guess]);
}

int pf_dataset_load_csv(const char *path, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped) {
  FILE *f = fopen(path, "re");
  if (!f) return PF_EIO;
  d->dim = dim;
  *skipped = 0;
  char *line = NULL;
  size_t cap = 0, lineno = 0, shown = 0;
  label_tally tally;
  memset(&tally, 0, sizeof tally);
  ssize_t len;
  double *vals = malloc(dim * sizeof *vals);
  int rc = vals ? PF_OK : PF_ENOMEM;
  while (rc == PF_OK && (len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (len == 0) continue;
    char label[128], err[200];
    size_t nv = 0;
    if (pf_csvrow_parse((const uint8_t *)line, (size_t)len, label, sizeof label, vals, dim, &nv, err, sizeof err) != PF_OK) {
      report(path, lineno, err, &shown);
      (*skipped)++;
      continue;
    }
    if (nv != dim) {
      snprintf(err, sizeof err, "%zu values, expected %zu", nv, dim);
      report(path, lineno, err, &shown);
      (*skipped)++;
      continue;
    }
    int y = pf_classes_index(c, label);
    if (y < 0) {
      tally_add(&tally, label);
      (*skipped)++;
      continue;
    }
    rc = pf_dataset_push(d, vals, y);
  }
  if (shown > 20) fprintf(stderr, "%s: %zu more bad rows not shown\n", path, shown - 20);
  tally_print(path, &tally, c);
  if (ferror(f)) rc = PF_EIO;
  free(vals);
  free(line);
  fclose(f);
  return rc;
}

/* splitmix64: the shuffle's random numbers. */
static uint64_t next_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int copy_rows(const pf_dataset *all, const size_t *idx, size_t from, size_t to, pf_dataset *out) {
  memset(out, 0, sizeof *out);
  out->dim = all->dim;
  size_t n = to - from;
  out->x = malloc((n ? n : 1) * all->dim * sizeof *out->x);
  out->y = malloc((n ? n : 1) * sizeof *out->y);
  if (!out->x || !out->y) return PF_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    memcpy(out->x + i * all->dim, all->x + idx[from + i] * all->dim, all->dim * sizeof *out->x);
    out->y[i] = all->y[idx[from + i]];
  }
  out->n = out->cap = n;
  return PF_OK;
}

int pf_dataset_split(const pf_dataset *all, uint64_t seed, pf_dataset *train, pf_dataset *val, pf_dataset *test) {
  size_t n = all->n;
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!idx) return PF_ENOMEM;
  for (size_t i = 0; i < n; i++) idx[i] = i;
  uint64_t s = seed;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(next_rand(&s) % i);
    size_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
  size_t ntrain = n * 70 / 100, nval = n * 15 / 100;
  int rc = copy_rows(all, idx, 0, ntrain, train);
  if (rc == PF_OK) rc = copy_rows(all, idx, ntrain, ntrain + nval, val);
  if (rc == PF_OK) rc = copy_rows(all, idx, ntrain + nval, n, test);
  free(idx);
  return rc;
}

typedef struct {
  pf_dataset *d;
  const pf_classes *c;
  size_t *skipped;
  int rc;
} db_ctx;

static int take(const pf_db_sample *s, void *arg) {
  db_ctx *x = arg;
  int y = pf_classes_index(x->c, s->label);
  if (!s->has_vector || s->dim != x->d->dim || y < 0) {
    (*x->skipped)++;
    return 0;
  }
  x->rc = pf_dataset_push(x->d, s->vec, y);
  return x->rc != PF_OK;
}

int pf_dataset_load_db(pf_db *db, int split, size_t dim, const pf_classes *c, pf_dataset *d, size_t *skipped) {
  d->dim = dim;
  *skipped = 0;
  db_ctx x = {d, c, skipped, PF_OK};
  int rc = pf_db_each(db, split, take, &x);
  return rc != PF_OK ? rc : x.rc;
}
