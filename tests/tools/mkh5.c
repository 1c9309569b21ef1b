/* mkh5: writes a small Keras-2-shaped HDF5 model file, right or wrong on
 * purpose, for the import-keras integration test.
 *
 *   mkh5 [--keras VERSION] [--no-config] OUT.h5 LAYER...
 *
 * Each LAYER is a Dense layer "INxUNITS[:BIAS][@ACTIVATION]": the kernel is
 * IN x UNITS, the bias BIAS long (default UNITS), the activation relu
 * (softmax for the last layer) unless given. A Dropout layer (no weights,
 * as Keras writes it) goes between Dense layers. The file has what Keras
 * 2.2.4's save_model writes and import-keras reads: the root attributes
 * keras_version, backend and model_config, and model_weights with
 * layer_names, per layer weight_names and <layer>/<layer>/kernel:0, bias:0.
 * Weights are small deterministic values. Exit status: 0 written, 1 HDF5
 * failed, 2 usage. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 16

typedef struct {
  unsigned in, units, bias;
  char act[32];
  char name[32];
} dense;

static int usage(void) {
  fprintf(stderr, "usage: mkh5 [--keras VERSION] [--no-config] OUT.h5 INxUNITS[:BIAS][@ACT]...\n");
  return 2;
}

/* A scalar variable-length string attribute. */
static int str_attr(hid_t obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = -1;
  int ok = t >= 0 && s >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
           (a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, &value) >= 0;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  return ok ? 0 : -1;
}

/* A list of fixed-length, NUL-padded strings, as h5py writes numpy bytes arrays. */
static int str_list_attr(hid_t obj, const char *name, char names[][64], size_t n) {
  size_t w = 1;
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) > w) w = strlen(names[i]);
  char *buf = calloc(n ? n : 1, w);
  for (size_t i = 0; i < n; i++) memcpy(buf + i * w, names[i], strlen(names[i]));
  hsize_t dim = n;
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate_simple(1, &dim, NULL), a = -1;
  int ok = t >= 0 && s >= 0 && H5Tset_size(t, w) >= 0 && H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0 &&
           (a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, buf) >= 0;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  free(buf);
  return ok ? 0 : -1;
}

/* An empty float64 list: Keras's weight_names of a layer without weights. */
static int empty_attr(hid_t obj, const char *name) {
  hsize_t dim = 0;
  hid_t s = H5Screate_simple(1, &dim, NULL), a = -1;
  int ok = s >= 0 && (a = H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT)) >= 0;
  if (a >= 0) H5Aclose(a);
  if (s >= 0) H5Sclose(s);
  return ok ? 0 : -1;
}

static int dataset(hid_t grp, const char *name, int rank, const hsize_t *dims, unsigned seed) {
  size_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(0.1 * sin((double)(i + 1) * (0.37 + seed)));
  hid_t s = H5Screate_simple(rank, dims, NULL), d = -1;
  int ok = s >= 0 &&
           (d = H5Dcreate2(grp, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
           H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
  if (d >= 0) H5Dclose(d);
  if (s >= 0) H5Sclose(s);
  free(v);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *keras = "2.2.4", *out = NULL;
  int config = 1, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--keras") == 0 && i + 1 < argc) keras = argv[++i];
    else if (strcmp(argv[i], "--no-config") == 0) config = 0;
    else return usage();
  }
  if (i + 1 >= argc) return usage();
  out = argv[i++];
  dense L[MAX_LAYERS];
  int n = 0;
  for (; i < argc; i++) {
    if (n == MAX_LAYERS) return usage();
    dense *d = &L[n];
    memset(d, 0, sizeof *d);
    int used = 0;
    if (sscanf(argv[i], "%ux%u%n", &d->in, &d->units, &used) != 2) return usage();
    d->bias = d->units;
    const char *p = argv[i] + used;
    if (*p == ':') d->bias = (unsigned)strtoul(p + 1, (char **)&p, 10);
    if (*p == '@') snprintf(d->act, sizeof d->act, "%s", p + 1);
    else if (*p) return usage();
    n++;
  }
  for (int k = 0; k < n; k++) {
    snprintf(L[k].name, sizeof L[k].name, "dense_%d", k + 1);
    if (!L[k].act[0]) snprintf(L[k].act, sizeof L[k].act, "%s", k + 1 == n ? "softmax" : "relu");
  }

  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) { fprintf(stderr, "mkh5: cannot create %s\n", out); return 1; }
  int bad = str_attr(f, "keras_version", keras) || str_attr(f, "backend", "tensorflow");
  if (config) {
    char *cfg = malloc(4096 + 512 * (size_t)n);
    size_t o = (size_t)sprintf(cfg, "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential_1\", \"layers\": [");
    for (int k = 0; k < n; k++) {
      if (k) o += (size_t)sprintf(cfg + o, ", {\"class_name\": \"Dropout\", \"config\": {\"name\": \"dropout_%d\", "
                                           "\"trainable\": true, \"rate\": 0.3, \"noise_shape\": null, \"seed\": null}}, ", k);
      o += (size_t)sprintf(cfg + o,
                           "{\"class_name\": \"Dense\", \"config\": {\"name\": \"%s\", \"trainable\": true, "
                           "\"units\": %u, \"activation\": \"%s\", \"use_bias\": true, \"kernel_initializer\": "
                           "{\"class_name\": \"VarianceScaling\", \"config\": {\"scale\": 1.0, \"mode\": \"fan_avg\"}}, "
                           "\"bias_regularizer\": null}}",
                           L[k].name, L[k].units, L[k].act);
    }
    sprintf(cfg + o, "]}}");
    bad |= str_attr(f, "model_config", cfg);
    free(cfg);
  }
  hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  char names[2 * MAX_LAYERS][64];
  int nn = 0;
  for (int k = 0; k < n; k++) {
    if (k) snprintf(names[nn++], 64, "dropout_%d", k);
    snprintf(names[nn++], 64, "%s", L[k].name);
  }
  bad |= mw < 0 || str_attr(mw, "keras_version", keras) || str_list_attr(mw, "layer_names", names, (size_t)nn);
  for (int k = 0; k < n && !bad; k++) {
    if (k) {
      char dn[32];
      snprintf(dn, sizeof dn, "dropout_%d", k);
      hid_t g = H5Gcreate2(mw, dn, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      bad |= g < 0 || empty_attr(g, "weight_names");
      if (g >= 0) H5Gclose(g);
    }
    hid_t g = H5Gcreate2(mw, L[k].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char wn[2][64];
    snprintf(wn[0], 64, "%s/kernel:0", L[k].name);
    snprintf(wn[1], 64, "%s/bias:0", L[k].name);
    bad |= g < 0 || str_list_attr(g, "weight_names", wn, 2);
    hid_t inner = g >= 0 ? H5Gcreate2(g, L[k].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    hsize_t kd[2] = {L[k].in, L[k].units}, bd[1] = {L[k].bias};
    bad |= inner < 0 || dataset(inner, "kernel:0", 2, kd, (unsigned)k) || dataset(inner, "bias:0", 1, bd, (unsigned)k + 7);
    if (inner >= 0) H5Gclose(inner);
    if (g >= 0) H5Gclose(g);
  }
  if (mw >= 0) H5Gclose(mw);
  bad |= H5Fclose(f) < 0;
  if (bad) { fprintf(stderr, "mkh5: writing %s failed\n", out); return 1; }
  return 0;
}
