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

/* Write whatever is pending (the background flush). Returns the first
 * write error. */
int lib_embedded_tick(struct lib_embedded *e);

#endif
