/* pefleet-trainer: `pefleet train` (cli/cmd_train.c) as a program of its
 * own, the one that links the GPU path (CUDA, cuBLAS, cuDNN); `pefleet
 * train` and `pefleet retrain` run it. */
#include "cmd.h"

int main(int argc, char **argv) { return cmd_train(argc, argv); }
