/* pefleet keygen: makes a CURVE key pair for one daemon or client
 * (lib/pf_curve.h has the file format and the settings that use it). */
#include "cmd.h"
#include "usage_err.h"
#include "pf_curve.h"
#include "pf_err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet keygen NAME [-o DIR] [--role ROLE [--allow-dir ADIR]] [--force]\n\n"
    "Makes a ZeroMQ CURVE key pair: DIR/NAME.key (secret, mode 0600 from the\n"
    "start) and DIR/NAME.pub (the public key, 40 Z85 characters). Prints the\n"
    "public key.\n\n"
    "  -o, --output DIR     where to write (default: the current folder; made if missing)\n"
    "  -r, --role ROLE      also list NAME.pub in the servers' allow list of ROLE:\n"
    "                       client (admitted at the broker's ingest port, the score\n"
    "                       router's score port, the similarity service), worker\n"
    "                       (an encoder worker, at the broker's worker port) or\n"
    "                       scorer (at the score router's scorer port)\n"
    "  -a, --allow-dir ADIR the servers' curve_allow_dir (default: DIR/allowed);\n"
    "                       the key goes to ADIR/clients, ADIR/workers or ADIR/scorers\n"
    "  -f, --force          replace an existing NAME.key\n\n"
    "A server (broker, score router, similarity service) uses its NAME.key as\n"
    "curve_secret_file and admits, at each socket, only the keys of that socket's\n"
    "role; a key of another role is refused and logged. A client uses its\n"
    "NAME.key as curve_secret_file and the server's .pub (or its text) as\n"
    "curve_server_key. Example:\n"
    "  pefleet keygen server -o keys\n"
    "  pefleet keygen worker-1 -o keys --role worker    # keys/allowed/workers/worker-1.pub\n"
    "  pefleet keygen gateway -o keys --role client     # keys/allowed/clients/gateway.pub\n");
}

int cmd_keygen(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'}, {"role", required_argument, 0, 'r'},
    {"allow-dir", required_argument, 0, 'a'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *dir = ".", *allow = NULL;
  int force = 0, c, has_role = 0;
  pf_curve_role role = PF_CURVE_CLIENTS;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:fr:a:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': dir = optarg; break;
    case 'a': allow = optarg; break;
    case 'r':
      if (pf_curve_role_parse(optarg, &role) != PF_OK) {
        fprintf(stderr, "pefleet keygen: --role is client, worker or scorer (not '%s')\n", optarg);
        return 2;
      }
      has_role = 1;
      break;
    case 'f': force = 1; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet keygen", opts, "o:fr:a:h", argc, argv);
    }
  }
  if (optind != argc - 1)
    return usage_err("pefleet keygen", optind >= argc ? "no NAME given%s" : "one NAME at a time (unexpected '%s')",
                     optind >= argc ? "" : argv[optind + 1]);
  if (allow && !has_role) { fprintf(stderr, "pefleet keygen: --allow-dir needs --role\n"); return 2; }
  const char *name = argv[optind];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet keygen: cannot make %s: %s\n", dir, strerror(errno));
    return 1;
  }
  char keyp[4200];
  snprintf(keyp, sizeof keyp, "%.4000s/%s.key", dir, name);
  if (!force && access(keyp, F_OK) == 0) { /* an existing key is not a usage error */
    fprintf(stderr, "pefleet keygen: %s exists; --force replaces it\n", keyp);
    return 1;
  }
  pf_curve_keypair kp;
  char err[1400];
  int rc = pf_curve_generate(&kp, err, sizeof err);
  char adir[4200];
  snprintf(adir, sizeof adir, "%s", allow ? allow : "");
  if (!allow) snprintf(adir, sizeof adir, "%.4000s/allowed", dir);
  if (rc == PF_OK) rc = pf_curve_write(dir, name, &kp, force, err, sizeof err);
  if (rc == PF_OK && has_role) rc = pf_curve_allow(adir, role, name, kp.pub, err, sizeof err);
  if (rc != PF_OK) {
    memset(&kp, 0, sizeof kp);
    fprintf(stderr, "pefleet keygen: %s\n", err);
    return rc == PF_EINVAL ? 2 : 1;
  }
  printf("%s\n", kp.pub);
  fprintf(stderr, "pefleet keygen: wrote %s/%s.key (secret) and %s/%s.pub\n", dir, name, dir, name);
  if (has_role)
    fprintf(stderr, "pefleet keygen: listed %s as a %s key in %s/%s/\n", name, pf_curve_role_name(role), adir,
            pf_curve_role_folder(role));
  memset(&kp, 0, sizeof kp);
  return 0;
}
