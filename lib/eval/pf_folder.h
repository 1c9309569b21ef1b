/* pf_folder: owns the files of a model folder beside model.pfnn, the one
 * place that writes and reads them.
 * Defines each file as a struct (model.json, stats.json, history.json,
 * roc.json, pca.json, dataset.json, relevance.json, over_time.json), its
 * parser from bytes + length (cJSON; every file capped at
 * PF_FOLDER_MAX_FILE, every array at its own cap, every field type-checked,
 * the reason in the struct's why) and its writer (pf_atomic: a file appears
 * whole or not at all). A parsed struct has present = 1; a missing or bad
 * file leaves present = 0 and one line in why. Figures that are absent or
 * null read as NaN.
 * Called by the evaluation writers (pf_evalout, pf_drift), the report (lib/report),
 * pefleet models/up/retrain (model_info), relevance and evaluate. */
#ifndef PF_FOLDER_H
#define PF_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "pf_fit.h"
#include "pf_keras.h"
#include "pf_metrics.h"
#include "pf_model.h"
#include "pf_timesplit.h"

#define PF_FOLDER_MAX_FILE (64u << 20) /* bytes of one file read at most */
#define PF_FOLDER_MAX_POINTS 200000u   /* entries of one number array */
#define PF_FOLDER_MAX_FEATURES 65536u  /* relevance.json features */
#define PF_FOLDER_MAX_PERIODS 1200u    /* over_time.json periods (as PF_DRIFT_MAX_PERIODS) */
#define PF_FOLDER_MAX_K 64u            /* PCA explained-variance ratios kept */
#define PF_FOLDER_WHY 300

/* ---- model.json ---------------------------------------------------------- */

/* What model.json says: written by the trainer ({"format", "version",
 * "parent", "schema", "layers": [sizes], "classes", "threshold", "rows":
 * {"train", "validation", "test"}}); import-keras writes another layout
 * with some of the same keys. Fields the file lacks: "" / 0 / NaN / -1. */
typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  double format, schema, threshold;
  char version[PF_MODEL_NAME], parent[PF_MODEL_NAME];
  uint32_t n_sizes, sizes[PF_MODEL_MAX_LAYERS + 1]; /* "layers" when an array of numbers */
  uint32_t n_classes;
  char classes[PF_MODEL_MAX_CLASSES][PF_MODEL_NAME];
  long long rows[3]; /* train, validation, test; -1 when absent */
} pf_folder_meta;

/* ---- stats.json ---------------------------------------------------------- */

typedef struct {
  int exists;  /* the split's object is in the file */
  int present; /* ... and has a numeric confusion matrix (what the report shows) */
  double n, cm[2][2], accuracy, roc_auc, threshold, fpr; /* NaN when missing */
  double precision[2], recall[2], f1[2], support[2];
  char classes[2][64];
  double tpr01, thr01, tpr001, thr001; /* tpr_at_fpr "0.01" / "0.001" (a null threshold: NaN) */
  int ops_thr;                         /* both thresholds are there, number or null */
  double op_thr[2];                    /* ... with null as +infinity (nothing flagged) */
} pf_folder_split;

/* stats.json's "split": how the splits were made: {"kind": "random" |
 * "time", "source": "csv" | "fleet", "test_since": DATE | null} and, from
 * the fleet, {"train" | "validation" | "test": {"rows", "first_seen_from",
 * "first_seen_to" (null without rows)}, "data_end": DATE, "data_end_unix":
 * t}: data_end, the newest first-seen time of train and validation, is
 * where `retrain`'s fresh window starts. */
typedef struct {
  int present;          /* the file has a "split" object */
  int time;             /* "kind": "time" (else "random") */
  int from_csv;         /* "source": "csv" (else "fleet": the ranges below) */
  long long test_since; /* 0: null */
  pf_time_range r[3];   /* train, validation, test (n = 0: no range) */
  long long data_end;
} pf_folder_split_info;

typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  pf_folder_split s[3]; /* train, validation, test */
  int has_data_end;     /* "split": {"data_end_unix"} within pf_date's range */
  long long data_end;
  pf_folder_split_info split; /* what "split" says (present = 0 without one) */
} pf_folder_stats;

/* ---- history.json -------------------------------------------------------- */

typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  size_t n, cap;
  double *loss, *acc, *val_loss, *val_acc, *seconds; /* seconds NULL when the file lacks it */
} pf_folder_history;

/* ---- roc.json ------------------------------------------------------------ */

typedef struct {
  char name[32];
  double threshold, fpr, tpr;
} pf_folder_op;

typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  size_t n, rows, positives, negatives, points_total;
  char split[64];               /* "test", or what the rows were */
  double *fpr, *tpr, *threshold; /* n each; threshold +infinity for the first point (null) */
  double roc_auc;
  pf_folder_op op[3];
  int nop;
} pf_folder_roc;

/* ---- pca.json ------------------------------------------------------------ */

typedef struct {
  int present;  /* available and parsed; else why (the file's reason when unavailable) */
  char why[PF_FOLDER_WHY];
  char split[64];
  size_t n, k, rows, fit_rows, points_total;
  double *pc1, *pc2, ratio[PF_FOLDER_MAX_K];
  int *label;
  char classes[2][64];
} pf_folder_pca;

/* ---- dataset.json -------------------------------------------------------- */

typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  char source[16];    /* "csv", "redis" */
  char path[4096];    /* the CSV's absolute path ("csv") */
  int has_seed;       /* a number in [0, 2^64) (exact up to 2^53, as JSON numbers are) */
  uint64_t seed;
  char split[16];     /* "70/15/15" */
} pf_folder_source;

/* ---- relevance.json ------------------------------------------------------ */

typedef struct {
  uint32_t index;
  char name[64];
  double d_accuracy, d_auc;  /* the drops when the feature is nulled */
  double accuracy, roc_auc;  /* the figures then */
} pf_folder_feature;

/* relevance.json (pefleet relevance): {"model", "source", "rows", "method",
 * "base": {"accuracy", "roc_auc"}, "features": [{"rank", "index", "name",
 * "accuracy_drop", "auc_drop", "accuracy", "roc_auc"}, ...]} */
typedef struct {
  int present;
  char why[PF_FOLDER_WHY];
  size_t n, rows;
  double base_accuracy, base_auc;
  char model[PF_MODEL_NAME];
  char source[4400];
  pf_folder_feature *f;     /* n, most relevant first */
} pf_folder_relevance;

/* ---- over_time.json (and evaluate --by --json) --------------------------- */

/* {"by": "week", "model": VERSION, "threshold": t, "thresholds_from":
 * "validation", "periods": [{"period", "start", "end", "samples": {CLASS0:
 * n, CLASS1: n}, "roc_auc", "tpr", "fpr", "tpr_at_fpr_0.01",
 * "fpr_at_fpr_0.01", "tpr_at_fpr_0.001", "fpr_at_fpr_0.001"}, ...]}
 * (undefined figures are null), as pf_drift_over_time fills it. */
typedef struct {
  char label[16];          /* "2026-W07" */
  char start[24], end[24]; /* "2026-02-09T00:00:00Z": [start, end) */
  double clean, malicious; /* samples per class (the model's two classes) */
  double roc_auc, tpr, fpr, tpr1, fpr1, tpr01, fpr01; /* NaN when undefined */
} pf_folder_period;

typedef struct {
  int present, exists;     /* exists: the file was there (present: and it parsed) */
  char why[PF_FOLDER_WHY];
  char by[8];              /* "week", "month" */
  char model[PF_MODEL_NAME];
  double threshold;        /* the model's (NaN when absent) */
  char classes[2][64];     /* the "samples" keys */
  char source[512];        /* where it came from */
  size_t n;
  pf_folder_period *p;
} pf_folder_over_time;

/* ---- the whole folder ---------------------------------------------------- */

typedef struct {
  pf_folder_meta meta;
  pf_folder_source source;
  pf_folder_stats stats;
  pf_folder_history history;
  pf_folder_roc roc;
  pf_folder_pca pca;
  pf_folder_relevance relevance;
  pf_folder_over_time over_time;
} pf_folder;

/* Parsers: PF_OK with the struct filled and present = 1; PF_EINVAL
 * (PF_ENOMEM) with present = 0 and the reason in why, every allocation
 * freed. stats: s[] holds what was found even on PF_EINVAL (a file whose
 * splits lack a confusion matrix). The struct needs no free on failure;
 * on success free it with its _free function (stats/meta/source: none). */
int pf_folder_parse_meta(const uint8_t *buf, size_t len, pf_folder_meta *out);
int pf_folder_parse_stats(const uint8_t *buf, size_t len, pf_folder_stats *out);
int pf_folder_parse_history(const uint8_t *buf, size_t len, pf_folder_history *out);
int pf_folder_parse_roc(const uint8_t *buf, size_t len, pf_folder_roc *out);
int pf_folder_parse_pca(const uint8_t *buf, size_t len, pf_folder_pca *out);
int pf_folder_parse_source(const uint8_t *buf, size_t len, pf_folder_source *out);
int pf_folder_parse_relevance(const uint8_t *buf, size_t len, pf_folder_relevance *out);
int pf_folder_parse_over_time(const uint8_t *buf, size_t len, pf_folder_over_time *out);

void pf_folder_history_free(pf_folder_history *h);
void pf_folder_roc_free(pf_folder_roc *r);
void pf_folder_pca_free(pf_folder_pca *p);
void pf_folder_relevance_free(pf_folder_relevance *r);
void pf_folder_over_time_free(pf_folder_over_time *o);

/* Reads DIR/NAME (capped at PF_FOLDER_MAX_FILE) into *buf (NUL one past
 * the end; caller frees). PF_OK, or the pf_io_read_file code with a
 * one-line reason in why ("no NAME in the model folder", ...). */
int pf_folder_read(const char *dir, const char *name, uint8_t **buf, size_t *len, char *why, size_t whylen);

/* Reads and parses DIR/model.json, DIR/stats.json, DIR/dataset.json (one
 * each; PF_OK or the read/parse code with the reason, prefixed with the
 * file's name, in out->why). */
int pf_folder_load_meta(const char *dir, pf_folder_meta *out);
int pf_folder_load_stats(const char *dir, pf_folder_stats *out);
int pf_folder_load_source(const char *dir, pf_folder_source *out);

/* Reads every file of DIR. Missing or bad files are not errors: their
 * struct says why ("no roc.json in the model folder", "roc.json: not valid
 * JSON"). Free with pf_folder_free. */
void pf_folder_load(const char *dir, pf_folder *f);
void pf_folder_free(pf_folder *f);

/* ---- writers (DIR/NAME through pf_atomic) -------------------------------- */


/* Writers: PF_OK, or PF_EIO / PF_EINVAL / PF_ENOMEM with the reason in
 * err ("cannot write DIR/NAME: why"). */
/* model.json of m (its version and parent as they are) with the rows of
 * the three splits. */
int pf_folder_write_meta(const char *dir, const pf_model *m, const size_t rows[3], char *err, size_t errlen);
/* model.json of a model imported from Keras (pefleet import-keras): the
 * layers by their Keras names, classes, threshold, version, parent and the
 * source (src, its sha256, Keras version and backend). */
int pf_folder_write_keras_meta(const char *dir, const pf_model *m, const pf_keras_info *info, const char *src,
                               char *err, size_t errlen);
/* stats.json: the splits' metrics (NULL: left out) under class names, and
 * "split" when split is not NULL. */
int pf_folder_write_stats(const char *dir, const pf_metrics *const splits[3], const char *const names[2],
                          const pf_folder_split_info *split, char *err, size_t errlen);
int pf_folder_write_history(const char *dir, const pf_fit_history *h, char *err, size_t errlen);
int pf_folder_write_roc(const char *dir, const pf_folder_roc *r, char *err, size_t errlen);
/* pca.json; an absent PCA (present = 0) is written as {"available":
 * false, "reason": why}. */
int pf_folder_write_pca(const char *dir, const pf_folder_pca *p, char *err, size_t errlen);
int pf_folder_write_source(const char *dir, const pf_folder_source *s, char *err, size_t errlen);
/* relevance.json at path (any file: relevance -o), features in r's order. */
int pf_folder_write_relevance(const char *path, const pf_folder_relevance *r, char *err, size_t errlen);
/* over_time.json: o as over_time_text gives it, and a newline. */
int pf_folder_write_over_time(const char *dir, const pf_folder_over_time *o, char *err, size_t errlen);

/* o as over_time.json's text (indented; malloc'd, caller frees; NULL when
 * out of memory): what evaluate --by --json prints. */
char *pf_folder_over_time_text(const pf_folder_over_time *o);

/* The split object of a training run: from a CSV (from_csv) or the fleet,
 * kind time or random, test_since (0: none), and from the fleet the
 * splits' ranges r (NULL from a CSV), data_end taken from them. */
void pf_folder_split_info_of(pf_folder_split_info *s, int from_csv, int time, long long test_since,
                             const pf_time_range r[3]);

#endif
