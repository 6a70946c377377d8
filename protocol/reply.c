#include "reply.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "tfwire.pb-c.h"
#include "utf8.h"

void reply_id_of(struct reply_id *out, const struct request *m)
{
    out->has = m && m->has_id;
    out->is_u64 = out->has && m->id_is_u64;
    out->u64 = out->is_u64 ? m->id_u64 : 0;
    if (out->has)
        memcpy(out->text, m->id, strlen(m->id) + 1);
    else
        out->text[0] = '\0';
}

void reply_init(struct reply *rp, const struct request *m)
{
    rp->ok = true;
    reply_id_of(&rp->id, m);
    rp->answer = rp->id.has;
    rp->code = 0;
    rp->count = REPLY_COUNT_NONE;
    rp->line = 0;
    rp->has_step = rp->has_next = false;
    rp->step = rp->next = 0;
    rp->pong = false;
    rp->stats = NULL;
    rp->stats_len = 0;
    rp->error[0] = '\0';
}

__attribute__((format(printf, 4, 0)))
static int vfail(struct reply *rp, int code, enum reply_count count, const char *fmt,
                 va_list ap)
{
    rp->ok = false;
    rp->answer = true;
    rp->code = code;
    rp->count = count;
    rp->has_step = rp->has_next = rp->pong = false;
    rp->stats = NULL;
    vsnprintf(rp->error, sizeof rp->error, fmt, ap);
    return code;
}

int reply_fail(struct reply *rp, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(rp, code, REPLY_COUNT_NONE, fmt, ap);
    va_end(ap);
    return code;
}

int reply_fail_count(struct reply *rp, int code, enum reply_count count, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(rp, code, count, fmt, ap);
    va_end(ap);
    return code;
}

int reply_json_string(struct buf *out, const char *s)
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

/* The field order is the one documented in docs/protocol.md. */
int reply_write_json(struct buf *out, const struct reply *rp)
{
    int r = buf_append_str(out, "{");
    if (r == 0 && rp->id.has)
        r = buf_printf(out, "\"id\":%s,", rp->id.text);
    if (r == 0)
        r = buf_append_str(out, rp->ok ? "\"ok\":true" : "\"ok\":false");
    if (!rp->ok) {
        if (r == 0)
            r = buf_printf(out, ",\"line\":%" PRIu64 ",\"error\":", rp->line);
        if (r == 0)
            r = reply_json_string(out, rp->error);
        return r == 0 ? buf_append_str(out, "}") : r;
    }
    if (r == 0 && rp->has_step)
        r = buf_printf(out, ",\"step\":%" PRId64, rp->step);
    if (r == 0 && rp->has_next)
        r = buf_printf(out, ",\"next\":%" PRId64, rp->next);
    if (r == 0 && rp->pong)
        r = buf_printf(out, ",\"pong\":true,\"protocol\":%d", PROTOCOL_VERSION);
    if (r == 0 && rp->stats) {
        r = buf_append_str(out, ",\"stats\":");
        if (r == 0)
            r = buf_append(out, rp->stats, rp->stats_len);
    }
    return r == 0 ? buf_append_str(out, "}") : r;
}

/* Pack msg behind a frame header of kind into out. */
static int append_frame(struct buf *out, const ProtobufCMessage *msg, uint8_t kind)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > UINT32_MAX)
        return -EMSGSIZE;
    int r = buf_reserve(out, FRAME_HEADER_LEN + len);
    if (r < 0)
        return r;
    frame_header_write(out->data + out->len, (uint32_t)len, kind);
    protobuf_c_message_pack(msg, out->data + out->len + FRAME_HEADER_LEN);
    out->len += FRAME_HEADER_LEN + len;
    return 0;
}

int reply_write_hello(struct buf *out, uint64_t max_frame, const char *root)
{
    Tfevents__Hello h = TFEVENTS__HELLO__INIT;
    h.protocol = PROTOCOL_VERSION;
    h.max_frame = max_frame;
    h.root = (char *)root;
    return append_frame(out, &h.base, FRAME_HELLO);
}

int reply_write_goodbye(struct buf *out, uint64_t requests)
{
    Tfevents__Reply f = TFEVENTS__REPLY__INIT;
    f.ok = true;
    f.has_request = true;
    f.request = requests;
    f.has_closing = f.closing = true;
    return append_frame(out, &f.base, FRAME_REPLY);
}

int reply_write_frame(struct buf *out, const struct reply *rp, bool closing)
{
    Tfevents__Reply f = TFEVENTS__REPLY__INIT;
    f.has_id = rp->id.is_u64;
    f.id = rp->id.u64;
    f.ok = rp->ok;
    if (!rp->ok) {
        f.has_request = true;
        f.request = rp->line;
        f.error = (char *)rp->error;
    }
    f.has_step = rp->ok && rp->has_step;
    f.step = rp->step;
    f.has_next = rp->ok && rp->has_next;
    f.next = rp->next;
    if (rp->ok && rp->pong) {
        f.has_pong = f.pong = true;
        f.has_protocol = true;
        f.protocol = PROTOCOL_VERSION;
    }
    struct buf sj;
    buf_init(&sj, BUF_NO_CAP);
    if (rp->ok && rp->stats) {
        /* protobuf-c wants a NUL-terminated string. */
        if (buf_append(&sj, rp->stats, rp->stats_len) < 0 || buf_append(&sj, "", 1) < 0) {
            buf_free(&sj);
            return -ENOMEM;
        }
        f.stats_json = (char *)sj.data;
    }
    if (closing)
        f.has_closing = f.closing = true;
    int r = append_frame(out, &f.base, FRAME_REPLY);
    buf_free(&sj);
    return r;
}
