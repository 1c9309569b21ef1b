/* pefleet report: one self-contained HTML page about a model folder (the
 * seed's `ergo view`): training curves, the test ROC curve with its
 * operating points, confusion matrices, the stats.json figures, data set
 * sizes and class balance, the model's version/schema/parent, feature
 * relevance and a PCA of the test split. Inline SVG, no scripts, no
 * network. --compare overlays a second model's ROC curve and figures. */
#include "cmd.h"
#include "usage_err.h"
#include "out_path.h"
#include "pf_err.h"
#include "pf_report.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet report MODEL_DIR [-o FILE] [--force] [--compare OTHER_MODEL_DIR] [--dataset FILE]\n"
    "                      [--over-time FILE]\n\n"
    "Writes one self-contained HTML page (inline SVG, no scripts, nothing fetched)\n"
    "from the model folder: loss and accuracy per epoch (history.json), the test\n"
    "split's ROC curve and operating points (roc.json), confusion matrices, figures,\n"
    "data set sizes and class balance (stats.json), version, schema and parent\n"
    "(model.pfnn), the top 25 features (relevance.json, from pefleet relevance) and\n"
    "a PCA of the test split (pca.json). A missing file gets a panel saying why.\n"
    "A model trained with --split time also gets a \"Quality over time\" panel (its\n"
    "test split week by week, over_time.json).\n\n"
    "options:\n"
    "  -o, --output FILE        where to write (MODEL_DIR/report.html; folders are created)\n"
    "      --force              replace an existing report (else refused before any work)\n"
    "      --compare DIR        overlay DIR's ROC curve, show both models' figures\n"
    "      --dataset FILE       compute the figures, ROC curve and PCA the folder lacks\n"
    "                           (e.g. an import-keras model) from a seed-layout CSV\n"
    "      --label-map L=C,...  read the CSV's label L as class C (malicious-test=malicious)\n"
    "      --over-time FILE     the \"Quality over time\" panel from FILE, the output of\n"
    "                           pefleet evaluate MODEL_DIR --by week|month --json (e.g. on\n"
    "                           the fleet's samples newer than the model)\n\n"
    "exit status: 0 written, 1 failure (no model folder, cannot write), 2 usage error\n");
}

int cmd_report(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"compare", required_argument, 0, 'c'},
    {"dataset", required_argument, 0, 'd'}, {"force", no_argument, 0, 'f'}, {"label-map", required_argument, 0, 'm'},
    {"help", no_argument, 0, 'h'}, {"over-time", required_argument, 0, 't'},
    {0, 0, 0, 0},
  };
  const char *out = NULL, *other = NULL, *dataset = NULL, *label_map = NULL, *over_time = NULL;
  int c, force = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'c') other = optarg;
    else if (c == 'd') dataset = optarg;
    else if (c == 'f') force = 1;
    else if (c == 'm') label_map = optarg;
    else if (c == 't') over_time = optarg;
    else if (c == 'h') { usage(stdout); return 0; }
    else return usage_err_getopt("pefleet report", opts, "o:h", argc, argv);
  }
  if (optind + 1 != argc)
    return usage_err("pefleet report", optind >= argc ? "no MODEL_DIR given%s" : "one MODEL_DIR at a time (unexpected '%s')",
                     optind >= argc ? "" : argv[optind + 1]);
  const char *dir = argv[optind];
  char def[4200];
  if (!out) { snprintf(def, sizeof def, "%s/report.html", dir); out = def; }
  pf_report_model a;
  if (pf_report_model_load(dir, &a) != PF_OK) {
    fprintf(stderr, "pefleet report: %s is not a model folder: %s\n", dir, a.model_why);
    pf_report_model_free(&a);
    return 1;
  }
  if (out_path_file("pefleet report", out, force) != 0) { /* before any work */
    pf_report_model_free(&a);
    return 1;
  }
  const pf_report_opts o = {.out = out, .compare = other, .dataset = dataset, .label_map = label_map,
                            .over_time = over_time};
  char err[1200], note[PF_FOLDER_WHY];
  int rc = pf_report_write(&a, &o, err, sizeof err, note, sizeof note);
  pf_report_model_free(&a);
  if (note[0]) fprintf(stderr, "pefleet report: warning: %s\n", note);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet report: %s\n", err);
    return 1;
  }
  printf("report written to %s\n", out);
  return 0;
}
