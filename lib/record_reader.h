/* record_reader: incremental reader of one event file.
 *
 * It remembers where the next record starts. When the file ends inside a
 * record (the writer is still writing, or died), it reports "no record yet"
 * and the next call retries from the same record start, so a reader polling a
 * growing file sees every record exactly once. Corruption (CRC mismatch,
 * impossible length, a payload that is not an Event) is reported distinctly,
 * with the offset of the bad record, and the reader stays there.
 *
 * Reads in large blocks; a record's payload is valid until the next call. */
#ifndef TFEVENTS_RECORD_READER_H
#define TFEVENTS_RECORD_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "event.pb-c.h"

typedef struct record_reader record_reader;

/* Open path and start reading at byte offset (0: the beginning; or a value
 * from record_reader_offset() of an earlier reader). -errno from open(2),
 * -ENOMEM. */
int record_reader_open(record_reader **ret, const char *path, uint64_t offset);

/* NULL-safe. */
void record_reader_free(record_reader *r);

/* Next record.
 *   1        *ret_payload / *ret_len hold it (valid until the next call)
 *   0        no whole record yet: end of file, or a truncated tail
 *            (record_reader_fault() says RECORD_FAULT_TRUNCATED); call again
 *            later, the reader retries from the record's start
 *   -EBADMSG corrupt: record_reader_fault() says how, record_reader_offset()
 *            where; further calls return the same
 *   -ENOMEM  out of memory: nothing was consumed, a later call retries
 *   -errno   read(2) failed */
int record_reader_next(record_reader *r, const uint8_t **ret_payload, size_t *ret_len);

/* The same, decoding the payload as an Event. On 1 the caller owns *ret and
 * frees it with event_free(). A payload that is not an Event is -EBADMSG with
 * RECORD_FAULT_NOT_EVENT. */
int record_reader_next_event(record_reader *r, Tensorboard__Event **ret);

/* Offset where the next record starts (or where the bad one starts). */
uint64_t record_reader_offset(const record_reader *r);

/* Why the last call did not return a record (RECORD_FAULT_NONE at a clean
 * end of file). */
enum record_fault record_reader_fault(const record_reader *r);

/* Index (0-based) of the next record in the file, counted from where the
 * reader started. */
uint64_t record_reader_index(const record_reader *r);

const char *record_reader_path(const record_reader *r);

#endif
