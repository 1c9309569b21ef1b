/* pf_keras_config: owns reading a Keras 2 model_config (the JSON text an
 * HDF5 model file carries) into the list of its layers: each layer's
 * class (Dense, Dropout, InputLayer, ...), name and activation.
 * Sequential models (a "layers" list, or Keras <= 2.1's bare list) and
 * functional ones are taken. Parsed from bytes and a length with cJSON,
 * every count and length capped; fuzzed by tests/fuzz/fuzz_kerascfg.c.
 * Called by pf_keras.c (in its isolated reader). */
#ifndef PF_KERAS_CONFIG_H
#define PF_KERAS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define PF_KERAS_NAME 64             /* bytes of a layer name or class, NUL included */
#define PF_KERAS_MAX_CONFIG (4u << 20) /* model_config bytes taken */

typedef struct {
  char name[PF_KERAS_NAME], cls[PF_KERAS_NAME], activation[32]; /* activation "" when it has none */
} pf_keras_layer;

/* The layers of the model_config in buf (len bytes, no NUL needed), at
 * most max of them, into out. Returns how many, or -1 with one line in
 * why: not valid JSON (or more than PF_KERAS_MAX_CONFIG bytes), no
 * "config", no layer list, more than max layers, a layer without a class
 * name or name (or one too long), an activation that is not a short
 * string. */
int pf_keras_config_parse(const uint8_t *buf, size_t len, pf_keras_layer *out, int max, char *why, size_t whylen);

#endif
