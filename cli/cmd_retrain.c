/* pefleet retrain: trains a challenger on the fleet's current splits and
 * promotes it when it is at least as good as the model that serves.
 *
 * The training itself is `pefleet train` run as a child process (this same
 * binary): every train flag then works here unchanged without a second
 * option parser, the GPU path comes for free, and a training run that fails
 * or runs out of memory cannot leave this process half-done: it only sees
 * an exit status and a model folder, whose model already names the serving
 * model as its parent (PEFLEET_TRAIN_PARENT). The comparison is made on
 * the test split read once from Redis before training (lib/store/
 * pf_trainset.h), with both models scoring the very same vectors, by the
 * promotion gate (lib/eval/pf_gate.h). */
#include "cmd.h"
#include "fleet.h"
#include "model_info.h"
#include "pf_dataset.h"
#include "pf_date.h"
#include "pf_gate.h"
#include "pf_err.h"
#include "pf_model.h"
#include "pf_registry.h"
#include "pf_split.h"
#include "pf_trainset.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_PROMOTED = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TOO_FEW = 3, EXIT_KEPT = 4 };
#define MAX_PASS 128 /* train arguments passed through at most */

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet retrain [--data DIR | --config FILE] [--models DIR] [--min-per-class N]\n"
    "                       [--min-samples N] [--auc-tolerance T] [--fpr-tolerance T] [TRAIN OPTIONS]\n\n"
    "Trains a challenger on the fleet's current train/validation/test splits (with\n"
    "pefleet train; any of its options except -o and --dataset may follow), writes it\n"
    "to MODELS/<version>/ with the serving model as its parent, registers it, and scores\n"
    "it and the serving model (the champion) on the same current test split. The\n"
    "challenger is promoted (the scorers switch to it) when\n"
    "  its ROC AUC >= the champion's - auc_tolerance, and\n"
    "  its FPR at its threshold <= the champion's + fpr_tolerance,\n"
    "and it was trained on at least --min-samples samples; else the champion stays and\n"
    "the reason is printed. With no champion yet, the challenger is promoted when it\n"
    "passes the floors.\n\n"
    "The fresh window: the samples first seen after the training data of both models\n"
    "ended (stats.json \"split\".data_end; the champion's registration time when its\n"
    "stats do not say), which neither model learned from. When it holds both classes,\n"
    "the challenger must also reach the champion's ROC AUC - auc_tolerance there.\n"
    "With --split time (a train option) the test split is the newest 15%% by first-seen\n"
    "time (or from --test-since). The decision, its reason and both models' figures on\n"
    "the test split and the fresh window are kept in the challenger's registry entry\n"
    "(pefleet models shows them).\n\n"
    "options:\n"
    "      --models DIR        where model folders go (default DATA/models)\n"
    "      --min-per-class N   refuse to train unless each class has N training samples\n"
    "                          and validation and test hold each class (default 50)\n"
    "      --min-samples N     never promote a model trained on fewer samples (default 100)\n"
    "      --auc-tolerance T   ROC AUC the challenger may lose (default 0)\n"
    "      --fpr-tolerance T   FPR the challenger may gain (default 0)\n"
    "      --data DIR, --config FILE   the fleet (as for every command)\n\n"
    "exit status: 0 promoted, 1 failure (Redis, training, I/O), 2 usage error,\n"
    "             3 refused: too few samples per class (nothing trained),\n"
    "             4 trained and registered but not promoted (champion kept)\n\n"
    "example (nightly, from cron):\n"
    "  pefleet retrain --data /srv/pefleet --auc-tolerance 0.002 -q\n");
}

typedef struct {
  const char *data, *config, *models;
  double min_per_class, min_samples, auc_tol, fpr_tol;
  const char *classes, *dim;
  int time_split;
  long long test_since;
  int npass;
  char *pass[MAX_PASS];
} retrain_opts;

static int parse_num(const char *s, double *out, double lo, double hi) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value (advancing *i), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) { *missing = 1; return NULL; }
  return argv[++*i];
}

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, retrain_opts *o) {
  memset(o, 0, sizeof *o);
  o->min_per_class = 50;
  o->min_samples = 100;
  o->classes = "clean,malicious";
  o->dim = "486";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    int missing = 0;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout); return 0; }
    if ((v = opt_value(argc, argv, &i, "--data", &missing))) o->data = v;
    else if ((v = opt_value(argc, argv, &i, "--config", &missing))) o->config = v;
    else if ((v = opt_value(argc, argv, &i, "--models", &missing))) o->models = v;
    else if ((v = opt_value(argc, argv, &i, "--min-per-class", &missing))) {
      if (parse_num(v, &o->min_per_class, 1, 1e12) || o->min_per_class != floor(o->min_per_class)) goto bad;
    } else if ((v = opt_value(argc, argv, &i, "--min-samples", &missing))) {
      if (parse_num(v, &o->min_samples, 0, 1e15) || o->min_samples != floor(o->min_samples)) goto bad;
    } else if ((v = opt_value(argc, argv, &i, "--auc-tolerance", &missing))) {
      if (parse_num(v, &o->auc_tol, 0, 1)) goto bad;
    } else if ((v = opt_value(argc, argv, &i, "--fpr-tolerance", &missing))) {
      if (parse_num(v, &o->fpr_tol, 0, 1)) goto bad;
    } else if (missing) {
      fprintf(stderr, "pefleet retrain: %s needs a value\n", a);
      return EXIT_USAGE;
    } else if (strncmp(a, "-o", 2) == 0 || strncmp(a, "--output", 8) == 0 ||
               strncmp(a, "--dataset", 9) == 0) {
      fprintf(stderr, "pefleet retrain: %s is retrain's to choose (see --models)\n", a);
      return EXIT_USAGE;
    } else {
      /* a train option: passed on as it is, its value with it */
      if (o->npass + 2 > MAX_PASS) { fprintf(stderr, "pefleet retrain: too many arguments\n"); return EXIT_USAGE; }
      o->pass[o->npass++] = argv[i];
      if (a[0] == '-' && !strchr(a, '=') && i + 1 < argc && argv[i + 1][0] != '-' && strcmp(a, "-q") != 0 &&
          strcmp(a, "--quiet") != 0) {
        if (strcmp(a, "--classes") == 0) o->classes = argv[i + 1];
        if (strcmp(a, "--dim") == 0) o->dim = argv[i + 1];
        if (strcmp(a, "--split") == 0) o->time_split = strcmp(argv[i + 1], "time") == 0;
        if (strcmp(a, "--test-since") == 0 && pf_date_parse(argv[i + 1], strlen(argv[i + 1]), &o->test_since) != PF_OK) {
          fprintf(stderr, "pefleet retrain: bad value '%s' for --test-since\n", argv[i + 1]);
          return EXIT_USAGE;
        }
        o->pass[o->npass++] = argv[++i];
      } else if (strncmp(a, "--classes=", 10) == 0) o->classes = a + 10;
      else if (strcmp(a, "--split=time") == 0) o->time_split = 1;
      else if (strncmp(a, "--test-since=", 13) == 0 && pf_date_parse(a + 13, strlen(a + 13), &o->test_since) != PF_OK) {
        fprintf(stderr, "pefleet retrain: bad value '%s' for --test-since\n", a + 13);
        return EXIT_USAGE;
      }
      else if (strncmp(a, "--dim=", 6) == 0) o->dim = a + 6;
    }
    continue;
  bad:
    fprintf(stderr, "pefleet retrain: bad value '%s' for %s\n", v, a);
    return EXIT_USAGE;
  }
  return -1;
}

/* ---- the training child ---- */

/* check: only parse the options (PEFLEET_TRAIN_CHECK_ONLY), so a bad one
 * is a usage error before anything is read or trained. parent: the
 * version the challenger is trained from (PEFLEET_TRAIN_PARENT: train sets
 * it on the model before writing it; the same weights registered before
 * keep that entry's parent). */
static int run_train(const retrain_opts *o, const char *outdir, int check, const char *parent) {
  char self[1024];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) { fprintf(stderr, "pefleet retrain: cannot find the pefleet binary: %s\n", strerror(errno)); return -1; }
  self[k] = '\0';
  char *av[MAX_PASS + 10];
  int n = 0;
  av[n++] = "pefleet";
  av[n++] = "train";
  if (o->data) { av[n++] = "--data"; av[n++] = (char *)o->data; }
  if (o->config) { av[n++] = "--config"; av[n++] = (char *)o->config; }
  av[n++] = "-o";
  av[n++] = (char *)outdir;
  for (int i = 0; i < o->npass; i++) av[n++] = o->pass[i];
  av[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) { fprintf(stderr, "pefleet retrain: fork: %s\n", strerror(errno)); return -1; }
  if (pid == 0) {
    setenv("PEFLEET_RETRAIN_CHILD", "1", 1); /* no "model written to" a temporary folder */
    setenv("PEFLEET_TRAIN_AS", "pefleet retrain", 1);
    if (check) setenv("PEFLEET_TRAIN_CHECK_ONLY", "1", 1);
    if (parent) setenv("PEFLEET_TRAIN_PARENT", parent, 1);
    execv(self, av);
    fprintf(stderr, "pefleet retrain: cannot run %s: %s\n", self, strerror(errno));
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  return remove(path);
}

static void rm_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Trains into MODELS/.training-PID with parent as the parent and moves
 * the folder to MODELS/<version> (an identical earlier run's folder is
 * kept). On success *m is the challenger and final its folder. Returns 0
 * or the exit code. */
static int train_challenger(const retrain_opts *o, const char *models, const char *parent, pf_model **m,
                            char *final, size_t finaln) {
  char tmp[1200], err[512];
  snprintf(tmp, sizeof tmp, "%s/.training-%d", models, (int)getpid());
  rm_tree(tmp);
  int rc = run_train(o, tmp, 0, parent);
  if (rc != 0) {
    fprintf(stderr, "pefleet retrain: training failed (pefleet train exited %d); the champion stays\n", rc);
    rm_tree(tmp);
    return EXIT_FAIL;
  }
  if (pf_model_load(tmp, m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: the trained model does not load: %s\n", err);
    rm_tree(tmp);
    return EXIT_FAIL;
  }
  snprintf(final, finaln, "%s/%s", models, (*m)->version);
  if (rename(tmp, final) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) {
      fprintf(stderr, "pefleet retrain: cannot move %s to %s: %s\n", tmp, final, strerror(errno));
      rm_tree(tmp);
      return EXIT_FAIL;
    }
    fprintf(stderr, "pefleet retrain: %s already exists (the same weights were trained before); keeping it\n", final);
    rm_tree(tmp);
  }
  if (strcmp((*m)->parent, parent) != 0) /* train kept the registered entry's parent */
    fprintf(stderr, "pefleet retrain: %s was registered before with parent %s; the same weights keep that entry\n",
            (*m)->version, (*m)->parent[0] ? (*m)->parent : "-");
  return 0;
}

/* Loads the champion (NULL when none); returns 0 or the exit code. */
static int load_champion(pf_db *db, char *version, pf_model **champ) {
  *champ = NULL;
  char err[512];
  int rc = pf_registry_current(db, version);
  if (rc == PF_ENOENT) { version[0] = '\0'; return 0; }
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot read the current model: %s\n",
            rc == PF_EIO ? pf_db_error(db) : "pf:model:current is not a version");
    return EXIT_FAIL;
  }
  if (pf_registry_load(db, version, champ, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot load the champion: %s\n", err);
    return EXIT_FAIL;
  }
  return 0;
}

/* The verdict (lib/eval/pf_gate.h): prints it, records it in the
 * challenger's registry entry, promotes when it passes. fresh: the samples
 * first seen after both models' training data ended (after: that time). */
static int decide(const retrain_opts *o, pf_db *db, const pf_model *ch, const char *champ_v, const pf_model *champ,
                  const pf_dataset *test, const pf_dataset *fresh, long long after, long long samples) {
  pf_gate_opts go = {o->min_samples, o->auc_tol, o->fpr_tol};
  pf_gate_verdict v;
  if (pf_gate_judge(&go, ch, champ_v, champ, test, fresh, after, samples, &v) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot score the challenger on the test split\n");
    return EXIT_FAIL;
  }
  printf("challenger %s (parent %s, %lld training samples): test ROC AUC %.4f, FPR %.4f at threshold %g (%zu rows)\n",
         ch->version, champ_v[0] ? champ_v : "none", samples, v.tc.auc, v.tc.fpr, ch->threshold, test->n);
  if (champ && v.tk.ok) {
    printf("champion   %s: test ROC AUC %.4f, FPR %.4f at threshold %g\n", champ_v, v.tk.auc, v.tk.fpr,
           champ->threshold);
    if (v.fresh_used)
      printf("fresh window (first seen after %s, %zu rows): challenger ROC AUC %.4f, TPR %.4f at 1%% FPR; "
             "champion ROC AUC %.4f, TPR %.4f at 1%% FPR\n", v.day, fresh->n, v.fc.auc, v.fc.tpr1, v.fk.auc,
             v.fk.tpr1);
    else
      printf("fresh window (first seen after %s): %zu rows, not both classes: judged on the test split only\n", v.day,
             fresh->n);
  }
  char *txt = pf_gate_json(&v, champ_v, champ != NULL, test->n, fresh->n, after, (long long)time(NULL));
  if (!txt || pf_registry_set_gate(db, ch->version, txt) != PF_OK)
    fprintf(stderr, "pefleet retrain: cannot record the verdict in the registry: %s\n", txt ? pf_db_error(db) : "out of memory");
  free(txt);
  if (v.decision == PF_GATE_FLOOR) {
    printf("not promoted: %s%s%s\n", v.why, champ ? "; kept champion " : "", champ ? champ_v : "");
    return EXIT_KEPT;
  }
  if (v.decision == PF_GATE_KEEP) {
    printf("kept champion %s: %s; %s stays registered, not serving\n", champ_v, v.why, ch->version);
    return EXIT_KEPT;
  }
  char err[512];
  if (pf_registry_promote(db, ch->version, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot promote %s: %s\n", ch->version, err);
    return EXIT_FAIL;
  }
  printf("promoted %s%s%s\n", ch->version, champ ? ", replacing " : " (first model)", champ ? champ_v : "");
  return EXIT_PROMOTED;
}

int cmd_retrain(int argc, char **argv) {
  retrain_opts o;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  pf_classes cls;
  double dim;
  if (pf_classes_parse(o.classes, &cls) != PF_OK || cls.n != 2) {
    fprintf(stderr, "pefleet retrain: --classes needs 2 comma-separated names\n");
    return EXIT_USAGE;
  }
  if (parse_num(o.dim, &dim, 1, PF_MODEL_MAX_WIDTH) || dim != floor(dim)) {
    fprintf(stderr, "pefleet retrain: bad value '%s' for --dim\n", o.dim);
    return EXIT_USAGE;
  }
  /* train's options, checked by train itself before anything is read */
  if ((rc = run_train(&o, "/nonexistent/.check", 1, NULL)) != 0) return rc == 2 ? EXIT_USAGE : EXIT_FAIL;
  pf_config cfg;
  char err[512];
  int frc = fleet_resolve("pefleet retrain", o.data, o.config, &cfg);
  if (frc != 0) return frc == 2 ? EXIT_USAGE : 1;
  char models[1100];
  snprintf(models, sizeof models, "%s", o.models ? o.models : cfg.data);
  if (!o.models) strncat(models, "/models", sizeof models - strlen(models) - 1);
  if (mkdir(models, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet retrain: cannot create %s: %s\n", models, strerror(errno));
    return EXIT_FAIL;
  }
  /* one retrain per models folder at a time (a slow nightly run and the
   * next one must not both promote); the lock goes with the process */
  int lock = open(models, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "pefleet retrain: %s: %s\n", models,
            lock >= 0 && errno == EWOULDBLOCK ? "another retrain is running on this folder; nothing done"
                                              : strerror(errno));
    if (lock >= 0) close(lock);
    return EXIT_FAIL;
  }
  pf_db *db = NULL;
  if (fleet_db(&cfg, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: %s\n", err);
    close(lock);
    return EXIT_FAIL;
  }
  /* the fleet's samples, read once: the splits train will make of them
   * (the same rule: by sha256, or by first-seen time with --split time),
   * and both models are scored on the very same test vectors */
  pf_trainset ts; /* keep_all: the fresh window is taken from every sample */
  const pf_trainset_opts lo = {.dim = (size_t)dim, .cls = &cls, .time_split = o.time_split,
                               .test_since = o.test_since, .keep_all = 1};
  pf_timed fresh;
  memset(&fresh, 0, sizeof fresh);
  pf_time_range fr;
  pf_model *champ = NULL, *ch = NULL;
  char champ_v[PF_MODEL_NAME] = "", final[1300];
  if ((rc = pf_trainset_load_db(db, &lo, &ts, err, sizeof err)) != PF_OK) {
    fprintf(stderr, "pefleet retrain: %s\n", err);
    rc = EXIT_FAIL;
    goto out;
  }
  pf_trainset_drop(&ts, PF_SPLIT_TRAIN); /* only the test split is scored here (and the fresh window) */
  pf_trainset_drop(&ts, PF_SPLIT_VALIDATION);
  const long long (*cnt)[PF_TRAINSET_CLASSES] = ts.count;
  if (!pf_gate_enough(&ts, cls.n, o.min_per_class)) {
    printf("refused: too few samples per class (train %s %lld, %s %lld; validation %lld/%lld; test %lld/%lld); "
           "need %.0f of each class in train and at least one in validation and test\n",
           cls.names[0], cnt[0][0], cls.names[1], cnt[0][1], cnt[1][0], cnt[1][1], cnt[2][0], cnt[2][1],
           o.min_per_class);
    rc = EXIT_TOO_FEW;
    goto out;
  }
  if ((rc = load_champion(db, champ_v, &champ)) != 0) goto out;
  if ((rc = train_challenger(&o, models, champ_v, &ch, final, sizeof final)) != 0) goto out;
  long long samples = model_info_samples(final);
  if (samples < 0) samples = cnt[PF_SPLIT_TRAIN][0] + cnt[PF_SPLIT_TRAIN][1];
  char version[PF_MODEL_NAME];
  if (pf_registry_register(db, final, samples, version, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot register %s: %s\n", final, err);
    rc = EXIT_FAIL;
    goto out;
  }
  printf("model written to %s\nregistered %s in %s\n", final, version, final);
  {
    long long after = pf_gate_fresh_after(db, champ ? champ_v : NULL, final);
    if (champ && pf_timed_window(&ts.all, after, 0, &fresh, &fr) != PF_OK) {
      fprintf(stderr, "pefleet retrain: out of memory\n");
      rc = EXIT_FAIL;
      goto out;
    }
    rc = decide(&o, db, ch, champ_v, champ, &ts.s[PF_SPLIT_TEST].d, &fresh.d, after, samples);
  }
out:
  pf_model_free(&ch);
  pf_model_free(&champ);
  pf_trainset_free(&ts);
  pf_timed_free(&fresh);
  pf_db_free(&db);
  close(lock);
  return rc;
}
