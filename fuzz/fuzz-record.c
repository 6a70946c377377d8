/* fuzz-record: TFRecord framing, in memory and through the file reader.
 *
 * The input is the bytes of an event file. record_parse() walks it in
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
    return 0;
}
