/* pefleet retrain: trains a challenger on the fleet's current splits and
 * promotes it when it is at least as good as the model that serves.
 *
 * The training itself is `pefleet train` run as a child process (this same
 * binary): every train flag then works here unchanged without a second
 * option parser, the GPU path comes for free, and a training run that fails
 * or runs out of memory cannot leave this process half-done: it only sees
 * an exit status and a model folder. The comparison is done here, on the
 * test split read once from Redis before training, with both models scoring
 * the very same vectors. */
#include "cmd.h"
#include "fleet.h"
#include "model_info.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_metrics.h"
#include "pf_model.h"
#include "pf_registry.h"
#include "pf_split.h"

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
        o->pass[o->npass++] = argv[++i];
      } else if (strncmp(a, "--classes=", 10) == 0) o->classes = a + 10;
      else if (strncmp(a, "--dim=", 6) == 0) o->dim = a + 6;
    }
    continue;
  bad:
    fprintf(stderr, "pefleet retrain: bad value '%s' for %s\n", v, a);
    return EXIT_USAGE;
  }
  return -1;
}

/* ---- samples per class ---- */

typedef struct {
  const pf_classes *cls;
  long long n[16];
} class_count;

static int count_one(const pf_db_sample *s, void *arg) {
  class_count *c = arg;
  int k = s->has_vector ? pf_classes_index(c->cls, s->label) : -1;
  if (k >= 0) c->n[k]++;
  return 0;
}

/* Counts every split's samples per class; test's come from the loaded test
 * set. Returns PF_OK, or PF_EIO (reason printed). */
static int count_splits(pf_db *db, const pf_classes *cls, const pf_dataset *test, class_count cnt[3]) {
  for (int s = 0; s < 3; s++) {
    memset(&cnt[s], 0, sizeof cnt[s]);
    cnt[s].cls = cls;
  }
  for (int s = 0; s < 2; s++)
    if (pf_db_each(db, s, count_one, &cnt[s]) != PF_OK) {
      fprintf(stderr, "pefleet retrain: reading the %s split: %s\n", pf_split_name(s), pf_db_error(db));
      return PF_EIO;
    }
  for (size_t i = 0; i < test->n; i++)
    if (test->y[i] >= 0 && test->y[i] < 16) cnt[PF_SPLIT_TEST].n[test->y[i]]++;
  return PF_OK;
}

/* ---- the training child ---- */

/* check: only parse the options (PEFLEET_TRAIN_CHECK_ONLY), so a bad one
 * is a usage error before anything is read or trained. */
static int run_train(const retrain_opts *o, const char *outdir, int check) {
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

/* model.json's "parent": "..." becomes parent. */
static void set_model_json_parent(const char *dir, const char *parent) {
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/model.json", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strstr(buf, "\"parent\": \"");
  char *q = p ? strchr(p + strlen("\"parent\": \""), '"') : NULL; /* versions hold no quote */
  if (!p || !q || n == sizeof buf - 1) return;
  FILE *w = fopen(tmp, "w");
  if (!w) return;
  fprintf(w, "%.*s\"parent\": \"%s\"%s", (int)(p - buf), buf, parent, q + 1);
  int bad = fflush(w) != 0 || fsync(fileno(w)) != 0;
  bad |= fclose(w) != 0;
  if (bad || rename(tmp, path) != 0) unlink(tmp);
}

/* Trains into MODELS/.training-PID, sets the parent, and moves the folder
 * to MODELS/<version> (an identical earlier run's folder is kept). On
 * success *m is the challenger and final its folder. Returns 0 or the exit
 * code. */
static int train_challenger(const retrain_opts *o, const char *models, const char *parent, pf_model **m,
                            char *final, size_t finaln) {
  char tmp[1200], err[512];
  snprintf(tmp, sizeof tmp, "%s/.training-%d", models, (int)getpid());
  rm_tree(tmp);
  int rc = run_train(o, tmp, 0);
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
  snprintf((*m)->parent, sizeof (*m)->parent, "%s", parent);
  if (pf_model_save(*m, tmp) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot write %s/%s: %s\n", tmp, PF_MODEL_FILE, strerror(errno));
    rm_tree(tmp);
    return EXIT_FAIL;
  }
  set_model_json_parent(tmp, parent);
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
  return 0;
}

/* ---- comparison ---- */

static int score(const pf_model *m, const pf_dataset *d, pf_metrics *mt) {
  uint32_t k = pf_model_classes(m);
  float *probs = malloc((d->n ? d->n : 1) * k * sizeof *probs), *p1 = malloc((d->n ? d->n : 1) * sizeof *p1);
  int rc = probs && p1 ? pf_model_predict(m, d->x, d->n, probs) : PF_ENOMEM;
  if (rc == PF_OK) {
    for (size_t i = 0; i < d->n; i++) p1[i] = probs[i * k + 1];
    rc = pf_metrics_compute(p1, d->y, d->n, m->threshold, mt);
    if (rc > 0) rc = PF_OK;
  }
  free(probs);
  free(p1);
  return rc;
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

static int decide(const retrain_opts *o, pf_db *db, const pf_model *ch, const char *champ_v, const pf_model *champ,
                  const pf_dataset *test, long long samples) {
  pf_metrics mc, mk;
  if (ch->sizes[0] != test->dim || pf_model_classes(ch) != 2 || score(ch, test, &mc) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot score the challenger on the test split\n");
    return EXIT_FAIL;
  }
  printf("challenger %s (parent %s, %lld training samples): test ROC AUC %.4f, FPR %.4f at threshold %g (%zu rows)\n",
         ch->version, champ_v[0] ? champ_v : "none", samples, mc.roc_auc, mc.fpr, mc.threshold, test->n);
  int better = 1;
  if (champ) {
    if (champ->sizes[0] != test->dim || pf_model_classes(champ) != 2 || score(champ, test, &mk) != PF_OK) {
      printf("kept champion %s: it cannot be scored on this test split (input width %u, %u classes); "
             "promote by hand if the challenger should serve\n",
             champ_v, champ->sizes[0], pf_model_classes(champ));
      return EXIT_KEPT;
    }
    printf("champion   %s: test ROC AUC %.4f, FPR %.4f at threshold %g\n", champ_v, mk.roc_auc, mk.fpr,
           mk.threshold);
    if (strcmp(champ_v, ch->version) == 0) {
      printf("kept champion %s: the challenger has the same weights\n", champ_v);
      return EXIT_KEPT;
    }
    int auc_ok = mc.roc_auc >= mk.roc_auc - o->auc_tol, fpr_ok = mc.fpr <= mk.fpr + o->fpr_tol;
    if (!auc_ok || !fpr_ok) {
      printf("kept champion %s:", champ_v);
      if (!auc_ok)
        printf(" challenger's ROC AUC %.4f is below the champion's %.4f - tolerance %g;", mc.roc_auc, mk.roc_auc,
               o->auc_tol);
      if (!fpr_ok)
        printf(" challenger's FPR %.4f is above the champion's %.4f + tolerance %g;", mc.fpr, mk.fpr, o->fpr_tol);
      printf(" %s stays registered, not serving\n", ch->version);
      better = 0;
    }
  }
  if (!better) return EXIT_KEPT;
  if ((double)samples < o->min_samples) {
    printf("not promoted: %s was trained on %lld samples, below the floor of %.0f (--min-samples)%s%s\n",
           ch->version, samples, o->min_samples, champ ? "; kept champion " : "", champ ? champ_v : "");
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
  if ((rc = run_train(&o, "/nonexistent/.check", 1)) != 0) return rc == 2 ? EXIT_USAGE : EXIT_FAIL;
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
  /* the test split, read once: both models are scored on these vectors */
  pf_dataset test = {0};
  size_t skipped = 0;
  class_count cnt[3];
  pf_model *champ = NULL, *ch = NULL;
  char champ_v[PF_MODEL_NAME] = "", final[1300];
  if (pf_dataset_load_db(db, PF_SPLIT_TEST, (size_t)dim, &cls, &test, &skipped) != PF_OK) {
    fprintf(stderr, "pefleet retrain: reading the test split: %s\n", pf_db_error(db));
    rc = EXIT_FAIL;
    goto out;
  }
  if (count_splits(db, &cls, &test, cnt) != PF_OK) { rc = EXIT_FAIL; goto out; }
  int enough = 1;
  for (int c = 0; c < cls.n; c++)
    if (cnt[PF_SPLIT_TRAIN].n[c] < (long long)o.min_per_class || cnt[PF_SPLIT_VALIDATION].n[c] < 1 ||
        cnt[PF_SPLIT_TEST].n[c] < 1)
      enough = 0;
  if (!enough) {
    printf("refused: too few samples per class (train %s %lld, %s %lld; validation %lld/%lld; test %lld/%lld); "
           "need %.0f of each class in train and at least one in validation and test\n",
           cls.names[0], cnt[0].n[0], cls.names[1], cnt[0].n[1], cnt[1].n[0], cnt[1].n[1], cnt[2].n[0], cnt[2].n[1],
           o.min_per_class);
    rc = EXIT_TOO_FEW;
    goto out;
  }
  if ((rc = load_champion(db, champ_v, &champ)) != 0) goto out;
  if ((rc = train_challenger(&o, models, champ_v, &ch, final, sizeof final)) != 0) goto out;
  {
    /* the same weights registered before keep their entry (and its parent):
     * the folder says the same as the registry */
    pf_model *old = NULL;
    char why[512];
    if (pf_registry_load(db, ch->version, &old, why, sizeof why) == PF_OK) {
      if (strcmp(old->parent, ch->parent) != 0) {
        fprintf(stderr, "pefleet retrain: %s was registered before with parent %s; the same weights keep that entry\n",
                ch->version, old->parent[0] ? old->parent : "-");
        snprintf(ch->parent, sizeof ch->parent, "%s", old->parent);
        if (pf_model_save(ch, final) == PF_OK) set_model_json_parent(final, old->parent);
      }
      pf_model_free(&old);
    }
  }
  long long samples = model_info_samples(final);
  if (samples < 0) samples = cnt[PF_SPLIT_TRAIN].n[0] + cnt[PF_SPLIT_TRAIN].n[1];
  char version[PF_MODEL_NAME];
  if (pf_registry_register(db, final, samples, version, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet retrain: cannot register %s: %s\n", final, err);
    rc = EXIT_FAIL;
    goto out;
  }
  printf("model written to %s\nregistered %s in %s\n", final, version, final);
  rc = decide(&o, db, ch, champ_v, champ, &test, samples);
out:
  pf_model_free(&ch);
  pf_model_free(&champ);
  pf_dataset_free(&test);
  pf_db_free(&db);
  close(lock);
  return rc;
}
