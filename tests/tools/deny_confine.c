/* deny_confine: runs a program as on a kernel without namespaces or
 * Landlock: unshare() fails with EPERM and Landlock's syscalls with ENOSYS
 * (a seccomp filter, inherited across exec). For the test of the sandbox's
 * degraded start (tests/integration/sandbox_degraded.sh).
 *   deny_confine PROGRAM [ARGS...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: deny_confine PROGRAM [ARGS...]\n");
    return 2;
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_create_ruleset), 0) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_restrict_self), 0) != 0 ||
      seccomp_load(ctx) != 0) {
    fprintf(stderr, "deny_confine: cannot install the filter\n");
    return 1;
  }
  execv(argv[1], argv + 1);
  perror(argv[1]);
  return 127;
}
