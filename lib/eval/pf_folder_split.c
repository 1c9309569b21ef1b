/* stats.json's "split" object (see pf_folder.h): built from a training
 * run's ranges, written and parsed with cJSON. */
#include "pf_folder.h"
#include "pf_folder_json.h"
#include "pf_date.h"
#include "pf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[3] = {"train", "validation", "test"};

void pf_folder_split_info_of(pf_folder_split_info *s, int from_csv, int time, long long test_since,
                             const pf_time_range r[3]) {
  memset(s, 0, sizeof *s);
  s->present = 1;
  s->from_csv = from_csv;
  s->time = time;
  s->test_since = test_since;
  if (from_csv || !r) return;
  for (int k = 0; k < 3; k++) {
    s->r[k] = r[k];
    if (k < 2 && r[k].n && r[k].last > s->data_end) s->data_end = r[k].last;
  }
}

char *pf_folder__split_json(const pf_folder_split_info *s) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  char a[PF_DATE_LEN];
  cJSON_AddStringToObject(o, "kind", s->time ? "time" : "random");
  cJSON_AddStringToObject(o, "source", s->from_csv ? "csv" : "fleet");
  if (s->test_since > 0) cJSON_AddStringToObject(o, "test_since", pf_date_format(s->test_since, a, sizeof a));
  else cJSON_AddNullToObject(o, "test_since");
  if (!s->from_csv) {
    for (int k = 0; k < 3; k++) {
      cJSON *e = cJSON_AddObjectToObject(o, keys[k]);
      if (!e) continue;
      cJSON_AddNumberToObject(e, "rows", (double)s->r[k].n);
      if (s->r[k].n) {
        cJSON_AddStringToObject(e, "first_seen_from", pf_date_format(s->r[k].first, a, sizeof a));
        cJSON_AddStringToObject(e, "first_seen_to", pf_date_format(s->r[k].last, a, sizeof a));
      } else {
        cJSON_AddNullToObject(e, "first_seen_from");
        cJSON_AddNullToObject(e, "first_seen_to");
      }
    }
    cJSON_AddStringToObject(o, "data_end", pf_date_format(s->data_end, a, sizeof a));
    cJSON_AddNumberToObject(o, "data_end_unix", (double)s->data_end);
  }
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return txt;
}

/* a date string of o[key] into *t (left 0 when absent or not a date) */
static void date_of(const cJSON *o, const char *key, long long *t) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsString(v) || pf_date_parse(v->valuestring, strlen(v->valuestring), t) != PF_OK) *t = 0;
}

void pf_folder__parse_split(const cJSON *o, pf_folder_split_info *s) {
  memset(s, 0, sizeof *s);
  if (!cJSON_IsObject(o)) return;
  s->present = 1;
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind"), *src = cJSON_GetObjectItemCaseSensitive(o, "source");
  s->time = cJSON_IsString(kind) && strcmp(kind->valuestring, "time") == 0;
  s->from_csv = cJSON_IsString(src) && strcmp(src->valuestring, "csv") == 0;
  date_of(o, "test_since", &s->test_since);
  for (int k = 0; k < 3; k++) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, keys[k]);
    s->r[k].n = pf_folder__count(e, "rows");
    date_of(e, "first_seen_from", &s->r[k].first);
    date_of(e, "first_seen_to", &s->r[k].last);
  }
  double end = pf_folder__num(o, "data_end_unix");
  if (end >= PF_DATE_MIN && end <= PF_DATE_MAX) s->data_end = (long long)end;
}
