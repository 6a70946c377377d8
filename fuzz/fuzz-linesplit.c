/* fuzz-linesplit: a connection's bytes cut into lines or frames
 * (protocol/linesplit.c) the way daemon/conn.c reads them
 * (tests/linesplit_sim.c: the magic decides the protocol, then lines or
 * frames from a buffer reads append to).
 *
 * Input: one byte choosing --max-line (1..64, or 64..1080 in steps of 8),
 * four bytes of read sizes (cycled; 0 reads one byte), then the bytes a
 * client sends. Invariant: fed in those reads, one byte at a time, or
 * whole, the input gives the same transcript: the same lines (byte for
 * byte), refusals of over-long lines, frames, and end-of-input outcome. */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "linesplit_sim.h"

static bool same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t max = data[0] < 128 ? (size_t)data[0] % 64u + 1u : (size_t)(data[0] - 128) * 8u + 64u;
    size_t chunks[4];
    for (size_t i = 0; i < 4; i++)
        chunks[i] = data[1 + i] % 23u;
    const uint8_t *in = data + 5;
    size_t len = size - 5;

    struct buf whole, pieces, bytes;
    buf_init(&whole, BUF_NO_CAP);
    buf_init(&pieces, BUF_NO_CAP);
    buf_init(&bytes, BUF_NO_CAP);
    static const size_t one = 1;
    FUZZ_CHECK(linesplit_sim(in, len, NULL, 0, max, &whole) == 0);
    FUZZ_CHECK(linesplit_sim(in, len, chunks, 4, max, &pieces) == 0);
    FUZZ_CHECK(linesplit_sim(in, len, &one, 1, max, &bytes) == 0);
    FUZZ_CHECK(same(&whole, &pieces));
    FUZZ_CHECK(same(&whole, &bytes));
    buf_free(&whole);
    buf_free(&pieces);
    buf_free(&bytes);
    return 0;
}
