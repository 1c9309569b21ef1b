/* Unit tests of pf_gate, retrain's promotion gate: the first model is
 * promoted, the floor on training samples holds it back, the same weights
 * and a champion that cannot score are kept with their reasons, equal
 * figures pass with and without a fresh window of both classes, a worse
 * challenger is kept with each failed comparison named, a challenger that
 * cannot score is refused, the rows-per-class floor, and the verdict's
 * JSON carries the fresh window only with a champion. */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_gate.h"

#include <cjson/cJSON.h>
#include <math.h>

/* a 4-2 model whose p(class 1) follows feature 0 (sign: +1) or not (-1) */
static pf_model *model(const char *version, uint32_t dim, float sign) {
  const uint32_t sizes[2] = {dim, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(1, sizes, &m), PF_OK);
  memset(m->w[0], 0, dim * 2 * sizeof(float));
  m->w[0][1] = 8.0f * sign; /* input 0 -> class 1 */
  m->b[0][0] = 0;
  m->b[0][1] = -4.0f * sign;
  snprintf(m->classes[0], sizeof m->classes[0], "clean");
  snprintf(m->classes[1], sizeof m->classes[1], "malicious");
  snprintf(m->version, sizeof m->version, "%s", version);
  m->threshold = 0.5;
  return m;
}

/* n rows of width 4: class i % 2, feature 0 = the class (only class 0 when one) */
static void rows(pf_dataset *d, size_t n, int one) {
  memset(d, 0, sizeof *d);
  d->dim = 4;
  for (size_t i = 0; i < n; i++) {
    int y = one ? 0 : (int)(i % 2);
    double v[4] = {y ? 0.9 - 0.001 * (double)i : 0.1 + 0.001 * (double)i, 0.5, 0.5, 0.5};
    assert_int_equal(pf_dataset_push(d, v, y), PF_OK);
  }
}

static const pf_gate_opts opts = {100, 0, 0};

static void test_first_and_floor(void **state) {
  pf_model *ch = model("c1", 4, 1);
  pf_dataset test, fresh = {0};
  rows(&test, 40, 0);
  pf_gate_verdict v;
  assert_int_equal(pf_gate_judge(&opts, ch, "", NULL, &test, &fresh, 0, 500, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_PROMOTE);
  assert_string_equal(v.decision_name, "promoted");
  assert_string_equal(v.why, "first model");
  assert_true(v.tc.ok && v.tc.auc == 1 && v.tc.fpr == 0);
  assert_false(v.tk.ok);
  assert_int_equal(pf_gate_judge(&opts, ch, "", NULL, &test, &fresh, 0, 99, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_FLOOR);
  assert_string_equal(v.decision_name, "not promoted");
  assert_string_equal(v.why, "c1 was trained on 99 samples, below the floor of 100 (--min-samples)");
  /* a challenger of another width cannot be judged */
  pf_model *wide = model("w", 5, 1);
  assert_int_equal(pf_gate_judge(&opts, wide, "", NULL, &test, &fresh, 0, 500, &v), PF_EINVAL);
  pf_model_free(&wide);
  pf_model_free(&ch);
  pf_dataset_free(&test);
}

static void test_against_champion(void **state) {
  pf_model *ch = model("c2", 4, 1), *same = model("c2", 4, 1), *k = model("k1", 4, 1), *bad = model("k0", 4, -1);
  pf_model *wide = model("kw", 5, 1);
  pf_dataset test, fresh, one;
  rows(&test, 40, 0);
  rows(&fresh, 10, 0);
  rows(&one, 10, 1);
  const long long after = 1767571200LL;
  pf_gate_verdict v;
  /* the same weights: kept */
  assert_int_equal(pf_gate_judge(&opts, ch, "c2", same, &test, &fresh, after, 500, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_KEEP);
  assert_string_equal(v.why, "the challenger has the same weights");
  /* a champion that cannot score this split: kept, promote by hand */
  assert_int_equal(pf_gate_judge(&opts, ch, "kw", wide, &test, &fresh, after, 500, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_KEEP);
  assert_string_equal(v.why, "the champion kw cannot be scored on this test split (input width 5, 2 classes); "
                             "promote by hand if the challenger should serve");
  /* as good: promoted, judged on the fresh window when it has both classes */
  assert_int_equal(pf_gate_judge(&opts, ch, "k1", k, &test, &fresh, after, 500, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_PROMOTE);
  assert_true(v.fresh_used);
  assert_string_equal(v.day, "2026-01-05T00:00:00Z");
  assert_string_equal(v.why, "at least as good as k1 on the test split and on the fresh window (ROC AUC 1.0000 vs "
                             "1.0000, 10 samples first seen after 2026-01-05T00:00:00Z)");
  assert_int_equal(pf_gate_judge(&opts, ch, "k1", k, &test, &one, after, 500, &v), PF_OK);
  assert_false(v.fresh_used);
  assert_false(v.fc.ok);
  assert_string_equal(v.why, "at least as good as k1 on the test split (no fresh window with both classes)");
  /* worse than the champion: every failed comparison named */
  assert_int_equal(pf_gate_judge(&opts, bad, "k1", k, &test, &fresh, after, 500, &v), PF_OK);
  assert_int_equal(v.decision, PF_GATE_KEEP);
  assert_non_null(strstr(v.why, "challenger's ROC AUC 0.0000 is below the champion's 1.0000 - tolerance 0"));
  assert_non_null(strstr(v.why, "; challenger's FPR 1.0000 is above the champion's 0.0000 + tolerance 0"));
  assert_non_null(strstr(v.why, "on the fresh window (10 samples first seen after 2026-01-05T00:00:00Z)"));
  /* the verdict's JSON: test always, fresh with a champion */
  char *txt = pf_gate_json(&v, "k1", 1, test.n, fresh.n, after, 1767600000LL);
  assert_non_null(txt);
  cJSON *j = cJSON_Parse(txt);
  assert_non_null(j);
  assert_string_equal(cJSON_GetObjectItem(j, "decision")->valuestring, "kept");
  assert_string_equal(cJSON_GetObjectItem(j, "champion")->valuestring, "k1");
  assert_true(cJSON_GetObjectItem(j, "decided")->valuedouble == 1767600000.0);
  cJSON *t = cJSON_GetObjectItem(j, "test"), *f = cJSON_GetObjectItem(j, "fresh");
  assert_true(cJSON_GetObjectItem(t, "rows")->valuedouble == 40 && !cJSON_GetObjectItem(t, "after"));
  assert_true(cJSON_GetObjectItem(t, "champion_roc_auc")->valuedouble == 1);
  assert_string_equal(cJSON_GetObjectItem(f, "after")->valuestring, "2026-01-05T00:00:00Z");
  cJSON_Delete(j);
  free(txt);
  assert_int_equal(pf_gate_judge(&opts, ch, "", NULL, &test, &fresh, 0, 500, &v), PF_OK);
  txt = pf_gate_json(&v, "", 0, test.n, 0, 0, 1);
  j = cJSON_Parse(txt);
  assert_non_null(j);
  assert_null(cJSON_GetObjectItem(j, "fresh"));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "test"), "champion_fpr")));
  cJSON_Delete(j);
  free(txt);
  pf_model_free(&ch); pf_model_free(&same); pf_model_free(&k); pf_model_free(&bad); pf_model_free(&wide);
  pf_dataset_free(&test); pf_dataset_free(&fresh); pf_dataset_free(&one);
}

static void test_enough(void **state) {
  pf_trainset t;
  memset(&t, 0, sizeof t);
  t.count[0][0] = 50; t.count[0][1] = 50;
  t.count[1][0] = 1; t.count[1][1] = 1;
  t.count[2][0] = 1; t.count[2][1] = 1;
  assert_true(pf_gate_enough(&t, 2, 50));
  assert_false(pf_gate_enough(&t, 2, 51));
  t.count[2][1] = 0;
  assert_false(pf_gate_enough(&t, 2, 1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_first_and_floor),
    cmocka_unit_test(test_against_champion),
    cmocka_unit_test(test_enough),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
