/* pf_evalout: owns what evaluating a model on its splits leaves behind and
 * prints: the figures of the model folder's files computed from a model
 * and a data set (a stats.json split, the ROC curve of roc.json, the PCA of
 * pca.json, as pf_folder structs), a training run's whole folder, and the
 * one-line and table summaries.
 * history.json is written from pf_fit's own history (pf_fit_history).
 * Called by pefleet train, evaluate, relevance, retrain and the report
 * (lib/report, report --dataset). */
#ifndef PF_EVALOUT_H
#define PF_EVALOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pf_dataset.h"
#include "pf_fit.h"
#include "pf_folder.h"
#include "pf_model.h"
#include "pf_timesplit.h"

#define TRAIN_ROC_MAX_POINTS 1500 /* points kept in roc.json */
#define TRAIN_PCA_MAX_POINTS 2000 /* projected rows kept in pca.json */
#define TRAIN_PCA_MAX_FIT 20000   /* rows the PCA is fitted on (stratified) */
#define TRAIN_PCA_K 30            /* explained-variance ratios kept */

/* ---- figures as the folder's structs (what writing then reading gives) ---- */

/* s as stats.json's split object of mt under class names would read back. */
void pf_evalout_split(const pf_metrics *mt, const char *const names[2], pf_folder_split *s);

/* The ROC curve of d under m (two classes), thinned (a point is kept when it
 * moved 0.002, 0.0005 below 2% FPR, in fpr + tpr from the last kept one;
 * first and last always; at most TRAIN_ROC_MAX_POINTS), its operating
 * points, named split. PF_OK with out present, or PF_EINVAL / PF_ENOMEM
 * with the reason in out->why. Free with pf_folder_roc_free. */
int pf_evalout_roc(const pf_model *m, const pf_dataset *d, const char *split, pf_folder_roc *out);

/* A stratified sample of d projected on its first two principal components
 * (fitted on up to TRAIN_PCA_MAX_FIT stratified rows, standardized). When
 * it cannot be computed (fewer than 3 rows, LAPACK failure) out->present is
 * 0 with the reason in why; PF_OK either way, PF_ENOMEM only when even that
 * cannot be said. Free with pf_folder_pca_free. */
int pf_evalout_pca(const pf_model *m, const pf_dataset *d, const char *split, pf_folder_pca *out);

/* ---- files -------------------------------------------------------------- */

/* Writes the figures of one data set under model m as a stats.json split
 * object to f. Returns PF_OK or PF_ENOMEM. */
int train_split_stats(FILE *f, const pf_model *m, const pf_dataset *d);

/* Writes DIR/model.pfnn, DIR/stats.json ({"train","validation","test"},
 * and "split": how the splits were made, when split is not NULL),
 * DIR/history.json, DIR/model.json (m's version and parent), and
 * DIR/roc.json and DIR/pca.json of the test split (splits[2]). */
int train_write_outputs(const char *dir, const pf_model *m, const pf_dataset *const splits[3], const pf_fit_history *h,
                        const pf_folder_split_info *split, char *err, size_t errlen);

/* Writes DIR/over_time.json: the test split's figures week by week
 * (pf_drift), with the 1% and 0.1% FPR thresholds chosen on the validation
 * split val. PF_OK, or the code with "cannot compute the figures over
 * time: why" / "cannot write DIR/over_time.json: why" in err. */
int pf_evalout_over_time(const char *dir, const pf_model *m, const pf_dataset *val, const pf_timed *test, char *err,
                         size_t errlen);

/* Writes DIR/roc.json for data set d (the test split) under m, naming it
 * split. Returns PF_OK or PF_EIO/PF_ENOMEM with the reason in err. */
int train_write_roc(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen);

/* Writes DIR/pca.json for d. When the PCA cannot be computed the file says
 * so: {"available": false, "reason"}. Returns PF_OK, or PF_EIO when the
 * file cannot be written. */
int train_write_pca(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen);

/* Writes DIR/dataset.json: {"source": "csv", "path": absolute CSV path,
 * "seed": split seed, "split": "70/15/15"} when csv is not NULL, else
 * {"source": "redis"}. Returns PF_OK or PF_EIO. */
int train_write_source(const char *dir, const char *csv, uint64_t seed, char *err, size_t errlen);

/* ---- printed ------------------------------------------------------------ */

/* One line of figures for a data set named what (accuracy, ROC AUC, FPR at
 * the threshold, TPR at 1% FPR). */
void train_print_figures(FILE *f, const char *what, const pf_model *m, const pf_dataset *d);

/* The confusion matrix at the model's threshold, per-class precision,
 * recall, F1 and support, and the TPR at 1% and 0.1% FPR (two classes). */
void train_print_table(FILE *f, const pf_model *m, const pf_dataset *d);

#endif
