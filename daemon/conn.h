/* conn: one client connection.
 *
 * Reading: bytes go into a buffer capped at the line limit (cfg->max_line)
 * plus one read; every complete line ('\n'-terminated, an optional '\r'
 * dropped) is numbered from 1 and handed to dispatch. A line longer than
 * the limit gets an error reply and is skipped up to its newline; the next
 * lines are processed normally. At end of input a last line without a
 * newline is processed too.
 *
 * Replies: appended to an output buffer and written with one write per
 * batch of lines. Once cfg->max_replies replies wait on a connection
 * (written but not yet taken by the client, or buffered), the daemon
 * stops executing and reading its input (backpressure) until they are
 * down to half: a client that pipelines gets every reply, one that never
 * reads cannot make the daemon allocate without bound or stall anyone
 * else.
 *
 * Lifetime: the handle (a uv_pipe_t for the Unix socket, a uv_tcp_t for
 * the loopback TCP listener) lives inside the conn; a conn is freed once
 * its handle is closed and no deferred reply (a pending flush) refers to
 * it (conn_ref / conn_unref). */
#ifndef TFEVENTSD_CONN_H
#define TFEVENTSD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "buf.h"
#include "linesplit.h"
#include "users.h"

struct server;

/* Which protocol a connection speaks: JSON lines, or binary frames after
 * FRAME_MAGIC (frame_decode.h); undecided until the first bytes arrive. */
enum { CONN_PROTO_UNKNOWN = 0, CONN_PROTO_JSON, CONN_PROTO_BINARY };

/* Bytes asked from the socket per read. */
#define CONN_READ_CHUNK (64u * 1024)

/* "pid 123, uid 1000" or "tcp 127.0.0.1:40000", for logs. */
#define CONN_PEER_SIZE 64u

struct conn {
    union {                      /* first: the handle's data is the conn */
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;          /* Unix socket */
        uv_tcp_t tcp;            /* the loopback TCP listener's clients */
    } h;
    struct server *srv;
    uint64_t id;                 /* for logs */
    bool has_cred;               /* pid and uid known (SO_PEERCRED) */
    pid_t pid;
    uid_t uid;
    char peer[CONN_PEER_SIZE];
    /* --per-user-root: the peer's directory under the root, looked up
     * (users.h) before the first byte is read. */
    bool user_pending;
    char user_dir[USERS_MAX_NAME + 1];
    /* Its user's counters (ustats.h), with --per-user-root once user_dir
     * is known; NULL otherwise or past USTATS_MAX users. */
    struct stats *ust;
    /* A TCP connection until its first line presented the token
     * (tcp_auth.h): nothing else is read before. */
    bool auth_pending;
    struct buf in;
    size_t in_counted;           /* in.cap as counted in srv->input_total */
    struct linesplit split;      /* where in's lines are (linesplit.h) */
    uint64_t line_no;
    uint8_t proto;               /* CONN_PROTO_*: decided by the first bytes */
    bool reading;
    bool held;                   /* conn_pause(): the server or dispatch */
    bool reply_paused;           /* cfg->max_replies unread replies */
    bool draining;               /* shutdown: execute all, no reply limit */
    bool refused;                /* over a connection limit: one error, closed */
    bool eof;
    bool closing;
    unsigned refs;
    unsigned deferred;           /* replies still to come (flush, close) */
    uint64_t completed;          /* lines and frames finished (read-timeout) */
    uint64_t partial_since;      /* uv_now() when the unfinished message in
                                    `in` began (or reading resumed); 0: none */
    struct buf out;              /* replies not yet handed to uv_write */
    unsigned out_replies;
    unsigned queued_replies;     /* in out + in uv_write requests */
    struct conn *prev, *next;
};

/* Add n to a counter of the daemon's stats and of c's user's (the stats
 * op answers an unprivileged user of --per-user-root with its own). */
#define CONN_COUNT(c, field, n)                  \
    do {                                         \
        struct conn *cc_ = (c);                  \
        uint64_t n_ = (n);                       \
        cc_->srv->stats.field += n_;             \
        if (cc_->ust)                            \
            cc_->ust->field += n_;               \
    } while (0)

/* Accept a pending connection from the listener; starts reading. Logs. */
int conn_accept(struct server *s, uv_stream_t *listener);

struct reply;

/* Queue a reply (borrowed; encoded at once as a JSON line or a Reply
 * frame, as the connection speaks). Dropped (and counted) only when the
 * connection is closing or memory runs out. */
void conn_reply(struct conn *c, const struct reply *rp);

/* Write the buffered replies now. */
void conn_flush_replies(struct conn *c);

/* A deferred reply is owed / was sent (flush, close ops). */
void conn_defer(struct conn *c);
void conn_undefer(struct conn *c);

void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* Hold (or release) reading for the server or dispatch; reading resumes
 * only when no other reason to pause remains (unread replies, a user
 * lookup). */
void conn_pause(struct conn *c, bool pause);

/* Close, with an error reply, a connection whose unfinished line or
 * frame began more than cfg->read_timeout ago (the time it spent paused
 * by the daemon not counted). now: uv_now(). */
void conn_check_read_timeout(struct conn *c, uint64_t now);

/* Shutdown: read everything the client already sent (non-blocking),
 * process it, stop reading. */
void conn_drain(struct conn *c);

/* At a graceful stop, once everything is written: tell a binary client
 * how many of its requests were executed (reply_write_goodbye()), so
 * that it sends the others again on a new connection. No-op for JSON. */
void conn_goodbye(struct conn *c);

/* Close now (replies not yet written are lost). */
void conn_close(struct conn *c);

#endif
