/* frame: the envelope of the binary protocol (docs/protocol.md, "Binary
 * protocol"): the magic a binary client opens with and the header of each
 * frame,
 *
 *     u32le length | u8 kind | payload[length]
 *
 * What a payload holds is frame_decode's (client frames) and
 * frame_encode's (daemon frames). Pure: no I/O, no state. */
#ifndef TFEVENTS_FRAME_H
#define TFEVENTS_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* The first bytes a binary client sends. A JSON line starts with '{' or
 * white space, never with 'T', so the two protocols cannot be confused. */
#define FRAME_MAGIC "TFEVBIN\x01"
#define FRAME_MAGIC_LEN 8u

/* u32le payload length + u8 kind. */
#define FRAME_HEADER_LEN 5u

/* Largest payload by default (the daemon's --max-line bounds frames too;
 * the Hello frame tells the client the actual limit). */
#define FRAME_MAX_PAYLOAD (16u << 20)

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

#endif
