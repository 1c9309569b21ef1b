/* pf_tmp: owns the temporary files daemons write uploads into.
 * Defines the private upload folder ($TMPDIR/PREFIX-PID-XXXXXX, made by
 * mkdtemp: mode 0700, a name nobody can plant in advance), the files in it
 * (mkstemp: O_CREAT|O_EXCL, 0600, a random name, never a followed symlink)
 * and the sweep that removes what a killed process left behind.
 * Called by the scorer and the similarity service. */
#ifndef PF_TMP_H
#define PF_TMP_H

#include <stddef.h>

typedef struct {
  char dir[1100]; /* the private folder, "" when not open */
} pf_tmp;

/* Sweeps parent (NULL: $TMPDIR, else /tmp) of what dead PREFIX processes
 * left (pf_tmp_sweep), then makes this process's private folder there.
 * *swept (may be NULL) gets how many leftovers were removed. */
int pf_tmp_open(pf_tmp *t, const char *parent, const char *prefix, int *swept, char *err, size_t errlen);

/* Creates a new empty file in t's folder; path (cap bytes) gets its name.
 * Returns its descriptor (O_RDWR, close-on-exec), or -1 with errno set. */
int pf_tmp_file(pf_tmp *t, char *path, size_t cap);

/* Removes t's folder and whatever is still in it. Harmless when not open. */
void pf_tmp_close(pf_tmp *t);

/* Removes, in dir, the entries named "<prefix>-<pid>-<anything>" whose pid
 * is no longer a running process (not this one): a file or symlink is
 * unlinked (never followed), a folder of this user is emptied (its entries
 * unlinked, never followed) and removed. Returns how many it removed. */
int pf_tmp_sweep(const char *dir, const char *prefix);

#endif
