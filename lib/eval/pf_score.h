/* pf_score: a model's scores over a data set, the one place that turns a
 * pf_dataset into p(class 1) per row and into that split's metrics.
 * Called by train, evaluate, retrain, the report's figures and the
 * evaluation writers. */
#ifndef PF_SCORE_H
#define PF_SCORE_H

#include "pf_dataset.h"
#include "pf_metrics.h"
#include "pf_model.h"

/* p(class 1) of every row of d (d->n values, at least one allocated; free
 * with free), or NULL when out of memory or the model does not fit d. */
float *pf_score_p1(const pf_model *m, const pf_dataset *d);

/* The metrics of d's rows at threshold: PF_OK (AUC possibly undefined),
 * PF_ENOMEM or PF_EINVAL. */
int pf_score_metrics(const pf_model *m, const pf_dataset *d, double threshold, pf_metrics *out);

#endif
