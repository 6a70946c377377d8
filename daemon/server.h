/* server: the listening socket, the set of connections, signals, and the
 * objects every connection shares (logdirs, flusher, stats).
 *
 * Lifecycle: server_init() -> server_listen() (or server_adopt() of a
 * socket passed by systemd) -> uv_run() ... a signal
 * (SIGTERM/SIGINT) calls server_stop(): stop accepting, read what clients
 * already sent, execute it, flush and close every writer, close every
 * handle; uv_run() then returns. SIGHUP rotates every open event file. */
#ifndef TFEVENTSD_SERVER_H
#define TFEVENTSD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>
#include <uv.h>

#include "config.h"
#include "json_decode.h"
#include "logdir_set.h"
#include "stats.h"
#include "tcp_auth.h"
#include "ustats.h"

struct conn;
struct flusher;

struct server {
    uv_loop_t *loop;
    const struct config *cfg;    /* borrowed */
    struct stats stats;
    uv_pipe_t listener;
    bool listening;
    /* The opt-in loopback TCP listener (cfg->tcp_port); its connections
     * are served by the same conn code (see server.c). */
    uv_tcp_t tcp_listener;
    bool tcp_listening;
    /* Its token (tcp_auth.h), which a TCP connection's first line must
     * present, and the file it was written to (removed at exit). */
    char tcp_token[TCP_AUTH_TOKEN_LEN + 1];
    char tcp_token_path[4096];
    bool owns_socket_path;       /* we bound it: remove it at exit */
    dev_t socket_dev;            /* ... if it is still our socket */
    ino_t socket_ino;
    /* Where we serve, for messages ("@name" when abstract). */
    char socket_name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    bool stopping;
    bool reading_paused;         /* too much unwritten data */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t read_timer;       /* cfg->read_timeout: checks connections */
    bool read_timer_on;
    struct conn *conns;          /* doubly linked */
    unsigned n_conns;            /* in the list, refused ones included */
    size_t input_total;          /* input buffers of all conns (capacity) */
    uint64_t next_conn_id;
    logdir_set *logdirs;
    struct flusher *flusher;
    struct uploader *uploader;   /* --upload; NULL when off */
    struct request msg;          /* reused for every line */
    struct buf stats_json;       /* the last stats reply's object */
    struct ustats *ustats;       /* --per-user-root: each user's counters */
    int exit_code;
};

/* Set up (no socket yet). -ENOMEM. */
int server_init(struct server *s, uv_loop_t *loop, const struct config *cfg);

/* Bind and listen on cfg->socket_path: refuses a path too long for
 * sockaddr_un (-ENAMETOOLONG), a live socket (-EADDRINUSE: another daemon
 * answers there) or a path that is not a socket (-EEXIST); replaces a
 * stale socket. Logs the reason. With cfg->tcp_port, also listens on
 * cfg->tcp_address:tcp_port (server_adopt() too); failing that is an
 * error (the libuv code). */
int server_listen(struct server *s);

/* Serve on an inherited listening socket (socket activation) instead of
 * binding one: takes ownership of fd (closed by the loop). The socket's
 * path belongs to whoever created it and is never unlinked by us. Returns
 * the libuv error of uv_pipe_open / uv_listen; logs it. */
int server_adopt(struct server *s, int fd);

/* Begin the orderly shutdown (idempotent). */
void server_stop(struct server *s);

/* Free what is left after uv_run() returned. */
void server_done(struct server *s);

/* Called by the flusher: stop / resume reading from every client while
 * too much data waits to be written. */
void server_pause_reading(struct server *s, bool pause);

/* Called by conn when a connection is gone. */
void server_conn_closed(struct server *s, struct conn *c);

/* Open connections (refused ones not counted) of c's user other than c:
 * the same uid, or, for peers without credentials (TCP), all of those. */
unsigned server_conns_of_user(const struct server *s, const struct conn *c);

#endif
