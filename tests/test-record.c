#include <errno.h>
#include <stdint.h>

#include "buf.h"
#include "crc32c.h"
#include "record.h"
#include "test.h"

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The framing written out by hand, independent of record_frame(). */
static size_t frame_by_hand(uint8_t *out, const void *payload, size_t len)
{
    put_le64(out, len);
    put_le32(out + 8, crc32c_mask(crc32c(out, 8)));
    memcpy(out + 12, payload, len);
    put_le32(out + 12 + len, crc32c_mask(crc32c(out + 12, len)));
    return len + 16;
}

static void frame_layout(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    uint8_t want[64];
    size_t wlen = frame_by_hand(want, "hello", 5);
    REQUIRE(record_frame(&b, "hello", 5) == 0);
    CHECK_EQ(b.len, wlen);
    CHECK(memcmp(b.data, want, wlen) == 0);

    /* An empty payload is a valid 16-byte record. */
    buf_reset(&b);
    REQUIRE(record_frame(&b, NULL, 0) == 0);
    CHECK_EQ(b.len, 16);
    const uint8_t *payload;
    size_t plen, size;
    enum record_fault fault;
    CHECK_EQ(record_parse(b.data, b.len, &payload, &plen, &size, &fault), 1);
    CHECK_EQ(plen, 0);
    CHECK_EQ(size, 16);
    buf_free(&b);
}

/* The minimal golden file's first record, copied from golden/README.md as
 * bytes: framing must be exactly TensorFlow's. */
static void known_record(void)
{
    static const uint8_t payload[] = {
        0x09, 0x00, 0x00, 0x00, 0x40, 0xfc, 0x54, 0xd9, 0x41, 0x1a, 0x0d, 0x62,
        0x72, 0x61, 0x69, 0x6e, 0x2e, 0x45, 0x76, 0x65, 0x6e, 0x74, 0x3a, 0x32};
    static const uint8_t head[] = {0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22};
    static const uint8_t foot[] = {0xec, 0xed, 0x8f, 0x9d};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    REQUIRE(record_frame(&b, payload, sizeof payload) == 0);
    REQUIRE(b.len == sizeof payload + 16);
    CHECK(memcmp(b.data, head, 12) == 0);
    CHECK(memcmp(b.data + 12, payload, sizeof payload) == 0);
    CHECK(memcmp(b.data + 12 + sizeof payload, foot, 4) == 0);
    buf_free(&b);
}

static void round_trips(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    uint8_t payload[3000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    static const size_t lens[] = {0, 1, 2, 7, 8, 100, 255, 256, 1000, 3000};
    size_t n = sizeof lens / sizeof lens[0];
    for (size_t i = 0; i < n; i++)
        REQUIRE(record_frame(&b, payload, lens[i]) == 0);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p;
        size_t plen, size;
        enum record_fault fault = RECORD_FAULT_LENGTH;
        CHECK_EQ(record_parse(b.data + off, b.len - off, &p, &plen, &size, &fault), 1);
        CHECK_EQ(fault, RECORD_FAULT_NONE);
        CHECK_EQ(plen, lens[i]);
        CHECK_EQ(size, lens[i] + 16);
        CHECK(p == b.data + off + 12);
        CHECK(memcmp(p, payload, plen) == 0);
        off += size;
    }
    CHECK_EQ(off, b.len);
    const uint8_t *p;
    size_t plen, size;
    enum record_fault fault = RECORD_FAULT_LENGTH;
    CHECK_EQ(record_parse(b.data + off, 0, &p, &plen, &size, &fault), 0);
    CHECK_EQ(fault, RECORD_FAULT_NONE);
    buf_free(&b);
}

static void cut_everywhere(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    REQUIRE(record_frame(&b, "a payload of some length", 24) == 0);
    for (size_t cut = 0; cut < b.len; cut++) {
        const uint8_t *p;
        size_t plen, size;
        enum record_fault fault = RECORD_FAULT_NONE;
        int r = record_parse(b.data, cut, &p, &plen, &size, &fault);
        CHECK_EQ(r, 0);
        CHECK_EQ(fault, cut == 0 ? RECORD_FAULT_NONE : RECORD_FAULT_TRUNCATED);
    }
    /* NULL ret_fault is allowed. */
    const uint8_t *p;
    size_t plen, size;
    CHECK_EQ(record_parse(b.data, 5, &p, &plen, &size, NULL), 0);
    buf_free(&b);
}

static void flipped_bits(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    REQUIRE(record_frame(&b, "0123456789abcdef", 16) == 0);
    size_t len = b.len;
    uint8_t *copy = malloc(len);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(copy, b.data, len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t byte = bit / 8;
        const uint8_t *p;
        size_t plen, size;
        enum record_fault fault = RECORD_FAULT_NONE;
        int r = record_parse(copy, len, &p, &plen, &size, &fault);
        CHECK_EQ(r, -EBADMSG);
        if (byte < 12)
            CHECK_EQ(fault, RECORD_FAULT_LENGTH_CRC);
        else
            CHECK_EQ(fault, RECORD_FAULT_DATA_CRC);
    }
    free(copy);
    buf_free(&b);
}

/* A CRC-valid length beyond the limit is corruption, reported from the
 * header alone (no need to wait for 2^63 bytes). */
static void impossible_length(void)
{
    uint8_t hdr[12];
    static const uint64_t lens[] = {RECORD_MAX_PAYLOAD + 1, (uint64_t)1 << 40, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        put_le64(hdr, lens[i]);
        put_le32(hdr + 8, crc32c_mask(crc32c(hdr, 8)));
        const uint8_t *p;
        size_t plen, size;
        enum record_fault fault = RECORD_FAULT_NONE;
        CHECK_EQ(record_parse(hdr, sizeof hdr, &p, &plen, &size, &fault), -EBADMSG);
        CHECK_EQ(fault, RECORD_FAULT_LENGTH);
    }
    /* The largest allowed length in a header is only "wait for more". */
    put_le64(hdr, RECORD_MAX_PAYLOAD);
    put_le32(hdr + 8, crc32c_mask(crc32c(hdr, 8)));
    const uint8_t *p;
    size_t plen, size;
    enum record_fault fault = RECORD_FAULT_NONE;
    CHECK_EQ(record_parse(hdr, sizeof hdr, &p, &plen, &size, &fault), 0);
    CHECK_EQ(fault, RECORD_FAULT_TRUNCATED);

    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK_EQ(record_frame(&b, "", (size_t)RECORD_MAX_PAYLOAD + 1), -EMSGSIZE);
    CHECK_EQ(b.len, 0);
    buf_free(&b);
}

static void capped_buffer(void)
{
    struct buf b;
    buf_init(&b, 40);
    CHECK_EQ(record_frame(&b, "0123456789", 10), 0);
    CHECK_EQ(b.len, 26);
    CHECK_EQ(record_frame(&b, "0123456789", 10), -EMSGSIZE);
    CHECK_EQ(b.len, 26);
    buf_free(&b);
}

static void fault_names(void)
{
    enum record_fault all[] = {RECORD_FAULT_NONE, RECORD_FAULT_TRUNCATED,
                               RECORD_FAULT_LENGTH_CRC, RECORD_FAULT_LENGTH,
                               RECORD_FAULT_DATA_CRC, RECORD_FAULT_NOT_EVENT};
    for (size_t i = 0; i < 6; i++) {
        const char *s = record_fault_str(all[i]);
        CHECK(s && *s);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, record_fault_str(all[j])) != 0);
    }
    CHECK_STR(record_fault_str(RECORD_FAULT_DATA_CRC), "data CRC mismatch");
}

TEST_MAIN(TEST(frame_layout), TEST(known_record), TEST(round_trips),
          TEST(cut_everywhere), TEST(flipped_bits), TEST(impossible_length),
          TEST(capped_buffer), TEST(fault_names))
