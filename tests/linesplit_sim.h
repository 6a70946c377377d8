/* linesplit_sim: a connection's reading, as daemon/conn.c does it, without
 * a socket: the protocol decided by the first bytes (frame.h's magic), then
 * lines or frames cut by linesplit.h from a buffer that reads append to and
 * consumed bytes leave. What it finds is written to a transcript, so that
 * the same input fed in different chunks can be compared byte for byte
 * (tests/test-linesplit.c, fuzz/fuzz-linesplit.c). */
#ifndef TFEVENTS_LINESPLIT_SIM_H
#define TFEVENTS_LINESPLIT_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Transcript entries: a tag byte, then for 'L' (a line, after the '\r'
 * before its newline is dropped, as conn.c does; blank ones included) and
 * 'F' (a frame's payload) a u32le length and the bytes. 'B' binary
 * protocol chosen; 'T' a line over the limit refused; 'S' a frame over the
 * limit and 'K' one of a bad kind (the stream then ends); 'P' the input
 * ended inside a frame. */

/* Feed in[0..len) in pieces of chunks[i] bytes (cycled; a 0 is taken as 1),
 * or whole when n_chunks is 0, with max as --max-line; then the end of
 * input. The transcript is appended to out. 0, or -ENOMEM. */
int linesplit_sim(const uint8_t *in, size_t len, const size_t *chunks, size_t n_chunks,
                  size_t max, struct buf *out);

#endif
