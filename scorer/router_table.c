#include "router.h"

#include <string.h>

void rt_init(rt_table *t) {
  memset(t, 0, sizeof *t);
  for (int i = 0; i < RT_MAX_PENDING; i++) t->free_list[i] = RT_MAX_PENDING - 1 - i;
  t->nfree = RT_MAX_PENDING;
}

int rt_alloc(rt_table *t) {
  if (t->nfree == 0) return -1;
  int s = t->free_list[--t->nfree];
  rt_req *r = &t->req[s];
  r->used = 1;
  r->gen++;
  r->scorer = -1;
  r->attempts = 0;
  zmq_msg_init(&r->client);
  zmq_msg_init(&r->body);
  return s;
}

void rt_release(rt_table *t, int slot) {
  rt_req *r = &t->req[slot];
  if (!r->used) return;
  t->bytes -= (long long)zmq_msg_size(&r->body);
  zmq_msg_close(&r->client);
  zmq_msg_close(&r->body);
  r->used = 0;
  r->gen++;
  t->free_list[t->nfree++] = slot;
}

uint64_t rt_ticket(const rt_table *t, int slot) { return ((uint64_t)t->req[slot].gen << 32) | (uint32_t)slot; }

int rt_slot(const rt_table *t, const void *ticket, size_t len) {
  if (len != sizeof(uint64_t)) return -1;
  uint64_t v;
  memcpy(&v, ticket, sizeof v);
  uint32_t slot = (uint32_t)v, gen = (uint32_t)(v >> 32);
  if (slot >= RT_MAX_PENDING || !t->req[slot].used || t->req[slot].gen != gen) return -1;
  return (int)slot;
}

void rt_push(rt_table *t, int slot, int at_head) {
  if (t->qlen >= RT_MAX_PENDING) return; /* cannot happen: one entry per slot at most */
  if (at_head) {
    t->qhead = (t->qhead + RT_MAX_PENDING - 1) % RT_MAX_PENDING;
    t->queue[t->qhead] = slot;
  } else {
    t->queue[(t->qhead + t->qlen) % RT_MAX_PENDING] = slot;
  }
  t->qlen++;
}

int rt_pop(rt_table *t) {
  while (t->qlen > 0) {
    int s = t->queue[t->qhead];
    t->qhead = (t->qhead + 1) % RT_MAX_PENDING;
    t->qlen--;
    if (t->req[s].used && t->req[s].scorer < 0) return s; /* skip entries answered meanwhile */
  }
  return -1;
}

int rt_find_scorer(const rt_table *t, const void *id, size_t len) {
  for (int i = 0; i < RT_MAX_SCORERS; i++)
    if (t->sc[i].used && t->sc[i].idlen == len && memcmp(t->sc[i].id, id, len) == 0) return i;
  return -1;
}

int rt_add_scorer(rt_table *t, const void *id, size_t len, int capacity, uint32_t pid, int64_t now) {
  if (len == 0 || len > RT_MAX_ID) return -1;
  int i = rt_find_scorer(t, id, len);
  for (int k = 0; i < 0 && k < RT_MAX_SCORERS; k++)
    if (!t->sc[k].used) i = k;
  if (i < 0) return -1;
  rt_scorer *s = &t->sc[i];
  s->used = 1;
  memcpy(s->id, id, len);
  s->idlen = len;
  s->capacity = capacity;
  s->inflight = 0;
  s->seen = now;
  s->pid = pid;
  return i;
}

int rt_pick_scorer(const rt_table *t) {
  int best = -1, room = 0;
  for (int i = 0; i < RT_MAX_SCORERS; i++) {
    const rt_scorer *s = &t->sc[i];
    if (s->used && s->capacity - s->inflight > room) {
      room = s->capacity - s->inflight;
      best = i;
    }
  }
  return best;
}
