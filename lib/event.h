/* event: building and decoding Events.
 *
 * Writing: events are assembled from already-serialized Summary.Value bytes
 * (see summary.h) with the pbwire primitives -- no message trees on the hot
 * path. Reading: protobuf-c decodes into Tensorboard__Event. */
#ifndef TFEVENTS_EVENT_H
#define TFEVENTS_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.pb-c.h"

/* Wall-clock time in seconds with sub-second precision. */
double event_now(void);

/* Serialize {wall_time, file_version} into out (appended). */
int event_encode_file_version(struct buf *out, double wall_time, const char *version);

/* Serialize {wall_time, step, summary {value...}} into out (appended), where
 * values is the concatenation of serialized Summary.Value messages, each
 * already prefixed by its field tag and length (see summary_value_encode()). */
int event_encode_summary(struct buf *out, double wall_time, int64_t step,
                         const void *values, size_t values_len);

/* Serialize {wall_time, step, session_log {status}} into out (appended). */
int event_encode_session_log(struct buf *out, double wall_time, int64_t step,
                             Tensorboard__SessionLog__SessionStatus status,
                             const char *msg);

/* Serialize {wall_time, step, graph_def} (graph_def: a serialized GraphDef,
 * copied as it is) into out (appended). */
int event_encode_graph_def(struct buf *out, double wall_time, int64_t step,
                           const void *graph_def, size_t len);

/* Serialize {wall_time, step, tagged_run_metadata {tag, run_metadata}}
 * (run_metadata: a serialized RunMetadata, copied as it is). */
int event_encode_run_metadata(struct buf *out, double wall_time, int64_t step,
                              const char *tag, size_t tag_len, const void *run_metadata,
                              size_t len);

/* Decode a payload. Returns NULL if it is not an Event (or out of memory). */
Tensorboard__Event *event_decode(const void *payload, size_t len);

/* Decode a payload, telling corruption from a lack of memory: 0 with *ret
 * (caller owns it; event_free()), -EBADMSG when it is not an Event,
 * -ENOMEM. */
int event_unpack(const void *payload, size_t len, Tensorboard__Event **ret);

/* NULL-safe. */
void event_free(Tensorboard__Event *ev);

#endif
