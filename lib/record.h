/* record: TFRecord framing, pure functions over memory.
 *
 *   u64le length | u32le masked_crc32c(length bytes) | payload | u32le masked_crc32c(payload)
 *
 * The record writer and reader are built on these; the fuzzer drives
 * record_parse() directly. */
#ifndef TFEVENTS_RECORD_H
#define TFEVENTS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RECORD_HEADER_SIZE 12u
#define RECORD_FOOTER_SIZE 4u
#define RECORD_OVERHEAD (RECORD_HEADER_SIZE + RECORD_FOOTER_SIZE)

/* Largest payload we write or accept when reading. A length field above it
 * (with a valid length CRC) is reported as corruption, never allocated. */
#define RECORD_MAX_PAYLOAD ((uint64_t)256 << 20)

/* What is wrong with a record that cannot be read. */
enum record_fault {
    RECORD_FAULT_NONE = 0,
    RECORD_FAULT_TRUNCATED,   /* not corruption: the file ends inside the record */
    RECORD_FAULT_LENGTH_CRC,  /* the length's CRC does not match */
    RECORD_FAULT_LENGTH,      /* CRC-valid length above RECORD_MAX_PAYLOAD */
    RECORD_FAULT_DATA_CRC,    /* the payload's CRC does not match */
    RECORD_FAULT_NOT_EVENT,   /* CRC-valid payload that does not decode as an Event */
};

/* A short English name for a fault ("data CRC mismatch", ...). */
const char *record_fault_str(enum record_fault f);

/* Append one framed record to out. -EMSGSIZE if len > RECORD_MAX_PAYLOAD
 * or out's cap is reached (nothing appended), -ENOMEM. */
int record_frame(struct buf *out, const void *payload, size_t len);

/* Parse the record at the start of data[0..len).
 * Returns 1 with *ret_payload and *ret_payload_len pointing into data and
 * *ret_size the whole record's size; 0 if data holds only part of a record
 * (or nothing) -- read more and call again; -EBADMSG when the record is
 * corrupt, with *ret_fault saying how. ret_fault may be NULL. */
int record_parse(const uint8_t *data, size_t len,
                 const uint8_t **ret_payload, size_t *ret_payload_len,
                 size_t *ret_size, enum record_fault *ret_fault);

#endif
