/* pefleet: the command-line front. Dispatches to the subcommands. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>
#include <getopt.h>

#define PEFLEET_VERSION "0.1.0"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} commands[] = {
  {"encode", cmd_encode, "encode PE files into ergo486 feature vectors (CSV or JSONL)"},
  {"up", cmd_up, "start the fleet on this machine (redis, broker, encoder workers), supervised"},
  {"down", cmd_down, "stop the fleet that 'up' started"},
  {"status", cmd_status, "queue counters and daemon liveness (--json)"},
  {"ingest", cmd_ingest, "store PE files and queue them for encoding (--wait)"},
  {"train", cmd_train_exec, "train the seed's network (CPU) from a CSV or the fleet's splits"},
  {"evaluate", cmd_evaluate, "a model's figures on a seed-layout CSV (--json)"},
  {"export", cmd_export, "write the stored vectors (CSV or JSONL), per split"},
  {"import-csv", cmd_import_csv, "load a dataset.csv (label + 486 values per row) as vector-only samples"},
  {"import-keras", cmd_import_keras, "convert a Keras 2 model.h5 (the seed's network) into a model folder"},
  {"predict", cmd_predict, "score PE files with a model folder (JSONL or a table)"},
  {"scan", cmd_scan, "score PE files locally (MODEL_DIR) or through the score pool (--server)"},
  {"serve", cmd_serve, "run the HTTP gateway (the seed's ergo serve API) in the foreground"},
  {"promote", cmd_promote, "register a model folder (or take a registered version) and make it serve"},
  {"models", cmd_models, "list the registered models, their parents and test figures (--json)"},
  {"rollback", cmd_rollback, "make the model promoted before the current one serve again"},
  {"retrain", cmd_retrain, "train a challenger on the current splits; promote it if it beats the champion"},
  {"requeue", cmd_requeue, "put failed samples back on the queue, attempts reset (--reason TEXT, --all-failed)"},
  {"feed", cmd_feed, "ingest the new files of a folder (known ones skipped by sha256; --move)"},
  {"keygen", cmd_keygen, "make a CURVE key pair (NAME.key, NAME.pub) for encrypted links between hosts"},
  {"similar", cmd_similar, "stored samples most similar to a sample (sha256) or a file (exact cosine)"},
  {"report", cmd_report, "a model folder as one self-contained HTML page (curves, ROC, matrices, PCA)"},
  {"explain-baseline", cmd_explain_baseline, "set the baseline a model's explanations start from (a class's mean in a CSV)"},
  {"relevance", cmd_relevance, "how much accuracy and AUC drop when each feature is nulled (relevance.json)"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet COMMAND [OPTIONS] [ARGS]\n\n"
             "pefleet detects Windows PE malware with the ergo-pe-av network, as a worker fleet.\n\n"
             "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "  %-12s %s\n", "version", "print the version");
  fprintf(f, "\nRun 'pefleet COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  opterr = 0; /* each command prints its own one-line usage error */
  if (argc < 2) { usage(stderr); return 2; }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("pefleet %s\n", PEFLEET_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "pefleet: unknown command '%s' (try 'pefleet --help')\n", cmd);
  return 2;
}
