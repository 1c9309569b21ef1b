/* The CPU reference trainer (pf_train.h) behind pf_fit's trainer
 * interface (pf_fit.h): pf_fit_cpu. */
#include "pf_fit.h"
#include "pf_err.h"
#include "pf_train.h"

#include <stdlib.h>

typedef struct {
  pf_trainer *t;
  const pf_model *m; /* borrowed: the model t trains */
} cpu_state;

static int cpu_make(pf_model *m, const pf_train_opts *o, int keep_weights, void **state, char *err, size_t errlen) {
  cpu_state *s = calloc(1, sizeof *s);
  if (!s) return PF_ENOMEM;
  int rc = pf_trainer_new(m, o, keep_weights, &s->t);
  if (rc != PF_OK) {
    free(s);
    return rc;
  }
  s->m = m;
  *state = s;
  return PF_OK;
}

static int cpu_epoch(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  return pf_trainer_epoch(((cpu_state *)state)->t, x, y, n, loss, acc);
}

static int cpu_evaluate(void *state, const float *x, const int32_t *y, size_t n, double *loss, double *acc) {
  return pf_model_evaluate(((cpu_state *)state)->m, x, y, n, loss, acc);
}

static const char *cpu_error(const void *state) { return ""; }

static void cpu_destroy(void **state) {
  if (!state || !*state) return;
  cpu_state *s = *state;
  pf_trainer_free(&s->t);
  free(s);
  *state = NULL;
}

const pf_fit_trainer pf_fit_cpu = {"cpu", cpu_make, cpu_epoch, cpu_evaluate, cpu_error, cpu_destroy};
