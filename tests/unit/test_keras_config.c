/* Unit tests of lib/model/pf_keras_config (cJSON): the three shapes of a
 * Keras 2 model_config, the caps (layers, name and activation lengths),
 * bytes and a length without a NUL, and each refusal's one line. */
#include "pf_test.h"

#include "pf_keras_config.h"

static pf_keras_layer l[8];
static char why[200];

static int parse(const char *text, int max) {
  why[0] = '\0';
  return pf_keras_config_parse((const uint8_t *)text, strlen(text), l, max, why, sizeof why);
}

static void test_shapes(void **state) {
  assert_int_equal(parse("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
                         "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"activation\": \"relu\"}},"
                         "{\"class_name\": \"Dropout\", \"config\": {\"name\": \"dropout_1\", \"rate\": 0.5}},"
                         "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_2\", \"activation\": \"softmax\"}}]}}",
                         8), 3);
  assert_string_equal(l[0].cls, "Dense");
  assert_string_equal(l[0].name, "dense_1");
  assert_string_equal(l[0].activation, "relu");
  assert_string_equal(l[1].cls, "Dropout");
  assert_string_equal(l[1].activation, "");
  assert_string_equal(l[2].activation, "softmax");
  /* Keras <= 2.1: config is the list itself */
  assert_int_equal(parse("{\"config\": [{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\"}}]}", 8), 1);
  /* functional: layers carry inbound_nodes beside config */
  assert_int_equal(parse("{\"class_name\": \"Model\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
                         "\"config\": {\"name\": \"input_1\"}, \"inbound_nodes\": []}], \"input_layers\": []}}", 8), 1);
  assert_string_equal(l[0].cls, "InputLayer");
  assert_int_equal(parse("{\"config\": {\"layers\": []}}", 8), 0);
  /* bytes and a length: what follows the length is not read */
  const char *t = "{\"config\": []}TRAILING";
  assert_int_equal(pf_keras_config_parse((const uint8_t *)t, 14, l, 8, why, sizeof why), 0);
}

static void test_refusals(void **state) {
  assert_int_equal(parse("{\"config\": [", 8), -1);
  assert_string_equal(why, "model_config is not valid JSON");
  assert_int_equal(parse("[1, 2]", 8), -1);
  assert_string_equal(why, "model_config has no \"config\"");
  assert_int_equal(parse("{\"config\": {\"name\": \"x\"}}", 8), -1);
  assert_string_equal(why, "model_config has no layer list");
  assert_int_equal(parse("{\"config\": {\"layers\": {}}}", 8), -1);
  assert_string_equal(why, "model_config's layers are not a list");
  assert_int_equal(parse("{\"config\": [{\"class_name\": \"A\", \"config\": {\"name\": \"a\"}},"
                         "{\"class_name\": \"B\", \"config\": {\"name\": \"b\"}}]}", 1), -1);
  assert_string_equal(why, "model_config has more than 1 layers");
  assert_int_equal(parse("{\"config\": [{\"class_name\": \"A\", \"config\": {}}]}", 8), -1);
  assert_string_equal(why, "model_config layer 1 lacks a class_name or name");
  assert_int_equal(parse("{\"config\": [{\"class_name\": 7, \"config\": {\"name\": \"a\"}}]}", 8), -1);
  assert_string_equal(why, "model_config layer 1 lacks a class_name or name");
  char longname[200];
  snprintf(longname, sizeof longname, "{\"config\": [{\"class_name\": \"A\", \"config\": {\"name\": \"%064d\"}}]}", 0);
  assert_int_equal(parse(longname, 8), -1); /* 64 bytes: one too many */
  assert_string_equal(why, "model_config layer 1 lacks a class_name or name");
  assert_int_equal(parse("{\"config\": [{\"class_name\": \"A\", \"config\": {\"name\": \"a\", \"activation\": null}}]}", 8),
                   -1);
  assert_string_equal(why, "model_config layer a: activation is not a short string");
  assert_int_equal(parse("{\"config\": [{\"class_name\": \"A\", \"config\": {\"name\": \"a\", \"activation\": "
                         "\"0123456789012345678901234567890123\"}}]}", 8), -1);
  assert_string_equal(why, "model_config layer a: activation is not a short string");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shapes),
    cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
