/* pf_tmp: owns the temporary files daemons write uploads into.
 * Defines their naming (PREFIX-PID-...) and the sweep that removes those a
 * killed process left behind.
 * Called by the scorer and the similarity service. */
#ifndef PF_TMP_H
#define PF_TMP_H

/* Removes dir's files named "<prefix>-<pid>-<anything>" whose pid is no
 * longer a running process (not this one). Returns how many it removed. */
int pf_tmp_sweep(const char *dir, const char *prefix);

#endif
