/* pf_keras: owns importing a Keras 2 model file (HDF5, as
 * keras.models.save_model writes it; the seed's model.h5) as a pf_model.
 * The file is read by libhdf5 in a forked child confined by lib/pe's
 * pf_sandbox (its pipe and that one file, hard limits, Landlock, the HDF5
 * seccomp profile); the child hands back PFNN bytes the parent decodes
 * with every check of pf_model_decode, so a crafted file costs an error,
 * never the caller. The network must be Dense layers (ReLU, softmax last),
 * optionally with Dropout, taking the 486 ergo486 features.
 * Defines pf_keras_info, pf_keras_read and pf_keras_save (model.pfnn and
 * the model.json summary). Called by cli/cmd_import_keras.c. */
#ifndef PF_KERAS_H
#define PF_KERAS_H

#include <stddef.h>
#include <stdint.h>

#include "pf_hash.h"
#include "pf_keras_config.h"
#include "pf_model.h"

typedef struct {
  char sha256[PF_SHA256_HEX_LEN + 1];         /* of the whole file */
  char keras_version[32], backend[32];        /* "" when the file does not say */
  uint32_t n_dense;
  char dense[PF_MODEL_MAX_LAYERS][PF_KERAS_NAME]; /* the Dense layers' names, in order */
} pf_keras_info;

/* Reads the model in the file at path (at most 4 GiB) in the isolated
 * reader. PF_OK with *out (default class names; the caller frees it) and
 * info; else an error (PF_ENOENT, PF_EINVAL, PF_ELIMIT, PF_EIO, PF_ECRASH,
 * PF_EVIOL) with the reason, one printable line, in err. */
int pf_keras_read(const char *path, pf_keras_info *info, pf_model **out, char *err, size_t errlen);

/* Names m's classes (n of them: m's output count), sets its threshold,
 * schema and version (NULL: keras-<first 12 hex of info->sha256>; no
 * parent), then writes dir/model.pfnn (model.json, with the source, is
 * the model folder's: pf_folder_write_keras_meta in lib/eval). dir must
 * exist. PF_OK, or an error with one line in err. */
int pf_keras_save(pf_model *m, const pf_keras_info *info, const char *src, const char *dir,
                  char (*classes)[PF_MODEL_NAME], int n, double threshold, const char *version, char *err,
                  size_t errlen);

#endif
