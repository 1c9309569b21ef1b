/* scan_load: loads the fleet's samples from Redis the way `pefleet train`
 * does (pf_timed_load_db over every stored sample, then the three stored
 * splits) and prints one line: rows per split, skipped, seconds. For
 * bench/scan_bench.sh, which builds it against this tree's library and
 * against the library of the commit before the batched scan.
 *
 *   scan_load PORT [PASSWORD] */
#include "pf_clock.h"
#include "pf_db.h"
#include "pf_err.h"
#include "pf_timesplit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: scan_load PORT [PASSWORD]\n");
    return 2;
  }
  pf_db_opts o;
  pf_db_opts_default(&o);
  o.port = atoi(argv[1]);
  o.password = argc > 2 ? argv[2] : NULL;
  o.timeout_ms = 10000;
  pf_db *db = NULL;
  char err[512];
  if (pf_db_connect(&o, &db, err, sizeof err) != PF_OK) {
    fprintf(stderr, "scan_load: %s\n", err);
    return 1;
  }
  pf_classes cls;
  if (pf_classes_parse("clean,malicious", &cls) != PF_OK) return 1;
  int64_t t0 = pf_clock_ms();
  pf_timed every, split[3];
  memset(&every, 0, sizeof every);
  memset(split, 0, sizeof split);
  size_t skipped = 0;
  if (pf_timed_load_db(db, PF_DB_MAX_DIM, &cls, &every, &skipped) != PF_OK) {
    fprintf(stderr, "scan_load: %s\n", pf_db_error(db));
    return 1;
  }
  pf_time_range r[3];
  for (int s = 0; s < 3; s++)
    if (pf_timed_by_split(&every, s, &split[s], &r[s]) != PF_OK) return 1;
  double sec = (double)(pf_clock_ms() - t0) / 1000;
  printf("rows %zu (train %zu, validation %zu, test %zu), skipped %zu, seconds %.3f\n", every.d.n, split[0].d.n,
         split[1].d.n, split[2].d.n, skipped, sec);
  for (int s = 0; s < 3; s++) pf_timed_free(&split[s]);
  pf_timed_free(&every);
  pf_db_free(&db);
  return 0;
}
