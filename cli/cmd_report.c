/* pefleet report: one self-contained HTML page about a model folder (the
 * seed's `ergo view`): training curves, the test ROC curve with its
 * operating points, confusion matrices, the stats.json figures, data set
 * sizes and class balance, the model's version/schema/parent, feature
 * relevance and a PCA of the test split. Inline SVG, no scripts, no
 * network. --compare overlays a second model's ROC curve and figures. */
#include "cmd.h"
#include "usage_err.h"
#include "out_path.h"
#include "pf_dataset.h"
#include "pf_atomic.h"
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

/* Fills the figures, ROC curve and PCA that rm lacks from every row of
 * csv, through the training run's own writers in a temporary folder. */
static int compute_missing(report_model *rm, const char *csv, const char *label_map, int all) {
  if (all) { /* --compare --dataset: both models on the same rows, whatever their folders hold */
    free(rm->roc.fpr); free(rm->roc.tpr);
    free(rm->pca.pc1); free(rm->pca.pc2); free(rm->pca.label);
    memset(&rm->stats, 0, sizeof rm->stats);
    memset(&rm->roc, 0, sizeof rm->roc);
    memset(&rm->pca, 0, sizeof rm->pca);
  }
  if (rm->stats.present && rm->roc.present && rm->pca.present) return PF_OK;
  if (!rm->model) { fprintf(stderr, "pefleet report: --dataset needs a readable model.pfnn\n"); return PF_EINVAL; }
  const pf_model *m = rm->model;
  pf_classes cls;
  memset(&cls, 0, sizeof cls);
  cls.n = (int)pf_model_classes(m);
  for (int i = 0; i < cls.n; i++) snprintf(cls.names[i], sizeof cls.names[i], "%s", m->classes[i]);
  char why[600];
  if (label_map && pf_classes_map(&cls, label_map, why, sizeof why) != PF_OK) {
    fprintf(stderr, "pefleet report: --label-map: %s\n", why);
    return PF_EINVAL;
  }
  pf_dataset d = {0};
  size_t skipped = 0;
  int rc = pf_dataset_load_csv(csv, m->sizes[0], &cls, &d, &skipped);
  int miss = rc == PF_OK && d.n ? pf_dataset_missing_class(&d, &cls) : -1;
  if (miss >= 0) {
    fprintf(stderr, "pefleet report: no '%s' row in %s (%zu rows read, %zu skipped): the figures need every class\n",
            cls.names[miss], csv, d.n, skipped);
    pf_dataset_free(&d);
    return PF_EINVAL;
  }
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

/* 1 when both folders' dataset.json (the CSV and split seed their test
 * split came from) say the same, or neither has one. */
static int same_source(const char *d1, const char *d2) {
  char p[2][4200], buf[2][8192];
  size_t n[2] = {0, 0};
  const char *d[2] = {d1, d2};
  for (int i = 0; i < 2; i++) {
    snprintf(p[i], sizeof p[i], "%s/dataset.json", d[i]);
    FILE *f = fopen(p[i], "r");
    if (f) { n[i] = fread(buf[i], 1, sizeof buf[i], f); fclose(f); }
  }
  return n[0] == n[1] && memcmp(buf[0], buf[1], n[0]) == 0;
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
  report_model a, b;
  report_model_load(dir, &a);
  if (!a.model && !a.stats.present) {
    fprintf(stderr, "pefleet report: %s is not a model folder: %s\n", dir, a.model_why);
    report_model_free(&a);
    return 1;
  }
  if (out_path_file("pefleet report", out, force) != 0) { /* before any work */
    report_model_free(&a);
    return 1;
  }
  if (over_time && report_load_over_time(&a, over_time) != PF_OK) {
    fprintf(stderr, "pefleet report: --over-time: %s\n", a.over_time.why);
    report_model_free(&a);
    return 1;
  }
  if (dataset && compute_missing(&a, dataset, label_map, other != NULL) != PF_OK) {
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
    if (dataset && compute_missing(&b, dataset, label_map, 1) != PF_OK) {
      report_model_free(&a);
      report_model_free(&b);
      return 1;
    }
    /* two curves on different rows do not compare: say so, on the page and here */
    if (!dataset && a.roc.present && b.roc.present && (a.roc.rows != b.roc.rows || !same_source(dir, other))) {
      snprintf(a.compare_note, sizeof a.compare_note,
               "the two models' test splits differ (%zu rows against %zu%s); evaluate both on one data set with "
               "pefleet report --compare --dataset FILE",
               a.roc.rows, b.roc.rows, a.roc.rows == b.roc.rows ? ", from another data set or split seed" : "");
      fprintf(stderr, "pefleet report: warning: %s\n", a.compare_note);
    }
  }
  char odir[4200];
  pf_atomic tmp;
  snprintf(odir, sizeof odir, "%s", out);
  char *slash = strrchr(odir, '/');
  const char *name = slash ? slash + 1 : out;
  if (slash) *slash = '\0';
  const char *pdir = slash ? (odir[0] ? odir : "/") : ".";
  FILE *f = pf_atomic_open(&tmp, pdir, name);
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
    if (pf_atomic_commit(&tmp) != PF_OK) fprintf(stderr, "pefleet report: cannot write %s\n", out);
    else { printf("report written to %s\n", out); rc = 0; }
  }
  report_model_free(&a);
  if (other) report_model_free(&b);
  return rc;
}
