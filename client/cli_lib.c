/* cli_lib: the libtfevents side shared by log, restart, flush, close and
 * hparams (see cli_lib.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_daemon.h"
#include "cli_lib.h"

void cli_lib_opts_init(struct cli_lib_opts *o, const char *cmd)
{
    *o = (struct cli_lib_opts){.cmd = cmd, .logdir = "logs", .mode = TFEVENTS_MODE_AUTO};
}

int cli_lib_option(struct cli_lib_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'l':
        o->logdir = arg;
        return 1;
    case 's':
        o->sock = arg;
        return 1;
    case CLI_LIB_OPT_DAEMON:
    case CLI_LIB_OPT_EMBEDDED:
        if (o->mode != TFEVENTS_MODE_AUTO) {
            cli_error("%s: --daemon or --embedded, not both", o->cmd);
            return -1;
        }
        o->mode = c == CLI_LIB_OPT_DAEMON ? TFEVENTS_MODE_DAEMON : TFEVENTS_MODE_EMBEDDED;
        return 1;
    default:
        return 0;
    }
}

/* Auto mode fell back to writing the files here: say so, with where and
 * why, since each such call starts a new event file per run (a loop of
 * them leaves hundreds of files) -- unless $TFEVENTS_MODE asked for it.
 * Returns whether the logdir is written in-process. */
static bool say_if_in_process(const struct cli_lib_opts *o, tfevents *h, const char *sock)
{
    bool here = tfevents_mode(h) == TFEVENTS_MODE_EMBEDDED;
    bool outside = !here && tfevents_logdir_mode(h, NULL) == TFEVENTS_MODE_EMBEDDED;
    const char *env = getenv("TFEVENTS_MODE");
    if (o->mode != TFEVENTS_MODE_AUTO || o->no_notice || (env && strcmp(env, "embedded") == 0))
        return here || outside;
    char abs[TFEVENTS_MAX_PATH];
    /* The handle's default logdir, made absolute by the library. */
    if (tfevents_get_logdir(h, abs, sizeof abs) < 0)
        snprintf(abs, sizeof abs, "%s", o->logdir);
    if (here) {
        /* The library does not keep why the connection failed: ask again
         * (nobody answers there, so this costs nothing). */
        int fd = cli_daemon_connect(sock);
        const char *why = fd >= 0 ? "it does not speak the protocol" : strerror(-fd);
        if (fd >= 0)
            close(fd);
        cli_error("%s: no daemon at %s (%s): writing %s in this process, a new event file "
                  "per call; start tfeventsd (or pass --socket), or --embedded to mean it",
                  o->cmd, sock, why, abs);
    } else if (outside) {
        cli_error("%s: %s is outside the root of the daemon at %s: writing it in this "
                  "process, a new event file per call; use a logdir under the daemon's "
                  "--root, or --embedded to mean it",
                  o->cmd, abs, sock);
    }
    return here || outside;
}

int cli_lib_open(const struct cli_lib_opts *o, tfevents **ret, bool *ret_in_process)
{
    char path[4096];
    *ret = NULL;
    if (cli_daemon_socket_path(o->sock, path, sizeof path) < 0) {
        cli_error("%s: socket path too long for a Unix socket", o->cmd);
        return CLI_EXIT_IO;
    }
    struct tfevents_options opts;
    tfevents_options_init(&opts);
    opts.mode = o->mode;
    opts.socket_path = o->sock;
    opts.logdir = o->logdir;
    /* A short-lived process: tfevents_close() sends and writes everything,
     * and returns once it is in the files (in daemon mode too). */
    opts.flush_interval = 0;
    int r = tfevents_open(ret, &opts);
    if (r < 0) {
        if (o->mode == TFEVENTS_MODE_DAEMON)
            cli_error("%s: no daemon answers at %s: %s", o->cmd, path, strerror(-r));
        else
            cli_error("%s: %s", o->cmd, strerror(-r));
        return r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_IO;
    }
    bool here = say_if_in_process(o, *ret, path);
    if (ret_in_process)
        *ret_in_process = here;
    return CLI_EXIT_OK;
}

int cli_lib_fail(const struct cli_lib_opts *o, tfevents *h, int r)
{
    char msg[1024];
    tfevents_last_error(h, msg, sizeof msg);
    if (r == -EXDEV)
        cli_error("%s: %s is outside the daemon's root (use --embedded to write it here)",
                  o->cmd, o->logdir);
    else if (*msg && (r == -EREMOTEIO || r == -ERANGE))
        cli_error("%s: refused: %s", o->cmd, msg);
    else
        cli_error("%s: %s%s%s", o->cmd, strerror(-r), *msg ? ": " : "", msg);
    return cli_daemon_lib_exit(r);
}

int cli_lib_close(const struct cli_lib_opts *o, tfevents *h, int st)
{
    int r = tfevents_close(h);
    if (r < 0 && st == CLI_EXIT_OK) {
        cli_error("%s: %s", o->cmd, r == -EREMOTEIO ? "refused by the daemon" : strerror(-r));
        st = cli_daemon_lib_exit(r);
    }
    if (fflush(stdout) != 0 && st == CLI_EXIT_OK)
        st = CLI_EXIT_IO;
    return st;
}
