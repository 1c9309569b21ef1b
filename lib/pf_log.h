/* pf_log: owns the daemons' log lines.
 * Defines pf_log(): one line per event, "2026-11-23T21:55:01.123Z LEVEL
 * component[pid]: message", on stderr (the supervisor points stderr at the
 * daemon's log file). Messages name the sample (sha256) they concern.
 * Called by the broker, the encoder worker, the supervisor. */
#ifndef PF_LOG_H
#define PF_LOG_H

enum { PF_LOG_DEBUG, PF_LOG_INFO, PF_LOG_WARN, PF_LOG_ERROR };

/* Sets the component name printed on every line (not copied). */
void pf_log_init(const char *component);

/* Lines below level are dropped (default PF_LOG_INFO; PEFLEET_LOG=debug). */
void pf_log_set_level(int level);

void pf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pf_info(...) pf_log(PF_LOG_INFO, __VA_ARGS__)
#define pf_warn(...) pf_log(PF_LOG_WARN, __VA_ARGS__)
#define pf_error(...) pf_log(PF_LOG_ERROR, __VA_ARGS__)
#define pf_debug(...) pf_log(PF_LOG_DEBUG, __VA_ARGS__)

#endif
