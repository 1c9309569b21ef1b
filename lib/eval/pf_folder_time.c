/* over_time.json's text (see pf_folder.h): the indented cJSON layout that
 * evaluate --by --json prints and the model folder keeps. */
#include "pf_folder.h"
#include "pf_folder_json.h"

#include <math.h>

static void fig(cJSON *o, const char *k, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
  else cJSON_AddNullToObject(o, k);
}

char *pf_folder_over_time_text(const pf_folder_over_time *ot) {
  cJSON *root = cJSON_CreateObject(), *arr = NULL;
  if (!root) return NULL;
  cJSON_AddStringToObject(root, "by", ot->by);
  cJSON_AddStringToObject(root, "model", ot->model);
  fig(root, "threshold", ot->threshold);
  cJSON_AddStringToObject(root, "thresholds_from", "validation");
  arr = cJSON_AddArrayToObject(root, "periods");
  for (size_t i = 0; arr && i < ot->n; i++) {
    const pf_folder_period *p = &ot->p[i];
    cJSON *o = cJSON_CreateObject(), *s;
    if (!o) break;
    cJSON_AddItemToArray(arr, o);
    cJSON_AddStringToObject(o, "period", p->label);
    cJSON_AddStringToObject(o, "start", p->start);
    cJSON_AddStringToObject(o, "end", p->end);
    if ((s = cJSON_AddObjectToObject(o, "samples"))) {
      cJSON_AddNumberToObject(s, ot->classes[0], p->clean);
      cJSON_AddNumberToObject(s, ot->classes[1], p->malicious);
    }
    fig(o, "roc_auc", p->roc_auc);
    fig(o, "tpr", p->tpr);
    fig(o, "fpr", p->fpr);
    fig(o, "tpr_at_fpr_0.01", p->tpr1);
    fig(o, "fpr_at_fpr_0.01", p->fpr1);
    fig(o, "tpr_at_fpr_0.001", p->tpr01);
    fig(o, "fpr_at_fpr_0.001", p->fpr01);
  }
  char *out = cJSON_Print(root);
  cJSON_Delete(root);
  return out;
}
