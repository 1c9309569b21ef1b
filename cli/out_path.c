/* What a command writes, checked before it works (see out_path.h). */
#include "out_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int out_path_mkdirs(const char *path, char *err, size_t errlen) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    snprintf(err, errlen, "path too long");
    return -1;
  }
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char keep = *p;
    *p = '\0';
    struct stat st;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", buf, strerror(errno));
      return -1;
    }
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
      snprintf(err, errlen, "%s is not a folder", buf);
      return -1;
    }
    *p = keep;
    if (!keep) break;
  }
  return 0;
}

int out_path_model_dir(const char *prog, const char *dir, int force) {
  char err[4400], model[4200];
  if (out_path_mkdirs(dir, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s; nothing was done\n", prog, err);
    return 1;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    fprintf(stderr, "%s: cannot write in %s: %s; nothing was done\n", prog, dir, strerror(errno));
    return 1;
  }
  snprintf(model, sizeof model, "%s/model.pfnn", dir);
  if (!force && access(model, F_OK) == 0) {
    fprintf(stderr, "%s: %s already holds a model (%s); --force replaces it\n", prog, dir, model);
    return 1;
  }
  return 0;
}

int out_path_file(const char *prog, const char *path, int force) {
  char parent[4096], err[4400];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (out_path_mkdirs(parent, err, sizeof err) != 0) {
      fprintf(stderr, "%s: %s; nothing was done\n", prog, err);
      return 1;
    }
  }
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    fprintf(stderr, "%s: %s is a folder, not a file\n", prog, path);
    return 1;
  }
  if (!force && stat(path, &st) == 0) {
    fprintf(stderr, "%s: %s exists; --force replaces it\n", prog, path);
    return 1;
  }
  return 0;
}
