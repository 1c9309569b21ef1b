/* pf_curve: owns ZeroMQ CURVE encryption and authentication between hosts.
 * Defines the key pair file format (pefleet keygen), the server and client
 * socket set-up from a pf_config, and the ZAP handler that admits only the
 * client public keys listed in curve_allow_dir.
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
 * first) or its 40 Z85 characters; curve_allow_dir = folder of *.pub a server admits. One
 * server key pair is shared by every server socket of a fleet (broker,
 * score router, similarity service). */
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

/* Parses a key pair file's bytes: magic, version, both keys valid Z85 and
 * the public key the one the secret key gives. */
int pf_curve_parse_keypair(const uint8_t *buf, size_t len, pf_curve_keypair *kp, char *err, size_t errlen);

/* Parses a NAME.pub's bytes (or a bare Z85 string) into out. */
int pf_curve_parse_public(const uint8_t *buf, size_t len, char out[PF_CURVE_Z85_LEN + 1], char *err, size_t errlen);

/* Reads a key pair file; refuses one that group or others may read. */
int pf_curve_read_keypair(const char *path, pf_curve_keypair *kp, char *err, size_t errlen);

/* A server (bind) socket: before zmq_bind. No-op when c->curve is 0.
 * Needs the ZAP handler of this process running (pf_curve_zap_start), so
 * that a server never admits everyone by mistake; and the socket refuses
 * new clients once the handler stops (ZMQ_ZAP_ENFORCE_DOMAIN, where libzmq
 * has it, as Debian's does). */
int pf_curve_server(void *sock, const pf_config *c, char *err, size_t errlen);

/* A client (connect) socket: before zmq_connect. No-op when c->curve is 0. */
int pf_curve_client(void *sock, const pf_config *c, char *err, size_t errlen);

/* Starts the ZAP handler on zctx (inproc://zeromq.zap.01) in its own
 * thread: one per process. No-op when c->curve is 0; PF_EINVAL when
 * curve_allow_dir is unset or unreadable. The allow list is read at start
 * and read again (at most once a second) when an unknown key knocks, so a
 * key dropped into the folder is admitted without a restart. Each refusal
 * is logged (pf_log) with the key and the peer's address, and so are
 * handshakes that fail before a key is known (a plain client, a client with
 * another server key), seen through a monitor that pf_curve_server puts on
 * each server socket (at most 8 per process; libzmq reports the endpoint
 * they knocked on, not their address); repeats are logged at most once per
 * 10 s. */
int pf_curve_zap_start(void *zctx, const pf_config *c, char *err, size_t errlen);

/* Stops the handler (before zmq_ctx_term). Harmless when not started. */
void pf_curve_zap_stop(void);

#endif
