#include "gw_opts.h"
#include "pf_err.h"
#include "pf_msg.h"
#include "pf_opts.h"

#include <stdlib.h>
#include <string.h>

void gw_opts_usage(FILE *f, const char *prog) {
  fprintf(f, "usage: %s [--data DIR | --config FILE] [--address A] [--port N]\n", prog);
  fprintf(f,
    "                       [--classes \"clean, malicious\"] [--allow-path DIR]... [--token-file F]\n"
    "                       [--max-upload BYTES] [--body-budget BYTES] [--threads N]\n"
    "                       [--max-connections N] [--per-ip-connections N] [--allow-host NAME]...\n"
    "                       [--min-rate BYTES] [--min-rate-window SEC]\n"
    "                       [--timeout SEC] [--score-timeout MS] [--similar-timeout MS]\n"
    "                       [--score-endpoint EP] [--similar-endpoint EP]\n\n"
    "The HTTP gateway of the scorer pool, compatible with the seed's `ergo serve`:\n"
    "  GET /?x=...  POST / (x: multipart file upload, urlencoded, or JSON {\"x\": ...})\n"
    "      x is a file upload, a comma-separated vector or a server-side path\n"
    "      -> {\"clean\": p0, \"malicious\": p1}\n"
    "  GET|POST /encode       -> the feature vector as a JSON list\n"
    "  POST /v1/scan          -> {\"sha256\",\"verdict\",\"probabilities\",\"threshold\",\"model_version\",\"elapsed_ms\"}\n"
    "                            (x as above, or sha256= a stored sample: 404 when unknown)\n"
    "  GET|POST /similar      -> {\"hits\":[{\"sha256\",\"similarity\",\"labels\",\"split\"}...]}\n"
    "                            (sha256= or x, threshold=, top=)\n"
    "  GET /healthz, GET /metrics (Prometheus text)\n\n"
    "options (flags override the configuration of --data/--config):\n"
    "  --address A          bind address (http_address, default 127.0.0.1)\n"
    "  --port N             port (http_port, default 8080)\n"
    "  --classes LIST       reply names of the probabilities (default \"clean, malicious\")\n"
    "  --allow-path DIR     server-side paths may name files under DIR (repeatable; default: none)\n"
    "  --token-file F       require \"Authorization: Bearer <first line of F>\" (not on /healthz);\n"
    "                       F must be owned by this user, mode 0600 or 0400\n"
    "  --allow-host NAME    without a token, also answer requests whose Host is NAME (repeatable;\n"
    "                       the bound address, localhost and IP literals on loopback/wildcard binds\n"
    "                       always pass; an Origin header is always refused without a token)\n"
    "  --max-upload BYTES   largest uploaded file, suffix k/m/g allowed (default 100m; 413 beyond)\n"
    "  --threads N          HTTP threads (default 8; none waits on the pool: one pool thread does)\n"
    "  --body-budget BYTES  request bytes all requests may hold at once, each body counted twice\n"
    "                       (its bytes and the score request); k/m/g; default 256m; 503 beyond\n"
    "  --max-connections N  open connections at once (default 256)\n"
    "  --per-ip-connections N  open connections from one address (default 64)\n"
    "  --min-rate BYTES     drop a body slower than BYTES/s (default 4096; 0: off) ...\n"
    "  --min-rate-window SEC  ... measured over SEC-second windows (default 15)\n"
    "  --timeout SEC        idle connection timeout (default 30)\n"
    "  --score-timeout MS   wait for the score pool (default 60000; 503 beyond)\n"
    "  --similar-timeout MS wait for the similarity service (default 5000; 503 beyond)\n"
    "  --score-endpoint EP, --similar-endpoint EP   override score_endpoint / similar_endpoint\n\n"
    "errors are JSON {\"error\": \"one line\"}: 400 bad input (missing x, malformed vector,\n"
    "not a PE, wrong vector length), 401 bad token, 403 path not allowed, 404 no such\n"
    "file/sample/route, 405, 413 too large, 500/503 the pool failed or did not answer.\n");
}

int gw_opts_classes(gw_opts *o, const char *list, char *err, size_t errlen) {
  int n = 0;
  const char *s = list;
  while (*s) {
    const char *e = strchr(s, ',');
    if (!e) e = s + strlen(s);
    const char *a = s, *b = e;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (a == b || (size_t)(b - a) >= sizeof o->classes[0] || n >= GW_MAX_CLASSES) {
      snprintf(err, errlen, "--classes: %s", a == b ? "an empty class name" : "too many or too long names");
      return PF_EINVAL;
    }
    memcpy(o->classes[n], a, (size_t)(b - a));
    o->classes[n][b - a] = '\0';
    n++;
    s = *e ? e + 1 : e;
  }
  if (n < 2) {
    snprintf(err, errlen, "--classes needs at least two names, e.g. \"clean, malicious\"");
    return PF_EINVAL;
  }
  o->n_classes = n;
  return PF_OK;
}

int gw_opts_parse(int argc, char **argv, gw_opts *o, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  const char *address = NULL, *classes = "clean, malicious", *token = NULL, *sep = NULL, *simep = NULL;
  const char *allow[GW_MAX_ALLOW], *hosts[GW_MAX_ALLOW];
  int n_allow = 0, n_hosts = 0, port = 0;
  const pf_opt opts[] = {
    {"address", PF_OPT_STR, &address, 0, 0, 0, 0, NULL},
    {"port", PF_OPT_INT, &port, 1, 65535, 0, 0, NULL},
    {"classes", PF_OPT_STR, &classes, 0, 0, 0, 0, NULL},
    {"allow-path", PF_OPT_LIST, allow, 0, 0, 0, GW_MAX_ALLOW, &n_allow},
    {"token-file", PF_OPT_STR, &token, 0, 0, 0, 0, NULL},
    {"max-upload", PF_OPT_SIZE, &o->max_upload, 1, (long long)PF_MSG_MAX_SAMPLE - 65536, 100 << 20, 0, NULL},
    {"threads", PF_OPT_INT, &o->threads, 1, 256, 8, 0, NULL},
    {"max-connections", PF_OPT_INT, &o->max_connections, 1, 100000, 256, 0, NULL},
    {"timeout", PF_OPT_INT, &o->conn_timeout_s, 1, 86400, 30, 0, NULL},
    {"score-timeout", PF_OPT_INT, &o->score_timeout_ms, 1, 3600000, 60000, 0, NULL},
    {"similar-timeout", PF_OPT_INT, &o->similar_timeout_ms, 1, 3600000, 5000, 0, NULL},
    {"score-endpoint", PF_OPT_STR, &sep, 0, 0, 0, 0, NULL},
    {"similar-endpoint", PF_OPT_STR, &simep, 0, 0, 0, 0, NULL},
    {"body-budget", PF_OPT_SIZE, &o->body_budget, 1, 1LL << 40, 256 << 20, 0, NULL},
    {"per-ip-connections", PF_OPT_INT, &o->per_ip_connections, 1, 100000, 64, 0, NULL},
    {"min-rate", PF_OPT_LONG, &o->min_rate, 0, 1LL << 30, 4096, 0, NULL},
    {"min-rate-window", PF_OPT_INT, &o->min_rate_s, 1, 3600, 15, 0, NULL},
    {"allow-host", PF_OPT_LIST, hosts, 0, 0, 0, GW_MAX_ALLOW, &n_hosts},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
  };
  int rc = pf_opts_parse(argc, argv, opts, &o->cfg, err, errlen);
  if (rc != 0) return rc;
  snprintf(o->address, sizeof o->address, "%s", address ? address : o->cfg.http_address);
  o->port = port ? port : o->cfg.http_port;
  /* the configuration printed at start is the one in effect, flags included */
  o->cfg.http_port = o->port;
  snprintf(o->cfg.http_address, sizeof o->cfg.http_address, "%s", o->address);
  snprintf(o->score_endpoint, sizeof o->score_endpoint, "%s", sep ? sep : o->cfg.score_endpoint);
  snprintf(o->similar_endpoint, sizeof o->similar_endpoint, "%s", simep ? simep : o->cfg.similar_endpoint);
  if (gw_opts_classes(o, classes, err, errlen) != PF_OK) return 2;
  if (token && gw_auth_load_token(&o->auth, token, err, errlen) != PF_OK) return 2;
  for (int k = 0; k < n_allow; k++)
    if (gw_auth_allow(&o->auth, allow[k], err, errlen) != PF_OK) return 2;
  for (int k = 0; k < n_hosts; k++)
    if (gw_auth_allow_host(&o->auth, hosts[k], err, errlen) != PF_OK) return 2;
  /* the largest upload must fit: its bytes, the score request, the form's slack */
  if (o->body_budget < 2 * (o->max_upload + (64u << 10)) + 4096) {
    snprintf(err, errlen, "--body-budget %zu is too small for --max-upload %zu (each body is held twice: at least %zu)",
             o->body_budget, o->max_upload, 2 * (o->max_upload + (64u << 10)) + 4096);
    return 2;
  }
  return 0;
}
