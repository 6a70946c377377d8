#include "lib_daemon.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame.h"
#include "frame_decode.h"
#include "pbwire.h"
#include "tfwire.pb-c.h"

struct lib_daemon {
    int fd;
    bool broken;              /* the daemon closed or a write failed */
    int broken_err;
    uint64_t max_frame;
    char *root;
    size_t batch_limit;
    struct buf batch;         /* header room + Batch payload */
    size_t batch_requests;
    struct buf in;            /* reply bytes not yet parsed */
    uint64_t next_id;
    uint64_t refused;
    uint64_t refused_taken;
    char first_error[LIB_ERROR_SIZE];
    struct lib_scalar_tmpl tmpl;   /* of the last single scalar queued */
};

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
        if (r < 0 || kind != FRAME_REPLY) {
            d->broken = true;
            d->broken_err = -EPROTO;
            return -EPROTO;
        }
        Tfevents__Reply *rep =
            tfevents__reply__unpack(NULL, len, d->in.data + pos + FRAME_HEADER_LEN);
        pos += FRAME_HEADER_LEN + len;
        if (!rep) {
            d->broken = true;
            d->broken_err = -EPROTO;
            return -EPROTO;
        }
        if (want_id && rep->has_id && rep->id == want) {
            to_reply(rep, rp);
            found = 1;
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

int lib_daemon_connect(struct lib_daemon **ret, const char *path, size_t batch_bytes)
{
    *ret = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct lib_daemon *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    buf_init(&d->batch, BUF_NO_CAP);
    buf_init(&d->in, (size_t)FRAME_MAX_PAYLOAD * 2);
    d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = 0;
    Tfevents__Hello *h = NULL;
    if (d->fd < 0) {
        r = -errno;
        goto fail;
    }
    if (connect(d->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        r = -errno;
        goto fail;
    }
    if ((r = write_all(d, (const uint8_t *)FRAME_MAGIC, FRAME_MAGIC_LEN)) < 0)
        goto fail;
    /* The Hello: the first frame the daemon sends. */
    for (;;) {
        uint32_t len;
        uint8_t kind;
        r = frame_header_read(d->in.data, d->in.len, FRAME_MAX_PAYLOAD, &len, &kind);
        if (r == 0 && d->in.len - FRAME_HEADER_LEN >= len) {
            if (kind != FRAME_HELLO) {
                r = -EPROTO;
                goto fail;
            }
            h = tfevents__hello__unpack(NULL, len, d->in.data + FRAME_HEADER_LEN);
            if (!h) {
                r = -EPROTO;
                goto fail;
            }
            buf_consume(&d->in, FRAME_HEADER_LEN + len);
            break;
        }
        if (r < 0 && r != -EAGAIN) {
            r = -EPROTO;
            goto fail;
        }
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        int n = poll(&p, 1, LIB_DAEMON_HELLO_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n == 0 ? -ETIMEDOUT : -errno;
            goto fail;
        }
        r = read_some(d, true);
        if (r < 0) {
            r = r == -ECONNRESET ? -EPROTO : r;
            goto fail;
        }
    }
    d->max_frame = h->max_frame < FRAME_MAX_PAYLOAD ? h->max_frame : FRAME_MAX_PAYLOAD;
    d->root = strdup(h->root ? h->root : "");
    tfevents__hello__free_unpacked(h, NULL);
    if (!d->root) {
        r = -ENOMEM;
        goto fail;
    }
    d->batch_limit = batch_bytes < d->max_frame ? batch_bytes : (size_t)d->max_frame;
    *ret = d;
    return 0;
fail:
    if (d->fd >= 0)
        close(d->fd);
    buf_free(&d->batch);
    buf_free(&d->in);
    free(d);
    return r;
}

const char *lib_daemon_root(const struct lib_daemon *d)
{
    return d->root;
}

int lib_daemon_send(struct lib_daemon *d)
{
    if (d->broken)
        return d->broken_err;
    int r = drain(d);
    if (r < 0)
        return r;
    if (d->batch_requests == 0)
        return 0;
    size_t payload = d->batch.len - FRAME_HEADER_LEN;
    frame_header_write(d->batch.data, (uint32_t)payload, FRAME_BATCH);
    r = write_all(d, d->batch.data, d->batch.len);
    buf_reset(&d->batch);
    d->batch_requests = 0;
    return r;
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
    if (d->broken)
        return d->broken_err;
    int r = append(d, req, len, false, 0);
    /* A batch that is full goes out now rather than with the next one. */
    if (r == 0 && d->batch.len - FRAME_HEADER_LEN >= d->batch_limit)
        r = lib_daemon_send(d);
    return r;
}

int lib_daemon_queue_log_scalars(struct lib_daemon *d, const char *logdir_name, int64_t step,
                                 double wall_time, const struct lib_scalar *sc, size_t n)
{
    if (d->broken)
        return d->broken_err;
    size_t len = lib_request_log_scalars_size(logdir_name, step, wall_time, sc, n);
    uint8_t *p;
    int r = entry_room(d, len, false, 0, &p);
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
    if (d->broken)
        return d->broken_err;
    size_t len = lib_request_log_scalar_prepare(&d->tmpl, logdir_name, step, wall_time, run,
                                                tag);
    if (len == 0) {
        struct lib_scalar sc = {run, tag, value};
        return lib_daemon_queue_log_scalars(d, logdir_name, step, wall_time, &sc, 1);
    }
    uint8_t *p;
    int r = entry_room(d, len, false, 0, &p);
    if (r < 0)
        return r;
    lib_request_log_scalar_put(&d->tmpl, p, step, wall_time, value);
    if (d->batch.len - FRAME_HEADER_LEN >= d->batch_limit)
        r = lib_daemon_send(d);
    return r;
}

int lib_daemon_call(struct lib_daemon *d, const uint8_t *req, size_t len, struct lib_reply *rp)
{
    memset(rp, 0, sizeof *rp);
    if (d->broken)
        return d->broken_err;
    uint64_t id = ++d->next_id;
    int r = append(d, req, len, true, id);
    if (r == 0)
        r = lib_daemon_send(d);
    if (r < 0)
        return r;
    for (;;) {
        r = parse_frames(d, true, id, rp);
        if (r != 0)
            return r < 0 ? r : 0;
        r = read_some(d, true);
        if (r < 0) {
            d->broken = true;
            d->broken_err = r;
            return r;
        }
    }
}

uint64_t lib_daemon_refused(const struct lib_daemon *d)
{
    return d->refused;
}

int lib_daemon_take_error(struct lib_daemon *d, char *out, size_t size)
{
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
    if (r == 0)
        r = lib_daemon_take_error(d, err, err_size);
    close(d->fd);
    buf_free(&d->batch);
    buf_free(&d->in);
    free(d->root);
    free(d);
    return r;
}
