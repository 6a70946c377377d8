#include "record_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"

/* Bytes asked of each read(2): large enough that reading costs a syscall
 * per thousands of small records. The buffer grows past it only to hold
 * one record bigger than a block (at most RECORD_MAX_PAYLOAD plus framing,
 * a length that record_parse() has checked). */
#define READER_BLOCK ((size_t)1 << 20)
/* The first read is smaller, and the block doubles up to READER_BLOCK only
 * while reads fill it: a reader of a small file (most of a logdir, and
 * every fuzz input) does not pay for a megabyte it never uses. */
#define READER_FIRST_BLOCK ((size_t)64 << 10)

struct record_reader {
    int fd;
    char *path;             /* owned */
    uint8_t *data;          /* owned; file bytes [base, base + end) */
    size_t cap;
    size_t block;           /* bytes to ask of the next read */
    size_t start;           /* where the next record starts in data */
    size_t end;             /* bytes of data that are valid */
    uint64_t base;          /* file offset of data[0] */
    uint64_t index;
    enum record_fault fault;
    bool corrupt;           /* sticky: the record at start is bad */
};

int record_reader_open(record_reader **ret, const char *path, uint64_t offset)
{
    if (offset > (uint64_t)INT64_MAX)
        return -EINVAL;
    record_reader *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int err;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        err = -errno;
        goto fail;
    }
    r->path = strdup(path);
    if (!r->path) {
        err = -ENOMEM;
        goto fail;
    }
    r->base = offset;
    *ret = r;
    return 0;

fail:
    if (r->fd >= 0)
        close(r->fd);
    free(r);
    return err;
}

void record_reader_free(record_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->data);
    free(r->path);
    free(r);
}

/* Read more of the file after the bytes we hold, making sure there is room
 * for at least need bytes from the record start. Returns the bytes read
 * (0 at end of file) or -errno. */
static ssize_t fill(record_reader *r, size_t need)
{
    /* Move the partial record to the front; it is small unless it is one
     * huge record, which is read once anyway. */
    if (r->start > 0) {
        size_t avail = r->end - r->start;
        if (avail > 0)
            memmove(r->data, r->data + r->start, avail);
        r->base += r->start;
        r->end = avail;
        r->start = 0;
    }
    if (r->block == 0)
        r->block = READER_FIRST_BLOCK;
    size_t want = need > r->block ? need : r->block;
    if (want > r->cap) {
        uint8_t *p = realloc(r->data, want);
        if (!p)
            return -ENOMEM;
        r->data = p;
        r->cap = want;
    }
    for (;;) {
        /* pread at our own offset: the file may have grown since the last
         * call, and an end of file seen then means nothing now. */
        ssize_t n = pread(r->fd, r->data + r->end, r->cap - r->end,
                          (off_t)(r->base + r->end));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if ((size_t)n == r->cap - r->end && r->block < READER_BLOCK)
            r->block *= 2;
        r->end += (size_t)n;
        return n;
    }
}

/* Make the record at r->start whole in memory without consuming it.
 * Returns 1 with the payload and the record's size, 0, or a negative
 * errno, like record_reader_next(). */
static int peek(record_reader *r, const uint8_t **ret_payload, size_t *ret_len,
                size_t *ret_size)
{
    if (r->corrupt)
        return -EBADMSG;
    for (;;) {
        enum record_fault fault;
        const uint8_t *p = r->data ? r->data + r->start : NULL;
        size_t avail = r->end - r->start;
        int rc = avail ? record_parse(p, avail, ret_payload, ret_len, ret_size, &fault)
                       : 0;
        if (rc > 0) {
            r->fault = RECORD_FAULT_NONE;
            return 1;
        }
        if (rc < 0) {
            r->fault = fault;
            r->corrupt = true;
            return rc;
        }
        /* Not whole yet: the header (when we have it, and its CRC held)
         * says how much the record needs. */
        size_t need = RECORD_HEADER_SIZE;
        if (avail >= RECORD_HEADER_SIZE) {
            uint64_t plen = 0;
            for (int i = 7; i >= 0; i--)
                plen = (plen << 8) | p[i];
            need = (size_t)plen + RECORD_OVERHEAD;
        }
        ssize_t n = fill(r, need);
        if (n < 0) {
            r->fault = RECORD_FAULT_NONE;
            return (int)n;
        }
        if (n == 0) {
            /* End of file. A partial record is forgotten so that the next
             * call reads it again from the file, where it may have been
             * completed (or rewritten after a writer cut it back). */
            r->fault = r->end > r->start ? RECORD_FAULT_TRUNCATED : RECORD_FAULT_NONE;
            r->end = r->start;
            return 0;
        }
    }
}

int record_reader_next(record_reader *r, const uint8_t **ret_payload, size_t *ret_len)
{
    size_t size;
    int rc = peek(r, ret_payload, ret_len, &size);
    if (rc <= 0)
        return rc;
    r->start += size;
    r->index++;
    return 1;
}

int record_reader_next_event(record_reader *r, Tensorboard__Event **ret)
{
    const uint8_t *payload;
    size_t len, size;
    int rc = peek(r, &payload, &len, &size);
    if (rc <= 0)
        return rc;
    Tensorboard__Event *ev;
    rc = event_unpack(payload, len, &ev);
    if (rc == -ENOMEM)
        return rc;   /* not the file's fault: the next call tries again */
    if (rc < 0) {
        /* The reader stays on this record, like on a CRC mismatch. */
        r->fault = RECORD_FAULT_NOT_EVENT;
        r->corrupt = true;
        return -EBADMSG;
    }
    r->start += size;
    r->index++;
    *ret = ev;
    return 1;
}

uint64_t record_reader_offset(const record_reader *r)
{
    return r->base + r->start;
}

enum record_fault record_reader_fault(const record_reader *r)
{
    return r->fault;
}

uint64_t record_reader_index(const record_reader *r)
{
    return r->index;
}

const char *record_reader_path(const record_reader *r)
{
    return r->path;
}
