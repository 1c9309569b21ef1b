/* Unit tests of cli/model_info: the test split's ROC AUC and FPR read back
 * from stats.json text as pf_metrics_write_json writes it (class names that
 * look like keys included), null and missing figures, and the training-set
 * size from model.json. model_info lives in cli/, outside the library, so
 * its one source file is compiled in here. */
#include "pf_test.h"

#include "../../cli/model_info.c"
#include "pf_err.h"
#include "pf_metrics.h"

#include <math.h>
#include <unistd.h>

/* stats.json text with the three splits, each the metrics of the same
 * scores, class names n0 and n1. */
static char *stats_text(const char *n0, const char *n1, pf_metrics *out) {
  static const float p1[] = {0.1f, 0.7f, 0.2f, 0.9f, 0.6f, 0.3f, 0.8f, 0.4f};
  static const int32_t y[] = {0, 0, 0, 1, 1, 0, 1, 1};
  assert_int_equal(pf_metrics_compute(p1, y, 8, 0.5, out), PF_OK);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  const char *names[2] = {n0, n1};
  fputs("{\n", f);
  static const char *const keys[3] = {"train", "validation", "test"};
  for (int s = 0; s < 3; s++) {
    fprintf(f, "  \"%s\": ", keys[s]);
    assert_int_equal(pf_metrics_write_json(f, out, names), PF_OK);
    fprintf(f, "%s\n", s < 2 ? "," : "");
  }
  fputs("}\n", f);
  fclose(f);
  return buf;
}

static void test_figures(void **state) {
  pf_metrics m;
  char *s = stats_text("clean", "malicious", &m);
  double auc, fpr;
  assert_int_equal(model_info_test_figures(s, &auc, &fpr), 0);
  assert_true(fabs(auc - m.roc_auc) < 1e-15);
  assert_true(fabs(fpr - m.fpr) < 1e-15);
  assert_true(m.fpr > 0 && m.roc_auc < 1); /* the data make both figures non-trivial */
  free(s);
}

static void test_class_names_like_keys(void **state) {
  pf_metrics m;
  char *s = stats_text("fpr", "roc_auc", &m);
  double auc, fpr;
  assert_int_equal(model_info_test_figures(s, &auc, &fpr), 0);
  assert_true(fabs(auc - m.roc_auc) < 1e-15);
  assert_true(fabs(fpr - m.fpr) < 1e-15);
  free(s);
}

static void test_null_and_missing(void **state) {
  double auc = 0, fpr = 0;
  assert_int_equal(model_info_test_figures("{\"train\": {}}", &auc, &fpr), -1);
  assert_true(isnan(auc) && isnan(fpr));
  assert_int_equal(model_info_test_figures(NULL, &auc, &fpr), -1);
  assert_int_equal(model_info_test_figures("", &auc, &fpr), -1);
  assert_int_equal(model_info_test_figures("{\"test\": {\"roc_auc\": null, \"threshold\": 0.5, \"fpr\": 0.25}}\n", &auc,
                                           &fpr), 0);
  assert_true(isnan(auc));
  assert_true(fpr == 0.25);
  /* a figure on a later line belongs to another object */
  assert_int_equal(model_info_test_figures("{\"test\": {\"n\": 0},\n \"x\": {\"roc_auc\": 0.9, \"fpr\": 0.1}}", &auc,
                                           &fpr), 0);
  assert_true(isnan(auc) && isnan(fpr));
}

static void test_samples(void **state) {
  char dir[] = "/tmp/pf-model-info-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  assert_int_equal(model_info_samples(dir), -1); /* no model.json */
  snprintf(path, sizeof path, "%s/model.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"format\": 1, \"version\": \"abc\", \"parent\": \"\", \"schema\": 1, \"layers\": [486, 70, 70, 2], "
        "\"classes\": [\"train\", \"rows\"], \"threshold\": 0.5, \"rows\": {\"train\": 1050, \"validation\": 225, "
        "\"test\": 225}}\n", f);
  fclose(f);
  assert_int_equal(model_info_samples(dir), 1050);
  f = fopen(path, "w");
  fputs("{\"format\": 1, \"version\": \"abc\"}\n", f); /* an imported model: no rows */
  fclose(f);
  assert_int_equal(model_info_samples(dir), -1);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_figures),
    cmocka_unit_test(test_class_names_like_keys),
    cmocka_unit_test(test_null_and_missing),
    cmocka_unit_test(test_samples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
