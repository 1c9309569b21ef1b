/* pf_atomic: owns whole-file writes: a file appears complete or not at all.
 * Defines pf_atomic_open (a unique temporary sibling of the target),
 * pf_atomic_commit (flush, fsync, rename over the target, fsync the
 * folder) and pf_atomic_abort (remove the temporary).
 * Called by every writer of a whole file (model folders, reports, exports,
 * the fleet's state); files that hold secrets use pf_secret instead. */
#ifndef PF_ATOMIC_H
#define PF_ATOMIC_H

#include <stdio.h>

typedef struct {
  FILE *f;
  char tmp[4200]; /* the temporary's path (for messages) */
  char dst[4200];
} pf_atomic;

/* Opens a temporary beside DIR/NAME (NAME NULL: DIR is the whole path) for
 * writing, mode 0644 less the umask. Returns its stream, or NULL (errno
 * set; a->tmp names what could not be made). */
FILE *pf_atomic_open(pf_atomic *a, const char *dir, const char *name);

/* Flushes and fsyncs the temporary, renames it over the target and fsyncs
 * the folder. Returns PF_OK, or PF_EIO with the temporary removed. */
int pf_atomic_commit(pf_atomic *a);

/* Closes and removes the temporary; the target is unchanged. */
void pf_atomic_abort(pf_atomic *a);

#endif
