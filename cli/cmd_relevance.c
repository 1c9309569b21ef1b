/* pefleet relevance: how much a model's accuracy and ROC AUC drop when each
 * feature is nulled (the seed's `ergo relevance`), written as relevance.json
 * (most relevant first) for the report. Input: the test split of the CSV the
 * model folder records (dataset.json, rebuilt with the same seed), or
 * --dataset FILE; --ratio takes a seeded random share of it. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_clock.h"
#include "pf_dataset.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_model.h"
#include "pf_relevance.h"
#include "pf_evalout.h"
#include "pf_folder.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet relevance MODEL_DIR [--dataset FILE] [--ratio R] [-o FILE]\n\n"
    "For every feature, sets it to 0 in every row and measures how much the model's\n"
    "accuracy and ROC AUC drop; writes the features, most relevant first (largest\n"
    "accuracy drop, then AUC drop), with their names from the feature schema.\n"
    "Rows: the test split of the CSV the model was trained on (recorded in\n"
    "MODEL_DIR/dataset.json), or every row of --dataset FILE.\n\n"
    "options:\n"
    "      --dataset FILE  a seed-layout CSV instead of the recorded test split\n"
    "      --ratio R       use a random share R (0 < R <= 1) of the rows (1)\n"
    "      --seed N        the sample's seed for --ratio (1)\n"
    "  -o, --output FILE   where to write (MODEL_DIR/relevance.json)\n"
    "      --top N         features printed on stdout (10; 0 for none)\n"
    "      --exact         re-run the whole network per feature (the reference;\n"
    "                      default: update only the first layer of the touched rows)\n\n"
    "exit status: 0 written, 1 failure, 2 usage error\n");
}

/* The CSV and split seed the model folder records; PF_ENOENT when none. */
static int recorded_csv(const char *dir, char *path, size_t cap, uint64_t *seed, char *why, size_t whylen) {
  char p[4200];
  snprintf(p, sizeof p, "%s/dataset.json", dir);
  uint8_t *buf = NULL;
  size_t n = 0;
  int rc = pf_folder_read(dir, "dataset.json", &buf, &n, why, whylen);
  if (rc == PF_ENOENT) { snprintf(why, whylen, "no dataset.json in %s (%s)", dir, strerror(ENOENT)); return PF_ENOENT; }
  if (rc != PF_OK) return PF_ENOENT;
  pf_folder_source src;
  pf_folder_parse_source(buf, n, &src);
  free(buf);
  if (!src.present || strcmp(src.source, "csv") != 0)
    snprintf(why, whylen, "%s records no CSV (the model was trained from %s)", p,
             src.present ? src.source : "an unknown source");
  else if (!src.path[0] || !src.has_seed)
    snprintf(why, whylen, "%s lacks the CSV's path or seed", p);
  else {
    snprintf(path, cap, "%s", src.path);
    *seed = src.seed;
    return PF_OK;
  }
  return PF_ENOENT;
}

/* A seeded random share of d's rows (at least one), in their order. */
static int sample(const pf_dataset *d, double ratio, uint64_t seed, pf_dataset *out) {
  size_t want = (size_t)ceil(ratio * (double)d->n), left = d->n;
  if (want == 0) want = 1;
  double *row = malloc(d->dim * sizeof *row);
  if (!row) return PF_ENOMEM;
  out->dim = d->dim;
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  int rc = PF_OK;
  /* selection sampling: row i is taken with probability want/left */
  for (size_t i = 0; i < d->n && want && rc == PF_OK; i++, left--) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    if ((double)(s >> 11) / 9007199254740992.0 * (double)left < (double)want) {
      for (size_t j = 0; j < d->dim; j++) row[j] = d->x[i * d->dim + j];
      rc = pf_dataset_push(out, row, d->y[i]);
      want--;
    }
  }
  free(row);
  return rc;
}

static void feature_name(const pf_model *m, uint32_t j, char *buf, size_t cap) {
  if (m->schema == PF_ERGO486_SCHEMA_ID && m->sizes[0] == PF_ERGO486_DIM && pf_ergo486_name((int)j, buf, cap) == PF_OK)
    return;
  snprintf(buf, cap, "feature%u", j);
}

/* relevance.json at path through the folder module: the items in their
 * (sorted) order, named by the model's schema. */
static int write_json(const char *path, const pf_model *m, const char *source, size_t rows, double bacc, double bauc,
                      const pf_relevance_item *it, size_t n, char *err, size_t errlen) {
  pf_folder_relevance r;
  memset(&r, 0, sizeof r);
  r.f = calloc(n ? n : 1, sizeof *r.f);
  if (!r.f) { snprintf(err, errlen, "out of memory"); return PF_ENOMEM; }
  r.n = n;
  r.rows = rows;
  r.base_accuracy = bacc;
  r.base_auc = bauc;
  snprintf(r.model, sizeof r.model, "%s", m->version);
  snprintf(r.source, sizeof r.source, "%s", source);
  for (size_t i = 0; i < n; i++) {
    pf_folder_feature *f = &r.f[i];
    f->index = it[i].feature;
    feature_name(m, it[i].feature, f->name, sizeof f->name);
    f->d_accuracy = it[i].d_accuracy;
    f->d_auc = it[i].d_auc;
    f->accuracy = it[i].accuracy;
    f->roc_auc = it[i].roc_auc;
  }
  int rc = pf_folder_write_relevance(path, &r, err, errlen);
  pf_folder_relevance_free(&r);
  return rc;
}

int cmd_relevance(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, 0, 'd'}, {"ratio", required_argument, 0, 'r'}, {"seed", required_argument, 0, 's'},
    {"output", required_argument, 0, 'o'}, {"top", required_argument, 0, 't'}, {"exact", no_argument, 0, 'x'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *dataset = NULL, *out = NULL;
  double ratio = 1, seedd = 1, top = 10;
  int c, exact = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
    case 'd': dataset = optarg; break;
    case 'o': out = optarg; break;
    case 'r': ratio = strtod(optarg, &end); if (*end || !(ratio > 0 && ratio <= 1)) goto bad; break;
    case 's': seedd = strtod(optarg, &end); if (*end || !(seedd >= 0 && seedd < 1e18) || seedd != floor(seedd)) goto bad; break;
    case 't': top = strtod(optarg, &end); if (*end || !(top >= 0 && top <= 100000)) goto bad; break;
    case 'x': exact = 1; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet relevance", opts, "o:h", argc, argv);
    }
    continue;
  bad:
    fprintf(stderr, "pefleet relevance: bad value '%s'\n", optarg);
    return 2;
  }
  if (optind + 1 != argc)
    return usage_err("pefleet relevance", optind >= argc ? "no MODEL_DIR given%s" : "one MODEL_DIR at a time (unexpected '%s')",
                     optind >= argc ? "" : argv[optind + 1]);
  const char *dir = argv[optind];
  char err[4400], outbuf[4200], csv[4200], source[4400];
  pf_model *m = NULL;
  if (pf_model_load(dir, &m, err, sizeof err) != PF_OK) { fprintf(stderr, "pefleet relevance: %s\n", err); return 1; }
  if (pf_model_classes(m) != 2) {
    fprintf(stderr, "pefleet relevance: the model has %u classes; relevance needs two\n", pf_model_classes(m));
    pf_model_free(&m);
    return 1;
  }
  uint64_t split_seed = 0;
  if (!dataset) {
    if (recorded_csv(dir, csv, sizeof csv, &split_seed, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet relevance: %s; give --dataset FILE\n", err);
      pf_model_free(&m);
      return 2;
    }
  } else {
    snprintf(csv, sizeof csv, "%s", dataset);
  }
  pf_classes cls;
  pf_classes_of_model(m, &cls); /* two: checked above */
  pf_dataset all = {0}, tr = {0}, va = {0}, te = {0}, smp = {0}, *use = &all;
  size_t skipped = 0;
  double t0 = pf_clock_s();
  int rc = pf_dataset_load_csv(csv, m->sizes[0], &cls, &all, &skipped);
  if (rc != PF_OK) {
    fprintf(stderr, "pefleet relevance: cannot read %s: %s\n", csv, rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
    pf_model_free(&m);
    return 1;
  }
  if (!dataset) {
    rc = pf_dataset_split(&all, split_seed, &tr, &va, &te);
    use = &te;
    snprintf(source, sizeof source, "test split of %s (seed %llu)", csv, (unsigned long long)split_seed);
  } else {
    snprintf(source, sizeof source, "%s", csv);
  }
  if (rc == PF_OK && ratio < 1) {
    rc = sample(use, ratio, (uint64_t)seedd, &smp);
    use = &smp;
    size_t l = strlen(source);
    snprintf(source + l, sizeof source - l, ", %g of the rows (seed %.0f)", ratio, seedd);
  }
  pf_relevance_item *it = rc == PF_OK ? calloc(m->sizes[0], sizeof *it) : NULL;
  double bacc = 0, bauc = 0;
  if (rc == PF_OK && use->n == 0) {
    fprintf(stderr, "pefleet relevance: no rows to score in %s\n", source);
    rc = PF_EINVAL;
  } else if (rc == PF_OK && !it) {
    rc = PF_ENOMEM;
  }
  if (rc == PF_OK) rc = pf_relevance_compute(m, use->x, use->y, use->n, exact, &bacc, &bauc, it);
  if (rc == PF_OK) {
    pf_relevance_sort(it, m->sizes[0]);
    if (!out) { snprintf(outbuf, sizeof outbuf, "%s/relevance.json", dir); out = outbuf; }
    if (write_json(out, m, source, use->n, bacc, bauc, it, m->sizes[0], err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet relevance: %s\n", err);
      rc = PF_EIO;
    }
  } else if (rc != PF_EINVAL || use->n) {
    fprintf(stderr, "pefleet relevance: %s\n", pf_strerror(rc));
  }
  if (rc == PF_OK) {
    fprintf(stderr, "pefleet relevance: %zu rows (%s), %u features, %.1f s\n", use->n, source, m->sizes[0],
            pf_clock_s() - t0);
    printf("base accuracy %.4f, ROC AUC %.4f\n", bacc, bauc);
    for (size_t i = 0; i < (size_t)top && i < m->sizes[0]; i++) {
      char nm[128];
      feature_name(m, it[i].feature, nm, sizeof nm);
      printf("%3zu  %-32s  index %3u  accuracy drop %+.4f  AUC drop %+.4f\n", i + 1, nm, it[i].feature,
             it[i].d_accuracy, it[i].d_auc);
    }
    printf("written to %s\n", out);
  }
  free(it);
  pf_dataset_free(&all); pf_dataset_free(&tr); pf_dataset_free(&va); pf_dataset_free(&te); pf_dataset_free(&smp);
  pf_model_free(&m);
  return rc == PF_OK ? 0 : 1;
}
