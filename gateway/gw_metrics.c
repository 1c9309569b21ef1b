#include "gw_metrics.h"
#include "pf_clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[GW_NROUTES] = {"/", "/encode", "/v1/scan", "/similar", "/healthz", "/metrics",
                                                    "other"};
static const int codes[] = {200, 400, 401, 403, 404, 405, 413, 414, 500, 503, 504};
#define NCODES ((int)(sizeof codes / sizeof codes[0]))
/* histogram upper bounds in seconds (the last bucket is +Inf) */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NBOUNDS ((int)(sizeof bounds / sizeof bounds[0]))
#define NVERDICTS 16

static atomic_ullong requests[GW_NROUTES][NCODES + 1]; /* last: any other code */
static atomic_ullong hist[GW_NROUTES][NBOUNDS + 1];
static atomic_ullong hist_sum_us[GW_NROUTES];
static atomic_int in_flight, pool_waiting;
static atomic_llong body_held, budget_refused, slow_dropped;
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static char verdict_names[NVERDICTS][64];
static unsigned long long verdict_counts[NVERDICTS];
static char model_version[128];
static double started;

int gw_metrics_route(const char *url) {
  for (int r = 0; r < GW_R_OTHER; r++)
    if (strcmp(url, route_names[r]) == 0) return r;
  return GW_R_OTHER;
}

const char *gw_metrics_route_name(int route) {
  return route >= 0 && route < GW_NROUTES ? route_names[route] : "other";
}

void gw_metrics_init(void) { started = pf_clock_s(); }
void gw_metrics_in_flight(int delta) { atomic_fetch_add(&in_flight, delta); }
void gw_metrics_pool_waiting(int delta) { atomic_fetch_add(&pool_waiting, delta); }
void gw_metrics_body_held(long long delta) { atomic_fetch_add(&body_held, delta); }
void gw_metrics_budget_refused(void) { atomic_fetch_add(&budget_refused, 1); }
void gw_metrics_slow_dropped(void) { atomic_fetch_add(&slow_dropped, 1); }

void gw_metrics_request(int route, int status, double seconds) {
  if (route < 0 || route >= GW_NROUTES) route = GW_R_OTHER;
  int c = NCODES;
  for (int k = 0; k < NCODES; k++)
    if (codes[k] == status) c = k;
  atomic_fetch_add(&requests[route][c], 1);
  int b = NBOUNDS;
  for (int k = 0; k < NBOUNDS; k++)
    if (seconds <= bounds[k]) { b = k; break; }
  atomic_fetch_add(&hist[route][b], 1);
  atomic_fetch_add(&hist_sum_us[route], (unsigned long long)(seconds * 1e6));
}

void gw_metrics_verdict(const char *verdict) {
  if (!verdict || !*verdict) return;
  pthread_mutex_lock(&names_mu);
  for (int k = 0; k < NVERDICTS; k++) {
    if (!verdict_names[k][0]) snprintf(verdict_names[k], sizeof verdict_names[k], "%s", verdict);
    if (strcmp(verdict_names[k], verdict) == 0) { verdict_counts[k]++; break; }
  }
  pthread_mutex_unlock(&names_mu);
}

void gw_metrics_model(const char *version) {
  if (!version) return;
  pthread_mutex_lock(&names_mu);
  snprintf(model_version, sizeof model_version, "%s", version);
  pthread_mutex_unlock(&names_mu);
}

void gw_metrics_model_get(char *buf, size_t n) {
  pthread_mutex_lock(&names_mu);
  snprintf(buf, n, "%s", model_version);
  pthread_mutex_unlock(&names_mu);
}

typedef struct {
  char *b;
  size_t n, cap;
  int oom;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...) {
  if (s->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->b + s->n, s->cap - s->n, fmt, ap);
    va_end(ap);
    if (w < 0) { s->oom = 1; return; }
    if ((size_t)w < s->cap - s->n) { s->n += (size_t)w; return; }
    size_t cap = s->cap * 2 + (size_t)w;
    char *nb = realloc(s->b, cap);
    if (!nb) { s->oom = 1; return; }
    s->b = nb;
    s->cap = cap;
  }
}

/* A label value with \, " and newline escaped (Prometheus text format). */
static void label_escape(const char *in, char *out, size_t n) {
  size_t o = 0;
  for (; *in && o + 3 < n; in++) {
    if (*in == '\\' || *in == '"') { out[o++] = '\\'; out[o++] = *in; }
    else if (*in == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else out[o++] = *in;
  }
  out[o] = '\0';
}

char *gw_metrics_render(size_t *len) {
  sbuf s = {malloc(16384), 0, 16384, 0};
  if (!s.b) return NULL;
  put(&s, "# HELP pefleet_gateway_requests_total HTTP requests answered, by route and status code.\n"
          "# TYPE pefleet_gateway_requests_total counter\n");
  for (int r = 0; r < GW_NROUTES; r++)
    for (int c = 0; c <= NCODES; c++) {
      unsigned long long v = atomic_load(&requests[r][c]);
      if (!v) continue;
      if (c < NCODES) put(&s, "pefleet_gateway_requests_total{route=\"%s\",code=\"%d\"} %llu\n", route_names[r], codes[c], v);
      else put(&s, "pefleet_gateway_requests_total{route=\"%s\",code=\"other\"} %llu\n", route_names[r], v);
    }
  put(&s, "# HELP pefleet_gateway_request_duration_seconds Time from the request's headers to its reply.\n"
          "# TYPE pefleet_gateway_request_duration_seconds histogram\n");
  for (int r = 0; r < GW_NROUTES; r++) {
    unsigned long long cum = 0;
    for (int b = 0; b <= NBOUNDS; b++) {
      cum += atomic_load(&hist[r][b]);
      if (b < NBOUNDS)
        put(&s, "pefleet_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_names[r], bounds[b], cum);
      else put(&s, "pefleet_gateway_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_names[r], cum);
    }
    put(&s, "pefleet_gateway_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
        (double)atomic_load(&hist_sum_us[r]) / 1e6);
    put(&s, "pefleet_gateway_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r], cum);
  }
  put(&s, "# HELP pefleet_gateway_in_flight Requests being received or answered now.\n"
          "# TYPE pefleet_gateway_in_flight gauge\npefleet_gateway_in_flight %d\n", atomic_load(&in_flight));
  put(&s, "# HELP pefleet_gateway_pool_waiting Requests waiting for the score pool or the similarity service now.\n"
          "# TYPE pefleet_gateway_pool_waiting gauge\npefleet_gateway_pool_waiting %d\n", atomic_load(&pool_waiting));
  put(&s, "# HELP pefleet_gateway_body_bytes_held Bytes of the --body-budget held by requests now.\n"
          "# TYPE pefleet_gateway_body_bytes_held gauge\npefleet_gateway_body_bytes_held %lld\n", atomic_load(&body_held));
  put(&s, "# HELP pefleet_gateway_budget_refused_total Requests answered 503 because the body budget was full.\n"
          "# TYPE pefleet_gateway_budget_refused_total counter\npefleet_gateway_budget_refused_total %lld\n",
      atomic_load(&budget_refused));
  put(&s, "# HELP pefleet_gateway_slow_bodies_dropped_total Connections closed for a body under --min-rate.\n"
          "# TYPE pefleet_gateway_slow_bodies_dropped_total counter\npefleet_gateway_slow_bodies_dropped_total %lld\n",
      atomic_load(&slow_dropped));
  put(&s, "# HELP pefleet_gateway_uptime_seconds Seconds since the gateway started.\n"
          "# TYPE pefleet_gateway_uptime_seconds gauge\npefleet_gateway_uptime_seconds %.3f\n", pf_clock_s() - started);
  put(&s, "# HELP pefleet_gateway_verdicts_total Scored samples by verdict.\n"
          "# TYPE pefleet_gateway_verdicts_total counter\n");
  char esc[200];
  pthread_mutex_lock(&names_mu);
  for (int k = 0; k < NVERDICTS && verdict_names[k][0]; k++) {
    label_escape(verdict_names[k], esc, sizeof esc);
    put(&s, "pefleet_gateway_verdicts_total{verdict=\"%s\"} %llu\n", esc, verdict_counts[k]);
  }
  label_escape(model_version, esc, sizeof esc);
  pthread_mutex_unlock(&names_mu);
  put(&s, "# HELP pefleet_gateway_model_info The model version of the latest score reply (\"\" before the first).\n"
          "# TYPE pefleet_gateway_model_info gauge\npefleet_gateway_model_info{version=\"%s\"} 1\n", esc);
  if (s.oom) { free(s.b); return NULL; }
  *len = s.n;
  return s.b;
}
