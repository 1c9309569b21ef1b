/* pf_log: owns the daemons' log lines.
 * Defines pf_log(): one line per event, "2026-11-23T21:55:01.123Z LEVEL
 * component[pid]: message", on stderr (the supervisor points stderr at the
 * daemon's log file). Messages name the sample (sha256) they concern.
 * Every byte of the message below 0x20, and 0x7f, is written as \xNN (a
 * path or a peer's text carrying ESC[..., CR or LF cannot forge a line or
 * drive the terminal that reads the log).
 * Called by the broker, the encoder worker, the supervisor. */
#ifndef PF_LOG_H
#define PF_LOG_H

#include <stddef.h>

enum { PF_LOG_DEBUG, PF_LOG_INFO, PF_LOG_WARN, PF_LOG_ERROR };

/* Sets the component name printed on every line (not copied). */
void pf_log_init(const char *component);

/* Lines below level are dropped (default PF_LOG_INFO; PEFLEET_LOG=debug). */
void pf_log_set_level(int level);

/* Copies in to out (cap bytes, always terminated when cap > 0), each byte
 * below 0x20 and 0x7f as the four characters \xNN; an escape that does not
 * fit is left out whole. Returns the length written. */
size_t pf_log_escape(char *out, size_t cap, const char *in);

void pf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pf_info(...) pf_log(PF_LOG_INFO, __VA_ARGS__)
#define pf_warn(...) pf_log(PF_LOG_WARN, __VA_ARGS__)
#define pf_error(...) pf_log(PF_LOG_ERROR, __VA_ARGS__)
#define pf_debug(...) pf_log(PF_LOG_DEBUG, __VA_ARGS__)

#endif
