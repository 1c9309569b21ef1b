/* pf_folder_json: the model folder parsers' shared reading of cJSON trees
 * (internal to pf_folder_*.c: the double-underscore names).
 * Defines a capped parse of a whole file into an object, numbers that read
 * as NaN when absent, capped number arrays and bounded string copies.
 * Called by the pf_folder_*.c files only. */
#ifndef PF_FOLDER_JSON_H
#define PF_FOLDER_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "pf_folder.h"

/* buf[0..len) as a JSON object (PF_FOLDER_MAX_FILE at most), or NULL with
 * the reason in why. Caller cJSON_Deletes. */
cJSON *pf_folder__parse(const uint8_t *buf, size_t len, char *why, size_t whylen);

/* o[key] as a number; NaN when o is NULL or the value absent or not a number. */
double pf_folder__num(const cJSON *o, const char *key);

/* o[key] as a count in [0, 1e15), else 0. */
size_t pf_folder__count(const cJSON *o, const char *key);

/* o[key], an array of numbers (null and other entries as NaN) at most
 * PF_FOLDER_MAX_POINTS long, into a new array (*out; at least one
 * allocated). PF_OK, PF_EINVAL (not an array), PF_ELIMIT, PF_ENOMEM. */
int pf_folder__darray(const cJSON *o, const char *key, double **out, size_t *n);

/* v's string (or "" when v is not a string) into dst[cap], cut to fit. */
void pf_folder__str(char *dst, size_t cap, const cJSON *v);

/* stats.json's "split" object: s as unformatted JSON text (malloc'd; NULL
 * when out of memory), and o read into s (present = 0 when o is not an
 * object; absent fields 0). pf_folder_split.c. */
char *pf_folder__split_json(const pf_folder_split_info *s);
void pf_folder__parse_split(const cJSON *o, pf_folder_split_info *s);

#endif
