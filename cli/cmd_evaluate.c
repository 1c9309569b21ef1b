/* pefleet evaluate: a model's figures on a seed-layout CSV, in the same
 * form as one split of stats.json, so two models compare on the same data;
 * with --by week|month, its figures per period of first-seen time on the
 * fleet's samples: which samples and the figures are lib/eval/pf_drift.h's
 * (pf_drift_window_of, pf_drift_eval_db); this file parses and prints. */
#include "cmd.h"
#include "fleet.h"
#include "pf_dataset.h"
#include "pf_date.h"
#include "pf_drift.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_model.h"
#include "pf_evalout.h"
#include "usage_err.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet evaluate MODEL_DIR --dataset FILE [--json] [--label-map L=C,...]\n"
             "       pefleet evaluate MODEL_DIR --by week|month [--since DATE | --all] [--json]\n"
             "                        [--data DIR | --config FILE]\n\n"
             "Scores every row of a seed-layout CSV (label, then the model's feature\n"
             "values) with the model and prints the confusion matrix, accuracy, per-class\n"
             "precision/recall/F1, ROC AUC, FPR at the model's threshold and the TPR at\n"
             "1%% and 0.1%% FPR; --json prints them as one stats.json split object.\n"
             "Labels are class indices or the model's class names; --label-map reads\n"
             "other labels as classes (malicious-test=malicious). Rows with another label\n"
             "are skipped and summarised in one line; a class with no row is an error.\n\n"
             "--by week|month scores the fleet's samples instead and prints one line per\n"
             "ISO week (Monday 00:00 UTC) or calendar month of first-seen time: samples\n"
             "per class, ROC AUC, TPR and FPR at the model's threshold, and TPR and FPR at\n"
             "the thresholds that gave 1%% and 0.1%% FPR on the model's validation split\n"
             "(stats.json), so a falling TPR means the model misses newer samples, not\n"
             "that the threshold moved. Samples: those first seen after the model's\n"
             "training data ended (stats.json \"split\".data_end), --since DATE on, or --all.\n"
             "--json: {\"by\", \"model\", \"threshold\", \"periods\": [...]}.\n\n"
             "exit status: 0 evaluated, 1 failure (a class missing), 2 usage error\n");
}

static int evaluate_csv(const char *dir, const char *dataset, const char *label_map, int json) {
  pf_model *m = NULL;
  char err[512];
  if (pf_model_load(dir, &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: %s\n", err);
    return 1;
  }
  pf_classes cls;
  pf_classes_of_model(m, &cls);
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

static void fig(char *buf, size_t n, double v) {
  if (isfinite(v)) snprintf(buf, n, "%.4f", v);
  else snprintf(buf, n, "-");
}

static void print_table(const pf_drift *d, const pf_model *m) {
  printf("%-9s %-10s %8s %8s %8s %8s %8s %10s %10s %10s\n", "PERIOD", "START", m->classes[0], m->classes[1],
         "ROC_AUC", "TPR", "FPR", "TPR@1%FPR", "FPR@1%", "TPR@0.1%");
  for (size_t i = 0; i < d->n; i++) {
    const pf_drift_period *p = &d->p[i];
    char day[16], a[16], t[16], f[16], t1[16], f1[16], t01[16];
    fig(a, sizeof a, p->roc_auc);
    fig(t, sizeof t, p->at_threshold.tpr);
    fig(f, sizeof f, p->at_threshold.fpr);
    fig(t1, sizeof t1, p->at_fpr1.tpr);
    fig(f1, sizeof f1, p->at_fpr1.fpr);
    fig(t01, sizeof t01, p->at_fpr01.tpr);
    printf("%-9s %-10s %8zu %8zu %8s %8s %8s %10s %10s %10s\n", p->label, pf_date_day(p->start, day, sizeof day),
           p->n[0], p->n[1], a, t, f, t1, f1, t01);
  }
}

static int evaluate_by(const char *dir, const char *by_s, const char *since_s, int all, int json, const char *data,
                       const char *config) {
  pf_period by;
  long long since = 0;
  if (pf_period_parse(by_s, &by) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: --by takes week or month, not '%s'\n", by_s);
    return 2;
  }
  if (since_s && pf_date_parse(since_s, strlen(since_s), &since) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: bad --since '%s' (YYYY-MM-DD[THH:MM:SSZ], UTC)\n", since_s);
    return 2;
  }
  pf_model *m = NULL;
  char err[512];
  if (pf_model_load(dir, &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: %s\n", err);
    return 1;
  }
  if (pf_model_classes(m) != 2) {
    fprintf(stderr, "pefleet evaluate: --by needs a two-class model\n");
    pf_model_free(&m);
    return 1;
  }
  /* which samples: after the training data ended, unless told */
  pf_drift_window w;
  int rc = pf_drift_window_of(dir, since, all, &w, err, sizeof err);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet evaluate: %s\n", err);
    pf_model_free(&m);
    return rc == PF_EINVAL ? 2 : 1;
  }
  pf_config cfg;
  int frc = fleet_resolve("pefleet evaluate", data, config, &cfg);
  if (frc != 0) { pf_model_free(&m); return frc; }
  pf_db *db = NULL;
  if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet evaluate: %s\n", err);
    pf_model_free(&m);
    return 1;
  }
  pf_drift d;
  size_t rows = 0;
  rc = pf_drift_eval_db(db, m, &w, by, &d, &rows, err, sizeof err);
  pf_db_free(&db);
  if (rc != PF_OK && err[0]) fprintf(stderr, "pefleet evaluate: %s\n", err);
  int code = rc == PF_OK ? 0 : 1;
  if (rc == PF_OK && rows == 0) {
    fprintf(stderr, "pefleet evaluate: no samples to evaluate: %s\n", w.why);
    code = 1;
  } else if (rc == PF_OK && json) {
    pf_folder_over_time ot;
    char *txt = pf_drift_over_time(&d, m, &ot) == PF_OK ? pf_folder_over_time_text(&ot) : NULL;
    if (txt) printf("%s\n", txt);
    else code = 1;
    free(txt);
    pf_folder_over_time_free(&ot);
  } else if (rc == PF_OK) {
    printf("model %s, threshold %g; %zu %s; thresholds for 1%% and 0.1%% FPR from its validation split "
           "(%g, %g)\n", m->version, m->threshold, rows, w.why, w.thr1, w.thr01);
    print_table(&d, m);
  }
  pf_drift_free(&d);
  pf_model_free(&m);
  return code;
}

int cmd_evaluate(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 'd'}, {"json", no_argument, 0, 'j'}, {"label-map", required_argument, 0, 'm'},
    {"help", no_argument, 0, 'h'}, {"by", required_argument, 0, 1}, {"since", required_argument, 0, 2},
    {"all", no_argument, 0, 3}, {"data", required_argument, 0, 4}, {"config", required_argument, 0, 5},
    {0, 0, 0, 0},
  };
  const char *dataset = NULL, *label_map = NULL, *by = NULL, *since = NULL, *data = NULL, *config = NULL;
  int json = 0, all = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
    if (c == 'd') dataset = optarg;
    else if (c == 'j') json = 1;
    else if (c == 'm') label_map = optarg;
    else if (c == 1) by = optarg;
    else if (c == 2) since = optarg;
    else if (c == 3) all = 1;
    else if (c == 4) data = optarg;
    else if (c == 5) config = optarg;
    else if (c == 'h') { usage(stdout); return 0; }
    else return usage_err_getopt("pefleet evaluate", opts, "d:jh", argc, argv);
  }
  if (optind >= argc) return usage_err("pefleet evaluate", "no MODEL_DIR given");
  if (optind + 1 < argc) return usage_err("pefleet evaluate", "one MODEL_DIR at a time (unexpected '%s')", argv[optind + 1]);
  if (!dataset && !by) return usage_err("pefleet evaluate", "--dataset FILE or --by week|month is needed");
  if (dataset && by) return usage_err("pefleet evaluate", "--dataset and --by do not go together");
  if (since && all) return usage_err("pefleet evaluate", "--since and --all do not go together");
  if ((since || all) && !by) return usage_err("pefleet evaluate", "--since and --all go with --by");
  if (by) return evaluate_by(argv[optind], by, since, all, json, data, config);
  return evaluate_csv(argv[optind], dataset, label_map, json);
}
