/* pf_walk: owns turning command-line paths into the list of files to read.
 * Defines pf_filelist and pf_walk_add(): files as given, folders walked
 * recursively in sorted order, an optional basename glob, symlinked
 * folders not followed (no loops).
 * Called by `pefleet encode` and later `pefleet ingest` / `feed`. */
#ifndef PF_WALK_H
#define PF_WALK_H

#include <stddef.h>

typedef struct {
  char **paths;
  size_t n, cap;
} pf_filelist;

/* Adds path (a file, or a folder walked recursively) to list; only files
 * whose basename matches glob (fnmatch) are added from folders, and from
 * direct arguments too when glob is set. Returns PF_OK, PF_ENOENT when
 * path does not exist (err says which), or PF_ENOMEM. */
int pf_walk_add(pf_filelist *list, const char *path, const char *glob, char *err, size_t errlen);

/* Walks the folder dir as pf_walk_add does, except that no symlink inside
 * it is followed or listed: each one (to a file, a folder or nothing) is
 * added to links instead, the glob not applied, for the caller to report.
 * Called by `pefleet feed`, whose drop folder others fill. */
int pf_walk_add_nolinks(pf_filelist *list, pf_filelist *links, const char *dir, const char *glob, char *err,
                        size_t errlen);

/* Opens path, a file pf_walk_add_nolinks listed under dir, through dirfd
 * (dir opened as a folder) and never through a symlink, whichever part of
 * the path became one since the walk: openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS (O_NOFOLLOW alone on kernels without it), O_NONBLOCK
 * (a FIFO does not block), close-on-exec. Returns the descriptor, or -1
 * with errno (ELOOP a symlink, EXDEV outside dir, EINVAL path not under dir). */
int pf_walk_open_beneath(int dirfd, const char *dir, const char *path);

/* Frees the list's paths and zeroes it. */
void pf_filelist_destroy(pf_filelist *list);

/* Name of the folder holding path ("." for a bare file name) into buf. */
void pf_walk_parent_name(const char *path, char *buf, size_t n);

#endif
