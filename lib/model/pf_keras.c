/* Keras 2 HDF5 files -> pf_model (see pf_keras.h).
 *
 * libhdf5 is not hardened against crafted files, so the file is read in a
 * forked child under a CPU limit; the child hands the weights back as a
 * PFNN byte string, which the parent decodes with every check of
 * pf_model_decode. A malformed file therefore costs one error line, never
 * the command (mutated copies of the seed's model.h5 do crash libhdf5
 * 1.10 now and then). */
#include "pf_keras.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_io.h"
#include "pf_keras_config.h"
#include "pf_sandbox.h"
#include "pf_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define H5_MAX_FILE ((uint64_t)4 << 30) /* larger .h5 files are refused */
#define MAX_H5_LAYERS 64                /* entries of layer_names / the config's layers */
#define MAX_STR_ATTR 4096               /* bytes of one fixed-length string */
#define CHILD_CPU_SECONDS 120
#define CHILD_MEM ((rlim_t)8 << 30) /* address space of the reader: the largest model, twice, and HDF5 */

/* ---- what the child hands back -------------------------------------------- */

typedef struct {
  int ok;
  char err[512];
  char keras_version[32];
  char backend[32];
  uint32_t n_dense;
  char dense[PF_MODEL_MAX_LAYERS][PF_KERAS_NAME]; /* the Dense layers' names, in order */
  uint64_t model_len;                         /* PFNN bytes that follow */
} child_report;

/* snprintf for messages, where cutting a long path short is fine. */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, n, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void report_err(child_report *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
}

/* ---- HDF5 reading (in the child) ------------------------------------------ */

/* The innermost message on HDF5's error stack. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e && e->desc && e->desc[0]) snprintf((char *)data, 200, "%s", e->desc);
  return 0;
}
static const char *h5_reason(char *buf) {
  strcpy(buf, "HDF5 error");
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, buf);
  return buf;
}

static void h5_close(hid_t *id, herr_t (*fn)(hid_t)) {
  if (*id >= 0) fn(*id);
  *id = -1;
}

/* Reads the string attribute name of obj (a scalar or a list, fixed or
 * variable length) into out: up to max NUL-terminated entries, outlen
 * bytes apart; *count gets how many. An absent attribute gives PF_ENOENT;
 * an empty non-string list (as Keras writes for Dropout's weight_names)
 * gives 0 entries; more than max entries PF_ELIMIT. */
static int read_str_attr(hid_t obj, const char *name, char *out, size_t outlen, size_t max, size_t *count,
                         char *why, size_t whylen) {
  char h5why[200];
  *count = 0;
  htri_t ex = H5Aexists(obj, name);
  if (ex == 0) return PF_ENOENT;
  if (ex < 0) {
    say(why, whylen, "attribute %s: %s", name, h5_reason(h5why));
    return PF_EINVAL;
  }
  int rc = PF_EINVAL;
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT), type = -1, space = -1, mem = -1;
  char **vl = NULL, *fixed = NULL;
  if (attr < 0 || (type = H5Aget_type(attr)) < 0 || (space = H5Aget_space(attr)) < 0) {
    say(why, whylen, "attribute %s: %s", name, h5_reason(h5why));
    goto out;
  }
  hssize_t np = H5Sget_simple_extent_npoints(space);
  if (np < 0) {
    say(why, whylen, "attribute %s: %s", name, h5_reason(h5why));
    goto out;
  }
  if (np == 0) { rc = PF_OK; goto out; }
  if (H5Tget_class(type) != H5T_STRING) {
    say(why, whylen, "attribute %s is not text", name);
    goto out;
  }
  if ((size_t)np > max) {
    say(why, whylen, "attribute %s has %lld entries (at most %zu)", name, (long long)np, max);
    rc = PF_ELIMIT;
    goto out;
  }
  htri_t var = H5Tis_variable_str(type);
  mem = H5Tcopy(H5T_C_S1);
  size_t fsize = var > 0 ? 0 : H5Tget_size(type);
  if (var < 0 || mem < 0 || (var == 0 && (fsize == 0 || fsize > MAX_STR_ATTR)) ||
      H5Tset_size(mem, var > 0 ? H5T_VARIABLE : fsize) < 0 || H5Tset_cset(mem, H5Tget_cset(type)) < 0 ||
      (var == 0 && H5Tset_strpad(mem, H5T_STR_NULLPAD) < 0)) { /* NULLTERM would drop a full-width last byte */
    say(why, whylen, "attribute %s: unusable string type", name);
    goto out;
  }
  if (var > 0) {
    vl = calloc((size_t)np, sizeof *vl);
    if (!vl || H5Aread(attr, mem, vl) < 0) {
      say(why, whylen, "attribute %s: %s", name, vl ? h5_reason(h5why) : "out of memory");
      free(vl);
      vl = NULL;
      goto out;
    }
  } else {
    fixed = calloc((size_t)np, fsize);
    if (!fixed || H5Aread(attr, mem, fixed) < 0) {
      say(why, whylen, "attribute %s: %s", name, fixed ? h5_reason(h5why) : "out of memory");
      goto out;
    }
  }
  for (hssize_t i = 0; i < np; i++) {
    const char *s = var > 0 ? (vl[i] ? vl[i] : "") : fixed + (size_t)i * fsize;
    size_t n = var > 0 ? strlen(s) : strnlen(s, fsize);
    if (n >= outlen) {
      say(why, whylen, "attribute %s: entry %lld is %zu bytes long (at most %zu)", name, (long long)i, n,
               outlen - 1);
      rc = PF_ELIMIT;
      goto out;
    }
    memcpy(out + (size_t)i * outlen, s, n);
    out[(size_t)i * outlen + n] = '\0';
  }
  *count = (size_t)np;
  rc = PF_OK;
out:
  if (vl) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, vl);
  free(vl);
  free(fixed);
  h5_close(&mem, H5Tclose);
  h5_close(&space, H5Sclose);
  h5_close(&type, H5Tclose);
  h5_close(&attr, H5Aclose);
  return rc;
}

/* A float dataset of rank 1 or 2 with every dimension within the caps. */
typedef struct {
  int rank;
  hsize_t dims[2];
  float *data;
} h5_array;

static int read_array(hid_t grp, const char *layer, const char *name, h5_array *a, char *why, size_t whylen) {
  char h5why[200];
  memset(a, 0, sizeof *a);
  htri_t ex = H5Lexists(grp, name, H5P_DEFAULT);
  if (ex <= 0) {
    say(why, whylen, "layer %s: weight %s is missing", layer, name);
    return PF_EINVAL;
  }
  int rc = PF_EINVAL;
  hid_t ds = H5Dopen2(grp, name, H5P_DEFAULT), type = -1, space = -1;
  if (ds < 0 || (type = H5Dget_type(ds)) < 0 || (space = H5Dget_space(ds)) < 0) {
    say(why, whylen, "layer %s: weight %s: %s", layer, name, h5_reason(h5why));
    goto out;
  }
  if (H5Tget_class(type) != H5T_FLOAT) {
    say(why, whylen, "layer %s: weight %s is not floating point", layer, name);
    goto out;
  }
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 1 || rank > 2) {
    say(why, whylen, "layer %s: weight %s has %d dimensions (1 or 2 expected)", layer, name, rank);
    goto out;
  }
  a->rank = rank;
  if (H5Sget_simple_extent_dims(space, a->dims, NULL) != rank) {
    say(why, whylen, "layer %s: weight %s: %s", layer, name, h5_reason(h5why));
    goto out;
  }
  uint64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (a->dims[i] < 1 || a->dims[i] > PF_MODEL_MAX_WIDTH) {
      say(why, whylen, "layer %s: weight %s has a dimension of %llu (1..%d allowed)", layer, name,
               (unsigned long long)a->dims[i], PF_MODEL_MAX_WIDTH);
      rc = PF_ELIMIT;
      goto out;
    }
    n *= a->dims[i];
  }
  if (n > PF_MODEL_MAX_PARAMS) {
    say(why, whylen, "layer %s: weight %s has %llu values (at most %u)", layer, name, (unsigned long long)n,
             PF_MODEL_MAX_PARAMS);
    rc = PF_ELIMIT;
    goto out;
  }
  a->data = malloc((size_t)n * sizeof(float));
  if (!a->data) {
    say(why, whylen, "layer %s: weight %s: out of memory", layer, name);
    rc = PF_ENOMEM;
    goto out;
  }
  if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0) {
    say(why, whylen, "layer %s: cannot read weight %s: %s", layer, name, h5_reason(h5why));
    goto out;
  }
  for (uint64_t i = 0; i < n; i++)
    if (!isfinite(a->data[i])) {
      say(why, whylen, "layer %s: weight %s holds a non-finite value at %llu", layer, name,
               (unsigned long long)i);
      goto out;
    }
  rc = PF_OK;
out:
  if (rc != PF_OK) {
    free(a->data);
    a->data = NULL;
  }
  h5_close(&space, H5Sclose);
  h5_close(&type, H5Tclose);
  h5_close(&ds, H5Dclose);
  return rc;
}

static const pf_keras_layer *find_layer(const pf_keras_layer *c, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(c[i].name, name) == 0) return &c[i];
  return NULL;
}

/* Reads path into *out (default classes) and fills r. Returns PF_OK or an
 * error with the reason in r->err. */
static int h5_read_model(const char *path, child_report *r, pf_model **out) {
  char h5why[200], why[400];
  static char names[MAX_H5_LAYERS][PF_KERAS_NAME];
  static pf_keras_layer cfg[MAX_H5_LAYERS];
  char wnames[4][256];
  char *config = NULL;
  h5_array arr[PF_MODEL_MAX_LAYERS][2];
  memset(arr, 0, sizeof arr);
  int rc = PF_EINVAL;
  size_t n_names = 0, cnt = 0;
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), mw = -1, lg = -1;
  if (file < 0) {
    report_err(r, "not a readable HDF5 file (%s)", h5_reason(h5why));
    return PF_EINVAL;
  }
  /* model_weights: the weights of a whole-model save; a weights-only save keeps them at the root */
  htri_t has_mw = H5Lexists(file, "model_weights", H5P_DEFAULT);
  mw = has_mw > 0 ? H5Gopen2(file, "model_weights", H5P_DEFAULT) : H5Gopen2(file, "/", H5P_DEFAULT);
  if (mw < 0) {
    report_err(r, "cannot open the weights group (%s)", h5_reason(h5why));
    goto out;
  }
  size_t one;
  char small[1][32];
  if (read_str_attr(file, "keras_version", &small[0][0], sizeof small[0], 1, &one, why, sizeof why) == PF_OK && one)
    snprintf(r->keras_version, sizeof r->keras_version, "%s", small[0]);
  else if (read_str_attr(mw, "keras_version", &small[0][0], sizeof small[0], 1, &one, why, sizeof why) == PF_OK && one)
    snprintf(r->keras_version, sizeof r->keras_version, "%s", small[0]);
  if (r->keras_version[0] && strncmp(r->keras_version, "2.", 2) != 0) {
    report_err(r, "written by Keras '%s'; only Keras 2 files are supported", r->keras_version);
    goto out;
  }
  if (read_str_attr(file, "backend", &small[0][0], sizeof small[0], 1, &one, why, sizeof why) == PF_OK && one)
    snprintf(r->backend, sizeof r->backend, "%s", small[0]);

  int crc = read_str_attr(mw, "layer_names", &names[0][0], PF_KERAS_NAME, MAX_H5_LAYERS, &n_names, why, sizeof why);
  if (crc == PF_ENOENT) {
    report_err(r, "no layer_names attribute: not a Keras model file");
    goto out;
  }
  if (crc != PF_OK) {
    report_err(r, "%s", why);
    goto out;
  }
  /* model_config: needed to know each layer's kind and activation */
  {
    hid_t attr = -1, type = -1, mem = -1, space = -1;
    htri_t ex = H5Aexists(file, "model_config");
    if (ex <= 0) {
      report_err(r, "no model_config attribute: a whole-model Keras save is needed to know the activations");
      goto out;
    }
    int ok = 0;
    attr = H5Aopen(file, "model_config", H5P_DEFAULT);
    if (attr >= 0 && (type = H5Aget_type(attr)) >= 0 && (space = H5Aget_space(attr)) >= 0 &&
        H5Tget_class(type) == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1) {
      htri_t var = H5Tis_variable_str(type);
      mem = H5Tcopy(H5T_C_S1);
      if (var > 0 && mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 && H5Tset_cset(mem, H5Tget_cset(type)) >= 0) {
        char *s = NULL;
        if (H5Aread(attr, mem, &s) >= 0 && s) {
          size_t n = strnlen(s, PF_KERAS_MAX_CONFIG + 1);
          if (n <= PF_KERAS_MAX_CONFIG && (config = malloc(n + 1))) {
            memcpy(config, s, n + 1);
            ok = 1;
          }
          H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &s);
        }
      } else if (var == 0 && mem >= 0) {
        size_t n = H5Tget_size(type);
        if (n > 0 && n <= PF_KERAS_MAX_CONFIG && H5Tset_size(mem, n) >= 0 && H5Tset_strpad(mem, H5T_STR_NULLPAD) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0 && (config = calloc(1, n + 1)) &&
            H5Aread(attr, mem, config) >= 0)
          ok = 1;
      }
    }
    h5_close(&mem, H5Tclose);
    h5_close(&space, H5Sclose);
    h5_close(&type, H5Tclose);
    h5_close(&attr, H5Aclose);
    if (!ok) {
      report_err(r, "model_config is not a readable text attribute of at most %u bytes", PF_KERAS_MAX_CONFIG);
      goto out;
    }
  }
  int n_cfg = pf_keras_config_parse((const uint8_t *)config, strlen(config), cfg, MAX_H5_LAYERS, why, sizeof why);
  if (n_cfg < 0) {
    report_err(r, "%s", why);
    goto out;
  }

  uint32_t sizes[PF_MODEL_MAX_LAYERS + 1], nd = 0;
  for (size_t i = 0; i < n_names; i++) {
    const char *ln = names[i];
    if (!ln[0] || strchr(ln, '/')) {
      report_err(r, "layer_names entry %zu is not a layer name", i);
      goto out;
    }
    const pf_keras_layer *cl = find_layer(cfg, n_cfg, ln);
    if (!cl) {
      report_err(r, "layer %s has weights but is not in model_config", ln);
      goto out;
    }
    lg = H5Gopen2(mw, ln, H5P_DEFAULT);
    if (lg < 0) {
      report_err(r, "layer %s: no weights group (%s)", ln, h5_reason(h5why));
      goto out;
    }
    crc = read_str_attr(lg, "weight_names", &wnames[0][0], sizeof wnames[0], 4, &cnt, why, sizeof why);
    if (crc == PF_ENOENT) cnt = 0;
    else if (crc != PF_OK) {
      report_err(r, "layer %s: %s", ln, why);
      goto out;
    }
    if (strcmp(cl->cls, "Dropout") == 0 || strcmp(cl->cls, "InputLayer") == 0) {
      if (cnt) {
        report_err(r, "layer %s (%s) has %zu weight arrays, expected none", ln, cl->cls, cnt);
        goto out;
      }
      h5_close(&lg, H5Gclose);
      continue;
    }
    if (strcmp(cl->cls, "Dense") != 0) {
      report_err(r, "layer %s is a %s; only Dense and Dropout layers are supported", ln, cl->cls);
      goto out;
    }
    if (cnt != 2) {
      report_err(r, "layer %s has %zu weight arrays; a Dense layer needs a kernel and a bias", ln, cnt);
      goto out;
    }
    if (nd == PF_MODEL_MAX_LAYERS) {
      report_err(r, "more than %d Dense layers", PF_MODEL_MAX_LAYERS);
      goto out;
    }
    say(r->dense[nd], PF_KERAS_NAME, "%s", ln);
    h5_array a, b;
    if ((rc = read_array(lg, ln, wnames[0], &a, why, sizeof why)) != PF_OK) {
      report_err(r, "%s", why);
      goto out;
    }
    if ((rc = read_array(lg, ln, wnames[1], &b, why, sizeof why)) != PF_OK) {
      free(a.data);
      report_err(r, "%s", why);
      goto out;
    }
    rc = PF_EINVAL;
    if (a.rank == 1 && b.rank == 2) { h5_array t = a; a = b; b = t; }
    arr[nd][0] = a;
    arr[nd][1] = b;
    nd++;
    h5_close(&lg, H5Gclose);
    if (a.rank != 2 || b.rank != 1) {
      report_err(r, "layer %s: weights of shapes %s and %s; a Dense layer needs a 2-D kernel and a 1-D bias", ln,
                 a.rank == 2 ? "2-D" : "1-D", b.rank == 2 ? "2-D" : "1-D");
      goto out;
    }
    uint32_t in = (uint32_t)a.dims[0], units = (uint32_t)a.dims[1];
    if (nd == 1 && in != PF_ERGO486_DIM) {
      report_err(r, "layer %s: kernel is %ux%u, but the first layer must take the %d ergo486 features", ln, in,
                 units, PF_ERGO486_DIM);
      goto out;
    }
    if (nd > 1 && in != sizes[nd - 1]) {
      report_err(r, "layer %s: kernel is %ux%u, but %s has %u units", ln, in, units, r->dense[nd - 2],
                 sizes[nd - 1]);
      goto out;
    }
    if (b.dims[0] != units) {
      report_err(r, "layer %s: bias has %llu values for %u units", ln, (unsigned long long)b.dims[0], units);
      goto out;
    }
    sizes[nd - 1] = in;
    sizes[nd] = units;
  }
  if (nd == 0) {
    report_err(r, "no Dense layers");
    goto out;
  }
  for (uint32_t i = 0; i < nd; i++) {
    const pf_keras_layer *cl = find_layer(cfg, n_cfg, r->dense[i]);
    const char *want = i + 1 == nd ? "softmax" : "relu";
    if (strcmp(cl->activation, want) != 0) {
      report_err(r, "layer %s: activation '%s'; expected '%s' (ReLU hidden layers, softmax output)", cl->name,
                 cl->activation, want);
      goto out;
    }
  }
  if (sizes[nd] < 2 || sizes[nd] > PF_MODEL_MAX_CLASSES) {
    report_err(r, "the output layer has %u units (2..%d classes supported)", sizes[nd], PF_MODEL_MAX_CLASSES);
    goto out;
  }
  r->n_dense = nd;
  pf_model *m = NULL;
  if ((rc = pf_model_new(nd, sizes, &m)) != PF_OK) {
    report_err(r, "layer sizes beyond pefleet's limits (%s)", pf_strerror(rc));
    goto out;
  }
  for (uint32_t i = 0; i < nd; i++) {
    memcpy(m->w[i], arr[i][0].data, (size_t)sizes[i] * sizes[i + 1] * sizeof(float));
    memcpy(m->b[i], arr[i][1].data, sizes[i + 1] * sizeof(float));
  }
  *out = m;
  rc = PF_OK;
out:
  if (rc == PF_OK && !*out) rc = PF_EINVAL;
  for (int i = 0; i < PF_MODEL_MAX_LAYERS; i++) {
    free(arr[i][0].data);
    free(arr[i][1].data);
  }
  free(config);
  h5_close(&lg, H5Gclose);
  h5_close(&mw, H5Gclose);
  h5_close(&file, H5Fclose);
  return rc;
}

/* The child: reads the file, writes the report and the PFNN bytes to fd. */
/* The reader confines itself before HDF5 sees a byte (lib/pf_sandbox.h):
 * it keeps only its pipe and the model file, hard limits, no_new_privs,
 * Landlock letting it read that one file and nothing else, and the parse
 * seccomp profile (plus HDF5's shared lock). It stays in the user's uid:
 * the file may be readable by the user alone. */
static void child_main(const char *path, int fd) {
  int mfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (mfd < 0) _exit(4);
  /* descriptors 3 and 4, nothing else: not the terminal, not a socket */
  int hi_fd = fcntl(fd, F_DUPFD, 10), hi_mfd = fcntl(mfd, F_DUPFD, 10);
  if (hi_fd < 0 || hi_mfd < 0 || dup2(hi_fd, 3) < 0 || dup2(hi_mfd, 4) < 0) _exit(4);
  fd = 3;
  mfd = 4;
  close_range(0, 2, 0);
  close_range(5, ~0u, 0);
  clearenv();
  static volatile uint64_t no_id;
  pf_sandbox_trap_install(fd, &no_id);
  pf_sandbox_state st = {0};
  pf_seccomp_prog prog;
  char err[160];
  if (pf_sandbox_seccomp_build(PF_SECCOMP_HDF5, &prog, err, sizeof err) != PF_OK ||
      pf_sandbox_limits(CHILD_MEM, CHILD_CPU_SECONDS, 8, 0) != PF_OK || pf_sandbox_no_new_privs(&st) != PF_OK ||
      pf_sandbox_landlock(&st, mfd) != PF_OK || pf_sandbox_seccomp_apply(&prog) != PF_OK)
    _exit(5);
  static child_report r;
  memset(&r, 0, sizeof r);
  pf_model *m = NULL;
  uint8_t *bytes = NULL;
  if (h5_read_model(path, &r, &m) == PF_OK) {
    r.model_len = pf_model_encoded_size(m);
    bytes = malloc(r.model_len);
    if (bytes && pf_model_encode(m, bytes, r.model_len) == PF_OK) r.ok = 1;
    else report_err(&r, "cannot encode the weights");
  }
  if (!r.ok) r.model_len = 0;
  int bad = pf_io_write_all(fd, &r, sizeof r) != 0 || (r.ok && pf_io_write_all(fd, bytes, r.model_len) != 0);
  _exit(bad ? 3 : 0);
}

/* Runs the child on path; on success *out holds the model (decoded and
 * checked here) and *r the child's findings. Errors are written to err. */
static int read_isolated(const char *path, child_report *r, pf_model **out, char *err, size_t errlen) {
  int fds[2];
  *out = NULL;
  if (pipe2(fds, O_CLOEXEC) != 0) {
    say(err, errlen, "pipe: %s", strerror(errno));
    return PF_EIO;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    say(err, errlen, "fork: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return PF_EIO;
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(path, fds[1]);
  }
  close(fds[1]);
  uint8_t *bytes = NULL;
  memset(r, 0, sizeof *r);
  int rc = PF_OK, got = pf_io_read_exact(fds[0], r, sizeof *r) == 0;
  if (got && r->ok) {
    if (r->model_len > (uint64_t)PF_MODEL_MAX_PARAMS * 4 + (1u << 20) || !(bytes = malloc(r->model_len)) ||
        pf_io_read_exact(fds[0], bytes, r->model_len) != 0)
      got = 0;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == PF_SANDBOX_VIOLATION_EXIT) {
    /* the trap wrote a PF_WIRE_VIOL frame where the report would be */
    uint32_t type;
    uint64_t id;
    const uint8_t *p;
    size_t n;
    int32_t nr = -1;
    if (pf_wire_frame((const uint8_t *)r, sizeof *r, &type, &id, &p, &n) > 0 && type == PF_WIRE_VIOL && n == 4)
      memcpy(&nr, p, 4);
    char name[64] = "unknown";
    if (nr >= 0) pf_sandbox_syscall_name(nr, name, sizeof name);
    say(err, errlen, "the HDF5 reader violated the sandbox: syscall %s", name);
    rc = PF_EVIOL;
  } else if (WIFEXITED(status) && (WEXITSTATUS(status) == 4 || WEXITSTATUS(status) == 5)) {
    say(err, errlen, WEXITSTATUS(status) == 4 ? "the HDF5 reader cannot open %s" : "the HDF5 reader cannot confine itself (%s)",
        WEXITSTATUS(status) == 4 ? path : "seccomp, Landlock or limits refused");
    rc = PF_EIO;
  } else if (WIFSIGNALED(status)) {
    say(err, errlen, "the HDF5 reader died (%s); the file is malformed", strsignal(WTERMSIG(status)));
    rc = PF_ECRASH;
  } else if (!got) {
    say(err, errlen, "the HDF5 reader gave no result (exit status %d)", WEXITSTATUS(status));
    rc = PF_EIO;
  } else if (!r->ok) {
    r->err[sizeof r->err - 1] = '\0';
    for (char *q = r->err; *q; q++) /* names from the file: keep the message one printable line */
      if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f) *q = '?';
    say(err, errlen, "%s", r->err);
    rc = PF_EINVAL;
  } else {
    char why[256];
    rc = pf_model_decode(bytes, r->model_len, out, why, sizeof why);
    if (rc != PF_OK) say(err, errlen, "the HDF5 reader's result is damaged: %s", why);
  }
  free(bytes);
  r->keras_version[sizeof r->keras_version - 1] = r->backend[sizeof r->backend - 1] = '\0';
  for (uint32_t i = 0; i < PF_MODEL_MAX_LAYERS; i++) r->dense[i][PF_KERAS_NAME - 1] = '\0';
  return rc;
}


/* The sha256 of the file at path (mapped, not read into memory). */
static int hash_file(const char *path, char hex[PF_SHA256_HEX_LEN + 1], char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say(err, errlen, "cannot open: %s", strerror(errno));
    return PF_ENOENT;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    say(err, errlen, "not a regular file");
    close(fd);
    return PF_EINVAL;
  }
  if ((uint64_t)st.st_size > H5_MAX_FILE) {
    say(err, errlen, "%lld bytes, more than the %llu a model file may have", (long long)st.st_size,
             (unsigned long long)H5_MAX_FILE);
    close(fd);
    return PF_ELIMIT;
  }
  uint8_t d[PF_SHA256_LEN];
  int rc;
  if (st.st_size == 0) {
    rc = pf_sha256((const uint8_t *)"", 0, d);
  } else {
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      say(err, errlen, "cannot map: %s", strerror(errno));
      close(fd);
      return PF_EIO;
    }
    rc = pf_sha256(map, (size_t)st.st_size, d);
    munmap(map, (size_t)st.st_size);
  }
  close(fd);
  if (rc != PF_OK) {
    say(err, errlen, "sha256: %s", pf_strerror(rc));
    return rc;
  }
  pf_hex(d, PF_SHA256_LEN, hex);
  return PF_OK;
}

int pf_keras_read(const char *path, pf_keras_info *info, pf_model **out, char *err, size_t errlen) {
  memset(info, 0, sizeof *info);
  *out = NULL;
  int rc = hash_file(path, info->sha256, err, errlen);
  if (rc != PF_OK) return rc;
  static child_report r;
  rc = read_isolated(path, &r, out, err, errlen);
  if (rc != PF_OK) return rc;
  memcpy(info->keras_version, r.keras_version, sizeof info->keras_version);
  memcpy(info->backend, r.backend, sizeof info->backend);
  info->n_dense = r.n_dense;
  memcpy(info->dense, r.dense, sizeof info->dense);
  return PF_OK;
}

int pf_keras_save(pf_model *m, const pf_keras_info *info, const char *src, const char *dir,
                  char (*classes)[PF_MODEL_NAME], int n, double threshold, const char *version, char *err,
                  size_t errlen) {
  if ((uint32_t)n != pf_model_classes(m)) {
    say(err, errlen, "%s: the model has %u outputs but %d classes are named (--classes)", src, pf_model_classes(m), n);
    return PF_EINVAL;
  }
  for (int i = 0; i < n; i++) memcpy(m->classes[i], classes[i], PF_MODEL_NAME);
  m->threshold = threshold;
  m->schema = PF_ERGO486_SCHEMA_ID;
  if (version) snprintf(m->version, sizeof m->version, "%s", version);
  else snprintf(m->version, sizeof m->version, "keras-%.12s", info->sha256);
  m->parent[0] = '\0';
  int rc = pf_model_save(m, dir);
  if (rc != PF_OK) {
    say(err, errlen, "cannot write %s/%s: %s", dir, PF_MODEL_FILE, rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
    return rc;
  }
  return PF_OK;
}
