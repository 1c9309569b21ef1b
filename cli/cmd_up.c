/* pefleet up / down: start the whole fleet on one machine (its own
 * redis-server with AOF, the broker, N encoder workers) under a detached
 * supervisor that restarts any daemon that dies, with backoff; and stop
 * exactly what up started. */
#include "cmd.h"
#include "usage_err.h"
#include "pf_clock.h"
#include "fleet.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_peer.h"
#include "pf_registry.h"
#include "model_info.h"
#include "up_secrets.h"
#include "up_checks.h"

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
static pid_t start_daemon(const pf_config *c, const fleet_daemon *d) {
  char log[1200], prog[1024], port[16], dir[1100];
  if (d->index > 0) snprintf(log, sizeof log, "%s/logs/%s-%d.log", c->data, d->role, d->index);
  else snprintf(log, sizeof log, "%s/logs/%s.log", c->data, d->role);
  if (strcmp(d->role, "redis") == 0) snprintf(prog, sizeof prog, "redis-server");
  else if (fleet_program(role_program(d->role), prog, sizeof prog) != PF_OK) {
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
    int piped = up_secrets_redis_stdin(c); /* "-": the password on stdin, not in ps */
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
        double delay = pf_backoff_ms(d->restarts, 250, 30000) / 1000.0; /* 0.25 s doubling to 30 s */
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
    "usage: pefleet up [--workers N] [--scorers N] [--port P] [--model DIR] [--data DIR] [port options]\n\n"
    "Starts the fleet on this machine, detached: redis-server (AOF on, data in\n"
    "DIR/redis), the broker, N encoder workers, the score router with N scorers,\n"
    "the HTTP gateway and the similarity service, each restarted with backoff if\n"
    "it dies. Logs go to DIR/logs/, settings to DIR/pefleet.conf. Stop it with\n"
    "'pefleet down --data DIR'.\n\n"
    "options:\n"
    "  -w, --workers N     encoder workers (default: number of cores)\n"
    "  -s, --scorers N     scorers (default 2; 0: no scorer pool, gateway or similarity service)\n"
    "  -p, --port P        HTTP gateway port (default 8080; bound to 127.0.0.1)\n"
    "      --model DIR     register this model folder and make it the one that serves\n"
    "      --data DIR      the fleet's folder (default $PEFLEET_DATA or ./pefleet-data)\n"
    "      --redis-port P  (default 6390)  --ingest-port P (5555)  --worker-port P (5556)\n"
    "      --score-port P  (5557)  --scorer-port P (5558)  --similar-port P (5559)\n"
    "      --max-attempts N  deliveries of a sample before it is failed (default 3)\n"
    "      --no-redis-password  run Redis without a password (by default up makes one,\n"
    "                       kept in DIR/pefleet.conf, mode 0600; an existing one is kept)\n"
    "      --clamd-port P  clamd protocol (pefleet-clamd) on 127.0.0.1:P (default 3310; 0: off)\n"
    "      --clamd-socket PATH  also on this Unix socket (FILDES needs it)\n\n"
    "example:\n"
    "  pefleet up --workers 4 --scorers 2 --port 8080 --model models/seed --data /srv/pefleet\n");
}

/* Registers the --model folder (with its training-set size, as pefleet
 * promote does) and makes it serve. */
static int promote_model(pf_db *db, const char *dir) {
  char err[512], version[PF_MODEL_NAME];
  int rc = pf_registry_register(db, dir, model_info_samples(dir), version, err, sizeof err);
  if (rc == PF_OK) rc = pf_registry_promote(db, version, err, sizeof err);
  if (rc != PF_OK) { fprintf(stderr, "pefleet up: --model %s: %s\n", dir, err); return 1; }
  printf("  model %s (from %s) serves\n", version, dir);
  return 0;
}

static void add_role(fleet_state *st, const char *role, int index) {
  snprintf(st->d[st->n].role, sizeof st->d[0].role, "%s", role);
  st->d[st->n++].index = index;
}

int cmd_up(int argc, char **argv) {
  static const struct option opts[] = {
    {"workers", required_argument, 0, 'w'}, {"data", required_argument, 0, 1},
    {"redis-port", required_argument, 0, 2}, {"ingest-port", required_argument, 0, 3},
    {"worker-port", required_argument, 0, 4}, {"max-attempts", required_argument, 0, 5},
    {"scorers", required_argument, 0, 's'}, {"port", required_argument, 0, 'p'},
    {"model", required_argument, 0, 6}, {"score-port", required_argument, 0, 7},
    {"scorer-port", required_argument, 0, 8}, {"similar-port", required_argument, 0, 9},
    {"no-redis-password", no_argument, 0, 10}, {"clamd-port", required_argument, 0, 11},
    {"clamd-socket", required_argument, 0, 12}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
  };
  const char *data = NULL, *model = NULL, *clamd_socket = NULL;
  long workers = sysconf(_SC_NPROCESSORS_ONLN), rport = 6390, iport = 5555, wport = 5556, attempts = 3;
  long scorers = 2, hport = 8080, sport = 5557, scport = 5558, simport = 5559, cdport = 3310;
  unsigned given = 0; /* bit n: the option with code n was given */
  int port_given = 0;
  char err[512];
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "w:s:p:h", opts, NULL)) != -1) {
    char *end = NULL;
    long v = optarg ? strtol(optarg, &end, 10) : 0;
    if (optarg && c != 1 && c != 6 && c != 12 && (*end || v < 0 || v > 65535)) {
      fprintf(stderr, "pefleet up: bad number '%s'\n", optarg);
      return 2;
    }
    if (c >= 0 && c < 32) given |= 1u << c;
    if (c == 'p') port_given = 1;
    switch (c) {
    case 'w': workers = v; break;
    case 's': scorers = v; break;
    case 'p': hport = v; break;
    case 1: data = optarg; break;
    case 2: rport = v; break;
    case 3: iport = v; break;
    case 4: wport = v; break;
    case 5: attempts = v; break;
    case 6: model = optarg; break;
    case 7: sport = v; break;
    case 8: scport = v; break;
    case 9: simport = v; break;
    case 10: break; /* in given */
    case 11: cdport = v; break;
    case 12: clamd_socket = optarg; break;
    case 'h': usage_up(stdout); return 0;
    default: return usage_err_getopt("pefleet up", opts, "w:s:p:h", argc, argv);
    }
  }
  if (workers < 1 || workers > 64) { fprintf(stderr, "pefleet up: --workers must be 1..64\n"); return 2; }
  if (scorers > 32) { fprintf(stderr, "pefleet up: --scorers must be 0..32\n"); return 2; }
  if (model) {
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/%s", model, PF_MODEL_FILE);
    if (access(mp, R_OK) != 0) { fprintf(stderr, "pefleet up: --model %s: no readable %s\n", model, mp); return 2; }
  }
  pf_config cfg;
  pf_config_default(&cfg, data);
  char abs[1024];
  if (mkdir(cfg.data, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "pefleet up: cannot create %s: %s\n", cfg.data, strerror(errno));
    return 1;
  }
  if (!realpath(cfg.data, abs)) { fprintf(stderr, "pefleet up: %s: %s\n", cfg.data, strerror(errno)); return 1; }
  pf_config_default(&cfg, abs);
  fleet_state st;
  if (fleet_state_load(&cfg, &st) == PF_OK) {
    if (fleet_alive(st.supervisor)) {
      fprintf(stderr, "pefleet up: a fleet is already running in %s (supervisor pid %d)\n", cfg.data,
              (int)st.supervisor);
      return 1;
    }
    int orphan[FLEET_MAX_DAEMONS];
    int no = fleet_orphans(&cfg, &st, orphan, FLEET_MAX_DAEMONS);
    if (no > 0) {
      fprintf(stderr, "pefleet up: %d daemon(s) of an earlier fleet in %s still run without their supervisor "
                      "(e.g. %s pid %d); stop them first with: pefleet down --data %s\n",
              no, cfg.data, st.d[orphan[0]].role, (int)st.d[orphan[0]].pid, cfg.data);
      return 1;
    }
  }
  /* PEFLEET_* settings (CURVE keys, a Redis password, ...) go into
   * pefleet.conf too, so commands that read it later agree with the daemons
   * (which inherit this environment); port flags given win over them */
  if (pf_config_env(&cfg, err, sizeof err) != PF_OK) { fprintf(stderr, "pefleet up: %s\n", err); return 2; }
  if (given & (1u << 2) || !getenv("PEFLEET_REDIS_PORT")) cfg.redis_port = (int)rport;
  cfg.workers = (int)workers;
  cfg.scorers = (int)scorers;
  if (port_given || !getenv("PEFLEET_HTTP_PORT")) cfg.http_port = (int)hport;
  if (attempts < 1 || attempts > 100) { fprintf(stderr, "pefleet up: --max-attempts must be 1..100\n"); return 2; }
  cfg.max_attempts = (int)attempts;
  if (given & (1u << 3) || !getenv("PEFLEET_INGEST_ENDPOINT"))
    snprintf(cfg.ingest_endpoint, sizeof cfg.ingest_endpoint, "tcp://127.0.0.1:%ld", iport);
  if (given & (1u << 4) || !getenv("PEFLEET_WORKER_ENDPOINT"))
    snprintf(cfg.worker_endpoint, sizeof cfg.worker_endpoint, "tcp://127.0.0.1:%ld", wport);
  if (given & (1u << 7) || !getenv("PEFLEET_SCORE_ENDPOINT"))
    snprintf(cfg.score_endpoint, sizeof cfg.score_endpoint, "tcp://127.0.0.1:%ld", sport);
  if (given & (1u << 8) || !getenv("PEFLEET_SCORER_ENDPOINT"))
    snprintf(cfg.scorer_endpoint, sizeof cfg.scorer_endpoint, "tcp://127.0.0.1:%ld", scport);
  if (given & (1u << 9) || !getenv("PEFLEET_SIMILAR_ENDPOINT"))
    snprintf(cfg.similar_endpoint, sizeof cfg.similar_endpoint, "tcp://127.0.0.1:%ld", simport);
  if (up_secrets_prepare(&cfg, (given >> 10) & 1, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet up: %s\n", err);
    return 1;
  }
  if (given & (1u << 11) || !getenv("PEFLEET_CLAMD_PORT")) cfg.clamd_port = (int)cdport;
  if (clamd_socket) snprintf(cfg.clamd_socket, sizeof cfg.clamd_socket, "%s", clamd_socket);
  /* one fleet per Redis, and nothing started when a port is taken */
  if (up_fleet_id(&cfg, err, sizeof err) != PF_OK || up_ports_check(&cfg, err, sizeof err) != PF_OK) {
    fprintf(stderr, "pefleet up: %s\n", err);
    return 1;
  }
  char p[1100];
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", cfg.data, i == 0 ? "logs" : i == 1 ? "redis" : "store");
    if (mkdir(p, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "pefleet up: cannot create %s\n", p); return 1; }
  }
  snprintf(p, sizeof p, "%s/pefleet.conf", cfg.data);
  if (pf_config_save(&cfg, p) != PF_OK) { fprintf(stderr, "pefleet up: cannot write %s\n", p); return 1; }

  memset(&st, 0, sizeof st);
  add_role(&st, "redis", 0);
  add_role(&st, "broker", 0);
  for (int i = 1; i <= workers; i++) add_role(&st, "encoder-worker", i);
  char prog[1024];
  if (scorers > 0) {
    add_role(&st, "score-router", 0);
    for (int i = 1; i <= scorers; i++) add_role(&st, "scorer", i);
    if (fleet_program("pefleet-gateway", prog, sizeof prog) == PF_OK) add_role(&st, "gateway", 0);
    else printf("  (no pefleet-gateway beside pefleet: the HTTP gateway is not started)\n");
    if (fleet_program("pefleet-similar", prog, sizeof prog) == PF_OK) add_role(&st, "similar", 0);
    else printf("  (no pefleet-similar beside pefleet: the similarity service is not started)\n");
    if ((cfg.clamd_port || cfg.clamd_socket[0]) && fleet_program("pefleet-clamd", prog, sizeof prog) == PF_OK)
      add_role(&st, "clamd", 0);
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
  double until = pf_clock_s() + 15;
  int ready = 0;
  snprintf(err, sizeof err, "the supervisor never wrote its fleet.state");
  while (pf_clock_s() < until && !ready) {
    if (fleet_state_load(&cfg, &st) == PF_OK && st.supervisor && !db && fleet_db(&cfg, &db, err, sizeof err) == PF_OK) {}
    int all = db != NULL && st.n > 0;
    for (int i = 0; i < st.n; i++) all &= fleet_alive(st.d[i].pid);
    ready = all;
    if (!ready) usleep(100 * 1000);
  }
  if (!ready) {
    if (db) snprintf(err, sizeof err, "a daemon kept exiting");
    pf_db_free(&db);
    up_abort(&cfg, &st);
    fprintf(stderr, "pefleet up: the fleet did not come up within 15 s (%s); stopped what it had started; "
                    "see %s/logs/\n", err, cfg.data);
    return 1;
  }
  printf("pefleet up: fleet running in %s (supervisor pid %d)\n", cfg.data, (int)st.supervisor);
  printf("  redis %s:%d (AOF in %s/redis), broker ingest %s workers %s, %ld encoder workers\n", cfg.redis_host,
         cfg.redis_port, cfg.data, cfg.ingest_endpoint, cfg.worker_endpoint, workers);
  if (scorers > 0)
    printf("  score router %s with %ld scorers; HTTP gateway http://%s:%d/\n", cfg.score_endpoint, scorers,
           cfg.http_address, cfg.http_port);
  if (scorers > 0 && cfg.clamd_port) printf("  clamd protocol on 127.0.0.1:%d\n", cfg.clamd_port);
  if (scorers > 0 && cfg.clamd_socket[0]) printf("  clamd protocol on %s\n", cfg.clamd_socket);
  /* samples stored before first-seen times were indexed join pf:seen */
  long long backfilled = 0;
  if (pf_db_seen_backfill(db, (long long)time(NULL), &backfilled) != PF_OK)
    fprintf(stderr, "pefleet up: cannot index first-seen times: %s\n", pf_db_error(db));
  else if (backfilled > 0)
    printf("  %lld samples stored before first-seen indexing joined pf:seen\n", backfilled);
  int rc = model ? promote_model(db, model) : 0;
  pf_db_free(&db);
  if (rc != 0) { up_abort(&cfg, &st); return 1; }
  printf("  logs in %s/logs/; stop with: pefleet down --data %s\n", cfg.data, cfg.data);
  return 0;
}

/* down after the supervisor was killed: stops the daemons it left (Redis
 * last, as the supervisor does), then forgets the fleet. */
static int stop_orphans(const pf_config *c, fleet_state *st) {
  int orphan[FLEET_MAX_DAEMONS];
  int no = fleet_orphans(c, st, orphan, FLEET_MAX_DAEMONS);
  if (no == 0) {
    fprintf(stderr, "pefleet down: no fleet is running in %s\n", c->data);
    return 1;
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int k = 0; k < no; k++)
      if ((strcmp(st->d[orphan[k]].role, "redis") == 0) == (pass == 1)) kill(st->d[orphan[k]].pid, SIGTERM);
    double until = pf_clock_s() + 10;
    for (int k = 0; k < no; k++) {
      pid_t pid = st->d[orphan[k]].pid;
      if ((strcmp(st->d[orphan[k]].role, "redis") == 0) != (pass == 1)) continue;
      while (fleet_alive(pid) && pf_clock_s() < until) usleep(20 * 1000);
      if (fleet_alive(pid)) kill(pid, SIGKILL);
    }
  }
  char p[1100];
  snprintf(p, sizeof p, "%s/fleet.state", c->data);
  unlink(p);
  printf("pefleet down: the supervisor in %s had died; stopped the %d daemon(s) it left running\n", c->data, no);
  return 0;
}

int cmd_down(int argc, char **argv) {
  const char *data = NULL, *config = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: pefleet down [--data DIR | --config FILE]\n\nStops the fleet 'pefleet up' started in DIR: workers and broker first, Redis last.\n"
             "Exit 0 when it stopped, or when nothing was running (\"nothing running\"); 1 when it would not stop.\n");
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--data") == 0) data = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) config = argv[++i];
    else if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--config") == 0)
      return usage_err("pefleet down", "option %s needs a value", argv[i]);
    else if (argv[i][0] == '-') return usage_err("pefleet down", "unknown option %s", argv[i]);
    else return usage_err("pefleet down", "unexpected argument '%s'", argv[i]);
  }
  pf_config cfg;
  if (config) {
    char err[512];
    if (pf_config_resolve(&cfg, data, config, err, sizeof err) != PF_OK) {
      fprintf(stderr, "pefleet down: %s\n", err);
      return 2;
    }
  } else {
    pf_config_default(&cfg, data);
  }
  char abs[1024];
  if (realpath(cfg.data, abs)) snprintf(cfg.data, sizeof cfg.data, "%.1000s", abs); /* as up wrote it into the daemons' command lines */
  fleet_state st;
  if (fleet_state_load(&cfg, &st) != PF_OK) {
    printf("pefleet down: nothing running in %s\n", cfg.data);
    return 0;
  }
  if (!fleet_alive(st.supervisor)) return stop_orphans(&cfg, &st);
  kill(st.supervisor, SIGTERM);
  double until = pf_clock_s() + 30;
  while (fleet_alive(st.supervisor) && pf_clock_s() < until) usleep(50 * 1000);
  if (fleet_alive(st.supervisor)) {
    fprintf(stderr, "pefleet down: supervisor %d did not stop within 30 s\n", (int)st.supervisor);
    return 1;
  }
  /* and give init a moment to reap it, so it is gone when we return */
  for (until = pf_clock_s() + 2; kill(st.supervisor, 0) == 0 && pf_clock_s() < until;) usleep(10 * 1000);
  printf("pefleet down: fleet in %s stopped\n", cfg.data);
  return 0;
}
