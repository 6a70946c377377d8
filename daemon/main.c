/* tfeventsd: a daemon that writes TensorBoard event files for any number
 * of clients speaking newline-delimited JSON over a Unix socket.
 *
 *   socket -> conn (lines) -> dispatch -> json_decode (message, summary
 *   values) -> logdir (steps) -> run_writer (records) -> flusher (thread
 *   pool) -> event file
 *
 * main also talks to the service manager: it adopts a socket passed by
 * socket activation (activation.c) and reports readiness, status, a
 * watchdog keep-alive, reloads and shutdown (notify.c). See
 * docs/architecture.md. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "activation.h"
#include "config.h"
#include "flusher.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "server.h"

/* How often the STATUS= line shown by "systemctl status" is refreshed. */
#define MAIN_STATUS_INTERVAL_MS 2000

/* The service manager's side of the daemon: keep-alives and status from
 * timers on the loop (so a loop that hangs stops sending them and gets
 * restarted), and notes on signals. Its handles are unreferenced: they
 * never keep the loop alive once the server has finished. */
struct supervisor {
    struct notify notify;
    struct server *srv;          /* borrowed */
    uv_loop_t *loop;
    uv_timer_t watchdog;
    uv_timer_t status;
    uv_signal_t sig_term, sig_int, sig_hup;
    bool watchdog_started;
    uint64_t last_events;
    uint64_t last_ms;
    char last_status[256];
};

static void on_watchdog(uv_timer_t *t)
{
    struct supervisor *sv = t->data;
    int r = notify_send(&sv->notify, "WATCHDOG=1");
    if (r < 0)
        log_debug("watchdog keep-alive not sent: %s", strerror(-r));
}

/* One line for "systemctl status": what the daemon is doing now. */
static void format_status(struct supervisor *sv, char *out, size_t size)
{
    struct server *s = sv->srv;
    uint64_t now = uv_now(sv->loop);
    uint64_t events = s->stats.events;
    double secs = (double)(now - sv->last_ms) / 1000.0;
    double rate = secs > 0 ? (double)(events - sv->last_events) / secs : 0;
    sv->last_ms = now;
    sv->last_events = events;
    if (s->stopping) {
        snprintf(out, size, "stopping: writing %llu buffered bytes, %u files open",
                 (unsigned long long)flusher_pending_bytes(s->flusher),
                 flusher_open_writers(s->flusher));
        return;
    }
    snprintf(out, size, "%u connections, %.0f events/s, %u files open, %llu events since start",
             s->n_conns, rate, flusher_open_writers(s->flusher), (unsigned long long)events);
}

static void on_status(uv_timer_t *t)
{
    struct supervisor *sv = t->data;
    char line[sizeof sv->last_status];
    format_status(sv, line, sizeof line);
    /* Only changes are worth a message to the manager. */
    if (strcmp(line, sv->last_status) == 0)
        return;
    memcpy(sv->last_status, line, sizeof line);
    notify_send(&sv->notify, "STATUS=%s", line);
}

static unsigned long long monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
}

/* The server handles the signals themselves (server.c); these handles only
 * tell the manager. libuv calls every handle watching a signal. */
static void on_signal(uv_signal_t *h, int signum)
{
    struct supervisor *sv = h->data;
    if (signum == SIGHUP) {
        /* The reload (rotating every event file) is only marked here and
         * done with each file's next record, so we are ready again at once;
         * MONOTONIC_USEC lets the manager match the two messages. */
        notify_send(&sv->notify, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=rotating event files",
                    monotonic_usec());
        notify_send(&sv->notify, "READY=1\nSTATUS=%s", sv->last_status);
        return;
    }
    notify_send(&sv->notify, "STOPPING=1\nSTATUS=stopping: writing what clients sent");
}

static void supervisor_start(struct supervisor *sv, struct server *s, uv_loop_t *loop)
{
    sv->srv = s;
    sv->loop = loop;
    sv->last_ms = uv_now(loop);
    uv_timer_init(loop, &sv->status);
    sv->status.data = sv;
    uv_unref((uv_handle_t *)&sv->status);
    uv_timer_init(loop, &sv->watchdog);
    sv->watchdog.data = sv;
    uv_unref((uv_handle_t *)&sv->watchdog);
    uv_signal_t *sigs[] = {&sv->sig_term, &sv->sig_int, &sv->sig_hup};
    int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, sigs[i]);
        sigs[i]->data = sv;
        uv_signal_start(sigs[i], on_signal, signums[i]);
        uv_unref((uv_handle_t *)sigs[i]);
    }
    /* Read (and unset) the watchdog variables even without a manager. */
    uint64_t usec;
    int wd = notify_watchdog(&usec);
    if (!sv->notify.enabled)
        return;

    format_status(sv, sv->last_status, sizeof sv->last_status);
    int r = notify_send(&sv->notify, "READY=1\nSTATUS=%s", sv->last_status);
    if (r < 0)
        log_warn("cannot tell the service manager we are ready: %s", strerror(-r));
    uv_timer_start(&sv->status, on_status, MAIN_STATUS_INTERVAL_MS, MAIN_STATUS_INTERVAL_MS);

    if (wd < 0) {
        log_warn("ignoring WATCHDOG_USEC: not a positive number");
    } else if (wd > 0) {
        /* Half the period, as systemd advises: one late tick is not fatal. */
        uint64_t ms = usec / 2000;
        if (ms == 0)
            ms = 1;
        uv_timer_start(&sv->watchdog, on_watchdog, 0, ms);
        sv->watchdog_started = true;
        log_info("watchdog: keep-alive every %llu ms", (unsigned long long)ms);
    }
}

/* After uv_run(): close our handles and let their callbacks run. */
static void supervisor_done(struct supervisor *sv)
{
    if (!sv->loop)
        return;
    uv_handle_t *hs[] = {(uv_handle_t *)&sv->status,  (uv_handle_t *)&sv->watchdog,
                         (uv_handle_t *)&sv->sig_term, (uv_handle_t *)&sv->sig_int,
                         (uv_handle_t *)&sv->sig_hup};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        uv_close(hs[i], NULL);
    uv_run(sv->loop, UV_RUN_DEFAULT);
}

/* mkdir -p for the root. */
static int make_root(const char *path)
{
    char p[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof p)
        return -ENAMETOOLONG;
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            return -errno;
        p[i] = c;
    }
    return 0;
}

/* The three lines printed on stdout when the daemon is run by hand: where
 * it listens, where logdirs go and a line to paste into another terminal,
 * all with absolute paths so that the line works from any directory. Not
 * printed when the service manager runs it (socket-activated, or stderr
 * is the journal): INVOCATION_ID is no sign, since everything a service
 * starts inherits it (a CI runner's test daemons, say). */
static void print_banner(const char *socket_name, const char *root)
{
    char cwd[PATH_MAX], sock[PATH_MAX + 4096];
    if (socket_name[0] == '/' || socket_name[0] == '@' || !getcwd(cwd, sizeof cwd))
        snprintf(sock, sizeof sock, "%s", socket_name);
    else
        snprintf(sock, sizeof sock, "%s/%s", strcmp(cwd, "/") ? cwd : "",
                 strncmp(socket_name, "./", 2) ? socket_name : socket_name + 2);
    /* Quoted for the shell unless it plainly needs no quotes. */
    const char *q = sock[strspn(sock, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789/._-")] ? "'" : "";
    printf("tfeventsd: listening on %s\n"
           "tfeventsd: logdirs go under %s\n"
           "tfeventsd: try: echo '{\"logdir\":\"demo\",\"values\":{\"loss\":0.5}}' | socat - "
           "%sUNIX-CONNECT:%s%s\n",
           sock, root, q, sock, q);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static struct config cfg;
    static struct supervisor sv;
    char err[1024];
    /* "tfeventsd --reload PID" signals a running daemon and exits: the
     * units' ExecReload=, which thus needs no kill(1). */
    if (argc == 3 && strcmp(argv[1], "--reload") == 0) {
        if (reload_send(argv[2], err, sizeof err) < 0) {
            fprintf(stderr, "tfeventsd: %s\n", err);
            return 1;
        }
        return 0;
    }
    config_defaults(&cfg);
    int r = config_parse(&cfg, argc, argv, err, sizeof err);
    if (r > 0)
        return 0;
    if (r < 0) {
        fprintf(stderr, "tfeventsd: %s\n", err);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    log_init();

    /* A client that goes away while we write to it is not a reason to die. */
    signal(SIGPIPE, SIG_IGN);
    /* A file at RLIMIT_FSIZE must fail the write (EFBIG, reported and
     * retried like a full disk), not kill the daemon. */
    signal(SIGXFSZ, SIG_IGN);

    r = notify_open(&sv.notify);
    if (r < 0)
        log_warn("NOTIFY_SOCKET is unusable (%s); not reporting to the service manager",
                 strerror(-r));

    /* Before anything opens a descriptor: the inherited ones start at 3. */
    int inherited_fd = -1;
    char fd_name[ACTIVATION_MAX_NAME + 1];
    r = activation_take(&inherited_fd, fd_name, sizeof fd_name);
    if (r < 0) {
        if (r == -E2BIG)
            log_error("the service manager passed several sockets; tfeventsd serves exactly one "
                      "(one ListenStream= in the .socket unit)");
        else if (r == -ENOTSOCK)
            log_error("the descriptor passed by the service manager is not a listening Unix "
                      "stream socket (ListenStream= with a path is needed)");
        else
            log_error("bad socket activation variables (LISTEN_PID, LISTEN_FDS): %s",
                      strerror(-r));
        notify_send(&sv.notify, "STATUS=bad socket activation\nERRNO=%d", -r);
        notify_close(&sv.notify);
        return 1;
    }

    r = make_root(cfg.root);
    if (r < 0) {
        log_error("cannot create the root directory %s: %s", cfg.root, strerror(-r));
        notify_send(&sv.notify, "STATUS=cannot create %s\nERRNO=%d", cfg.root, -r);
        notify_close(&sv.notify);
        return 1;
    }
    char root_abs[PATH_MAX];
    if (!realpath(cfg.root, root_abs)) {
        log_error("cannot resolve %s: %s", cfg.root, strerror(errno));
        notify_close(&sv.notify);
        return 1;
    }
    snprintf(cfg.root, sizeof cfg.root, "%s", root_abs);

    uv_loop_t *loop = uv_default_loop();
    static struct server srv;
    r = server_init(&srv, loop, &cfg);
    if (r < 0) {
        log_error("startup: %s", strerror(-r));
        notify_close(&sv.notify);
        return 1;
    }
    if (inherited_fd >= 0)
        r = server_adopt(&srv, inherited_fd);
    else
        r = server_listen(&srv);
    if (r < 0) {
        notify_send(&sv.notify, "STATUS=cannot listen on %s\nERRNO=%d", srv.socket_name[0] ?
                    srv.socket_name : cfg.socket_path, -r);
        server_stop(&srv);
        uv_run(loop, UV_RUN_DEFAULT);
        server_done(&srv);
        notify_close(&sv.notify);
        return 1;
    }

    if (inherited_fd >= 0)
        log_info("serving on %s (passed by the service manager%s%s), writing logdirs "
                 "under %s (flush every %gs, fsync %s)",
                 srv.socket_name, fd_name[0] ? " as " : "", fd_name, cfg.root,
                 cfg.flush_interval, config_fsync_name(cfg.fsync));
    else
        log_info("listening on %s, writing logdirs under %s (flush every %gs, fsync %s)",
                 srv.socket_name, cfg.root, cfg.flush_interval, config_fsync_name(cfg.fsync));
    /* The banner is for a person at a terminal; under the service manager
     * the log line above says the same (see print_banner). */
    if (inherited_fd < 0 && !log_to_journal())
        print_banner(srv.socket_name, cfg.root);

    /* Ready only now: the socket accepts connections. */
    supervisor_start(&sv, &srv, loop);

    uv_run(loop, UV_RUN_DEFAULT);
    supervisor_done(&sv);
    server_done(&srv);
    notify_close(&sv.notify);
    uv_loop_close(loop);
    return srv.exit_code;
}
