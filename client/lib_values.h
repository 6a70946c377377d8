/* lib_values: the tfevents_values collection of libtfevents (tfevents.h).
 *
 * Every tfevents_add_*() encodes its value at once as a tfevents.Value
 * (proto/tfevents.proto) and appends it, as field 5 of a tfevents.Log, to
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

struct tfevents_values {
    struct buf packed;     /* Log field 5 entries: key, length, Value */
    size_t n;
    size_t last_off;       /* where the last entry starts in packed */
};

/* Encoded Log.values entries (borrowed). */
static inline const struct buf *lib_values_bytes(const tfevents_values *vs)
{
    return &vs->packed;
}

#endif
