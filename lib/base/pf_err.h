/* pf_err: owns the project-wide error codes.
 * Defines negative errno-style PF_E* codes and pf_strerror().
 * Called by every library module and by the command-line front. */
#ifndef PF_ERR_H
#define PF_ERR_H

enum {
  PF_OK = 0,
  PF_EINVAL = -1,    /* bad argument or malformed input */
  PF_ENOMEM = -2,    /* allocation failed */
  PF_EIO = -3,       /* read/write failed (errno has details) */
  PF_ENOTPE = -4,    /* input is not a PE file */
  PF_ETRUNC = -5,    /* input ends before a structure it declares */
  PF_ELIMIT = -6,    /* input exceeds a hard limit */
  PF_ECRASH = -7,    /* isolated parser died */
  PF_ETIMEOUT = -8,  /* isolated parser ran out of time */
  PF_ENOENT = -9,    /* no such file or key */
  PF_EGPU = -10,     /* a CUDA, cuBLAS or cuDNN call failed, or no usable GPU */
  PF_EFLEET = -11,   /* the Redis belongs to another fleet (pf:fleet differs) */
  PF_EPERM = -12,    /* the kernel refused a confinement step */
  PF_EVIOL = -13,    /* isolated parser broke a sandbox rule */
};

/* Returns a static, human-readable text for a PF_E* code; never NULL. */
const char *pf_strerror(int code);

#endif
