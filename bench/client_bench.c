/* libtfevents throughput: scalars per second
 *   - through tfeventsd over the binary protocol, 1 and 8 client processes
 *     (each process logs its own run of one logdir, explicit steps);
 *   - in embedded mode (one process writing the files itself).
 * Each figure is the median (min, max) of 3 runs, timed from the start of
 * logging until every value is in the files (the clients' final flush
 * returned). Prints the machine first. Not a test: numbers only.
 *
 * Usage: client_bench [TFEVENTSD [SCALARS_PER_PROCESS]]
 * (default ./daemon/tfeventsd, run from the build directory; 500000).
 * TFEVENTSD "-" skips the daemon (embedded figures only, e.g. under
 * valgrind --tool=callgrind). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "benchutil.h"
#include "tfevents.h"

static void machine(void)
{
    char sys[512], model[256];
    benchutil_system(sys, sizeof sys);
    benchutil_cpu_model(model, sizeof model, "?");
    printf("machine: %s, %s, %ld CPUs online\n", sys, model, benchutil_cores());
}

/* One client: n scalars into run "p<k>" of logdir, then flush. */
static int client(enum tfevents_mode mode, const char *sock, const char *logdir, int k, long n)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = mode;
    o.socket_path = sock;
    o.logdir = logdir;
    tfevents *h;
    if (tfevents_open(&h, &o) < 0)
        return 1;
    char run[32];
    snprintf(run, sizeof run, "p%d", k);
    for (long i = 0; i < n; i++)
        if (tfevents_log_scalar(h, NULL, run, "loss", 1.0 / (double)(i + 1), i) < 0)
            return 1;
    int r = tfevents_flush(h, false);
    return tfevents_close(h) < 0 || r < 0;
}

static double one_run(enum tfevents_mode mode, const char *sock, const char *logdir, int procs,
                      long n)
{
    double t0 = benchutil_now_s();
    if (procs == 1 && mode == TFEVENTS_MODE_EMBEDDED) {
        if (client(mode, sock, logdir, 0, n) != 0)
            return -1;
        return (double)n / (benchutil_now_s() - t0);
    }
    pid_t pids[64];
    for (int k = 0; k < procs; k++) {
        pids[k] = fork();
        if (pids[k] == 0)
            _exit(client(mode, sock, logdir, k, n));
    }
    int bad = 0;
    for (int k = 0; k < procs; k++) {
        int st;
        waitpid(pids[k], &st, 0);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    return bad ? -1 : (double)n * procs / (benchutil_now_s() - t0);
}

static void report(const char *what, enum tfevents_mode mode, const char *sock,
                   const char *base, int procs, long n)
{
    double v[3];
    for (int i = 0; i < 3; i++) {
        char logdir[512];
        snprintf(logdir, sizeof logdir, "%s/%s-%d", base, what, i);
        v[i] = one_run(mode, sock, logdir, procs, n);
        if (v[i] < 0) {
            printf("%-34s failed\n", what);
            return;
        }
    }
    struct benchutil_stats st = benchutil_summarize(v, 3);
    printf("%-34s %10.0f scalars/s  (min %.0f, max %.0f; %d x %ld)\n", what, st.median, st.min,
           st.max, procs, n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *daemon = argc > 1 ? argv[1] : "./daemon/tfeventsd";
    long n = argc > 2 ? atol(argv[2]) : 500000;
    char tmpl[] = "/tmp/client_bench.XXXXXX";
    char *tmp = mkdtemp(tmpl);
    if (!tmp)
        return 1;
    machine();
    char sock[256], root[256], cmd[1024];
    snprintf(sock, sizeof sock, "%s/d.sock", tmp);
    snprintf(root, sizeof root, "%s/root", tmp);
    mkdir(root, 0755);
    pid_t d = strcmp(daemon, "-") == 0 ? -1 : fork();
    if (d == 0) {
        execl(daemon, daemon, "--socket", sock, "--root", root, "--log-level", "warn",
              (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 500 && !up && d > 0; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", sock);
        up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (!up)
            usleep(10000);
    }
    if (up) {
        report("daemon, binary, 1 process", TFEVENTS_MODE_DAEMON, sock, root, 1, n);
        report("daemon, binary, 8 processes", TFEVENTS_MODE_DAEMON, sock, root, 8, n / 4);
    } else {
        printf("daemon %s did not start: daemon figures skipped\n", daemon);
    }
    report("embedded, 1 process", TFEVENTS_MODE_EMBEDDED, NULL, tmp, 1, n);
    if (d > 0) {
        kill(d, SIGTERM);
        waitpid(d, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
