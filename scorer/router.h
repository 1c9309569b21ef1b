/* router: owns the score router's bookkeeping: requests waiting or held by
 * a scorer (tickets), and the scorers with their credit and liveness.
 * Defines the ticket table (fixed slots, generation-tagged tickets, a FIFO
 * of waiting requests that can take redeliveries at its head) and the
 * scorer table. Called by scorer/router_main.c. */
#ifndef PF_ROUTER_H
#define PF_ROUTER_H

#include <stdint.h>
#include <zmq.h>

#define RT_MAX_PENDING 8192  /* requests held at once (waiting + with a scorer) */
#define RT_MAX_SCORERS 256
#define RT_MAX_ID 255

typedef struct {
  int used;
  uint32_t gen;        /* bumped at every reuse: stale tickets do not match */
  zmq_msg_t client;    /* the client's routing id */
  zmq_msg_t body;      /* the request as it came */
  int scorer;          /* index in the scorer table, -1 while waiting */
  int attempts;        /* deliveries so far */
  int64_t since;       /* when it arrived (ms) */
} rt_req;

typedef struct {
  int used;
  uint8_t id[RT_MAX_ID];
  size_t idlen;
  int capacity, inflight;
  int64_t seen;        /* last message from it (ms) */
  uint32_t pid;
} rt_scorer;

typedef struct {
  rt_req req[RT_MAX_PENDING];
  int free_list[RT_MAX_PENDING], nfree;
  int queue[RT_MAX_PENDING], qhead, qlen; /* ring of waiting slots */
  rt_scorer sc[RT_MAX_SCORERS];
  long long bytes;     /* request bytes held */
} rt_table;

void rt_init(rt_table *t);

/* A free slot (its messages initialised, scorer -1), or -1 when full. */
int rt_alloc(rt_table *t);
/* Closes the slot's messages and frees it (its ticket stops matching). */
void rt_release(rt_table *t, int slot);

uint64_t rt_ticket(const rt_table *t, int slot);
/* The slot a ticket names, or -1 when it is stale or malformed. */
int rt_slot(const rt_table *t, const void *ticket, size_t len);

/* Waiting queue: push at the tail (new) or the head (redelivery). */
void rt_push(rt_table *t, int slot, int at_head);
/* The next waiting slot, or -1. */
int rt_pop(rt_table *t);

/* The scorer with this id, or -1. */
int rt_find_scorer(const rt_table *t, const void *id, size_t len);
/* Adds (or resets) a scorer; -1 when the table is full. */
int rt_add_scorer(rt_table *t, const void *id, size_t len, int capacity, uint32_t pid, int64_t now);
/* The live scorer with the most free credit, or -1 when all are full. */
int rt_pick_scorer(const rt_table *t);

#endif
