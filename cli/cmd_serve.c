/* pefleet serve: runs the HTTP gateway (bin/pefleet-gateway, installed
 * beside pefleet) in the foreground with the same arguments. */
#include "cmd.h"
#include "sv_state.h"
#include "pf_err.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_serve(int argc, char **argv) {
  char prog[1100];
  int rc = sv_program("pefleet-gateway", prog, sizeof prog);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet serve: %s not found beside pefleet (build it with make)\n",
            rc == PF_ENOENT ? prog : "pefleet-gateway");
    return 1;
  }
  /* argv[0] is "serve": the gateway sees its own name, then the same options
   * (--address, --port, --classes, --allow-path, --token-file, --data, ...) */
  argv[0] = prog;
  setenv("PEFLEET_GATEWAY_AS", "pefleet serve", 1); /* its usage and errors say pefleet serve */
  execv(prog, argv);
  fprintf(stderr, "pefleet serve: cannot run %s: %s\n", prog, strerror(errno));
  return 1;
}
