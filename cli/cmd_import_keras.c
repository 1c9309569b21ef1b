/* pefleet import-keras: a Keras 2 HDF5 model (the seed's model.h5) -> a
 * pefleet model folder (model.pfnn + model.json). The arguments, then
 * lib/model/pf_keras (the isolated HDF5 reader, the folder's files), then
 * one line. */
#include "cmd.h"
#include "usage_err.h"
#include "out_path.h"
#include "pf_err.h"
#include "pf_folder.h"
#include "pf_keras.h"
#include "pf_model.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet import-keras MODEL.h5 -o MODEL_DIR [--classes LIST] [--threshold T] [--version V] [--force]\n\n"
    "Converts a Keras 2 model file (HDF5, as keras.models.save_model writes it;\n"
    "the seed's ergo-pe-av model.h5) into a pefleet model folder: MODEL_DIR/model.pfnn\n"
    "(the weights, in pefleet's checked binary format) and MODEL_DIR/model.json (a\n"
    "readable summary). The network must be Dense layers (ReLU, softmax last),\n"
    "optionally with Dropout between them, taking the 486 ergo486 features.\n\n"
    "options:\n"
    "  -o, --output DIR      the model folder (created with its parents if missing)\n"
    "  -c, --classes LIST    class names in output order, comma-separated\n"
    "                        (default \"clean,malicious\")\n"
    "  -t, --threshold T     verdict: the last class when its probability >= T (default 0.5)\n"
    "      --version V       the model's version (default: keras-<first 12 hex of the file's sha256>)\n"
    "  -f, --force           replace an existing MODEL_DIR/model.pfnn\n"
    "  -h, --help            this help\n\n"
    "exit status: 0 imported, 1 the file could not be imported, 2 usage error\n\n"
    "example:\n"
    "  pefleet import-keras ../shared/seed/ergo-pe-av/model.h5 -o models/seed\n");
}

/* Splits "a, b,c" into trimmed names. Returns the count, or -1 with a reason. */
static int parse_classes(const char *list, char names[][PF_MODEL_NAME], char *why, size_t whylen) {
  int n = 0;
  const char *p = list;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) { p++; len--; }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len == 0) { snprintf(why, whylen, "an empty class name"); return -1; }
    if (len >= PF_MODEL_NAME) { snprintf(why, whylen, "a class name longer than %d bytes", PF_MODEL_NAME - 1); return -1; }
    if (n == PF_MODEL_MAX_CLASSES) { snprintf(why, whylen, "more than %d classes", PF_MODEL_MAX_CLASSES); return -1; }
    for (size_t i = 0; i < len; i++)
      if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) { snprintf(why, whylen, "a control byte in a class name"); return -1; }
    memcpy(names[n], p, len);
    names[n][len] = '\0';
    for (int i = 0; i < n; i++)
      if (strcmp(names[i], names[n]) == 0) { snprintf(why, whylen, "class '%.63s' named twice", names[n]); return -1; }
    n++;
    if (!e) return n;
    p = e + 1;
  }
}

int cmd_import_keras(int argc, char **argv) {
  static const struct option opts[] = {
    {"output", required_argument, 0, 'o'}, {"classes", required_argument, 0, 'c'},
    {"threshold", required_argument, 0, 't'}, {"version", required_argument, 0, 1},
    {"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *outdir = NULL, *classes = "clean,malicious", *version = NULL;
  double threshold = 0.5;
  int force = 0, c;
  char why[256];
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:c:t:fh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': outdir = optarg; break;
    case 'c': classes = optarg; break;
    case 't': {
      char *end = NULL;
      errno = 0;
      threshold = strtod(optarg, &end);
      if (!*optarg || *end || errno || !(threshold >= 0.0 && threshold <= 1.0)) {
        fprintf(stderr, "pefleet import-keras: invalid threshold '%s' (a number in [0, 1])\n", optarg);
        return 2;
      }
      break;
    }
    case 1: version = optarg; break;
    case 'f': force = 1; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet import-keras", opts, "o:c:t:fh", argc, argv);
    }
  }
  if (optind >= argc) return usage_err("pefleet import-keras", "no MODEL.h5 given");
  if (argc - optind > 1) {
    fprintf(stderr, "pefleet import-keras: one MODEL.h5 at a time (got %d)\n", argc - optind);
    return 2;
  }
  if (!outdir || !*outdir) {
    fprintf(stderr, "pefleet import-keras: -o MODEL_DIR is required\n");
    return 2;
  }
  static char names[PF_MODEL_MAX_CLASSES][PF_MODEL_NAME];
  int nc = parse_classes(classes, names, why, sizeof why);
  if (nc < 0 || nc < 2) {
    fprintf(stderr, "pefleet import-keras: invalid --classes '%s': %s\n", classes, nc < 0 ? why : "at least 2 needed");
    return 2;
  }
  if (version && (strlen(version) >= PF_MODEL_NAME || !*version)) {
    fprintf(stderr, "pefleet import-keras: invalid --version: 1..%d bytes\n", PF_MODEL_NAME - 1);
    return 2;
  }
  const char *src = argv[optind];
  char err[640];
  pf_keras_info info;
  pf_model *m = NULL;
  if (pf_keras_read(src, &info, &m, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet import-keras: error: %s: %s\n", src, err);
    return 1;
  }
  if (out_path_model_dir("pefleet import-keras", outdir, force) != 0) { /* parents made, or refused now */
    pf_model_free(&m);
    return 1;
  }
  if (pf_keras_save(m, &info, src, outdir, names, nc, threshold, version, err, sizeof err) != PF_OK ||
      pf_folder_write_keras_meta(outdir, m, &info, src, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet import-keras: error: %s\n", err);
    pf_model_free(&m);
    return 1;
  }
  printf("imported %s -> %s: ", src, outdir);
  for (uint32_t i = 0; i <= m->n_layers; i++) printf("%s%u", i ? "-" : "", m->sizes[i]);
  printf(" (%zu parameters), classes ", pf_model_params(m));
  for (uint32_t i = 0; i < pf_model_classes(m); i++) printf("%s%s", i ? "," : "", m->classes[i]);
  printf(", threshold %g, version %s\n", m->threshold, m->version);
  pf_model_free(&m);
  return 0;
}
