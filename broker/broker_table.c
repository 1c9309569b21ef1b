/* The broker's worker table (see broker.h). */
#include "broker.h"

#include <stdio.h>
#include <string.h>

broker_worker *broker_find(broker_table *t, const void *id, size_t idlen) {
  for (int i = 0; i < t->n; i++)
    if (t->w[i].used && t->w[i].idlen == idlen && memcmp(t->w[i].id, id, idlen) == 0) return &t->w[i];
  return NULL;
}

broker_worker *broker_add(broker_table *t, const void *id, size_t idlen, int capacity, int64_t expires_ms) {
  if (idlen == 0 || idlen > BROKER_MAX_ID) return NULL;
  if (capacity < 1) capacity = 1;
  if (capacity > BROKER_MAX_CAPACITY) capacity = BROKER_MAX_CAPACITY;
  broker_worker *w = broker_find(t, id, idlen);
  if (!w) {
    for (int i = 0; i < BROKER_MAX_WORKERS && !w; i++)
      if (!t->w[i].used) w = &t->w[i];
    if (!w) return NULL;
    memset(w, 0, sizeof *w);
    memcpy(w->id, id, idlen);
    w->idlen = idlen;
    w->used = 1;
    if (w - t->w >= t->n) t->n = (int)(w - t->w) + 1;
  }
  w->capacity = capacity;
  w->expires_ms = expires_ms;
  return w;
}

void broker_remove(broker_table *t, broker_worker *w) {
  memset(w, 0, sizeof *w);
  while (t->n > 0 && !t->w[t->n - 1].used) t->n--;
}

int broker_job_add(broker_worker *w, const char *sha) {
  if (w->njobs >= BROKER_MAX_CAPACITY) return 0;
  w->missing[w->njobs] = 0;
  memcpy(w->jobs[w->njobs++], sha, PF_SHA256_HEX_LEN + 1);
  return 1;
}

/* Takes job i off w (the last one moves into its place). */
static void job_drop(broker_worker *w, int i) {
  memmove(w->jobs[i], w->jobs[w->njobs - 1], PF_SHA256_HEX_LEN + 1);
  w->missing[i] = w->missing[w->njobs - 1];
  w->njobs--;
}

int broker_job_remove(broker_worker *w, const char *sha) {
  for (int i = 0; i < w->njobs; i++) {
    if (strcmp(w->jobs[i], sha) == 0) {
      job_drop(w, i);
      return 1;
    }
  }
  return 0;
}

int broker_job_reconcile(broker_worker *w, char *const *held, size_t n, char (*lost)[PF_SHA256_HEX_LEN + 1]) {
  int nlost = 0;
  for (int i = 0; i < w->njobs;) {
    int has = 0;
    for (size_t k = 0; k < n && !has; k++) has = held[k] && strcmp(held[k], w->jobs[i]) == 0;
    if (has) w->missing[i] = 0;
    else if (++w->missing[i] >= 2) { /* twice: not merely still on its way */
      memcpy(lost[nlost++], w->jobs[i], PF_SHA256_HEX_LEN + 1);
      job_drop(w, i);
      continue;
    }
    i++;
  }
  return nlost;
}

void broker_id_str(const broker_worker *w, char *out, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < w->idlen && k + 4 < n; i++) {
    unsigned char c = w->id[i];
    if (c >= 0x20 && c < 0x7f) out[k++] = (char)c;
    else k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
  }
  out[k < n ? k : n - 1] = '\0';
}
