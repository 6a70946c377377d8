/* fuzz-record: TFRecord framing, in memory and through the file reader.
 *
 * The input is one mode byte, then the bytes of an event file. A fuzzer
 * cannot compute CRC-32C, so with the mode's low bit set the file is first
 * "repaired": every length and payload gets its right CRC, which lets the
 * fuzzer reach valid records (their payloads, the reader's buffering) and
 * truncated ones. record_parse() walks the file in
 * memory; record_reader reads the same bytes from a file (a memfd) and must
 * see exactly the same records and stop where the walk stopped, with the
 * same fault. Every record payload also goes through the Event decoder, and
 * re-framing a payload must give back the very record it came from. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "crc32c.h"
#include "event.h"
#include "fuzz.h"
#include "record.h"
#include "record_reader.h"

/* Records remembered from the in-memory walk, to compare with the reader. */
#define MAX_SEEN 4096

struct seen {
    size_t offset, len;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Give each record a length that fits what is left and the right CRCs;
 * the last record may stay cut short. */
static void repair(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (n - off >= RECORD_HEADER_SIZE) {
        uint8_t *h = p + off;
        uint64_t len = get_le64(h) % (n - off - RECORD_HEADER_SIZE + 1);
        put_le(h, len, 8);
        put_le(h + 8, crc32c_mask(crc32c(h, 8)), 4);
        if (n - off - RECORD_HEADER_SIZE - len < RECORD_FOOTER_SIZE)
            break;
        put_le(h + RECORD_HEADER_SIZE + len,
               crc32c_mask(crc32c(h + RECORD_HEADER_SIZE, (size_t)len)), 4);
        off += RECORD_OVERHEAD + (size_t)len;
    }
}

static void check_file(const uint8_t *data, size_t size)
{
    static struct seen seen[MAX_SEEN];
    size_t n_seen = 0, off = 0;
    enum record_fault fault = RECORD_FAULT_NONE;
    int rc;
    struct buf reframed;
    buf_init(&reframed, BUF_NO_CAP);

    for (;;) {
        const uint8_t *payload = NULL;
        size_t plen = 0, rsize = 0;
        rc = record_parse(data + off, size - off, &payload, &plen, &rsize, &fault);
        if (rc <= 0)
            break;
        FUZZ_CHECK(rc == 1);
        FUZZ_CHECK(fault == RECORD_FAULT_NONE);
        FUZZ_CHECK(payload == data + off + RECORD_HEADER_SIZE);
        FUZZ_CHECK(rsize == plen + RECORD_OVERHEAD && rsize <= size - off);

        buf_reset(&reframed);
        FUZZ_CHECK(record_frame(&reframed, payload, plen) == 0);
        FUZZ_CHECK(reframed.len == rsize && memcmp(reframed.data, data + off, rsize) == 0);

        Tensorboard__Event *ev;
        int er = event_unpack(payload, plen, &ev);
        FUZZ_CHECK(er == 0 || er == -EBADMSG);
        if (er == 0)
            event_free(ev);

        if (n_seen < MAX_SEEN)
            seen[n_seen] = (struct seen){off, plen};
        n_seen++;
        off += rsize;
    }
    FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
    FUZZ_CHECK((rc < 0) == (fault == RECORD_FAULT_LENGTH_CRC || fault == RECORD_FAULT_LENGTH ||
                            fault == RECORD_FAULT_DATA_CRC));
    FUZZ_CHECK(rc < 0 || fault == (off < size ? RECORD_FAULT_TRUNCATED : RECORD_FAULT_NONE));
    buf_free(&reframed);

    /* The same bytes as a file. */
    int fd = memfd_create("fuzz-record", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write_all(fd, data, size) == 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    record_reader *r;
    FUZZ_CHECK(record_reader_open(&r, path, 0) == 0);
    size_t n_read = 0;
    int rr;
    for (;;) {
        const uint8_t *payload;
        size_t plen;
        uint64_t at = record_reader_offset(r);
        rr = record_reader_next(r, &payload, &plen);
        if (rr <= 0)
            break;
        FUZZ_CHECK(n_read < n_seen);
        if (n_read < MAX_SEEN) {
            FUZZ_CHECK(at == seen[n_read].offset);
            FUZZ_CHECK(plen == seen[n_read].len);
            FUZZ_CHECK(memcmp(payload, data + at + RECORD_HEADER_SIZE, plen) == 0);
        }
        n_read++;
    }
    FUZZ_CHECK(n_read == n_seen);
    FUZZ_CHECK(rr == rc);
    FUZZ_CHECK(record_reader_fault(r) == fault);
    FUZZ_CHECK(record_reader_offset(r) == off);
    FUZZ_CHECK(record_reader_index(r) == n_seen);
    /* At the end, or stuck on a bad record: asking again changes nothing. */
    const uint8_t *p2;
    size_t l2;
    FUZZ_CHECK(record_reader_next(r, &p2, &l2) == rc);
    FUZZ_CHECK(record_reader_offset(r) == off);
    record_reader_free(r);

    /* Decoding events as it goes, the reader stops at the first record that
     * is not an Event, or where the framing walk stopped. */
    FUZZ_CHECK(record_reader_open(&r, path, 0) == 0);
    for (;;) {
        Tensorboard__Event *ev;
        rr = record_reader_next_event(r, &ev);
        if (rr <= 0)
            break;
        event_free(ev);
    }
    FUZZ_CHECK(rr == 0 || rr == -EBADMSG);
    FUZZ_CHECK(record_reader_index(r) <= n_seen);
    if (record_reader_fault(r) == RECORD_FAULT_NOT_EVENT)
        FUZZ_CHECK(rr == -EBADMSG && record_reader_index(r) < n_seen);
    else
        FUZZ_CHECK(rr == rc && record_reader_index(r) == n_seen);
    record_reader_free(r);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* Both CRC-32C implementations agree (the hardware one when the CPU
     * has SSE4.2). */
    uint32_t sw = crc32c_extend_sw(0, data, size);
    FUZZ_CHECK(crc32c(data, size) == sw);
    if (crc32c_hw_available())
        FUZZ_CHECK(crc32c_extend_hw(0, data, size) == sw);

    size_t n = size - 1;
    uint8_t *file = malloc(n ? n : 1);
    FUZZ_CHECK(file != NULL);
    if (n)
        memcpy(file, data + 1, n);
    if (data[0] & 1)
        repair(file, n);
    check_file(file, n);
    free(file);
    return 0;
}
