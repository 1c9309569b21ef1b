/* pefleet report's work (see pf_report.h). */
#include "pf_report.h"
#include "pf_atomic.h"
#include "pf_err.h"
#include "pf_page.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Writes the page to o->out through pf_atomic. */
static int write_page(const pf_report_model *a, const pf_report_model *b, const char *out, char *err,
                      size_t errlen) {
  char odir[4200];
  pf_atomic tmp;
  snprintf(odir, sizeof odir, "%s", out);
  char *slash = strrchr(odir, '/');
  const char *name = slash ? slash + 1 : out;
  if (slash) *slash = '\0';
  const char *pdir = slash ? (odir[0] ? odir : "/") : ".";
  FILE *f = pf_atomic_open(&tmp, pdir, name);
  if (!f) {
    snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
    return PF_EIO;
  }
  pf_page_write(f, a, b);
  if (pf_atomic_commit(&tmp) != PF_OK) {
    snprintf(err, errlen, "cannot write %s", out);
    return PF_EIO;
  }
  return PF_OK;
}

int pf_report_write(pf_report_model *a, const pf_report_opts *o, char *err, size_t errlen, char *note,
                    size_t notelen) {
  note[0] = '\0';
  if (o->over_time && pf_report_model_over_time(a, o->over_time) != PF_OK) {
    snprintf(err, errlen, "--over-time: %s", a->fd.over_time.why);
    return PF_EINVAL;
  }
  int rc;
  if (o->dataset && (rc = pf_report_model_compute(a, o->dataset, o->label_map, o->compare != NULL, err, errlen)) != PF_OK)
    return rc;
  pf_report_model b;
  if (o->compare) {
    if (pf_report_model_load(o->compare, &b) != PF_OK) {
      snprintf(err, errlen, "--compare %s is not a model folder: %s", o->compare, b.model_why);
      pf_report_model_free(&b);
      return PF_EINVAL;
    }
    if (o->dataset && (rc = pf_report_model_compute(&b, o->dataset, o->label_map, 1, err, errlen)) != PF_OK) {
      pf_report_model_free(&b);
      return rc;
    }
    /* two curves on different rows do not compare: say so, on the page and to the caller */
    const pf_folder_roc *ra = &a->fd.roc, *rb = &b.fd.roc;
    if (!o->dataset && ra->present && rb->present && (ra->rows != rb->rows || !pf_report_model_same_source(a, &b))) {
      snprintf(a->compare_note, sizeof a->compare_note,
               "the two models' test splits differ (%zu rows against %zu%s); evaluate both on one data set with "
               "pefleet report --compare --dataset FILE",
               ra->rows, rb->rows, ra->rows == rb->rows ? ", from another data set or split seed" : "");
      snprintf(note, notelen, "%s", a->compare_note);
    }
  }
  rc = write_page(a, o->compare ? &b : NULL, o->out, err, errlen);
  if (o->compare) pf_report_model_free(&b);
  return rc;
}
