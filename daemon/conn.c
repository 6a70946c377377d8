#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dispatch.h"
#include "fdclose.h"
#include "frame.h"
#include "reply.h"
#include "log.h"
#include "server.h"
#include "tcp_auth.h"

/* One uv_write of a batch of replies. */
struct write_req {
    uv_write_t req;
    struct conn *c;
    unsigned replies;
    uint8_t *data;
};

static void process_input(struct conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *ret);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b);
static uint64_t now_ms(const struct conn *c);
static void input_account(struct conn *c);

/* Reply backpressure: a connection stops being read once
 * cfg->max_replies of its replies wait to be taken by the client, and is
 * read again when they are down to half of that. Replies are never
 * dropped for being unread: a client that pipelines gets every one, a
 * client that never reads is simply not read from. */
static bool replies_full(const struct conn *c)
{
    return !c->draining && c->queued_replies >= c->srv->cfg->max_replies;
}

/* Start or stop reading as every reason to pause (the server's, the
 * dispatcher's hold, unread replies, an unknown user) says. */
static void update_reading(struct conn *c)
{
    bool want = !c->closing && !c->eof && !c->user_pending && !c->held &&
                !c->reply_paused && !c->srv->reading_paused;
    if (!want && c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    } else if (want && !c->reading) {
        if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
            c->reading = true;
        /* Time spent paused by the daemon is not the client's. */
        if (c->partial_since)
            c->partial_since = now_ms(c);
    }
}

/* After a message: stop reading when its replies are not being taken. */
static bool reply_pause_check(struct conn *c)
{
    if (!replies_full(c))
        return false;
    if (!c->reply_paused) {
        c->reply_paused = true;
        CONN_COUNT(c, reply_pauses, 1);
        update_reading(c);
    }
    return true;
}

/* A write completed: resume a connection paused for its replies once they
 * are down to half the limit, executing what it already sent first. */
static void reply_resume_check(struct conn *c)
{
    if (!c->reply_paused || c->closing || c->eof ||
        c->queued_replies > c->srv->cfg->max_replies / 2)
        return;
    c->reply_paused = false;
    process_input(c);
    if (c->closing)
        return;
    if (c->in.len == 0)
        buf_free(&c->in);
    input_account(c);
    conn_flush_replies(c);
    update_reading(c);
}

static void free_conn(struct conn *c)
{
    c->srv->input_total -= c->in_counted;
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

void conn_ref(struct conn *c)
{
    c->refs++;
}

void conn_unref(struct conn *c)
{
    if (--c->refs == 0)
        free_conn(c);
}

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    server_conn_closed(c->srv, c);
    conn_unref(c);
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    log_debug("conn %llu (%s): closed after %llu lines", (unsigned long long)c->id,
              c->peer, (unsigned long long)c->line_no);
    fd_handle_close(&c->h.handle, on_close);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    free(req);
    conn_close(c);
    conn_unref(c);
}

/* Done reading and owing nothing: let the written replies go out, then
 * close. */
static void maybe_finish(struct conn *c)
{
    if (c->closing || !c->eof || c->deferred > 0)
        return;
    conn_flush_replies(c);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, &c->h.stream, on_shutdown) < 0) {
        free(req);
        conn_close(c);
        return;
    }
    req->data = c;
    conn_ref(c);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->c;
    c->queued_replies -= w->replies;
    free(w->data);
    free(w);
    if (status < 0 && status != UV_ECANCELED && !c->closing) {
        log_debug("conn %llu (%s): write failed: %s", (unsigned long long)c->id,
                  c->peer, uv_strerror(status));
        conn_close(c);
    }
    if (status == 0)
        reply_resume_check(c);
    conn_unref(c);
}

void conn_flush_replies(struct conn *c)
{
    if (c->out.len == 0 || c->closing)
        return;
    struct write_req *w = malloc(sizeof *w);
    if (!w) {
        c->queued_replies -= c->out_replies;
        CONN_COUNT(c, replies_dropped, c->out_replies);
        buf_reset(&c->out);
        c->out_replies = 0;
        return;
    }
    w->c = c;
    w->replies = c->out_replies;
    size_t len;
    buf_take(&c->out, &w->data, &len);
    c->out_replies = 0;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    conn_ref(c);
    int r = uv_write(&w->req, &c->h.stream, &b, 1, on_write);
    if (r < 0) {
        c->queued_replies -= w->replies;
        free(w->data);
        free(w);
        conn_unref(c);
        conn_close(c);
    }
}

void conn_reply(struct conn *c, const struct reply *rp)
{
    /* No limit here: input stops once cfg->max_replies wait (see
     * replies_full), so only the message being executed adds one. */
    if (c->closing) {
        CONN_COUNT(c, replies_dropped, 1);
        return;
    }
    size_t mark = c->out.len;
    int r = c->proto == CONN_PROTO_BINARY ? reply_write_frame(&c->out, rp, c->eof)
                                          : reply_write_json(&c->out, rp);
    if (r == 0 && c->proto != CONN_PROTO_BINARY)
        r = buf_append(&c->out, "\n", 1);
    if (r < 0) {
        c->out.len = mark;   /* no half reply */
        CONN_COUNT(c, replies_dropped, 1);
        return;
    }
    c->out_replies++;
    c->queued_replies++;
    CONN_COUNT(c, replies, 1);
}

void conn_goodbye(struct conn *c)
{
    if (c->closing || c->proto != CONN_PROTO_BINARY)
        return;
    size_t mark = c->out.len;
    if (reply_write_goodbye(&c->out, c->line_no) < 0) {
        c->out.len = mark;
        c->srv->stats.replies_dropped++;
        return;
    }
    c->out_replies++;
    c->queued_replies++;
    c->srv->stats.replies++;
}

void conn_defer(struct conn *c)
{
    c->deferred++;
    conn_ref(c);
}

void conn_undefer(struct conn *c)
{
    c->deferred--;
    conn_flush_replies(c);
    maybe_finish(c);
    conn_unref(c);
}

static void handle_line(struct conn *c, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;   /* blank lines are allowed (and numbered) */
    dispatch_line(c->srv, c, c->line_no, line, len);
}

/* Binary protocol: a frame that cannot be trusted (a length above the
 * limit, an unknown kind byte) means the stream is out of step; answer,
 * then stop reading and close once the replies are out. */
static void binary_give_up(struct conn *c, const char *why)
{
    c->line_no++;
    log_warn("conn %llu (%s): binary stream desynchronised after request %llu: %s; "
             "closing", (unsigned long long)c->id, c->peer,
             (unsigned long long)c->line_no - 1, why);
    buf_reset(&c->in);
    c->eof = true;   /* also marks the reply as the last one (closing) */
    dispatch_error(c, c->line_no, why);
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
    conn_flush_replies(c);
    maybe_finish(c);
}

/* Execute every complete frame in the buffer; keep the incomplete rest. */
static void process_frames(struct conn *c)
{
    size_t max = c->srv->cfg->max_line;
    size_t start = 0;
    while (!c->closing && !c->eof && !reply_pause_check(c)) {
        size_t off, len;
        enum linesplit_frame r = linesplit_frame_next(c->in.data, c->in.len, max, &start,
                                                      &off, &len);
        if (r == LINESPLIT_FRAME_MORE)
            break;
        if (r != LINESPLIT_FRAME) {
            char msg[160];
            if (r == LINESPLIT_FRAME_TOO_LONG) {
                CONN_COUNT(c, errors_oversize, 1);
                snprintf(msg, sizeof msg, "frame longer than the limit of %zu bytes", max);
            } else {
                CONN_COUNT(c, errors_json, 1);
                snprintf(msg, sizeof msg, "bad frame kind byte %u (expected %u): the stream "
                         "is out of step", (unsigned)c->in.data[start + 4], FRAME_BATCH);
            }
            binary_give_up(c, msg);
            return;
        }
        dispatch_frame(c->srv, c, c->in.data + off, len);
        c->completed++;
    }
    if (!c->closing && !c->eof)
        buf_consume(&c->in, start);
}

/* The first bytes decide the protocol: FRAME_MAGIC starts binary frames
 * (answered with a Hello frame), anything else is JSON lines. Returns
 * false while undecided. */
static bool decide_protocol(struct conn *c)
{
    int r = frame_magic_check(c->in.data, c->in.len);
    if (r == 0)
        return false;
    if (r < 0) {
        c->proto = CONN_PROTO_JSON;
        return true;
    }
    c->proto = CONN_PROTO_BINARY;
    buf_consume(&c->in, FRAME_MAGIC_LEN);
    char real[4096];
    const char *root = realpath(c->srv->cfg->root, real) ? real : c->srv->cfg->root;
    if (reply_write_hello(&c->out, c->srv->cfg->max_line, root) < 0) {
        conn_close(c);
        return false;
    }
    log_debug("conn %llu (%s): binary protocol", (unsigned long long)c->id, c->peer);
    return true;
}

/* --- TCP access control (tcp_auth.h) ------------------------------------
 * Kept apart from the rest: a TCP connection starts with auth_pending, and
 * process_input() / on_eof() go through authenticate() until it clears. */

#define AUTH_REPLY_HEAD "{\"op\":\"auth\",\"ok\":"
#define AUTH_REPLY_ERROR "false,\"error\":\""

/* Append {"op":"auth","ok":...} as the connection's first reply line. */
static void auth_reply(struct conn *c, const char *error)
{
    size_t mark = c->out.len;
    int r = buf_append(&c->out, AUTH_REPLY_HEAD, sizeof AUTH_REPLY_HEAD - 1);
    if (r == 0 && !error)
        r = buf_append(&c->out, "true}\n", 6);
    if (r == 0 && error) {
        r = buf_append(&c->out, AUTH_REPLY_ERROR, sizeof AUTH_REPLY_ERROR - 1);
        for (const char *p = error; r == 0 && *p; p++) {
            if (*p == '"' || *p == '\\')
                r = buf_append(&c->out, "\\", 1);
            if (r == 0)
                r = buf_append(&c->out, p, 1);
        }
        if (r == 0)
            r = buf_append(&c->out, "\"}\n", 3);
    }
    if (r < 0) {
        c->out.len = mark;
        return;
    }
    c->out_replies++;
    c->queued_replies++;
}

/* Answer, stop reading, close once the answer is out. */
static void auth_refuse(struct conn *c, const char *why)
{
    log_warn("conn %llu (%s): refused: %s", (unsigned long long)c->id, c->peer, why);
    buf_reset(&c->in);
    linesplit_reset(&c->split);
    c->eof = true;
    auth_reply(c, why);
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
    conn_flush_replies(c);
    maybe_finish(c);
}

/* 1: the first line presented the token (consumed, answered); 0: not
 * all of it is here yet; -1: refused (closing). */
static int authenticate(struct conn *c)
{
    const char *data = (const char *)c->in.data;
    const uint8_t *nl = c->in.len ? memchr(data, '\n', c->in.len) : NULL;
    const char *why = NULL;
    if (c->in.len && frame_magic_check(c->in.data, c->in.len) > 0) {
        why = "not authenticated: on TCP, send {\"op\":\"auth\",\"token\":\"...\"} and "
              "read its reply line before the binary protocol's magic";
    } else if (!nl) {
        if (c->in.len <= TCP_AUTH_MAX_LINE)
            return 0;
        why = "not authenticated: the first line (the auth op) is too long";
    } else {
        size_t len = (size_t)((const char *)nl - data);
        if (len > 0 && data[len - 1] == '\r')
            len--;
        if (tcp_auth_check(c->srv->tcp_token, data, len, &why) == 0) {
            buf_consume(&c->in, (size_t)((const char *)nl - data) + 1);
            c->auth_pending = false;
            auth_reply(c, NULL);
            log_debug("conn %llu (%s): authenticated", (unsigned long long)c->id, c->peer);
            return 1;
        }
    }
    auth_refuse(c, why);
    return -1;
}

/* Process every complete line in the buffer; keep the incomplete rest. */
static void process_input(struct conn *c)
{
    if (c->auth_pending && authenticate(c) <= 0)
        return;
    if (c->proto == CONN_PROTO_UNKNOWN && !decide_protocol(c))
        return;
    if (c->proto == CONN_PROTO_BINARY) {
        process_frames(c);
        return;
    }
    size_t max_line = c->srv->cfg->max_line;
    size_t start = 0;
    bool full = false;
    for (;;) {
        if (reply_pause_check(c)) {
            full = true;
            break;
        }
        size_t off, len;
        enum linesplit_what w = linesplit_next(&c->split, c->in.data, c->in.len, max_line,
                                               &start, &off, &len);
        if (w == LINESPLIT_MORE)
            break;
        c->completed++;
        if (w == LINESPLIT_TOO_LONG) {
            c->line_no++;
            CONN_COUNT(c, errors_oversize, 1);
            char msg[128];
            snprintf(msg, sizeof msg, "line longer than the limit of %zu bytes", max_line);
            dispatch_error(c, c->line_no, msg);
        } else if (w == LINESPLIT_LINE) {
            c->line_no++;
            handle_line(c, (const char *)c->in.data + off, len);
        }
        if (c->closing)
            return;
    }
    buf_consume(&c->in, start);
    linesplit_consumed(&c->split, start);
    if (full)
        return;   /* complete lines may remain: kept for when replies drained */
    enum linesplit_what w = linesplit_rest(&c->split, c->in.len, max_line);
    if (w == LINESPLIT_SKIPPED) {
        buf_reset(&c->in);
    } else if (w == LINESPLIT_TOO_LONG) {
        /* No newline within the limit: answer now, drop the line's bytes
         * up to its newline. */
        c->line_no++;
        CONN_COUNT(c, errors_oversize, 1);
        char msg[128];
        snprintf(msg, sizeof msg, "line longer than the limit of %zu bytes", max_line);
        dispatch_error(c, c->line_no, msg);
        log_warn("conn %llu (%s): line %llu longer than %zu bytes, skipped",
                 (unsigned long long)c->id, c->peer, (unsigned long long)c->line_no,
                 max_line);
        buf_reset(&c->in);
    }
}

static void on_eof(struct conn *c)
{
    if (c->auth_pending) {
        int a = authenticate(c);
        if (a == 0)
            auth_refuse(c, "not authenticated: the connection ended before its auth line");
        if (a <= 0)
            return;
        process_input(c);
        if (c->closing || c->eof)
            return;
    }
    if (c->proto == CONN_PROTO_BINARY) {
        if (c->in.len > 0) {
            c->line_no++;
            dispatch_error(c, c->line_no, "the connection ended inside a frame");
        }
    } else if (linesplit_eof(&c->split, c->in.len) == LINESPLIT_LINE) {
        /* A last line without its newline still counts. */
        c->line_no++;
        handle_line(c, (const char *)c->in.data, c->in.len);
    }
    buf_reset(&c->in);
    linesplit_reset(&c->split);
    c->eof = true;
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
    conn_flush_replies(c);
    maybe_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *ret)
{
    struct conn *c = h->data;
    (void)suggested;
    if (buf_reserve(&c->in, CONN_READ_CHUNK) < 0) {
        *ret = uv_buf_init(NULL, 0);
        return;
    }
    *ret = uv_buf_init((char *)c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len));
}

/* --max-input-total: the input buffers of all connections together are
 * bounded. Each connection's buffer (its capacity, what it costs) is
 * counted in srv->input_total; past the limit the largest unfinished
 * message is refused, until the total fits again. */
static void input_account(struct conn *c)
{
    c->srv->input_total = c->srv->input_total - c->in_counted + c->in.cap;
    c->in_counted = c->in.cap;
}

static void binary_give_up(struct conn *c, const char *why);

/* Refuse c's unfinished line (skipped up to its newline, the next ones
 * run) or frame (the stream is then out of step: closed). */
static void input_refuse(struct conn *c)
{
    struct server *s = c->srv;
    char msg[200];
    snprintf(msg, sizeof msg,
             "message refused unfinished after %zu bytes: the input buffered by all "
             "connections passed --max-input-total (%zu bytes)", c->in.len,
             s->cfg->max_input_total);
    CONN_COUNT(c, limit_input_total, 1);
    CONN_COUNT(c, errors_other, 1);
    if (c->proto == CONN_PROTO_BINARY) {
        binary_give_up(c, msg);
    } else {
        log_warn("conn %llu (%s): %zu bytes of an unfinished line refused "
                 "(--max-input-total)", (unsigned long long)c->id, c->peer, c->in.len);
        c->line_no++;
        dispatch_error(c, c->line_no, msg);
        linesplit_refuse_rest(&c->split);
        c->partial_since = 0;
        conn_flush_replies(c);
    }
    buf_free(&c->in);
    input_account(c);
}

static void input_enforce(struct server *s)
{
    while (s->input_total > s->cfg->max_input_total) {
        /* Candidates hold only an unfinished message: a connection paused
         * for its replies holds lines it will run. */
        struct conn *big = NULL;
        for (struct conn *c = s->conns; c; c = c->next)
            if (!c->closing && !c->reply_paused && c->in.len > 0 &&
                (!big || c->in.len > big->in.len))
                big = c;
        if (!big)
            return;
        input_refuse(big);
    }
}

/* uv_now(), never 0 (0 means "no unfinished message"). */
static uint64_t now_ms(const struct conn *c)
{
    uint64_t t = uv_now(c->srv->loop);
    return t ? t : 1;
}

/* After input was processed: when does the unfinished message (if any)
 * count from? Its first byte came in the read that finished the message
 * before it, or in an earlier one. */
static void note_partial(struct conn *c, uint64_t completed_before)
{
    if (c->in.len == 0 && !c->split.skipping)
        c->partial_since = 0;
    else if (c->partial_since == 0 || c->completed != completed_before)
        c->partial_since = now_ms(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = stream->data;
    (void)b;
    if (nread > 0) {
        uint64_t completed = c->completed;
        c->in.len += (size_t)nread;
        CONN_COUNT(c, bytes_in, (uint64_t)nread);
        process_input(c);
        /* A connection between lines keeps no input buffer, so thousands
         * of idle clients cost little memory. */
        if (c->in.len == 0)
            buf_free(&c->in);
        if (!c->closing && !c->eof)
            note_partial(c, completed);
        input_account(c);
        input_enforce(c->srv);
        conn_flush_replies(c);
        return;
    }
    if (nread == UV_EOF) {
        on_eof(c);
    } else if (nread == UV_ENOBUFS) {
        log_error("conn %llu (%s): out of memory for input, closing",
                  (unsigned long long)c->id, c->peer);
        conn_close(c);
    } else if (nread < 0) {
        log_info("conn %llu (%s): read error: %s", (unsigned long long)c->id,
                 c->peer, uv_strerror((int)nread));
        conn_close(c);
    }
}

void conn_pause(struct conn *c, bool pause)
{
    c->held = pause;
    update_reading(c);
}

void conn_check_read_timeout(struct conn *c, uint64_t now)
{
    double limit = c->srv->cfg->read_timeout;
    if (limit <= 0 || c->closing || c->eof || !c->reading || c->partial_since == 0 ||
        (double)(now - c->partial_since) < limit * 1000.0)
        return;
    char why[160];
    snprintf(why, sizeof why,
             "no complete %s within %g seconds of its first byte (--read-timeout); closing",
             c->proto == CONN_PROTO_BINARY ? "frame" : "line", limit);
    log_warn("conn %llu (%s): %zu bytes of an unfinished %s for %g s; closing",
             (unsigned long long)c->id, c->peer, c->in.len,
             c->proto == CONN_PROTO_BINARY ? "frame" : "line", limit);
    CONN_COUNT(c, errors_timeout, 1);
    c->line_no++;
    buf_reset(&c->in);
    linesplit_reset(&c->split);
    c->partial_since = 0;
    c->eof = true;   /* also marks the reply as the last one (closing) */
    dispatch_error(c, c->line_no, why);
    uv_read_stop(&c->h.stream);
    c->reading = false;
    conn_flush_replies(c);
    maybe_finish(c);
}

void conn_drain(struct conn *c)
{
    if (c->closing || c->eof)
        return;
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
    uv_os_fd_t fd;
    if (uv_fileno(&c->h.handle, &fd) < 0)
        return;
    /* Everything the client sent is executed now, unread replies or not:
     * lines kept while paused for replies first. */
    c->draining = true;
    c->reply_paused = false;
    if (c->in.len > 0) {
        process_input(c);
        if (c->closing)
            return;
    }
    /* The socket is non-blocking: read until it has nothing more. */
    for (;;) {
        if (buf_reserve(&c->in, CONN_READ_CHUNK) < 0)
            break;
        ssize_t n = read(fd, c->in.data + c->in.len, c->in.cap - c->in.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                on_eof(c);
            break;
        }
        c->in.len += (size_t)n;
        CONN_COUNT(c, bytes_in, (uint64_t)n);
        process_input(c);
        if (c->closing)
            return;
    }
    if (!c->eof && c->in.len > 0 && !c->split.skipping) {
        /* Bytes after the last newline when we stop: the client has not
         * finished that line; it is not part of anything accepted. */
        log_warn("conn %llu (%s): %zu bytes of an unfinished line dropped at shutdown",
                 (unsigned long long)c->id, c->peer, c->in.len);
        buf_reset(&c->in);
    }
    input_account(c);
    conn_flush_replies(c);
}

/* "pid 123, uid 1000" from SO_PEERCRED, or the TCP peer's address. */
static void peer_of(struct conn *c, bool tcp)
{
    uv_os_fd_t fd;
    if (uv_fileno(&c->h.handle, &fd) < 0) {
        snprintf(c->peer, sizeof c->peer, "peer unknown");
        return;
    }
    if (!tcp) {
        struct ucred cred;
        socklen_t cl = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
            c->has_cred = true;
            c->pid = cred.pid;
            c->uid = cred.uid;
            snprintf(c->peer, sizeof c->peer, "pid %ld, uid %ld", (long)c->pid, (long)c->uid);
        } else {
            snprintf(c->peer, sizeof c->peer, "pid and uid unknown");
        }
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof host);
            port = ntohs(a->sin6_port);
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            uv_ip4_name(a, host, sizeof host);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(c->peer, sizeof c->peer, "tcp %s:%d, uid unknown", host, port);
}

/* The peer's directory is known (--per-user-root): its counters. */
static void user_known(struct conn *c)
{
    c->ust = ustats_get(c->srv->ustats, c->user_dir);
    if (c->ust) {
        c->ust->connections_accepted++;
        c->ust->connections_open++;
    }
}

/* The peer's directory is known and prepared: start reading. */
static void user_resolved(void *ctx, const char *name, int dir_err)
{
    struct conn *c = ctx;
    memcpy(c->user_dir, name, sizeof c->user_dir);
    c->user_pending = false;
    if (dir_err < 0)
        log_warn("conn %llu (%s): its directory '%s' under the root could not be made "
                 "readable by uid %ld alone: %s", (unsigned long long)c->id, c->peer,
                 c->user_dir, (long)c->uid, strerror(-dir_err));
    user_known(c);
    update_reading(c);
    conn_unref(c);
}

/* --max-connections-per-user: one user cannot take every slot. The
 * refused client gets one error line (line 0) and is closed. */
static bool refuse_over_user_limit(struct conn *c)
{
    struct server *s = c->srv;
    unsigned limit = s->cfg->max_connections_per_user;
    if (server_conns_of_user(s, c) < limit)
        return false;
    s->stats.connections_refused++;
    s->stats.limit_connections_user++;
    char msg[160];
    if (c->has_cred)
        snprintf(msg, sizeof msg, "too many connections from uid %ld: %u is the limit per "
                 "user (--max-connections-per-user)", (long)c->uid, limit);
    else
        snprintf(msg, sizeof msg, "too many connections without credentials (TCP): %u is "
                 "the limit for them together (--max-connections-per-user)", limit);
    log_warn("conn %llu (%s): refused, %u connections of its user is the limit",
             (unsigned long long)c->id, c->peer, limit);
    dispatch_error(c, 0, msg);
    c->refused = true;
    c->eof = true;
    maybe_finish(c);
    return true;
}

int conn_accept(struct server *s, uv_stream_t *listener)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->srv = s;
    c->refs = 1;   /* the handle's */
    buf_init(&c->in, s->cfg->max_line + CONN_READ_CHUNK + 1);
    buf_init(&c->out, BUF_NO_CAP);
    bool tcp = uv_handle_get_type((uv_handle_t *)listener) == UV_TCP;
    int r = tcp ? uv_tcp_init(s->loop, &c->h.tcp) : uv_pipe_init(s->loop, &c->h.pipe, 0);
    if (r < 0) {
        free_conn(c);
        return r;
    }
    c->h.handle.data = c;
    r = uv_accept(listener, &c->h.stream);
    if (r < 0) {
        c->closing = true;
        uv_close(&c->h.handle, (uv_close_cb)free);
        return r;
    }
    c->id = ++s->next_conn_id;
    peer_of(c, tcp);
    c->auth_pending = tcp;   /* see authenticate() */
    /* Into the server's list before anything can close it. */
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    s->stats.connections_accepted++;
    s->stats.connections_open++;

    if (s->n_conns > s->cfg->max_connections) {
        s->stats.connections_refused++;
        log_warn("conn %llu (%s): refused, %u connections is the limit",
                 (unsigned long long)c->id, c->peer, s->cfg->max_connections);
        dispatch_error(c, 0, "too many connections");
        c->refused = true;
        c->eof = true;
        maybe_finish(c);
        return 0;
    }
    if (refuse_over_user_limit(c))
        return 0;
    log_debug("conn %llu: accepted (%s)", (unsigned long long)c->id, c->peer);
    if (s->cfg->per_user_root && !users_cached(c->uid, c->user_dir)) {
        /* config.c refuses --per-user-root with TCP: every peer here has
         * credentials. */
        c->user_pending = true;
        conn_ref(c);
        r = users_resolve(s->loop, c->uid, s->cfg->root, user_resolved, c);
        if (r < 0) {
            c->user_pending = false;
            conn_unref(c);
            log_error("conn %llu (%s): cannot look its user up: %s; closing",
                      (unsigned long long)c->id, c->peer, uv_strerror(r));
            conn_close(c);
        }
        return 0;
    }
    if (s->cfg->per_user_root)
        user_known(c);
    update_reading(c);
    return 0;
}
