/* tfeventsd: a daemon that writes TensorBoard event files for any number
 * of clients speaking newline-delimited JSON over a Unix socket.
 *
 *   socket -> conn (lines) -> dispatch -> json_decode (message, summary
 *   values) -> logdir (steps) -> run_writer (records) -> flusher (thread
 *   pool) -> event file */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "config.h"
#include "log.h"
#include "server.h"

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

int main(int argc, char **argv)
{
    static struct config cfg;
    char err[1024];
    config_defaults(&cfg);
    int r = config_parse(&cfg, argc, argv, err, sizeof err);
    if (r > 0)
        return 0;
    if (r < 0) {
        fprintf(stderr, "tfeventsd: %s\n", err);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);

    /* A client that goes away while we write to it is not a reason to die. */
    signal(SIGPIPE, SIG_IGN);

    r = make_root(cfg.root);
    if (r < 0) {
        log_error("cannot create the root directory %s: %s", cfg.root, strerror(-r));
        return 1;
    }
    char root_abs[PATH_MAX];
    if (!realpath(cfg.root, root_abs)) {
        log_error("cannot resolve %s: %s", cfg.root, strerror(errno));
        return 1;
    }
    snprintf(cfg.root, sizeof cfg.root, "%s", root_abs);

    uv_loop_t *loop = uv_default_loop();
    static struct server srv;
    r = server_init(&srv, loop, &cfg);
    if (r < 0) {
        log_error("startup: %s", strerror(-r));
        return 1;
    }
    r = server_listen(&srv);
    if (r < 0) {
        server_stop(&srv);
        uv_run(loop, UV_RUN_DEFAULT);
        server_done(&srv);
        return 1;
    }

    log_info("listening on %s, writing logdirs under %s (flush every %gs, fsync %s)",
             cfg.socket_path, cfg.root, cfg.flush_interval, config_fsync_name(cfg.fsync));
    printf("tfeventsd: listening on %s\n"
           "tfeventsd: logdirs go under %s\n"
           "tfeventsd: try: echo '{\"logdir\":\"demo\",\"values\":{\"loss\":0.5}}' | socat - "
           "UNIX-CONNECT:%s\n",
           cfg.socket_path, cfg.root, cfg.socket_path);
    fflush(stdout);
#if HAVE_LIBSYSTEMD
    sd_notify(0, "READY=1");
#endif

    uv_run(loop, UV_RUN_DEFAULT);
    server_done(&srv);
    uv_loop_close(loop);
    return srv.exit_code;
}
