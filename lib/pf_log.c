#include "pf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *component = "pefleet";
static int min_level = -1;

void pf_log_init(const char *name) { component = name; }
void pf_log_set_level(int level) { min_level = level; }

void pf_log(int level, const char *fmt, ...) {
  if (min_level < 0) {
    const char *e = getenv("PEFLEET_LOG");
    min_level = e && strcmp(e, "debug") == 0 ? PF_LOG_DEBUG : PF_LOG_INFO;
  }
  if (level < min_level) return;
  static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s[%d]: ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                   names[level < 0 ? 0 : level > 3 ? 3 : level], component, (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  fprintf(stderr, "%s\n", line);
}
