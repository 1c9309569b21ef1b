/* report_data: owns reading a model folder for the report.
 * Defines the figures the report draws (stats.json, history.json,
 * roc.json, pca.json, relevance.json, model.pfnn) as plain structs, each
 * with a "present" flag and, when absent or unreadable, a one-line reason.
 * Parsers take bytes and a length (cJSON underneath); every file is capped
 * at REPORT_MAX_FILE bytes and every array at REPORT_MAX_POINTS entries.
 * Called by cli/cmd_report.c and cli/report_page.c. */
#ifndef PF_REPORT_DATA_H
#define PF_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "pf_model.h"

#define REPORT_MAX_FILE (64u << 20)
#define REPORT_MAX_POINTS 200000u
#define REPORT_WHY 300

typedef struct {
  int present;
  double n, cm[2][2], accuracy, roc_auc, threshold, fpr; /* NaN when missing */
  double precision[2], recall[2], f1[2], support[2];
  char classes[2][64];
  double tpr01, thr01, tpr001, thr001;
} report_split;

typedef struct {
  int present;
  char why[REPORT_WHY];
  report_split s[3]; /* train, validation, test */
} report_stats;

typedef struct {
  int present;
  char why[REPORT_WHY];
  size_t n;
  double *loss, *acc, *val_loss, *val_acc;
} report_history;

typedef struct {
  char name[32];
  double threshold, fpr, tpr;
} report_op;

typedef struct {
  int present;
  char why[REPORT_WHY];
  size_t n, rows, positives, negatives, points_total;
  char split[64];                  /* "test", or what the rows were */
  double *fpr, *tpr, roc_auc;
  report_op op[3];
  int nop;
} report_roc;

typedef struct {
  int present;
  char why[REPORT_WHY];
  size_t n, k, rows, fit_rows;
  double *pc1, *pc2, ratio[64];
  int *label;
  char classes[2][64];
} report_pca;

typedef struct {
  uint32_t index;
  char name[64];
  double d_accuracy, d_auc;
} report_feature;

typedef struct {
  int present;
  char why[REPORT_WHY];
  size_t n, rows;
  double base_accuracy, base_auc;
  char source[512];
  report_feature *f;
} report_relevance;

typedef struct {
  char label[16];          /* "2026-W07" */
  char start[24];          /* "2026-02-09T00:00:00Z" */
  double clean, malicious; /* samples per class (the model's two classes) */
  double roc_auc, tpr, fpr, tpr1, fpr1, tpr01; /* NaN when undefined */
} report_period;

/* over_time.json (train --split time), or evaluate --by --json's output
 * (report --over-time FILE): the model's figures per period. */
typedef struct {
  int present, exists;     /* exists: the file was there (present: and it parsed) */
  char why[REPORT_WHY];
  char by[8];              /* "week", "month" */
  char source[512];        /* where it came from */
  size_t n;
  report_period *p;
} report_over_time;

typedef struct {
  const char *dir;
  pf_model *model;                 /* NULL when model.pfnn cannot be read */
  char model_why[REPORT_WHY];
  report_stats stats;
  report_history history;
  report_roc roc;
  report_pca pca;
  report_relevance relevance;
  report_over_time over_time;
  char computed_from[512];         /* when some figures came from a CSV (report --dataset) */
  char compare_note[REPORT_WHY];   /* --compare: why the two curves are not on the same rows */
} report_model;

/* Parsers: PF_OK with the struct filled and present = 1, or PF_EINVAL with
 * the reason in why (present = 0). */
int report_parse_stats(const uint8_t *buf, size_t len, report_stats *out);
int report_parse_history(const uint8_t *buf, size_t len, report_history *out);
int report_parse_roc(const uint8_t *buf, size_t len, report_roc *out);
int report_parse_pca(const uint8_t *buf, size_t len, report_pca *out);
int report_parse_relevance(const uint8_t *buf, size_t len, report_relevance *out);
int report_parse_over_time(const uint8_t *buf, size_t len, report_over_time *out);

/* Replaces rm's over_time with the one in FILE (report --over-time):
 * PF_OK, or PF_EINVAL / PF_EIO with the reason in rm->over_time.why. */
int report_load_over_time(report_model *rm, const char *path);

/* Reads everything in DIR. Missing or bad files are not errors: their
 * struct says why ("no roc.json in DIR (...)"). Free with report_model_free. */
void report_model_load(const char *dir, report_model *rm);
void report_model_free(report_model *rm);

#endif
