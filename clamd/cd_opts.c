/* pefleet-clamd's settings (see clamd.h). */
#include "clamd.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cd_paths.h"
#include "pf_err.h"
#include "pf_msg.h"

void cd_opts_usage(FILE *f) {
  fprintf(f,
    "usage: pefleet-clamd [--data DIR | --config FILE] [--address A] [--port N] [--socket PATH]\n"
    "                     [--allow-path DIR]... [--stream-max BYTES] [--budget BYTES]\n"
    "                     [--max-connections N] [--idle-timeout SEC] [--read-timeout SEC]\n"
    "                     [--score-timeout MS] [--max-pending N] [--max-files N]\n"
    "                     [--virus-name NAME] [--not-pe ok|error] [--allow-shutdown] [--score-endpoint EP]\n\n"
    "Answers clamd's protocol (clamd(8): PING, VERSION, VERSIONCOMMANDS, STATS, RELOAD, INSTREAM,\n"
    "FILDES, SCAN, CONTSCAN, MULTISCAN, ALLMATCHSCAN, IDSESSION/END, z and n prefixes) with the\n"
    "score pool's verdicts: \"stream: NAME FOUND\" for a malicious file, \"stream: OK\" otherwise.\n\n"
    "options (flags override the configuration of --data/--config):\n"
    "  --address A          TCP bind address (default 127.0.0.1)\n"
    "  --port N             TCP port (clamd_port, default 3310; 0: no TCP listener)\n"
    "  --socket PATH        also listen on a Unix socket (clamd_socket; needed for FILDES), mode 0600\n"
    "  --allow-path DIR     SCAN and kin may read beneath DIR (repeatable; default: none, every path refused)\n"
    "  --stream-max BYTES   StreamMaxLength: largest INSTREAM or file, k/m suffix (default 100m)\n"
    "  --budget BYTES       bytes all connections may hold at once (default 256m)\n"
    "  --max-connections N  connections at once (default 256; more are answered and closed)\n"
    "  --idle-timeout SEC   wait for a command (default 30)   --read-timeout SEC  inside one (default 30)\n"
    "  --score-timeout MS   wait for the score pool (default 60000)\n"
    "  --max-pending N      unanswered requests one IDSESSION may queue (default 64)\n"
    "  --max-files N        files one folder scan may visit (default 100000)\n"
    "  --virus-name NAME    the signature name of a malicious verdict (default Pefleet.Malicious.ergo486)\n"
    "  --not-pe ok|error    a file that is not PE: OK (default, as clamd for formats it has no signature for)\n"
    "  --allow-shutdown     SHUTDOWN stops the daemon (default: refused)\n"
    "  --score-endpoint EP  override score_endpoint\n");
}

static int number(const char *arg, const char *name, long long lo, long long hi, int suffix, long long *out,
                  char *err, size_t errlen) {
  char *end = NULL;
  long long v = strtoll(arg, &end, 10), mult = 1;
  if (suffix && end && *end && !end[1]) {
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

int cd_opts_parse(int argc, char **argv, cd_opts *o, char *err, size_t errlen) {
  static const struct option opts[] = {
    {"data", required_argument, 0, 'd'}, {"config", required_argument, 0, 'c'},
    {"address", required_argument, 0, 'a'}, {"port", required_argument, 0, 'p'},
    {"socket", required_argument, 0, 'u'}, {"allow-path", required_argument, 0, 'A'},
    {"stream-max", required_argument, 0, 'L'}, {"budget", required_argument, 0, 'B'},
    {"max-connections", required_argument, 0, 'M'}, {"idle-timeout", required_argument, 0, 'i'},
    {"read-timeout", required_argument, 0, 'r'}, {"score-timeout", required_argument, 0, 's'},
    {"max-pending", required_argument, 0, 'P'}, {"max-files", required_argument, 0, 'F'},
    {"virus-name", required_argument, 0, 'v'}, {"not-pe", required_argument, 0, 'n'},
    {"allow-shutdown", no_argument, 0, 'S'}, {"score-endpoint", required_argument, 0, 'e'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  memset(o, 0, sizeof *o);
  const char *data = NULL, *config = NULL, *address = NULL, *socket_path = NULL, *sep = NULL;
  const char *allow[CD_MAX_ALLOW];
  int n_allow = 0, port = -1, c;
  o->stream_max = 100u << 20;
  o->budget = 256u << 20;
  o->max_connections = 256;
  o->idle_timeout_s = 30;
  o->read_timeout_s = 30;
  o->score_timeout_ms = 60000;
  o->max_pending = 64;
  o->max_files = 100000;
  snprintf(o->virus_name, sizeof o->virus_name, "Pefleet.Malicious.ergo486");
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    long long v = 0;
    int rc = PF_OK;
    switch (c) {
    case 'd': data = optarg; break;
    case 'c': config = optarg; break;
    case 'a': address = optarg; break;
    case 'p': rc = number(optarg, "port", 0, 65535, 0, &v, err, errlen); port = (int)v; break;
    case 'u': socket_path = optarg; break;
    case 'A':
      if (n_allow >= CD_MAX_ALLOW) { snprintf(err, errlen, "at most %d --allow-path", CD_MAX_ALLOW); return 2; }
      allow[n_allow++] = optarg;
      break;
    case 'L': rc = number(optarg, "stream-max", 1, (long long)PF_MSG_MAX_SAMPLE - 65536, 1, &v, err, errlen); o->stream_max = (size_t)v; break;
    case 'B': rc = number(optarg, "budget", 1, 1LL << 40, 1, &v, err, errlen); o->budget = (size_t)v; break;
    case 'M': rc = number(optarg, "max-connections", 1, 10000, 0, &v, err, errlen); o->max_connections = (int)v; break;
    case 'i': rc = number(optarg, "idle-timeout", 1, 86400, 0, &v, err, errlen); o->idle_timeout_s = (int)v; break;
    case 'r': rc = number(optarg, "read-timeout", 1, 86400, 0, &v, err, errlen); o->read_timeout_s = (int)v; break;
    case 's': rc = number(optarg, "score-timeout", 1, 3600000, 0, &v, err, errlen); o->score_timeout_ms = (int)v; break;
    case 'P': rc = number(optarg, "max-pending", 1, 100000, 0, &v, err, errlen); o->max_pending = (int)v; break;
    case 'F': rc = number(optarg, "max-files", 1, 100000000, 0, &v, err, errlen); o->max_files = (int)v; break;
    case 'v':
      if (!*optarg || strlen(optarg) >= sizeof o->virus_name || strpbrk(optarg, " \t\r\n")) {
        snprintf(err, errlen, "--virus-name: one word of at most %zu characters", sizeof o->virus_name - 1);
        return 2;
      }
      snprintf(o->virus_name, sizeof o->virus_name, "%s", optarg);
      break;
    case 'n':
      if (strcmp(optarg, "ok") == 0) o->not_pe_error = 0;
      else if (strcmp(optarg, "error") == 0) o->not_pe_error = 1;
      else { snprintf(err, errlen, "--not-pe takes ok or error"); return 2; }
      break;
    case 'S': o->allow_shutdown = 1; break;
    case 'e': sep = optarg; break;
    case 'h': return 1;
    default:
      snprintf(err, errlen, "unknown or incomplete option '%s'", argv[optind - 1]);
      return 2;
    }
    if (rc != PF_OK) return 2;
  }
  if (optind < argc) { snprintf(err, errlen, "unexpected argument '%s'", argv[optind]); return 2; }
  if (o->stream_max > o->budget) o->stream_max = o->budget;
  if (pf_config_resolve(&o->cfg, data, config, err, errlen) != PF_OK) return 2;
  snprintf(o->address, sizeof o->address, "%s", address ? address : "127.0.0.1");
  o->port = port >= 0 ? port : o->cfg.clamd_port;
  snprintf(o->socket_path, sizeof o->socket_path, "%s", socket_path ? socket_path : o->cfg.clamd_socket);
  snprintf(o->score_endpoint, sizeof o->score_endpoint, "%s", sep ? sep : o->cfg.score_endpoint);
  if (o->port == 0 && !o->socket_path[0]) {
    snprintf(err, errlen, "nothing to listen on: --port 0 and no --socket");
    return 2;
  }
  for (int i = 0; i < n_allow; i++)
    if (cd_paths_allow(o, allow[i], err, errlen) != PF_OK) return 2;
  return 0;
}
