/* linesplit: a connection's input cut into JSON lines or binary frames as
 * the bytes arrive, whatever the size of each read.
 *
 * The connection owns the bytes: a buffer it appends reads to and drops
 * consumed bytes from the front of. This module only says where the next
 * line or frame is. For lines it remembers, between reads, how much of the
 * buffer is known to hold no newline (so a long line arriving in small
 * reads is scanned once, not once per read) and whether the buffer is
 * inside a line longer than the limit that was already refused (its bytes
 * are dropped as they come, up to its newline).
 *
 * The same bytes give the same lines, refusals and frames however they are
 * cut into reads (fuzz/fuzz-linesplit.c holds it to that). Pure: no I/O,
 * no allocation, no logging. */
#ifndef TFEVENTS_LINESPLIT_H
#define TFEVENTS_LINESPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linesplit {
    size_t scanned;   /* bytes from the buffer's start known to hold no '\n' */
    bool skipping;    /* inside a line longer than the limit, already refused */
};

enum linesplit_what {
    LINESPLIT_MORE = 0,   /* nothing complete: keep the bytes, wait for more */
    LINESPLIT_LINE,       /* a line (its newline excluded; may be empty) */
    LINESPLIT_TOO_LONG,   /* a line longer than the limit: refuse it */
    LINESPLIT_SKIPPED,    /* the end of a line refused before: nothing to do */
};

void linesplit_init(struct linesplit *ls);

/* The next newline-ended piece of data[*pos..len) (data is the buffer from
 * its start; *pos starts at 0 after each consume): LINESPLIT_LINE with the
 * line at data[*ret_off..*ret_off + *ret_len), at most max_line bytes;
 * LINESPLIT_TOO_LONG for a longer one (its bytes are passed over);
 * LINESPLIT_SKIPPED for the end of a line refused by linesplit_rest(); each
 * moves *pos past the newline. LINESPLIT_MORE when no newline is left. */
enum linesplit_what linesplit_next(struct linesplit *ls, const uint8_t *data, size_t len,
                                   size_t max_line, size_t *pos, size_t *ret_off,
                                   size_t *ret_len);

/* The caller dropped the first n bytes of its buffer (n <= the *pos
 * linesplit_next() reached). */
void linesplit_consumed(struct linesplit *ls, size_t n);

/* What becomes of the unfinished rest, the len bytes left in the buffer
 * after the complete lines were taken and consumed: LINESPLIT_MORE keep
 * them; LINESPLIT_TOO_LONG they already pass max_line: refuse the line now
 * and drop them (what follows up to its newline is dropped too);
 * LINESPLIT_SKIPPED drop them (inside a refused line). */
enum linesplit_what linesplit_rest(struct linesplit *ls, size_t len, size_t max_line);

/* The caller dropped its whole buffer, refusing the unfinished line in it
 * itself (a global input limit): skip the rest of that line. */
void linesplit_refuse_rest(struct linesplit *ls);

/* The caller dropped its whole buffer and starts afresh (a timeout). */
void linesplit_reset(struct linesplit *ls);

/* End of input with len bytes left: LINESPLIT_LINE when they are a last
 * line without its newline (at most max_line bytes, linesplit_rest() saw
 * to that), LINESPLIT_MORE when there is nothing to run. Resets. */
enum linesplit_what linesplit_eof(struct linesplit *ls, size_t len);

/* ---- frames (the binary protocol, frame.h) ---------------------------- */

enum linesplit_frame {
    LINESPLIT_FRAME_MORE = 0,   /* no whole frame: wait for more */
    LINESPLIT_FRAME,            /* a Batch frame's payload */
    LINESPLIT_FRAME_TOO_LONG,   /* a length above the limit: out of step */
    LINESPLIT_FRAME_BAD_KIND,   /* a kind other than FRAME_BATCH: out of step */
};

/* The next frame of data[*pos..len): LINESPLIT_FRAME with its payload at
 * data[*ret_off..*ret_off + *ret_len), *pos moved past it. After
 * TOO_LONG or BAD_KIND (*pos unchanged, the header at it) nothing more
 * can be trusted. */
enum linesplit_frame linesplit_frame_next(const uint8_t *data, size_t len, size_t max_payload,
                                          size_t *pos, size_t *ret_off, size_t *ret_len);

#endif
