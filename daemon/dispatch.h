/* dispatch: execute one line of a connection -- decode it
 * (json_decode), run the op against the logdirs, and answer: a reply for
 * every request with an id and for every error, carrying the line number.
 * Flush and close replies are deferred to the flusher. */
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

/* Send {"id":..,"ok":false,"line":N,"error":"..."} (id may be NULL). */
void dispatch_error(struct conn *c, const char *id, uint64_t line_no, const char *error);

#endif
