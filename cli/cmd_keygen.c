/* pefleet keygen: makes a CURVE key pair for one daemon or client
 * (lib/pf_curve.h has the file format and the settings that use it). */
#include "cmd.h"
#include "pf_curve.h"
#include "pf_err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet keygen NAME [-o DIR] [--force]\n\n"
    "Makes a ZeroMQ CURVE key pair: DIR/NAME.key (secret, mode 0600) and\n"
    "DIR/NAME.pub (the public key, 40 Z85 characters). Prints the public key.\n\n"
    "  -o, --output DIR   where to write (default: the current folder; made if missing)\n"
    "  -f, --force        replace an existing NAME.key\n\n"
    "A server (broker, score router, similarity service) uses its NAME.key as\n"
    "curve_secret_file and admits the clients whose .pub files are in its\n"
    "curve_allow_dir; a client (encoder worker, scorer, gateway, pefleet ingest)\n"
    "uses its NAME.key as curve_secret_file and the server's .pub (or its text)\n"
    "as curve_server_key. Example:\n"
    "  pefleet keygen server -o keys && pefleet keygen worker-1 -o keys\n"
    "  mkdir keys/allowed && cp keys/worker-1.pub keys/allowed/\n");
}

int cmd_keygen(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *dir = ".";
  int force = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': dir = optarg; break;
    case 'f': force = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind != argc - 1) { usage(stderr); return 2; }
  const char *name = argv[optind];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet keygen: cannot make %s: %s\n", dir, strerror(errno));
    return 1;
  }
  pf_curve_keypair kp;
  char err[1400];
  int rc = pf_curve_generate(&kp, err, sizeof err);
  if (rc == PF_OK) rc = pf_curve_write(dir, name, &kp, force, err, sizeof err);
  if (rc != PF_OK) {
    memset(&kp, 0, sizeof kp);
    fprintf(stderr, "pefleet keygen: %s\n", err);
    return rc == PF_EINVAL ? 2 : 1;
  }
  printf("%s\n", kp.pub);
  fprintf(stderr, "pefleet keygen: wrote %s/%s.key (secret) and %s/%s.pub\n", dir, name, dir, name);
  memset(&kp, 0, sizeof kp);
  return 0;
}
