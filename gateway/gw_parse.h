/* gw_parse: owns turning an HTTP request's inputs into the gateway's parameters.
 * Defines gw_params (x as a file upload or text, sha256, threshold, top), the
 * capped field accumulator the multipart/urlencoded/query paths feed, the
 * bounded JSON body decoder ({"x": "..."} or {"x": [numbers]}) and the
 * comma-separated vector decoder. Pure functions of (buf, len): no sockets.
 * Called by gw_http.c (request bodies, query strings), gw_routes.c (x) and
 * tests/fuzz/fuzz_gwparse.c. */
#ifndef GW_PARSE_H
#define GW_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define GW_SMALL_FIELD 128          /* sha256, threshold, top */
#define GW_TEXT_MAX (4u << 20)      /* x given as text (a vector or a path) */
#define GW_JSON_DEPTH 32            /* nesting of skipped JSON values */
#define GW_VECTOR_MAX 65536         /* values in one vector */

typedef struct {
  uint8_t *x;            /* the bytes of x (malloc'd, NUL-terminated) */
  size_t x_len, x_cap;
  size_t x_limit;        /* the largest x accepted (the upload cap) */
  int x_set;             /* 1: x was given */
  int x_file;            /* 1: x is a file upload (bytes), else text */
  char sha256[GW_SMALL_FIELD];
  char threshold[GW_SMALL_FIELD];
  char top[GW_SMALL_FIELD];
  char explain[GW_SMALL_FIELD]; /* /v1/scan: K top features, or true (10) */
  int explain_set;              /* explain was given (maybe empty: the default) */
  int too_large;         /* 1: x passed x_limit */
  char bad[160];         /* first problem found ("" none) */
} gw_params;

/* Starts empty params whose x may hold up to x_limit bytes. */
void gw_params_init(gw_params *p, size_t x_limit);
void gw_params_destroy(gw_params *p);

/* Makes room for an x of n bytes at once (the body's Content-Length, when
 * it is within x_limit), so a large upload is not copied again at every
 * doubling. Best effort: nothing changes when n is too large or memory is
 * short. */
void gw_params_reserve(gw_params *p, size_t n);

/* Appends data to the field key (x, sha256, threshold, top; other keys
 * are ignored). is_file: the field is a file upload. A value past its cap
 * sets too_large (x) or bad (the others). Returns PF_OK, PF_ELIMIT (cap
 * passed) or PF_ENOMEM. */
int gw_params_add(gw_params *p, const char *key, const uint8_t *data, size_t len, int is_file);

/* Decodes a JSON body: an object whose members x, sha256, threshold and top
 * are taken (x: a string, or an array of numbers, kept as their text
 * joined by commas; the others: strings or numbers); other members are
 * checked and skipped. Returns PF_OK, PF_EINVAL with a one-line reason
 * (not JSON, not an object, nesting past GW_JSON_DEPTH, a wrong type),
 * PF_ELIMIT or PF_ENOMEM. */
int gw_parse_json(const uint8_t *buf, size_t len, gw_params *p, char *err, size_t errlen);

/* Decodes "v0,v1,...": numbers separated by commas, blanks around each
 * allowed, optionally inside [ ]. Writes up to cap values into out and
 * their count into *n. Returns PF_OK, or PF_EINVAL with a reason naming the
 * value (empty, not a number, NaN or infinite, more than cap values). */
int gw_parse_vector(const char *s, size_t len, double *out, size_t cap, size_t *n, char *err, size_t errlen);

/* 1 when text x names a server-side path (it holds a '/'), 0 when it is
 * meant as a vector. */
int gw_parse_is_path(const char *s, size_t len);

#endif
