/* train_plots: owns the plot data a training run leaves for the report.
 * Defines roc.json (the test split's ROC curve, thinned, and its operating
 * points), pca.json (a stratified sample of the test split projected on its
 * first two principal components, and the explained-variance ratios) and
 * dataset.json (where the rows came from, so relevance can rebuild the
 * test split). File layouts are documented in train_plots.c.
 * Called by cli/train_out.c (every training run), cli/cmd_train.c
 * (dataset.json) and cli/cmd_report.c (--dataset, for models without them). */
#ifndef PF_TRAIN_PLOTS_H
#define PF_TRAIN_PLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "pf_dataset.h"
#include "pf_model.h"

#define TRAIN_ROC_MAX_POINTS 1500 /* points kept in roc.json */
#define TRAIN_PCA_MAX_POINTS 2000 /* projected rows kept in pca.json */
#define TRAIN_PCA_MAX_FIT 20000   /* rows the PCA is fitted on (stratified) */
#define TRAIN_PCA_K 30            /* explained-variance ratios kept */

/* Writes DIR/roc.json for data set d (the test split) under m, naming it
 * split. Returns PF_OK or PF_EIO/PF_ENOMEM with the reason in err. */
int train_write_roc(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen);

/* Writes DIR/pca.json for d. When the PCA cannot be computed (fewer than 3
 * rows, LAPACK failure) the file says so: {"available": false, "reason"}.
 * Returns PF_OK, or PF_EIO when the file cannot be written. */
int train_write_pca(const char *dir, const char *split, const pf_model *m, const pf_dataset *d, char *err,
                    size_t errlen);

/* Writes DIR/dataset.json: {"source": "csv", "path": absolute CSV path,
 * "seed": split seed, "split": "70/15/15"} when csv is not NULL, else
 * {"source": "redis"}. Returns PF_OK or PF_EIO. */
int train_write_source(const char *dir, const char *csv, uint64_t seed, char *err, size_t errlen);

#endif
