/* frame_encode: the daemon's side of the binary protocol -- the Hello
 * frame that answers the magic, and Reply frames.
 *
 * dispatch and the flusher compose every reply as a JSON object (the JSON
 * protocol's reply line). For a binary connection that object is carried
 * over field by field into a tfevents.Reply (proto/tfwire.proto), so the
 * two protocols answer with exactly the same facts and only one place
 * decides what a reply says. Pure; never logs. */
#ifndef TFEVENTSD_FRAME_ENCODE_H
#define TFEVENTSD_FRAME_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append a whole Hello frame (header + payload) to out. root may be NULL.
 * -ENOMEM, -EMSGSIZE (out's cap). */
int frame_encode_hello(struct buf *out, uint64_t max_frame, const char *root);

/* Append a whole Reply frame built from one JSON reply object
 * (json[0..len), as dispatch writes it: "id", "ok", "line", "error",
 * "step", "next", "pong", "protocol", "stats"). An id that is a string of
 * decimal digits (how binary ids travel, frame_id_text()) becomes the
 * numeric id. closing marks the daemon's last reply on the connection.
 * -EBADMSG when json is not such an object, -ENOMEM, -EMSGSIZE. */
int frame_encode_reply_json(struct buf *out, const char *json, size_t len, bool closing);

#endif
