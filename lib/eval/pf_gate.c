/* retrain's promotion gate (see pf_gate.h). */
#include "pf_gate.h"
#include "pf_drift.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_registry.h"
#include "pf_score.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_gate_enough(const pf_trainset *t, int ncls, double min_per_class) {
  for (int c = 0; c < ncls && c < PF_TRAINSET_CLASSES; c++)
    if (t->count[0][c] < (long long)min_per_class || t->count[1][c] < 1 || t->count[2][c] < 1) return 0;
  return 1;
}

pf_gate_fig pf_gate_figures(const pf_model *m, const pf_dataset *d) {
  pf_gate_fig g = {0, NAN, NAN, NAN};
  pf_metrics mt;
  if (m->sizes[0] != d->dim || pf_model_classes(m) != 2 || pf_score_metrics(m, d, m->threshold, &mt) != PF_OK)
    return g;
  g.ok = 1;
  g.auc = mt.auc_defined ? mt.roc_auc : NAN;
  g.fpr = mt.fpr;
  g.tpr1 = mt.tpr_at_fpr[0].tpr;
  return g;
}

/* When the champion's training data ended: its stats.json says, or else
 * (a model trained from a CSV, or before first-seen times) its
 * registration time, when it had been trained already. */
static long long champion_end(pf_db *db, const char *version) {
  pf_registry_entry e;
  char *stats = NULL;
  long long end = 0;
  if (pf_registry_get(db, version, &e, &stats) == PF_OK) {
    if (pf_drift_data_end(stats, &end) != PF_OK) end = e.registered;
  }
  free(stats);
  return end;
}

long long pf_gate_fresh_after(pf_db *db, const char *champ_v, const char *ch_dir) {
  long long after = 0, ch_end = 0;
  char *ch_stats = pf_drift_read_stats(ch_dir);
  if (pf_drift_data_end(ch_stats, &ch_end) != PF_OK) ch_end = 0;
  free(ch_stats);
  if (champ_v) after = champion_end(db, champ_v);
  if (ch_end > after) after = ch_end;
  return after;
}

/* Appends to a reason. */
static void why_add(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void why_add(char *why, size_t n, const char *fmt, ...) {
  size_t l = strlen(why);
  if (l + 1 >= n) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why + l, n - l, fmt, ap);
  va_end(ap);
}

/* 1 when d has rows of both classes */
static int both_classes(const pf_dataset *d) {
  int seen[2] = {0, 0};
  for (size_t i = 0; i < d->n; i++)
    if (d->y[i] == 0 || d->y[i] == 1) seen[d->y[i]] = 1;
  return seen[0] && seen[1];
}

/* The champion's side: the comparisons on the test split and the fresh window. */
static void against_champion(const pf_gate_opts *o, const pf_model *ch, const char *champ_v, const pf_model *champ,
                             const pf_dataset *test, const pf_dataset *fresh, long long after, pf_gate_verdict *v) {
  v->tk = pf_gate_figures(champ, test);
  if (!v->tk.ok) {
    snprintf(v->why, sizeof v->why, "the champion %s cannot be scored on this test split (input width %u, %u classes); "
             "promote by hand if the challenger should serve", champ_v, champ->sizes[0], pf_model_classes(champ));
    v->decision = PF_GATE_KEEP;
    return;
  }
  if (both_classes(fresh)) {
    v->fc = pf_gate_figures(ch, fresh);
    v->fk = pf_gate_figures(champ, fresh);
    v->fresh_used = v->fc.ok && v->fk.ok;
  }
  pf_date_format(after, v->day, sizeof v->day);
  if (strcmp(champ_v, ch->version) == 0) {
    snprintf(v->why, sizeof v->why, "the challenger has the same weights");
  } else {
    const pf_gate_fig *tc = &v->tc, *tk = &v->tk;
    if (!(tc->auc >= tk->auc - o->auc_tol))
      why_add(v->why, sizeof v->why, "%schallenger's ROC AUC %.4f is below the champion's %.4f - tolerance %g",
              v->why[0] ? "; " : "", tc->auc, tk->auc, o->auc_tol);
    if (!(tc->fpr <= tk->fpr + o->fpr_tol))
      why_add(v->why, sizeof v->why, "%schallenger's FPR %.4f is above the champion's %.4f + tolerance %g",
              v->why[0] ? "; " : "", tc->fpr, tk->fpr, o->fpr_tol);
    if (v->fresh_used && !(v->fc.auc >= v->fk.auc - o->auc_tol))
      why_add(v->why, sizeof v->why,
              "%schallenger's ROC AUC %.4f on the fresh window (%zu samples first seen after %s) is below the "
              "champion's %.4f - tolerance %g", v->why[0] ? "; " : "", v->fc.auc, fresh->n, v->day, v->fk.auc,
              o->auc_tol);
  }
  if (v->why[0]) v->decision = PF_GATE_KEEP;
}

int pf_gate_judge(const pf_gate_opts *o, const pf_model *ch, const char *champ_v, const pf_model *champ,
                  const pf_dataset *test, const pf_dataset *fresh, long long after, long long samples,
                  pf_gate_verdict *v) {
  static const pf_gate_fig none = {0, NAN, NAN, NAN};
  memset(v, 0, sizeof *v);
  v->tk = v->fc = v->fk = none;
  v->tc = pf_gate_figures(ch, test);
  if (!v->tc.ok) return PF_EINVAL;
  v->decision = PF_GATE_PROMOTE;
  if (champ) against_champion(o, ch, champ_v, champ, test, fresh, after, v);
  if (v->decision == PF_GATE_PROMOTE && (double)samples < o->min_samples) {
    snprintf(v->why, sizeof v->why, "%s was trained on %lld samples, below the floor of %.0f (--min-samples)",
             ch->version, samples, o->min_samples);
    v->decision = PF_GATE_FLOOR;
  }
  if (v->decision == PF_GATE_PROMOTE) {
    if (!champ) snprintf(v->why, sizeof v->why, "first model");
    else if (v->fresh_used)
      snprintf(v->why, sizeof v->why, "at least as good as %s on the test split and on the fresh window "
               "(ROC AUC %.4f vs %.4f, %zu samples first seen after %s)", champ_v, v->fc.auc, v->fk.auc, fresh->n,
               v->day);
    else snprintf(v->why, sizeof v->why, "at least as good as %s on the test split (no fresh window with both classes)",
                  champ_v);
  }
  static const char *const names[3] = {"promoted", "kept", "not promoted"};
  v->decision_name = names[v->decision];
  return PF_OK;
}

static void fig(cJSON *o, const char *k, double x) {
  if (isfinite(x)) cJSON_AddNumberToObject(o, k, x);
  else cJSON_AddNullToObject(o, k);
}

static void pair(cJSON *root, const char *name, size_t rows, const pf_gate_fig *ch, const pf_gate_fig *ck,
                 long long after) {
  cJSON *o = cJSON_AddObjectToObject(root, name);
  if (!o) return;
  char d[PF_DATE_LEN];
  if (after > 0) cJSON_AddStringToObject(o, "after", pf_date_format(after, d, sizeof d));
  cJSON_AddNumberToObject(o, "rows", (double)rows);
  fig(o, "challenger_roc_auc", ch->auc);
  fig(o, "champion_roc_auc", ck ? ck->auc : NAN);
  fig(o, "challenger_fpr", ch->fpr);
  fig(o, "champion_fpr", ck ? ck->fpr : NAN);
  fig(o, "challenger_tpr_at_fpr_0.01", ch->tpr1);
  fig(o, "champion_tpr_at_fpr_0.01", ck ? ck->tpr1 : NAN);
}

char *pf_gate_json(const pf_gate_verdict *v, const char *champ_v, int has_champ, size_t test_rows, size_t fresh_rows,
                   long long after, long long decided) {
  cJSON *g = cJSON_CreateObject();
  if (!g) return NULL;
  cJSON_AddStringToObject(g, "decision", v->decision_name);
  cJSON_AddStringToObject(g, "reason", v->why);
  cJSON_AddStringToObject(g, "champion", champ_v);
  cJSON_AddNumberToObject(g, "decided", (double)decided);
  pair(g, "test", test_rows, &v->tc, has_champ ? &v->tk : NULL, 0);
  if (has_champ) pair(g, "fresh", fresh_rows, &v->fc, &v->fk, after);
  char *txt = cJSON_PrintUnformatted(g);
  cJSON_Delete(g);
  return txt;
}
