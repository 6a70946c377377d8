#include "lib_journal.h"

#include <errno.h>
#include <string.h>

#include "pbwire.h"

/* Field numbers of proto/tfwire.proto. */
enum {
    F_BATCH_REQUESTS = 1,
    F_REQ_ID = 1, F_REQ_LOG = 2, F_REQ_STEP_SET = 4, F_REQ_FLUSH = 5,
    F_REQ_HP_CONFIG = 6, F_REQ_HP_START = 7, F_REQ_HP_END = 8, F_REQ_RESTART = 9,
    F_REQ_CLOSE = 10,
    F_LOG_STEP = 2, F_LOG_CURRENT = 3, F_LOG_RESENT = 6,
    F_FLUSH_LOGDIR = 1,
};

struct lib_journal_frame {
    struct buf data;           /* skip bytes of header room, then the payload */
    size_t skip;
    uint64_t first;            /* number of its first request */
    uint32_t count;
    bool sent;                 /* written whole */
};

void lib_journal_init(struct lib_journal *j)
{
    buf_init(&j->frames, BUF_NO_CAP);
    buf_init(&j->refused, BUF_NO_CAP);
    j->bytes = 0;
    j->n_spares = 0;
    j->acked = 0;
    j->goodbye = false;
}

static struct lib_journal_frame *frame_at(const struct lib_journal *j, size_t i)
{
    return (struct lib_journal_frame *)j->frames.data + i;
}

static size_t frame_count(const struct lib_journal *j)
{
    return j->frames.len / sizeof(struct lib_journal_frame);
}

/* Drop frames [0, n): their buffers become spares or are freed. */
static void drop_frames(struct lib_journal *j, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct lib_journal_frame *f = frame_at(j, i);
        j->bytes -= f->data.len;
        if (j->n_spares < LIB_JOURNAL_SPARES && f->data.cap <= LIB_JOURNAL_SPARE_MAX) {
            buf_reset(&f->data);
            j->spares[j->n_spares++] = f->data;
        } else {
            buf_free(&f->data);
        }
    }
    buf_consume(&j->frames, n * sizeof(struct lib_journal_frame));
}

void lib_journal_done(struct lib_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < frame_count(j); i++)
        buf_free(&frame_at(j, i)->data);
    buf_free(&j->frames);
    for (unsigned i = 0; i < j->n_spares; i++)
        buf_free(&j->spares[i]);
    j->n_spares = 0;
    buf_free(&j->refused);
}

int lib_journal_add(struct lib_journal *j, struct buf *b, size_t skip, uint64_t first,
                    uint32_t count)
{
    struct lib_journal_frame f = {*b, skip, first, count, false};
    int r = buf_append(&j->frames, &f, sizeof f);
    if (r < 0)
        return r;
    j->bytes += b->len;
    size_t max = b->max;
    if (j->n_spares > 0)
        *b = j->spares[--j->n_spares];
    else
        buf_init(b, max);
    return 0;
}

static bool was_refused(const struct lib_journal *j, uint64_t n)
{
    const uint64_t *rs = (const uint64_t *)j->refused.data;
    for (size_t i = 0; i < j->refused.len / sizeof(uint64_t); i++)
        if (rs[i] == n)
            return true;
    return false;
}

static size_t first_unsent(const struct lib_journal *j)
{
    size_t i = frame_count(j);
    while (i > 0 && !frame_at(j, i - 1)->sent)
        i--;
    return i;
}

bool lib_journal_unsent(const struct lib_journal *j, uint8_t **ret_frame, size_t *ret_len)
{
    size_t i = first_unsent(j);
    if (i == frame_count(j))
        return false;
    *ret_frame = frame_at(j, i)->data.data;
    *ret_len = frame_at(j, i)->data.len;
    return true;
}

void lib_journal_sent(struct lib_journal *j)
{
    size_t i = first_unsent(j);
    if (i < frame_count(j))
        frame_at(j, i)->sent = true;
}

uint64_t lib_journal_pending(const struct lib_journal *j)
{
    uint64_t n = 0;
    for (size_t i = 0; i < frame_count(j); i++) {
        const struct lib_journal_frame *f = frame_at(j, i);
        for (uint64_t k = f->first; k < f->first + f->count; k++)
            n += k > j->acked && !was_refused(j, k);
    }
    return n;
}

void lib_journal_ack(struct lib_journal *j, uint64_t upto)
{
    if (upto > j->acked)
        j->acked = upto;
    size_t n = frame_count(j), drop = 0;
    while (drop < n && frame_at(j, drop)->first + frame_at(j, drop)->count - 1 <= j->acked &&
           frame_at(j, drop)->sent)
        drop++;
    if (drop == 0)
        return;
    drop_frames(j, drop);
    /* Refusals at or below the acknowledgement are of no more use. */
    size_t keep = 0, nr = j->refused.len / sizeof(uint64_t);
    uint64_t *rs = (uint64_t *)j->refused.data;
    for (size_t i = 0; i < nr; i++)
        if (rs[i] > j->acked)
            rs[keep++] = rs[i];
    j->refused.len = keep * sizeof(uint64_t);
}

void lib_journal_refused(struct lib_journal *j, uint64_t n)
{
    /* Out of memory only means sending a refused request again, to be
     * refused again. */
    if (n > j->acked)
        (void)buf_append(&j->refused, &n, sizeof n);
}

size_t lib_journal_bytes(const struct lib_journal *j)
{
    return j->bytes;
}

/* ---- reading protobuf ------------------------------------------------------ */

struct cur {
    const uint8_t *p, *end;
};

static bool get_varint(struct cur *c, uint64_t *v)
{
    *v = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        if (c->p >= c->end)
            return false;
        uint8_t b = *c->p++;
        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* The next field: its number, wire type and, for LEN, its bytes (for a
 * varint, its value in *ret_v). false at the end or on malformed input. */
static bool next_field(struct cur *c, uint32_t *field, unsigned *wire, struct cur *ret_bytes,
                       uint64_t *ret_v)
{
    uint64_t key, n;
    if (c->p >= c->end || !get_varint(c, &key))
        return false;
    *field = (uint32_t)(key >> 3);
    *wire = key & 7;
    switch (*wire) {
    case PB_VARINT:
        return get_varint(c, ret_v);
    case PB_FIXED64:
        if (c->end - c->p < 8)
            return false;
        c->p += 8;
        return true;
    case PB_FIXED32:
        if (c->end - c->p < 4)
            return false;
        c->p += 4;
        return true;
    case PB_LEN:
        if (!get_varint(c, &n) || n > (uint64_t)(c->end - c->p))
            return false;
        ret_bytes->p = c->p;
        ret_bytes->end = c->p + n;
        c->p += n;
        return true;
    default:
        return false;
    }
}

int lib_journal_each_request(const uint8_t *payload, size_t len,
                             int (*fn)(void *ctx, const uint8_t *req, size_t len), void *ctx)
{
    struct cur c = {payload, payload + len}, b;
    uint32_t field;
    unsigned wire;
    uint64_t v;
    while (c.p < c.end) {
        if (!next_field(&c, &field, &wire, &b, &v) || field != F_BATCH_REQUESTS ||
            wire != PB_LEN)
            return -EPROTO;
        int r = fn(ctx, b.p, (size_t)(b.end - b.p));
        if (r != 0)
            return r;
    }
    return 0;
}

/* Does the message m hold field `want` (any wire type)? */
static bool has_field(struct cur m, uint32_t want)
{
    uint32_t field;
    unsigned wire;
    uint64_t v;
    struct cur b;
    while (next_field(&m, &field, &wire, &b, &v))
        if (field == want)
            return true;
    return false;
}

enum lib_journal_class lib_journal_classify(const uint8_t *req, size_t len, uint64_t *ret_id)
{
    struct cur c = {req, req + len}, b = {NULL, NULL}, body = {NULL, NULL};
    uint32_t field, op = 0;
    unsigned wire;
    uint64_t v;
    bool has_id = false;
    *ret_id = 0;
    while (next_field(&c, &field, &wire, &b, &v)) {
        if (field == F_REQ_ID && wire == PB_VARINT) {
            has_id = true;
            *ret_id = v;
        } else if (wire == PB_LEN) {
            op = field;
            body = b;
        }
    }
    if ((op == F_REQ_FLUSH || op == F_REQ_CLOSE) && body.p && !has_field(body, F_FLUSH_LOGDIR))
        return LIB_JOURNAL_FLUSH_ALL;
    if (has_id)
        return LIB_JOURNAL_CALL;
    switch (op) {
    case F_REQ_LOG:
        if (body.p && has_field(body, F_LOG_STEP))
            return LIB_JOURNAL_LOG_AT;
        return LIB_JOURNAL_LOG_COUNTER;
    case F_REQ_STEP_SET:
        return LIB_JOURNAL_STEP_SET;
    case F_REQ_RESTART:
    case F_REQ_HP_CONFIG:
    case F_REQ_HP_START:
    case F_REQ_HP_END:
    default:
        return LIB_JOURNAL_REPLAYABLE;
    }
}

int lib_journal_resent(struct buf *out, const uint8_t *req, size_t len)
{
    struct cur c = {req, req + len}, b, log = {NULL, NULL};
    uint32_t field;
    unsigned wire;
    uint64_t v;
    while (next_field(&c, &field, &wire, &b, &v))
        if (field == F_REQ_LOG && wire == PB_LEN)
            log = b;
    if (!log.p || !has_field(log, F_LOG_STEP))
        return -EINVAL;
    buf_reset(out);
    if (has_field(log, F_LOG_RESENT))
        return buf_append(out, req, len);
    size_t n = (size_t)(log.end - log.p);
    uint8_t head[16], tail[2];
    size_t h = pb_put_tag(head, F_REQ_LOG, PB_LEN);
    h += pb_put_varint(head + h, n + sizeof tail);
    pb_put_tag(tail, F_LOG_RESENT, PB_VARINT);
    tail[1] = 1;
    int r = buf_append(out, head, h);
    if (r == 0)
        r = buf_append(out, log.p, n);
    if (r == 0)
        r = buf_append(out, tail, sizeof tail);
    return r;
}

/* ---- replay -------------------------------------------------------------------- */

struct replay_ctx {
    const struct lib_journal *j;
    uint64_t n;                /* number of the request at hand */
    bool frame_sent;
    int (*fn)(void *ctx, const uint8_t *req, size_t len, bool known_unread);
    void *ctx;
};

static int replay_one(void *arg, const uint8_t *req, size_t len)
{
    struct replay_ctx *rc = arg;
    uint64_t n = rc->n++;
    if (n <= rc->j->acked || was_refused(rc->j, n))
        return 0;
    bool unread = !rc->frame_sent || rc->j->goodbye;
    int r = rc->fn(rc->ctx, req, len, unread);
    return r < 0 ? r : 0;
}

int lib_journal_replay(struct lib_journal *j,
                       int (*fn)(void *ctx, const uint8_t *req, size_t len, bool known_unread),
                       void *ctx)
{
    struct replay_ctx rc = {.j = j, .fn = fn, .ctx = ctx};
    int r = 0;
    for (size_t i = 0; i < frame_count(j) && r >= 0; i++) {
        const struct lib_journal_frame *f = frame_at(j, i);
        rc.n = f->first;
        rc.frame_sent = f->sent;
        r = lib_journal_each_request(f->data.data + f->skip, f->data.len - f->skip, replay_one,
                                     &rc);
    }
    drop_frames(j, frame_count(j));
    buf_reset(&j->refused);
    j->acked = 0;
    j->goodbye = false;
    return r;
}
