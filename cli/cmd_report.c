/* pefleet report: one self-contained HTML page about a model folder (the
 * seed's `ergo view`): training curves, the test ROC curve with its
 * operating points, confusion matrices, the stats.json figures, data set
 * sizes and class balance, the model's version/schema/parent, feature
 * relevance and a PCA of the test split. Inline SVG, no scripts, no
 * network. --compare overlays a second model's ROC curve and figures. */
#include "cmd.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "report_data.h"
#include "report_page.h"
#include "train_out.h"
#include "train_plots.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet report MODEL_DIR [-o FILE] [--compare OTHER_MODEL_DIR] [--dataset FILE]\n"
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
    "  -o, --output FILE        where to write (MODEL_DIR/report.html)\n"
    "      --compare DIR        overlay DIR's ROC curve, show both models' figures\n"
    "      --dataset FILE       compute the figures, ROC curve and PCA the folder lacks\n"
    "                           (e.g. an import-keras model) from a seed-layout CSV\n"
    "      --over-time FILE     the \"Quality over time\" panel from FILE, the output of\n"
    "                           pefleet evaluate MODEL_DIR --by week|month --json (e.g. on\n"
    "                           the fleet's samples newer than the model)\n\n"
    "exit status: 0 written, 1 failure (no model folder, cannot write), 2 usage error\n");
}

/* Fills the figures, ROC curve and PCA that rm lacks from every row of
 * csv, through the training run's own writers in a temporary folder. */
static int compute_missing(report_model *rm, const char *csv) {
  if (rm->stats.present && rm->roc.present && rm->pca.present) return PF_OK;
  if (!rm->model) { fprintf(stderr, "pefleet report: --dataset needs a readable model.pfnn\n"); return PF_EINVAL; }
  const pf_model *m = rm->model;
  pf_classes cls;
  memset(&cls, 0, sizeof cls);
  cls.n = (int)pf_model_classes(m);
  for (int i = 0; i < cls.n; i++) snprintf(cls.names[i], sizeof cls.names[i], "%s", m->classes[i]);
  pf_dataset d = {0};
  size_t skipped = 0;
  int rc = pf_dataset_load_csv(csv, m->sizes[0], &cls, &d, &skipped);
  if (rc != PF_OK || d.n == 0) {
    fprintf(stderr, "pefleet report: cannot use %s: %s\n", csv,
            rc == PF_EIO ? strerror(errno) : rc != PF_OK ? pf_strerror(rc) : "no usable rows");
    pf_dataset_free(&d);
    return rc != PF_OK ? rc : PF_EINVAL;
  }
  char tmp[] = "/tmp/pefleet-report.XXXXXX", err[512], path[600], split[64];
  const char *base = strrchr(csv, '/');
  snprintf(split, sizeof split, "rows of %s", base ? base + 1 : csv);
  rc = mkdtemp(tmp) ? PF_OK : PF_EIO;
  FILE *f = NULL;
  if (rc == PF_OK) {
    snprintf(path, sizeof path, "%s/stats.json", tmp);
    f = fopen(path, "w");
    if (!f) rc = PF_EIO;
  }
  if (f) {
    fputs("{\"test\": ", f);
    rc = train_split_stats(f, m, &d);
    fputs("}\n", f);
    if (fclose(f) != 0 && rc == PF_OK) rc = PF_EIO;
  }
  if (rc == PF_OK && pf_model_classes(m) == 2) rc = train_write_roc(tmp, split, m, &d, err, sizeof err);
  if (rc == PF_OK) rc = train_write_pca(tmp, split, m, &d, err, sizeof err);
  if (rc == PF_OK) {
    report_model t;
    report_model_load(tmp, &t);
    if (!rm->stats.present) { rm->stats = t.stats; memset(&t.stats, 0, sizeof t.stats); }
    if (!rm->roc.present) { rm->roc = t.roc; memset(&t.roc, 0, sizeof t.roc); }
    if (!rm->pca.present) { rm->pca = t.pca; memset(&t.pca, 0, sizeof t.pca); }
    report_model_free(&t);
    snprintf(rm->computed_from, sizeof rm->computed_from, "%s (%zu rows, %zu skipped)", csv, d.n, skipped);
  } else {
    fprintf(stderr, "pefleet report: cannot compute the figures of %s: %s\n", csv, pf_strerror(rc));
  }
  static const char *const files[3] = {"stats.json", "roc.json", "pca.json"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
    unlink(path);
  }
  rmdir(tmp);
  pf_dataset_free(&d);
  return rc;
}

int cmd_report(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"compare", required_argument, 0, 'c'},
    {"dataset", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {"over-time", required_argument, 0, 't'},
    {0, 0, 0, 0},
  };
  const char *out = NULL, *other = NULL, *dataset = NULL, *over_time = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'c') other = optarg;
    else if (c == 'd') dataset = optarg;
    else if (c == 't') over_time = optarg;
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
  if (over_time && report_load_over_time(&a, over_time) != PF_OK) {
    fprintf(stderr, "pefleet report: --over-time: %s\n", a.over_time.why);
    report_model_free(&a);
    return 1;
  }
  if (dataset && compute_missing(&a, dataset) != PF_OK) {
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
    report_section_over_time(f, &a);
    report_page_tail(f);
    if (train_close_publish(f, tmp, pdir, name) != PF_OK) fprintf(stderr, "pefleet report: cannot write %s\n", out);
    else { printf("report written to %s\n", out); rc = 0; }
  }
  report_model_free(&a);
  if (other) report_model_free(&b);
  return rc;
}
