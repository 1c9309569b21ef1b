/* pefleet-clamd's budget and counters (see clamd.h). */
#include "clamd.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cd_scan.h"

static atomic_size_t used;
static size_t limit;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cd_stats_t st;

void cd_budget_init(size_t budget) { limit = budget; atomic_store(&used, 0); }

int cd_budget_take(size_t n) {
  size_t cur = atomic_load(&used);
  do {
    if (n > limit || cur > limit - n) return 0;
  } while (!atomic_compare_exchange_weak(&used, &cur, cur + n));
  return 1;
}

void cd_budget_give(size_t n) { atomic_fetch_sub(&used, n); }
size_t cd_budget_used(void) { return atomic_load(&used); }

void cd_stats_conn(int delta) {
  pthread_mutex_lock(&mu);
  st.live_connections += delta;
  if (delta > 0) st.connections++;
  pthread_mutex_unlock(&mu);
}

void cd_stats_refused(void) {
  pthread_mutex_lock(&mu);
  st.refused_connections++;
  pthread_mutex_unlock(&mu);
}

void cd_stats_scan(int verdict, size_t bytes, double p, const char *model) {
  pthread_mutex_lock(&mu);
  st.scans++;
  st.bytes += bytes;
  if (verdict == CD_V_FOUND) st.found++;
  else if (verdict == CD_V_OK) st.clean++;
  else st.errors++;
  if (verdict != CD_V_ERROR) st.last_probability = p;
  if (model && *model) snprintf(st.model, sizeof st.model, "%s", model);
  pthread_mutex_unlock(&mu);
}

void cd_stats_get(cd_stats_t *out) {
  pthread_mutex_lock(&mu);
  *out = st;
  pthread_mutex_unlock(&mu);
}
