/* gw_auth: owns who may ask the gateway what: the bearer token, the Host
 * and Origin rules of a tokenless gateway, and the folders server-side
 * paths may come from.
 * Defines gw_auth (the token read from --token-file, the --allow-host
 * names, the --allow-path folders with a directory descriptor each), a
 * constant-time Authorization header check, the Host/Origin check, and
 * opening a server-side path beneath its folder's descriptor.
 * Called by gw_opts.c (setup), gw_http.c (token, Host, Origin) and
 * gw_routes.c (paths). */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stddef.h>

#define GW_MAX_ALLOW 32

/* The one reply to every refused server-side path, whatever the reason
 * (outside every folder, escaping by .. or a symlink, a FIFO, a folder, a
 * device, unreadable): no answer tells what exists outside a folder. */
#define GW_PATH_REFUSED "path refused: not a regular file inside the allowed folders (outside, escaping, or not a plain file)"

typedef struct {
  char token[512];                /* "" no token required */
  int n_allow;
  char allow[GW_MAX_ALLOW][4096]; /* realpaths of the allowed folders */
  char allow_as[GW_MAX_ALLOW][4096]; /* the same folders as given (absolute, unresolved): a path
                                        through a symlinked folder names its files too */
  int allow_fd[GW_MAX_ALLOW];     /* each one's O_PATH descriptor, opened once */
  int n_hosts;
  char hosts[GW_MAX_ALLOW][256];  /* --allow-host names */
} gw_auth;

/* Reads the token from path (first line, surrounding blanks dropped; must
 * not be empty). The file must be a regular file owned by this process's
 * user with no group or other permission bits (0600 or 0400): anything
 * else is PF_EINVAL with the fix in err. PF_EIO / PF_EINVAL with a reason. */
int gw_auth_load_token(gw_auth *a, const char *path, char *err, size_t errlen);

/* Adds a folder server-side paths may come from (must exist); opens its
 * descriptor, kept for the life of the process. */
int gw_auth_allow(gw_auth *a, const char *dir, char *err, size_t errlen);

/* Adds a name a tokenless gateway accepts in the Host header. */
int gw_auth_allow_host(gw_auth *a, const char *name, char *err, size_t errlen);

/* 1 when no token is configured or header is "Bearer <token>". */
int gw_auth_check(const gw_auth *a, const char *header);

/* For a tokenless gateway bound to address: 1 when a request with these
 * Host and Origin headers (NULL: absent) may be served. With a token it is
 * always 1 (a browser cannot add the Authorization header cross-site).
 * Without one: any Origin header is refused, and the Host's name (its
 * port is not looked at) must be the bound address, an --allow-host name,
 * "localhost" or an IP literal when bound to loopback or a wildcard
 * (names a DNS-rebinding page cannot take). Absent Host (HTTP/1.0) passes. */
int gw_auth_origin_ok(const gw_auth *a, const char *address, const char *host, const char *origin);

/* Opens path for reading, once, beneath the descriptor of the allowed
 * folder its text begins with (openat2 RESOLVE_BENEATH and
 * RESOLVE_NO_MAGICLINKS, O_NONBLOCK, O_NOCTTY, O_CLOEXEC), and checks that
 * same descriptor is a regular file (fstat). Returns PF_OK with *fd (the
 * caller reads it and closes it), PF_ENOENT (a name missing inside the
 * folder: 404; nothing outside is ever looked up), or PF_EINVAL for every
 * other refusal with err = GW_PATH_REFUSED (or "disabled" when no folder is
 * allowed). */
int gw_auth_open(const gw_auth *a, const char *path, int *fd, char *err, size_t errlen);

#endif
