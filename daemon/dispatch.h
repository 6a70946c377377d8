/* dispatch: execute one line or frame of a connection -- decode it
 * (protocol/: json_decode, frame_decode), run it through the executor
 * (protocol/exec.h) against the server's logdirs, count it, log refusals
 * and answer: a reply for every request with an id and for every error,
 * carrying the line number. Flush and close replies are deferred to the
 * flusher; requests for a logdir being scanned wait for it here. */
#ifndef TFEVENTSD_DISPATCH_H
#define TFEVENTSD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct conn;

void dispatch_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                   size_t len);

/* Binary protocol: decode one Batch frame payload (frame_decode) and
 * execute its requests in order, numbering them with c->line_no. */
void dispatch_frame(struct server *s, struct conn *c, const uint8_t *payload, size_t len);

/* Shutdown: call fn(s) once no logdir scan is running any more and the
 * messages that waited for the scans have run (at once when none runs). */
void dispatch_after_scans(struct server *s, void (*fn)(struct server *s));

/* Send a refusal without id, {"ok":false,"line":N,"error":"..."}, for a
 * request that could not be read or held. */
void dispatch_error(struct conn *c, uint64_t line_no, const char *error);

#endif
