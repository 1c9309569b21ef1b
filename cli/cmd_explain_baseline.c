/* pefleet explain-baseline: gives a model folder the baseline its
 * explanations start from, computed from a data set (the mean of one
 * class's rows), for models that have none (an imported Keras file). */
#include "cmd.h"
#include "usage_err.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_explain.h"
#include "pf_model.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet explain-baseline MODEL_DIR --dataset CSV [--class NAME]\n\n"
    "Sets the baseline that explanations (predict/scan --explain, /v1/scan?explain=K)\n"
    "start from: the mean vector of the rows of class NAME (default: the model's\n"
    "first class, clean) of CSV (the seed's layout: a label, then the values).\n"
    "pefleet train writes one by itself (the clean mean of the training split);\n"
    "a model without one is explained from the zero vector, and says so.\n"
    "MODEL_DIR/model.pfnn is rewritten in place (atomically); a model already\n"
    "registered in a fleet keeps its old copy until promoted again.\n\n"
    "exit status: 0 done, 1 failed (no such class in CSV, unreadable files), 2 usage error\n");
}

int cmd_explain_baseline(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 'd'}, {"class", required_argument, 0, 'c'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *dataset = NULL, *cls_name = NULL;
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': dataset = optarg; break;
    case 'c': cls_name = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet explain-baseline", opts, "h", argc, argv);
    }
  }
  if (optind + 1 != argc || !dataset) {
    fprintf(stderr, "pefleet explain-baseline: %s (see pefleet explain-baseline --help)\n",
            optind >= argc ? "no MODEL_DIR given" : !dataset ? "--dataset CSV is required" : "one MODEL_DIR only");
    return 2;
  }
  const char *dir = argv[optind];
  char err[600];
  pf_model *m = NULL;
  if (pf_model_load(dir, &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet explain-baseline: %s\n", err);
    return 1;
  }
  pf_classes cls;
  pf_classes_of_model(m, &cls);
  int want = cls_name ? pf_classes_index(&cls, cls_name) : 0;
  if (want < 0) {
    fprintf(stderr, "pefleet explain-baseline: %s is not a class of the model\n", cls_name);
    pf_model_free(&m);
    return 1;
  }
  pf_dataset d = {0};
  size_t skipped = 0;
  int rc = pf_dataset_load_csv(dataset, m->sizes[0], &cls, &d, &skipped);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet explain-baseline: %s: %s\n", dataset, pf_strerror(rc));
    pf_model_free(&m);
    return 1;
  }
  float *mean = malloc((size_t)m->sizes[0] * sizeof *mean);
  char name[PF_MODEL_NAME];
  rc = mean ? pf_explain_class_mean(&d, want, m->classes[want], "dataset", mean, name, sizeof name) : PF_ENOMEM;
  if (rc == PF_OK) rc = pf_model_set_baseline(m, mean, name);
  if (rc == PF_OK) rc = pf_model_save(m, dir);
  if (rc == PF_OK) printf("pefleet explain-baseline: %s: baseline \"%s\" (%zu rows skipped)\n", dir, name, skipped);
  else
    fprintf(stderr, "pefleet explain-baseline: %s\n",
            rc == PF_ENOENT ? "no row of that class in the data set" : pf_strerror(rc));
  free(mean);
  pf_dataset_free(&d);
  pf_model_free(&m);
  return rc == PF_OK ? 0 : 1;
}
