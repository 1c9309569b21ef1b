/* A model folder's side files for the registry commands (see
 * model_info.h), read through the folder module (lib/eval/pf_folder). */
#include "model_info.h"
#include "pf_err.h"
#include "pf_folder.h"

#include <math.h>
#include <string.h>

long long model_info_samples(const char *dir) {
  pf_folder_meta meta;
  if (pf_folder_load_meta(dir, &meta) != PF_OK) return -1;
  return meta.rows[0];
}

int model_info_test_figures(const char *stats, double *auc, double *fpr) {
  *auc = *fpr = NAN;
  pf_folder_stats st;
  if (!stats) return -1;
  pf_folder_parse_stats((const uint8_t *)stats, strlen(stats), &st); /* s[] is filled on PF_EINVAL too */
  if (!st.s[2].exists) return -1;
  *auc = st.s[2].roc_auc;
  *fpr = st.s[2].fpr;
  return 0;
}
