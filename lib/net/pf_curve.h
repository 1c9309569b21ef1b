/* pf_curve: owns ZeroMQ CURVE encryption and authentication between hosts.
 * Defines the key pair file format (pefleet keygen), the server and client
 * socket set-up from a pf_config, the roles, and the ZAP handler that admits
 * at each server socket only the client public keys of that socket's role.
 * Called by every daemon that binds or connects a ZeroMQ socket, by
 * pefleet ingest/keygen and by pf_rpc.
 *
 * Key pair file NAME.key (mode 0600), text, checked on read:
 *   pefleet-curve-keypair 1          magic and format version
 *   public <40 Z85 characters>
 *   secret <40 Z85 characters>
 * and NAME.pub beside it: the public key alone, "<40 Z85>\n" (what goes
 * into a server's curve_allow_dir or a client's curve_server_key). Lines
 * that are '#' alone or start with "# " are comments in both ('#' is also
 * a Z85 character).
 *
 * Settings (pf_config): curve = 1 turns it on (0: plain TCP, the default
 * for a fleet on loopback); curve_secret_file = this process's NAME.key;
 * curve_server_key = the servers' public key: the path of a NAME.pub (tried
 * first) or its 40 Z85 characters; curve_allow_dir = the servers' allow
 * folder, one list per role: clients/ (admitted at the broker's ingest
 * port, the router's score port and the similarity service), workers/
 * (encoder workers, at the broker's worker port), scorers/ (at the router's
 * scorer port). A key is admitted only at the sockets of the role whose
 * folder holds it (each role is its own ZAP domain, "pefleet-<role>");
 * *.pub files directly in curve_allow_dir belong to no role and are
 * ignored (a warning at start). One server key pair is shared by every
 * server socket of a fleet (broker, score router, similarity service). */
#ifndef PF_CURVE_H
#define PF_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "pf_config.h"

#define PF_CURVE_Z85_LEN 40
#define PF_CURVE_MAGIC "pefleet-curve-keypair"
#define PF_CURVE_VERSION 1
#define PF_CURVE_MAX_FILE 4096    /* a key file larger than this is refused */
#define PF_CURVE_MAX_ALLOWED 4096 /* public keys read from curve_allow_dir */

/* The role of the clients a server socket admits (its allow list). */
typedef enum { PF_CURVE_CLIENTS, PF_CURVE_WORKERS, PF_CURVE_SCORERS, PF_CURVE_NROLES } pf_curve_role;

/* "client", "worker", "scorer" (as pefleet keygen --role takes them). */
const char *pf_curve_role_name(pf_curve_role role);
/* The role's folder under curve_allow_dir: "clients", "workers", "scorers". */
const char *pf_curve_role_folder(pf_curve_role role);
/* Parses a role name; PF_EINVAL for another word. */
int pf_curve_role_parse(const char *name, pf_curve_role *role);

typedef struct {
  char pub[PF_CURVE_Z85_LEN + 1]; /* Z85 */
  char sec[PF_CURVE_Z85_LEN + 1]; /* Z85 */
} pf_curve_keypair;

/* Makes a new key pair (zmq_curve_keypair). PF_EIO when libzmq has no
 * CURVE support. */
int pf_curve_generate(pf_curve_keypair *kp, char *err, size_t errlen);

/* Writes DIR/NAME.key (0600, created exclusively: an existing file is
 * PF_EINVAL unless force) and DIR/NAME.pub (0644). NAME: 1-64 characters
 * of [A-Za-z0-9._-], not starting with '.'. */
int pf_curve_write(const char *dir, const char *name, const pf_curve_keypair *kp, int force, char *err, size_t errlen);

/* Writes pub (40 Z85) as ALLOW_DIR/<role folder>/NAME.pub (0644), making
 * the folders (0755) if missing. PF_EINVAL when NAME.pub is already in
 * another role's folder (one role per key). */
int pf_curve_allow(const char *allow_dir, pf_curve_role role, const char *name, const char *pub, char *err,
                   size_t errlen);

/* Parses a key pair file's bytes: magic, version, both keys valid Z85 and
 * the public key the one the secret key gives. */
int pf_curve_parse_keypair(const uint8_t *buf, size_t len, pf_curve_keypair *kp, char *err, size_t errlen);

/* Parses a NAME.pub's bytes (or a bare Z85 string) into out. */
int pf_curve_parse_public(const uint8_t *buf, size_t len, char out[PF_CURVE_Z85_LEN + 1], char *err, size_t errlen);

/* Reads a key pair file; refuses one that group or others may read. */
int pf_curve_read_keypair(const char *path, pf_curve_keypair *kp, char *err, size_t errlen);

/* A server (bind) socket admitting the clients of role: before zmq_bind.
 * No-op when c->curve is 0.
 * Needs the ZAP handler of this process running (pf_curve_zap_start), so
 * that a server never admits everyone by mistake; and the socket refuses
 * new clients once the handler stops (ZMQ_ZAP_ENFORCE_DOMAIN, where libzmq
 * has it, as Debian's does). */
int pf_curve_server(void *sock, const pf_config *c, pf_curve_role role, char *err, size_t errlen);

/* A client (connect) socket: before zmq_connect. No-op when c->curve is 0. */
int pf_curve_client(void *sock, const pf_config *c, char *err, size_t errlen);

/* Starts the ZAP handler on zctx (inproc://zeromq.zap.01) in its own
 * thread: one per process. No-op when c->curve is 0; PF_EINVAL when
 * curve_allow_dir is unset or unreadable. The allow lists are read at start
 * and read again (at most once a second) when an unknown key knocks, so a
 * key dropped into the folder is admitted without a restart. Each refusal
 * is logged (pf_log) with the key, the peer's address, the socket's role
 * and, for a key of another role, that role; and so are
 * handshakes that fail before a key is known (a plain client, a client with
 * another server key), seen through a monitor that pf_curve_server puts on
 * each server socket (at most 8 per process; libzmq reports the endpoint
 * they knocked on, not their address); repeats are logged at most once per
 * 10 s. */
int pf_curve_zap_start(void *zctx, const pf_config *c, char *err, size_t errlen);

/* Stops the handler (before zmq_ctx_term). Harmless when not started. */
void pf_curve_zap_stop(void);

#endif
