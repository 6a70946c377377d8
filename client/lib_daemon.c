#include "lib_daemon.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "frame_decode.h"
#include "lib_journal.h"
#include "pbwire.h"
#include "tfwire.pb-c.h"

struct lib_daemon {
    int fd;                   /* -1 between connections */
    bool broken;              /* the daemon closed or a write failed */
    int broken_err;
    uint64_t max_frame;
    char *root;
    char *path;               /* the socket, to connect again */
    size_t batch_bytes;       /* as asked (the limit also follows max_frame) */
    size_t batch_limit;
    struct buf batch;         /* header room + Batch payload */
    size_t batch_requests;
    struct buf in;            /* reply bytes not yet parsed */
    uint64_t next_id;
    uint64_t refused;
    uint64_t refused_taken;
    char first_error[LIB_ERROR_SIZE];
    struct lib_scalar_tmpl tmpl;   /* of the last single scalar queued */
    /* Reconnecting (lib_daemon.h). */
    double reconnect_timeout; /* seconds; < 0: never */
    uint64_t seq;             /* requests framed on this connection */
    struct lib_journal j;     /* frames not acknowledged yet */
    uint64_t ckpt_id, ckpt_seq;   /* the checkpoint flush on its way (0: none) */
    uint64_t conn_gen;        /* connections made so far */
    bool gave_up;             /* the daemon did not come back in time */
    bool recovering;
    uint64_t lost, lost_taken;
    char lost_error[LIB_ERROR_SIZE];
    /* The call in progress: its id, whether (and on which connection, as
     * which request) its frame was made, and what the last replay decided
     * about it. */
    uint64_t call_id;
    bool call_framed;
    uint64_t call_gen, call_seq;
    bool call_unread;
    struct buf rebuild;       /* replay: the Batch payload being built */
    uint32_t rebuild_requests;
    struct buf tmp;           /* replay: a request with Log.resent */
    uint64_t replay_lost_counter, replay_lost_step_set;
};

static int recover(struct lib_daemon *d);
static int append(struct lib_daemon *d, const uint8_t *req, size_t len, bool has_id,
                  uint64_t id);

static int write_all(struct lib_daemon *d, const uint8_t *p, size_t n)
{
    if (d->broken)
        return d->broken_err;
    while (n > 0) {
        ssize_t k = send(d->fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            d->broken = true;
            d->broken_err = -errno;
            return d->broken_err;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void note_refusal(struct lib_daemon *d, const Tfevents__Reply *rp)
{
    if (d->refused == d->refused_taken)
        snprintf(d->first_error, sizeof d->first_error, "request %llu: %s",
                 (unsigned long long)rp->request, rp->error ? rp->error : "refused");
    d->refused++;
    if (rp->has_request)
        lib_journal_refused(&d->j, rp->request);
}

static void to_reply(const Tfevents__Reply *in, struct lib_reply *out)
{
    memset(out, 0, sizeof *out);
    out->ok = in->ok;
    out->has_step = in->has_step;
    out->step = in->step;
    out->has_next = in->has_next;
    out->next = in->next;
    if (in->error)
        snprintf(out->error, sizeof out->error, "%s", in->error);
}

/* Parse the complete frames in d->in. A reply with id want (when
 * want_id) goes to *rp and makes the return 1. */
static int parse_frames(struct lib_daemon *d, bool want_id, uint64_t want, struct lib_reply *rp)
{
    size_t pos = 0;
    int found = 0;
    for (;;) {
        uint32_t len;
        uint8_t kind;
        int r = frame_header_read(d->in.data + pos, d->in.len - pos, d->max_frame, &len, &kind);
        if (r == -EAGAIN || (r == 0 && d->in.len - pos - FRAME_HEADER_LEN < len))
            break;
        Tfevents__Reply *rep = NULL;
        if (r == 0 && kind == FRAME_REPLY)
            rep = tfevents__reply__unpack(NULL, len, d->in.data + pos + FRAME_HEADER_LEN);
        if (!rep) {
            /* Out of step: nothing after this can be trusted. */
            buf_consume(&d->in, d->in.len);
            d->broken = true;
            d->broken_err = -EPROTO;
            return -EPROTO;
        }
        pos += FRAME_HEADER_LEN + len;
        if (want_id && rep->has_id && rep->id == want) {
            to_reply(rep, rp);
            found = 1;
        } else if (d->ckpt_id && rep->has_id && rep->id == d->ckpt_id) {
            /* The checkpoint: everything before it is in the files. */
            if (rep->ok)
                lib_journal_ack(&d->j, d->ckpt_seq);
            d->ckpt_id = 0;
        } else if (rep->ok && !rep->has_id && rep->has_closing && rep->closing &&
                   rep->has_request) {
            /* The goodbye of a graceful stop: requests up to this one are
             * written, no later one was read. */
            lib_journal_ack(&d->j, rep->request);
            d->j.goodbye = true;
        } else if (!rep->ok) {
            note_refusal(d, rep);
        }
        if (rep->has_closing && rep->closing) {
            d->broken = true;
            d->broken_err = -ECONNRESET;
        }
        tfevents__reply__free_unpacked(rep, NULL);
    }
    buf_consume(&d->in, pos);
    return found;
}

/* Read what is available (wait: block until something comes). */
static int read_some(struct lib_daemon *d, bool wait)
{
    int r = buf_reserve(&d->in, 64 * 1024);
    if (r < 0)
        return r;
    for (;;) {
        ssize_t k = recv(d->fd, d->in.data + d->in.len, d->in.cap - d->in.len,
                         wait ? 0 : MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -ECONNRESET;
        d->in.len += (size_t)k;
        return 1;
    }
}

/* Collect replies already there (errors of batched requests). */
static int drain(struct lib_daemon *d)
{
    for (;;) {
        int r = read_some(d, false);
        if (r <= 0) {
            if (r < 0 && !d->broken) {
                d->broken = true;
                d->broken_err = r;
            }
            return r;
        }
        r = parse_frames(d, false, 0, NULL);
        if (r < 0)
            return r;
    }
}

/* ---- connecting --------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the daemon's Hello on d->fd into *ret (caller frees). */
static int read_hello(struct lib_daemon *d, Tfevents__Hello **ret)
{
    for (;;) {
        uint32_t len;
        uint8_t kind;
        int r = frame_header_read(d->in.data, d->in.len, FRAME_MAX_PAYLOAD, &len, &kind);
        if (r == 0 && d->in.len - FRAME_HEADER_LEN >= len) {
            if (kind != FRAME_HELLO)
                return -EPROTO;
            *ret = tfevents__hello__unpack(NULL, len, d->in.data + FRAME_HEADER_LEN);
            if (!*ret)
                return -EPROTO;
            buf_consume(&d->in, FRAME_HEADER_LEN + len);
            return 0;
        }
        if (r < 0 && r != -EAGAIN)
            return -EPROTO;
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        int n = poll(&p, 1, LIB_DAEMON_HELLO_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? -ETIMEDOUT : -errno;
        r = read_some(d, true);
        if (r < 0)
            return r == -ECONNRESET ? -EPROTO : r;
    }
}

/* Connect to d->path, send the magic, read the Hello. A daemon that came
 * back with another root is refused (-EXDEV): the logdir names the
 * handle computed would mean other directories. */
static int open_conn(struct lib_daemon *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(d->path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, d->path, strlen(d->path) + 1);
    buf_reset(&d->in);
    d->broken = false;
    d->broken_err = 0;
    d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->fd < 0)
        return -errno;
    Tfevents__Hello *h = NULL;
    int r = connect(d->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
    if (r == 0)
        r = write_all(d, (const uint8_t *)FRAME_MAGIC, FRAME_MAGIC_LEN);
    if (r == 0)
        r = read_hello(d, &h);
    if (r == 0 && d->root && strcmp(d->root, h->root ? h->root : "") != 0)
        r = -EXDEV;
    if (r == 0 && !d->root && !(d->root = strdup(h->root ? h->root : "")))
        r = -ENOMEM;
    if (r < 0) {
        close(d->fd);
        d->fd = -1;
        d->broken = true;
        d->broken_err = r;
        if (h)
            tfevents__hello__free_unpacked(h, NULL);
        return r;
    }
    d->max_frame = h->max_frame < FRAME_MAX_PAYLOAD ? h->max_frame : FRAME_MAX_PAYLOAD;
    tfevents__hello__free_unpacked(h, NULL);
    d->batch_limit = d->batch_bytes < d->max_frame ? d->batch_bytes : (size_t)d->max_frame;
    d->seq = 0;
    d->ckpt_id = 0;
    d->conn_gen++;
    return 0;
}

static void free_daemon(struct lib_daemon *d)
{
    if (d->fd >= 0)
        close(d->fd);
    buf_free(&d->batch);
    buf_free(&d->in);
    buf_free(&d->rebuild);
    buf_free(&d->tmp);
    lib_journal_done(&d->j);
    free(d->root);
    free(d->path);
    free(d);
}

int lib_daemon_connect(struct lib_daemon **ret, const char *path, size_t batch_bytes,
                       double reconnect_timeout)
{
    *ret = NULL;
    struct lib_daemon *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->fd = -1;
    buf_init(&d->batch, BUF_NO_CAP);
    buf_init(&d->in, (size_t)FRAME_MAX_PAYLOAD * 2);
    buf_init(&d->rebuild, BUF_NO_CAP);
    buf_init(&d->tmp, BUF_NO_CAP);
    lib_journal_init(&d->j);
    d->batch_bytes = batch_bytes;
    d->reconnect_timeout = reconnect_timeout == 0 ? LIB_DAEMON_RECONNECT_DEFAULT_S
                                                  : reconnect_timeout;
    int r = (d->path = strdup(path)) ? open_conn(d) : -ENOMEM;
    if (r < 0) {
        free_daemon(d);
        return r;
    }
    d->conn_gen = 0;
    *ret = d;
    return 0;
}

const char *lib_daemon_root(const struct lib_daemon *d)
{
    return d->root;
}

/* ---- sending ----------------------------------------------------------------- */

/* Move the batch into the journal as the next frame to write. */
static int frame_batch(struct lib_daemon *d)
{
    if (d->batch_requests == 0)
        return 0;
    /* The batch's buffer goes to the journal as it is (no copy). */
    int r = lib_journal_add(&d->j, &d->batch, FRAME_HEADER_LEN, d->seq + 1,
                            (uint32_t)d->batch_requests);
    if (r < 0)
        return r;
    d->seq += d->batch_requests;
    d->batch_requests = 0;
    if (d->call_id && !d->call_framed) {
        /* The call's request was the last one appended. */
        d->call_framed = true;
        d->call_gen = d->conn_gen;
        d->call_seq = d->seq;
    }
    /* A new buffer (no spare yet) is sized for a whole batch at once:
     * growing it by doubling would copy it over and over. */
    if (d->batch.cap == 0)
        (void)buf_reserve(&d->batch, d->batch_limit + FRAME_HEADER_LEN + 64);
    return 0;
}

/* Write the journal's frames not written yet, in order. */
static int write_unsent(struct lib_daemon *d)
{
    uint8_t *p;
    size_t n;
    while (lib_journal_unsent(&d->j, &p, &n)) {
        frame_header_write(p, (uint32_t)(n - FRAME_HEADER_LEN), FRAME_BATCH);
        int r = write_all(d, p, n);
        if (r < 0)
            return r;
        lib_journal_sent(&d->j);
    }
    return 0;
}

/* Until the checkpoint's answer came (or the connection broke). */
static int wait_checkpoint(struct lib_daemon *d)
{
    while (d->ckpt_id && !d->broken) {
        int r = parse_frames(d, false, 0, NULL);
        if (r < 0 || !d->ckpt_id)
            return r < 0 ? r : 0;
        r = read_some(d, true);
        if (r < 0) {
            d->broken = true;
            d->broken_err = r;
            return r;
        }
    }
    return d->broken ? d->broken_err : 0;
}

/* Ask for an acknowledgement of what the journal holds: a flush of every
 * logdir with an id of its own (its reply, read with the others, trims
 * the journal). force: whatever the journal's size. Past
 * LIB_JOURNAL_MAX_BYTES, wait for it. */
static int checkpoint(struct lib_daemon *d, bool force)
{
    size_t bytes = lib_journal_bytes(&d->j);
    if (d->recovering || bytes == 0 || d->reconnect_timeout < 0)
        return 0;
    if (d->ckpt_id)
        return bytes >= LIB_JOURNAL_MAX_BYTES ? wait_checkpoint(d) : 0;
    if (!force && bytes < LIB_JOURNAL_CHECKPOINT_BYTES)
        return 0;
    uint64_t id = ++d->next_id;
    int r = lib_request_flush(&d->tmp, NULL, false, false);
    if (r == 0)
        r = append(d, d->tmp.data, d->tmp.len, true, id);
    if (r == 0)
        r = frame_batch(d);
    if (r < 0)
        return r;
    d->ckpt_id = id;
    d->ckpt_seq = d->seq;
    return write_unsent(d);
}

/* Send what is batched (and what a replay left unsent) and read the
 * replies there; a broken connection is recovered. */
static int send_now(struct lib_daemon *d, bool force_checkpoint)
{
    int r = 0;
    if (d->broken && (r = recover(d)) < 0)
        return r;
    r = drain(d);
    if (r == 0)
        r = frame_batch(d);
    if (r == 0)
        r = write_unsent(d);
    /* Never reconnecting: nothing is kept (the buffer is reused at once). */
    if (r == 0 && d->reconnect_timeout < 0)
        lib_journal_ack(&d->j, d->seq);
    if (r == 0)
        r = checkpoint(d, force_checkpoint);
    if (r < 0 && d->broken && !d->recovering)
        r = recover(d);
    return r;
}

int lib_daemon_send(struct lib_daemon *d)
{
    return send_now(d, false);
}

int lib_daemon_tick(struct lib_daemon *d)
{
    return send_now(d, true);
}

/* Room for one Batch entry (field 1: a request of len bytes, plus its id
 * when has_id) at the end of the batch, sending the batch first when the
 * entry would not fit. The entry's key and length are written; *ret is
 * where the request's bytes go (then the id, by the caller). */
static int entry_room(struct lib_daemon *d, size_t len, bool has_id, uint64_t id,
                      uint8_t **ret)
{
    size_t body = len + (has_id ? 1 + pb_varint_size(id) : 0);
    size_t entry = pb_len_field_size(1, body);
    if (entry > d->max_frame)
        return -EMSGSIZE;
    int r;
    if (d->batch_requests > 0 &&
        (d->batch.len - FRAME_HEADER_LEN + entry > d->batch_limit ||
         d->batch_requests >= FRAME_MAX_REQUESTS)) {
        if ((r = lib_daemon_send(d)) < 0)
            return r;
    }
    size_t header = d->batch.len == 0 ? FRAME_HEADER_LEN : 0;
    if ((r = buf_reserve(&d->batch, header + entry)) < 0)
        return r;
    d->batch.len += header;
    uint8_t *p = d->batch.data + d->batch.len;
    p += pb_put_tag(p, 1, PB_LEN);
    p += pb_put_varint(p, body);
    *ret = p;
    d->batch.len += entry;
    d->batch_requests++;
    return 0;
}

/* Append one Batch entry (field 1: the request, plus its id when has_id). */
static int append(struct lib_daemon *d, const uint8_t *req, size_t len, bool has_id,
                  uint64_t id)
{
    uint8_t *p;
    int r = entry_room(d, len, has_id, id, &p);
    if (r < 0)
        return r;
    memcpy(p, req, len);
    if (has_id) {
        p += len;
        p += pb_put_tag(p, 1, PB_VARINT);
        pb_put_varint(p, id);
    }
    return 0;
}

int lib_daemon_queue(struct lib_daemon *d, const uint8_t *req, size_t len)
{
    int r;
    if (d->broken && (r = recover(d)) < 0)
        return r;
    r = append(d, req, len, false, 0);
    /* A batch that is full goes out now rather than with the next one. */
    if (r == 0 && d->batch.len - FRAME_HEADER_LEN >= d->batch_limit)
        r = lib_daemon_send(d);
    return r;
}

int lib_daemon_queue_log_scalars(struct lib_daemon *d, const char *logdir_name, int64_t step,
                                 double wall_time, const struct lib_scalar *sc, size_t n)
{
    int r;
    if (d->broken && (r = recover(d)) < 0)
        return r;
    size_t len = lib_request_log_scalars_size(logdir_name, step, wall_time, sc, n);
    uint8_t *p;
    r = entry_room(d, len, false, 0, &p);
    if (r < 0)
        return r;
    lib_request_put_log_scalars(p, logdir_name, step, wall_time, sc, n);
    if (d->batch.len - FRAME_HEADER_LEN >= d->batch_limit)
        r = lib_daemon_send(d);
    return r;
}

int lib_daemon_queue_log_scalar(struct lib_daemon *d, const char *logdir_name, int64_t step,
                                double wall_time, const char *run, const char *tag,
                                double value)
{
    int r;
    if (d->broken && (r = recover(d)) < 0)
        return r;
    size_t len = lib_request_log_scalar_prepare(&d->tmpl, logdir_name, step, wall_time, run,
                                                tag);
    if (len == 0) {
        struct lib_scalar sc = {run, tag, value};
        return lib_daemon_queue_log_scalars(d, logdir_name, step, wall_time, &sc, 1);
    }
    uint8_t *p;
    r = entry_room(d, len, false, 0, &p);
    if (r < 0)
        return r;
    lib_request_log_scalar_put(&d->tmpl, p, step, wall_time, value);
    if (d->batch.len - FRAME_HEADER_LEN >= d->batch_limit)
        r = lib_daemon_send(d);
    return r;
}

/* ---- reconnecting ------------------------------------------------------------- */

static void note_lost(struct lib_daemon *d, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_lost(struct lib_daemon *d, uint64_t n, const char *fmt, ...)
{
    if (n == 0)
        return;
    if (d->lost == d->lost_taken) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->lost_error, sizeof d->lost_error, fmt, ap);
        va_end(ap);
    }
    d->lost += n;
}

/* Close a broken connection, after reading what it still holds (the
 * refusals and the goodbye sent before it ended). */
static void close_conn(struct lib_daemon *d)
{
    if (d->fd < 0)
        return;
    while (read_some(d, false) > 0)
        if (parse_frames(d, false, 0, NULL) < 0)
            break;
    (void)parse_frames(d, false, 0, NULL);
    close(d->fd);
    d->fd = -1;
    d->broken = true;
    if (!d->broken_err)
        d->broken_err = -ECONNRESET;
}

/* Append one request to the frames rebuilt by a replay. */
static int rebuild_cut(struct lib_daemon *d)
{
    if (d->rebuild_requests == 0)
        return 0;
    int r = lib_journal_add(&d->j, &d->rebuild, FRAME_HEADER_LEN, d->seq + 1,
                            d->rebuild_requests);
    if (r < 0)
        return r;
    d->seq += d->rebuild_requests;
    d->rebuild_requests = 0;
    return 0;
}

static int rebuild_add(struct lib_daemon *d, const uint8_t *req, size_t len)
{
    size_t entry = pb_len_field_size(1, len);
    int r;
    if (d->rebuild_requests > 0 &&
        (d->rebuild.len - FRAME_HEADER_LEN + entry > d->batch_limit ||
         d->rebuild_requests >= FRAME_MAX_REQUESTS) &&
        (r = rebuild_cut(d)) < 0)
        return r;
    size_t header = d->rebuild_requests == 0 ? FRAME_HEADER_LEN : 0;
    if ((r = buf_reserve(&d->rebuild, header + entry)) < 0)
        return r;
    if (header) {
        buf_reset(&d->rebuild);
        d->rebuild.len = header;   /* room for the frame header */
    }
    uint8_t *p = d->rebuild.data + d->rebuild.len;
    p += pb_put_tag(p, 1, PB_LEN);
    p += pb_put_varint(p, len);
    memcpy(p, req, len);
    d->rebuild.len += entry;
    d->rebuild_requests++;
    return 0;
}

/* One request of the old connection's journal (lib_journal_replay()). */
static int replay_one(void *ctx, const uint8_t *req, size_t len, bool unread)
{
    struct lib_daemon *d = ctx;
    uint64_t id;
    enum lib_journal_class k = lib_journal_classify(req, len, &id);
    if (id != 0) {
        /* A call (or a checkpoint): its caller sends it again. */
        if (id == d->call_id)
            d->call_unread = unread;
        return 0;
    }
    if (!unread) {
        /* The daemon may have carried it out before it went away. */
        if (k == LIB_JOURNAL_LOG_COUNTER) {
            d->replay_lost_counter++;
            return 0;
        }
        if (k == LIB_JOURNAL_STEP_SET) {
            d->replay_lost_step_set++;
            return 0;
        }
        if (k == LIB_JOURNAL_LOG_AT) {
            int r = lib_journal_resent(&d->tmp, req, len);
            if (r < 0)
                return r;
            req = d->tmp.data;
            len = d->tmp.len;
        }
    }
    return rebuild_add(d, req, len);
}

/* Count the requests (without id) of what a journal holds. */
static int count_one(void *ctx, const uint8_t *req, size_t len, bool unread)
{
    uint64_t id;
    (void)lib_journal_classify(req, len, &id);
    if (id == 0)
        ++*(uint64_t *)ctx;
    return 0;
}

/* The frames of the broken connection, sorted into frames for the new
 * one (d->j, unsent) and losses. */
static int replay(struct lib_daemon *d)
{
    struct lib_journal old = d->j;
    lib_journal_init(&d->j);
    d->replay_lost_counter = d->replay_lost_step_set = 0;
    d->rebuild_requests = 0;
    int r = lib_journal_replay(&old, replay_one, d);
    if (r == 0)
        r = rebuild_cut(d);
    lib_journal_done(&old);
    note_lost(d, d->replay_lost_counter + d->replay_lost_step_set,
              "the connection to tfeventsd at %s ended without an acknowledgement (the daemon "
              "was killed or crashed): %llu log request(s) at the counter's step and %llu "
              "step_set request(s), sent after the last flush, were not sent again (the "
              "daemon may have carried them out, and sending them again could log them "
              "twice); requests at explicit steps were sent again (what the daemon had "
              "written is skipped)",
              d->path, (unsigned long long)d->replay_lost_counter,
              (unsigned long long)d->replay_lost_step_set);
    return r;
}

/* The daemon did not come back: what was not acknowledged is lost. */
static void give_up(struct lib_daemon *d, int err, double waited)
{
    uint64_t n = d->batch_requests;
    (void)lib_journal_replay(&d->j, count_one, &n);
    buf_reset(&d->batch);
    d->batch_requests = 0;
    note_lost(d, n,
              "tfeventsd at %s did not come back within %.0f s (%s): %llu request(s) sent or "
              "batched since the last acknowledgement are lost (those the daemon had read "
              "before it went away may be in the files)",
              d->path, waited, strerror(-err), (unsigned long long)n);
    d->gave_up = true;
    d->broken = true;
    d->broken_err = err;
}

/* Connect again after a break and send again what can be, with growing
 * pauses for up to reconnect_timeout seconds (once, without waiting,
 * after giving up before). */
static int recover(struct lib_daemon *d)
{
    if (d->recovering)
        return d->broken_err ? d->broken_err : -ECONNRESET;
    close_conn(d);
    if (d->reconnect_timeout < 0)
        return d->broken_err;
    d->recovering = true;
    double t0 = now_s(), limit = d->gave_up ? 0 : d->reconnect_timeout;
    unsigned pause_ms = LIB_DAEMON_RETRY_FIRST_MS;
    int r;
    for (;;) {
        r = open_conn(d);
        if (r == 0) {
            d->gave_up = false;
            r = replay(d);
            if (r == 0)
                r = write_unsent(d);
            if (r == 0)
                break;
            close_conn(d);
        }
        double waited = now_s() - t0;
        if (r == -ENOMEM || r == -EXDEV || r == -ENAMETOOLONG || waited >= limit) {
            give_up(d, r, waited);
            d->recovering = false;
            return r;
        }
        /* The last attempt comes at the limit. */
        double pause = pause_ms / 1000.0 < limit - waited ? pause_ms / 1000.0 : limit - waited;
        struct timespec ts = {(time_t)pause, (long)((pause - (double)(time_t)pause) * 1e9)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        pause_ms = pause_ms * 2 > LIB_DAEMON_RETRY_MAX_MS ? LIB_DAEMON_RETRY_MAX_MS
                                                          : pause_ms * 2;
    }
    d->recovering = false;
    return 0;
}

/* ---- calls ---------------------------------------------------------------------- */

/* Read until the reply to id: 1 with it in *rp, 0 when the connection
 * broke first. */
static int wait_reply(struct lib_daemon *d, uint64_t id, struct lib_reply *rp)
{
    for (;;) {
        int r = parse_frames(d, true, id, rp);
        if (r > 0)
            return 1;
        if (r < 0 || d->broken)
            return 0;
        r = read_some(d, true);
        if (r < 0) {
            d->broken = true;
            d->broken_err = r;
            return 0;
        }
    }
}

int lib_daemon_call(struct lib_daemon *d, const uint8_t *req, size_t len, struct lib_reply *rp)
{
    memset(rp, 0, sizeof *rp);
    uint64_t unused;
    enum lib_journal_class k = lib_journal_classify(req, len, &unused);
    struct buf again;
    buf_init(&again, BUF_NO_CAP);
    int r = 0;
    for (unsigned attempt = 1;; attempt++) {
        if (d->broken && (r = recover(d)) < 0)
            break;
        uint64_t id = ++d->next_id;
        if ((r = append(d, req, len, true, id)) < 0)
            break;
        /* Set after append(): a full batch it sends does not hold the call. */
        d->call_id = id;
        d->call_framed = false;
        d->call_unread = false;
        if ((r = send_now(d, false)) < 0)
            break;
        if (d->call_framed && d->call_gen == d->conn_gen) {
            if (wait_reply(d, id, rp)) {
                /* A flush of every logdir: what came before it is written. */
                if (rp->ok && k == LIB_JOURNAL_FLUSH_ALL)
                    lib_journal_ack(&d->j, d->call_seq);
                break;
            }
            if ((r = recover(d)) < 0)
                break;
        }
        /* The connection was replaced under the call: the replay said
         * whether the daemon could have carried it out. */
        if (!d->call_unread && (k == LIB_JOURNAL_LOG_COUNTER || k == LIB_JOURNAL_STEP_SET)) {
            snprintf(rp->error, sizeof rp->error,
                     "the connection to tfeventsd broke before it answered; this request (at "
                     "the counter's step, or a step_set) may or may not have been carried "
                     "out, and was not sent again: it could have been logged twice");
            r = -ECONNRESET;
            break;
        }
        if (attempt >= LIB_DAEMON_CALL_TRIES) {
            r = -ECONNRESET;
            break;
        }
        if (!d->call_unread && k == LIB_JOURNAL_LOG_AT) {
            if ((r = lib_journal_resent(&again, req, len)) < 0)
                break;
            req = again.data;
            len = again.len;
        }
    }
    d->call_id = 0;
    buf_free(&again);
    return r;
}

uint64_t lib_daemon_refused(const struct lib_daemon *d)
{
    return d->refused;
}

uint64_t lib_daemon_lost(const struct lib_daemon *d)
{
    return d->lost;
}

uint64_t lib_daemon_reconnects(const struct lib_daemon *d)
{
    return d->conn_gen;
}

int lib_daemon_take_lost(struct lib_daemon *d, char *out, size_t size)
{
    if (d->lost == d->lost_taken)
        return 0;
    d->lost_taken = d->lost;
    snprintf(out, size, "%s", d->lost_error);
    return -ECONNRESET;
}

int lib_daemon_take_error(struct lib_daemon *d, char *out, size_t size)
{
    int r = lib_daemon_take_lost(d, out, size);
    if (r < 0)
        return r;
    if (d->refused == d->refused_taken)
        return 0;
    d->refused_taken = d->refused;
    snprintf(out, size, "%s", d->first_error);
    return -EREMOTEIO;
}

int lib_daemon_free(struct lib_daemon *d, char *err, size_t err_size)
{
    if (!d)
        return 0;
    int r = lib_daemon_send(d);
    if (r == 0 && !d->broken) {
        /* Half-close and read to the end: every reply (error) still owed
         * arrives before the daemon closes its side. */
        shutdown(d->fd, SHUT_WR);
        while ((r = read_some(d, true)) > 0)
            if ((r = parse_frames(d, false, 0, NULL)) < 0)
                break;
        if (r == -ECONNRESET)
            r = 0;
    }
    if (r == 0 && err)
        r = lib_daemon_take_error(d, err, err_size);
    free_daemon(d);
    return r;
}
