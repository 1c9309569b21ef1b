/* The model folder parsers' shared cJSON reading (see pf_folder_json.h). */
#include "pf_folder_json.h"
#include "pf_err.h"
#include "pf_folder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

cJSON *pf_folder__parse(const uint8_t *buf, size_t len, char *why, size_t whylen) {
  if (len > PF_FOLDER_MAX_FILE) { snprintf(why, whylen, "larger than %u MiB", PF_FOLDER_MAX_FILE >> 20); return NULL; }
  cJSON *j = buf ? cJSON_ParseWithLength((const char *)buf, len) : NULL;
  if (!j) snprintf(why, whylen, "not valid JSON");
  else if (!cJSON_IsObject(j)) { snprintf(why, whylen, "not a JSON object"); cJSON_Delete(j); j = NULL; }
  return j;
}

double pf_folder__num(const cJSON *o, const char *key) {
  const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

size_t pf_folder__count(const cJSON *o, const char *key) {
  double v = pf_folder__num(o, key);
  return v >= 0 && v < 1e15 ? (size_t)v : 0;
}

int pf_folder__darray(const cJSON *o, const char *key, double **out, size_t *n) {
  const cJSON *a = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL, *e;
  *out = NULL;
  *n = 0;
  if (!cJSON_IsArray(a)) return PF_EINVAL;
  size_t cnt = 0;
  cJSON_ArrayForEach(e, a) if (++cnt > PF_FOLDER_MAX_POINTS) return PF_ELIMIT;
  double *v = malloc((cnt ? cnt : 1) * sizeof *v);
  if (!v) return PF_ENOMEM;
  size_t i = 0;
  cJSON_ArrayForEach(e, a) v[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
  *out = v;
  *n = cnt;
  return PF_OK;
}

void pf_folder__str(char *dst, size_t cap, const cJSON *v) {
  snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}
