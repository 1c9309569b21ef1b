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

size_t pf_log_escape(char *out, size_t cap, const char *in) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  if (cap == 0) return 0;
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      if (n + 4 >= cap) break;
      out[n++] = '\\';
      out[n++] = 'x';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    } else {
      if (n + 1 >= cap) break;
      out[n++] = (char)*p;
    }
  }
  out[n] = '\0';
  return n;
}

void pf_log(int level, const char *fmt, ...) {
  if (min_level < 0) {
    const char *e = getenv("PEFLEET_LOG");
    min_level = e && strcmp(e, "debug") == 0 ? PF_LOG_DEBUG : PF_LOG_INFO;
  }
  if (level < min_level) return;
  static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  char line[8400]; /* room for a 2 KiB message with every byte escaped */
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s[%d]: ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                   names[level < 0 ? 0 : level > 3 ? 3 : level], component, (int)getpid());
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) n = 0;
  pf_log_escape(line + n, sizeof line - (size_t)n, msg);
  fprintf(stderr, "%s\n", line);
}
