/* gw_routes: owns what each URL does once its request is fully received:
 * the seed's / (probabilities by class name), /encode, /v1/scan,
 * /similar, /healthz and /metrics; turning x into a score request and a
 * score or similarity reply into JSON and an HTTP status.
 * Defines gw_routes_handle().
 * Called by gw_http.c. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include "gw_http.h"

/* Answers the request r (every field received). Returns MHD's result. */
int gw_routes_handle(gw_req *r);

#endif
