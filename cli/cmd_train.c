/* pefleet train: parses the options, loads a seed-layout CSV or the
 * fleet's Redis splits (lib/store/pf_trainset.h), trains the seed's network with pf_fit (lib/model/
 * pf_fit.h) on the CPU reference path or the GPU path (--device;
 * trainer/pf_train_gpu.h), and writes a model folder with the weights,
 * stats.json, history.json and, with --split time, over_time.json
 * (lib/eval/pf_evalout.h). */
#include "cmd.h"
#include "pf_explain.h"
#include "pf_clock.h"
#include "fleet.h"
#include "pf_dataset.h"
#include "pf_date.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_fit.h"
#include "pf_model.h"
#include "pf_registry.h"
#include "pf_split.h"
#include "pf_trainset.h"
#include "pf_train.h"
#include "pf_train_gpu.h"
#include "pf_evalout.h"
#include "out_path.h"
#include "usage_err.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet train [--dataset FILE | --data DIR | --config FILE] [-o MODEL_DIR] [options]\n\n"
    "Trains the seed's network (486-70-70-2, ReLU, dropout, softmax, Adam) and writes\n"
    "MODEL_DIR/model.pfnn, stats.json (train, validation, test figures), history.json,\n"
    "and for pefleet report/relevance roc.json, pca.json (test split) and dataset.json.\n"
    "Input: the fleet's train/validation/test splits in Redis (default), or a CSV in\n"
    "the seed's dataset.csv layout (--dataset; split 70/15/15 with --seed).\n\n"
    "options (defaults are the seed's):\n"
    "  -o, --output DIR      model folder (default ./model; created with its parents)\n"
    "      --force           replace a model already in DIR (else refused before training)\n"
    "      --label-map L=C,..  read CSV label L as class C (e.g. malicious-test=malicious)\n"
    "      --device D        auto|cpu|gpu (default auto)\n"
    "      --epochs N        at most N epochs (50)\n"
    "      --batch N         minibatch size (64)\n"
    "      --lr X            Adam learning rate (0.001); --beta1 0.9 --beta2 0.999 --eps 1e-7\n"
    "      --dropout X       dropout after each hidden layer (0.3)\n"
    "      --layers A,B,...  hidden layer sizes (70,70)\n"
    "      --patience N      early stopping on validation accuracy (5); --min-delta 1e-4\n"
    "      --seed N          initialisation, shuffling, dropout, CSV split (1)\n"
    "      --threads N       OpenBLAS threads (default 1: fastest for this small net)\n"
    "      --classes LIST    class names (\"clean,malicious\")\n"
    "      --threshold X     decision threshold on p(class 1) (0.5)\n"
    "      --dim N           feature width (486)\n"
    "      --split KIND      random (default: the fleet's splits by sha256, or --seed's\n"
    "                        shuffle of a CSV) or time (the fleet's samples by first-seen\n"
    "                        time: oldest 70%% train, next 15%% validation, newest 15%% test)\n"
    "      --test-since DATE with --split time: test on the samples first seen at or after\n"
    "                        DATE (YYYY-MM-DD[THH:MM:SSZ], UTC), train and validate (70:15)\n"
    "                        on the older ones\n"
    "  -q, --quiet           no per-epoch lines, no device or progress lines on stderr\n\n"
    "Prints one line per epoch, then the test split's figures and where the model went.\n"
    "Rows whose label is not a class are skipped and summarised in one line; a class\n"
    "with no row left is an error (nothing trained).\n\n"
    "exit status: 0 trained, 1 failure (no data, a class missing, I/O), 2 usage error\n\n"
    "example:\n"
    "  pefleet train --dataset dataset.csv -o models/seed-repro\n");
}

static int parse_double(const char *s, double *out, double lo, double hi) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

static int parse_layers(const char *s, uint32_t *sizes, uint32_t *n) {
  *n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > PF_MODEL_MAX_WIDTH || *n >= PF_MODEL_MAX_LAYERS - 1) return -1;
    sizes[(*n)++] = (uint32_t)v;
    if (*end == ',') p = end + 1;
    else if (*end == '\0') break;
    else return -1;
  }
  return *n >= 1 ? 0 : -1;
}

/* pf_fit's per-epoch call: one line on stdout unless quiet (ctx). */
static void print_epoch(void *ctx, int e, int epochs, double loss, double acc, double vloss, double vacc,
                        double secs) {
  if (!*(const int *)ctx)
    printf("epoch %3d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  %.3f s\n", e, epochs, loss, acc, vloss,
           vacc, secs);
  fflush(stdout);
}

/* retrain's child (PEFLEET_TRAIN_PARENT): the same weights registered
 * before keep that entry's parent, so the folder says what the registry
 * says (retrain tells, seeing a parent other than the one it gave). */
static void keep_registered_parent(const pf_config *cfg, pf_model *m) {
  pf_db *db = NULL;
  pf_model *old = NULL;
  char why[512];
  if (fleet_db(cfg, &db, why, sizeof why) != PF_OK) return;
  if (pf_registry_load(db, m->version, &old, why, sizeof why) == PF_OK) {
    snprintf(m->parent, sizeof m->parent, "%s", old->parent);
    pf_model_free(&old);
  }
  pf_db_free(&db);
}

int cmd_train(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 1}, {"data", required_argument, 0, 2}, {"config", required_argument, 0, 3},
    {"output", required_argument, 0, 'o'}, {"device", required_argument, 0, 4}, {"epochs", required_argument, 0, 5},
    {"batch", required_argument, 0, 6}, {"lr", required_argument, 0, 7}, {"beta1", required_argument, 0, 8},
    {"beta2", required_argument, 0, 9}, {"eps", required_argument, 0, 10}, {"dropout", required_argument, 0, 11},
    {"layers", required_argument, 0, 12}, {"patience", required_argument, 0, 13},
    {"min-delta", required_argument, 0, 14}, {"seed", required_argument, 0, 15},
    {"threads", required_argument, 0, 16}, {"classes", required_argument, 0, 17},
    {"threshold", required_argument, 0, 18}, {"dim", required_argument, 0, 19}, {"quiet", no_argument, 0, 'q'},
    {"force", no_argument, 0, 20}, {"label-map", required_argument, 0, 21},
    {"split", required_argument, 0, 22}, {"test-since", required_argument, 0, 23},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *dataset = NULL, *data = NULL, *config = NULL, *out = "./model", *device = "auto";
  const char *classes_s = "clean,malicious", *label_map = NULL;
  /* retrain runs this as its child: its usage errors name retrain */
  const char *prog = getenv("PEFLEET_TRAIN_AS") ? getenv("PEFLEET_TRAIN_AS") : "pefleet train";
  pf_train_opts to;
  pf_train_opts_default(&to);
  to.seed = 1;
  double epochs = 50, patience = 5, min_delta = 1e-4, threshold = 0.5, batch = 64, seed = 1, threads = 1, dim = 486;
  uint32_t hidden[PF_MODEL_MAX_LAYERS] = {70, 70}, nhidden = 2;
  int quiet = 0, force = 0, time_split = 0, c;
  long long test_since = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case 1: dataset = optarg; break;
    case 2: data = optarg; break;
    case 3: config = optarg; break;
    case 'o': out = optarg; break;
    case 4: device = optarg; bad = strcmp(device, "auto") && strcmp(device, "cpu") && strcmp(device, "gpu"); break;
    case 5: bad = parse_double(optarg, &epochs, 1, 100000) || epochs != floor(epochs); break;
    case 6: bad = parse_double(optarg, &batch, 1, 1 << 20) || batch != floor(batch); break;
    case 7: bad = parse_double(optarg, &to.lr, 1e-12, 10); break;
    case 8: bad = parse_double(optarg, &to.beta1, 0, 0.999999999); break;
    case 9: bad = parse_double(optarg, &to.beta2, 0, 0.999999999); break;
    case 10: bad = parse_double(optarg, &to.eps, 1e-20, 1); break;
    case 11: bad = parse_double(optarg, &to.dropout, 0, 0.95); break;
    case 12: bad = parse_layers(optarg, hidden, &nhidden); break;
    case 13: bad = parse_double(optarg, &patience, 1, 100000) || patience != floor(patience); break;
    case 14: bad = parse_double(optarg, &min_delta, 0, 1); break;
    case 15: bad = parse_double(optarg, &seed, 0, 9007199254740992.0) || seed != floor(seed); break;
    case 16: bad = parse_double(optarg, &threads, 1, 1024) || threads != floor(threads); break;
    case 17: classes_s = optarg; break;
    case 18: bad = parse_double(optarg, &threshold, 0, 1); break;
    case 19: bad = parse_double(optarg, &dim, 1, PF_MODEL_MAX_WIDTH) || dim != floor(dim); break;
    case 22: time_split = strcmp(optarg, "time") == 0; bad = !time_split && strcmp(optarg, "random") != 0; break;
    case 23: bad = pf_date_parse(optarg, strlen(optarg), &test_since) != PF_OK; break;
    case 'q': quiet = 1; break;
    case 20: force = 1; break;
    case 21: label_map = optarg; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt(prog, opts, "o:qh", argc, argv);
    }
    if (bad) {
      fprintf(stderr, "%s: bad value '%s' for --%s\n", prog, optarg, opts[c >= 1 && c <= 23 ? (c < 4 ? c - 1 : c <= 19 ? c : c + 1) : 0].name);
      return 2;
    }
  }
  if (optind < argc) return usage_err(prog, "unexpected argument '%s'", argv[optind]);
  if (test_since && !time_split) return usage_err(prog, "--test-since needs --split time");
  if (time_split && dataset)
    return usage_err(prog, "--split time needs the fleet's first-seen times (--data), not --dataset");
  pf_classes cls;
  if (pf_classes_parse(classes_s, &cls) != PF_OK) {
    fprintf(stderr, "pefleet train: --classes needs 2 to 16 comma-separated names\n");
    return 2;
  }
  char err[512];
  if (label_map && pf_classes_map(&cls, label_map, err, sizeof err) != PF_OK)
    return usage_err(prog, "--label-map: %s", err);
  if (getenv("PEFLEET_TRAIN_CHECK_ONLY")) return 0;
  /* what will be written is checked before any work */
  if (out_path_model_dir("pefleet train", out, force) != 0) return 1;
  to.batch = (uint32_t)batch;
  to.seed = (uint64_t)seed;
  to.threads = (int)threads;
  /* gpu: the GPU or exit 1; auto: the GPU when one answers, else the CPU */
  char why[256] = "";
  int use_gpu = strcmp(device, "cpu") != 0 && pf_gpu_available(why, sizeof why);
  if (strcmp(device, "gpu") == 0 && !use_gpu) {
    fprintf(stderr, "pefleet train: --device gpu: %s (use cpu)\n", why);
    return 1;
  }
  if (quiet)
    ;
  else if (use_gpu)
    fprintf(stderr, "pefleet train: device gpu (%s: %s)\n", strcmp(device, "auto") == 0 ? "auto" : "as asked", why);
  else if (strcmp(device, "auto") == 0)
    fprintf(stderr, "pefleet train: device cpu (auto: %s)\n", why);
  else
    fprintf(stderr, "pefleet train: device cpu (as asked)\n");

  /* ---- data ---- */
  pf_trainset ts;
  const pf_trainset_opts lo = {.dim = (size_t)dim, .cls = &cls, .seed = to.seed, .time_split = time_split,
                               .test_since = test_since};
  pf_config cfg;
  double t0 = pf_clock_s();
  if (dataset) {
    if (pf_trainset_load_csv(dataset, &lo, &ts, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet train: %s\n", err);
      return 1;
    }
  } else {
    int frc = fleet_resolve("pefleet train", data, config, &cfg);
    if (frc != 0) return frc;
    pf_db *db = NULL;
    if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet train: %s (use --dataset FILE to train from a CSV)\n", err);
      return 1;
    }
    int rc = pf_trainset_load_db(db, &lo, &ts, err, sizeof err);
    pf_db_free(&db);
    if (rc != PF_OK) { fprintf(stderr, "pefleet train: %s\n", err); return 1; }
    if (time_split) {
      char a[PF_DATE_LEN], b[PF_DATE_LEN];
      for (int s = 0; s < 3; s++)
        fprintf(stderr, "pefleet train: %s split: %zu rows first seen %s .. %s\n", pf_split_name(s), ts.r[s].n,
                pf_date_format(ts.r[s].first, a, sizeof a), pf_date_format(ts.r[s].last, b, sizeof b));
    }
  }
  const pf_dataset *tr = &ts.s[0].d, *va = &ts.s[1].d, *te = &ts.s[2].d;
  if (!quiet)
    fprintf(stderr, "pefleet train: %zu train, %zu validation, %zu test rows (%zu skipped) loaded in %.1f s\n", tr->n,
            va->n, te->n, ts.skipped, pf_clock_s() - t0);
  if (pf_trainset_check(&ts, &cls, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet train: %s\n", err);
    pf_trainset_free(&ts);
    return 1;
  }

  /* ---- the network, trained ---- */
  uint32_t sizes[PF_MODEL_MAX_LAYERS + 1];
  sizes[0] = (uint32_t)dim;
  for (uint32_t i = 0; i < nhidden; i++) sizes[i + 1] = hidden[i];
  sizes[nhidden + 1] = (uint32_t)cls.n;
  pf_model *m = NULL;
  if (pf_model_new(nhidden + 1, sizes, &m) != PF_OK) {
    fprintf(stderr, "pefleet train: cannot build the network\n");
    return 1;
  }
  for (int i = 0; i < cls.n; i++) snprintf(m->classes[i], sizeof m->classes[i], "%s", cls.names[i]);
  m->threshold = threshold;
  m->schema = (uint16_t)((size_t)dim == PF_ERGO486_DIM ? PF_ERGO486_SCHEMA_ID : 0);
  /* the explanations' baseline: the mean of the training split's first
   * class (clean), kept in the model file */
  float *mean = malloc((size_t)dim * sizeof *mean);
  char bname[PF_MODEL_NAME] = "";
  int have_mean = mean && pf_explain_class_mean(tr, 0, m->classes[0], "train", mean, bname, sizeof bname) == PF_OK;
  pf_fit_opts fo;
  pf_fit_opts_default(&fo);
  fo.train = to;
  fo.epochs = (int)epochs;
  fo.patience = (int)patience;
  fo.min_delta = min_delta;
  fo.baseline = have_mean ? mean : NULL;
  fo.baseline_name = bname;
  fo.parent = getenv("PEFLEET_TRAIN_PARENT"); /* retrain's child: the serving model */
  fo.on_epoch = print_epoch;
  fo.ctx = &quiet;
  pf_fit_rows trr = {tr->x, tr->y, tr->n}, var = {va->x, va->y, va->n};
  pf_fit_result fr;
  int rc = pf_fit(m, use_gpu ? &pf_fit_gpu : &pf_fit_cpu, &fo, &trr, &var, &fr, err, sizeof err);
  free(mean);
  if (rc != PF_OK) {
    pf_fit_history_free(&fr.history);
    int on_gpu = use_gpu && fr.failed_at == PF_FIT_AT_TRAINER; /* the GPU trainer's own reason */
    if (fr.failed_at != PF_FIT_AT_EPOCH)
      fprintf(stderr, "pefleet train: cannot build the network%s%s\n", on_gpu ? " on the GPU: " : "", on_gpu ? err : "");
    else if (use_gpu)
      fprintf(stderr, "pefleet train: epoch %d on the GPU: %s\n", fr.failed_epoch, err);
    else
      fprintf(stderr, "pefleet train: out of memory in epoch %d\n", fr.failed_epoch);
    return 1;
  }
  if (fr.stopped_early && !quiet)
    printf("early stop: validation accuracy did not improve by %g for %d epochs\n", min_delta, (int)patience);
  if (!have_mean && !quiet)
    fprintf(stderr, "pefleet train: no %s row in the training split: explanations will start from the zero vector\n",
            m->classes[0]);
  if (!quiet)
    fprintf(stderr, "pefleet train: keeping the weights of epoch %d (lowest validation loss %.4f)\n", fr.best_epoch,
            fr.best_loss);
  if (fo.parent && !dataset) keep_registered_parent(&cfg, m);

  /* ---- outputs ---- */
  if (mkdir(out, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet train: cannot create %s: %s\n", out, strerror(errno));
    return 1;
  }
  const pf_dataset *splits[3] = {tr, va, te};
  pf_folder_split_info split;
  pf_folder_split_info_of(&split, dataset != NULL, time_split, test_since, ts.r);
  rc = train_write_outputs(out, m, splits, &fr.history, &split, err, sizeof err);
  if (rc == PF_OK && time_split) /* the model's own test period, week by week, for the report */
    rc = pf_evalout_over_time(out, m, va, &ts.s[2], err, sizeof err);
  if (rc == PF_OK) rc = train_write_source(out, dataset, to.seed, err, sizeof err); /* for relevance */
  if (rc != PF_OK) { fprintf(stderr, "pefleet train: %s\n", err); return 1; }
  train_print_figures(stdout, "test", m, te);
  if (!getenv("PEFLEET_RETRAIN_CHILD")) printf("model written to %s\n", out); /* retrain names the final folder */
  pf_fit_history_free(&fr.history);
  pf_model_free(&m);
  pf_trainset_free(&ts);
  return 0;
}
