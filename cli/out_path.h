/* out_path: owns the one rule for what a command writes: checked before
 * any work starts. Missing parent folders are created; an existing model
 * folder or report is refused unless --force.
 * Called by train, import-keras, report, relevance. */
#ifndef PF_OUT_PATH_H
#define PF_OUT_PATH_H

#include <stddef.h>

/* Creates every missing folder of path (like mkdir -p); 0, or -1 with a
 * reason in err. */
int out_path_mkdirs(const char *path, char *err, size_t errlen);

/* A model folder to be written: creates dir and its parents; refuses
 * (prints "PROG: DIR already holds a model (DIR/model.pfnn); --force
 * replaces it") when dir/model.pfnn exists and !force, or when dir cannot
 * be written. Returns 0 or 1 (the exit status). */
int out_path_model_dir(const char *prog, const char *dir, int force);

/* A file to be written (a report): creates its parents; refuses when it
 * exists and !force. Returns 0 or 1. */
int out_path_file(const char *prog, const char *path, int force);

#endif
