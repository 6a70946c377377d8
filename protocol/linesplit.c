#include "linesplit.h"

#include <errno.h>
#include <string.h>

#include "frame.h"

void linesplit_init(struct linesplit *ls)
{
    ls->scanned = 0;
    ls->skipping = false;
}

enum linesplit_what linesplit_next(struct linesplit *ls, const uint8_t *data, size_t len,
                                   size_t max_line, size_t *pos, size_t *ret_off,
                                   size_t *ret_len)
{
    size_t start = *pos;
    size_t from = start > ls->scanned ? start : ls->scanned;
    const uint8_t *nl = from < len ? memchr(data + from, '\n', len - from) : NULL;
    if (!nl) {
        ls->scanned = len;
        return LINESPLIT_MORE;
    }
    size_t end = (size_t)(nl - data);
    *pos = end + 1;
    ls->scanned = end + 1;
    if (ls->skipping) {
        ls->skipping = false;
        return LINESPLIT_SKIPPED;
    }
    if (end - start > max_line)
        return LINESPLIT_TOO_LONG;
    *ret_off = start;
    *ret_len = end - start;
    return LINESPLIT_LINE;
}

void linesplit_consumed(struct linesplit *ls, size_t n)
{
    ls->scanned = ls->scanned > n ? ls->scanned - n : 0;
}

enum linesplit_what linesplit_rest(struct linesplit *ls, size_t len, size_t max_line)
{
    if (ls->skipping) {
        ls->scanned = 0;
        return LINESPLIT_SKIPPED;
    }
    if (len > max_line) {
        /* No newline within the limit: refused now, not when it ends. */
        ls->skipping = true;
        ls->scanned = 0;
        return LINESPLIT_TOO_LONG;
    }
    return LINESPLIT_MORE;
}

void linesplit_refuse_rest(struct linesplit *ls)
{
    ls->skipping = true;
    ls->scanned = 0;
}

void linesplit_reset(struct linesplit *ls)
{
    linesplit_init(ls);
}

enum linesplit_what linesplit_eof(struct linesplit *ls, size_t len)
{
    bool line = len > 0 && !ls->skipping;
    linesplit_init(ls);
    return line ? LINESPLIT_LINE : LINESPLIT_MORE;
}

enum linesplit_frame linesplit_frame_next(const uint8_t *data, size_t len, size_t max_payload,
                                          size_t *pos, size_t *ret_off, size_t *ret_len)
{
    uint32_t n;
    uint8_t kind;
    int r = frame_header_read(data + *pos, len - *pos, max_payload, &n, &kind);
    if (r == -EAGAIN)
        return LINESPLIT_FRAME_MORE;
    if (r == -EMSGSIZE)
        return LINESPLIT_FRAME_TOO_LONG;
    if (r < 0 || kind != FRAME_BATCH)
        return LINESPLIT_FRAME_BAD_KIND;
    if (len - *pos - FRAME_HEADER_LEN < n)
        return LINESPLIT_FRAME_MORE;
    *ret_off = *pos + FRAME_HEADER_LEN;
    *ret_len = n;
    *pos += FRAME_HEADER_LEN + n;
    return LINESPLIT_FRAME;
}
