/* pf_explain: owns why a model scored a vector the way it did.
 * Defines Integrated Gradients over a pf_model (analytic gradients of the
 * dense ReLU/softmax network, the straight path from a baseline to the
 * input, trapezoid rule), the ranking of the contributions and their sums
 * per ergo486 feature group.
 * Called by the scorer (explanations through the pool) and by
 * `pefleet predict --explain`. */
#ifndef PF_EXPLAIN_H
#define PF_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "pf_dataset.h"
#include "pf_model.h"

#define PF_EXPLAIN_STEPS 64     /* intervals of the path (the trapezoid rule uses STEPS + 1 points) */
#define PF_EXPLAIN_MAX_STEPS 4096
#define PF_EXPLAIN_TOLERANCE 5e-4 /* |sum - (p(x) - p(baseline))| the steps double until */
#define PF_EXPLAIN_MAX_TOP 486  /* largest K a caller may ask for */
#define PF_EXPLAIN_NGROUPS 6

typedef struct {
  double p_x;            /* p(target) at the input */
  double p_base;         /* p(target) at the baseline */
  double sum;            /* sum of the contributions (~ p_x - p_base: completeness) */
  int steps;             /* trapezoid: intervals used; exact: linear pieces of the path */
  char method[16];       /* "exact" or "trapezoid" */
  char baseline[PF_MODEL_NAME]; /* the baseline's name: the model's, or "zero" */
} pf_explain_info;

/* Integrated Gradients of p(class target) for one input x (sizes[0]
 * values) from the model's baseline (m->baseline; the zero vector when the
 * model has none): contrib[i] = (x[i] - b[i]) * the mean over the path of
 * dp/dx[i]. contrib holds sizes[0] doubles.
 * For a two-class model explaining class 1 (pefleet's models), the path
 * integral is exact ("exact"): the network is linear between the points
 * where a hidden unit changes sign, and on each such piece the integral of
 * sigmoid' has a closed form, so the contributions add up to p(x) -
 * p(baseline) up to rounding; info->steps counts the pieces. Otherwise
 * ("trapezoid") steps intervals (>= 1; PF_EXPLAIN_STEPS is the default),
 * doubled up to PF_EXPLAIN_MAX_STEPS until the sum is within
 * PF_EXPLAIN_TOLERANCE of p(x) - p(baseline); all the points of a pass go
 * through the network as one batch. (Measured on the seed's model: the
 * trapezoid rule at 4,096 steps still missed completeness by 3.8e-3 on
 * files whose p jumps within a tiny part of the path; the exact integral
 * meets it to 1e-14 with 43-115 pieces.)
 * Returns PF_OK, PF_EINVAL (target out of range, steps < 1) or PF_ENOMEM. */
int pf_explain_ig(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
                  pf_explain_info *info);

/* One trapezoid pass of steps intervals (no doubling), for any model. */
int pf_explain_ig_trapezoid(const pf_model *m, const float *x, uint32_t target, int steps, double *contrib,
                            pf_explain_info *info);

/* The mean of d's rows of class cls into out (d->dim floats), and the
 * name a baseline of it gets ("clean mean of train, 1234 rows"; label
 * names the class, where names where the rows came from). PF_ENOENT when
 * d has no row of that class. */
int pf_explain_class_mean(const pf_dataset *d, int32_t cls, const char *label, const char *where, float *out,
                          char *name, size_t namelen);

/* The gradient dp(target)/dx at x into grad (sizes[0] doubles), and p. */
int pf_explain_gradient(const pf_model *m, const float *x, uint32_t target, double *grad, double *p);

/* The indices of the k largest |contrib| (ties: lower index first) into
 * idx (k entries; k is capped at n). Returns the number written. */
size_t pf_explain_top(const double *contrib, size_t n, size_t k, uint32_t *idx);

/* The ergo486 feature groups: name of group g and the sum of contrib over
 * its positions (contrib has PF_ERGO486_DIM values). */
const char *pf_explain_group_name(int g);
double pf_explain_group_sum(const double *contrib, int g);

/* The group of feature i (0..485). */
int pf_explain_group_of(int i);

#endif
