/* Unit tests for buf (capped growable buffer) and pbwire (hand encoding). */
#include <errno.h>
#include <stdint.h>

#include "buf.h"
#include "pbwire.h"
#include "test.h"

static void append_and_grow(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(buf_append(&b, "abc", 3), 0);
    CHECK_EQ(b.len, 3000);
    CHECK(b.cap >= 3000);
    CHECK(memcmp(b.data + 2997, "abc", 3) == 0);
    buf_free(&b);
    CHECK(b.data == NULL);
    CHECK_EQ(b.len, 0);
    buf_free(NULL); /* NULL-safe */
}

static void cap_is_enforced(void)
{
    struct buf b;
    buf_init(&b, 10);
    CHECK_EQ(buf_append(&b, "0123456789", 10), 0);
    /* Past the cap: refused, and nothing is appended. */
    CHECK_EQ(buf_append(&b, "x", 1), -EMSGSIZE);
    CHECK_EQ(b.len, 10);
    CHECK(b.cap <= 10);
    buf_reset(&b);
    CHECK_EQ(buf_append(&b, "0123456789x", 11), -EMSGSIZE);
    CHECK_EQ(b.len, 0);
    /* Overflowing request sizes are refused, not wrapped. */
    CHECK_EQ(buf_reserve(&b, SIZE_MAX), -EMSGSIZE);
    buf_free(&b);
}

static void printf_and_consume(void)
{
    struct buf b;
    buf_init(&b, 64);
    CHECK_EQ(buf_printf(&b, "%d-%s", 42, "x"), 0);
    CHECK_EQ(b.len, 4);
    CHECK(memcmp(b.data, "42-x", 4) == 0);
    CHECK_EQ(b.data[4], '\0');
    buf_consume(&b, 3);
    CHECK_EQ(b.len, 1);
    CHECK_EQ(b.data[0], 'x');
    buf_consume(&b, 99);
    CHECK_EQ(b.len, 0);
    /* A formatted string longer than the cap is refused. */
    CHECK_EQ(buf_printf(&b, "%100s", "y"), -EMSGSIZE);
    uint8_t *p;
    size_t n;
    CHECK_EQ(buf_append_str(&b, "take"), 0);
    buf_take(&b, &p, &n);
    CHECK_EQ(n, 4);
    CHECK(memcmp(p, "take", 4) == 0);
    CHECK(b.data == NULL && b.len == 0);
    free(p);
    buf_free(&b);
}

/* Varints per the protobuf spec: 7 bits per byte, low group first. */
static void varints(void)
{
    static const struct {
        uint64_t v;
        size_t n;
        uint8_t bytes[10];
    } cases[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7f}},
        {128, 2, {0x80, 0x01}},
        {300, 2, {0xac, 0x02}},
        {UINT32_MAX, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
        {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[10];
        CHECK_EQ(pb_varint_size(cases[i].v), cases[i].n);
        CHECK_EQ(pb_put_varint(out, cases[i].v), cases[i].n);
        CHECK(memcmp(out, cases[i].bytes, cases[i].n) == 0);
    }
    /* A negative int64 is ten bytes, as protobuf encodes it. */
    CHECK_EQ(pb_varint_size((uint64_t)(int64_t)-1), 10);
    /* The size agrees with the bytes written around every power of two
     * (the size is computed from the bit length, the writer loops). */
    for (int b = 0; b < 64; b++) {
        for (int d = -1; d <= 1; d++) {
            uint64_t v = ((uint64_t)1 << b) + (uint64_t)(int64_t)d;
            uint8_t out[10];
            CHECK_EQ(pb_varint_size(v), pb_put_varint(out, v));
        }
    }
}

static void fields(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK_EQ(pb_add_double(&b, 1, 1700000000.0), 0);
    /* Event.wall_time = 1700000000: key 0x09 then the IEEE double LE. */
    static const uint8_t wall[] = {0x09, 0x00, 0x00, 0x00, 0x40, 0xfc, 0x54, 0xd9, 0x41};
    CHECK_EQ(b.len, sizeof wall);
    CHECK(memcmp(b.data, wall, sizeof wall) == 0);
    buf_reset(&b);
    CHECK_EQ(pb_add_varint(&b, 2, 3), 0);
    CHECK_EQ(b.len, 2);
    CHECK(b.data[0] == 0x10 && b.data[1] == 0x03);
    buf_reset(&b);
    CHECK_EQ(pb_add_string(&b, 1, "loss"), 0);
    CHECK_EQ(b.len, 6);
    CHECK(memcmp(b.data, "\x0a\x04loss", 6) == 0);
    buf_reset(&b);
    CHECK_EQ(pb_add_float(&b, 2, 0.5f), 0);
    CHECK(b.len == 5 && memcmp(b.data, "\x15\x00\x00\x00\x3f", 5) == 0);
    CHECK_EQ(pb_len_field_size(1, 4), 6);
    CHECK_EQ(pb_len_field_size(16, 200), 2 + 2 + 200);
    buf_free(&b);

    /* The cap applies to wire helpers too. */
    buf_init(&b, 4);
    CHECK_EQ(pb_add_string(&b, 1, "loss"), -EMSGSIZE);
    buf_free(&b);
}

TEST_MAIN(TEST(append_and_grow), TEST(cap_is_enforced), TEST(printf_and_consume),
          TEST(varints), TEST(fields))
