#include "pf_err.h"

const char *pf_strerror(int code) {
  switch (code) {
  case PF_OK: return "success";
  case PF_EINVAL: return "invalid input";
  case PF_ENOMEM: return "out of memory";
  case PF_EIO: return "I/O error";
  case PF_ENOTPE: return "not a PE file";
  case PF_ETRUNC: return "truncated input";
  case PF_ELIMIT: return "input exceeds a hard limit";
  case PF_ECRASH: return "parser crashed";
  case PF_ETIMEOUT: return "parser timed out";
  case PF_ENOENT: return "not found";
  case PF_EGPU: return "GPU error";
  case PF_EFLEET: return "Redis of another fleet";
  case PF_EPERM: return "not permitted";
  case PF_EVIOL: return "parser violated the sandbox";
  default: return "unknown error";
  }
}
