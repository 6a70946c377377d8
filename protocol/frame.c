/* The binary protocol's envelope (frame.h). */
#include "frame.h"

#include <errno.h>
#include <string.h>

int frame_magic_check(const void *data, size_t len)
{
    size_t n = len < FRAME_MAGIC_LEN ? len : FRAME_MAGIC_LEN;
    if (memcmp(data, FRAME_MAGIC, n) != 0)
        return -EPROTO;
    return n == FRAME_MAGIC_LEN ? 1 : 0;
}

int frame_header_read(const uint8_t *p, size_t avail, size_t max_payload, uint32_t *ret_len,
                      uint8_t *ret_kind)
{
    if (avail < FRAME_HEADER_LEN)
        return -EAGAIN;
    uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24;
    uint8_t kind = p[4];
    if (kind != FRAME_BATCH && kind != FRAME_REPLY && kind != FRAME_HELLO)
        return -EPROTO;
    if (len > max_payload)
        return -EMSGSIZE;
    *ret_len = len;
    *ret_kind = kind;
    return 0;
}

void frame_header_write(uint8_t *out, uint32_t len, uint8_t kind)
{
    out[0] = (uint8_t)len;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 24);
    out[4] = kind;
}
