/* pefleet train: runs bin/pefleet-trainer (trainer/trainer_main.c), the
 * only program linked with CUDA, cuBLAS and cuDNN, so that every other
 * command starts without loading them. */
#include "cmd.h"
#include "sv_state.h"
#include "pf_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_train_exec(int argc, char **argv) {
  (void)argc;
  char prog[1024];
  if (sv_program("pefleet-trainer", prog, sizeof prog) != PF_OK) {
    fprintf(stderr, "pefleet train: cannot find pefleet-trainer beside pefleet (make builds it)\n");
    return 1;
  }
  fflush(NULL);
  execv(prog, argv); /* argv[0] is "train": the trainer's messages say "pefleet train" */
  fprintf(stderr, "pefleet train: cannot run %s: %s\n", prog, strerror(errno));
  return 1;
}
