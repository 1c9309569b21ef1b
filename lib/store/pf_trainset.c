/* The three splits of a training run (see pf_trainset.h). */
#include "pf_trainset.h"
#include "pf_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* rc with the reason, everything loaded freed */
static int fail(pf_trainset *t, int rc, char *why, size_t whylen, const char *reason) {
  snprintf(why, whylen, "%s", reason);
  pf_trainset_free(t);
  return rc;
}

static void count(pf_trainset *t) {
  for (int s = 0; s < 3; s++) {
    memset(t->count[s], 0, sizeof t->count[s]);
    const pf_dataset *d = &t->s[s].d;
    for (size_t i = 0; i < d->n; i++)
      if (d->y[i] >= 0 && d->y[i] < PF_TRAINSET_CLASSES) t->count[s][d->y[i]]++;
  }
}

int pf_trainset_load_csv(const char *path, const pf_trainset_opts *o, pf_trainset *t, char *why, size_t whylen) {
  memset(t, 0, sizeof *t);
  t->from_csv = 1;
  pf_dataset all = {0};
  int rc = pf_dataset_load_csv(path, o->dim, o->cls, &all, &t->skipped);
  if (rc != PF_OK) {
    snprintf(why, whylen, "cannot read %s: %s", path, rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
    pf_dataset_free(&all);
    return rc;
  }
  int miss = pf_dataset_missing_class(&all, o->cls);
  if (miss >= 0) {
    snprintf(why, whylen, "no '%s' row in %s (%zu rows read, %zu skipped): a model needs every class; nothing trained",
             o->cls->names[miss], path, all.n, t->skipped);
    pf_dataset_free(&all);
    return PF_ENOENT;
  }
  rc = pf_dataset_split(&all, o->seed, &t->s[0].d, &t->s[1].d, &t->s[2].d);
  pf_dataset_free(&all);
  if (rc != PF_OK) return fail(t, PF_ENOMEM, why, whylen, "out of memory");
  count(t);
  return PF_OK;
}

int pf_trainset_load_db(pf_db *db, const pf_trainset_opts *o, pf_trainset *t, char *why, size_t whylen) {
  memset(t, 0, sizeof *t);
  if (pf_timed_load_db(db, o->dim, o->cls, &t->all, &t->skipped) != PF_OK) {
    char reason[600];
    snprintf(reason, sizeof reason, "reading the fleet's samples: %s", pf_db_error(db));
    return fail(t, PF_EIO, why, whylen, reason);
  }
  int rc = PF_OK;
  if (o->time_split) rc = pf_time_split(&t->all, o->test_since, t->s, t->r);
  else
    for (int s = 0; s < 3 && rc == PF_OK; s++) rc = pf_timed_by_split(&t->all, s, &t->s[s], &t->r[s]);
  if (!o->keep_all) pf_timed_free(&t->all);
  if (rc != PF_OK) return fail(t, PF_ENOMEM, why, whylen, "out of memory");
  count(t);
  return PF_OK;
}

int pf_trainset_check(const pf_trainset *t, const pf_classes *cls, char *why, size_t whylen) {
  const pf_dataset *tr = &t->s[0].d;
  int miss = t->from_csv ? -1 : pf_dataset_missing_class(tr, cls);
  if (miss >= 0) {
    snprintf(why, whylen, "no '%s' sample in the training split (%zu rows, %zu skipped): a model needs every class; "
             "nothing trained", cls->names[miss], tr->n, t->skipped);
    return PF_EINVAL;
  }
  if (t->s[0].d.n == 0 || t->s[1].d.n == 0 || t->s[2].d.n == 0) {
    snprintf(why, whylen, "every split needs at least one row");
    return PF_EINVAL;
  }
  return PF_OK;
}

void pf_trainset_drop(pf_trainset *t, int s) {
  if (s >= 0 && s < 3) pf_timed_free(&t->s[s]);
}

void pf_trainset_free(pf_trainset *t) {
  if (!t) return;
  for (int s = 0; s < 3; s++) pf_timed_free(&t->s[s]);
  pf_timed_free(&t->all);
}
