/* frame_decode: the binary protocol of tfeventsd -> the same requests the
 * JSON decoder produces (struct request, request.h).
 *
 * A connection whose first 8 bytes are FRAME_MAGIC speaks frames instead
 * of JSON lines (docs/protocol.md, "Binary protocol"). A frame is
 *
 *     u32le length | u8 kind | payload[length]
 *
 * where the payload of a client frame (kind FRAME_BATCH) is a serialized
 * tfevents.Batch (proto/tfwire.proto): a list of requests, each one the
 * equivalent of one JSON line. The decoder checks everything the JSON
 * decoder checks (the same normalisation of names, the same limits, the
 * same summary builders), and also refuses unknown protobuf fields at any
 * depth, so that a client built against a newer .proto never has data
 * silently dropped.
 *
 * Pure: no I/O, no logging, no state; errors come back as a sentence. */
#ifndef TFEVENTSD_FRAME_DECODE_H
#define TFEVENTSD_FRAME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_decode.h"
#include "tfwire.pb-c.h"

/* The first bytes a binary client sends. A JSON line starts with '{' or
 * white space, never with 'T', so the two protocols cannot be confused. */
#define FRAME_MAGIC "TFEVBIN\x01"
#define FRAME_MAGIC_LEN 8u

/* u32le payload length + u8 kind. */
#define FRAME_HEADER_LEN 5u

/* Largest payload by default (the daemon's --max-line bounds frames too;
 * the Hello frame tells the client the actual limit). */
#define FRAME_MAX_PAYLOAD (16u << 20)

/* Requests in one Batch frame. */
#define FRAME_MAX_REQUESTS 65536u

/* Nesting of protobuf messages walked when checking for unknown fields
 * (the schema nests at most 5 deep; TensorProto is not walked). */
#define FRAME_MAX_DEPTH 16u

enum frame_kind {
    FRAME_BATCH = 1,   /* client -> daemon: tfevents.Batch */
    FRAME_REPLY = 2,   /* daemon -> client: tfevents.Reply */
    FRAME_HELLO = 3,   /* daemon -> client, first frame: tfevents.Hello */
};

/* Does data[0..len) start a binary connection? 1: the full magic is there;
 * 0: the bytes so far are a prefix of the magic (wait for more);
 * -EPROTO: this is not the binary protocol (a JSON connection). */
int frame_magic_check(const void *data, size_t len);

/* Read a frame header from p[0..avail).
 *  0        *ret_len (payload bytes) and *ret_kind are set
 *  -EAGAIN  fewer than FRAME_HEADER_LEN bytes
 *  -EMSGSIZE the length is above max_payload
 *  -EPROTO  the kind byte is not one of enum frame_kind
 * After -EMSGSIZE or -EPROTO the stream cannot be trusted any more: the
 * caller should answer and close. */
int frame_header_read(const uint8_t *p, size_t avail, size_t max_payload,
                      uint32_t *ret_len, uint8_t *ret_kind);

/* Write a header for a payload of len bytes into out[FRAME_HEADER_LEN]. */
void frame_header_write(uint8_t *out, uint32_t len, uint8_t kind);

/* Unpack a Batch payload. *ret (caller owns; free with frame_batch_free())
 * is set on success. -EBADMSG (not a Batch: wrong wire type, truncated
 * field, a missing required field), -EINVAL (an unknown field of the Batch
 * itself; those inside a request are found by frame_decode_request()),
 * -EMSGSIZE (more than FRAME_MAX_REQUESTS). */
int frame_decode_batch(const uint8_t *payload, size_t len, Tfevents__Batch **ret,
                       char *err, size_t err_size);
void frame_batch_free(Tfevents__Batch *b);   /* NULL-safe */

/* Turn one request (borrowed) into m, as jd_decode() does for a line,
 * refusing unknown fields anywhere inside it (-EINVAL, "unknown field N in
 * tfevents.Value"):
 * m is reset first; even on error m->has_id/m->id are set when the request
 * has an id. Returns 0 or a negative errno with a reason in err: -EINVAL,
 * -EILSEQ (invalid UTF-8), -EMSGSIZE, -EBADMSG (a pre-encoded value that
 * does not decode), -ENOMEM. */
int frame_decode_request(const Tfevents__Request *rq, struct request *m, char *err,
                         size_t err_size);

/* ---- the lean path ----------------------------------------------------
 * A Batch split into its requests without building protobuf-c trees for
 * the commonest one, a Log of plain scalars (run, tag and scalar only):
 * those are decoded straight from the wire into a message the split owns,
 * reusing its memory from request to request. Every other request is
 * unpacked with protobuf-c and decoded by frame_decode_request(). The
 * lean decoder accepts only requests whose meaning is plain (each field
 * once, the wire types of the schema, no NUL in strings, values the
 * general decoder accepts); anything else, including every error, goes
 * the general way, so the two produce the same message, refuse the same
 * requests with the same words, and a frame is refused whole exactly when
 * frame_decode_batch() refuses it. */

struct frame_split;

/* Split payload[0..len) (borrowed: it must outlive *ret). *ret (caller
 * owns; frame_split_free()) on success; the errors of frame_decode_batch()
 * otherwise, with the same sentences. */
int frame_split_open(const uint8_t *payload, size_t len, struct frame_split **ret, char *err,
                     size_t err_size);
void frame_split_free(struct frame_split *b);   /* NULL-safe */

size_t frame_split_count(const struct frame_split *b);

/* Decode request i (in order, each once) as frame_decode_request() would:
 * into m, or, on the lean path, into the split's own message. *ret_msg
 * (borrowed, valid until the next call) is the one filled, also on error.
 * Returns what frame_decode_request() returns. */
int frame_split_decode(struct frame_split *b, size_t i, struct request *m,
                       struct request **ret_msg, char *err, size_t err_size);

/* The lean decoder alone, for the differential tests: 0 with *m (as
 * filled by frame_split_decode()) or 1 when it leaves req[0..len) (one
 * serialized Request) to the general path. */
int frame_split_lean(struct frame_split *b, const uint8_t *req, size_t len,
                     struct request **ret_msg);

/* Check that msg (borrowed) and every message inside it have no unknown
 * fields. 0, or -EINVAL with "unknown field N in tfevents.Value" in err. */
int frame_check_unknown(const ProtobufCMessage *msg, char *err, size_t err_size);

#endif
