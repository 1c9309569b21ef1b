/* Reading a model folder's files from disk (see pf_folder.h). */
#include "pf_folder.h"
#include "pf_err.h"
#include "pf_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pf_folder_read(const char *dir, const char *name, uint8_t **buf, size_t *len, char *why, size_t whylen) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  *buf = NULL;
  *len = 0;
  int rc = pf_io_read_file(path, PF_FOLDER_MAX_FILE, buf, len);
  if (rc == PF_ENOENT) snprintf(why, whylen, "no %s in the model folder", name);
  else if (rc == PF_ELIMIT) snprintf(why, whylen, "cannot read %s: larger than the %u MiB cap", name, PF_FOLDER_MAX_FILE >> 20);
  else if (rc == PF_EINVAL) snprintf(why, whylen, "cannot read %s: not a regular file", name);
  else if (rc != PF_OK) snprintf(why, whylen, "cannot read %s: %s", name, rc == PF_ENOMEM ? "out of memory" : strerror(errno));
  return rc;
}

/* Reads DIR/NAME and parses it into out (whose why is prefixed with NAME
 * when the parser refused it). */
#define LOAD(out, file, parser)                                                         \
  do {                                                                                  \
    size_t len_ = 0;                                                                    \
    uint8_t *b_ = NULL;                                                                 \
    rc_ = pf_folder_read(dir, file, &b_, &len_, (out)->why, sizeof (out)->why);         \
    if (rc_ == PF_OK) {                                                                 \
      if ((rc_ = parser(b_, len_, out)) != PF_OK) {                                     \
        char w_[PF_FOLDER_WHY];                                                         \
        snprintf(w_, sizeof w_, "%s", (out)->why);                                      \
        snprintf((out)->why, sizeof (out)->why, "%s: %.200s", file, w_);                \
      }                                                                                 \
      free(b_);                                                                         \
    }                                                                                   \
  } while (0)

/* pf_folder_load_X: one file into its struct */
#define LOADER(fn, type, file, parser)  \
  int fn(const char *dir, type *out) {  \
    int rc_;                            \
    memset(out, 0, sizeof *out);        \
    LOAD(out, file, parser);            \
    return rc_;                         \
  }
LOADER(pf_folder_load_meta, pf_folder_meta, "model.json", pf_folder_parse_meta)
LOADER(pf_folder_load_stats, pf_folder_stats, "stats.json", pf_folder_parse_stats)
LOADER(pf_folder_load_source, pf_folder_source, "dataset.json", pf_folder_parse_source)

void pf_folder_load(const char *dir, pf_folder *f) {
  int rc_;
  memset(f, 0, sizeof *f);
  pf_folder_load_meta(dir, &f->meta);
  pf_folder_load_source(dir, &f->source);
  pf_folder_load_stats(dir, &f->stats);
  LOAD(&f->history, "history.json", pf_folder_parse_history);
  LOAD(&f->roc, "roc.json", pf_folder_parse_roc);
  LOAD(&f->pca, "pca.json", pf_folder_parse_pca);
  LOAD(&f->relevance, "relevance.json", pf_folder_parse_relevance);
  LOAD(&f->over_time, "over_time.json", pf_folder_parse_over_time);
  (void)rc_;
}

void pf_folder_free(pf_folder *f) {
  pf_folder_history_free(&f->history);
  pf_folder_roc_free(&f->roc);
  pf_folder_pca_free(&f->pca);
  pf_folder_relevance_free(&f->relevance);
  pf_folder_over_time_free(&f->over_time);
  memset(f, 0, sizeof *f);
}
