/* pf_relevance: owns feature relevance by nulling (the seed's `ergo relevance`).
 * Defines, for every input feature of a two-class model, the accuracy and
 * ROC AUC of a labelled set with that feature set to 0, their drops from
 * the untouched set, and the ranking of the features by those drops.
 * Called by `pefleet relevance` and its unit test. */
#ifndef PF_RELEVANCE_H
#define PF_RELEVANCE_H

#include <stddef.h>
#include <stdint.h>

#include "pf_model.h"

typedef struct {
  uint32_t feature;    /* input column */
  double accuracy;     /* with the column nulled */
  double roc_auc;      /* with the column nulled; NaN when one class only */
  double d_accuracy;   /* base accuracy - accuracy */
  double d_auc;        /* base AUC - roc_auc (NaN when undefined) */
} pf_relevance_item;

/* Scores n rows of x (n x m->sizes[0]) with labels y in {0, 1} once as
 * they are (*base_acc, *base_auc) and once per feature with that column set
 * to 0, into out[m->sizes[0]] (out[j].feature = j, unsorted). exact = 1
 * re-runs the whole network per feature (the reference); exact = 0 updates
 * the first layer's pre-activations of only the rows whose value was not 0
 * (the same figures up to float rounding, many times faster).
 * Returns PF_OK; PF_EINVAL (not two classes, n = 0, NULL arguments, a label
 * outside {0,1}); PF_ENOMEM. */
int pf_relevance_compute(const pf_model *m, const float *x, const int32_t *y, size_t n, int exact, double *base_acc,
                         double *base_auc, pf_relevance_item *out);

/* Most relevant first: larger accuracy drop, then larger AUC drop (NaN as
 * 0), then lower feature index. */
void pf_relevance_sort(pf_relevance_item *items, size_t n);

#endif
