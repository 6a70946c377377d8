#include "linesplit_sim.h"

#include <errno.h>
#include <stdbool.h>

#include "frame.h"
#include "linesplit.h"

struct sim {
    struct buf in;
    struct linesplit split;
    enum { UNDECIDED, JSON, BINARY, DEAD } proto;
    size_t max;
    struct buf *out;
    int err;
};

static void put(struct sim *s, char tag, const uint8_t *p, size_t n, bool with_bytes)
{
    uint8_t h[5] = {(uint8_t)tag, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                    (uint8_t)(n >> 24)};
    if (s->err == 0)
        s->err = buf_append(s->out, h, with_bytes ? 5 : 1);
    if (s->err == 0 && with_bytes && n > 0)
        s->err = buf_append(s->out, p, n);
}

static void line(struct sim *s, const uint8_t *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    put(s, 'L', p, n, true);
}

static void frames(struct sim *s)
{
    size_t pos = 0, off, n;
    for (;;) {
        enum linesplit_frame r = linesplit_frame_next(s->in.data, s->in.len, s->max, &pos,
                                                      &off, &n);
        if (r == LINESPLIT_FRAME_MORE)
            break;
        if (r != LINESPLIT_FRAME) {
            put(s, r == LINESPLIT_FRAME_TOO_LONG ? 'S' : 'K', NULL, 0, false);
            s->proto = DEAD;
            buf_reset(&s->in);
            return;
        }
        put(s, 'F', s->in.data + off, n, true);
    }
    buf_consume(&s->in, pos);
}

static void lines(struct sim *s)
{
    size_t pos = 0, off, n;
    enum linesplit_what w;
    while ((w = linesplit_next(&s->split, s->in.data, s->in.len, s->max, &pos, &off, &n)) !=
           LINESPLIT_MORE) {
        if (w == LINESPLIT_LINE)
            line(s, s->in.data + off, n);
        else if (w == LINESPLIT_TOO_LONG)
            put(s, 'T', NULL, 0, false);
    }
    buf_consume(&s->in, pos);
    linesplit_consumed(&s->split, pos);
    w = linesplit_rest(&s->split, s->in.len, s->max);
    if (w == LINESPLIT_TOO_LONG)
        put(s, 'T', NULL, 0, false);
    if (w != LINESPLIT_MORE)
        buf_reset(&s->in);
}

static void process(struct sim *s)
{
    if (s->proto == UNDECIDED) {
        int r = frame_magic_check(s->in.data, s->in.len);
        if (r == 0)
            return;
        if (r > 0) {
            s->proto = BINARY;
            buf_consume(&s->in, FRAME_MAGIC_LEN);
            put(s, 'B', NULL, 0, false);
        } else {
            s->proto = JSON;
        }
    }
    if (s->proto == BINARY)
        frames(s);
    else if (s->proto == JSON)
        lines(s);
}

int linesplit_sim(const uint8_t *in, size_t len, const size_t *chunks, size_t n_chunks,
                  size_t max, struct buf *out)
{
    struct sim s = {.proto = UNDECIDED, .max = max, .out = out};
    buf_init(&s.in, BUF_NO_CAP);
    linesplit_init(&s.split);
    for (size_t at = 0, i = 0; at < len && s.err == 0; i++) {
        size_t n = n_chunks ? chunks[i % n_chunks] : len;
        if (n == 0)
            n = 1;
        if (n > len - at)
            n = len - at;
        if (s.proto != DEAD)
            s.err = buf_append(&s.in, in + at, n);
        at += n;
        process(&s);
    }
    /* The end of input, as conn.c's on_eof(). */
    if (s.proto == BINARY && s.in.len > 0)
        put(&s, 'P', NULL, 0, false);
    else if (s.proto != BINARY && s.proto != DEAD &&
             linesplit_eof(&s.split, s.in.len) == LINESPLIT_LINE)
        line(&s, s.in.data, s.in.len);
    buf_free(&s.in);
    return s.err;
}
