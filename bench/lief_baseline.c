/* lief_baseline: the reference speed for `pefleet encode` benchmarks.
 * Lists every file under the given paths (folders recursively, as
 * `pefleet encode` does), then times LIEF's pe_parse + pe_binary_destroy
 * over each file in this one process: no isolation, no hashing, no
 * features. LIEF aborts on input it cannot handle, so give it PE files only.
 *
 * usage: lief_baseline [--version] PATH...
 * prints one line: files=N bytes=N seconds=S files_per_s=X mb_per_s=Y
 * (MB = 10^6 bytes; bytes are the files' sizes from stat, taken before
 * the clock starts). */
#include "pf_err.h"
#include "pf_walk.h"

#include <LIEF/LIEF.h>
#include <LIEF/version.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("LIEF %s (headers this was built with)\n", LIEF_VERSION);
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: lief_baseline [--version] PATH...\n"
                    "Times LIEF pe_parse + pe_binary_destroy over every file under PATH.\n");
    return 2;
  }
  pf_filelist files = {0};
  char err[512];
  for (int i = 1; i < argc; i++) {
    int rc = pf_walk_add(&files, argv[i], NULL, err, sizeof err);
    if (rc != PF_OK) {
      fprintf(stderr, "lief_baseline: %s\n", rc == PF_ENOENT ? err : pf_strerror(rc));
      pf_filelist_destroy(&files);
      return 1;
    }
  }
  if (files.n == 0) {
    fprintf(stderr, "lief_baseline: no files\n");
    return 1;
  }
  uint64_t bytes = 0;
  for (size_t i = 0; i < files.n; i++) {
    struct stat st;
    if (stat(files.paths[i], &st) != 0 || !S_ISREG(st.st_mode)) {
      fprintf(stderr, "lief_baseline: %s: not a readable regular file\n", files.paths[i]);
      pf_filelist_destroy(&files);
      return 1;
    }
    bytes += (uint64_t)st.st_size;
  }

  size_t failed = 0;
  double t0 = now_s();
  for (size_t i = 0; i < files.n; i++) {
    Pe_Binary_t *b = pe_parse(files.paths[i]);
    if (b) pe_binary_destroy(b);
    else failed++;
  }
  double dt = now_s() - t0;

  if (failed) fprintf(stderr, "lief_baseline: warning: LIEF returned nothing for %zu files\n", failed);
  printf("files=%zu bytes=%llu seconds=%.6f files_per_s=%.2f mb_per_s=%.3f\n", files.n,
         (unsigned long long)bytes, dt, dt > 0 ? (double)files.n / dt : 0.0,
         dt > 0 ? (double)bytes / 1e6 / dt : 0.0);
  pf_filelist_destroy(&files);
  return failed ? 1 : 0;
}
