/* pf_report_model: owns what the model report draws: a model folder's
 * files as pf_folder structs plus model.pfnn, and the figures computed in
 * memory for a folder that lacks them (report --dataset).
 * Defines pf_report_model, its load and free, --over-time's file and
 * --dataset's figures. Nothing is written to disk.
 * Called by pf_report and pf_page. */
#ifndef PF_REPORT_MODEL_H
#define PF_REPORT_MODEL_H

#include <stddef.h>

#include "pf_folder.h"
#include "pf_model.h"

typedef struct {
  const char *dir;
  pf_model *model;                     /* NULL when model.pfnn cannot be read */
  char model_why[PF_FOLDER_WHY];
  pf_folder fd;                        /* the folder's files */
  char computed_from[512];             /* when some figures came from a CSV (report --dataset) */
  char compare_note[PF_FOLDER_WHY];    /* --compare: why the two curves are not on the same rows */
} pf_report_model;

/* Reads everything in DIR (missing or bad files are not errors: their
 * struct says why). Returns PF_OK, or PF_EINVAL when DIR is not a model
 * folder (neither a readable model.pfnn nor a stats.json), the reason in
 * rm->model_why. Free with pf_report_model_free either way. */
int pf_report_model_load(const char *dir, pf_report_model *rm);
void pf_report_model_free(pf_report_model *rm);

/* Replaces rm's over_time with the one in FILE (report --over-time):
 * PF_OK, or PF_EINVAL / PF_EIO with the reason in rm->fd.over_time.why. */
int pf_report_model_over_time(pf_report_model *rm, const char *path);

/* Fills the figures, ROC curve and PCA that rm lacks (all of them when
 * all) from every row of csv (label_map: pf_classes_map's form, may be
 * NULL). PF_OK, or an error code with the reason in err. */
int pf_report_model_compute(pf_report_model *rm, const char *csv, const char *label_map, int all, char *err,
                            size_t errlen);

/* 1 when both folders' dataset.json (the CSV and split seed their test
 * split came from) say the same, or neither has one. */
int pf_report_model_same_source(const pf_report_model *a, const pf_report_model *b);

#endif
