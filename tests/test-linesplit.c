/* linesplit (protocol/linesplit.c): a connection's bytes cut into lines and
 * frames. Table-driven through linesplit_sim (the reading conn.c does),
 * each case fed whole and in pieces of 1, 2, 3, 5 and 64 bytes: the same
 * lines, refusals and frames every time. Then linesplit_next()'s scan
 * memory directly. */
#include <string.h>

#include "frame.h"
#include "linesplit.h"
#include "linesplit_sim.h"
#include "test.h"

/* The transcript as text: "L:<line>|", "T|", "F:<payload>|", "B|", ... */
static void render(const struct buf *t, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < t->len && o + 4 < size;) {
        char tag = (char)t->data[i++];
        out[o++] = tag;
        if (tag == 'L' || tag == 'F') {
            size_t n = (size_t)t->data[i] | (size_t)t->data[i + 1] << 8 |
                       (size_t)t->data[i + 2] << 16 | (size_t)t->data[i + 3] << 24;
            i += 4;
            out[o++] = ':';
            for (size_t k = 0; k < n && o + 2 < size; k++)
                out[o++] = (char)t->data[i + k];
            i += n;
        }
        out[o++] = '|';
    }
    out[o] = '\0';
}

static void expect(const char *in, size_t len, size_t max, const char *want)
{
    static const size_t pieces[] = {0, 1, 2, 3, 5, 64};
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        struct buf t;
        buf_init(&t, BUF_NO_CAP);
        size_t chunk = pieces[p];
        CHECK_EQ(linesplit_sim((const uint8_t *)in, len, &chunk, chunk ? 1 : 0, max, &t), 0);
        char got[512];
        render(&t, got, sizeof got);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "pieces of %zu (0: whole), max %zu:\n", chunk, max);
        CHECK_STR(got, want);
        buf_free(&t);
    }
}

#define EXPECT(in, max, want) expect(in, sizeof(in) - 1, max, want)

static void test_lines(void)
{
    EXPECT("", 16, "");
    EXPECT("a\nbc\n", 16, "L:a|L:bc|");
    EXPECT("a\r\n\nb", 16, "L:a|L:|L:b|");   /* CR dropped, blank kept, last without \n */
    EXPECT("0123456789\nok\n", 10, "L:0123456789|L:ok|");     /* exactly the limit */
    EXPECT("0123456789A\nok\n", 10, "T|L:ok|");               /* one over: refused once */
    EXPECT("0123456789ABCDEFGHIJKLMNOP\nok\n", 4, "T|L:ok|");
    EXPECT("ok\n0123456789ABCDEF", 4, "L:ok|T|");              /* refused before its end */
    EXPECT("TFEV", 16, "L:TFEV|");                             /* a magic prefix, then EOF */
    EXPECT("TFEVx\n", 16, "L:TFEVx|");
}

static void test_frames(void)
{
    /* magic, Batch "abc", Batch "", then a half frame */
    static const char two[] = FRAME_MAGIC "\x03\x00\x00\x00\x01" "abc"
                              "\x00\x00\x00\x00\x01" "\x05\x00\x00\x00\x01" "xy";
    EXPECT(two, 16, "B|F:abc|F:|P|");
    static const char big[] = FRAME_MAGIC "\x11\x00\x00\x00\x01" "0123456789abcdefg";
    EXPECT(big, 16, "B|S|");
    static const char kind[] = FRAME_MAGIC "\x01\x00\x00\x00\x07" "a" "\x01\x00\x00\x00\x01" "b";
    EXPECT(kind, 16, "B|K|");
    static const char reply[] = FRAME_MAGIC "\x01\x00\x00\x00\x02" "a";
    EXPECT(reply, 16, "B|K|");   /* a daemon's frame kind from a client */
}

/* A line arriving a byte at a time is scanned once: scanned follows the
 * buffer's end, and a consume moves it back with the bytes. */
static void test_scan_memory(void)
{
    struct linesplit ls;
    linesplit_init(&ls);
    const uint8_t data[] = "abcdef\ngh";
    size_t pos = 0, off = 0, n = 0;
    CHECK_EQ(linesplit_next(&ls, data, 3, 16, &pos, &off, &n), LINESPLIT_MORE);
    CHECK_EQ(ls.scanned, 3);
    CHECK_EQ(linesplit_next(&ls, data, 9, 16, &pos, &off, &n), LINESPLIT_LINE);
    CHECK_EQ(off, 0);
    CHECK_EQ(n, 6);
    CHECK_EQ(pos, 7);
    CHECK_EQ(linesplit_next(&ls, data, 9, 16, &pos, &off, &n), LINESPLIT_MORE);
    CHECK_EQ(ls.scanned, 9);
    linesplit_consumed(&ls, pos);
    CHECK_EQ(ls.scanned, 2);
    CHECK_EQ(linesplit_rest(&ls, 2, 16), LINESPLIT_MORE);
    CHECK_EQ(linesplit_rest(&ls, 17, 16), LINESPLIT_TOO_LONG);
    CHECK(ls.skipping);
    CHECK_EQ(linesplit_rest(&ls, 5, 16), LINESPLIT_SKIPPED);
    CHECK_EQ(linesplit_eof(&ls, 5), LINESPLIT_MORE);   /* inside a refused line */
    CHECK(!ls.skipping);
    CHECK_EQ(linesplit_eof(&ls, 5), LINESPLIT_LINE);
    linesplit_refuse_rest(&ls);
    pos = 0;
    CHECK_EQ(linesplit_next(&ls, (const uint8_t *)"x\ny\n", 4, 16, &pos, &off, &n),
             LINESPLIT_SKIPPED);
    CHECK_EQ(linesplit_next(&ls, (const uint8_t *)"x\ny\n", 4, 16, &pos, &off, &n),
             LINESPLIT_LINE);
    CHECK_EQ(off, 2);
}

TEST_MAIN(TEST(test_lines), TEST(test_frames), TEST(test_scan_memory))
