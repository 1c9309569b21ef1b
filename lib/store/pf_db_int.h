/* pf_db_int: what pf_db's own files share (pf_db.c, pf_db_scan.c,
 * pf_db_stream.c, pf_db_sub.c); never included outside lib/store.
 * Defines the connection struct, the SIGPIPE guard, the error and reply
 * helpers, and the decoding of one sample record, so that a batched read
 * decodes exactly as pf_db_get does. Names carry a double underscore. */
#ifndef PF_DB_INT_H
#define PF_DB_INT_H

#include <hiredis/hiredis.h>
#include <signal.h>

typedef struct pf_db pf_db; /* pf_db.h (not included: pf_db.c includes this) */
struct pf_db_sample;

#define PF__DB_NSCRIPTS 16     /* room in the script table (pf_db.c) */
#define PF__DB_MAX_LABELS_READ 32 /* labels put into pf_db_sample.labels */
#define PF__DB_LABELS_LISTED 1000 /* a record with more labels lists none (GET script) */

struct pf_db {
  redisContext *c;     /* NULL while disconnected */
  char host[256];
  char *password;      /* NULL: no AUTH; wiped at free */
  int port, dbnum, timeout_ms;
  char fleet[64];      /* "" : no fleet check */
  char sha1[PF__DB_NSCRIPTS][41];
  char err[512];
};

/* A write to a socket the server closed raises SIGPIPE; hiredis does not
 * ask the kernel to hold it back, so it is blocked (and a pending one taken
 * away) around each exchange: on before, off after. */
typedef struct {
  sigset_t old;
  int was_pending;
} pf__db_guard;
void pf__db_guard_on(pf__db_guard *g);
void pf__db_guard_off(pf__db_guard *g);

/* The reason into db->err, on one line. */
void pf__db_err(pf_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pf__db_err_reply(pf_db *db, const redisReply *r);
void pf__db_unexpected(pf_db *db, const char *what);
/* Why context c has no reply, in words (buf: room for a formatted one). */
const char *pf__db_reason(const pf_db *db, const redisContext *c, char *buf, size_t n);

/* (Re)opens db->c (AUTH, SELECT, fleet check), or PF_EIO / PF_EFLEET with
 * db->err; close drops it. Call with the guard on. */
int pf__db_open(pf_db *db);
void pf__db_close(pf_db *db);

/* A second connection of the same fleet (close-on-exec, AUTH, SELECT, the
 * fleet check, the guard on while it dials), for a subscriber; NULL with
 * the reason in db->err. The caller frees it with redisFree. */
redisContext *pf__db_dial(pf_db *db, int timeout_ms);

/* One command, reconnecting once: the reply (an error reply too), or NULL
 * with db->err when none came. */
redisReply *pf__db_raw(pf_db *db, int argc, const char **argv, const size_t *lens);
/* pf__db_raw, and an error reply is NULL with db->err too. */
redisReply *pf__db_cmd(pf_db *db, int argc, const char **argv, const size_t *lens);

int pf__db_sha_ok(pf_db *db, const char *sha);
void pf__db_rec_key(char *buf, size_t n, const char *sha, const char *suffix);
int pf__db_rep_ll(const redisReply *r, long long *v);
void pf__db_rep_copy(const redisReply *r, char *out, size_t n);
int pf__db_is_str(const redisReply *r);
void pf__db_script_sha1(const char *s, char hex[41]);

/* The record's fields pf_db_get reads, in its HMGET order (PF__DB_FIELDS
 * spells them for a command). */
enum { PF__F_LABEL, PF__F_SIZE, PF__F_FIRST_SEEN, PF__F_STATUS, PF__F_REASON, PF__F_SCHEMA, PF__F_SPLIT,
       PF__F_ATTEMPTS, PF__F_VEC, PF__F_COUNT };
extern const char *const pf__db_fields[PF__F_COUNT];

/* Fills s (already zeroed, s->sha set) from one record: f[PF__F_COUNT]
 * field replies (NULL or nil: absent), labels (the first labels, sorted,
 * or NULL) and nlabels. Exactly pf_db_get's rules: PF_OK, or PF_EINVAL for
 * a vector that does not decode (every other field kept, has_vector 0, the
 * reason in db->err). */
int pf__db_decode(pf_db *db, const redisReply *const *f, const redisReply *labels, long long nlabels,
                  struct pf_db_sample *s);

#endif
