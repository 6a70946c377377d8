#include "server.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "fdclose.h"
#include "flusher.h"
#include "upload.h"
#include "log.h"

/* Connections the kernel may queue before we accept them. */
#define SERVER_BACKLOG 128

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *s = h->data;
    if (signum == SIGHUP) {
        flusher_rotate_all(s->flusher);
        return;
    }
    log_info("%s: finishing (reading what clients sent, writing everything)",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(s);
}

static void on_read_timer(uv_timer_t *t)
{
    struct server *s = t->data;
    uint64_t now = uv_now(s->loop);
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;   /* c may close */
        conn_check_read_timeout(c, now);
    }
}

int server_init(struct server *s, uv_loop_t *loop, const struct config *cfg)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cfg = cfg;
    request_init(&s->msg);
    buf_init(&s->stats_json, BUF_NO_CAP);
    s->flusher = flusher_new(s);
    if (!s->flusher)
        return -ENOMEM;
    uint64_t rotate = cfg->rotate_bytes;
    if (cfg->upload_url[0]) {
        int r = uploader_new(&s->uploader, cfg);
        if (r < 0)
            return r;
        if (cfg->upload_size && (rotate == 0 || cfg->upload_size < rotate))
            rotate = cfg->upload_size;
    }
    struct logdir_options lo = {
        .policy = cfg->step_policy,
        .max_runs = cfg->max_runs,
        .max_tags = cfg->max_tags,
        .max_logdirs = cfg->max_logdirs,
        .writer = {.rotate_bytes = rotate, .fsync_always = cfg->fsync == FSYNC_ALWAYS,
                   .on_file_closed = s->uploader ? uploader_file_closed : NULL,
                   .on_file_closed_arg = s->uploader},
        .hook = flusher_writer_hook,
        .hook_ctx = s->flusher,
    };
    /* Logdirs are released when idle, or the least recently used at
     * --max-logdirs (logdir_set.h): nothing here keeps a logdir pointer
     * from one message to the next but scans, which are not released. */
    s->logdirs = logdir_set_new_releasing(cfg->root, &lo);
    if (!s->logdirs)
        return -ENOMEM;
    if (cfg->per_user_root && !(s->ustats = ustats_new()))
        return -ENOMEM;
    uv_signal_init(loop, &s->sig_term);
    uv_signal_init(loop, &s->sig_int);
    uv_signal_init(loop, &s->sig_hup);
    s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    uv_signal_start(&s->sig_hup, on_signal, SIGHUP);
    if (cfg->read_timeout > 0) {
        /* A quarter of the timeout between looks (between 50 ms and 1 s),
         * so that a connection is closed at most that late. */
        double ms = cfg->read_timeout * 250.0;
        uint64_t period = ms < 50 ? 50 : ms > 1000 ? 1000 : (uint64_t)ms;
        uv_timer_init(loop, &s->read_timer);
        s->read_timer.data = s;
        uv_timer_start(&s->read_timer, on_read_timer, period, period);
        uv_unref((uv_handle_t *)&s->read_timer);   /* never keeps the loop alive */
        s->read_timer_on = true;
    }
    return 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct server *s = listener->data;
    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    if (s->stopping)
        return;
    int r = conn_accept(s, listener);
    if (r < 0)
        log_warn("accept: %s", uv_strerror(r));
}

/* The TCP listener's token file (tcp_auth.h): --tcp-token-file, else the
 * socket's path with ".token" appended. It takes the socket's group, and
 * is readable by that group only when the socket is open to it: reading
 * the token is exactly as hard as connecting to the socket. */
static int write_tcp_token(struct server *s)
{
    const struct config *cfg = s->cfg;
    const char *sock = s->socket_name;
    if (cfg->tcp_token_file[0]) {
        snprintf(s->tcp_token_path, sizeof s->tcp_token_path, "%s", cfg->tcp_token_file);
    } else if (sock[0] == '@' || strncmp(sock, "fd ", 3) == 0) {
        log_error("the socket %s has no file name to put the TCP token beside: give "
                  "--tcp-token-file", sock);
        return -EINVAL;
    } else if ((size_t)snprintf(s->tcp_token_path, sizeof s->tcp_token_path, "%s.token",
                                sock) >= sizeof s->tcp_token_path) {
        log_error("the TCP token file's path is too long");
        return -ENAMETOOLONG;
    }
    gid_t gid = (gid_t)-1;
    bool group_read = (cfg->socket_mode & 060) != 0;
    struct stat st;
    if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
        gid = st.st_gid;
        group_read = (st.st_mode & 060) != 0;
    }
    const char *what;
    int r = tcp_auth_create(s->tcp_token_path, gid, group_read, s->tcp_token, &what);
    if (r < 0) {
        log_error("cannot write the TCP token file %s (%s): %s", s->tcp_token_path, what,
                  strerror(-r));
        s->tcp_token_path[0] = '\0';
        return r;
    }
    return 0;
}

/* The opt-in TCP listener, for clients whose language cannot open a Unix
 * socket (base R's socketConnection() is TCP only). It is bound to a
 * loopback address only (config.c refuses others). A TCP peer carries no
 * credentials: --per-user-root cannot apply (config.c refuses the
 * combination), and the socket's permissions are carried over by a
 * token (write_tcp_token) that each connection presents first (conn.c).
 *
 * Its connections are served by the same conn code as the Unix ones, in
 * a uv_tcp_t (conn_accept() picks the handle from the listener's type);
 * they are logged with their address and "uid unknown". TCP_NODELAY is
 * set on the listener and inherited by accepted sockets on Linux, so that
 * small replies are not held back by Nagle's algorithm. */
static int listen_tcp(struct server *s)
{
    const struct config *cfg = s->cfg;
    if (!cfg->tcp_port)
        return 0;
    int r = write_tcp_token(s);
    if (r < 0)
        return r;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;
    r = uv_ip4_addr(cfg->tcp_address, (int)cfg->tcp_port, &addr.in4);
    if (r < 0)
        r = uv_ip6_addr(cfg->tcp_address, (int)cfg->tcp_port, &addr.in6);
    if (r < 0) {
        log_error("bad --tcp-address %s: %s", cfg->tcp_address, uv_strerror(r));
        return r;
    }
    r = uv_tcp_init(s->loop, &s->tcp_listener);
    if (r < 0)
        return r;
    s->tcp_listener.data = s;
    r = uv_tcp_bind(&s->tcp_listener, &addr.sa, 0);
    if (r == 0)
        r = uv_tcp_nodelay(&s->tcp_listener, 1);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->tcp_listener, SERVER_BACKLOG, on_connection);
    if (r < 0) {
        log_error("cannot listen on TCP %s port %u: %s", cfg->tcp_address, cfg->tcp_port,
                  uv_strerror(r));
        uv_close((uv_handle_t *)&s->tcp_listener, NULL);
        return r;
    }
    s->tcp_listening = true;
    log_warn("also listening on TCP %s port %u: clients must present the token of %s "
             "(no peer credentials: --per-user-root cannot apply)", cfg->tcp_address,
             cfg->tcp_port, s->tcp_token_path);
    return 0;
}

/* Is someone answering on path? 1 yes, 0 no (stale or absent), <0 the
 * path exists and is not a socket. */
static int socket_alive(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int alive = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return alive;
}

int server_listen(struct server *s)
{
    const char *path = s->cfg->socket_path;
    struct sockaddr_un sa;
    /* uv_pipe_bind() silently truncates a path that does not fit. */
    if (strlen(path) >= sizeof sa.sun_path) {
        log_error("socket path %s is longer than %zu bytes, the limit of a Unix socket", path,
                  sizeof sa.sun_path - 1);
        return -ENAMETOOLONG;
    }
    int alive = socket_alive(path);
    if (alive > 0) {
        log_error("another process is listening on %s; not taking it over", path);
        return -EADDRINUSE;
    }
    if (alive < 0) {
        log_error("%s exists and is not a socket; not replacing it", path);
        return alive;
    }
    if (unlink(path) == 0)
        log_info("removed the stale socket %s", path);

    int r = uv_pipe_init(s->loop, &s->listener, 0);
    if (r < 0)
        return r;
    s->listener.data = s;
    /* The socket is created with the final permissions: no window where
     * it is more open than asked. */
    mode_t old = umask(~s->cfg->socket_mode & 0777);
    r = uv_pipe_bind(&s->listener, path);
    umask(old);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->listener, SERVER_BACKLOG, on_connection);
    if (r < 0) {
        log_error("cannot listen on %s: %s", path, uv_strerror(r));
        uv_close((uv_handle_t *)&s->listener, NULL);
        return r;
    }
    if (chmod(path, s->cfg->socket_mode) < 0)
        log_warn("chmod %s: %s", path, strerror(errno));
    /* Remember which inode is ours: at exit we remove the path only if it
     * still names our socket, not one another daemon has put there since. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        s->owns_socket_path = true;
        s->socket_dev = st.st_dev;
        s->socket_ino = st.st_ino;
    }
    snprintf(s->socket_name, sizeof s->socket_name, "%s", path);
    s->listening = true;
    return listen_tcp(s);
}

int server_adopt(struct server *s, int fd)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
        len <= offsetof(struct sockaddr_un, sun_path)) {
        snprintf(s->socket_name, sizeof s->socket_name, "fd %d", fd);
    } else if (sa.sun_path[0] == '\0') {
        size_t n = len - offsetof(struct sockaddr_un, sun_path) - 1;
        s->socket_name[0] = '@';
        memcpy(s->socket_name + 1, sa.sun_path + 1, n);
        s->socket_name[1 + n] = '\0';
    } else {
        snprintf(s->socket_name, sizeof s->socket_name, "%.*s",
                 (int)sizeof sa.sun_path, sa.sun_path);
    }
    int r = uv_pipe_init(s->loop, &s->listener, 0);
    if (r < 0) {
        log_error("cannot use the socket passed by the service manager: %s", uv_strerror(r));
        close(fd);
        return r;
    }
    s->listener.data = s;
    r = uv_pipe_open(&s->listener, fd);
    if (r < 0)
        close(fd);   /* ours, and the handle did not take it */
    else
        r = uv_listen((uv_stream_t *)&s->listener, SERVER_BACKLOG, on_connection);
    if (r < 0) {
        log_error("cannot serve on the socket passed by the service manager (%s): %s",
                  s->socket_name, uv_strerror(r));
        uv_close((uv_handle_t *)&s->listener, NULL);
        return r;
    }
    s->owns_socket_path = false;
    s->listening = true;
    return listen_tcp(s);
}

static void shutdown_done(void *ctx)
{
    struct server *s = ctx;
    /* Everything is written: close the remaining handles; uv_run() returns
     * when they are gone. */
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        /* A binary client learns that what it sent was all executed and
         * written (nothing can be lost or doubled by sending again what
         * follows); not when some records could not be written. */
        if (s->stats.records_lost == 0)
            conn_goodbye(c);
        conn_flush_replies(c);
        c->eof = true;
        conn_close(c);
    }
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    uv_close((uv_handle_t *)&s->sig_hup, NULL);
    if (s->stats.records_lost > 0) {
        /* Accepted is a promise: breaking it must not look like success. */
        log_error("%llu accepted records were lost (could not be written, see above); "
                  "exiting with status 1", (unsigned long long)s->stats.records_lost);
        s->exit_code = 1;
    } else {
        log_info("all data written; exiting");
    }
}

static void stop_writers(struct server *s)
{
    flusher_shutdown(s->flusher, shutdown_done, s);
}

void server_stop(struct server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    if (s->read_timer_on) {
        uv_close((uv_handle_t *)&s->read_timer, NULL);
        s->read_timer_on = false;
    }
    if (s->listening) {
        fd_handle_close((uv_handle_t *)&s->listener, NULL);
        struct stat st;
        if (s->owns_socket_path && lstat(s->cfg->socket_path, &st) == 0 &&
            st.st_dev == s->socket_dev && st.st_ino == s->socket_ino)
            unlink(s->cfg->socket_path);
        s->listening = false;
    }
    if (s->tcp_listening) {
        fd_handle_close((uv_handle_t *)&s->tcp_listener, NULL);
        s->tcp_listening = false;
    }
    if (s->tcp_token_path[0]) {
        unlink(s->tcp_token_path);
        s->tcp_token_path[0] = '\0';
    }
    /* Read and execute what every client has sent so far. */
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        conn_drain(c);
    }
    /* Messages waiting for a logdir's scan run when it completes: write
     * and close only after them. */
    dispatch_after_scans(s, stop_writers);
}

void server_pause_reading(struct server *s, bool pause)
{
    s->reading_paused = pause;
    if (s->stopping)
        return;
    for (struct conn *c = s->conns; c; c = c->next)
        conn_pause(c, pause);
}

void server_conn_closed(struct server *s, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->n_conns--;
    s->stats.connections_open--;
    if (c->ust)
        c->ust->connections_open--;
}

unsigned server_conns_of_user(const struct server *s, const struct conn *c)
{
    unsigned n = 0;
    /* A walk of at most --max-connections, once per accept. */
    for (const struct conn *o = s->conns; o; o = o->next)
        if (o != c && !o->refused && !o->closing && o->has_cred == c->has_cred &&
            (!c->has_cred || o->uid == c->uid))
            n++;
    return n;
}

void server_done(struct server *s)
{
    /* Writers the flusher could not track are written here. */
    int r = logdir_set_free(s->logdirs, s->cfg->fsync != FSYNC_NEVER);
    if (r < 0) {
        log_error("closing the remaining writers: %s; records not yet written are lost",
                  strerror(-r));
        s->exit_code = 1;
    }
    s->logdirs = NULL;
    flusher_free(s->flusher);
    s->flusher = NULL;
    /* After the writers: their last files are queued by now. */
    uploader_free(s->uploader, s->cfg->upload_exit_wait);
    s->uploader = NULL;
    request_done(&s->msg);
    buf_free(&s->stats_json);
    ustats_free(s->ustats);
    s->ustats = NULL;
}
