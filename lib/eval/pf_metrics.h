/* pf_metrics: owns the binary-classification metrics of a scored split.
 * Defines the confusion matrix at a threshold (the seed's [[tn, fp],
 * [fn, tp]]), accuracy, per-class precision/recall/F1/support, the exact
 * ROC curve and its AUC, TPR at FPR 0.01 and 0.001, and the split object
 * of stats.json.
 * Called by the trainer (`pefleet train` writing stats.json) and the report.
 *
 * Inputs everywhere: n scores p1[i] (probability of class 1) and labels
 * y[i] in {0, 1}; class 1 is predicted when (double)p1[i] >= threshold.
 * Any 0/0 (precision with nothing predicted, a rate over an absent class,
 * accuracy of n = 0) is defined as 0. The ROC curve has one point per
 * distinct score, ties taken as one step: from (0, 0) at threshold
 * +infinity, down the distinct scores in decreasing order, to (1, 1) at the
 * lowest score. Time O(n log n), memory O(n). */
#ifndef PF_METRICS_H
#define PF_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PF_METRICS_NTARGETS 2 /* tpr_at_fpr targets: 0.01, then 0.001 */
#define PF_METRICS_NO_AUC 1   /* pf_metrics_compute: success, AUC undefined */

/* One operating point read off the ROC curve for an FPR budget. */
typedef struct {
  double target;    /* the FPR budget: 0.01 or 0.001 */
  double tpr;       /* highest TPR of a curve point with FPR <= target */
  double fpr;       /* that point's FPR */
  double threshold; /* the highest score reaching that TPR within the
                       budget; +infinity (JSON null) when the best is TPR 0 */
} pf_metrics_op;

typedef struct {
  uint64_t n;
  double threshold;      /* the decision threshold t */
  uint64_t cm[2][2];     /* [[tn, fp], [fn, tp]]: cm[true class][predicted] */
  double accuracy;       /* (tn + tp) / n */
  double precision[2];   /* [c]: cm[c][c] / predicted c */
  double recall[2];      /* [c]: cm[c][c] / support[c] */
  double f1[2];          /* [c]: 2 cm[c][c] / (predicted c + support[c]) */
  uint64_t support[2];   /* [c]: samples whose true class is c */
  int auc_defined;       /* 1 when both classes are present */
  double roc_auc;        /* trapezoid area under the ROC curve (= P(score of
                            a random 1 > score of a random 0) + 1/2 P(tie));
                            NaN when !auc_defined */
  double fpr;            /* fp / (tn + fp) at the threshold */
  pf_metrics_op tpr_at_fpr[PF_METRICS_NTARGETS];
} pf_metrics;

/* Computes every metric of n scored samples at threshold into *out.
 * Returns PF_OK; PF_METRICS_NO_AUC (positive: still a success, every other
 * field is filled) when n = 0 or only one class is present; PF_EINVAL for a
 * NaN score or threshold, a label other than 0 or 1, a NULL out, or NULL
 * arrays with n > 0; PF_ENOMEM when the sort buffer cannot be allocated.
 * On an error *out is zeroed. */
int pf_metrics_compute(const float *p1, const int32_t *y, size_t n, double threshold, pf_metrics *out);

/* Writes the exact ROC curve into caller arrays of room cap: fpr[k], tpr[k]
 * and, unless thr is NULL, its threshold thr[k] (+infinity for the first
 * point). When the curve has more than cap points, cap of them are chosen
 * evenly by index, the first and the last always kept (cap 1: the first).
 * *npoints receives how many were written; *total (unless NULL) how many
 * the whole curve has (distinct scores + 1). Returns PF_OK, or PF_EINVAL /
 * PF_ENOMEM as pf_metrics_compute (PF_EINVAL too for NULL fpr, tpr or
 * npoints with cap > 0). */
int pf_metrics_roc(const float *p1, const int32_t *y, size_t n, double *fpr, double *tpr, double *thr, size_t cap,
                   size_t *npoints, size_t *total);

/* Writes m as one split's object of stats.json on one line:
 * {"cm": [[tn, fp], [fn, tp]], "accuracy": a, "per_class": {"<name0>":
 * {"precision", "recall", "f1", "support"}, "<name1>": {...}}, "roc_auc":
 * auc or null, "threshold": t, "fpr": f, "tpr_at_fpr": {"0.01": {"tpr",
 * "threshold"}, "0.001": {...}}, "n": n}. Numbers go through pf_fmt_double
 * (shortest round-trip; non-finite as null). names (may be NULL, or hold
 * NULLs) replace the class keys "0" and "1". Returns PF_OK, PF_EINVAL for a
 * NULL f or m, PF_EIO when writing to f failed. */
int pf_metrics_write_json(FILE *f, const pf_metrics *m, const char *const names[2]);

#endif
