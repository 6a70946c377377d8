/* lib_journal: what libtfevents sent tfeventsd and the daemon has not yet
 * acknowledged, so that it can be sent again after the connection broke
 * (a daemon restart, a crash) -- where that is safe.
 *
 * Requests are numbered on their connection from 1, as the daemon numbers
 * them. Every Batch frame is kept (its payload) from just before it is
 * written until an acknowledgement covers its last request:
 *   - the reply to a flush of every logdir (tfevents_flush(), or a
 *     checkpoint the transport sends by itself): the requests before it
 *     are executed and written;
 *   - the daemon's goodbye at a graceful stop (Reply{ok, request N,
 *     closing}): requests 1..N are executed and written, none after N was
 *     read.
 * After a break, lib_journal_replay() sorts what is left: a request the
 * daemon is known not to have read (a frame whose write failed, or after
 * the goodbye's N) is sent again as it was; one it may or may not have
 * executed (no goodbye: kill -9, a crash) is sent again only when that
 * cannot log anything twice (see lib_journal_class). Pure: no I/O. */
#ifndef TFEVENTS_LIB_JOURNAL_H
#define TFEVENTS_LIB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Bytes of unacknowledged frames after which the transport asks for an
 * acknowledgement (a checkpoint flush), and past which it waits for it
 * before sending more: the memory kept, and what a crash can put in doubt. */
#define LIB_JOURNAL_CHECKPOINT_BYTES ((size_t)1 << 20)
#define LIB_JOURNAL_MAX_BYTES ((size_t)64 << 20)

/* What a request is, for sending it again when the daemon may have
 * executed it already. */
enum lib_journal_class {
    LIB_JOURNAL_CALL = 0,      /* carries an id: its caller waits and decides */
    LIB_JOURNAL_LOG_AT,        /* a log at an explicit step: sent again with
                                  Log.resent, the daemon skips the values
                                  already written */
    LIB_JOURNAL_LOG_COUNTER,   /* a log at the counter's step: sending it again
                                  could log it twice at another step */
    LIB_JOURNAL_STEP_SET,      /* moves the counter: sending it again could
                                  move it back below steps written since */
    LIB_JOURNAL_REPLAYABLE,    /* restart, hparams: the same again changes
                                  nothing TensorBoard shows */
    LIB_JOURNAL_FLUSH_ALL,     /* a flush or close of every logdir: its answer
                                  acknowledges what came before it */
};

/* Frame buffers kept for reuse once acknowledged (each at most
 * LIB_JOURNAL_SPARE_MAX bytes): the batch is handed over, never copied. */
#define LIB_JOURNAL_SPARES 32u
#define LIB_JOURNAL_SPARE_MAX ((size_t)1 << 20)

struct lib_journal {
    struct buf frames;         /* struct lib_journal_frame[], each owning its buffer */
    size_t bytes;              /* in the frames' buffers */
    struct buf spares[LIB_JOURNAL_SPARES];
    unsigned n_spares;
    struct buf refused;        /* uint64_t: numbers refused (not to send again) */
    uint64_t acked;            /* requests 1..acked are written */
    bool goodbye;              /* the daemon said goodbye: none after acked was read */
};

void lib_journal_init(struct lib_journal *j);
void lib_journal_done(struct lib_journal *j);   /* NULL-safe */

/* Keep the frame in *b -- room for the frame header (skip bytes), then a
 * Batch payload whose requests are first .. first+count-1 -- to be
 * written (unsent until lib_journal_sent()). Takes b's memory; b is left
 * empty (holding a spare buffer when there is one). Frames are written in
 * the order they are added. -ENOMEM. */
int lib_journal_add(struct lib_journal *j, struct buf *b, size_t skip, uint64_t first,
                    uint32_t count);
/* The first frame not written whole yet (false: none): its whole buffer,
 * header room included, borrowed (writable) until the journal changes. */
bool lib_journal_unsent(const struct lib_journal *j, uint8_t **ret_frame, size_t *ret_len);
/* That frame was written whole. */
void lib_journal_sent(struct lib_journal *j);
/* Requests kept that are neither acknowledged nor refused. */
uint64_t lib_journal_pending(const struct lib_journal *j);

/* Requests 1..upto are written: drop the frames they cover. */
void lib_journal_ack(struct lib_journal *j, uint64_t upto);
/* Request n was refused (reported already: never sent again). */
void lib_journal_refused(struct lib_journal *j, uint64_t n);

/* Bytes kept. */
size_t lib_journal_bytes(const struct lib_journal *j);

/* The class of req[0..len) (a serialized Request). */
enum lib_journal_class lib_journal_classify(const uint8_t *req, size_t len, uint64_t *ret_id);

/* req (LIB_JOURNAL_LOG_AT, without id) with Log.resent set, into out
 * (reset first). -EINVAL when it is not such a request, -ENOMEM. */
int lib_journal_resent(struct buf *out, const uint8_t *req, size_t len);

/* Each request of a Batch payload: fn(ctx, bytes, len) in order; stops at
 * fn's first nonzero return, which it returns. -EPROTO for a payload that
 * is not a Batch of requests. */
int lib_journal_each_request(const uint8_t *payload, size_t len,
                             int (*fn)(void *ctx, const uint8_t *req, size_t len), void *ctx);

/* After a break: for every request not acknowledged nor refused, in
 * order, fn(ctx, req, len, known_unread): known_unread when the daemon
 * cannot have read it (its frame was not written whole, or it comes
 * after the goodbye's number). Stops at fn's first negative return. Then
 * empties j (ready for the next connection). */
int lib_journal_replay(struct lib_journal *j,
                       int (*fn)(void *ctx, const uint8_t *req, size_t len, bool known_unread),
                       void *ctx);

#endif
