/* pf_clock: owns the monotonic clock that timeouts, heartbeats and rates use.
 * Defines pf_clock_ms() and pf_clock_s() (CLOCK_MONOTONIC, never jumps).
 * Called by the encoder pool, the daemons and the commands' progress lines. */
#ifndef PF_CLOCK_H
#define PF_CLOCK_H

#include <stdint.h>

int64_t pf_clock_ms(void);
double pf_clock_s(void);

#endif
