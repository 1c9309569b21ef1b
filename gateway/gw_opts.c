#include "gw_opts.h"
#include "pf_err.h"
#include "pf_msg.h"

#include <getopt.h>
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

static int number(const char *arg, const char *name, long long lo, long long hi, long long *out, char *err, size_t errlen) {
  char *end = NULL;
  long long v = strtoll(arg, &end, 10);
  long long mult = 1;
  if (end && *end && (strcmp(name, "max-upload") == 0 || strcmp(name, "body-budget") == 0) && !end[1]) {
    if (*end == 'k' || *end == 'K') mult = 1024;
    else if (*end == 'm' || *end == 'M') mult = 1024 * 1024;
    else if (*end == 'g' || *end == 'G') mult = 1024LL * 1024 * 1024;
    if (mult > 1) end++;
  }
  if (!*arg || !end || *end || v < lo || v > hi / mult) {
    snprintf(err, errlen, "invalid value '%s' for --%s (%lld..%lld)", arg, name, lo, hi);
    return PF_EINVAL;
  }
  *out = v * mult;
  return PF_OK;
}

int gw_opts_parse(int argc, char **argv, gw_opts *o, char *err, size_t errlen) {
  static const struct option opts[] = {
    {"data", required_argument, 0, 'd'}, {"config", required_argument, 0, 'c'},
    {"address", required_argument, 0, 'a'}, {"port", required_argument, 0, 'p'},
    {"classes", required_argument, 0, 'C'}, {"allow-path", required_argument, 0, 'A'},
    {"token-file", required_argument, 0, 'T'}, {"max-upload", required_argument, 0, 'U'},
    {"threads", required_argument, 0, 't'}, {"max-connections", required_argument, 0, 'M'},
    {"timeout", required_argument, 0, 'o'}, {"score-timeout", required_argument, 0, 's'},
    {"similar-timeout", required_argument, 0, 'S'}, {"score-endpoint", required_argument, 0, 'e'},
    {"similar-endpoint", required_argument, 0, 'E'}, {"body-budget", required_argument, 0, 'B'},
    {"per-ip-connections", required_argument, 0, 'I'}, {"min-rate", required_argument, 0, 'r'},
    {"min-rate-window", required_argument, 0, 'w'}, {"allow-host", required_argument, 0, 'H'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  memset(o, 0, sizeof *o);
  const char *data = NULL, *config = NULL, *address = NULL, *classes = "clean, malicious", *token = NULL;
  const char *sep = NULL, *simep = NULL;
  const char *allow[GW_MAX_ALLOW], *hosts[GW_MAX_ALLOW];
  int n_allow = 0, n_hosts = 0, port = 0, c;
  o->max_upload = 100u << 20;
  o->threads = 8;
  o->max_connections = 256;
  o->per_ip_connections = 64;
  o->body_budget = 256u << 20;
  o->min_rate = 4096;
  o->min_rate_s = 15;
  o->conn_timeout_s = 30;
  o->score_timeout_ms = 60000;
  o->similar_timeout_ms = 5000;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    long long v = 0;
    int rc = PF_OK;
    switch (c) {
    case 'd': data = optarg; break;
    case 'c': config = optarg; break;
    case 'a': address = optarg; break;
    case 'p': rc = number(optarg, "port", 1, 65535, &v, err, errlen); port = (int)v; break;
    case 'C': classes = optarg; break;
    case 'A':
      if (n_allow >= GW_MAX_ALLOW) { snprintf(err, errlen, "at most %d --allow-path", GW_MAX_ALLOW); return 2; }
      allow[n_allow++] = optarg;
      break;
    case 'T': token = optarg; break;
    case 'H':
      if (n_hosts >= GW_MAX_ALLOW) { snprintf(err, errlen, "at most %d --allow-host", GW_MAX_ALLOW); return 2; }
      hosts[n_hosts++] = optarg;
      break;
    case 'B': rc = number(optarg, "body-budget", 1, 1LL << 40, &v, err, errlen); o->body_budget = (size_t)v; break;
    case 'I': rc = number(optarg, "per-ip-connections", 1, 100000, &v, err, errlen); o->per_ip_connections = (int)v; break;
    case 'r': rc = number(optarg, "min-rate", 0, 1LL << 30, &v, err, errlen); o->min_rate = (long)v; break;
    case 'w': rc = number(optarg, "min-rate-window", 1, 3600, &v, err, errlen); o->min_rate_s = (int)v; break;
    case 'U': rc = number(optarg, "max-upload", 1, (long long)PF_MSG_MAX_SAMPLE - 65536, &v, err, errlen); o->max_upload = (size_t)v; break;
    case 't': rc = number(optarg, "threads", 1, 256, &v, err, errlen); o->threads = (int)v; break;
    case 'M': rc = number(optarg, "max-connections", 1, 100000, &v, err, errlen); o->max_connections = (int)v; break;
    case 'o': rc = number(optarg, "timeout", 1, 86400, &v, err, errlen); o->conn_timeout_s = (int)v; break;
    case 's': rc = number(optarg, "score-timeout", 1, 3600000, &v, err, errlen); o->score_timeout_ms = (int)v; break;
    case 'S': rc = number(optarg, "similar-timeout", 1, 3600000, &v, err, errlen); o->similar_timeout_ms = (int)v; break;
    case 'e': sep = optarg; break;
    case 'E': simep = optarg; break;
    case 'h': return 1;
    default:
      snprintf(err, errlen, "%s option '%s'",
               optopt || (optind >= 1 && optind - 1 < argc && strchr(argv[optind - 1], '=')) ? "incomplete or invalid"
                                                                                           : "unknown",
               optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "?");
      return 2;
    }
    if (rc != PF_OK) return 2;
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
    return 2;
  }
  if (pf_config_resolve(&o->cfg, data, config, err, errlen) != PF_OK) return 2;
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
