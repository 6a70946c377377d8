/* The lean path of the binary protocol (frame_split.h): logs of plain
 * scalars and one-string texts read straight from the wire, everything
 * else left to frame_decode. */
#include "frame_split.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame_decode.h"
#include "pbwire.h"
#include "utf8.h"

/* The same ranges as the general decoder (request.h). */
#define FRAME_MAX_STEP ((uint64_t)REQUEST_MAX_STEP)
#define FRAME_MAX_WALL_TIME REQUEST_MAX_WALL_TIME

struct frame_req {
    const uint8_t *data;       /* the Request's bytes, in the payload */
    size_t len;
    Tfevents__Request *rq;     /* unpacked (general path), NULL when lean */
    /* A string holds a NUL (frame_find_nul()): refused, never unpacked. */
    const char *nul_field, *nul_msg;
};

struct frame_split {
    struct frame_req *reqs;
    size_t n;
    Tfevents__Batch *whole;    /* the old way, for frames out of the plain shape */
    /* The lean message and what it points into. Its values[] slots are
     * all initialised up to cap_values; their runs point into runs. */
    struct request msg;
    struct buf runs;
    bool *is_scalar;           /* msg.values[i].value is summary_scalar(tag, x, NULL) */
    char tag[SUMMARY_MAX_TAG + 1];
    /* The last logdir and run as sent and their normalised names. */
    struct buf logdir_raw;
    bool has_logdir;
    char logdir_norm[LOGDIR_MAX_NAME + 1];
    struct buf run_raw;
    bool has_run;
    char run_norm[LOGDIR_MAX_NAME + 1];
};

/* A wire cursor. Varints longer than 9 bytes are "not plain" (protobuf-c
 * has its own rules for the tenth byte), which the lean path leaves to it. */
struct cur {
    const uint8_t *p, *end;
};

static bool cur_varint(struct cur *c, uint64_t *ret)
{
    /* Keys, lengths and small numbers are one byte. */
    if (c->p < c->end && *c->p < 0x80) {
        *ret = *c->p++;
        return true;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 9 && c->p < c->end; i++) {
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *ret = v;
            return true;
        }
    }
    return false;
}

/* protobuf-c reads a key or a length prefix of at most 5 bytes: a longer
 * one, even a zero-padded one, is not plain (found by fuzz-frame, for
 * lengths first, then for keys). */
#define CUR_MAX_LEN_BYTES 5

/* A field's key: field number and wire type. */
static bool cur_key(struct cur *c, uint32_t *field, unsigned *wire)
{
    uint64_t k;
    const uint8_t *start = c->p;
    if (!cur_varint(c, &k) || c->p - start > CUR_MAX_LEN_BYTES || (k >> 3) == 0 ||
        (k >> 3) > UINT32_MAX)
        return false;
    *field = (uint32_t)(k >> 3);
    *wire = (unsigned)(k & 7);
    return true;
}

static bool cur_bytes(struct cur *c, struct cur *ret)
{
    uint64_t n;
    const uint8_t *start = c->p;
    if (!cur_varint(c, &n) || c->p - start > CUR_MAX_LEN_BYTES ||
        n > (uint64_t)(c->end - c->p))
        return false;
    ret->p = c->p;
    ret->end = c->p + n;
    c->p += n;
    return true;
}

static bool cur_fixed64(struct cur *c, double *ret)
{
    if (c->end - c->p < 8)
        return false;
    uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, c->p, 8);
#else
    v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
#endif
    memcpy(ret, &v, 8);
    c->p += 8;
    return true;
}

/* A string field's bytes, when they hold no NUL (protobuf-c would cut the
 * C string there; the general path then sees less than was sent). */
static bool plain_string(const struct cur *s)
{
    return memchr(s->p, 0, (size_t)(s->end - s->p)) == NULL;
}

/* The normalised name of a logdir or run as read_name() makes it, with a
 * one-entry cache (raw bytes -> name). false when the general path would
 * refuse it. */
static bool lean_name(const struct cur *s, struct buf *raw, bool *has, char *norm)
{
    size_t len = (size_t)(s->end - s->p);
    if (*has && raw->len == len && memcmp(raw->data, s->p, len) == 0)
        return true;
    *has = false;
    if (!plain_string(s) || !utf8_valid(s->p, len) ||
        logdir_normalize((const char *)s->p, len, norm, LOGDIR_MAX_NAME + 1, NULL) < 0)
        return false;
    buf_reset(raw);
    if (buf_append(raw, s->p, len) < 0)
        return false;
    *has = true;
    return true;
}

static int lean_reserve(struct frame_split *b, size_t n)
{
    struct request *m = &b->msg;
    if (n <= m->cap_values)
        return 0;
    size_t cap = m->cap_values ? m->cap_values * 2 : 8;
    while (cap < n)
        cap *= 2;
    bool *sc = realloc(b->is_scalar, cap * sizeof *sc);
    if (!sc)
        return -ENOMEM;
    b->is_scalar = sc;
    struct request_value *v = realloc(m->values, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    m->values = v;
    for (size_t i = m->cap_values; i < cap; i++) {
        v[i].run = NULL;
        summary_value_init(&v[i].value);
        sc[i] = false;
    }
    m->cap_values = cap;
    return 0;
}

/* The one string of a Text {strings: [s]} (no shape, the string once). */
static bool lean_text(struct cur t, struct cur *ret)
{
    bool has = false;
    while (t.p < t.end) {
        uint32_t f;
        unsigned w;
        if (!cur_key(&t, &f, &w) || f != 1 || w != PB_LEN || has || !cur_bytes(&t, ret))
            return false;
        has = true;
    }
    return has;
}

/* One Value {run, tag, scalar or text} into slot i. */
static bool lean_value(struct frame_split *b, struct cur v, size_t i)
{
    struct cur run = {NULL, NULL}, tag = {NULL, NULL}, text = {NULL, NULL};
    bool has_run = false, has_tag = false, has_scalar = false, has_text = false;
    double x = 0;
    while (v.p < v.end) {
        uint32_t f;
        unsigned w;
        if (!cur_key(&v, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !has_run) {
            if (!cur_bytes(&v, &run))
                return false;
            has_run = true;
        } else if (f == 2 && w == PB_LEN && !has_tag) {
            if (!cur_bytes(&v, &tag))
                return false;
            has_tag = true;
        } else if (f == 10 && w == PB_FIXED64 && !has_scalar && !has_text) {
            if (!cur_fixed64(&v, &x))
                return false;
            has_scalar = true;
        } else if (f == 11 && w == PB_LEN && !has_scalar && !has_text) {
            struct cur t;
            if (!cur_bytes(&v, &t) || !lean_text(t, &text) || !plain_string(&text))
                return false;
            has_text = true;
        } else {
            return false;
        }
    }
    size_t tl = has_tag ? (size_t)(tag.end - tag.p) : 0;
    if (!(has_scalar || has_text) || tl == 0 || tag.p[0] == '$' || tl > SUMMARY_MAX_TAG ||
        !plain_string(&tag))
        return false;
    const char *norm = ".";
    if (has_run) {
        if (!lean_name(&run, &b->run_raw, &b->has_run, b->run_norm))
            return false;
        norm = b->run_norm;
    }
    if (buf_append(&b->runs, norm, strlen(norm) + 1) < 0)
        return false;
    /* A slot already holding a scalar of this tag differs from what
     * summary_scalar() would build only in the float that ends its body. */
    struct summary_value *sv = &b->msg.values[i].value;
    if (has_text) {
        /* summary_text() checks the UTF-8 and the sizes: a refusal is
         * left to the general path, which words it. */
        memcpy(b->tag, tag.p, tl);
        b->tag[tl] = '\0';
        b->is_scalar[i] = false;
        return summary_text(sv, b->tag, (const char *)text.p, (size_t)(text.end - text.p),
                            NULL) == 0;
    }
    if (b->is_scalar[i] && sv->tag.len == tl && sv->body.len == 12 &&
        memcmp(sv->tag.data, tag.p, tl) == 0) {
        pb_put_float(sv->body.data + 8, (float)x);
        return true;
    }
    memcpy(b->tag, tag.p, tl);
    b->tag[tl] = '\0';
    b->is_scalar[i] = summary_scalar(sv, b->tag, x, NULL) == 0;
    return b->is_scalar[i];
}

static bool lean_log(struct frame_split *b, struct cur q)
{
    struct request *m = &b->msg;
    bool has_logdir = false, has_step = false, has_wt = false;
    uint64_t step = 0;
    double wt = 0;
    size_t n = 0;
    buf_reset(&b->runs);
    while (q.p < q.end) {
        uint32_t f;
        unsigned w;
        struct cur s;
        if (!cur_key(&q, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !has_logdir) {
            if (!cur_bytes(&q, &s) ||
                !lean_name(&s, &b->logdir_raw, &b->has_logdir, b->logdir_norm))
                return false;
            has_logdir = true;
        } else if (f == 2 && w == PB_VARINT && !has_step) {
            if (!cur_varint(&q, &step) || step > FRAME_MAX_STEP)
                return false;
            has_step = true;
        } else if (f == 4 && w == PB_FIXED64 && !has_wt) {
            if (!cur_fixed64(&q, &wt) || !(wt >= 0 && wt < FRAME_MAX_WALL_TIME))
                return false;
            has_wt = true;
        } else if (f == 5 && w == PB_LEN) {
            if (n >= REQUEST_MAX_VALUES || !cur_bytes(&q, &s) || lean_reserve(b, n + 1) < 0 ||
                !lean_value(b, s, n))
                return false;
            n++;
        } else {
            return false;
        }
    }
    if (!has_logdir || n == 0)
        return false;
    m->op = REQUEST_LOG;
    m->has_logdir = true;
    memcpy(m->logdir, b->logdir_norm, strlen(b->logdir_norm) + 1);
    m->has_run = false;
    strcpy(m->run, ".");
    m->step_mode = has_step ? LOGDIR_STEP_AT : LOGDIR_STEP_NEXT;
    m->step = has_step ? (int64_t)step : 0;
    m->has_wall_time = has_wt;
    m->wall_time = has_wt ? wt : 0;
    m->sync = false;
    m->n_values = n;
    char *run = (char *)b->runs.data;
    for (size_t i = 0; i < n; i++) {
        m->values[i].run = run;
        run += strlen(run) + 1;
    }
    return true;
}

int frame_split_lean(struct frame_split *b, const uint8_t *req, size_t len,
                     struct request **ret_msg)
{
    struct cur c = {req, req + len}, log = {NULL, NULL};
    bool has_id = false, has_log = false;
    uint64_t id = 0;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        if (!cur_key(&c, &f, &w))
            return 1;
        if (f == 1 && w == PB_VARINT && !has_id) {
            if (!cur_varint(&c, &id))
                return 1;
            has_id = true;
        } else if (f == 2 && w == PB_LEN && !has_log) {
            if (!cur_bytes(&c, &log))
                return 1;
            has_log = true;
        } else {
            return 1;
        }
    }
    struct request *m = &b->msg;
    if (!has_log || !lean_log(b, log)) {
        m->n_values = 0;
        return 1;
    }
    m->has_id = m->id_is_u64 = false;
    m->id[0] = '\0';
    if (has_id)
        request_set_id_u64(m, id);
    *ret_msg = m;
    return 0;
}

static void split_free_reqs(struct frame_split *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->reqs[i].rq)
            tfevents__request__free_unpacked(b->reqs[i].rq, NULL);
    free(b->reqs);
    b->reqs = NULL;
    b->n = 0;
}

void frame_split_free(struct frame_split *b)
{
    if (!b)
        return;
    if (b->whole)
        tfevents__batch__free_unpacked(b->whole, NULL);
    else
        split_free_reqs(b);
    /* The lean message's runs are not its own: only the value slots. */
    for (size_t i = 0; i < b->msg.cap_values; i++)
        summary_value_done(&b->msg.values[i].value);
    free(b->msg.values);
    free(b->is_scalar);
    buf_free(&b->runs);
    buf_free(&b->logdir_raw);
    buf_free(&b->run_raw);
    free(b);
}

/* Is req[0..len) a Request of the lean shape: an id at most once, one Log
 * {logdir once, step at most once, wall_time at most once, values} whose
 * Values hold run and tag at most once and a scalar or a one-string Text
 * (its string once, no shape), every field with its
 * schema's wire type? Such bytes always unpack with protobuf-c (nothing
 * required is missing, no wire type is wrong), which is all the walk
 * needs to know; whether the lean decoder takes the request (valid names,
 * ranges) is settled when its turn comes. */
static bool lean_shape(const uint8_t *req, size_t len)
{
    struct cur c = {req, req + len}, log = {NULL, NULL};
    bool has_id = false;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        uint64_t u;
        if (!cur_key(&c, &f, &w))
            return false;
        if (f == 1 && w == PB_VARINT && !has_id) {
            if (!cur_varint(&c, &u))
                return false;
            has_id = true;
        } else if (f == 2 && w == PB_LEN && !log.p) {
            if (!cur_bytes(&c, &log))
                return false;
        } else {
            return false;
        }
    }
    if (!log.p)
        return false;
    unsigned seen = 0;   /* bits: 1 logdir, 2 step, 4 wall_time */
    while (log.p < log.end) {
        uint32_t f;
        unsigned w;
        uint64_t u;
        double d;
        struct cur v;
        if (!cur_key(&log, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !(seen & 1)) {
            if (!cur_bytes(&log, &v))
                return false;
            seen |= 1;
        } else if (f == 2 && w == PB_VARINT && !(seen & 2)) {
            if (!cur_varint(&log, &u))
                return false;
            seen |= 2;
        } else if (f == 4 && w == PB_FIXED64 && !(seen & 4)) {
            if (!cur_fixed64(&log, &d))
                return false;
            seen |= 4;
        } else if (f == 5 && w == PB_LEN) {
            if (!cur_bytes(&log, &v))
                return false;
            unsigned vs = 0;   /* 1 run, 2 tag, 4 scalar or text */
            while (v.p < v.end) {
                struct cur x, s;
                if (!cur_key(&v, &f, &w))
                    return false;
                if (f == 1 && w == PB_LEN && !(vs & 1) && cur_bytes(&v, &x))
                    vs |= 1;
                else if (f == 2 && w == PB_LEN && !(vs & 2) && cur_bytes(&v, &x))
                    vs |= 2;
                else if (f == 10 && w == PB_FIXED64 && !(vs & 4) && cur_fixed64(&v, &d))
                    vs |= 4;
                else if (f == 11 && w == PB_LEN && !(vs & 4) && cur_bytes(&v, &x) &&
                         lean_text(x, &s))
                    vs |= 4;
                else
                    return false;
            }
        } else {
            return false;
        }
    }
    return (seen & 1) != 0;
}

/* Walk the Batch's fields: every one must be a request (field 1,
 * length-delimited) of the lean shape or one that protobuf-c unpacks.
 * 0, or 1 when the frame is not of that plain shape (an unknown Batch
 * field, a bad wire type, a request that does not unpack, too many
 * requests): frame_decode_batch() then judges it, as before. */
static int split_walk(struct frame_split *b, const uint8_t *payload, size_t len)
{
    struct cur c = {payload, payload + len};
    size_t cap = 0;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        struct cur rq;
        if (!cur_key(&c, &f, &w) || f != 1 || w != PB_LEN || !cur_bytes(&c, &rq) ||
            b->n >= FRAME_MAX_REQUESTS)
            return 1;
        if (b->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct frame_req *v = realloc(b->reqs, nc * sizeof *v);
            if (!v)
                return 1;
            b->reqs = v;
            cap = nc;
        }
        struct frame_req *r = &b->reqs[b->n];
        r->data = rq.p;
        r->len = (size_t)(rq.end - rq.p);
        r->rq = NULL;
        r->nul_field = r->nul_msg = NULL;
        if (!lean_shape(r->data, r->len)) {
            /* The lean decoder refuses NUL itself; the general path is
             * told by the raw bytes. */
            if (frame_find_nul(&tfevents__request__descriptor, r->data, r->len, &r->nul_field,
                               &r->nul_msg) != 1 &&
                !(r->rq = tfevents__request__unpack(NULL, r->len, r->data)))
                return 1;
        }
        b->n++;
    }
    return 0;
}

int frame_split_open(const uint8_t *payload, size_t len, struct frame_split **ret, char *err,
                     size_t err_size)
{
    *ret = NULL;
    err[0] = '\0';
    struct frame_split *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    request_init(&b->msg);
    buf_init(&b->runs, BUF_NO_CAP);
    buf_init(&b->logdir_raw, LOGDIR_MAX_NAME * 4);
    buf_init(&b->run_raw, LOGDIR_MAX_NAME * 4);
    if (split_walk(b, payload, len) != 0) {
        split_free_reqs(b);
        /* Not split plainly (a rare encoding): a NUL anywhere refuses the
         * whole frame, which is all the raw bytes can tell here. */
        const char *field, *msg;
        if (frame_find_nul(&tfevents__batch__descriptor, payload, len, &field, &msg) == 1) {
            frame_split_free(b);
            return frame_fail_nul(field, msg, err, err_size);
        }
        int r = frame_decode_batch(payload, len, &b->whole, err, err_size);
        if (r < 0) {
            frame_split_free(b);
            return r;
        }
        b->n = b->whole->n_requests;
    }
    *ret = b;
    return 0;
}

size_t frame_split_count(const struct frame_split *b)
{
    return b->n;
}

int frame_split_decode(struct frame_split *b, size_t i, struct request *m,
                       struct request **ret_msg, char *err, size_t err_size)
{
    *ret_msg = m;
    if (b->whole)
        return frame_decode_request(b->whole->requests[i], m, err, err_size);
    struct frame_req *r = &b->reqs[i];
    if (r->nul_field) {
        request_done(m);
        return frame_fail_nul(r->nul_field, r->nul_msg, err, err_size);
    }
    if (!r->rq) {
        if (frame_split_lean(b, r->data, r->len, ret_msg) == 0) {
            err[0] = '\0';
            return 0;
        }
        /* Of the lean shape, so it unpacks; the general decoder says
         * what is wrong with it. */
        *ret_msg = m;
        const char *field, *msg;
        if (frame_find_nul(&tfevents__request__descriptor, r->data, r->len, &field, &msg) == 1) {
            request_done(m);
            return frame_fail_nul(field, msg, err, err_size);
        }
        r->rq = tfevents__request__unpack(NULL, r->len, r->data);
        if (!r->rq) {
            request_done(m);
            snprintf(err, err_size, "out of memory");
            return -ENOMEM;
        }
    }
    return frame_decode_request(r->rq, m, err, err_size);
}
