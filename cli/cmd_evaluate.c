/* pefleet evaluate: a model's figures on a seed-layout CSV, in the same
 * form as one split of stats.json, so two models compare on the same data. */
#include "cmd.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_model.h"
#include "train_out.h"
#include "usage_err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet evaluate MODEL_DIR --dataset FILE [--json] [--label-map L=C,...]\n\n"
             "Scores every row of a seed-layout CSV (label, then the model's feature\n"
             "values) with the model and prints the confusion matrix, accuracy, per-class\n"
             "precision/recall/F1, ROC AUC, FPR at the model's threshold and the TPR at\n"
             "1%% and 0.1%% FPR; --json prints them as one stats.json split object.\n"
             "Labels are class indices or the model's class names; --label-map reads\n"
             "other labels as classes (malicious-test=malicious). Rows with another label\n"
             "are skipped and summarised in one line; a class with no row is an error.\n\n"
             "exit status: 0 evaluated, 1 failure (a class missing), 2 usage error\n");
}

int cmd_evaluate(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 'd'}, {"json", no_argument, 0, 'j'}, {"label-map", required_argument, 0, 'm'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *dataset = NULL, *label_map = NULL;
  int json = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
    if (c == 'd') dataset = optarg;
    else if (c == 'j') json = 1;
    else if (c == 'm') label_map = optarg;
    else if (c == 'h') { usage(stdout); return 0; }
    else return usage_err_getopt("pefleet evaluate", opts, "d:jh", argc, argv);
  }
  if (optind >= argc) return usage_err("pefleet evaluate", "no MODEL_DIR given");
  if (optind + 1 < argc) return usage_err("pefleet evaluate", "one MODEL_DIR at a time (unexpected '%s')", argv[optind + 1]);
  if (!dataset) return usage_err("pefleet evaluate", "--dataset FILE is needed");
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
  if (label_map && pf_classes_map(&cls, label_map, err, sizeof err) != PF_OK) {
    pf_model_free(&m);
    return usage_err("pefleet evaluate", "--label-map: %s", err);
  }
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
  int miss = pf_dataset_missing_class(&d, &cls);
  if (miss >= 0) {
    fprintf(stderr, "pefleet evaluate: no '%s' row in %s (%zu rows read, %zu skipped): the figures need every class\n",
            cls.names[miss], dataset, d.n, skipped);
    pf_dataset_free(&d);
    pf_model_free(&m);
    return 1;
  }
  if (json) {
    rc = train_split_stats(stdout, m, &d);
    putchar('\n');
  } else {
    printf("%zu rows (%zu skipped), model %s, threshold %g\n", d.n, skipped, m->version, m->threshold);
    train_print_figures(stdout, "evaluated", m, &d);
    if (pf_model_classes(m) == 2) train_print_table(stdout, m, &d);
    rc = PF_OK;
  }
  pf_dataset_free(&d);
  pf_model_free(&m);
  return rc == PF_OK ? 0 : 1;
}
