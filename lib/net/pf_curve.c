#include "pf_curve.h"
#include "pf_atomic.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_secret.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "pefleet" /* a socket's domain: "pefleet-<role>" */
/* libzmq's ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in 4.3's header, built
 * into Debian's library): a CURVE server refuses every client when no ZAP
 * handler answers, instead of admitting everyone. Ignored where absent. */
#define PF_ZAP_ENFORCE_DOMAIN 93

/* ---- key text ---- */

/* 1 when s (exactly 40 characters) decodes as a Z85 key; bin gets it. */
static int z85_key(const char *s, size_t n, uint8_t bin[32]) {
  /* the alphabet checked here: zmq_z85_decode stops at a NUL (a 15-character
   * prefix decodes) and maps bytes outside the alphabet to digits anyway
   * (found by fuzz_curvekey) */
  static const char alphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (n != PF_CURVE_Z85_LEN) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\0' || !strchr(alphabet, s[i])) return 0;
  char tmp[PF_CURVE_Z85_LEN + 1];
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  uint8_t scratch[32];
  return zmq_z85_decode(bin ? bin : scratch, tmp) != NULL;
}

/* Next line of buf (without its end), skipping blank and '#' lines. */
static int next_line(const uint8_t *buf, size_t len, size_t *pos, const char **line, size_t *n) {
  while (*pos < len) {
    size_t s = *pos, e = s;
    while (e < len && buf[e] != '\n') e++;
    *pos = e < len ? e + 1 : e;
    size_t t = e;
    while (t > s && (buf[t - 1] == '\r' || buf[t - 1] == ' ' || buf[t - 1] == '\t')) t--;
    while (s < t && (buf[s] == ' ' || buf[s] == '\t')) s++;
    /* a comment is '#' then a space or nothing ('#' is also a Z85 character) */
    if (s == t || (buf[s] == '#' && (s + 1 == t || buf[s + 1] == ' '))) continue;
    *line = (const char *)buf + s;
    *n = t - s;
    return 1;
  }
  return 0;
}

/* Reads "WORD value" where value is a 40-character Z85 key. */
static int keyed_line(const char *line, size_t n, const char *word, char out[PF_CURVE_Z85_LEN + 1]) {
  size_t w = strlen(word);
  if (n != w + 1 + PF_CURVE_Z85_LEN || memcmp(line, word, w) != 0 || line[w] != ' ') return 0;
  if (!z85_key(line + w + 1, PF_CURVE_Z85_LEN, NULL)) return 0;
  memcpy(out, line + w + 1, PF_CURVE_Z85_LEN);
  out[PF_CURVE_Z85_LEN] = '\0';
  return 1;
}

int pf_curve_parse_keypair(const uint8_t *buf, size_t len, pf_curve_keypair *kp, char *err, size_t errlen) {
  memset(kp, 0, sizeof *kp);
  if (!buf || len > PF_CURVE_MAX_FILE) {
    snprintf(err, errlen, "not a key pair file (larger than %d bytes)", PF_CURVE_MAX_FILE);
    return PF_EINVAL;
  }
  size_t pos = 0, n = 0;
  const char *line = NULL;
  char magic[64];
  snprintf(magic, sizeof magic, "%s %d", PF_CURVE_MAGIC, PF_CURVE_VERSION);
  if (!next_line(buf, len, &pos, &line, &n) || n < strlen(PF_CURVE_MAGIC) ||
      memcmp(line, PF_CURVE_MAGIC, strlen(PF_CURVE_MAGIC)) != 0) {
    snprintf(err, errlen, "not a pefleet key pair file (no '%s' line; made by pefleet keygen?)", PF_CURVE_MAGIC);
    return PF_EINVAL;
  }
  if (n != strlen(magic) || memcmp(line, magic, n) != 0) {
    snprintf(err, errlen, "key pair file of an unknown version (this build reads version %d)", PF_CURVE_VERSION);
    return PF_EINVAL;
  }
  if (!next_line(buf, len, &pos, &line, &n) || !keyed_line(line, n, "public", kp->pub) ||
      !next_line(buf, len, &pos, &line, &n) || !keyed_line(line, n, "secret", kp->sec)) {
    snprintf(err, errlen, "key pair file lacks a valid 'public' then 'secret' line (40 Z85 characters each)");
    memset(kp, 0, sizeof *kp);
    return PF_EINVAL;
  }
  if (next_line(buf, len, &pos, &line, &n)) {
    snprintf(err, errlen, "key pair file has extra lines after the secret key");
    memset(kp, 0, sizeof *kp);
    return PF_EINVAL;
  }
  char derived[PF_CURVE_Z85_LEN + 1];
  if (zmq_curve_public(derived, kp->sec) != 0 || strcmp(derived, kp->pub) != 0) {
    snprintf(err, errlen, "key pair file's public key is not the one its secret key gives");
    memset(kp, 0, sizeof *kp);
    return PF_EINVAL;
  }
  return PF_OK;
}

int pf_curve_parse_public(const uint8_t *buf, size_t len, char out[PF_CURVE_Z85_LEN + 1], char *err, size_t errlen) {
  out[0] = '\0';
  if (!buf || len > PF_CURVE_MAX_FILE) {
    snprintf(err, errlen, "not a public key (larger than %d bytes)", PF_CURVE_MAX_FILE);
    return PF_EINVAL;
  }
  size_t pos = 0, n = 0;
  const char *line = NULL;
  if (!next_line(buf, len, &pos, &line, &n) || !z85_key(line, n, NULL)) {
    snprintf(err, errlen, "not a public key (expected one line of 40 Z85 characters)");
    return PF_EINVAL;
  }
  memcpy(out, line, PF_CURVE_Z85_LEN);
  out[PF_CURVE_Z85_LEN] = '\0';
  if (next_line(buf, len, &pos, &line, &n)) {
    snprintf(err, errlen, "not a public key (more than one line)");
    out[0] = '\0';
    return PF_EINVAL;
  }
  return PF_OK;
}

/* Reads a whole small file into buf (room cap); *len its size. */
static int slurp(const char *path, uint8_t *buf, size_t cap, size_t *len, struct stat *st, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return errno == ENOENT ? PF_ENOENT : PF_EIO;
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(fd);
    return PF_EINVAL;
  }
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(err, errlen, "%s: %s", path, strerror(errno));
      close(fd);
      return PF_EIO;
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n == cap) {
      snprintf(err, errlen, "%s: larger than %zu bytes: not a key file", path, cap - 1);
      close(fd);
      return PF_ELIMIT;
    }
  }
  close(fd);
  *len = n;
  return PF_OK;
}

int pf_curve_read_keypair(const char *path, pf_curve_keypair *kp, char *err, size_t errlen) {
  uint8_t buf[PF_CURVE_MAX_FILE + 1];
  size_t len = 0;
  struct stat st;
  char why[256];
  if (!path || !*path) {
    snprintf(err, errlen, "curve is on but curve_secret_file is not set (make one with pefleet keygen)");
    return PF_EINVAL;
  }
  int rc = slurp(path, buf, sizeof buf, &len, &st, err, errlen);
  if (rc != PF_OK) return rc;
  if (st.st_mode & 077) {
    snprintf(err, errlen, "%s: secret key file may be read by group or others (chmod 600 it)", path);
    memset(buf, 0, sizeof buf);
    return PF_EINVAL;
  }
  rc = pf_curve_parse_keypair(buf, len, kp, why, sizeof why);
  memset(buf, 0, sizeof buf);
  if (rc != PF_OK) snprintf(err, errlen, "%s: %s", path, why);
  return rc;
}

static int read_public(const char *path, char out[PF_CURVE_Z85_LEN + 1], char *err, size_t errlen) {
  uint8_t buf[PF_CURVE_MAX_FILE + 1];
  size_t len = 0;
  struct stat st;
  char why[256];
  int rc = slurp(path, buf, sizeof buf, &len, &st, err, errlen);
  if (rc != PF_OK) return rc;
  rc = pf_curve_parse_public(buf, len, out, why, sizeof why);
  if (rc != PF_OK) snprintf(err, errlen, "%s: %s", path, why);
  return rc;
}

/* ---- key generation and files ---- */

int pf_curve_generate(pf_curve_keypair *kp, char *err, size_t errlen) {
  memset(kp, 0, sizeof *kp);
  if (zmq_curve_keypair(kp->pub, kp->sec) != 0) {
    snprintf(err, errlen, "cannot make a CURVE key pair: %s (libzmq built without CURVE?)", zmq_strerror(zmq_errno()));
    return PF_EIO;
  }
  return PF_OK;
}

static int good_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64 || name[0] == '.') return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
          *p == '_' || *p == '-'))
      return 0;
  return 1;
}

/* Writes text to path (mode) whole (pf_atomic); excl: fail
 * when path exists. A secret (0600) is pf_secret's: 0600 from the start. */
static int write_file(const char *path, const char *text, mode_t mode, int excl, char *err, size_t errlen) {
  if (excl && access(path, F_OK) == 0) {
    snprintf(err, errlen, "%s exists (pefleet keygen --force replaces it)", path);
    return PF_EINVAL;
  }
  if (mode == 0600) return pf_secret_write(path, text, strlen(text), err, errlen);
  pf_atomic a;
  FILE *f = pf_atomic_open(&a, path, NULL);
  if (!f) {
    snprintf(err, errlen, "%s: %s", a.tmp, strerror(errno));
    return PF_EIO;
  }
  int bad = fchmod(fileno(f), mode) != 0; /* a .pub is 0644 whatever the umask */
  bad |= fputs(text, f) == EOF;
  if (bad) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    pf_atomic_abort(&a);
    return PF_EIO;
  }
  if (pf_atomic_commit(&a) != PF_OK) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return PF_EIO;
  }
  return PF_OK;
}

int pf_curve_write(const char *dir, const char *name, const pf_curve_keypair *kp, int force, char *err, size_t errlen) {
  if (!good_name(name)) {
    snprintf(err, errlen, "bad key name '%s' (1-64 of A-Z a-z 0-9 . _ -, not starting with '.')", name);
    return PF_EINVAL;
  }
  char key[1100], pub[1100], text[512];
  snprintf(key, sizeof key, "%.1000s/%s.key", dir, name);
  snprintf(pub, sizeof pub, "%.1000s/%s.pub", dir, name);
  snprintf(text, sizeof text,
           "# pefleet CURVE key pair '%s' (pefleet keygen). Keep it secret: give others %s.pub only.\n"
           "%s %d\npublic %s\nsecret %s\n",
           name, name, PF_CURVE_MAGIC, PF_CURVE_VERSION, kp->pub, kp->sec);
  int rc = write_file(key, text, 0600, !force, err, errlen);
  memset(text, 0, sizeof text);
  if (rc != PF_OK) return rc;
  snprintf(text, sizeof text, "%s\n", kp->pub);
  return write_file(pub, text, 0644, 0, err, errlen);
}

/* ---- roles ---- */

static const char *const role_names[PF_CURVE_NROLES] = {"client", "worker", "scorer"};
static const char *const role_folders[PF_CURVE_NROLES] = {"clients", "workers", "scorers"};

const char *pf_curve_role_name(pf_curve_role r) {
  return (int)r >= 0 && r < PF_CURVE_NROLES ? role_names[r] : "?";
}

const char *pf_curve_role_folder(pf_curve_role r) {
  return (int)r >= 0 && r < PF_CURVE_NROLES ? role_folders[r] : "?";
}

int pf_curve_role_parse(const char *s, pf_curve_role *r) {
  for (int i = 0; i < PF_CURVE_NROLES; i++)
    if (strcmp(s, role_names[i]) == 0) {
      *r = (pf_curve_role)i;
      return PF_OK;
    }
  return PF_EINVAL;
}

int pf_curve_allow(const char *allow_dir, pf_curve_role role, const char *name, const char *pub, char *err,
                   size_t errlen) {
  if (!good_name(name) || (int)role < 0 || role >= PF_CURVE_NROLES || !z85_key(pub, strlen(pub), NULL)) {
    snprintf(err, errlen, "bad key name, role or public key");
    return PF_EINVAL;
  }
  char sub[1100], path[1200], text[64];
  snprintf(sub, sizeof sub, "%.1000s/%s", allow_dir, role_folders[role]);
  if ((mkdir(allow_dir, 0755) != 0 && errno != EEXIST) || (mkdir(sub, 0755) != 0 && errno != EEXIST)) {
    snprintf(err, errlen, "cannot make %s: %s", sub, strerror(errno));
    return PF_EIO;
  }
  /* one role per key: the same name in another role's list is a mistake */
  for (int r = 0; r < PF_CURVE_NROLES; r++) {
    snprintf(path, sizeof path, "%.1000s/%s/%s.pub", allow_dir, role_folders[r], name);
    if ((pf_curve_role)r != role && access(path, F_OK) == 0) {
      snprintf(err, errlen, "%s exists: %s is already a %s key (one role per key)", path, name, role_names[r]);
      return PF_EINVAL;
    }
  }
  snprintf(path, sizeof path, "%s/%s.pub", sub, name);
  snprintf(text, sizeof text, "%s\n", pub);
  return write_file(path, text, 0644, 0, err, errlen);
}

/* ---- sockets ---- */

static atomic_int zap_running;

/* Handshakes that fail before ZAP is asked (a plain client, a client with
 * another server key) are seen through a socket monitor on each server
 * socket; the ZAP thread reads the monitors and logs them. */
#define MAX_MONITORS 8
#define FAIL_MEMORY 16
static pthread_mutex_t mon_mu = PTHREAD_MUTEX_INITIALIZER;
static char mon_pending[MAX_MONITORS][48]; /* monitor endpoints not yet read */
static int mon_npending, mon_seq;

static void watch_handshakes(void *sock) {
  pthread_mutex_lock(&mon_mu);
  if (mon_npending < MAX_MONITORS) {
    char ep[48];
    snprintf(ep, sizeof ep, "inproc://pf-curve-monitor-%d", mon_seq++);
    if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0)
      memcpy(mon_pending[mon_npending++], ep, sizeof ep);
  }
  pthread_mutex_unlock(&mon_mu);
}

int pf_curve_server(void *sock, const pf_config *c, pf_curve_role role, char *err, size_t errlen) {
  if (!c || !c->curve) return PF_OK;
  if (!atomic_load(&zap_running)) {
    snprintf(err, errlen, "CURVE server socket without the ZAP handler (pf_curve_zap_start first): it would admit anyone");
    return PF_EINVAL;
  }
  if ((int)role < 0 || role >= PF_CURVE_NROLES) {
    snprintf(err, errlen, "CURVE server socket of no known role");
    return PF_EINVAL;
  }
  char domain[32];
  snprintf(domain, sizeof domain, ZAP_DOMAIN "-%s", pf_curve_role_name(role));
  pf_curve_keypair kp;
  int rc = pf_curve_read_keypair(c->curve_secret_file, &kp, err, errlen);
  if (rc != PF_OK) return rc;
  int one = 1;
  if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
      zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp.sec, PF_CURVE_Z85_LEN) != 0 ||
      zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0) {
    snprintf(err, errlen, "cannot make a CURVE server socket: %s", zmq_strerror(zmq_errno()));
    rc = PF_EIO;
  }
  memset(&kp, 0, sizeof kp);
  (void)zmq_setsockopt(sock, PF_ZAP_ENFORCE_DOMAIN, &one, sizeof one); /* EINVAL without drafts: fine */
  if (rc == PF_OK) watch_handshakes(sock);
  return rc;
}

int pf_curve_client(void *sock, const pf_config *c, char *err, size_t errlen) {
  if (!c || !c->curve) return PF_OK;
  char server[PF_CURVE_Z85_LEN + 1];
  const char *sk = c->curve_server_key;
  if (!*sk) {
    snprintf(err, errlen, "curve is on but curve_server_key is not set (the servers' public key, or its .pub file)");
    return PF_EINVAL;
  }
  /* a file first: a 40-character path may also be valid Z85 text */
  if (access(sk, F_OK) == 0 || !z85_key(sk, strlen(sk), NULL)) {
    char why[1200];
    if (read_public(sk, server, why, sizeof why) != PF_OK) {
      snprintf(err, errlen, "curve_server_key is neither 40 Z85 characters nor a readable .pub file (%s)", why);
      return PF_EINVAL;
    }
  } else {
    memcpy(server, sk, PF_CURVE_Z85_LEN); /* z85_key checked: exactly 40 characters */
    server[PF_CURVE_Z85_LEN] = '\0';
  }
  pf_curve_keypair kp;
  int rc = pf_curve_read_keypair(c->curve_secret_file, &kp, err, errlen);
  if (rc != PF_OK) return rc;
  if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, PF_CURVE_Z85_LEN) != 0 ||
      zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp.pub, PF_CURVE_Z85_LEN) != 0 ||
      zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp.sec, PF_CURVE_Z85_LEN) != 0) {
    snprintf(err, errlen, "cannot make a CURVE client socket: %s", zmq_strerror(zmq_errno()));
    rc = PF_EIO;
  }
  memset(&kp, 0, sizeof kp);
  return rc;
}

/* ---- the ZAP handler ---- */

typedef struct {
  void *sock;             /* REP on ZAP_ENDPOINT */
  pthread_t thread;
  atomic_int stop;
  char dir[1024];
  uint8_t (*keys[PF_CURVE_NROLES])[32]; /* allowed keys, one list per role */
  int nkeys[PF_CURVE_NROLES];
  int64_t last_scan;
  uint8_t last_refused[32];
  int last_refused_role;  /* repeats are counted per key and socket role */
  int64_t last_refused_ms;
  long quiet_refusals;    /* repeats of last_refused not logged */
  void *ctx;
  void *mon[MAX_MONITORS]; /* PAIR sockets reading the server sockets' monitors */
  int nmon;
  struct { char key[200]; int64_t ms; } failed[FAIL_MEMORY]; /* handshake failures logged */
} zap_state;

static zap_state zap;

/* (Re)reads every *.pub of one folder into keys (at most PF_CURVE_MAX_ALLOWED);
 * a missing folder is an empty list. */
static int load_folder(const char *dir, uint8_t (*keys)[32], int *nkeys) {
  DIR *d = opendir(dir);
  *nkeys = 0;
  if (!d) return errno == ENOENT ? PF_OK : PF_EIO;
  int n = 0, skipped = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0 || de->d_name[0] == '.') continue;
    if (n >= PF_CURVE_MAX_ALLOWED) { skipped++; continue; }
    char path[1400], z85[PF_CURVE_Z85_LEN + 1], why[1500];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (read_public(path, z85, why, sizeof why) != PF_OK || !z85_key(z85, PF_CURVE_Z85_LEN, keys[n])) {
      pf_warn("curve: ignoring %s: %s", path, why);
      continue;
    }
    n++;
  }
  closedir(d);
  if (skipped) pf_warn("curve: %s holds more than %d public keys; %d ignored", dir, PF_CURVE_MAX_ALLOWED, skipped);
  *nkeys = n;
  return PF_OK;
}

/* Number of *.pub directly in dir: keys of no role, admitted nowhere. */
static int count_roleless(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len >= 5 && strcmp(de->d_name + len - 4, ".pub") == 0 && de->d_name[0] != '.') n++;
  }
  closedir(d);
  return n;
}

/* (Re)reads the allow lists: DIR/clients, DIR/workers, DIR/scorers. */
static int load_allowed(zap_state *z, char *err, size_t errlen) {
  DIR *d = opendir(z->dir);
  if (!d) {
    snprintf(err, errlen, "curve_allow_dir %s: %s", z->dir, strerror(errno));
    return PF_EINVAL;
  }
  closedir(d);
  for (int r = 0; r < PF_CURVE_NROLES; r++) {
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/%s", z->dir, pf_curve_role_folder((pf_curve_role)r));
    if (load_folder(sub, z->keys[r], &z->nkeys[r]) != PF_OK) pf_warn("curve: %s: %s", sub, strerror(errno));
  }
  z->last_scan = pf_clock_ms();
  return PF_OK;
}

static int allowed(zap_state *z, int role, const uint8_t key[32]) {
  for (int i = 0; i < z->nkeys[role]; i++)
    if (memcmp(z->keys[role][i], key, 32) == 0) return 1;
  return 0;
}

/* The role of a server socket from its ZAP domain, -1 for another domain. */
static int domain_role(const char *domain) {
  for (int r = 0; r < PF_CURVE_NROLES; r++) {
    char want[32];
    snprintf(want, sizeof want, ZAP_DOMAIN "-%s", pf_curve_role_name((pf_curve_role)r));
    if (strcmp(domain, want) == 0) return r;
  }
  return -1;
}

/* Copies frame i (at most cap-1 bytes) as a string. */
static void frame_str(zmq_msg_t *f, char *out, size_t cap) {
  size_t n = zmq_msg_size(f);
  if (n >= cap) n = cap - 1;
  memcpy(out, zmq_msg_data(f), n);
  out[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)out[i] < 32 || (unsigned char)out[i] > 126) out[i] = '?';
}

static void reply(void *sock, zmq_msg_t *request_id, const char *code, const char *text) {
  zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
  zmq_send(sock, zmq_msg_data(request_id), zmq_msg_size(request_id), ZMQ_SNDMORE);
  zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
  zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
  zmq_send(sock, "", 0, ZMQ_SNDMORE); /* user id */
  zmq_send(sock, "", 0, 0);           /* metadata */
}

/* One ZAP request: version, request id, domain, address, routing id,
 * mechanism, credentials (CURVE: the client's 32-byte public key). */
static void handle(zap_state *z) {
  zmq_msg_t f[8];
  int n = 0, more = 1;
  while (more) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, z->sock, 0) < 0) { zmq_msg_close(&m); break; }
    more = zmq_msg_more(&m);
    if (n < 8) f[n++] = m;
    else zmq_msg_close(&m);
  }
  if (n < 2) { /* libzmq never sends this; REP still owes an answer */
    zmq_msg_t none;
    zmq_msg_init(&none);
    reply(z->sock, &none, "500", "malformed ZAP request");
    zmq_msg_close(&none);
    for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
    return;
  }
  char version[8] = "", address[80] = "?", mech[16] = "", domain[48] = "";
  frame_str(&f[0], version, sizeof version);
  if (n >= 3) frame_str(&f[2], domain, sizeof domain);
  if (n >= 4) frame_str(&f[3], address, sizeof address);
  if (n >= 6) frame_str(&f[5], mech, sizeof mech);
  int role = domain_role(domain);
  if (strcmp(version, "1.0") != 0 || n != 7 || strcmp(mech, "CURVE") != 0 || zmq_msg_size(&f[6]) != 32 || role < 0) {
    pf_warn("curve: refused a peer at %s: %s", address,
            strcmp(mech, "CURVE") != 0 ? "not a CURVE handshake"
            : role < 0                 ? "a server socket of no pefleet role"
                                       : "malformed ZAP request");
    reply(z->sock, &f[1], "400", "refused");
  } else {
    const uint8_t *key = zmq_msg_data(&f[6]);
    int ok = allowed(z, role, key);
    if (!ok && pf_clock_ms() - z->last_scan >= 1000) {
      char err[1200];
      if (load_allowed(z, err, sizeof err) != PF_OK) pf_warn("curve: %s", err);
      ok = allowed(z, role, key);
    }
    const char *rname = pf_curve_role_name((pf_curve_role)role);
    if (ok) {
      char z85[PF_CURVE_Z85_LEN + 1];
      zmq_z85_encode(z85, key, 32);
      pf_debug("curve: admitted %s key %s at %s", rname, z85, address);
      reply(z->sock, &f[1], "200", "OK");
    } else {
      int64_t now = pf_clock_ms();
      if (memcmp(key, z->last_refused, 32) == 0 && role == z->last_refused_role && now - z->last_refused_ms < 10000) {
        z->quiet_refusals++;
      } else {
        char z85[PF_CURVE_Z85_LEN + 1], other[160] = "";
        if (z->quiet_refusals) {
          zmq_z85_encode(z85, z->last_refused, 32);
          pf_warn("curve: refused client key %s %ld more time(s) in the last 10 s", z85, z->quiet_refusals);
        }
        for (int r = 0; r < PF_CURVE_NROLES; r++)
          if (r != role && allowed(z, r, key))
            snprintf(other, sizeof other, "; it is a %s key (in %s/), not admitted at a %s socket",
                     pf_curve_role_name((pf_curve_role)r), pf_curve_role_folder((pf_curve_role)r), rname);
        zmq_z85_encode(z85, key, 32);
        pf_warn("curve: refused client key %s at %s: not in %s/%s (the %s socket's list)%s", z85, address, z->dir,
                pf_curve_role_folder((pf_curve_role)role), rname, other);
        memcpy(z->last_refused, key, 32);
        z->last_refused_role = role;
        z->last_refused_ms = now;
        z->quiet_refusals = 0;
      }
      reply(z->sock, &f[1], "400", "client key not allowed");
    }
  }
  for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

/* Connects to the monitors of server sockets set up since the last look. */
static void adopt_monitors(zap_state *z) {
  pthread_mutex_lock(&mon_mu);
  for (int i = 0; i < mon_npending && z->nmon < MAX_MONITORS; i++) {
    void *m = zmq_socket(z->ctx, ZMQ_PAIR);
    int zero = 0;
    if (!m) continue;
    zmq_setsockopt(m, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(m, mon_pending[i]) != 0) { zmq_close(m); continue; }
    z->mon[z->nmon++] = m;
  }
  mon_npending = 0;
  pthread_mutex_unlock(&mon_mu);
}

/* 1 when key (endpoint and reason) was not logged in the last 10 s; notes
 * it as logged now. A few keys are remembered, the oldest replaced. */
static int failure_due(zap_state *z, const char *key, int64_t now) {
  int oldest = 0;
  for (int i = 0; i < FAIL_MEMORY; i++) {
    if (strcmp(z->failed[i].key, key) == 0) {
      if (now - z->failed[i].ms < 10000) return 0;
      z->failed[i].ms = now;
      return 1;
    }
    if (z->failed[i].ms < z->failed[oldest].ms) oldest = i;
  }
  snprintf(z->failed[oldest].key, sizeof z->failed[oldest].key, "%s", key);
  z->failed[oldest].ms = now;
  return 1;
}

/* One monitor event: [u16 event, u32 value][endpoint]. Logs a failed
 * handshake, each endpoint and reason at most once per 10 s (a client
 * retries every 100 ms or so). libzmq names the server's endpoint here,
 * not the peer's. */
static void on_monitor(zap_state *z, void *m) {
  zmq_msg_t f[2];
  int n = 0, more = 1;
  while (more) {
    zmq_msg_t x;
    zmq_msg_init(&x);
    if (zmq_msg_recv(&x, m, ZMQ_DONTWAIT) < 0) { zmq_msg_close(&x); break; }
    more = zmq_msg_more(&x);
    if (n < 2) f[n++] = x;
    else zmq_msg_close(&x);
  }
  if (n == 2 && zmq_msg_size(&f[0]) >= 6) {
    uint16_t ev;
    uint32_t val;
    memcpy(&ev, zmq_msg_data(&f[0]), 2);
    memcpy(&val, (const uint8_t *)zmq_msg_data(&f[0]) + 2, 4);
    char addr[80], key[200];
    frame_str(&f[1], addr, sizeof addr);
    /* a plain client often hangs up first, having seen the mechanism
     * mismatch itself: then the server only sees the connection close */
    const char *why = ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                          ? "it closed the connection during the handshake (not a CURVE client, or another server key?)"
                      : val == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? "not a CURVE client (curve = 0 there?)"
                      : val == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
                          ? "its handshake does not decrypt (it has another curve_server_key?)"
                          : "CURVE handshake protocol error";
    snprintf(key, sizeof key, "%s %s", addr, why);
    if ((ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) &&
        failure_due(z, key, pf_clock_ms()))
      pf_warn("curve: refused a peer on %s: %s", addr, why);
  }
  for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg) {
  zap_state *z = arg;
  while (!atomic_load(&z->stop)) {
    adopt_monitors(z);
    zmq_pollitem_t it[1 + MAX_MONITORS];
    it[0] = (zmq_pollitem_t){z->sock, 0, ZMQ_POLLIN, 0};
    for (int i = 0; i < z->nmon; i++) it[1 + i] = (zmq_pollitem_t){z->mon[i], 0, ZMQ_POLLIN, 0};
    int r = zmq_poll(it, 1 + z->nmon, 200);
    if (r < 0 && zmq_errno() == ETERM) break;
    if (r <= 0) continue;
    if (it[0].revents & ZMQ_POLLIN) handle(z);
    for (int i = 0; i < z->nmon; i++)
      if (it[1 + i].revents & ZMQ_POLLIN) on_monitor(z, z->mon[i]);
  }
  for (int i = 0; i < z->nmon; i++) zmq_close(z->mon[i]);
  z->nmon = 0;
  zmq_close(z->sock);
  z->sock = NULL;
  return NULL;
}

int pf_curve_zap_start(void *zctx, const pf_config *c, char *err, size_t errlen) {
  if (!c || !c->curve) return PF_OK;
  if (atomic_load(&zap_running)) {
    snprintf(err, errlen, "the ZAP handler is already running in this process");
    return PF_EINVAL;
  }
  if (!c->curve_allow_dir[0]) {
    snprintf(err, errlen, "curve is on but curve_allow_dir (the folder of allowed client .pub keys) is not set");
    return PF_EINVAL;
  }
  memset(&zap, 0, sizeof zap);
  zap.ctx = zctx;
  snprintf(zap.dir, sizeof zap.dir, "%s", c->curve_allow_dir);
  int rc = PF_ENOMEM;
  for (int r = 0; r < PF_CURVE_NROLES; r++)
    if (!(zap.keys[r] = calloc(PF_CURVE_MAX_ALLOWED, 32))) {
      snprintf(err, errlen, "out of memory");
      goto fail;
    }
  rc = load_allowed(&zap, err, errlen);
  if (rc != PF_OK) goto fail;
  int roleless = count_roleless(zap.dir), total = 0;
  for (int r = 0; r < PF_CURVE_NROLES; r++) total += zap.nkeys[r];
  if (roleless)
    pf_warn("curve: %d *.pub file(s) directly in %s are ignored: a key is admitted only from its role's folder "
            "(%s/clients, %s/workers, %s/scorers; pefleet keygen --role)",
            roleless, zap.dir, zap.dir, zap.dir, zap.dir);
  if (total == 0)
    pf_warn("curve: %s holds no *.pub key in clients/, workers/ or scorers/ yet: every client is refused until one "
            "is added", zap.dir);
  else
    pf_info("curve: %d allowed client key(s) in %s (%d client, %d worker, %d scorer)", total, zap.dir,
            zap.nkeys[PF_CURVE_CLIENTS], zap.nkeys[PF_CURVE_WORKERS], zap.nkeys[PF_CURVE_SCORERS]);
  zap.sock = zmq_socket(zctx, ZMQ_REP);
  int zero = 0;
  if (!zap.sock || zmq_setsockopt(zap.sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
      zmq_bind(zap.sock, ZAP_ENDPOINT) != 0) {
    snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
    rc = PF_EIO;
    goto fail;
  }
  if (pthread_create(&zap.thread, NULL, zap_main, &zap) != 0) {
    snprintf(err, errlen, "cannot start the ZAP handler thread");
    rc = PF_EIO;
    goto fail;
  }
  atomic_store(&zap_running, 1);
  return PF_OK;
fail:
  if (zap.sock) zmq_close(zap.sock);
  for (int r = 0; r < PF_CURVE_NROLES; r++) free(zap.keys[r]);
  memset(&zap, 0, sizeof zap);
  return rc;
}

void pf_curve_zap_stop(void) {
  if (!atomic_load(&zap_running)) return;
  atomic_store(&zap.stop, 1);
  pthread_join(zap.thread, NULL);
  for (int r = 0; r < PF_CURVE_NROLES; r++) free(zap.keys[r]);
  memset(&zap, 0, sizeof zap);
  pthread_mutex_lock(&mon_mu);
  mon_npending = 0;
  pthread_mutex_unlock(&mon_mu);
  atomic_store(&zap_running, 0);
}
