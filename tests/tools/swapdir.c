/* swapdir: exchanges two paths atomically, again and again
 * (renameat2 RENAME_EXCHANGE), for the gateway's path race test: a folder
 * inside an allowed folder and a symlink to a folder outside it trade
 * places while requests name a file beneath the first.
 * usage: swapdir A B SECONDS MAX_SWAPS   (prints the number of swaps; an
 * even number leaves A and B as they were) */
#include "pf_clock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: swapdir A B SECONDS MAX_SWAPS\n");
    return 2;
  }
  double secs = atof(argv[3]);
  long max = atol(argv[4]), n = 0;
  double end = pf_clock_s() + secs;
  while (n < max && (n % 64 || pf_clock_s() < end)) {
    if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) {
      fprintf(stderr, "swapdir: renameat2: %s\n", strerror(errno));
      return 1;
    }
    n++;
  }
  if (n % 2 && renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0) n++; /* back as they were */
  printf("%ld\n", n);
  return 0;
}
