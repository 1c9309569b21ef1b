/* gw_metrics: owns the gateway's counters and their Prometheus text form.
 * Defines the route and status tables, request counters by route and
 * code, a latency histogram per route, verdict counts, in-flight,
 * pool-waiting and body-bytes-held gauges, the budget refusals and the
 * slow bodies dropped, and the model version info gauge; all updates are
 * lock-free atomics except the verdict and model names (a mutex).
 * Called by gw_http.c (each request), gw_pool.c (waiting gauge),
 * gw_routes.c (verdicts, model version, /metrics). */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

enum { GW_R_PREDICT, GW_R_ENCODE, GW_R_SCAN, GW_R_SIMILAR, GW_R_HEALTHZ, GW_R_METRICS, GW_R_OTHER, GW_NROUTES };

/* The route index of a URL path ("/", "/encode", ...; anything else GW_R_OTHER). */
int gw_metrics_route(const char *url);
const char *gw_metrics_route_name(int route);

void gw_metrics_init(void);
void gw_metrics_in_flight(int delta);
void gw_metrics_pool_waiting(int delta);
/* Bytes of the body budget held now (delta may be negative). */
void gw_metrics_body_held(long long delta);
/* A request refused because the body budget was full (503). */
void gw_metrics_budget_refused(void);
/* A body dropped for arriving under the minimum rate. */
void gw_metrics_slow_dropped(void);
/* One finished request: its route, HTTP status and duration. */
void gw_metrics_request(int route, int status, double seconds);
/* One scored sample's verdict (the first 16 distinct names are kept). */
void gw_metrics_verdict(const char *verdict);
/* The model version of the latest score reply. */
void gw_metrics_model(const char *version);
/* Copies the latest model version into buf ("" none yet). */
void gw_metrics_model_get(char *buf, size_t n);

/* The Prometheus text exposition (malloc'd, caller frees; NULL when out
 * of memory). */
char *gw_metrics_render(size_t *len);

#endif
