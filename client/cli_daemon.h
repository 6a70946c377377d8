/* cli_daemon: the tfevents commands that talk to tfeventsd over its JSON
 * protocol (step, stats, ping; send uses the connection helpers), and
 * those helpers: where the daemon's socket is, connecting to it, one
 * request and its reply.
 *
 * The helpers return 0 (or a file descriptor) or a negative errno, and
 * never print: the commands say what went wrong. */
#ifndef TFEVENTS_CLI_DAEMON_H
#define TFEVENTS_CLI_DAEMON_H

#include <stddef.h>

/* Longest reply line accepted from the daemon (a stats reply is a few
 * kilobytes; anything near this is not our daemon). */
#define CLI_DAEMON_MAX_REPLY (1u << 20)

/* Seconds a request waits for its reply before giving up. */
#define CLI_DAEMON_TIMEOUT_S 30

/* The socket path: opt (--socket) when not NULL, else $TFEVENTS_SOCKET,
 * else $XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock as root,
 * else ./tfevents.sock -- the
 * daemon's own default and libtfevents' choice. Copied into out;
 * -ENAMETOOLONG when it does not fit a Unix socket address. */
int cli_daemon_socket_path(const char *opt, char *out, size_t size);

/* Connect to the Unix stream socket at path (blocking, close-on-exec).
 * Returns the descriptor (caller owns) or -errno of socket()/connect():
 * -ENOENT no socket there, -ECONNREFUSED nobody listening... */
int cli_daemon_connect(const char *path);

/* Send the JSON object text `request` (one line, no newline; it must carry
 * "id":<id>) on fd and read reply lines until the one whose "id" is id,
 * waiting at most CLI_DAEMON_TIMEOUT_S. *ret_reply gets that line
 * (NUL-terminated, caller frees). -ETIMEDOUT, -ECONNRESET when the daemon
 * closes first, -EBADMSG for a line that is not a JSON object or longer
 * than CLI_DAEMON_MAX_REPLY, -ENOMEM, or -errno of send/recv. */
int cli_daemon_request(int fd, const char *request, long id, char **ret_reply);

/* The exit status for a libtfevents error: CLI_EXIT_FAIL when the request
 * was refused (-EREMOTEIO, -ERANGE, -EXDEV, -EINVAL, -EILSEQ, -EMSGSIZE),
 * CLI_EXIT_IO otherwise (no daemon, connection lost, disk errors). */
int cli_daemon_lib_exit(int err);

#endif
