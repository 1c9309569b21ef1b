/* pefleet report: one self-contained HTML page about a model folder (the
 * seed's `ergo view`): training curves, the test ROC curve with its
 * operating points, confusion matrices, the stats.json figures, data set
 * sizes and class balance, the model's version/schema/parent, feature
 * relevance and a PCA of the test split. Inline SVG, no scripts, no
 * network. --compare overlays a second model's ROC curve and figures. */
#include "cmd.h"
#include "pf_err.h"
#include "report_data.h"
#include "report_page.h"
#include "train_out.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet report MODEL_DIR [-o FILE] [--compare OTHER_MODEL_DIR]\n\n"
    "Writes one self-contained HTML page (inline SVG, no scripts, nothing fetched)\n"
    "from the model folder: loss and accuracy per epoch (history.json), the test\n"
    "split's ROC curve and operating points (roc.json), confusion matrices, figures,\n"
    "data set sizes and class balance (stats.json), version, schema and parent\n"
    "(model.pfnn), the top 25 features (relevance.json, from pefleet relevance) and\n"
    "a PCA of the test split (pca.json). A missing file gets a panel saying why.\n\n"
    "options:\n"
    "  -o, --output FILE        where to write (MODEL_DIR/report.html)\n"
    "      --compare DIR        overlay DIR's ROC curve, show both models' figures\n\n"
    "exit status: 0 written, 1 failure (no model folder, cannot write), 2 usage error\n");
}

int cmd_report(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"compare", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  const char *out = NULL, *other = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'c') other = optarg;
    else if (c == 'h') { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
  }
  if (optind + 1 != argc) { usage(stderr); return 2; }
  const char *dir = argv[optind];
  report_model a, b;
  report_model_load(dir, &a);
  if (!a.model && !a.stats.present) {
    fprintf(stderr, "pefleet report: %s is not a model folder: %s\n", dir, a.model_why);
    report_model_free(&a);
    return 1;
  }
  if (other) {
    report_model_load(other, &b);
    if (!b.model && !b.stats.present) {
      fprintf(stderr, "pefleet report: --compare %s is not a model folder: %s\n", other, b.model_why);
      report_model_free(&a);
      report_model_free(&b);
      return 1;
    }
  }
  char def[4200], odir[4200], tmp[4400];
  if (!out) { snprintf(def, sizeof def, "%s/report.html", dir); out = def; }
  snprintf(odir, sizeof odir, "%s", out);
  char *slash = strrchr(odir, '/');
  const char *name = slash ? slash + 1 : out;
  if (slash) *slash = '\0';
  const char *pdir = slash ? (odir[0] ? odir : "/") : ".";
  FILE *f = train_open_out(pdir, name, tmp, sizeof tmp);
  int rc = 1;
  if (!f) {
    fprintf(stderr, "pefleet report: cannot write %s: %s\n", out, strerror(errno));
  } else {
    const report_model *pb = other ? &b : NULL;
    report_page_head(f, &a, pb);
    report_section_model(f, &a, pb);
    report_section_history(f, &a);
    report_section_roc(f, &a, pb);
    report_section_confusion(f, &a);
    report_section_figures(f, &a, pb);
    report_section_dataset(f, &a);
    report_section_relevance(f, &a);
    report_section_pca(f, &a);
    report_page_tail(f);
    if (train_close_publish(f, tmp, pdir, name) != PF_OK) fprintf(stderr, "pefleet report: cannot write %s\n", out);
    else { printf("report written to %s\n", out); rc = 0; }
  }
  report_model_free(&a);
  if (other) report_model_free(&b);
  return rc;
}
