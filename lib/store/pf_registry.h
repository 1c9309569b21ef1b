/* pf_registry: owns the model registry in Redis: which models exist, which
 * one serves, and the announcement when that changes.
 * Defines register/promote/rollback/list and loading the current model's
 * weights from Redis (so scorers on other hosts need no shared folder).
 * Called by `pefleet promote/models/rollback/retrain`, `pefleet up` and the
 * scorers.
 *
 * Keys:
 *   pf:model:current     STRING  version of the model that serves
 *   pf:models            ZSET    every registered version, score = registration time (ms)
 *   pf:model:<version>   HASH    blob (model.pfnn bytes), parent, registered (unix s),
 *                                dir (folder it came from), samples (training set size),
 *                                stats (the folder's stats.json text, "" when none),
 *                                gate (retrain's verdict on it, JSON: decision, reason and the
 *                                figures of both models on the test split and fresh window)
 *   pf:model:promotions  LIST    promoted versions, newest first (rollback's memory)
 * Channel pf:model: the version, published on every promote and rollback.
 * Every change (register, promote, rollback, set_gate) is one Lua script
 * (pf_db_eval), so a crash never leaves one half made. */
#ifndef PF_REGISTRY_H
#define PF_REGISTRY_H

#include <stddef.h>

#include "pf_db.h"
#include "pf_model.h"

#define PF_REGISTRY_CHANNEL "pf:model"
#define PF_REGISTRY_MAX_STATS (256u * 1024u) /* stats.json text kept per model */
#define PF_REGISTRY_MAX_BLOB (64u * 1024u * 1024u)

typedef struct {
  char version[PF_MODEL_NAME];
  char parent[PF_MODEL_NAME];
  long long registered;   /* unix seconds */
  long long samples;      /* training samples, -1 unknown */
  char dir[1024];
  int current;            /* 1: this is pf:model:current */
} pf_registry_entry;

/* Reads DIR/model.pfnn (and DIR/stats.json when present) and records it
 * under its version (the model's version string; a model without one gets
 * the first 16 hex digits of its file's sha256). Registering the same
 * version again refreshes dir/samples and changes nothing else. samples:
 * training set size, -1 unknown. version_out (PF_MODEL_NAME bytes) may be
 * NULL. Returns PF_OK, PF_ENOENT/PF_EINVAL for a folder without a valid
 * model (reason in err), PF_EIO for Redis. */
int pf_registry_register(pf_db *db, const char *dir, long long samples, char *version_out, char *err,
                         size_t errlen);

/* Makes version current, remembers it for rollback and publishes it on
 * PF_REGISTRY_CHANNEL. PF_ENOENT for an unregistered version. Promoting
 * the current version again is a no-op that still publishes. */
int pf_registry_promote(pf_db *db, const char *version, char *err, size_t errlen);

/* Makes the previously promoted version current again (and publishes);
 * *version_out (PF_MODEL_NAME) gets it. PF_ENOENT when there is none. */
int pf_registry_rollback(pf_db *db, char *version_out, char *err, size_t errlen);

/* The current version into version (PF_MODEL_NAME bytes); PF_ENOENT when
 * no model was promoted. */
int pf_registry_current(pf_db *db, char *version);

/* Decodes a registered model's weights (pf_model_decode's checks). */
int pf_registry_load(pf_db *db, const char *version, pf_model **out, char *err, size_t errlen);

/* One entry; stats (may be NULL) receives a malloc'd copy of its
 * stats.json text ("" when none; caller frees). PF_ENOENT when unknown. */
int pf_registry_get(pf_db *db, const char *version, pf_registry_entry *e, char **stats);

/* Records retrain's verdict on a registered version: gate_json, a JSON
 * object of at most PF_REGISTRY_MAX_GATE bytes (PF_EINVAL beyond).
 * PF_ENOENT for an unregistered version. */
#define PF_REGISTRY_MAX_GATE (16u * 1024u)
int pf_registry_set_gate(pf_db *db, const char *version, const char *gate_json);

/* The verdict recorded for version into *gate (malloc'd; caller frees;
 * NULL when none was recorded). PF_OK, PF_EINVAL, PF_EIO. */
int pf_registry_gate(pf_db *db, const char *version, char **gate);

/* Up to max entries, newest registration first; *n how many. */
int pf_registry_list(pf_db *db, pf_registry_entry *out, int max, int *n);

#endif
