/* model_info: owns reading a model folder's side files for the registry
 * commands (what model.json and stats.json say, through lib/eval/pf_folder).
 * Defines the training-set size and the test split's key figures.
 * Called by cli/cmd_models.c (promote, models), cli/cmd_retrain.c and
 * cli/cmd_up.c (--model). */
#ifndef PF_MODEL_INFO_H
#define PF_MODEL_INFO_H

/* Rows of the train split recorded in DIR/model.json ("rows": {"train": N}),
 * or -1 when the file or the figure is missing. */
long long model_info_samples(const char *dir);

/* ROC AUC and FPR at the threshold of the "test" object of a stats.json
 * text; a figure that is absent or null becomes NaN. Returns 0 when the
 * test object was found, -1 when not (both NaN). */
int model_info_test_figures(const char *stats, double *auc, double *fpr);

#endif
