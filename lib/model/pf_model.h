/* pf_model: owns a trained network and its file format.
 * Defines pf_model (dense layers with ReLU between them and softmax at the
 * end, float32 weights in Keras's kernel layout [in][out]), the versioned
 * binary file (magic "PFNN", format version, feature schema id, layer
 * sizes, class names, decision threshold, version strings, float32
 * weights; size-checked on read) and batch inference with OpenBLAS.
 * Called by the trainer, import-keras, evaluate and (later) the scorer. */
#ifndef PF_MODEL_H
#define PF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PF_MODEL_MAGIC "PFNN"
#define PF_MODEL_FORMAT 2        /* written when the model has a baseline; 1 otherwise (and read too) */
#define PF_MODEL_MAX_LAYERS 8
#define PF_MODEL_MAX_WIDTH 65536
#define PF_MODEL_MAX_CLASSES 16
#define PF_MODEL_NAME 64
#define PF_MODEL_FILE "model.pfnn" /* name of the weights file in a model folder */
#define PF_MODEL_MAX_PARAMS (1u << 28) /* weights + biases of all layers (1 GiB of float32) */

typedef struct {
  uint32_t n_layers;                     /* dense layers (3 for the seed) */
  uint32_t sizes[PF_MODEL_MAX_LAYERS + 1]; /* sizes[0] inputs, sizes[i] units of layer i */
  uint16_t schema;                       /* feature schema id (PF_ERGO486_SCHEMA_ID) */
  char classes[PF_MODEL_MAX_CLASSES][PF_MODEL_NAME]; /* sizes[n_layers] names */
  double threshold;                      /* verdict: class 1 when p1 >= threshold */
  char version[PF_MODEL_NAME];           /* this model's version */
  char parent[PF_MODEL_NAME];            /* the version it was trained from, or "" */
  float *w[PF_MODEL_MAX_LAYERS];         /* sizes[i] x sizes[i+1], row-major [in][out] */
  float *b[PF_MODEL_MAX_LAYERS];         /* sizes[i+1] */
  float *baseline;                       /* sizes[0] values the explanations start from, or NULL */
  char baseline_name[PF_MODEL_NAME];     /* what it is ("clean-mean of train", ...) */
} pf_model;

/* Allocates a model with zero weights for the given sizes (n_layers + 1
 * entries: 1..PF_MODEL_MAX_LAYERS layers, widths 1..PF_MODEL_MAX_WIDTH,
 * 2..PF_MODEL_MAX_CLASSES outputs, at most PF_MODEL_MAX_PARAMS weights and
 * biases). Classes default to "class0", "class1", ...; threshold 0.5;
 * schema PF_ERGO486_SCHEMA_ID; version and parent "".
 * Returns PF_OK, PF_EINVAL (bad sizes) or PF_ENOMEM. */
int pf_model_new(uint32_t n_layers, const uint32_t *sizes, pf_model **out);
void pf_model_free(pf_model **m);

/* Number of classes: sizes[n_layers]. */
uint32_t pf_model_classes(const pf_model *m);

/* Number of weights and biases over all layers. */
size_t pf_model_params(const pf_model *m);

/* Copies x (sizes[0] values, finite) as the model's explanation baseline,
 * named name (no control bytes, shorter than PF_MODEL_NAME); x NULL
 * removes it. PF_OK, PF_EINVAL or PF_ENOMEM. */
int pf_model_set_baseline(pf_model *m, const float *x, const char *name);

/* Serialized size, encode into a buffer, decode from bytes (checks magic,
 * format version, every size and count against the length; reason in err).
 * Layout (little-endian): "PFNN", u32 format, u64 total length, u16 schema,
 * u16 0, u32 n_layers, u32 sizes[n_layers + 1], f64 threshold, version and
 * parent (u16 length + bytes each), u32 classes + that many names (u16
 * length + bytes), per layer f32 w[in*out] then f32 b[out], then (format
 * 2 only, for a model with a baseline) u32 sizes[0], the baseline's name
 * (u16 length + bytes) and f32 baseline[sizes[0]], u32 CRC-32 of
 * everything before it. A model without a baseline is written as format 1,
 * byte for byte as before.
 * encode returns PF_OK, or PF_EINVAL when m is not encodable (bad sizes,
 * names too long or with control bytes, threshold outside [0,1]) or cap is
 * smaller than pf_model_encoded_size(m). decode returns PF_OK, PF_EINVAL
 * (malformed), PF_ETRUNC (shorter than it declares), PF_ELIMIT (a size
 * above a cap) or PF_ENOMEM; *out is set only on PF_OK. */
size_t pf_model_encoded_size(const pf_model *m);
int pf_model_encode(const pf_model *m, uint8_t *buf, size_t cap);
int pf_model_decode(const uint8_t *buf, size_t len, pf_model **out, char *err, size_t errlen);

/* DIR/model.pfnn, written atomically (temporary file, fsync, rename);
 * DIR is created when missing (its parent must exist). save returns
 * PF_OK, PF_EINVAL (see encode), PF_ENOMEM or PF_EIO (errno set); load
 * returns what decode returns, or PF_ENOENT / PF_EIO with the reason in err. */
int pf_model_save(const pf_model *m, const char *dir);
int pf_model_load(const char *dir, pf_model **out, char *err, size_t errlen);

/* Probabilities for n rows of x (n x sizes[0], row-major) into probs
 * (n x classes): ReLU after every hidden layer, softmax at the end, no
 * dropout. Returns PF_OK or PF_ENOMEM. */
int pf_model_predict(const pf_model *m, const float *x, size_t n, float *probs);

/* The probability of class cls (< classes) for each of n rows of x into
 * out (n values), by chunks: what evaluation needs of a data set (p of the
 * malicious class) without an n x classes buffer. PF_OK, PF_EINVAL or
 * PF_ENOMEM. */
int pf_model_predict_class(const pf_model *m, const float *x, size_t n, uint32_t cls, float *out);

/* The verdict for one row of probabilities: with two classes, 1 when
 * probs[1] >= (float)threshold, else 0; with more, the most probable class. */
uint32_t pf_model_verdict(const pf_model *m, const float *probs);

#endif
