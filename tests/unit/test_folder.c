/* Unit tests of lib/eval/pf_folder (and the pf_evalout writers that fill
 * it): a training run's folder written and read back equals the structs
 * computed in memory (what report --dataset draws), the parent set on the
 * model reaches model.json, every truncation of every file is refused,
 * wrong types and oversized arrays are refused or capped, and nothing
 * leaks (make sanitize). */
#include "pf_test.h"

#include "pf_err.h"
#include "pf_evalout.h"
#include "pf_folder.h"
#include "pf_metrics.h"
#include "pf_score.h"

#include <math.h>

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* n rows of dim 4 whose class follows feature 0, with noise */
static void make_rows(pf_dataset *d, size_t n, unsigned seed) {
  memset(d, 0, sizeof *d);
  d->n = d->cap = n;
  d->dim = 4;
  d->x = malloc(n * 4 * sizeof *d->x);
  d->y = malloc(n * sizeof *d->y);
  assert_non_null(d->x);
  assert_non_null(d->y);
  srand(seed);
  for (size_t i = 0; i < n; i++) {
    d->y[i] = (int32_t)(i % 2);
    for (int k = 0; k < 4; k++) d->x[i * 4 + k] = (float)rand() / (float)RAND_MAX;
    d->x[i * 4] += d->y[i] ? 0.4f : 0.0f;
  }
}

static pf_model *make_model(void) {
  static const uint32_t sizes[3] = {4, 3, 2};
  pf_model *m = NULL;
  assert_int_equal(pf_model_new(2, sizes, &m), PF_OK);
  for (uint32_t l = 0; l < m->n_layers; l++) {
    for (uint32_t i = 0; i < m->sizes[l] * m->sizes[l + 1]; i++) m->w[l][i] = (float)((i * 7 + l) % 11) / 5.0f - 1.0f;
    for (uint32_t i = 0; i < m->sizes[l + 1]; i++) m->b[l][i] = 0.01f * (float)i;
  }
  snprintf(m->classes[0], sizeof m->classes[0], "clean");
  snprintf(m->classes[1], sizeof m->classes[1], "mal\"icious");
  snprintf(m->version, sizeof m->version, "v2");
  snprintf(m->parent, sizeof m->parent, "v1\\\"parent"); /* escaped on the way out, whole on the way in */
  return m;
}

static void split_equal(const pf_folder_split *a, const pf_folder_split *b) {
  assert_int_equal(a->present, b->present);
  assert_true(same(a->n, b->n));
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 2; c++) assert_true(same(a->cm[r][c], b->cm[r][c]));
  assert_true(same(a->accuracy, b->accuracy) && same(a->roc_auc, b->roc_auc));
  assert_true(same(a->threshold, b->threshold) && same(a->fpr, b->fpr));
  for (int c = 0; c < 2; c++) {
    assert_string_equal(a->classes[c], b->classes[c]);
    assert_true(same(a->precision[c], b->precision[c]) && same(a->recall[c], b->recall[c]));
    assert_true(same(a->f1[c], b->f1[c]) && same(a->support[c], b->support[c]));
  }
  assert_true(same(a->tpr01, b->tpr01) && same(a->thr01, b->thr01));
  assert_true(same(a->tpr001, b->tpr001) && same(a->thr001, b->thr001));
  assert_int_equal(a->ops_thr, b->ops_thr);
  assert_true(same(a->op_thr[0], b->op_thr[0]) && same(a->op_thr[1], b->op_thr[1]));
}

static void test_round_trip(void **state) {
  char dir[64];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder"), 0);
  pf_model *m = make_model();
  pf_dataset d[3];
  make_rows(&d[0], 300, 1);
  make_rows(&d[1], 60, 2);
  make_rows(&d[2], 80, 3);
  const pf_dataset *splits[3] = {&d[0], &d[1], &d[2]};
  pf_fit_history h;
  assert_int_equal(pf_fit_history_init(&h, 3), PF_OK);
  pf_fit_history_add(&h, 0.7, 0.5, 0.69, 0.51, 0.01);
  pf_fit_history_add(&h, 0.5, 0.75, 0.55, 0.7, 0.02);
  char err[512];
  const pf_time_range ranges[3] = {{300, 1769000000, 1769904000}, {60, 1769100000, 1769800000}, {80, 1769904000, 1770000000}};
  pf_folder_split_info split;
  pf_folder_split_info_of(&split, 0, 0, 0, ranges);
  assert_int_equal(train_write_outputs(dir, m, splits, &h, &split, err, sizeof err), PF_OK);
  assert_int_equal(train_write_source(dir, NULL, 0, err, sizeof err), PF_OK);
  pf_folder f;
  pf_folder_load(dir, &f);
  /* model.json: the model's own fields, the parent included */
  assert_true(f.meta.present);
  assert_string_equal(f.meta.version, "v2");
  assert_string_equal(f.meta.parent, "v1\\\"parent");
  assert_int_equal(f.meta.n_sizes, 3);
  assert_int_equal(f.meta.sizes[2], 2);
  assert_int_equal(f.meta.n_classes, 2);
  assert_string_equal(f.meta.classes[1], "mal\"icious");
  assert_true(f.meta.threshold == 0.5);
  assert_true(f.meta.rows[0] == 300 && f.meta.rows[1] == 60 && f.meta.rows[2] == 80);
  /* stats.json: each split as computed in memory */
  assert_true(f.stats.present);
  const char *names[2] = {m->classes[0], m->classes[1]};
  for (int s = 0; s < 3; s++) {
    pf_metrics mt;
    pf_folder_split want;
    assert_int_equal(pf_score_metrics(m, &d[s], m->threshold, &mt), PF_OK);
    pf_evalout_split(&mt, names, &want);
    split_equal(&f.stats.s[s], &want);
  }
  assert_true(f.stats.has_data_end && f.stats.data_end == 1769904000);
  /* history.json */
  assert_true(f.history.present);
  assert_int_equal(f.history.n, 2);
  assert_true(f.history.loss[1] == 0.5 && f.history.val_acc[0] == 0.51 && f.history.seconds[1] == 0.02);
  /* roc.json and pca.json: what the report computes for --dataset */
  pf_folder_roc roc;
  pf_folder_pca pca;
  assert_int_equal(pf_evalout_roc(m, &d[2], "test", &roc), PF_OK);
  assert_int_equal(pf_evalout_pca(m, &d[2], "test", &pca), PF_OK);
  assert_true(f.roc.present && roc.present);
  assert_int_equal(f.roc.n, roc.n);
  assert_true(f.roc.rows == 80 && f.roc.positives == 40 && f.roc.negatives == 40);
  assert_int_equal(f.roc.points_total, roc.points_total);
  assert_true(same(f.roc.roc_auc, roc.roc_auc));
  for (size_t i = 0; i < roc.n; i++) {
    assert_true(f.roc.fpr[i] == roc.fpr[i] && f.roc.tpr[i] == roc.tpr[i]);
    assert_true(f.roc.threshold[i] == roc.threshold[i]);
  }
  assert_true(isinf(f.roc.threshold[0]));
  assert_int_equal(f.roc.nop, 3);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(f.roc.op[i].name, roc.op[i].name);
    assert_true(same(f.roc.op[i].threshold, roc.op[i].threshold) && same(f.roc.op[i].tpr, roc.op[i].tpr));
  }
  assert_true(f.pca.present && pca.present);
  assert_int_equal(f.pca.n, 80);
  assert_int_equal(f.pca.k, pca.k);
  assert_true(f.pca.rows == 80 && f.pca.fit_rows == 80 && f.pca.points_total == 80);
  assert_string_equal(f.pca.classes[1], "mal\"icious");
  for (size_t i = 0; i < pca.k; i++) assert_true(f.pca.ratio[i] == pca.ratio[i]);
  for (size_t i = 0; i < pca.n; i++) {
    assert_true(f.pca.pc1[i] == pca.pc1[i] && f.pca.pc2[i] == pca.pc2[i]);
    assert_int_equal(f.pca.label[i], pca.label[i]);
  }
  /* dataset.json */
  assert_true(f.source.present);
  assert_string_equal(f.source.source, "redis");
  /* no relevance.json or over_time.json: each says why */
  assert_false(f.relevance.present);
  assert_string_equal(f.relevance.why, "no relevance.json in the model folder");
  assert_false(f.over_time.exists);
  pf_folder_roc_free(&roc);
  pf_folder_pca_free(&pca);
  pf_folder_free(&f);
  pf_fit_history_free(&h);
  for (int s = 0; s < 3; s++) pf_dataset_free(&d[s]);
  pf_model_free(&m);
  pf_test_rmtree(dir);
}

static void test_source_csv(void **state) {
  char dir[64], err[256];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder-src"), 0);
  assert_int_equal(train_write_source(dir, "/nonexistent/ds \"1\".csv", 9007199254740992ull, err, sizeof err), PF_OK);
  pf_folder_source s;
  assert_int_equal(pf_folder_load_source(dir, &s), PF_OK);
  assert_string_equal(s.source, "csv");
  assert_string_equal(s.path, "/nonexistent/ds \"1\".csv");
  assert_true(s.has_seed && s.seed == 9007199254740992ull); /* 2^53: exact in a JSON number */
  assert_string_equal(s.split, "70/15/15");
  pf_test_rmtree(dir);
}

static void test_relevance(void **state) {
  char dir[64], path[96], err[256];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder-rel"), 0);
  pf_folder_feature f[2] = {{.index = 200, .name = "byte(7d)", .d_accuracy = 0.25, .d_auc = 0.125, .accuracy = 0.5,
                             .roc_auc = 0.625},
                            {.index = 3, .name = "a\"b", .d_accuracy = -0.0, .d_auc = NAN, .accuracy = 0.75,
                             .roc_auc = NAN}};
  pf_folder_relevance r = {.n = 2, .rows = 450, .base_accuracy = 0.75, .base_auc = 0.75, .f = f};
  snprintf(r.model, sizeof r.model, "v1");
  snprintf(r.source, sizeof r.source, "test split of /x.csv (seed 5)");
  snprintf(path, sizeof path, "%s/rel.json", dir);
  assert_int_equal(pf_folder_write_relevance(path, &r, err, sizeof err), PF_OK);
  size_t len = 0;
  uint8_t *buf = pf_test_read(path, &len);
  assert_non_null(buf);
  pf_folder_relevance back;
  assert_int_equal(pf_folder_parse_relevance(buf, len, &back), PF_OK);
  assert_int_equal(back.n, 2);
  assert_int_equal(back.rows, 450);
  assert_string_equal(back.model, "v1");
  assert_string_equal(back.source, r.source);
  assert_true(back.base_accuracy == 0.75 && back.base_auc == 0.75);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(back.f[i].index, f[i].index);
    assert_string_equal(back.f[i].name, f[i].name);
    assert_true(same(back.f[i].d_accuracy, f[i].d_accuracy) && same(back.f[i].d_auc, f[i].d_auc));
    assert_true(same(back.f[i].accuracy, f[i].accuracy));
  }
  assert_true(isnan(back.f[1].roc_auc)); /* written as null */
  pf_folder_relevance_free(&back);
  free(buf);
  pf_test_rmtree(dir);
}

/* every proper prefix of every written file is refused, without a leak */
static void test_truncations(void **state) {
  char dir[64], err[512], path[128];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder-cut"), 0);
  pf_model *m = make_model();
  pf_dataset d;
  make_rows(&d, 40, 4);
  const pf_dataset *splits[3] = {&d, &d, &d};
  pf_fit_history h;
  assert_int_equal(pf_fit_history_init(&h, 2), PF_OK);
  pf_fit_history_add(&h, 0.7, 0.5, 0.69, 0.51, 0.01);
  assert_int_equal(train_write_outputs(dir, m, splits, &h, NULL, err, sizeof err), PF_OK);
  assert_int_equal(train_write_source(dir, "/x.csv", 5, err, sizeof err), PF_OK);
  static const char *const files[6] = {"model.json", "stats.json", "history.json", "roc.json", "pca.json", "dataset.json"};
  for (int i = 0; i < 6; i++) {
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    uint8_t *buf = pf_test_read(path, &len);
    assert_non_null(buf);
    for (size_t k = 0; k <= len; k++) {
      int want = k >= len - 1 ? PF_OK : PF_EINVAL; /* the whole file, with or without its newline */
      pf_folder_meta me;
      pf_folder_stats st;
      pf_folder_history hi;
      pf_folder_roc ro;
      pf_folder_pca pc;
      pf_folder_source so;
      int rc;
      switch (i) {
      case 0: rc = pf_folder_parse_meta(buf, k, &me); break;
      case 1: rc = pf_folder_parse_stats(buf, k, &st); break;
      case 2: rc = pf_folder_parse_history(buf, k, &hi); pf_folder_history_free(&hi); break;
      case 3: rc = pf_folder_parse_roc(buf, k, &ro); pf_folder_roc_free(&ro); break;
      case 4: rc = pf_folder_parse_pca(buf, k, &pc); pf_folder_pca_free(&pc); break;
      default: rc = pf_folder_parse_source(buf, k, &so); break;
      }
      if (rc != want) fail_msg("%s cut at %zu of %zu: %d", files[i], k, len, rc);
    }
    free(buf);
  }
  pf_fit_history_free(&h);
  pf_dataset_free(&d);
  pf_model_free(&m);
  pf_test_rmtree(dir);
}

#define PARSE(fn, text, out) fn((const uint8_t *)(text), strlen(text), out)

static void test_wrong_types(void **state) {
  pf_folder_stats st;
  assert_int_equal(PARSE(pf_folder_parse_stats, "{\"test\": {\"cm\": \"x\", \"accuracy\": \"y\", \"per_class\": []}}", &st),
                   PF_EINVAL);
  assert_string_equal(st.why, "no train, validation or test object with a confusion matrix");
  assert_true(st.s[2].exists && !st.s[2].present); /* what model_info reads */
  assert_int_equal(PARSE(pf_folder_parse_stats, "[1, 2]", &st), PF_EINVAL);
  assert_string_equal(st.why, "not a JSON object");
  pf_folder_history h;
  assert_int_equal(PARSE(pf_folder_parse_history, "{\"loss\": {}, \"acc\": [1], \"val_loss\": [1], \"val_acc\": [1]}", &h),
                   PF_EINVAL);
  assert_string_equal(h.why, "\"loss\" is missing or too long");
  assert_null(h.acc);
  assert_int_equal(PARSE(pf_folder_parse_history, "{\"loss\": [1, 2], \"acc\": [1], \"val_loss\": [1, 2], \"val_acc\": [1, 2]}", &h),
                   PF_EINVAL);
  assert_string_equal(h.why, "the loss and accuracy arrays differ in length");
  pf_folder_roc r;
  assert_int_equal(PARSE(pf_folder_parse_roc, "{\"fpr\": 5, \"tpr\": [0, 1]}", &r), PF_EINVAL);
  assert_null(r.tpr);
  /* thresholds of another length are dropped, not trusted */
  assert_int_equal(PARSE(pf_folder_parse_roc, "{\"fpr\": [0, 1], \"tpr\": [0, 1], \"threshold\": [1]}", &r), PF_OK);
  assert_null(r.threshold);
  pf_folder_roc_free(&r);
  pf_folder_pca p;
  assert_int_equal(PARSE(pf_folder_parse_pca, "{\"explained_variance_ratio\": [1], \"points\": []}", &p), PF_EINVAL);
  assert_int_equal(PARSE(pf_folder_parse_pca, "{\"available\": false, \"reason\": \"a\\nb\"}", &p), PF_EINVAL);
  assert_string_equal(p.why, "a b");
  assert_int_equal(PARSE(pf_folder_parse_pca, "{\"available\": false, \"reason\": 3}", &p), PF_EINVAL);
  assert_string_equal(p.why, "the training run could not compute it");
  pf_folder_meta me;
  assert_int_equal(PARSE(pf_folder_parse_meta, "{\"rows\": {\"train\": \"840\"}, \"layers\": [486, \"x\"], \"version\": 7}", &me),
                   PF_OK);
  assert_true(me.rows[0] == -1 && me.n_sizes == 0 && me.version[0] == '\0');
  assert_int_equal(PARSE(pf_folder_parse_meta, "{\"rows\": {\"train\": -5}}", &me), PF_OK);
  assert_true(me.rows[0] == -1);
  pf_folder_source so;
  assert_int_equal(PARSE(pf_folder_parse_source, "{\"source\": 5}", &so), PF_EINVAL);
  assert_int_equal(PARSE(pf_folder_parse_source, "{\"source\": \"csv\", \"seed\": -1}", &so), PF_OK);
  assert_false(so.has_seed);
  pf_folder_relevance rel;
  assert_int_equal(PARSE(pf_folder_parse_relevance, "{\"features\": {}}", &rel), PF_EINVAL);
  assert_null(rel.f);
  pf_folder_over_time o;
  assert_int_equal(PARSE(pf_folder_parse_over_time, "{\"by\": \"week\", \"periods\": {}}", &o), PF_EINVAL);
  assert_null(o.p);
  /* a length past the cap is refused before the bytes are looked at */
  assert_int_equal(pf_folder_parse_stats((const uint8_t *)"{}", PF_FOLDER_MAX_FILE + 1ull, &st), PF_EINVAL);
  assert_string_equal(st.why, "larger than 64 MiB");
}

/* "[0,0,...]" of n entries under key, in an object with the other keys */
static char *big_array(const char *before, const char *key, size_t n, const char *entry, const char *after) {
  size_t el = strlen(entry) + 1, cap = strlen(before) + strlen(key) + n * el + strlen(after) + 16;
  char *s = malloc(cap), *p = s;
  assert_non_null(s);
  p += sprintf(p, "{%s\"%s\": [", before, key);
  for (size_t i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? "," : "", entry);
  sprintf(p, "]%s}", after);
  return s;
}

static void test_oversized(void **state) {
  char *s = big_array("\"acc\": [1], \"val_loss\": [1], \"val_acc\": [1], ", "loss", PF_FOLDER_MAX_POINTS + 1, "1", "");
  pf_folder_history h;
  assert_int_equal(PARSE(pf_folder_parse_history, s, &h), PF_EINVAL);
  assert_string_equal(h.why, "\"loss\" is missing or too long");
  free(s);
  s = big_array("\"tpr\": [0, 1], ", "fpr", PF_FOLDER_MAX_POINTS + 1, "0", "");
  pf_folder_roc r;
  assert_int_equal(PARSE(pf_folder_parse_roc, s, &r), PF_EINVAL);
  assert_null(r.fpr);
  free(s);
  s = big_array("", "features", PF_FOLDER_MAX_FEATURES + 1, "{}", "");
  pf_folder_relevance rel;
  assert_int_equal(PARSE(pf_folder_parse_relevance, s, &rel), PF_EINVAL);
  free(s);
  s = big_array("\"by\": \"week\", ", "periods", PF_FOLDER_MAX_PERIODS + 5, "{\"period\": \"w\", \"samples\": {\"a\": 1, \"b\": 2}}", "");
  pf_folder_over_time o;
  assert_int_equal(PARSE(pf_folder_parse_over_time, s, &o), PF_OK);
  assert_int_equal(o.n, PF_FOLDER_MAX_PERIODS);
  assert_true(o.p[0].clean == 1 && o.p[0].malicious == 2);
  pf_folder_over_time_free(&o);
  free(s);
  s = big_array("", "classes", PF_MODEL_MAX_CLASSES + 3, "\"c\"", ", \"layers\": [1,2,3,4,5,6,7,8,9,10]");
  pf_folder_meta me;
  assert_int_equal(PARSE(pf_folder_parse_meta, s, &me), PF_OK);
  assert_int_equal(me.n_classes, PF_MODEL_MAX_CLASSES);
  assert_int_equal(me.n_sizes, 0); /* more sizes than a model has layers: none taken */
  free(s);
  s = big_array("", "explained_variance_ratio", 100, "0.01", ", \"points\": {\"pc1\": [1], \"pc2\": [2], \"label\": [1]}");
  pf_folder_pca p;
  assert_int_equal(PARSE(pf_folder_parse_pca, s, &p), PF_OK);
  assert_int_equal(p.k, PF_FOLDER_MAX_K);
  pf_folder_pca_free(&p);
  free(s);
}

/* stats.json's "split": what a training run says about its splits reads
 * back field for field, from the fleet (ranges, an empty split, the cut
 * date) and from a CSV (no ranges) */
static void test_split_info(void **state) {
  char dir[64], err[512];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder-split"), 0);
  pf_metrics mt;
  pf_dataset d;
  make_rows(&d, 50, 9);
  pf_model *m = make_model();
  assert_int_equal(pf_score_metrics(m, &d, m->threshold, &mt), PF_OK);
  const pf_metrics *splits[3] = {&mt, &mt, &mt};
  const char *names[2] = {m->classes[0], m->classes[1]};
  const pf_time_range r[3] = {{700, 1767571200, 1768000000}, {0, 0, 0}, {150, 1769000000, 1769904000}};
  pf_folder_split_info in;
  pf_folder_split_info_of(&in, 0, 1, 1769000000, r);
  assert_true(in.data_end == 1768000000); /* train and validation only */
  for (int from_csv = 0; from_csv < 2; from_csv++) {
    if (from_csv) pf_folder_split_info_of(&in, 1, 0, 0, r);
    assert_int_equal(pf_folder_write_stats(dir, splits, names, &in, err, sizeof err), PF_OK);
    pf_folder_stats st;
    assert_int_equal(pf_folder_load_stats(dir, &st), PF_OK);
    const pf_folder_split_info *out = &st.split;
    assert_true(out->present);
    assert_int_equal(out->time, in.time);
    assert_int_equal(out->from_csv, in.from_csv);
    assert_true(out->test_since == in.test_since);
    assert_true(out->data_end == in.data_end);
    assert_int_equal(st.has_data_end, !from_csv);
    for (int k = 0; k < 3; k++) {
      assert_int_equal(out->r[k].n, in.r[k].n);
      assert_true(out->r[k].first == in.r[k].first && out->r[k].last == in.r[k].last);
    }
    if (from_csv) assert_int_equal(out->r[0].n, 0);
  }
    /* written without one: not present */
  assert_int_equal(pf_folder_write_stats(dir, splits, names, NULL, err, sizeof err), PF_OK);
  pf_folder_stats st;
  assert_int_equal(pf_folder_load_stats(dir, &st), PF_OK);
  assert_false(st.split.present);
  assert_false(st.has_data_end);
  pf_dataset_free(&d);
  pf_model_free(&m);
  assert_int_equal(pf_test_rmtree(dir), 0);
}

/* over_time.json: written from the struct, read back the same, and the
 * file is the text evaluate --by --json prints plus a newline */
static void test_over_time(void **state) {
  char dir[64], err[512], path[128];
  assert_int_equal(pf_test_mkdtemp(dir, sizeof dir, "pf-folder-time"), 0);
  pf_folder_period p[2] = {
    {"2026-W02", "2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", 10, 5, 0.875, 0.8, 0.1, 0.6, 0.01, 0.4, 0.001},
    {"2026-W03", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", 3, 0, NAN, NAN, 0, NAN, 0, NAN, 0},
  };
  pf_folder_over_time in;
  memset(&in, 0, sizeof in);
  snprintf(in.by, sizeof in.by, "week");
  snprintf(in.model, sizeof in.model, "v\"2");
  snprintf(in.classes[0], sizeof in.classes[0], "clean");
  snprintf(in.classes[1], sizeof in.classes[1], "mal\"icious");
  in.threshold = 0.5;
  in.n = 2;
  in.p = p;
  assert_int_equal(pf_folder_write_over_time(dir, &in, err, sizeof err), PF_OK);
  snprintf(path, sizeof path, "%s/over_time.json", dir);
  size_t len = 0;
  uint8_t *buf = pf_test_read(path, &len);
  assert_non_null(buf);
  char *txt = pf_folder_over_time_text(&in);
  assert_non_null(txt);
  assert_int_equal(len, strlen(txt) + 1);
  assert_memory_equal(buf, txt, len - 1);
  assert_int_equal(buf[len - 1], '\n');
  free(txt);
  pf_folder_over_time out;
  assert_int_equal(pf_folder_parse_over_time(buf, len, &out), PF_OK);
  free(buf);
  assert_string_equal(out.by, "week");
  assert_string_equal(out.model, in.model);
  assert_true(out.threshold == 0.5);
  assert_string_equal(out.classes[0], "clean");
  assert_string_equal(out.classes[1], "mal\"icious");
  assert_int_equal(out.n, 2);
  for (int i = 0; i < 2; i++) {
    const pf_folder_period *a = &out.p[i], *b = &p[i];
    assert_string_equal(a->label, b->label);
    assert_string_equal(a->start, b->start);
    assert_string_equal(a->end, b->end);
    assert_true(same(a->clean, b->clean) && same(a->malicious, b->malicious) && same(a->roc_auc, b->roc_auc));
    assert_true(same(a->tpr, b->tpr) && same(a->fpr, b->fpr) && same(a->tpr1, b->tpr1) && same(a->fpr1, b->fpr1));
    assert_true(same(a->tpr01, b->tpr01) && same(a->fpr01, b->fpr01));
  }
  pf_folder_over_time_free(&out);
  assert_int_equal(pf_test_rmtree(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_source_csv),
    cmocka_unit_test(test_relevance),
    cmocka_unit_test(test_truncations),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_oversized),
    cmocka_unit_test(test_split_info),
    cmocka_unit_test(test_over_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
