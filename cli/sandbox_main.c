/* pefleet-sandbox: the isolated child of pf_encoder. Reads encode requests
 * (pf_wire frames) on fd 0, answers on fd 3; anything written to stdout or
 * stderr goes to the parent's stderr capture. One file at a time, under
 * RLIMIT_AS, a per-file RLIMIT_CPU and the parent's wall clock. LIEF may
 * abort this process; the parent reports that and starts another. */
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_io.h"
#include "pf_lief.h"
#include "pf_pe.h"
#include "pf_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define RES_FD 3

static void send_frame(uint32_t type, uint64_t id, const void *payload, size_t n) {
  uint8_t frame[PF_WIRE_MAX_FRAME];
  long len = pf_wire_pack(frame, sizeof frame, type, id, payload, n);
  if (len < 0) _exit(3);
  if (pf_io_write_all(RES_FD, frame, (size_t)len) != 0) _exit(0); /* parent is gone */
}

static void send_err(uint64_t id, int32_t code, const char *msg) {
  uint8_t buf[4 + 256];
  size_t n = strlen(msg);
  if (n > 256) n = 256;
  memcpy(buf, &code, 4);
  memcpy(buf + 4, msg, n);
  send_frame(PF_WIRE_ERR, id, buf, 4 + n);
}

/* Lets this file use cpu_seconds more CPU time than used so far. */
static void arm_cpu_limit(int cpu_seconds) {
  struct rusage ru;
  struct rlimit rl;
  if (cpu_seconds <= 0 || getrusage(RUSAGE_SELF, &ru) != 0 || getrlimit(RLIMIT_CPU, &rl) != 0) return;
  rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1;
  rlim_t soft = used + (rlim_t)cpu_seconds;
  if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max) soft = rl.rlim_max;
  rl.rlim_cur = soft;
  setrlimit(RLIMIT_CPU, &rl);
}

static void encode_one(uint64_t id, const char *path, int cpu_seconds, uint64_t max_size) {
  char err[256];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    snprintf(err, sizeof err, "cannot open: %s", strerror(errno));
    send_err(id, PF_EIO, err);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    send_err(id, PF_EINVAL, "not a regular file");
    close(fd);
    return;
  }
  if ((uint64_t)st.st_size > max_size) {
    snprintf(err, sizeof err, "file too large: %lld bytes (limit %llu)", (long long)st.st_size,
             (unsigned long long)max_size);
    send_err(id, PF_ELIMIT, err);
    close(fd);
    return;
  }
  size_t sz = (size_t)st.st_size;
  uint8_t *raw = malloc(sz ? sz : 1);
  if (!raw || (sz && pf_io_read_exact(fd, raw, sz) != 0)) {
    send_err(id, raw ? PF_EIO : PF_ENOMEM,
             raw ? "read failed (file changed or unreadable)" : "out of memory reading the file (address-space limit)");
    free(raw);
    close(fd);
    return;
  }
  uint8_t hash[PF_SHA256_LEN + 8];
  uint64_t size64 = sz;
  pf_sha256(raw, sz, hash);
  memcpy(hash + PF_SHA256_LEN, &size64, 8);
  send_frame(PF_WIRE_HASH, id, hash, sizeof hash);

  int rc = pf_pe_sniff(raw, sz, err, sizeof err);
  if (rc != PF_OK) {
    send_err(id, rc, err);
    free(raw);
    close(fd);
    return;
  }
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
  arm_cpu_limit(cpu_seconds);
  pf_pe_view view;
  rc = pf_lief_parse(fdpath, &view);
  if (rc != PF_OK) {
    snprintf(err, sizeof err, "LIEF could not parse the file: %s", pf_strerror(rc));
    send_err(id, rc, err);
  } else {
    double vec[PF_ERGO486_DIM];
    rc = pf_ergo486_encode(raw, sz, &view, vec);
    if (rc == PF_OK) send_frame(PF_WIRE_VEC, id, vec, sizeof vec);
    else send_err(id, rc, "cannot encode an empty file");
    pf_pe_view_destroy(&view);
  }
  free(raw);
  close(fd);
}

static void usage(void) {
  fprintf(stderr, "usage: pefleet-sandbox --cpu SECONDS --mem BYTES --max-size BYTES\n"
                  "Internal: started by pefleet's encoder pool, speaks pf_wire frames on fds 0 and 3.\n");
}

int main(int argc, char **argv) {
  int cpu = 20;
  unsigned long long mem = 4ull << 30, max = 512ull << 20;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(); return 0; }
    if (i + 1 >= argc) { usage(); return 2; }
    if (strcmp(argv[i], "--cpu") == 0) cpu = atoi(argv[++i]);
    else if (strcmp(argv[i], "--mem") == 0) mem = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--max-size") == 0) max = strtoull(argv[++i], NULL, 10);
    else { usage(); return 2; }
  }
  if (fcntl(RES_FD, F_GETFD) < 0) {
    fprintf(stderr, "pefleet-sandbox: fd 3 is not open; this program is started by pefleet\n");
    return 2;
  }
  /* Keep freed memory for the next file instead of handing it back to the
   * kernel: LIEF allocates and frees several copies of every file, and with
   * glibc's defaults the heap is trimmed after each one, so each file paid
   * again for fresh zeroed pages: about one page fault per 4 KB of file,
   * some 13% of the child's CPU time (bench/README.md). These are the
   * largest values glibc's own adaptive thresholds can reach; only speed
   * changes, not results. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
#ifndef PF_SANITIZE
  if (mem > 0) {
    rl.rlim_cur = rl.rlim_max = (rlim_t)mem;
    setrlimit(RLIMIT_AS, &rl);
  }
#else
  (void)mem; /* `make sanitize`: ASan reserves far more address space than any limit */
#endif
  uint8_t hdr[PF_WIRE_HEADER_SIZE];
  static uint8_t frame[PF_WIRE_HEADER_SIZE + PF_WIRE_MAX_PATH + 1];
  for (;;) {
    if (pf_io_read_exact(0, hdr, sizeof hdr) != 0) return 0; /* parent closed: done */
    uint32_t total = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24;
    if (total < PF_WIRE_HEADER_SIZE || total > PF_WIRE_HEADER_SIZE + PF_WIRE_MAX_PATH) return 3;
    memcpy(frame, hdr, sizeof hdr);
    if (pf_io_read_exact(0, frame + sizeof hdr, total - sizeof hdr) != 0) return 0;
    uint32_t type;
    uint64_t id;
    const uint8_t *payload;
    size_t n;
    if (pf_wire_frame(frame, total, &type, &id, &payload, &n) <= 0 || type != PF_WIRE_REQ) return 3;
    char path[PF_WIRE_MAX_PATH + 1];
    memcpy(path, payload, n);
    path[n] = '\0';
    encode_one(id, path, cpu, max);
  }
}
