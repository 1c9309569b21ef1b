/* cd_paths: owns SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN: server-side
 * paths, read only beneath an allowed folder's descriptor.
 * Defines cd_paths_scan(): the path opened once with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
 * O_NONBLOCK) beneath the folder it names, folders walked the same way
 * (symlinks skipped, as clamd does by default), each regular file scored,
 * one reply line per finding. Every refusal has the same text, whether
 * the path exists or not.
 * Called by cd_conn.c. */
#ifndef CD_PATHS_H
#define CD_PATHS_H

#include <stddef.h>

#include "cd_cmd.h"
#include "clamd.h"

/* Writes one reply line "PATH: STATUS" (the caller adds session ids and
 * the terminator). Called from several threads under MULTISCAN, never at
 * once (cd_paths serialises the calls). */
typedef void (*cd_emit_fn)(void *ctx, const char *path, const char *status);

/* Opens folder as an allowed root (realpath kept, O_PATH descriptor). */
int cd_paths_allow(cd_opts *o, const char *folder, char *err, size_t errlen);

/* Scans path[0..len) for command kind; *found and *errors count the files
 * so reported. */
void cd_paths_scan(const cd_opts *o, cd_kind kind, const char *path, size_t len, cd_emit_fn emit, void *ctx,
                   int *found, int *errors);

#endif
