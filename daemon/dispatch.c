#include "dispatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "exec.h"
#include "flusher.h"
#include "upload.h"
#include "frame_split.h"
#include "json_decode.h"
#include "json_fast.h"
#include "json_guard.h"
#include "log.h"
#include "server.h"

void dispatch_error(struct conn *c, uint64_t line_no, const char *error)
{
    struct reply rp;
    reply_init(&rp, NULL);
    reply_fail(&rp, -EINVAL, "%s", error);
    rp.line = line_no;
    conn_reply(c, &rp);
}

static void count_error(struct conn *c, int r)
{
    if (r == -EBADMSG)
        CONN_COUNT(c, errors_json, 1);
    else if (r == -ERANGE)
        CONN_COUNT(c, errors_step, 1);
    else if (r == -ENOMEM || r == -ENOSPC || r == -ENOBUFS)
        CONN_COUNT(c, errors_other, 1);
    else
        CONN_COUNT(c, errors_invalid, 1);
}

/* The counter a refusal adds to besides its errno class. */
static void count_refusal(struct conn *c, const struct reply *rp)
{
    count_error(c, rp->code);
    switch (rp->count) {
    case REPLY_COUNT_NONE: break;
    case REPLY_COUNT_VALUES: CONN_COUNT(c, limit_values, 1); break;
    case REPLY_COUNT_NAME: CONN_COUNT(c, limit_name, 1); break;
    case REPLY_COUNT_LOGDIRS: CONN_COUNT(c, limit_logdirs, 1); break;
    case REPLY_COUNT_RUNS: CONN_COUNT(c, limit_runs, 1); break;
    case REPLY_COUNT_TAGS: CONN_COUNT(c, limit_tags, 1); break;
    case REPLY_COUNT_JSON_DEPTH: CONN_COUNT(c, limit_json_depth, 1); break;
    case REPLY_COUNT_ELEMENTS: CONN_COUNT(c, limit_elements, 1); break;
    case REPLY_COUNT_PATH: CONN_COUNT(c, errors_path, 1); break;
    }
}

/* Count, log (refusals) and send the answer to request line_no of c. */
static void answer(struct server *s, struct conn *c, const struct request *m,
                   uint64_t line_no, struct reply *rp)
{
    if (!rp->ok) {
        rp->line = line_no;
        count_refusal(c, rp);
        log_info("conn %llu (%s) line %llu%s%s: %s", (unsigned long long)c->id, c->peer,
                 (unsigned long long)line_no,
                 m && m->has_logdir ? " logdir " : "", m && m->has_logdir ? m->logdir : "",
                 rp->error);
    }
    if (rp->answer)
        conn_reply(c, rp);
}

/* A refusal of request line_no before it was executed (decoding). */
static void fail(struct server *s, struct conn *c, const struct request *m, uint64_t line_no,
                 int r, const char *why)
{
    struct reply rp;
    reply_init(&rp, m);
    reply_fail(&rp, r, "%s", why);
    answer(s, c, m, line_no, &rp);
}

static int dispatch_msg(struct server *s, struct conn *c, uint64_t line_no, struct request *m,
                        logdir **ret_wait);

/* ---- logdirs being scanned ---------------------------------------------
 *
 * The first message naming a logdir that holds event files starts the
 * scan of those files (to resume steps) on the libuv thread pool; the
 * logdir is "scanning" until it is done. A message that needs such a
 * logdir is not executed: it is held, raw (the line, or the request's
 * bytes), with its line number, and so is everything its connection sends
 * after it, which keeps each connection's order (a flush after a log waits
 * for the log). Connections are held in the order they first waited; when
 * a scan completes, the connections waiting for that logdir execute what
 * they hold, in order, until a message names another logdir still being
 * scanned (they then wait for that one) or nothing is left. Other
 * connections, and the other messages of none, are not delayed.
 *
 * A held connection owes replies (conn_defer), so it is not closed at
 * end of input before its messages ran. Held messages are bounded: past
 * DISPATCH_WAIT_MAX_COUNT or DISPATCH_WAIT_MAX_BYTES for one connection,
 * or DISPATCH_WAIT_MAX_TOTAL for all, reading from that connection stops
 * until it is released (what was already read is still held: at most one
 * input buffer more); the kernel's socket buffer then blocks the client.
 * Nothing is refused for waiting. One server per process: the state is
 * static, like the user cache. */

/* Messages and bytes held per connection before its reading is paused. */
#define DISPATCH_WAIT_MAX_COUNT 65536u
#define DISPATCH_WAIT_MAX_BYTES (32u << 20)
/* Bytes held over all connections before reading is paused. */
#define DISPATCH_WAIT_MAX_TOTAL (256u << 20)

enum { WAIT_LINE = 0, WAIT_REQUEST, WAIT_ERROR };

struct wentry {
    struct wentry *next;
    uint64_t line_no;
    int kind;                 /* WAIT_* */
    int code;                 /* WAIT_ERROR: the error */
    size_t len;
    char data[];              /* the line, the Request's bytes, or the error text */
};

struct waiter {
    struct conn *c;           /* referenced (conn_defer) */
    logdir *on;               /* the scanning logdir its first message needs */
    bool busy;                /* an embedding of it is being written (on: NULL) */
    struct wentry *head, *tail;
    size_t count, bytes;
    bool paused;
    struct waiter *next;
};

struct scan_job {
    uv_work_t work;
    struct server *s;
    logdir *d;
    logdir_scanner *sc;
};

static struct {
    struct waiter *head, *tail;   /* in the order they started waiting */
    size_t total_bytes;
    unsigned scans;               /* running */
    unsigned embeddings;          /* being written on the pool */
    void (*idle)(struct server *s);
} waits;

static int exec_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                     size_t len, logdir **ret_wait);
static int exec_held_request(struct server *s, struct conn *c, uint64_t line_no, const uint8_t *req,
                        size_t len, logdir **ret_wait);

static struct waiter *waiter_of(const struct conn *c)
{
    for (struct waiter *w = waits.head; w; w = w->next)
        if (w->c == c)
            return w;
    return NULL;
}

static struct waiter *wait_start(struct conn *c, logdir *on)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->c = c;
    w->on = on;
    conn_defer(c);
    if (waits.tail)
        waits.tail->next = w;
    else
        waits.head = w;
    waits.tail = w;
    return w;
}

/* Hold one message of w's connection. -ENOMEM. */
static int wait_push(struct waiter *w, int kind, int code, uint64_t line_no, const void *data,
                     size_t len)
{
    struct wentry *e = malloc(sizeof *e + len + 1);
    if (!e)
        return -ENOMEM;
    e->next = NULL;
    e->line_no = line_no;
    e->kind = kind;
    e->code = code;
    e->len = len;
    memcpy(e->data, data, len);
    e->data[len] = '\0';
    if (w->tail)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    w->count++;
    w->bytes += len;
    waits.total_bytes += len;
    if (w->count > DISPATCH_WAIT_MAX_COUNT || w->bytes > DISPATCH_WAIT_MAX_BYTES ||
        waits.total_bytes > DISPATCH_WAIT_MAX_TOTAL) {
        if (!w->paused)
            log_info("conn %llu (%s): %zu messages wait for a logdir scan; not reading "
                     "from it until they ran",
                     (unsigned long long)w->c->id, w->c->peer, w->count);
        w->paused = true;
        conn_pause(w->c, true);   /* again, if the server resumed everyone */
    }
    return 0;
}

/* Hold a message of c, which must wait for on (NULL: it waits already). */
static void hold(struct server *s, struct conn *c, logdir *on, int kind, int code,
                 uint64_t line_no, const void *data, size_t len)
{
    struct waiter *w = waiter_of(c);
    if (!w)
        w = wait_start(c, on);
    if (!w || wait_push(w, kind, code, line_no, data, len) < 0) {
        CONN_COUNT(c, errors_other, 1);
        dispatch_error(c, line_no, "out of memory");
    }
}

static void wait_end(struct server *s, struct waiter *w)
{
    struct waiter **pp = &waits.head, *prev = NULL;
    while (*pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = w->next;
    if (waits.tail == w)
        waits.tail = prev;
    if (w->paused && !s->reading_paused && !s->stopping)
        conn_pause(w->c, false);
    conn_undefer(w->c);
    free(w);
}

/* Execute what w holds, in order, until a message must wait again. */
static void replay(struct server *s, struct waiter *w)
{
    while (w->head) {
        struct wentry *e = w->head;
        logdir *on = NULL;
        int r = 0;
        if (e->kind == WAIT_LINE) {
            r = exec_line(s, w->c, e->line_no, e->data, e->len, &on);
        } else if (e->kind == WAIT_REQUEST) {
            r = exec_held_request(s, w->c, e->line_no, (const uint8_t *)e->data, e->len, &on);
        } else {
            count_error(w->c, e->code);
            dispatch_error(w->c, e->line_no, e->data);
        }
        if (r > 0) {
            w->on = on;
            return;
        }
        w->head = e->next;
        if (!w->head)
            w->tail = NULL;
        w->count--;
        w->bytes -= e->len;
        waits.total_bytes -= e->len;
        free(e);
        if (w->busy)
            return;   /* it was an embedding: the rest runs when it is written */
    }
    wait_end(s, w);
}

/* No scan and no embedding left on the pool: what waited for that runs. */
static void jobs_idle(struct server *s)
{
    if (waits.scans == 0 && waits.embeddings == 0 && waits.idle) {
        void (*fn)(struct server *) = waits.idle;
        waits.idle = NULL;
        fn(s);
    }
}

static void log_opened(logdir *d)
{
    const struct logdir_scan *sc = logdir_scan_result(d);
    /* The counter may come from another program's files: past 2^53 it has
     * no next step (and +1 could overflow). */
    char next[64];
    if (logdir_step(d) < LOGDIR_MAX_STEP)
        snprintf(next, sizeof next, "next step %lld", (long long)logdir_step(d) + 1);
    else
        snprintf(next, sizeof next, "largest step %lld: no next step",
                 (long long)logdir_step(d));
    log_info("logdir '%s': opened (%llu event files, %llu records found; %s)%s",
             logdir_name(d), (unsigned long long)sc->files, (unsigned long long)sc->records,
             next, sc->corrupt || sc->truncated ? " - some files end early" : "");
}

static void scan_work(uv_work_t *req)
{
    struct scan_job *j = req->data;
    logdir_scanner_run(j->sc);
}

static void scan_done(uv_work_t *req, int status)
{
    struct scan_job *j = req->data;
    struct server *s = j->s;
    (void)status;   /* never cancelled; finish would scan here if it were */
    logdir_scan_finish(j->d, j->sc);
    log_opened(j->d);
    waits.scans--;
    struct waiter *next;
    for (struct waiter *w = waits.head; w; w = next) {
        next = w->next;   /* replay() frees only w */
        if (w->on == j->d)
            replay(s, w);
    }
    free(j);
    jobs_idle(s);
}

static void scan_start(struct server *s, logdir *d, logdir_scanner *sc)
{
    struct scan_job *j = calloc(1, sizeof *j);
    if (j) {
        j->s = s;
        j->d = d;
        j->sc = sc;
        j->work.data = j;
        if (uv_queue_work(s->loop, &j->work, scan_work, scan_done) == 0) {
            waits.scans++;
            return;
        }
        free(j);
    }
    /* No job: scan here, as the daemon always did before. */
    logdir_scan_finish(d, sc);
    log_opened(d);
}

void dispatch_after_scans(struct server *s, void (*fn)(struct server *s))
{
    if (waits.scans == 0 && waits.embeddings == 0) {
        fn(s);
        return;
    }
    waits.idle = fn;
}

/* The serialized requests of a Batch payload that frame_split_open()
 * accepted (so it holds nothing but field 1, length-delimited): their
 * offsets and lengths, n of them. 0, or -EBADMSG if it does not add up. */
static int batch_requests(const uint8_t *p, size_t len, size_t n, size_t *off, size_t *rlen)
{
    size_t i = 0, k = 0;
    while (i < len) {
        uint64_t v[2];
        for (int f = 0; f < 2; f++) {
            v[f] = 0;
            for (unsigned shift = 0;; shift += 7) {
                if (i >= len || shift > 63)
                    return -EBADMSG;
                uint8_t b = p[i++];
                v[f] |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                    break;
            }
        }
        if (v[0] != ((1u << 3) | 2u) || v[1] > len - i || k >= n)
            return -EBADMSG;
        off[k] = i;
        rlen[k++] = (size_t)v[1];
        i += (size_t)v[1];
    }
    return k == n ? 0 : -EBADMSG;
}


void dispatch_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                   size_t len)
{
    CONN_COUNT(c, lines, 1);
    logdir *on = NULL;
    if (waiter_of(c) || exec_line(s, c, line_no, line, len, &on) > 0)
        hold(s, c, on, WAIT_LINE, 0, line_no, line, len);
}

/* Execute one line; 1 (nothing done) when it needs a logdir being
 * scanned, *ret_wait. */
static int exec_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                     size_t len, logdir **ret_wait)
{
    struct request *m = &s->msg;
    char err[REQUEST_ERROR_SIZE];
    /* The commonest line (op "log", plain scalars, no escapes) is decoded
     * without cJSON by the fast path, which accepts nothing the guard
     * below could refuse (it nests 2 deep and holds no array and no
     * \u0000): the guard's scan of it is skipped (docs/performance.md). */
    if (s->cfg->max_json_depth >= 2 && jd_decode_fast(m, line, len) == 0)
        return dispatch_msg(s, c, line_no, m, ret_wait);
    /* Depth and element counts before cJSON pays for them. */
    struct json_guard_limits gl = {
        .max_depth = s->cfg->max_json_depth,
        .max_elements = s->cfg->max_elements,
    };
    enum json_guard_what what;
    size_t num_off = 0, num_len = 0;
    if (json_guard_scan(line, len, &gl, &what, &num_off, &num_len) < 0) {
        request_done(m);   /* no id of an earlier message in the reply */
        if (json_guard_find_id(line, len, m->id, sizeof m->id) > 0)
            m->has_id = true;
        if (what == JSON_GUARD_DEPTH) {
            CONN_COUNT(c, limit_json_depth, 1);
            snprintf(err, sizeof err,
                     "JSON nested deeper than the limit of %u levels (--max-json-depth)",
                     gl.max_depth);
        } else if (what == JSON_GUARD_RANGE) {
            /* cJSON would read it as an infinity; NaN and the infinities
             * are spelt "NaN", "Infinity", "-Infinity" in a $scalar. */
            bool more = num_len > 64;
            snprintf(err, sizeof err, "number out of range: %.*s%s", more ? 64 : (int)num_len,
                     line + num_off, more ? "\xe2\x80\xa6" : "");
            fail(s, c, m, line_no, -EINVAL, err);
            return 0;
        } else if (what == JSON_GUARD_NUL) {
            CONN_COUNT(c, errors_invalid, 1);
            snprintf(err, sizeof err,
                     "a string holds a NUL (\\u0000 or a raw 0 byte); names, tags and "
                     "texts cannot hold NUL");
            fail(s, c, m, line_no, -EINVAL, err);
            return 0;
        } else {
            CONN_COUNT(c, limit_elements, 1);
            snprintf(err, sizeof err,
                     "more than %zu array elements in one message (--max-elements)",
                     gl.max_elements);
        }
        fail(s, c, m, line_no, -EMSGSIZE, err);
        return 0;
    }
    int r = jd_decode_full(m, line, len, err, sizeof err);   /* the fast path declined */
    if (r < 0) {
        /* Invalid JSON: still answer with the id when one can be seen. */
        if (!m->has_id && json_guard_find_id(line, len, m->id, sizeof m->id) > 0)
            m->has_id = true;
        fail(s, c, m, line_no, r, err);
        return 0;
    }
    return dispatch_msg(s, c, line_no, m, ret_wait);
}

/* Binary protocol: every request of the frame is numbered like a line and
 * executed exactly as the equivalent JSON line would be. */
void dispatch_frame(struct server *s, struct conn *c, const uint8_t *payload, size_t len)
{
    struct request *m = &s->msg;
    char err[REQUEST_ERROR_SIZE];
    struct frame_split *b = NULL;
    /* Plain scalar logs are decoded by the lean path of frame_decode into
     * a message of its own (mm), everything else into m as before. */
    int r = frame_split_open(payload, len, &b, err, sizeof err);
    if (r < 0) {
        /* An undecodable frame counts as one request. */
        CONN_COUNT(c, lines, 1);
        r = r == -EBADMSG ? -EBADMSG : -EINVAL;
        if (waiter_of(c)) {
            /* Answered in its turn, after what the connection holds. */
            hold(s, c, NULL, WAIT_ERROR, r, ++c->line_no, err, strlen(err));
            return;
        }
        request_done(m);
        fail(s, c, m, ++c->line_no, r, err);
        return;
    }
    size_t n = frame_split_count(b);
    size_t *off = NULL, *rlen = NULL;   /* the requests' bytes, once one must wait */
    for (size_t i = 0; i < n && !c->closing; i++) {
        CONN_COUNT(c, lines, 1);
        c->line_no++;
        logdir *on = NULL;
        if (!waiter_of(c)) {
            /* Decoded in order while none waited; the rest are held. */
            struct request *mm;
            r = frame_split_decode(b, i, m, &mm, err, sizeof err);
            if (r < 0)
                fail(s, c, mm, c->line_no, r, err);
            if (r < 0 || dispatch_msg(s, c, c->line_no, mm, &on) == 0)
                continue;
        }
        if (!off) {
            off = malloc(n * sizeof *off);
            rlen = malloc(n * sizeof *rlen);
            if (!off || !rlen || batch_requests(payload, len, n, off, rlen) < 0) {
                free(off);
                free(rlen);
                off = rlen = NULL;
                CONN_COUNT(c, errors_other, 1);
                dispatch_error(c, c->line_no, "out of memory");
                continue;
            }
        }
        hold(s, c, on, WAIT_REQUEST, 0, c->line_no, payload + off[i], rlen[i]);
    }
    free(off);
    free(rlen);
    frame_split_free(b);
}

/* Execute one held request (a serialized Request): as a Batch of one. */
static int exec_held_request(struct server *s, struct conn *c, uint64_t line_no, const uint8_t *req,
                        size_t len, logdir **ret_wait)
{
    char err[REQUEST_ERROR_SIZE];
    uint8_t *p = malloc(len + 11);
    if (!p) {
        CONN_COUNT(c, errors_other, 1);
        dispatch_error(c, line_no, "out of memory");
        return 0;
    }
    size_t k = 0;
    p[k++] = (1u << 3) | 2u;   /* Batch.requests */
    for (uint64_t v = len; ; v >>= 7) {
        p[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memcpy(p + k, req, len);
    struct frame_split *b = NULL;
    struct request *mm = &s->msg;
    int r = frame_split_open(p, k + len, &b, err, sizeof err);
    if (r == 0 && frame_split_count(b) == 1)
        r = frame_split_decode(b, 0, &s->msg, &mm, err, sizeof err);
    else if (r == 0)
        r = -EBADMSG;
    int wait = 0;
    if (r < 0)
        fail(s, c, mm, line_no, r, err);
    else
        wait = dispatch_msg(s, c, line_no, mm, ret_wait);
    frame_split_free(b);
    free(p);
    return wait;
}

/* ---- embeddings on the thread pool --------------------------------------
 *
 * An embedding's files (exec_embedding(): file I/O, fsyncs, the config's
 * lock, up to PROJECTOR_LOCK_WAIT_MS) are written on the libuv thread
 * pool, never on the loop. Its connection waits meanwhile as one waiting
 * for a logdir scan does (above): what it sends after the embedding is
 * held and runs once the embedding is answered, so that its requests run
 * and its replies come in order. Other connections are not delayed. */

struct host_ctx {
    struct server *s;
    struct conn *c;
    uint64_t line_no;
};

struct embed_job {
    uv_work_t work;
    struct server *s;
    struct conn *c;           /* referenced (conn_defer): owes this reply */
    uint64_t line_no;
    char *root;
    char logdir[LOGDIR_MAX_NAME + 1];
    char run[LOGDIR_MAX_NAME + 1];
    struct projector_embedding e;   /* taken from the request */
    struct reply rp;
};

static void embed_work(uv_work_t *req)
{
    struct embed_job *j = req->data;
    exec_embedding(j->root, j->logdir, j->run, &j->e, &j->rp);
}

static void embed_done(uv_work_t *req, int status)
{
    struct embed_job *j = req->data;
    struct conn *c = j->c;
    (void)status;   /* never cancelled */
    struct reply *rp = &j->rp;
    if (rp->ok) {
        CONN_COUNT(c, messages, 1);
    } else {
        rp->line = j->line_no;
        count_refusal(c, rp);
        log_info("conn %llu (%s) line %llu logdir %s: %s", (unsigned long long)c->id, c->peer,
                 (unsigned long long)j->line_no, j->logdir, rp->error);
    }
    if (rp->answer)
        conn_reply(c, rp);
    waits.embeddings--;
    struct waiter *w = waiter_of(c);
    if (w && w->busy) {
        w->busy = false;
        replay(j->s, w);
    }
    conn_undefer(c);
    jobs_idle(j->s);
    projector_embedding_done(&j->e);
    free(j->root);
    free(j);
}

/* exec_host.embedding: m's embedding written on the pool, answered then;
 * c's next messages held until then. */
static int host_embedding(void *ctx, struct request *m, struct reply *rp)
{
    struct host_ctx *x = ctx;
    struct embed_job *j = calloc(1, sizeof *j);
    char *root = j ? strdup(x->s->cfg->root) : NULL;
    if (!root) {
        free(j);
        return reply_fail(rp, -ENOMEM, "out of memory");
    }
    j->s = x->s;
    j->c = x->c;
    j->line_no = x->line_no;
    j->root = root;
    snprintf(j->logdir, sizeof j->logdir, "%s", m->logdir);
    snprintf(j->run, sizeof j->run, "%s", m->run);
    j->e = m->embedding;
    j->rp = *rp;
    j->work.data = j;
    if (uv_queue_work(x->s->loop, &j->work, embed_work, embed_done) != 0) {
        /* No pool (libuv refuses only a missing callback): here, then. */
        free(root);
        free(j);
        return exec_embedding(x->s->cfg->root, m->logdir, m->run, &m->embedding, rp);
    }
    memset(&m->embedding, 0, sizeof m->embedding);   /* the job's now */
    waits.embeddings++;
    conn_defer(x->c);
    /* Without a waiter (out of memory) the next messages are not held:
     * they run, only their replies may come before this one. */
    struct waiter *w = waiter_of(x->c);
    if (!w)
        w = wait_start(x->c, NULL);
    if (w) {
        w->busy = true;
        w->on = NULL;
    }
    return EXEC_DEFERRED;
}

/* ---- the executor's host -------------------------------------------------- */

static int host_open_logdir(void *ctx, const char *name, logdir **ret)
{
    struct host_ctx *x = ctx;
    logdir *d = logdir_set_find(x->s->logdirs, name);
    if (!d) {
        logdir_scanner *sc = NULL;
        int r = logdir_set_get_deferred(x->s->logdirs, name, &d, &sc);
        if (r < 0)
            return r;
        if (sc)
            scan_start(x->s, d, sc);   /* the files are read on the thread pool */
        else
            log_opened(d);
    }
    *ret = d;
    return logdir_scanning(d) ? EXEC_WAIT : 0;
}

/* Under --per-user-root, the user directory whose logdirs an op without a
 * logdir (flush, close, stats) concerns: the caller's, unless the caller
 * is root or the daemon's own user, who see everything (NULL). */
static const char *scope_of(const struct server *s, const struct conn *c)
{
    if (!s->cfg->per_user_root || !c->has_cred || c->uid == 0 || c->uid == geteuid())
        return NULL;
    return c->user_dir;
}

static int host_flush(void *ctx, const struct request *m, logdir *d, bool sync,
                      struct reply *rp)
{
    struct host_ctx *x = ctx;
    struct reply_id id;
    (void)rp;
    reply_id_of(&id, m);
    flusher_request(x->s->flusher, d, scope_of(x->s, x->c),
                    sync && x->s->cfg->fsync != FSYNC_NEVER, m->op == REQUEST_CLOSE, x->c,
                    &id, x->line_no);
    return EXEC_DEFERRED;
}

/* The gauges of one user's logdirs (see scope_of()). */
struct user_gauges {
    const char *user;
    size_t user_len;
    uint64_t logdirs;
};

static void count_user_logdir(void *ctx, logdir *d)
{
    struct user_gauges *g = ctx;
    const char *name = logdir_name(d);
    if (strncmp(name, g->user, g->user_len) == 0 &&
        (name[g->user_len] == '\0' || name[g->user_len] == '/'))
        g->logdirs++;
}

static int host_stats(void *ctx, struct reply *rp)
{
    struct host_ctx *x = ctx;
    struct server *s = x->s;
    const char *user = scope_of(s, x->c);
    buf_reset(&s->stats_json);
    int r;
    if (user) {
        /* The caller's own figures only: counters of its connections and
         * writers (zero past USTATS_MAX users), its logdirs, writers and
         * unwritten bytes. */
        static const struct stats none;
        struct user_gauges g = {user, strlen(user), 0};
        logdir_set_foreach(s->logdirs, count_user_logdir, &g);
        struct stats_gauges gauges;
        flusher_gauges(s->flusher, user, &gauges);
        gauges.logdirs = g.logdirs;
        r = stats_to_json(x->c->ust ? x->c->ust : &none, &gauges, &s->stats_json);
    } else {
        struct stats_gauges gauges;
        flusher_gauges(s->flusher, NULL, &gauges);
        gauges.logdirs = logdir_set_count(s->logdirs);
        r = stats_to_json(&s->stats, &gauges, &s->stats_json);
        if (r == 0 && s->uploader) {
            s->stats_json.len--;   /* the closing brace, put back after */
            r = uploader_stats_json(s->uploader, &s->stats_json);
            if (r == 0)
                r = buf_append_str(&s->stats_json, "}");
        }
    }
    if (r < 0)
        return reply_fail(rp, r, "out of memory");
    rp->stats = (const char *)s->stats_json.data;
    rp->stats_len = s->stats_json.len;
    return 0;
}

/* Execute a decoded request; 1 (nothing done) when it needs a logdir that
 * is being scanned, *ret_wait. */
static int dispatch_msg(struct server *s, struct conn *c, uint64_t line_no, struct request *m,
                        logdir **ret_wait)
{
    struct host_ctx x = {s, c, line_no};
    const struct config *cfg = s->cfg;
    struct exec_host h = {
        .logdirs = s->logdirs,
        .max_values = cfg->max_values,
        .max_name = cfg->max_name,
        .max_logdirs = cfg->max_logdirs,
        .prefix = cfg->per_user_root ? c->user_dir : NULL,
        .root = cfg->root,
        .open_logdir = host_open_logdir,
        .flush = host_flush,
        .stats = host_stats,
        .embedding = host_embedding,
        .ctx = &x,
    };
    struct reply rp;
    reply_init(&rp, m);
    logdir *wait_for = NULL;
    int r = exec_request(&h, m, &rp);
    if (r == EXEC_WAIT) {
        wait_for = m->has_logdir ? logdir_set_find(s->logdirs, m->logdir) : NULL;
        *ret_wait = wait_for;
        return 1;
    }
    if (rp.ok && !(r == EXEC_DEFERRED && m->op == REQUEST_EMBEDDING)) {
        CONN_COUNT(c, messages, 1);
        if (m->op == REQUEST_FLUSH || m->op == REQUEST_CLOSE)
            CONN_COUNT(c, flush_requests, 1);
        else if (m->op != REQUEST_STEP_GET && m->op != REQUEST_STEP_SET &&
                 m->op != REQUEST_RESTART && m->op != REQUEST_PING && m->op != REQUEST_STATS)
            CONN_COUNT(c, events, m->n_values);
        if (m->op == REQUEST_RESTART)
            log_info("logdir '%s': restart at step %lld%s%s", m->logdir, (long long)m->step,
                     m->has_run ? " in run " : "", m->has_run ? m->run : "");
    }
    if (r != EXEC_DEFERRED)
        answer(s, c, m, line_no, &rp);
    return 0;
}
