/* frame_decode: a tfevents.Request -> a request (struct request,
 * request.h), for both protocols.
 *
 * The payload of a client frame (kind FRAME_BATCH, frame.h) is a
 * serialized tfevents.Batch (proto/tfwire.proto): a list of requests, each
 * one the equivalent of one JSON line. A JSON line is translated into the
 * same Request (json_decode.h), so every check, normalisation of names,
 * limit and summary building lives here once, and both protocols refuse
 * the same mistake with the same sentence. For frames the decoder also
 * refuses unknown protobuf fields at any depth, so that a client built
 * against a newer .proto never has data silently dropped.
 *
 * Pure: no I/O, no logging, no state; errors come back as a sentence. */
#ifndef TFEVENTSD_FRAME_DECODE_H
#define TFEVENTSD_FRAME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "request.h"
#include "tfwire.pb-c.h"

/* Requests in one Batch frame. */
#define FRAME_MAX_REQUESTS 65536u

/* Nesting of protobuf messages walked when checking for unknown fields
 * (the schema nests at most 5 deep; TensorProto is not walked). */
#define FRAME_MAX_DEPTH 16u

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

/* The checks of frame_decode_request() after the unknown fields: rq
 * (borrowed; a translated JSON line has none) into m, which the caller
 * has reset (request_init(), request_done() or request_recycle()), its
 * id kept unless rq has one. Returns what frame_decode_request() does. */
int frame_decode_fields(const Tfevents__Request *rq, struct request *m, char *err,
                        size_t err_size);

/* Check that msg (borrowed) and every message inside it have no unknown
 * fields. 0, or -EINVAL with "unknown field N in tfevents.Value" in err. */
int frame_check_unknown(const ProtobufCMessage *msg, char *err, size_t err_size);

/* Does a string field anywhere in msg[0..len) (a serialized message of
 * type d) hold a NUL byte? protobuf-c hands strings out NUL-terminated,
 * so such a string would silently be cut there: it must be refused, and
 * only the raw bytes tell. 1 with *ret_field (the field's name, static)
 * and *ret_msg (its message type's name), 0 when none does, -EBADMSG
 * when the bytes do not parse (protobuf-c then says why). */
int frame_find_nul(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len,
                   const char **ret_field, const char **ret_msg);

/* The refusal of a request frame_find_nul() found a NUL in. Returns
 * -EINVAL. */
int frame_fail_nul(const char *field, const char *msg, char *err, size_t err_size);

#endif
