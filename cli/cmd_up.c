/* pefleet up / down: start the whole fleet on one machine (its own
 * redis-server with AOF, the broker, N encoder workers) under a detached
 * supervisor that restarts any daemon that dies, with backoff; and stop
 * exactly what up started. */
#include "cmd.h"
#include "pf_clock.h"
#include "fleet.h"
#include "pf_err.h"
#include "pf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t sup_stop;
static void on_term(int sig) { (void)sig; sup_stop = 1; }

typedef struct {
  fleet_daemon *d;
  double started, restart_at;
} slot;

/* Starts one daemon with stdout/stderr appended to DATA/logs/ROLE[-i].log. */
static pid_t start_daemon(const pf_config *c, const fleet_daemon *d) {
  char log[1200], prog[1024], port[16], dir[1100];
  if (d->index > 0) snprintf(log, sizeof log, "%s/logs/%s-%d.log", c->data, d->role, d->index);
  else snprintf(log, sizeof log, "%s/logs/%s.log", c->data, d->role);
  if (strcmp(d->role, "redis") == 0) snprintf(prog, sizeof prog, "redis-server");
  else if (fleet_program(strcmp(d->role, "broker") == 0 ? "pefleet-broker" : "pefleet-encoder-worker", prog,
                         sizeof prog) != PF_OK) {
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
    if (c->redis_password[0])
      execlp(prog, prog, "--port", port, "--bind", c->redis_host, "--dir", dir, "--appendonly", "yes",
             "--appendfsync", "always", "--save", "", "--daemonize", "no", "--requirepass", c->redis_password,
             (char *)NULL);
    else
      execlp(prog, prog, "--port", port, "--bind", c->redis_host, "--dir", dir, "--appendonly", "yes",
             "--appendfsync", "always", "--save", "", "--daemonize", "no", (char *)NULL);
  } else {
    execl(prog, prog, "--data", c->data, (char *)NULL);
  }
  fprintf(stderr, "cannot run %s: %s\n", prog, strerror(errno));
  _exit(127);
}

/* The supervisor: runs until SIGTERM, restarting daemons that die. */
static int supervise(pf_config *c, fleet_state *st) {
  pf_log_init("supervisor");
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGHUP, SIG_IGN);
  slot slots[FLEET_MAX_DAEMONS];
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
      fleet_daemon *d = slots[i].d;
      if (d->pid == 0 && now >= slots[i].restart_at) {
        d->pid = start_daemon(c, d);
        if (d->pid < 0) { d->pid = 0; slots[i].restart_at = now + 5; } /* not every 50 ms */
        slots[i].started = now;
        pf_info("started %s%s%.0d (pid %d)", d->role, d->index ? "-" : "", d->index, (int)d->pid);
        changed = 1;
      }
    }
    if (changed) fleet_state_save(c, st);
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int i = 0; i < st->n; i++) {
        fleet_daemon *d = slots[i].d;
        if (d->pid != pid) continue;
        double up = pf_clock_s() - slots[i].started;
        if (up > 60) d->restarts = 0; /* it had been healthy: start the backoff over */
        double delay = 0.25 * (double)(1 << (d->restarts < 7 ? d->restarts : 7));
        if (delay > 30) delay = 30;
        d->restarts++;
        pf_warn("%s%s%.0d (pid %d) %s %d after %.1f s; restarting in %.2f s", d->role, d->index ? "-" : "",
                d->index, (int)pid, WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), up, delay);
        d->pid = 0;
        slots[i].restart_at = pf_clock_s() + delay;
        fleet_state_save(c, st);
      }
    } else {
      usleep(50 * 1000);
    }
  }
  /* stop workers and broker first, Redis last so they can finish writing */
  pf_info("stopping the fleet");
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < st->n; i++) {
      fleet_daemon *d = &st->d[i];
      if (d->pid <= 0 || (strcmp(d->role, "redis") == 0) != (pass == 1)) continue;
      kill(d->pid, SIGTERM);
    }
    double until = pf_clock_s() + 10;
    for (int i = 0; i < st->n; i++) {
      fleet_daemon *d = &st->d[i];
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

static void usage_up(FILE *f) {
  fprintf(f,
    "usage: pefleet up [--workers N] [--data DIR] [--redis-port P] [--ingest-port P] [--worker-port P]\n\n"
    "Starts the fleet on this machine, detached: redis-server (AOF on, data in\n"
    "DIR/redis), the broker and N encoder workers, each restarted with backoff if it\n"
    "dies. Logs go to DIR/logs/, settings to DIR/pefleet.conf. Stop it with\n"
    "'pefleet down --data DIR'.\n\n"
    "options:\n"
    "  -w, --workers N     encoder workers (default: number of cores)\n"
    "      --data DIR      the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --redis-port P  (default 6390)  --ingest-port P (5555)  --worker-port P (5556)\n"
    "      --max-attempts N  deliveries of a sample before it is failed (default 3)\n\n"
    "example:\n"
    "  pefleet up --workers 4 --data /srv/pefleet\n");
}

int cmd_up(int argc, char **argv) {
  static const struct option opts[] = {
    {"workers", required_argument, 0, 'w'}, {"data", required_argument, 0, 1},
    {"redis-port", required_argument, 0, 2}, {"ingest-port", required_argument, 0, 3},
    {"worker-port", required_argument, 0, 4}, {"max-attempts", required_argument, 0, 5},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *data = NULL;
  long workers = sysconf(_SC_NPROCESSORS_ONLN), rport = 6390, iport = 5555, wport = 5556, attempts = 3;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
    char *end = NULL;
    long v = optarg ? strtol(optarg, &end, 10) : 0;
    if (optarg && c != 1 && (*end || v < 0 || v > 65535)) {
      fprintf(stderr, "pefleet up: bad number '%s'\n", optarg);
      return 2;
    }
    switch (c) {
    case 'w': workers = v; break;
    case 1: data = optarg; break;
    case 2: rport = v; break;
    case 3: iport = v; break;
    case 4: wport = v; break;
    case 5: attempts = v; break;
    case 'h': usage_up(stdout); return 0;
    default: usage_up(stderr); return 2;
    }
  }
  if (workers < 1 || workers > 128) { fprintf(stderr, "pefleet up: --workers must be 1..128\n"); return 2; }
  pf_config cfg;
  pf_config_default(&cfg, data);
  char abs[1024];
  if (mkdir(cfg.data, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet up: cannot create %s: %s\n", cfg.data, strerror(errno));
    return 1;
  }
  if (!realpath(cfg.data, abs)) { fprintf(stderr, "pefleet up: %s: %s\n", cfg.data, strerror(errno)); return 1; }
  pf_config_default(&cfg, abs);
  fleet_state st;
  if (fleet_state_load(&cfg, &st) == PF_OK && fleet_alive(st.supervisor)) {
    fprintf(stderr, "pefleet up: a fleet is already running in %s (supervisor pid %d)\n", cfg.data, (int)st.supervisor);
    return 1;
  }
  cfg.redis_port = (int)rport;
  cfg.workers = (int)workers;
  if (attempts < 1 || attempts > 100) { fprintf(stderr, "pefleet up: --max-attempts must be 1..100\n"); return 2; }
  cfg.max_attempts = (int)attempts;
  snprintf(cfg.ingest_endpoint, sizeof cfg.ingest_endpoint, "tcp://127.0.0.1:%ld", iport);
  snprintf(cfg.worker_endpoint, sizeof cfg.worker_endpoint, "tcp://127.0.0.1:%ld", wport);
  char p[1100];
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", cfg.data, i == 0 ? "logs" : i == 1 ? "redis" : "store");
    if (mkdir(p, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "pefleet up: cannot create %s\n", p); return 1; }
  }
  snprintf(p, sizeof p, "%s/pefleet.conf", cfg.data);
  if (pf_config_save(&cfg, p) != PF_OK) { fprintf(stderr, "pefleet up: cannot write %s\n", p); return 1; }

  memset(&st, 0, sizeof st);
  snprintf(st.d[st.n++].role, sizeof st.d[0].role, "redis");
  snprintf(st.d[st.n++].role, sizeof st.d[0].role, "broker");
  for (int i = 1; i <= workers; i++) {
    snprintf(st.d[st.n].role, sizeof st.d[0].role, "encoder-worker");
    st.d[st.n++].index = i;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) { fprintf(stderr, "pefleet up: fork: %s\n", strerror(errno)); return 1; }
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    snprintf(p, sizeof p, "%s/logs/supervisor.log", cfg.data);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul >= 0) dup2(nul, 0);
    st.supervisor = getpid();
    fleet_state_save(&cfg, &st);
    _exit(supervise(&cfg, &st));
  }
  waitpid(pid, NULL, 0);
  /* wait until Redis answers and every daemon has started */
  pf_db *db = NULL;
  char err[512];
  double until = pf_clock_s() + 15;
  int ready = 0;
  while (pf_clock_s() < until && !ready) {
    if (fleet_state_load(&cfg, &st) == PF_OK && st.supervisor && !db && fleet_db(&cfg, &db, err, sizeof err) == PF_OK) {}
    int all = db != NULL && st.n > 0;
    for (int i = 0; i < st.n; i++) all &= fleet_alive(st.d[i].pid);
    ready = all;
    if (!ready) usleep(100 * 1000);
  }
  pf_db_free(&db);
  if (!ready) {
    fprintf(stderr, "pefleet up: the fleet did not come up within 15 s; see %s/logs/\n", cfg.data);
    return 1;
  }
  printf("pefleet up: fleet running in %s (supervisor pid %d)\n", cfg.data, (int)st.supervisor);
  printf("  redis %s:%d (AOF in %s/redis), broker ingest %s workers %s, %ld encoder workers\n", cfg.redis_host,
         cfg.redis_port, cfg.data, cfg.ingest_endpoint, cfg.worker_endpoint, workers);
  printf("  logs in %s/logs/; stop with: pefleet down --data %s\n", cfg.data, cfg.data);
  return 0;
}

int cmd_down(int argc, char **argv) {
  const char *data = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: pefleet down [--data DIR]\n\nStops the fleet 'pefleet up' started in DIR: workers and broker first, Redis last.\n");
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--data") == 0) data = argv[++i];
    else { fprintf(stderr, "usage: pefleet down [--data DIR]\n"); return 2; }
  }
  pf_config cfg;
  pf_config_default(&cfg, data);
  fleet_state st;
  if (fleet_state_load(&cfg, &st) != PF_OK || !fleet_alive(st.supervisor)) {
    fprintf(stderr, "pefleet down: no fleet is running in %s\n", cfg.data);
    return 1;
  }
  kill(st.supervisor, SIGTERM);
  double until = pf_clock_s() + 30;
  while (fleet_alive(st.supervisor) && pf_clock_s() < until) usleep(50 * 1000);
  if (fleet_alive(st.supervisor)) {
    fprintf(stderr, "pefleet down: supervisor %d did not stop within 30 s\n", (int)st.supervisor);
    return 1;
  }
  printf("pefleet down: fleet in %s stopped\n", cfg.data);
  return 0;
}
