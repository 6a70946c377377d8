/* event_scan: a fast decoder for the Events that make up nearly every file.
 *
 * protobuf-c unpacks by walking field descriptors, two passes per message,
 * one allocation per string and submessage; for a 50-byte scalar event that
 * is most of the cost of reading a logdir. event_scan_unpack() reads the
 * wire format directly for the common shapes and builds the same
 * Tensorboard__Event tree protobuf-c would build:
 *
 *   Event      wall_time, step, file_version | summary
 *   Summary    value...
 *   Value      tag, node_name, metadata, simple_value | tensor
 *   Metadata   plugin_data {plugin_name, content}, display_name,
 *              summary_description, data_class
 *   Tensor     dtype, tensor_shape {dim {size, name}...}, tensor_content,
 *              float_val (packed), double_val (packed), string_val...
 *
 * Anything else -- another field or oneof case, a field given twice (which
 * protobuf-c would merge or overwrite), an unpacked repeated number, a
 * multi-byte field key, a length over 4 bytes, and every kind of malformed
 * input -- is declined with -ENOTSUP, and the caller decodes the payload
 * with protobuf-c instead, which then accepts or rejects it. The scanner
 * therefore never accepts what protobuf-c rejects, and what it accepts
 * decodes to equal field values (tests/test-event_scan.c checks both).
 *
 * Differences that do not change any value: bytes fields (tensor_content,
 * string_val, plugin content) point into the payload instead of being
 * copied, so the payload must outlive the tree; strings are copied (they
 * need their NUL).
 *
 * Pure function, no global state; thread-safe. */
#ifndef TFEVENTS_EVENT_SCAN_H
#define TFEVENTS_EVENT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "event.pb-c.h"

/* Summary values, tensor strings and shape dims per message handled by the
 * scanner; payloads with more go to protobuf-c (which has no such limit). */
#define EVENT_SCAN_MAX_REPEATED 4096u

/* Decode payload (borrowed, len bytes; it must outlive *ret) into a tree
 * allocated from alloc. alloc must be a region allocator whose memory is
 * released all at once (like logdir_reader's arena): on failure the scanner
 * drops what it allocated without freeing it, and the tree is never freed
 * piece by piece (do not call protobuf_c_message_free_unpacked on it).
 *   0         *ret holds the event
 *   -ENOTSUP  not a shape the scanner decodes, or malformed: use
 *             protobuf_c_message_unpack() on the same payload
 *   -ENOMEM   alloc failed */
int event_scan_unpack(const uint8_t *payload, size_t len, ProtobufCAllocator *alloc,
                      Tensorboard__Event **ret);

#endif
