#include "dispatch.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "conn.h"
#include "event.h"
#include "flusher.h"
#include "frame_decode.h"
#include "json_decode.h"
#include "json_guard.h"
#include "log.h"
#include "server.h"
#include "utf8.h"

/* Append s as a JSON string. Bytes that are not UTF-8 become '?', so a
 * reply is always valid JSON whatever a client sent. */
static int json_string(struct buf *out, const char *s)
{
    int r = buf_append(out, "\"", 1);
    size_t len = strlen(s);
    for (size_t i = 0; r == 0 && i < len;) {
        unsigned char ch = (unsigned char)s[i];
        unsigned cp;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            r = buf_append(out, esc, 2);
            i++;
        } else if (ch < 0x20) {
            r = buf_printf(out, "\\u%04x", ch);
            i++;
        } else if (ch < 0x80) {
            r = buf_append(out, &s[i], 1);
            i++;
        } else {
            int n = utf8_decode(s + i, len - i, &cp);
            if (n < 0) {
                r = buf_append(out, "?", 1);
                i++;
            } else {
                r = buf_append(out, s + i, (size_t)n);
                i += (size_t)n;
            }
        }
    }
    if (r == 0)
        r = buf_append(out, "\"", 1);
    return r;
}

void dispatch_error(struct conn *c, const char *id, uint64_t line_no, const char *error)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = 0;
    if (id)
        r = buf_printf(&b, "{\"id\":%s,\"ok\":false,\"line\":%" PRIu64 ",\"error\":", id,
                       line_no);
    else
        r = buf_printf(&b, "{\"ok\":false,\"line\":%" PRIu64 ",\"error\":", line_no);
    if (r == 0)
        r = json_string(&b, error);
    if (r == 0)
        r = buf_append(&b, "}", 1);
    if (r == 0)
        conn_reply(c, (const char *)b.data, b.len);
    buf_free(&b);
}

/* {"id":ID,"ok":true<extra>} where extra starts with ',' or is empty. */
static void reply_ok(struct conn *c, const char *id, const char *extra)
{
    char line[256 + REQUEST_MAX_ID];
    int n = id ? snprintf(line, sizeof line, "{\"id\":%s,\"ok\":true%s}", id, extra)
               : snprintf(line, sizeof line, "{\"ok\":true%s}", extra);
    if (n > 0 && (size_t)n < sizeof line)
        conn_reply(c, line, (size_t)n);
}

static void count_error(struct server *s, int r)
{
    if (r == -EBADMSG)
        s->stats.errors_json++;
    else if (r == -ERANGE)
        s->stats.errors_step++;
    else if (r == -ENOMEM || r == -ENOSPC || r == -ENOBUFS)
        s->stats.errors_other++;
    else
        s->stats.errors_invalid++;
}

static void fail(struct server *s, struct conn *c, const struct request *m, uint64_t line_no,
                 int r, const char *why)
{
    count_error(s, r);
    dispatch_error(c, m->has_id ? m->id : NULL, line_no, why);
    log_info("conn %llu (pid %ld, uid %ld) line %llu%s%s: %s", (unsigned long long)c->id,
             (long)c->pid, (long)c->uid, (unsigned long long)line_no,
             m->has_logdir ? " logdir " : "", m->has_logdir ? m->logdir : "", why);
}

/* ---- per-user roots ----------------------------------------------------- */

/* Peer uids whose directory name was looked up (getpwuid_r may ask a
 * network service: once per uid is enough). */
#define DISPATCH_USER_CACHE 64u
/* Longest user name used as a directory; longer ones get uid-<n>. */
#define DISPATCH_MAX_USER_NAME 64u

static struct {
    bool used;
    uid_t uid;
    char name[DISPATCH_MAX_USER_NAME + 1];
} user_cache[DISPATCH_USER_CACHE];
static unsigned user_cache_next;

/* The directory under the root for peer uid: its user name when that is
 * a plain path component, else "uid-<n>". */
static const char *user_dir(uid_t uid)
{
    for (unsigned i = 0; i < DISPATCH_USER_CACHE; i++)
        if (user_cache[i].used && user_cache[i].uid == uid)
            return user_cache[i].name;
    unsigned slot = user_cache_next++ % DISPATCH_USER_CACHE;
    char *out = user_cache[slot].name;
    snprintf(out, DISPATCH_MAX_USER_NAME + 1, "uid-%lu", (unsigned long)uid);
    struct passwd pw, *res = NULL;
    char pwbuf[16384];
    if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res && res->pw_name) {
        char norm[LOGDIR_MAX_NAME + 1];
        size_t n = strlen(res->pw_name);
        if (n > 0 && n <= DISPATCH_MAX_USER_NAME && !strchr(res->pw_name, '/') &&
            logdir_normalize(res->pw_name, n, norm, sizeof norm, NULL) == 0 &&
            strcmp(norm, res->pw_name) == 0)
            snprintf(out, DISPATCH_MAX_USER_NAME + 1, "%s", res->pw_name);
    }
    user_cache[slot].uid = uid;
    user_cache[slot].used = true;
    return out;
}

/* ---- limits ------------------------------------------------------------- */

/* Check the sizes of a decoded message against the configured limits and,
 * with --per-user-root, put its logdir under the peer's directory. 0, or
 * an error already answered. */
static int check_msg(struct server *s, struct conn *c, uint64_t line_no, struct request *m)
{
    const struct config *cfg = s->cfg;
    char why[256];
    if (m->n_values > cfg->max_values) {
        s->stats.limit_values++;
        snprintf(why, sizeof why, "%zu values in one message; the limit is %u (--max-values)",
                 m->n_values, cfg->max_values);
        fail(s, c, m, line_no, -EMSGSIZE, why);
        return -EMSGSIZE;
    }
    const char *long_name = NULL;
    if (m->has_logdir && strlen(m->logdir) > cfg->max_name)
        long_name = m->logdir;
    if (m->has_run && strlen(m->run) > cfg->max_name)
        long_name = m->run;
    for (size_t i = 0; !long_name && i < m->n_values; i++)
        if (strlen(m->values[i].run) > cfg->max_name)
            long_name = m->values[i].run;
    if (long_name) {
        s->stats.limit_name++;
        snprintf(why, sizeof why,
                 "the logdir or run name '%.40s...' is longer than %zu bytes (--max-name)",
                 long_name, cfg->max_name);
        fail(s, c, m, line_no, -ENAMETOOLONG, why);
        return -ENAMETOOLONG;
    }
    if (cfg->per_user_root && m->has_logdir) {
        const char *u = user_dir(c->uid);
        char name[LOGDIR_MAX_NAME + 1];
        bool dot = strcmp(m->logdir, ".") == 0;
        int k = snprintf(name, sizeof name, "%s%s%s", u, dot ? "" : "/", dot ? "" : m->logdir);
        if (k < 0 || (size_t)k >= sizeof name) {
            s->stats.limit_name++;
            snprintf(why, sizeof why,
                     "the logdir name is too long once put under the user directory '%s' "
                     "(at most %u bytes in all)",
                     u, LOGDIR_MAX_NAME);
            fail(s, c, m, line_no, -ENAMETOOLONG, why);
            return -ENAMETOOLONG;
        }
        memcpy(m->logdir, name, (size_t)k + 1);
    }
    return 0;
}

static void step_refusal_text(char *out, size_t size, const struct logdir_refusal *rf)
{
    if (rf->duplicate)
        snprintf(out, size,
                 "tag '%s' appears twice in run '%s' in one message (one value per tag and "
                 "step); nothing of this message was written",
                 rf->tag, rf->run);
    else
        snprintf(out, size,
                 "step %" PRId64 " of tag '%s' in run '%s' is not greater than its last step "
                 "%" PRId64 " (TensorBoard would delete the newer points); nothing of this "
                 "message was written. Use op \"restart\" to go back to an earlier step",
                 rf->step, rf->tag, rf->run, rf->last_step);
}

static const char *logdir_error(int r)
{
    switch (r) {
    case -ENOSPC:
        return "too many logdirs, runs or tags";
    case -ENOBUFS:
        return "too much data waiting to be written; try again";
    case -ENOMEM:
        return "out of memory";
    default:
        return confine_strerror(r);
    }
}

/* A refusal of logdir_log() other than the step policy: which limit, or
 * which run directory. */
static void refusal_text(struct server *s, char *out, size_t size, int r,
                         const struct logdir_refusal *rf, const char *ldname)
{
    if (r == -ENOSPC && rf->kind == LOGDIR_REFUSED_RUNS) {
        s->stats.limit_runs++;
        snprintf(out, size,
                 "run '%s' would be one run too many in logdir '%s' (the limit is %d runs, "
                 "--max-runs); nothing of this message was written",
                 rf->run, ldname, rf->limit);
    } else if (r == -ENOSPC && rf->kind == LOGDIR_REFUSED_TAGS) {
        s->stats.limit_tags++;
        snprintf(out, size,
                 "tag '%s' in run '%s' would be one tag too many in logdir '%s' (the limit is "
                 "%d run/tag pairs, --max-tags); nothing of this message was written",
                 rf->tag, rf->run, ldname, rf->limit);
    } else if (rf->kind == LOGDIR_REFUSED_DIR) {
        s->stats.errors_path++;
        snprintf(out, size,
                 "run '%s' of logdir '%s': cannot use its directory: %s; nothing of this "
                 "message was written",
                 rf->run, ldname, confine_strerror(r));
    } else {
        snprintf(out, size, "%s", logdir_error(r));
    }
}

/* Write the message's values at its step. */
static void do_log(struct server *s, struct conn *c, struct request *m, uint64_t line_no,
                   logdir *d, double wall_time, bool check_steps)
{
    struct logdir_item small[16];
    small[0] = (struct logdir_item){NULL, NULL};   /* n_values is never 0 here */
    struct logdir_item *items = small;
    if (m->n_values > 16) {
        items = malloc(m->n_values * sizeof *items);
        if (!items) {
            fail(s, c, m, line_no, -ENOMEM, "out of memory");
            return;
        }
    }
    for (size_t i = 0; i < m->n_values; i++) {
        items[i].run = m->values[i].run;
        items[i].value = &m->values[i].value;
    }
    int64_t step = 0;
    /* Filled by logdir_log() when it refuses; only the fields read for
     * other errors are set here (the whole struct is over 4 KiB). */
    struct logdir_refusal rf;
    rf.kind = LOGDIR_REFUSED_STEP;
    rf.run[0] = rf.tag[0] = '\0';
    rf.step = rf.last_step = 0;
    rf.duplicate = false;
    rf.limit = 0;
    enum logdir_step_mode mode = check_steps ? m->step_mode : LOGDIR_STEP_AT;
    int r = logdir_log(d, mode, check_steps ? m->step : 0, wall_time, items, m->n_values,
                       check_steps, &step, &rf);
    if (items != small)
        free(items);
    if (r == -ERANGE) {
        char why[2560];
        step_refusal_text(why, sizeof why, &rf);
        fail(s, c, m, line_no, r, why);
        return;
    }
    if (r < 0) {
        char why[2560];
        refusal_text(s, why, sizeof why, r, &rf, m->logdir);
        fail(s, c, m, line_no, r, why);
        return;
    }
    s->stats.messages++;
    s->stats.events += m->n_values;
    if (m->has_id) {
        char extra[64];
        snprintf(extra, sizeof extra, ",\"step\":%" PRId64, step);
        reply_ok(c, m->id, extra);
    }
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
    void (*idle)(struct server *s);
} waits;

static int exec_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                     size_t len, logdir **ret_wait);
static int exec_request(struct server *s, struct conn *c, uint64_t line_no, const uint8_t *req,
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
            log_info("conn %llu (pid %ld): %zu messages wait for a logdir scan; not reading "
                     "from it until they ran",
                     (unsigned long long)w->c->id, (long)w->c->pid, w->count);
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
        s->stats.errors_other++;
        dispatch_error(c, NULL, line_no, "out of memory");
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
            r = exec_request(s, w->c, e->line_no, (const uint8_t *)e->data, e->len, &on);
        } else {
            count_error(s, e->code);
            dispatch_error(w->c, NULL, e->line_no, e->data);
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
    }
    wait_end(s, w);
}

static void log_opened(logdir *d)
{
    const struct logdir_scan *sc = logdir_scan_result(d);
    log_info("logdir '%s': opened (%llu event files, %llu records found; next step %lld)%s",
             logdir_name(d), (unsigned long long)sc->files, (unsigned long long)sc->records,
             (long long)logdir_step(d) + 1,
             sc->corrupt || sc->truncated ? " - some files end early" : "");
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
    if (waits.scans == 0 && waits.idle) {
        void (*fn)(struct server *) = waits.idle;
        waits.idle = NULL;
        fn(s);
    }
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
    if (waits.scans == 0) {
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
    s->stats.lines++;
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
            s->stats.limit_json_depth++;
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
            s->stats.errors_invalid++;
            snprintf(err, sizeof err,
                     "a string holds \\u0000; names, tags and texts cannot hold NUL");
            fail(s, c, m, line_no, -EINVAL, err);
            return 0;
        } else {
            s->stats.limit_elements++;
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
        s->stats.lines++;
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
        s->stats.lines++;
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
                s->stats.errors_other++;
                dispatch_error(c, NULL, c->line_no, "out of memory");
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
static int exec_request(struct server *s, struct conn *c, uint64_t line_no, const uint8_t *req,
                        size_t len, logdir **ret_wait)
{
    char err[REQUEST_ERROR_SIZE];
    uint8_t *p = malloc(len + 11);
    if (!p) {
        s->stats.errors_other++;
        dispatch_error(c, NULL, line_no, "out of memory");
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

/* Execute a decoded message; 1 (nothing done) when it needs a logdir that
 * is being scanned, *ret_wait. */
static int dispatch_msg(struct server *s, struct conn *c, uint64_t line_no, struct request *m,
                        logdir **ret_wait)
{
    int r;
    double wall_time = m->has_wall_time ? m->wall_time : event_now();
    const char *id = m->has_id ? m->id : NULL;
    logdir *d = NULL;
    bool needs_logdir = m->op != REQUEST_FLUSH && m->op != REQUEST_CLOSE &&
                        m->op != REQUEST_PING && m->op != REQUEST_STATS;
    if (check_msg(s, c, line_no, m) < 0)
        return 0;
    if (needs_logdir) {
        d = logdir_set_find(s->logdirs, m->logdir);
        bool is_new = d == NULL;
        logdir_scanner *sc = NULL;
        r = d ? 0 : logdir_set_get_deferred(s->logdirs, m->logdir, &d, &sc);
        if (r < 0) {
            char why[LOGDIR_MAX_NAME + 256];
            if (r == -ENOSPC) {
                s->stats.limit_logdirs++;
                snprintf(why, sizeof why,
                         "logdir '%s' would be one logdir too many (the limit is %u, "
                         "--max-logdirs)",
                         m->logdir, s->cfg->max_logdirs);
            } else {
                if (r != -ENOMEM)
                    s->stats.errors_path++;
                snprintf(why, sizeof why, "logdir '%s': %s", m->logdir, logdir_error(r));
            }
            fail(s, c, m, line_no, r, why);
            return 0;
        }
        if (sc)
            scan_start(s, d, sc);   /* the files are read on the thread pool */
        else if (is_new)
            log_opened(d);
        if (logdir_scanning(d)) {
            *ret_wait = d;
            return 1;
        }
    }

    char extra[128];
    switch (m->op) {
    case REQUEST_LOG:
        do_log(s, c, m, line_no, d, wall_time, true);
        return 0;
    case REQUEST_HPARAMS_CONFIG:
    case REQUEST_HPARAMS_SESSION_START:
    case REQUEST_HPARAMS_SESSION_END:
        /* hparams live at step 0 and are replaced by a newer copy:
         * outside the step policy. */
        do_log(s, c, m, line_no, d, wall_time, false);
        return 0;
    case REQUEST_STEP_GET:
        s->stats.messages++;
        snprintf(extra, sizeof extra, ",\"step\":%" PRId64 ",\"next\":%" PRId64, logdir_step(d),
                 logdir_step(d) + 1);
        reply_ok(c, id, extra);
        return 0;
    case REQUEST_STEP_SET:
        s->stats.messages++;
        logdir_set_step(d, m->step);
        if (id) {
            snprintf(extra, sizeof extra, ",\"step\":%" PRId64 ",\"next\":%" PRId64, m->step,
                     m->step + 1);
            reply_ok(c, id, extra);
        }
        return 0;
    case REQUEST_RESTART:
        r = logdir_restart(d, m->has_run ? m->run : NULL, m->step, wall_time);
        if (r < 0) {
            if (r == -ELOOP || r == -ENOTDIR || r == -EXDEV || r == -EACCES)
                s->stats.errors_path++;
            fail(s, c, m, line_no, r, logdir_error(r));
            return 0;
        }
        s->stats.messages++;
        log_info("logdir '%s': restart at step %lld%s%s", m->logdir, (long long)m->step,
                 m->has_run ? " in run " : "", m->has_run ? m->run : "");
        if (id) {
            snprintf(extra, sizeof extra, ",\"step\":%" PRId64, m->step);
            reply_ok(c, id, extra);
        }
        return 0;
    case REQUEST_FLUSH:
    case REQUEST_CLOSE:
        s->stats.messages++;
        s->stats.flush_requests++;
        if (m->has_logdir) {
            d = logdir_set_find(s->logdirs, m->logdir);
            if (!d) {
                /* Nothing was ever logged there: nothing to write. */
                if (id)
                    reply_ok(c, id, "");
                return 0;
            }
            if (logdir_scanning(d)) {
                /* Messages of other connections may wait for the scan:
                 * this waits for them too. */
                *ret_wait = d;
                return 1;
            }
        }
        flusher_request(s->flusher, d, m->sync && s->cfg->fsync != FSYNC_NEVER,
                        m->op == REQUEST_CLOSE, c, id, line_no);
        return 0;
    case REQUEST_PING:
        s->stats.messages++;
        reply_ok(c, id, ",\"pong\":true,\"protocol\":1");
        return 0;
    case REQUEST_STATS: {
        s->stats.messages++;
        struct buf b;
        buf_init(&b, BUF_NO_CAP);
        r = id ? buf_printf(&b, "{\"id\":%s,\"ok\":true,\"stats\":", id)
               : buf_append_str(&b, "{\"ok\":true,\"stats\":");
        if (r == 0)
            r = stats_to_json(&s->stats, flusher_open_writers(s->flusher),
                              logdir_set_count(s->logdirs), flusher_pending_bytes(s->flusher),
                              &b);
        if (r == 0)
            r = buf_append(&b, "}", 1);
        if (r == 0)
            conn_reply(c, (const char *)b.data, b.len);
        buf_free(&b);
        return 0;
    }
    }
    return 0;
}
