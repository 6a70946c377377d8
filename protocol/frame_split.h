/* frame_split: a Batch payload split into its requests, the commonest one
 * decoded without protobuf-c (the lean path).
 *
 * A Log of plain scalars and texts (run, tag and a scalar or a text of one
 * string, no display name, description or shape) is decoded straight
 * from the wire into a request the split owns, reusing its memory from
 * request to request. Every other request is unpacked with protobuf-c and
 * decoded by frame_decode_request(). The lean decoder accepts only
 * requests whose meaning is plain (each field once, the wire types of the
 * schema, no NUL in strings, values the general decoder accepts); anything
 * else, including every error, goes the general way, so the two produce
 * the same request, refuse the same requests with the same words, and a
 * frame is refused whole exactly when frame_decode_batch() refuses it.
 * Pure: no I/O, no logging. */
#ifndef TFEVENTS_FRAME_SPLIT_H
#define TFEVENTS_FRAME_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct frame_split;

/* Split payload[0..len) (borrowed: it must outlive *ret). *ret (caller
 * owns; frame_split_free()) on success; the errors of frame_decode_batch()
 * otherwise, with the same sentences. */
int frame_split_open(const uint8_t *payload, size_t len, struct frame_split **ret, char *err,
                     size_t err_size);
void frame_split_free(struct frame_split *b);   /* NULL-safe */

size_t frame_split_count(const struct frame_split *b);

/* Decode request i (in order, each once) as frame_decode_request() would:
 * into m, or, on the lean path, into the split's own request. *ret_msg
 * (borrowed, valid until the next call) is the one filled, also on error.
 * Returns what frame_decode_request() returns. */
int frame_split_decode(struct frame_split *b, size_t i, struct request *m,
                       struct request **ret_msg, char *err, size_t err_size);

/* The lean decoder alone, for the differential tests: 0 with *m (as
 * filled by frame_split_decode()) or 1 when it leaves req[0..len) (one
 * serialized Request) to the general path. */
int frame_split_lean(struct frame_split *b, const uint8_t *req, size_t len,
                     struct request **ret_msg);

#endif
