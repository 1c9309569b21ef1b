/* pefleet evaluate: a model's figures on a seed-layout CSV, in the same
 * form as one split of stats.json, so two models compare on the same data. */
#include "cmd.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_model.h"
#include "train_out.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet evaluate MODEL_DIR --dataset FILE [--json]\n\n"
             "Scores every row of a seed-layout CSV (label, then the model's feature\n"
             "values) with the model and prints the confusion matrix, accuracy, per-class\n"
             "precision/recall/F1, ROC AUC, FPR at the model's threshold and the TPR at\n"
             "1%% and 0.1%% FPR; --json prints them as one stats.json split object.\n"
             "Labels are class indices or the model's class names.\n\n"
             "exit status: 0 evaluated, 1 failure, 2 usage error\n");
}

int cmd_evaluate(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 'd'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *dataset = NULL;
  int json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
    if (c == 'd') dataset = optarg;
    else if (c == 'j') json = 1;
    else if (c == 'h') { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
  }
  if (optind + 1 != argc || !dataset) { usage(stderr); return 2; }
  pf_model *m = NULL;
  char err[512];
  if (pf_model_load(argv[optind], &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: %s\n", err);
    return 1;
  }
  pf_classes cls;
  memset(&cls, 0, sizeof cls);
  cls.n = (int)pf_model_classes(m);
  for (int i = 0; i < cls.n; i++) snprintf(cls.names[i], sizeof cls.names[i], "%s", m->classes[i]);
  pf_dataset d = {0};
  size_t skipped = 0;
  int rc = pf_dataset_load_csv(dataset, m->sizes[0], &cls, &d, &skipped);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet evaluate: cannot read %s: %s\n", dataset, rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
    pf_model_free(&m);
    return 1;
  }
  if (d.n == 0) {
    fprintf(stderr, "pefleet evaluate: no usable rows in %s (%zu skipped)\n", dataset, skipped);
    pf_model_free(&m);
    return 1;
  }
  if (json) {
    rc = train_split_stats(stdout, m, &d);
    putchar('\n');
  } else {
    printf("%zu rows (%zu skipped), model %s, threshold %g\n", d.n, skipped, m->version, m->threshold);
    train_print_figures(stdout, "evaluated", m, &d);
    rc = PF_OK;
  }
  pf_dataset_free(&d);
  pf_model_free(&m);
  return rc == PF_OK ? 0 : 1;
}
