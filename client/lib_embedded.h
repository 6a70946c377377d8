/* lib_embedded: libtfevents' in-process transport. Requests (the same
 * tfevents.Request bytes the daemon would get) are decoded with
 * frame_decode and executed against a logdir_set rooted at "/", with the
 * daemon's semantics (dispatch.c): the same step policy, counters, restart,
 * flush and close. Writes are synchronous, on the caller's thread: a run's
 * pending records are written when they reach batch_bytes, on flush, on
 * close and by lib_embedded_tick(). Not thread-safe (the handle's mutex
 * serialises calls). */
#ifndef TFEVENTS_LIB_EMBEDDED_H
#define TFEVENTS_LIB_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib_request.h"
#include "lib_values.h"
#include "logdir_set.h"

struct lib_embedded;

/* NULL: out of memory. */
struct lib_embedded *lib_embedded_new(size_t batch_bytes, bool any_step);

/* Write everything, close every file, free. Returns the first error.
 * NULL-safe. */
int lib_embedded_free(struct lib_embedded *e);

/* Execute one request (req[0..len), without id). Fills *rp. Returns 0, or
 * the negative errno of the failure with the sentence in rp->error
 * (-ERANGE: refused by the step policy). */
int lib_embedded_exec(struct lib_embedded *e, const uint8_t *req, size_t len,
                      struct lib_reply *rp);

/* Execute one line of the JSON protocol (line[0..len), without its
 * newline) as the daemon would, with its default limits; the reply line
 * the daemon would send (none for a fire-and-forget line that succeeded)
 * is appended to out, without a newline. Returns 0, the negative errno of
 * a refusal (its sentence is in the reply), or of out's growth. */
int lib_embedded_exec_json(struct lib_embedded *e, const char *line, size_t len,
                           struct buf *out);

/* lib_embedded_log_scalars() left the call to lib_embedded_exec(). */
#define LIB_EMBEDDED_DECLINED 1

/* The direct route of plain scalars (the hot path): a Log request of
 * sc[0..n) (borrowed) at step (mode as in logdir.h) and wall_time into
 * logdir_name (the transport's name), handed to logdir_log() without
 * encoding a request and decoding it again. It does exactly what
 * lib_embedded_exec() does for the equivalent request, or declines:
 * whatever the decoder would refuse (an invalid run, tag, step, wall time)
 * returns LIB_EMBEDDED_DECLINED having changed nothing, so that the
 * general route answers with its own words. Otherwise 0 or a negative
 * errno with rp->error, as lib_embedded_exec() (rp is not cleared first:
 * only ok, has_step, step and error are set). */
int lib_embedded_log_scalars(struct lib_embedded *e, const char *logdir_name,
                             enum logdir_step_mode mode, int64_t step, double wall_time,
                             const struct lib_scalar *sc, size_t n, struct lib_reply *rp);

/* lib_embedded_log_scalars() for one scalar, the commonest call:
 * *cache is the caller's slot for logdir_name's logdir (NULL at first;
 * filled here, valid for e's lifetime; reset it when the name changes).
 * When the logdir's shortcut takes the value (logdir_log_scalar()),
 * nothing else is done; otherwise this is lib_embedded_log_scalars(). */
int lib_embedded_log_scalar(struct lib_embedded *e, const char *logdir_name, logdir **cache,
                            enum logdir_step_mode mode, int64_t step, double wall_time,
                            const char *run, const char *tag, double value,
                            struct lib_reply *rp);

/* Write whatever is pending (the background flush). Returns the first
 * write error. */
int lib_embedded_tick(struct lib_embedded *e);

#endif
