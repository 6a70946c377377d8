/* lib_values: the tfevents_values collection of libtfevents (tfevents.h).
 *
 * Every tfevents_add_*() encodes its value at once as a tfevents.Value
 * (proto/tfwire.proto) and appends it, as field 5 of a tfevents.Log, to
 * one buffer: logging is then a copy of that buffer into a request, and the
 * same bytes feed the daemon (binary protocol) or the in-process writer
 * (frame_decode), so both transports interpret values identically. */
#ifndef TFEVENTS_LIB_VALUES_H
#define TFEVENTS_LIB_VALUES_H

#include <stddef.h>

#include "buf.h"
#include "tfevents.h"

/* Encoded bytes of one tfevents_values (the frame limit bounds it anyway). */
#define LIB_VALUES_MAX_BYTES ((size_t)1 << 30)

/* Scratch memory a tfevents_values keeps between tfevents_add_*() calls,
 * up to this capacity per buffer: a 10k-value histogram's sub-message and
 * entry are 80 KB each, and allocating and freeing them on every call made
 * glibc hand the memory back to the kernel and fault it in again (12 page
 * faults and some 600 us per histogram, docs/performance.md). */
#define LIB_VALUES_KEEP_SCRATCH ((size_t)4 << 20)

struct tfevents_values {
    struct buf packed;     /* Log field 5 entries: key, length, Value */
    size_t n;
    size_t last_off;       /* where the last entry starts in packed */
    struct buf body, sub;  /* scratch: an entry being built, its sub-message */
};

/* An empty collection in place (tfevents_values_new() allocates one). */
void lib_values_init(tfevents_values *vs);

/* Free what vs holds (not vs itself). NULL-safe. */
void lib_values_done(tfevents_values *vs);

/* One plain scalar (no display name or description) of a log call, for
 * the direct routes of lib_embedded and lib_daemon. run NULL is ".". */
struct lib_scalar {
    const char *run;
    const char *tag;
    double value;
};

/* Reusable storage for lib_values_scalars(). */
struct lib_scalars {
    struct lib_scalar *v;
    size_t n, cap;
    struct buf text;       /* NUL-terminated copies of runs and tags */
};

void lib_scalars_init(struct lib_scalars *s);
void lib_scalars_done(struct lib_scalars *s);   /* NULL-safe */

/* When every value of vs is a plain scalar (what tfevents_add_scalar()
 * alone makes), fill s with them (pointers into s->text, valid until the
 * next call) and return 1; 0 when some value is of another kind or
 * carries metadata (the general path then handles the call); -ENOMEM. */
int lib_values_scalars(const tfevents_values *vs, struct lib_scalars *s);

/* Encoded Log.values entries (borrowed). */
static inline const struct buf *lib_values_bytes(const tfevents_values *vs)
{
    return &vs->packed;
}

#endif
