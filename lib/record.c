#include "record.h"

#include <errno.h>
#include <string.h>

#include "crc32c.h"

static inline void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

const char *record_fault_str(enum record_fault f)
{
    switch (f) {
    case RECORD_FAULT_NONE:
        return "no fault";
    case RECORD_FAULT_TRUNCATED:
        return "truncated record";
    case RECORD_FAULT_LENGTH_CRC:
        return "length CRC mismatch";
    case RECORD_FAULT_LENGTH:
        return "impossible record length";
    case RECORD_FAULT_DATA_CRC:
        return "data CRC mismatch";
    case RECORD_FAULT_NOT_EVENT:
        return "payload is not an Event";
    }
    return "unknown fault";
}

int record_frame(struct buf *out, const void *payload, size_t len)
{
    if ((uint64_t)len > RECORD_MAX_PAYLOAD)
        return -EMSGSIZE;
    int r = buf_reserve(out, len + RECORD_OVERHEAD);
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    put_le64(p, len);
    put_le32(p + 8, crc32c_mask(crc32c(p, 8)));
    if (len > 0)
        memcpy(p + RECORD_HEADER_SIZE, payload, len);
    put_le32(p + RECORD_HEADER_SIZE + len,
             crc32c_mask(crc32c(p + RECORD_HEADER_SIZE, len)));
    out->len += len + RECORD_OVERHEAD;
    return 0;
}

int record_parse(const uint8_t *data, size_t len,
                 const uint8_t **ret_payload, size_t *ret_payload_len,
                 size_t *ret_size, enum record_fault *ret_fault)
{
    enum record_fault fault = RECORD_FAULT_NONE;
    int r = 0;

    if (len < RECORD_HEADER_SIZE) {
        fault = len > 0 ? RECORD_FAULT_TRUNCATED : RECORD_FAULT_NONE;
        goto out;
    }
    /* The length is trusted only once its own CRC matches, and even then
     * never beyond the limit, so a flipped bit cannot make us wait for (or
     * allocate) gigabytes. */
    if (crc32c_mask(crc32c(data, 8)) != get_le32(data + 8)) {
        fault = RECORD_FAULT_LENGTH_CRC;
        r = -EBADMSG;
        goto out;
    }
    uint64_t plen = get_le64(data);
    if (plen > RECORD_MAX_PAYLOAD) {
        fault = RECORD_FAULT_LENGTH;
        r = -EBADMSG;
        goto out;
    }
    size_t size = (size_t)plen + RECORD_OVERHEAD;
    if (len < size) {
        fault = RECORD_FAULT_TRUNCATED;
        goto out;
    }
    const uint8_t *payload = data + RECORD_HEADER_SIZE;
    if (crc32c_mask(crc32c(payload, (size_t)plen)) != get_le32(payload + plen)) {
        fault = RECORD_FAULT_DATA_CRC;
        r = -EBADMSG;
        goto out;
    }
    *ret_payload = payload;
    *ret_payload_len = (size_t)plen;
    *ret_size = size;
    r = 1;
out:
    if (ret_fault)
        *ret_fault = fault;
    return r;
}
