/* pefleet-clamd's settings (see clamd.h). */
#include "clamd.h"

#include <stdlib.h>
#include <string.h>

#include "cd_paths.h"
#include "pf_err.h"
#include "pf_msg.h"
#include "pf_opts.h"

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

int cd_opts_parse(int argc, char **argv, cd_opts *o, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  const char *address = NULL, *socket_path = NULL, *sep = NULL, *virus = NULL, *not_pe = NULL;
  const char *allow[CD_MAX_ALLOW];
  int n_allow = 0, port = -1;
  const pf_opt opts[] = {
    {"address", PF_OPT_STR, &address, 0, 0, 0, 0, NULL},
    {"port", PF_OPT_INT, &port, 0, 65535, -1, 0, NULL},
    {"socket", PF_OPT_STR, &socket_path, 0, 0, 0, 0, NULL},
    {"allow-path", PF_OPT_LIST, allow, 0, 0, 0, CD_MAX_ALLOW, &n_allow},
    {"stream-max", PF_OPT_SIZE, &o->stream_max, 1, (long long)PF_MSG_MAX_SAMPLE - 65536, 100 << 20, 0, NULL},
    {"budget", PF_OPT_SIZE, &o->budget, 1, 1LL << 40, 256 << 20, 0, NULL},
    {"max-connections", PF_OPT_INT, &o->max_connections, 1, 10000, 256, 0, NULL},
    {"idle-timeout", PF_OPT_INT, &o->idle_timeout_s, 1, 86400, 30, 0, NULL},
    {"read-timeout", PF_OPT_INT, &o->read_timeout_s, 1, 86400, 30, 0, NULL},
    {"score-timeout", PF_OPT_INT, &o->score_timeout_ms, 1, 3600000, 60000, 0, NULL},
    {"max-pending", PF_OPT_INT, &o->max_pending, 1, 100000, 64, 0, NULL},
    {"max-files", PF_OPT_INT, &o->max_files, 1, 100000000, 100000, 0, NULL},
    {"virus-name", PF_OPT_STR, &virus, 0, 0, 0, 0, NULL},
    {"not-pe", PF_OPT_STR, &not_pe, 0, 0, 0, 0, NULL},
    {"allow-shutdown", PF_OPT_FLAG, &o->allow_shutdown, 0, 0, 0, 0, NULL},
    {"score-endpoint", PF_OPT_STR, &sep, 0, 0, 0, 0, NULL},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
  };
  int rc = pf_opts_parse(argc, argv, opts, &o->cfg, err, errlen);
  if (rc != 0) return rc;
  if (virus && (!*virus || strlen(virus) >= sizeof o->virus_name || strpbrk(virus, " \t\r\n"))) {
    snprintf(err, errlen, "--virus-name: one word of at most %zu characters", sizeof o->virus_name - 1);
    return 2;
  }
  snprintf(o->virus_name, sizeof o->virus_name, "%s", virus ? virus : "Pefleet.Malicious.ergo486");
  if (not_pe && strcmp(not_pe, "ok") != 0 && strcmp(not_pe, "error") != 0) {
    snprintf(err, errlen, "--not-pe takes ok or error");
    return 2;
  }
  o->not_pe_error = not_pe && strcmp(not_pe, "error") == 0;
  if (o->stream_max > o->budget) o->stream_max = o->budget;
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
