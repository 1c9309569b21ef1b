/* pefleet import-csv: loads a dataset.csv in the seed's layout (label, then
 * 486 values per row) into the fleet's Redis as vector-only samples, each
 * keyed by the sha256 of its row's bytes, so training, export and
 * similarity search see them beside the encoded files.
 *
 * The file is read in blocks and cut into lines here (a line over
 * PF_CSVROW_MAX_LINE is skipped without being held); pf_csvrow decodes
 * each line; rows go to Redis in pipelined batches, two at a time: while
 * Redis works on one (pf_db_import_send), the next is read and decoded,
 * then the first one's answers are read (pf_db_import_wait). Bad rows are
 * reported in line order, one line each, once their batch is answered. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_clock.h"
#include "fleet.h"
#include "pf_csvrow.h"
#include "pf_date.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_hash.h"

#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_DIM PF_ERGO486_DIM
#define IMPORT_BATCH 500         /* rows per pipelined batch (default) */
#define IMPORT_MAX_MAP 64        /* entries of --label-map */
#define IMPORT_READ (256u << 10) /* bytes read at once */

static const char *const prog = "pefleet import-csv";

static void usage(FILE *f) {
  fprintf(f,
    "usage: pefleet import-csv [--label-map MAP] [--seen-at DATE | --seen-column]\n"
    "                          [--data DIR | --config FILE] [-q] FILE\n\n"
    "Loads a dataset.csv in the seed's layout (one row per sample: a label, then\n"
    "%d values; no header) into the fleet's Redis as vector-only samples, so\n"
    "training, export and similarity search see them. Each row is keyed by the\n"
    "sha256 of its bytes (without the line ending) and lands in the split that\n"
    "sha256 gives. A row already stored is a duplicate: only its label is added\n"
    "(a different one is recorded as a conflict). FILE '-' is standard input.\n\n"
    "Rows with another number of values, a value that is not a finite number, or\n"
    "an unusable label are skipped, each reported on stderr as\n"
    "  pefleet import-csv: FILE:LINE: reason\n\n"
    "options:\n"
    "  -m, --label-map MAP  class names of numeric labels, as N=NAME,... (default\n"
    "                       0=clean,1=malicious); a numeric label not in MAP skips\n"
    "                       its row; 'none' stores numeric labels as they are.\n"
    "                       Other labels are stored as they are (1-127 printable\n"
    "                       ASCII characters, no comma)\n"
    "      --seen-at DATE   first-seen time of the new rows (default now): YYYY-MM-DD,\n"
    "                       YYYY-MM-DDTHH:MM:SSZ (UTC) or unix seconds\n"
    "      --seen-column    each row ends with one more field, its first-seen date\n"
    "                       (same forms); the row's sha256 leaves it out, so the same\n"
    "                       row dated again is a duplicate and keeps its first date\n"
    "      --batch N        rows per pipelined round trip to Redis (default %d)\n"
    "      --data DIR       the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --config FILE    a configuration file instead of DIR/pefleet.conf\n"
    "  -q, --quiet          no progress line and no summary\n"
    "  -h, --help           this help\n\n"
    "exit status: 0 every row imported (duplicates included), 1 some rows skipped\n"
    "or Redis failed, 2 usage error\n\n"
    "example:\n"
    "  pefleet import-csv --data /srv/pefleet dataset.csv\n",
    IMPORT_DIM, IMPORT_BATCH);
}

/* ---- --label-map ---- */

typedef struct {
  int n, none;
  double key[IMPORT_MAX_MAP];
  char name[IMPORT_MAX_MAP][PF_DB_MAX_LABEL];
} label_map;

/* "0=clean,1=malicious" or "none"; PF_EINVAL with a reason. */
static int map_parse(label_map *m, const char *s, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  if (strcmp(s, "none") == 0) {
    m->none = 1;
    return PF_OK;
  }
  const char *p = s;
  for (;;) {
    const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (!eq || eq == p || eq + 1 == end) {
      snprintf(err, errlen, "bad --label-map entry '%.*s' (want N=NAME)", (int)(end - p), p);
      return PF_EINVAL;
    }
    char num[32];
    size_t klen = (size_t)(eq - p), vlen = (size_t)(end - eq - 1);
    char *kend = NULL;
    long k = 0;
    if (klen < sizeof num) {
      memcpy(num, p, klen);
      num[klen] = '\0';
      errno = 0;
      k = strtol(num, &kend, 10);
    }
    if (klen >= sizeof num || !kend || *kend || errno) {
      snprintf(err, errlen, "bad --label-map key '%.*s' (want an integer)", (int)klen, p);
      return PF_EINVAL;
    }
    int ok = vlen < PF_DB_MAX_LABEL;
    for (size_t i = 0; ok && i < vlen; i++) ok = eq[1 + i] >= 0x20 && eq[1 + i] <= 0x7e;
    if (!ok) {
      snprintf(err, errlen, "bad --label-map name '%.*s' (1-%d printable ASCII characters)", (int)vlen, eq + 1,
               PF_DB_MAX_LABEL - 1);
      return PF_EINVAL;
    }
    for (int i = 0; i < m->n; i++)
      if (m->key[i] == (double)k) {
        snprintf(err, errlen, "--label-map names %ld twice", k);
        return PF_EINVAL;
      }
    if (m->n == IMPORT_MAX_MAP) {
      snprintf(err, errlen, "--label-map has more than %d entries", IMPORT_MAX_MAP);
      return PF_EINVAL;
    }
    m->key[m->n] = (double)k;
    memcpy(m->name[m->n], eq + 1, vlen);
    m->name[m->n][vlen] = '\0';
    m->n++;
    if (!comma) return PF_OK;
    p = comma + 1;
  }
}

/* Replaces a numeric label by its class name. 0, or -1 when it is numeric
 * and not in the map (reason in why). */
static int map_label(const label_map *m, char *label, size_t cap, char *why, size_t whylen) {
  double v;
  if (m->none || pf_csvrow_number((const uint8_t *)label, strlen(label), &v) != PF_OK) return 0;
  for (int i = 0; i < m->n; i++)
    if (m->key[i] == v) {
      snprintf(label, cap, "%s", m->name[i]);
      return 0;
    }
  snprintf(why, whylen, "label '%s' is not in the label map", label);
  return -1;
}

/* ---- lines ---- */

typedef struct {
  FILE *f;
  uint8_t *buf;
  size_t cap, start, end;
  unsigned long long consumed; /* bytes of the file handed out as lines */
  int eof;
} line_reader;

/* The next line, its ending (LF, then one CR) removed. Returns 1 with
 * *line and *len, 0 at the end, -1 on a read error. A line longer than
 * PF_CSVROW_MAX_LINE is skipped as it streams by: *too_long = 1, *len = 0. */
static int next_line(line_reader *r, const uint8_t **line, size_t *len, int *too_long) {
  size_t scanned = r->start;
  *too_long = 0;
  for (;;) {
    const uint8_t *nl = memchr(r->buf + scanned, '\n', r->end - scanned);
    if (nl || (r->eof && (r->start < r->end || *too_long))) {
      const uint8_t *p = r->buf + r->start;
      size_t n = nl ? (size_t)(nl - p) : r->end - r->start, used = nl ? n + 1 : n;
      r->start += used;
      r->consumed += used;
      if (n > 0 && p[n - 1] == '\r') n--;
      if (n > PF_CSVROW_MAX_LINE) *too_long = 1;
      *line = p;
      *len = *too_long ? 0 : n;
      return 1;
    }
    if (r->eof) return 0;
    scanned = r->end;
    if (r->end - r->start > PF_CSVROW_MAX_LINE + 1) { /* no room for an ending: drop it */
      *too_long = 1;
      r->consumed += r->end - r->start;
      r->start = r->end = scanned = 0;
    }
    if (r->start > 0) {
      memmove(r->buf, r->buf + r->start, r->end - r->start);
      r->end -= r->start;
      scanned -= r->start;
      r->start = 0;
    }
    size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
    if (got == 0) {
      if (ferror(r->f)) return -1;
      r->eof = 1;
    }
    r->end += got;
  }
}

/* ---- rows and batches ---- */

typedef struct {
  unsigned long long line;
  char label[PF_DB_MAX_LABEL];
  char sha[PF_SHA256_HEX_LEN + 1];
  long long seen; /* first-seen time (unix s; 0: now) */
  char why[200]; /* non-empty: skipped, for this reason */
  double vec[IMPORT_DIM];
} row;

/* One batch: its rows, and the items sent for its good ones. */
typedef struct {
  row *rows;
  pf_db_import_item *items;
  size_t n, k; /* rows held, items sent */
  int busy;    /* sent, answers not read yet */
  int refused; /* pf_db_import_send refused the whole batch */
} batch;

typedef struct {
  const char *file;
  batch b[2]; /* one is filled while the other is in Redis's hands */
  int cur;
  size_t cap;
  unsigned long long read, imported, dups, conflicts, skipped, not_stored;
  int progress_shown, stopped;
  int seen_column;    /* the last field of a row is its first-seen date */
  long long seen_at;  /* else every new row's first-seen time (0: now) */
  pf_db *db;
} import_run;

static void clear_progress(import_run *x) {
  if (x->progress_shown) fputs("\r\033[K", stderr);
  x->progress_shown = 0;
}

static void report(import_run *x, unsigned long long line, const char *why) {
  clear_progress(x);
  fprintf(stderr, "%s: %s:%llu: %s\n", prog, x->file, line, why);
}

/* Decodes one line into the next row of the current batch. */
static void take_row(import_run *x, const label_map *m, unsigned long long lineno, const uint8_t *line, size_t len,
                     int too_long) {
  batch *b = &x->b[x->cur];
  row *r = &b->rows[b->n++];
  r->line = lineno;
  r->why[0] = '\0';
  if (too_long) {
    snprintf(r->why, sizeof r->why, "line longer than %u bytes", PF_CSVROW_MAX_LINE);
    return;
  }
  r->seen = x->seen_at;
  if (x->seen_column) { /* the date is the last field; the rest is the seed's row */
    const uint8_t *comma = NULL;
    for (size_t i = len; i > 0 && !comma; i--)
      if (line[i - 1] == ',') comma = line + i - 1;
    size_t dlen = comma ? len - (size_t)(comma - line) - 1 : 0;
    if (!comma || pf_date_parse((const char *)comma + 1, dlen, &r->seen) != PF_OK ||
        memchr(comma + 1, '\0', dlen)) {
      snprintf(r->why, sizeof r->why, "last field '%.*s' is not a first-seen date (--seen-column)",
               (int)(dlen > 40 ? 40 : dlen), comma ? (const char *)comma + 1 : "");
      return;
    }
    len = (size_t)(comma - line);
  }
  size_t nv = 0;
  if (pf_csvrow_parse(line, len, r->label, sizeof r->label, r->vec, IMPORT_DIM, &nv, r->why, sizeof r->why) != PF_OK)
    return;
  if (nv != IMPORT_DIM) {
    snprintf(r->why, sizeof r->why, "expected %d values, found %zu", IMPORT_DIM, nv);
    return;
  }
  for (int i = 0; i < IMPORT_DIM; i++)
    if (fabs(r->vec[i]) > FLT_MAX) {
      snprintf(r->why, sizeof r->why, "value %d is beyond float32 range: %g", i + 1, r->vec[i]);
      return;
    }
  if (map_label(m, r->label, sizeof r->label, r->why, sizeof r->why) != 0) return;
  uint8_t d[PF_SHA256_LEN];
  if (pf_sha256(line, len, d) != PF_OK) {
    snprintf(r->why, sizeof r->why, "cannot hash the row: out of memory");
    return;
  }
  pf_hex(d, PF_SHA256_LEN, r->sha);
}

/* Sends the batch's good rows (pipelined); the answers are read by finish. */
static void batch_send(import_run *x, batch *b) {
  b->k = 0;
  for (size_t i = 0; i < b->n; i++) {
    row *r = &b->rows[i];
    if (r->why[0]) continue;
    pf_db_import_item *it = &b->items[b->k++];
    memset(it, 0, sizeof *it);
    it->sha = r->sha;
    it->label = r->label;
    it->vec = r->vec;
    it->dim = IMPORT_DIM;
    it->first_seen = r->seen;
  }
  b->refused = b->k && pf_db_import_send(x->db, b->items, b->k, PF_ERGO486_SCHEMA_ID) != PF_OK;
  b->busy = 1;
}

/* Reads the batch's answers, counts them and reports its bad rows in line
 * order. Sets x->stopped when Redis failed. */
static void batch_finish(import_run *x, batch *b) {
  if (b->refused) /* cannot happen: k <= PF_DB_IMPORT_MAX */
    for (size_t j = 0; j < b->k; j++) b->items[j].result = PF_EIO, b->items[j].reason[0] = '\0';
  else if (b->busy && b->k)
    pf_db_import_wait(x->db, b->items, b->k, PF_ERGO486_SCHEMA_ID);
  unsigned long long first_lost = 0;
  const char *lost_why = NULL;
  size_t k = 0;
  for (size_t i = 0; i < b->n; i++) {
    row *r = &b->rows[i];
    if (!r->why[0]) {
      const pf_db_import_item *it = &b->items[k++];
      switch (it->result) {
      case 1: x->imported++; continue;
      case 2: x->conflicts++; /* fall through */
      case 0: x->dups++; continue;
      case PF_EINVAL: snprintf(r->why, sizeof r->why, "%s", it->reason); break;
      default:
        x->not_stored++;
        if (!first_lost) {
          first_lost = r->line;
          lost_why = it->reason[0] ? it->reason : pf_db_error(x->db);
        }
        continue;
      }
    }
    x->skipped++;
    report(x, r->line, r->why);
  }
  if (first_lost) {
    clear_progress(x);
    fprintf(stderr, "%s: %s:%llu: Redis gave no answer, stopping: %s\n", prog, x->file, first_lost, lost_why);
    x->stopped = 1;
  }
  b->n = b->k = 0;
  b->busy = b->refused = 0;
}

/* The current batch is full (or the input ended): the other one's answers
 * are read, then this one is sent and the other becomes current. */
static void batch_rotate(import_run *x) {
  batch *other = &x->b[!x->cur];
  if (other->busy) batch_finish(x, other);
  if (x->stopped) return;
  batch_send(x, &x->b[x->cur]);
  x->cur = !x->cur;
}

static void progress(import_run *x, const line_reader *lr, long long size, double t0) {
  double dt = pf_clock_s() - t0;
  char pct[16] = "";
  if (size > 0) snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * (double)lr->consumed / (double)size);
  fprintf(stderr, "\r\033[Kimport-csv: %llu rows%s, %llu imported, %llu duplicates, %llu skipped, %.0f rows/s",
          x->read, pct, x->imported, x->dups, x->skipped, dt > 0 ? (double)x->read / dt : 0.0);
  x->progress_shown = 1;
}

int cmd_import_csv(int argc, char **argv) {
  static const struct option opts[] = {
    {"label-map", required_argument, 0, 'm'}, {"batch", required_argument, 0, 1},
    {"data", required_argument, 0, 2}, {"config", required_argument, 0, 3}, {"quiet", no_argument, 0, 'q'},
    {"seen-at", required_argument, 0, 4}, {"seen-column", no_argument, 0, 5}, {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  long long seen_at = 0;
  int seen_column = 0;
  const char *data = NULL, *config = NULL, *map_arg = "0=clean,1=malicious";
  long batch_rows = IMPORT_BATCH;
  int quiet = 0, c;
  char err[512];
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "m:qh", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'm': map_arg = optarg; break;
    case 1:
      errno = 0;
      batch_rows = strtol(optarg, &end, 10);
      if (*end || errno || batch_rows < 1 || batch_rows > PF_DB_IMPORT_MAX) {
        fprintf(stderr, "%s: bad --batch '%s' (1-%d)\n", prog, optarg, PF_DB_IMPORT_MAX);
        return 2;
      }
      break;
    case 2: data = optarg; break;
    case 3: config = optarg; break;
    case 4:
      if (pf_date_parse(optarg, strlen(optarg), &seen_at) != PF_OK) {
        fprintf(stderr, "%s: bad --seen-at '%s' (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds)\n", prog, optarg);
        return 2;
      }
      break;
    case 5: seen_column = 1; break;
    case 'q': quiet = 1; break;
    case 'h': usage(stdout); return 0;
    default: return usage_err_getopt("pefleet import-csv", opts, "m:qh", argc, argv);
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "%s: %s (try --help)\n", prog, optind >= argc ? "no FILE given" : "give exactly one FILE");
    return 2;
  }
  const char *path = argv[optind];
  label_map map;
  if (map_parse(&map, map_arg, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return 2;
  }
  pf_config cfg;
  int frc = fleet_resolve(prog, data, config, &cfg);
  if (frc != 0) return frc;
  int is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
    return 1;
  }
  struct stat st;
  long long size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
  if (seen_at && seen_column) {
    fprintf(stderr, "%s: give --seen-at or --seen-column, not both\n", prog);
    return 2;
  }
  import_run x = {.file = path, .cap = (size_t)batch_rows, .seen_column = seen_column, .seen_at = seen_at};
  line_reader lr = {.f = f, .cap = PF_CSVROW_MAX_LINE + 2 + IMPORT_READ};
  lr.buf = malloc(lr.cap);
  int rc = 1, nomem = !lr.buf;
  for (int i = 0; i < 2; i++) {
    x.b[i].rows = malloc(x.cap * sizeof *x.b[i].rows);
    x.b[i].items = malloc(x.cap * sizeof *x.b[i].items);
    nomem |= !x.b[i].rows || !x.b[i].items;
  }
  if (nomem) {
    fprintf(stderr, "%s: out of memory\n", prog);
    goto out;
  }
  if (fleet_db(&cfg, &x.db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: %s\n", prog, err);
    goto out;
  }
  int tty = !quiet && isatty(2), read_err = 0; /* read_err: the errno of a failed read */
  double t0 = pf_clock_s(), last = t0;
  const uint8_t *line;
  size_t len;
  int too_long, got;
  while (!x.stopped && (got = next_line(&lr, &line, &len, &too_long)) != 0) {
    if (got < 0) {
      read_err = errno ? errno : EIO;
      break;
    }
    x.read++;
    /* a UTF-8 byte order mark is not part of the first row (nor of its sha256) */
    if (x.read == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) line += 3, len -= 3;
    take_row(&x, &map, x.read, line, len, too_long);
    if (x.b[x.cur].n == x.cap) {
      batch_rotate(&x);
      if (tty && pf_clock_s() - last >= 0.5) {
        progress(&x, &lr, size, t0);
        last = pf_clock_s();
      }
    }
  }
  if (!x.stopped && x.b[x.cur].n) batch_rotate(&x);
  if (x.b[!x.cur].busy) batch_finish(&x, &x.b[!x.cur]);
  clear_progress(&x);
  if (read_err) fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(read_err));
  double dt = pf_clock_s() - t0;
  if (!quiet) {
    fprintf(stderr, "%s: %s: %llu rows read, %llu imported, %llu duplicates", prog, path, x.read, x.imported, x.dups);
    if (x.conflicts) fprintf(stderr, " (%llu with another label)", x.conflicts);
    fprintf(stderr, ", %llu skipped", x.skipped);
    unsigned long long left = x.read - x.imported - x.dups - x.skipped;
    if (left) fprintf(stderr, ", %llu not confirmed (import the file again to finish)", left);
    fprintf(stderr, " in %.2f s (%.0f rows/s)\n", dt, dt > 0 ? (double)x.read / dt : 0.0);
  }
  rc = x.skipped || x.not_stored || x.stopped || read_err ? 1 : 0;
out:
  pf_db_free(&x.db);
  for (int i = 0; i < 2; i++) {
    free(x.b[i].items);
    free(x.b[i].rows);
  }
  free(lr.buf);
  if (!is_stdin) fclose(f);
  return rc;
}
