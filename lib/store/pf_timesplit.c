/* pf_timesplit: the fleet's samples split by first-seen time (see
 * pf_timesplit.h). */
#include "pf_timesplit.h"
#include "pf_err.h"
#include "pf_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pf_timed_free(pf_timed *t) {
  if (!t) return;
  pf_dataset_free(&t->d);
  free(t->seen);
  free(t->sha);
  free(t->split);
  memset(t, 0, sizeof *t);
}

int pf_timed_push(pf_timed *t, const double *v, int32_t y, long long seen, const char *sha, int split) {
  if (t->d.n >= PF_DATASET_MAX_ROWS) return PF_ELIMIT;
  if (t->d.n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    long long *s = realloc(t->seen, cap * sizeof *s);
    if (!s) return PF_ENOMEM;
    t->seen = s;
    char (*h)[PF_SHA256_HEX_LEN + 1] = realloc(t->sha, cap * sizeof *h);
    if (!h) return PF_ENOMEM;
    t->sha = h;
    int8_t *sp = realloc(t->split, cap * sizeof *sp);
    if (!sp) return PF_ENOMEM;
    t->split = sp;
    t->cap = cap;
  }
  size_t i = t->d.n;
  int rc = pf_dataset_push(&t->d, v, y);
  if (rc != PF_OK) return rc;
  t->seen[i] = seen;
  snprintf(t->sha[i], sizeof t->sha[i], "%s", sha ? sha : "");
  t->split[i] = (int8_t)split;
  return PF_OK;
}

/* Copies row i of src to the end of dst. */
static int copy_row(const pf_timed *src, size_t i, pf_timed *dst) {
  if (dst->d.n == 0 && dst->cap == 0) dst->d.dim = src->d.dim;
  if (dst->d.n >= PF_DATASET_MAX_ROWS) return PF_ELIMIT;
  double v[PF_DB_MAX_DIM];
  const float *x = src->d.x + i * src->d.dim;
  for (size_t k = 0; k < src->d.dim && k < PF_DB_MAX_DIM; k++) v[k] = x[k];
  return pf_timed_push(dst, v, src->d.y[i], src->seen[i], src->sha[i], src->split[i]);
}

typedef struct {
  pf_timed *t;
  const pf_classes *c;
  size_t *skipped;
  int rc;
} load_ctx;

static int take(const pf_db_sample *s, void *arg) {
  load_ctx *x = arg;
  int y = pf_classes_index(x->c, s->label);
  if (!s->has_vector || s->dim != x->t->d.dim || y < 0 || strcmp(s->status, "done") != 0) {
    (*x->skipped)++;
    return 0;
  }
  x->rc = pf_timed_push(x->t, s->vec, y, s->first_seen, s->sha, pf_split_parse(s->split));
  return x->rc != PF_OK;
}

int pf_timed_load_db(pf_db *db, size_t dim, const pf_classes *c, pf_timed *t, size_t *skipped) {
  if (!db || !c || !t || !skipped || dim == 0 || dim > PF_DB_MAX_DIM) return PF_EINVAL;
  t->d.dim = dim;
  *skipped = 0;
  load_ctx x = {t, c, skipped, PF_OK};
  int rc = pf_db_each(db, -1, take, &x);
  return rc != PF_OK ? rc : x.rc;
}

static const pf_timed *sort_src; /* qsort has no context argument in C11 */

static int by_time(const void *a, const void *b) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  long long si = sort_src->seen[i], sj = sort_src->seen[j];
  if (si != sj) return si < sj ? -1 : 1;
  return strcmp(sort_src->sha[i], sort_src->sha[j]);
}

void pf_timed_range(const pf_timed *t, pf_time_range *r) {
  memset(r, 0, sizeof *r);
  r->n = t->d.n;
  for (size_t i = 0; i < t->d.n; i++) {
    if (i == 0 || t->seen[i] < r->first) r->first = t->seen[i];
    if (i == 0 || t->seen[i] > r->last) r->last = t->seen[i];
  }
}

/* Moves a cut forward past rows that share the first_seen before it. */
static size_t cut_after_run(const pf_timed *all, const size_t *idx, size_t n, size_t cut) {
  while (cut > 0 && cut < n && all->seen[idx[cut]] == all->seen[idx[cut - 1]]) cut++;
  return cut;
}

int pf_time_split(const pf_timed *all, long long test_since, pf_timed out[3], pf_time_range r[3]) {
  size_t n = all->d.n;
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!idx) return PF_ENOMEM;
  for (size_t i = 0; i < n; i++) idx[i] = i;
  sort_src = all;
  qsort(idx, n, sizeof *idx, by_time);
  sort_src = NULL;
  size_t test_at, val_at;
  if (test_since > 0) {
    test_at = 0;
    while (test_at < n && all->seen[idx[test_at]] < test_since) test_at++;
    val_at = test_at * 70 / 85;
  } else {
    test_at = n * 85 / 100;
    val_at = n * 70 / 100;
  }
  val_at = cut_after_run(all, idx, n, val_at);
  test_at = cut_after_run(all, idx, n, test_at);
  if (val_at > test_at) val_at = test_at;
  int rc = PF_OK;
  for (int s = 0; s < 3; s++) out[s].d.dim = all->d.dim;
  for (size_t k = 0; k < n && rc == PF_OK; k++)
    rc = copy_row(all, idx[k], &out[k < val_at ? 0 : k < test_at ? 1 : 2]);
  free(idx);
  for (int s = 0; s < 3; s++) pf_timed_range(&out[s], &r[s]);
  return rc;
}

int pf_timed_by_split(const pf_timed *all, int split, pf_timed *out, pf_time_range *r) {
  out->d.dim = all->d.dim;
  int rc = PF_OK;
  for (size_t i = 0; i < all->d.n && rc == PF_OK; i++)
    if (all->split[i] == split) rc = copy_row(all, i, out);
  pf_timed_range(out, r);
  return rc;
}

int pf_timed_window(const pf_timed *all, long long after, long long before, pf_timed *out, pf_time_range *r) {
  out->d.dim = all->d.dim;
  int rc = PF_OK;
  for (size_t i = 0; i < all->d.n && rc == PF_OK; i++)
    if (all->seen[i] > after && (before <= 0 || all->seen[i] < before)) rc = copy_row(all, i, out);
  pf_timed_range(out, r);
  return rc;
}
