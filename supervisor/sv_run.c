/* The supervisor daemon of `pefleet up` (see sv_run.h). */
#include "sv_run.h"
#include "sv_checks.h"
#include "sv_secrets.h"
#include "pf_clock.h"
#include "pf_daemon.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t sup_stop;
static void on_term(int sig) { (void)sig; sup_stop = 1; }

typedef struct {
  sv_daemon *d;
  double started, restart_at;
} slot;

/* The program of each role (redis aside). */
static const char *role_program(const char *role) {
  static const char *const map[][2] = {
    {"broker", "pefleet-broker"}, {"encoder-worker", "pefleet-encoder-worker"},
    {"score-router", "pefleet-score-router"}, {"scorer", "pefleet-scorer"},
    {"gateway", "pefleet-gateway"}, {"similar", "pefleet-similar"}, {"clamd", "pefleet-clamd"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i][0], role) == 0) return map[i][1];
  return "pefleet-unknown-role";
}

/* Starts one daemon with stdout/stderr appended to DATA/logs/ROLE[-i].log. */
static pid_t start_daemon(const pf_config *c, const sv_daemon *d) {
  char log[1200], prog[1024], port[16], dir[1100];
  if (d->index > 0) snprintf(log, sizeof log, "%s/logs/%s-%d.log", c->data, d->role, d->index);
  else snprintf(log, sizeof log, "%s/logs/%s.log", c->data, d->role);
  if (strcmp(d->role, "redis") == 0) snprintf(prog, sizeof prog, "redis-server");
  else if (sv_program(role_program(d->role), prog, sizeof prog) != PF_OK) {
    pf_error("cannot find the %s program beside pefleet", d->role);
    return -1;
  }
  snprintf(port, sizeof port, "%d", c->redis_port);
  snprintf(dir, sizeof dir, "%s/redis", c->data);
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
  int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nul >= 0) dup2(nul, 0);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (strcmp(d->role, "redis") == 0) {
    int piped = sv_secrets_redis_stdin(c); /* "-": the password on stdin, not in ps */
    if (piped < 0) { fprintf(stderr, "cannot hand redis-server its password: %s\n", strerror(errno)); _exit(127); }
    execlp(prog, prog, "--port", port, "--bind", c->redis_host, "--dir", dir, "--appendonly", "yes",
           "--appendfsync", "always", "--save", "", "--daemonize", "no", piped ? "-" : (char *)NULL, (char *)NULL);
  } else {
    execl(prog, prog, "--data", c->data, (char *)NULL);
  }
  fprintf(stderr, "cannot run %s: %s\n", prog, strerror(errno));
  _exit(127);
}

/* The supervisor: runs until SIGTERM, restarting daemons that die. */
static int supervise(const pf_config *c, sv_state *st) {
  pf_log_init("supervisor");
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGHUP, SIG_IGN);
  slot slots[SV_MAX_DAEMONS];
  for (int i = 0; i < st->n; i++) {
    slots[i].d = &st->d[i];
    slots[i].restart_at = 0;
    slots[i].started = 0;
  }
  pf_info("supervising %d daemons in %s", st->n, c->data);
  while (!sup_stop) {
    double now = pf_clock_s();
    int changed = 0;
    for (int i = 0; i < st->n; i++) {
      sv_daemon *d = slots[i].d;
      if (d->pid == 0 && now >= slots[i].restart_at) {
        d->pid = start_daemon(c, d);
        if (d->pid < 0) { d->pid = 0; slots[i].restart_at = now + 5; } /* not every 50 ms */
        slots[i].started = now;
        pf_info("started %s%s%.0d (pid %d)", d->role, d->index ? "-" : "", d->index, (int)d->pid);
        changed = 1;
      }
    }
    if (changed) sv_state_save(c, st);
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int i = 0; i < st->n; i++) {
        sv_daemon *d = slots[i].d;
        if (d->pid != pid) continue;
        double up = pf_clock_s() - slots[i].started;
        if (up > 60) d->restarts = 0; /* it had been healthy: start the backoff over */
        double delay = pf_backoff_ms(d->restarts, 250, 30000) / 1000.0; /* 0.25 s doubling to 30 s */
        d->restarts++;
        pf_warn("%s%s%.0d (pid %d) %s %d after %.1f s; restarting in %.2f s", d->role, d->index ? "-" : "",
                d->index, (int)pid, WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), up, delay);
        d->pid = 0;
        slots[i].restart_at = pf_clock_s() + delay;
        sv_state_save(c, st);
      }
    } else {
      usleep(50 * 1000);
    }
  }
  /* stop workers and broker first, Redis last so they can finish writing */
  pf_info("stopping the fleet");
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < st->n; i++) {
      sv_daemon *d = &st->d[i];
      if (d->pid <= 0 || (strcmp(d->role, "redis") == 0) != (pass == 1)) continue;
      kill(d->pid, SIGTERM);
    }
    double until = pf_clock_s() + 10;
    for (int i = 0; i < st->n; i++) {
      sv_daemon *d = &st->d[i];
      if (d->pid <= 0 || (strcmp(d->role, "redis") == 0) != (pass == 1)) continue;
      while (waitpid(d->pid, NULL, WNOHANG) == 0) {
        if (pf_clock_s() > until) { kill(d->pid, SIGKILL); waitpid(d->pid, NULL, 0); break; }
        usleep(20 * 1000);
      }
      d->pid = 0;
    }
  }
  char p[1100];
  snprintf(p, sizeof p, "%s/fleet.state", c->data);
  unlink(p);
  pf_info("fleet stopped");
  return 0;
}

int sv_launch(const pf_config *c, sv_state *st, pf_db **db, char *err, size_t errlen) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return PF_EIO;
  }
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    char p[1100];
    snprintf(p, sizeof p, "%s/logs/supervisor.log", c->data);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul >= 0) dup2(nul, 0);
    st->supervisor = getpid();
    sv_state_save(c, st);
    _exit(supervise(c, st));
  }
  waitpid(pid, NULL, 0);
  /* wait until Redis answers and every daemon has started */
  *db = NULL;
  double until = pf_clock_s() + 15;
  int ready = 0;
  char why[512];
  snprintf(why, sizeof why, "the supervisor never wrote its fleet.state");
  pf_db_opts o;
  pf_daemon_db_opts(c, &o);
  while (pf_clock_s() < until && !ready) {
    if (sv_state_load(c, st) == PF_OK && st->supervisor && !*db && pf_db_connect(&o, db, why, sizeof why) == PF_OK) {}
    int all = *db != NULL && st->n > 0;
    for (int i = 0; i < st->n; i++) all &= sv_alive(st->d[i].pid);
    ready = all;
    if (!ready) usleep(100 * 1000);
  }
  if (ready) return PF_OK;
  if (*db) snprintf(why, sizeof why, "a daemon kept exiting");
  pf_db_free(db);
  sv_abort(c, st);
  snprintf(err, errlen, "the fleet did not come up within 15 s (%s); stopped what it had started; see %s/logs/", why,
           c->data);
  return PF_ETIMEOUT;
}

/* down after the supervisor was killed: stops the daemons it left (Redis
 * last, as the supervisor does), then forgets the fleet. */
static int stop_orphans(const pf_config *c, const sv_state *st) {
  int orphan[SV_MAX_DAEMONS];
  int no = sv_orphans(c, st, orphan, SV_MAX_DAEMONS);
  if (no == 0) return 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int k = 0; k < no; k++)
      if ((strcmp(st->d[orphan[k]].role, "redis") == 0) == (pass == 1)) kill(st->d[orphan[k]].pid, SIGTERM);
    double until = pf_clock_s() + 10;
    for (int k = 0; k < no; k++) {
      pid_t pid = st->d[orphan[k]].pid;
      if ((strcmp(st->d[orphan[k]].role, "redis") == 0) != (pass == 1)) continue;
      while (sv_alive(pid) && pf_clock_s() < until) usleep(20 * 1000);
      if (sv_alive(pid)) kill(pid, SIGKILL);
    }
  }
  char p[1100];
  snprintf(p, sizeof p, "%s/fleet.state", c->data);
  unlink(p);
  return no;
}

sv_stop_outcome sv_stop(const pf_config *c, int *n, pid_t *pid) {
  static sv_state st;
  if (sv_state_load(c, &st) != PF_OK) return SV_STOP_NOTHING;
  if (pid) *pid = st.supervisor;
  if (!sv_alive(st.supervisor)) {
    int no = stop_orphans(c, &st);
    if (n) *n = no;
    return no ? SV_STOP_ORPHANS : SV_STOP_NONE_LEFT;
  }
  kill(st.supervisor, SIGTERM);
  double until = pf_clock_s() + 30;
  while (sv_alive(st.supervisor) && pf_clock_s() < until) usleep(50 * 1000);
  if (sv_alive(st.supervisor)) return SV_STOP_TIMEOUT;
  /* and give init a moment to reap it, so it is gone when we return */
  for (until = pf_clock_s() + 2; kill(st.supervisor, 0) == 0 && pf_clock_s() < until;) usleep(10 * 1000);
  return SV_STOP_DONE;
}
