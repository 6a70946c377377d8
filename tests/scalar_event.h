/* scalar_event: the scalar Event our writers produce, built with protobuf-c
 * for tests and benchmarks that need realistic input for readers:
 * {wall_time, step, summary{value{tag, rank-0 DT_FLOAT tensor, metadata
 * (plugin "scalars", DATA_CLASS_SCALAR) when with_md}}}. Writers put the
 * metadata on a tag's first value in each file only. */
#ifndef TFEVENTS_SCALAR_EVENT_H
#define TFEVENTS_SCALAR_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* Appends the packed Event (not framed) to out (borrowed). Returns 0,
 * -EMSGSIZE past out's cap or -ENOMEM. tag is borrowed. */
int scalar_event_append(struct buf *out, const char *tag, int64_t step, double wall_time, float x,
                        bool with_md);

#endif
