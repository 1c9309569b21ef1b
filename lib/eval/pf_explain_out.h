/* pf_explain_out: owns how an explanation is shown.
 * Defines the JSON object every front prints (`predict --explain`,
 * `scan --explain`, the gateway's /v1/scan?explain=K): the class explained,
 * the baseline, p at the input and at the baseline, the top K features with
 * their schema names, values and contributions, and the sum per feature
 * group; and the short form of the table ("import(kernel32) +0.31, ...").
 * Called by cli/score_out.c and the gateway. */
#ifndef PF_EXPLAIN_OUT_H
#define PF_EXPLAIN_OUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  const double *contrib;  /* n contributions */
  const double *x;        /* the n input values */
  size_t n;               /* PF_ERGO486_DIM for ergo486 models (names and groups need it) */
  const char *target;     /* the class explained */
  double p, p_baseline;
  const char *baseline;
  int steps;
  const char *method;     /* "exact" or "trapezoid" */
} pf_explain_view;

/* {"target","baseline","p","p_baseline","sum","method","steps","top":[{"feature",
 * "index","value","contribution"}...],"groups":{...}} with k top features
 * (k capped at n); similar_json, when not NULL, is added verbatim as
 * "similar" (a JSON array the caller built). No newline. */
void pf_explain_json(FILE *f, const pf_explain_view *e, size_t k, const char *similar_json);

/* "NAME +0.312, NAME -0.120, ..." for the k largest into buf. */
void pf_explain_brief(const pf_explain_view *e, size_t k, char *buf, size_t n);

#endif
