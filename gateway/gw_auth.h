/* gw_auth: owns who may ask the gateway what: the bearer token and the
 * folders server-side paths may come from.
 * Defines gw_auth (token read from --token-file; the realpaths of the
 * --allow-path folders), a constant-time Authorization header check and a
 * realpath-based path check.
 * Called by gw_main.c (setup), gw_http.c (token) and gw_routes.c (paths). */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stddef.h>

#define GW_MAX_ALLOW 32

typedef struct {
  char token[512];             /* "" no token required */
  int n_allow;
  char allow[GW_MAX_ALLOW][4096]; /* realpaths of the allowed folders */
} gw_auth;

/* Reads the token from path (first line, surrounding blanks dropped; must
 * not be empty). PF_EIO / PF_EINVAL with a reason. */
int gw_auth_load_token(gw_auth *a, const char *path, char *err, size_t errlen);

/* Adds a folder server-side paths may come from (must exist). */
int gw_auth_allow(gw_auth *a, const char *dir, char *err, size_t errlen);

/* 1 when no token is configured or header is "Bearer <token>". */
int gw_auth_check(const gw_auth *a, const char *header);

/* Resolves path (realpath: symlinks and .. followed) into resolved and
 * checks it is a regular file inside an allowed folder. Returns PF_OK,
 * PF_EINVAL (paths disabled, or outside every allowed folder: 403),
 * PF_ENOENT (no such file, or not a regular file: 404) with a reason. */
int gw_auth_path(const gw_auth *a, const char *path, char *resolved, size_t n, char *err, size_t errlen);

#endif
