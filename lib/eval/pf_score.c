/* pf_score: see pf_score.h. */
#include "pf_score.h"

#include "pf_err.h"

#include <stdlib.h>

float *pf_score_p1(const pf_model *m, const pf_dataset *d) {
  if (!m || !d) return NULL;
  float *p1 = malloc((d->n ? d->n : 1) * sizeof *p1);
  if (p1 && pf_model_predict_class(m, d->x, d->n, 1, p1) != PF_OK) {
    free(p1);
    return NULL;
  }
  return p1;
}

int pf_score_metrics(const pf_model *m, const pf_dataset *d, double threshold, pf_metrics *out) {
  if (!m || !d || !out) return PF_EINVAL;
  float *p1 = pf_score_p1(m, d);
  if (!p1) return PF_ENOMEM;
  int rc = pf_metrics_compute(p1, d->y, d->n, threshold, out);
  free(p1);
  return rc > 0 ? PF_OK : rc;
}
