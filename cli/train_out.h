/* train_out: owns what a training run leaves behind and prints.
 * Writes a model folder (history.json from pf_fit's per-epoch history:
 * the seed's keys loss, acc, val_loss, val_acc plus seconds): model.pfnn, stats.json
 * (train, validation and test figures), history.json, model.json, and the
 * report's roc.json and pca.json (cli/train_plots.h).
 * Called by cli/cmd_train.c and cli/cmd_evaluate.c. */
#ifndef PF_TRAIN_OUT_H
#define PF_TRAIN_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "pf_dataset.h"
#include "pf_fit.h"
#include "pf_model.h"

/* the per-epoch history is pf_fit's (lib/model/pf_fit.h), which records it */
typedef pf_fit_history train_history;

/* Writes the figures of one data set under model m as a stats.json split
 * object to f. Returns PF_OK or PF_ENOMEM. */
int train_split_stats(FILE *f, const pf_model *m, const pf_dataset *d);

/* Writes DIR/model.pfnn, DIR/stats.json ({"train","validation","test"},
 * and "split": split_json, a JSON object saying how the splits were made,
 * when not NULL), DIR/history.json, DIR/model.json, and DIR/roc.json and
 * DIR/pca.json of the test split (splits[2]). */
int train_write_outputs(const char *dir, const pf_model *m, const pf_dataset *const splits[3], const train_history *h,
                        const char *split_json, char *err, size_t errlen);


/* One line of figures for a data set named what (accuracy, ROC AUC, FPR at
 * the threshold, TPR at 1% FPR). */
void train_print_figures(FILE *f, const char *what, const pf_model *m, const pf_dataset *d);

/* The confusion matrix at the model's threshold, per-class precision,
 * recall, F1 and support, and the TPR at 1% and 0.1% FPR (two classes). */
void train_print_table(FILE *f, const pf_model *m, const pf_dataset *d);

#endif
