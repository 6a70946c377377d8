/* cli_lib: what the commands that go through libtfevents (log, restart,
 * flush, close, hparams) share: their transport options (--logdir,
 * --socket, --daemon, --embedded), opening a handle and saying when it
 * writes in-process, and turning a library error into a message and an
 * exit status. */
#ifndef TFEVENTS_CLI_LIB_H
#define TFEVENTS_CLI_LIB_H

#include <stdbool.h>

#include "tfevents.h"

/* getopt_long values of the shared options without a short letter. */
enum { CLI_LIB_OPT_DAEMON = 256, CLI_LIB_OPT_EMBEDDED, CLI_LIB_OPT_NEXT };

/* The shared options' entries of a struct option table. */
#define CLI_LIB_LONGOPTS                                                                      \
    {"logdir", required_argument, NULL, 'l'}, {"socket", required_argument, NULL, 's'},       \
        {"daemon", no_argument, NULL, CLI_LIB_OPT_DAEMON},                                    \
        {"embedded", no_argument, NULL, CLI_LIB_OPT_EMBEDDED}

/* Their usage lines. */
#define CLI_LIB_USAGE                                                                         \
    "  -l, --logdir DIR    the logdir (default: logs)\n"                                      \
    "  -s, --socket PATH   the daemon's socket (default: $TFEVENTS_SOCKET, else\n"            \
    "                      $XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock\n"         \
    "                      as root, else ./tfevents.sock)\n"                                  \
    "      --daemon        through the daemon or fail (exit 3)\n"                             \
    "      --embedded      write the files in this process\n"

struct cli_lib_opts {
    const char *cmd;             /* for messages: "log", "restart"... */
    const char *logdir;          /* "logs" unless --logdir */
    const char *sock;            /* --socket, or NULL for the default */
    enum tfevents_mode mode;     /* AUTO unless --daemon/--embedded */
    bool no_notice;              /* the command says it itself (flush) */
};

void cli_lib_opts_init(struct cli_lib_opts *o, const char *cmd);

/* Take getopt's c/arg when it is a shared option: 1 taken, 0 not one of
 * them, -1 a usage error (already said). */
int cli_lib_option(struct cli_lib_opts *o, int c, const char *arg);

/* Open a handle on o's logdir (*ret; close with cli_lib_close()). In auto
 * mode, a fallback to writing in-process is said on stderr (naming the
 * socket, the logdir and why) unless $TFEVENTS_MODE=embedded asked for it;
 * *ret_in_process tells whether the logdir is written here (may be NULL).
 * CLI_EXIT_OK, or the exit status after a message. */
int cli_lib_open(const struct cli_lib_opts *o, tfevents **ret, bool *ret_in_process);

/* Say why call r < 0 on h failed (with the library's sentence) and return
 * the exit status. */
int cli_lib_fail(const struct cli_lib_opts *o, tfevents *h, int r);

/* Close h (NULL-safe): everything is sent and in the files when it
 * returns. Returns st, or the exit status of a close error when st is
 * CLI_EXIT_OK; also checks that stdout was written. */
int cli_lib_close(const struct cli_lib_opts *o, tfevents *h, int st);

#endif
