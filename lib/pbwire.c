#include "pbwire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

int pb_add_varint(struct buf *b, uint32_t field, uint64_t v)
{
    int r = buf_reserve(b, 20);
    if (r < 0)
        return r;
    uint8_t *p = b->data + b->len;
    size_t n = pb_put_tag(p, field, PB_VARINT);
    n += pb_put_varint(p + n, v);
    b->len += n;
    return 0;
}

int pb_add_double(struct buf *b, uint32_t field, double d)
{
    int r = buf_reserve(b, 18);
    if (r < 0)
        return r;
    uint8_t *p = b->data + b->len;
    size_t n = pb_put_tag(p, field, PB_FIXED64);
    n += pb_put_double(p + n, d);
    b->len += n;
    return 0;
}

int pb_add_float(struct buf *b, uint32_t field, float f)
{
    int r = buf_reserve(b, 14);
    if (r < 0)
        return r;
    uint8_t *p = b->data + b->len;
    size_t n = pb_put_tag(p, field, PB_FIXED32);
    n += pb_put_float(p + n, f);
    b->len += n;
    return 0;
}

int pb_add_len_header(struct buf *b, uint32_t field, size_t len)
{
    int r = buf_reserve(b, 20);
    if (r < 0)
        return r;
    uint8_t *p = b->data + b->len;
    size_t n = pb_put_tag(p, field, PB_LEN);
    n += pb_put_varint(p + n, len);
    b->len += n;
    return 0;
}

int pb_add_bytes(struct buf *b, uint32_t field, const void *data, size_t len)
{
    int r = buf_reserve(b, 20 + len);
    if (r < 0)
        return r;
    r = pb_add_len_header(b, field, len);
    if (r < 0)
        return r;
    return buf_append(b, data, len);
}

int pb_add_string(struct buf *b, uint32_t field, const char *s)
{
    return pb_add_bytes(b, field, s, strlen(s));
}

/* protobuf-c's allocator interface, over malloc/free (so that the message
 * can be freed with the default allocator), noting whether any allocation
 * failed. */
static void *unpack_alloc(void *opaque, size_t size)
{
    void *p = malloc(size);
    if (!p)
        *(bool *)opaque = true;
    return p;
}

static void unpack_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

int pb_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
              ProtobufCMessage **ret)
{
    static const uint8_t empty[1];
    bool failed = false;
    ProtobufCAllocator a = {
        .alloc = unpack_alloc,
        .free = unpack_free,
        .allocator_data = &failed,
    };
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, data ? data : empty);
    if (!m)
        return failed ? -ENOMEM : -EBADMSG;
    *ret = m;
    return 0;
}
