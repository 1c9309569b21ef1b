/* A Keras 2 model_config's layers (see pf_keras_config.h). */
#include "pf_keras_config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* The string item key of obj copied into out (cap bytes). 0, or -1 when
 * it is missing, not a string, or cap bytes or longer. */
static int get_string(const cJSON *obj, const char *key, char *out, size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(v) || !v->valuestring) return -1;
  size_t n = strlen(v->valuestring);
  if (n >= cap) return -1;
  memcpy(out, v->valuestring, n + 1);
  return 0;
}

/* The layer list: config.layers, or config itself when it is a list. */
static const cJSON *layer_list(const cJSON *top, char *why, size_t whylen) {
  const cJSON *cfg = cJSON_IsObject(top) ? cJSON_GetObjectItemCaseSensitive(top, "config") : NULL;
  if (!cfg) {
    snprintf(why, whylen, "model_config has no \"config\"");
    return NULL;
  }
  const cJSON *layers = cJSON_IsArray(cfg) ? cfg : cJSON_IsObject(cfg) ? cJSON_GetObjectItemCaseSensitive(cfg, "layers") : NULL;
  if (!layers) {
    snprintf(why, whylen, "model_config has no layer list");
    return NULL;
  }
  if (!cJSON_IsArray(layers)) {
    snprintf(why, whylen, "model_config's layers are not a list");
    return NULL;
  }
  return layers;
}

int pf_keras_config_parse(const uint8_t *buf, size_t len, pf_keras_layer *out, int max, char *why, size_t whylen) {
  if (len > PF_KERAS_MAX_CONFIG) {
    snprintf(why, whylen, "model_config is not valid JSON");
    return -1;
  }
  cJSON *top = cJSON_ParseWithLength((const char *)buf, len);
  if (!top) {
    snprintf(why, whylen, "model_config is not valid JSON");
    return -1;
  }
  int n = -1;
  const cJSON *layers = layer_list(top, why, whylen), *l;
  if (layers) {
    n = 0;
    cJSON_ArrayForEach(l, layers) {
      if (n == max) {
        snprintf(why, whylen, "model_config has more than %d layers", max);
        n = -1;
        break;
      }
      pf_keras_layer *k = &out[n];
      memset(k, 0, sizeof *k);
      const cJSON *lc = cJSON_IsObject(l) ? cJSON_GetObjectItemCaseSensitive(l, "config") : NULL;
      if (!cJSON_IsObject(l) || get_string(l, "class_name", k->cls, sizeof k->cls) != 0 || !cJSON_IsObject(lc) ||
          get_string(lc, "name", k->name, sizeof k->name) != 0) {
        snprintf(why, whylen, "model_config layer %d lacks a class_name or name", n + 1);
        n = -1;
        break;
      }
      if (cJSON_GetObjectItemCaseSensitive(lc, "activation") &&
          get_string(lc, "activation", k->activation, sizeof k->activation) != 0) {
        snprintf(why, whylen, "model_config layer %s: activation is not a short string", k->name);
        n = -1;
        break;
      }
      n++;
    }
  }
  cJSON_Delete(top);
  return n;
}
