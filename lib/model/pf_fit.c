/* A training run over a trainer interface (see pf_fit.h). */
#include "pf_fit.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_fit_history_init(pf_fit_history *h, size_t cap) {
  memset(h, 0, sizeof *h);
  h->cap = cap ? cap : 1;
  double **cols[5] = {&h->loss, &h->acc, &h->val_loss, &h->val_acc, &h->seconds};
  for (int i = 0; i < 5; i++) {
    *cols[i] = calloc(h->cap, sizeof(double));
    if (!*cols[i]) { pf_fit_history_free(h); return PF_ENOMEM; }
  }
  return PF_OK;
}

void pf_fit_history_add(pf_fit_history *h, double loss, double acc, double val_loss, double val_acc, double seconds) {
  if (h->n >= h->cap) return;
  h->loss[h->n] = loss;
  h->acc[h->n] = acc;
  h->val_loss[h->n] = val_loss;
  h->val_acc[h->n] = val_acc;
  h->seconds[h->n] = seconds;
  h->n++;
}

void pf_fit_history_free(pf_fit_history *h) {
  free(h->loss); free(h->acc); free(h->val_loss); free(h->val_acc); free(h->seconds);
  memset(h, 0, sizeof *h);
}

void pf_fit_opts_default(pf_fit_opts *o) {
  memset(o, 0, sizeof *o);
  pf_train_opts_default(&o->train);
  o->epochs = 50;
  o->patience = 5;
  o->min_delta = 1e-4;
}

/* Copies every weight of src into dst (same shapes). */
static void copy_weights(pf_model *dst, const pf_model *src) {
  for (uint32_t l = 0; l < src->n_layers; l++) {
    memcpy(dst->w[l], src->w[l], (size_t)src->sizes[l] * src->sizes[l + 1] * sizeof(float));
    memcpy(dst->b[l], src->b[l], (size_t)src->sizes[l + 1] * sizeof(float));
  }
}

/* m->version: the first 12 hex digits of the sha256 of the encoded model,
 * made with version and parent empty. */
static int set_version(pf_model *m) {
  m->version[0] = m->parent[0] = '\0';
  size_t n = pf_model_encoded_size(m);
  uint8_t *enc = malloc(n ? n : 1), digest[PF_SHA256_LEN];
  int rc = enc ? pf_model_encode(m, enc, n) : PF_ENOMEM;
  if (rc == PF_OK) rc = pf_sha256(enc, n, digest);
  free(enc);
  if (rc != PF_OK) return rc;
  char hex[PF_SHA256_HEX_LEN + 1];
  pf_hex(digest, PF_SHA256_LEN, hex);
  snprintf(m->version, sizeof m->version, "%.12s", hex);
  return PF_OK;
}

/* The epochs, with early stopping; best ends with the kept weights. */
static int run_epochs(const pf_fit_trainer *tr, void *st, pf_model *m, pf_model *best, const pf_fit_opts *o,
                      const pf_fit_rows *train, const pf_fit_rows *val, pf_fit_result *res) {
  double best_acc = -INFINITY;
  int wait = 0;
  for (int e = 1; e <= o->epochs; e++) {
    double ts = pf_clock_s(), loss, acc, vloss, vacc;
    int rc = tr->epoch(st, train->x, train->y, train->n, &loss, &acc);
    if (rc == PF_OK) rc = tr->evaluate(st, val->x, val->y, val->n, &vloss, &vacc);
    if (rc != PF_OK) {
      res->failed_at = PF_FIT_AT_EPOCH;
      res->failed_epoch = e;
      return rc;
    }
    double secs = pf_clock_s() - ts;
    pf_fit_history_add(&res->history, loss, acc, vloss, vacc, secs);
    if (o->on_epoch) o->on_epoch(o->ctx, e, o->epochs, loss, acc, vloss, vacc, secs);
    if (vloss < res->best_loss) { res->best_loss = vloss; res->best_epoch = e; copy_weights(best, m); }
    if (vacc - o->min_delta > best_acc) { best_acc = vacc; wait = 0; }
    else if (++wait >= o->patience) {
      res->stopped_early = 1;
      break;
    }
  }
  return PF_OK;
}

int pf_fit(pf_model *m, const pf_fit_trainer *tr, const pf_fit_opts *o, const pf_fit_rows *train,
           const pf_fit_rows *val, pf_fit_result *res, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!res) return PF_EINVAL;
  memset(res, 0, sizeof *res);
  res->best_loss = INFINITY;
  res->failed_at = PF_FIT_AT_SETUP;
  if (!m || !tr || !o || !train || !val || o->epochs < 1 || o->patience < 1 || !train->x || !train->y ||
      !train->n || !val->x || !val->y || !val->n)
    return PF_EINVAL;
  char parent[PF_MODEL_NAME]; /* o->parent may be m's own version or parent */
  snprintf(parent, sizeof parent, "%s", o->parent ? o->parent : "");
  pf_model *best = NULL;
  if (pf_model_new(m->n_layers, m->sizes, &best) != PF_OK) return PF_ENOMEM;
  void *st = NULL;
  int rc = tr->make(m, &o->train, o->keep_weights, &st, err, errlen);
  if (rc != PF_OK) {
    res->failed_at = PF_FIT_AT_TRAINER;
    pf_model_free(&best);
    return rc;
  }
  rc = pf_fit_history_init(&res->history, (size_t)o->epochs);
  if (rc == PF_OK) {
    res->failed_at = PF_FIT_AT_NONE;
    rc = run_epochs(tr, st, m, best, o, train, val, res);
    if (rc != PF_OK && err && errlen) snprintf(err, errlen, "%s", tr->error(st)[0] ? tr->error(st) : pf_strerror(rc));
  }
  tr->destroy(&st);
  if (rc == PF_OK) {
    copy_weights(m, best);
    if (o->baseline) (void)pf_model_set_baseline(m, o->baseline, o->baseline_name); /* one it refuses is left out */
  }
  pf_model_free(&best);
  if (rc == PF_OK) rc = set_version(m);
  if (rc == PF_OK) snprintf(m->parent, sizeof m->parent, "%s", parent);
  return rc;
}
