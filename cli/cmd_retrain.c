/* pefleet retrain (being written). */
#include "cmd.h"

#include <stdio.h>

int cmd_retrain(int argc, char **argv) {
  fprintf(stderr, "pefleet retrain: not yet\n");
  return 1;
}
