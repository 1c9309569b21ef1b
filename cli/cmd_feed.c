/* pefleet feed (being written). */
#include "cmd.h"

#include <stdio.h>

int cmd_feed(int argc, char **argv) {
  fprintf(stderr, "pefleet feed: not yet\n");
  return 1;
}
