#include "event.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "pbfields.h"
#include "pbwire.h"

double event_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* proto3 leaves a scalar field out when it holds its default; protobuf
 * decides by the double's bit pattern, so -0.0 is written and 0.0 is not.
 * Matching that keeps our bytes identical to protobuf's. */
static bool wall_time_present(double wall_time)
{
    uint64_t bits;
    memcpy(&bits, &wall_time, sizeof bits);
    return bits != 0;
}

/* Size of the common head {wall_time, step}. */
static size_t head_size(double wall_time, int64_t step)
{
    size_t n = 0;
    if (wall_time_present(wall_time))
        n += 1 + 8;
    if (step != 0)
        n += 1 + pb_varint_size((uint64_t)step);
    return n;
}

static uint8_t *put_head(uint8_t *p, double wall_time, int64_t step)
{
    if (wall_time_present(wall_time)) {
        p += pb_put_tag(p, PBF_EVENT_WALL_TIME, PB_FIXED64);
        p += pb_put_double(p, wall_time);
    }
    if (step != 0) {
        p += pb_put_tag(p, PBF_EVENT_STEP, PB_VARINT);
        /* int64 is a two's complement varint: negative steps take 10 bytes. */
        p += pb_put_varint(p, (uint64_t)step);
    }
    return p;
}

/* Emit head + one length-delimited oneof field whose payload is
 * data[0..len), all at once so that a failure appends nothing. */
static int encode_with_field(struct buf *out, double wall_time, int64_t step,
                             uint32_t field, const void *data, size_t len)
{
    size_t total = head_size(wall_time, step) + pb_len_field_size(field, len);
    int r = buf_reserve(out, total);
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    p = put_head(p, wall_time, step);
    p += pb_put_tag(p, field, PB_LEN);
    p += pb_put_varint(p, len);
    if (len > 0)
        memcpy(p, data, len);
    out->len += total;
    return 0;
}

int event_encode_file_version(struct buf *out, double wall_time, const char *version)
{
    if (!version)
        return -EINVAL;
    return encode_with_field(out, wall_time, 0, PBF_EVENT_FILE_VERSION, version,
                             strlen(version));
}

int event_encode_summary(struct buf *out, double wall_time, int64_t step,
                         const void *values, size_t values_len)
{
    if (!values && values_len > 0)
        return -EINVAL;
    return encode_with_field(out, wall_time, step, PBF_EVENT_SUMMARY, values, values_len);
}

int event_encode_session_log(struct buf *out, double wall_time, int64_t step,
                             Tensorboard__SessionLog__SessionStatus status,
                             const char *msg)
{
    /* Sizes first, so the whole event is reserved once and a failure
     * appends nothing. */
    size_t msg_len = msg ? strlen(msg) : 0;
    size_t body = 0;
    if (status != 0)
        body += 1 + pb_varint_size((uint64_t)(int64_t)status);
    if (msg_len > 0)
        body += pb_len_field_size(PBF_SESSION_LOG_MSG, msg_len);

    size_t total = head_size(wall_time, step) + pb_len_field_size(PBF_EVENT_SESSION_LOG, body);
    int r = buf_reserve(out, total);
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    p = put_head(p, wall_time, step);
    p += pb_put_tag(p, PBF_EVENT_SESSION_LOG, PB_LEN);
    p += pb_put_varint(p, body);
    if (status != 0) {
        p += pb_put_tag(p, PBF_SESSION_LOG_STATUS, PB_VARINT);
        /* Enums are int32 on the wire, sign-extended to 64 bits. */
        p += pb_put_varint(p, (uint64_t)(int64_t)status);
    }
    if (msg_len > 0) {
        p += pb_put_tag(p, PBF_SESSION_LOG_MSG, PB_LEN);
        p += pb_put_varint(p, msg_len);
        memcpy(p, msg, msg_len);
    }
    out->len += total;
    return 0;
}

int event_encode_graph_def(struct buf *out, double wall_time, int64_t step,
                           const void *graph_def, size_t len)
{
    if (!graph_def && len > 0)
        return -EINVAL;
    return encode_with_field(out, wall_time, step, PBF_EVENT_GRAPH_DEF, graph_def, len);
}

int event_encode_run_metadata(struct buf *out, double wall_time, int64_t step,
                              const char *tag, size_t tag_len, const void *run_metadata,
                              size_t len)
{
    if ((!tag && tag_len > 0) || (!run_metadata && len > 0))
        return -EINVAL;
    /* proto3 leaves empty fields out. */
    size_t body = (tag_len ? pb_len_field_size(PBF_TRM_TAG, tag_len) : 0) +
                  (len ? pb_len_field_size(PBF_TRM_RUN_METADATA, len) : 0);
    size_t total =
        head_size(wall_time, step) + pb_len_field_size(PBF_EVENT_TAGGED_RUN_METADATA, body);
    int r = buf_reserve(out, total);
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    p = put_head(p, wall_time, step);
    p += pb_put_tag(p, PBF_EVENT_TAGGED_RUN_METADATA, PB_LEN);
    p += pb_put_varint(p, body);
    if (tag_len) {
        p += pb_put_tag(p, PBF_TRM_TAG, PB_LEN);
        p += pb_put_varint(p, tag_len);
        memcpy(p, tag, tag_len);
        p += tag_len;
    }
    if (len) {
        p += pb_put_tag(p, PBF_TRM_RUN_METADATA, PB_LEN);
        p += pb_put_varint(p, len);
        memcpy(p, run_metadata, len);
    }
    out->len += total;
    return 0;
}

Tensorboard__Event *event_decode(const void *payload, size_t len)
{
    return tensorboard__event__unpack(NULL, len, payload);
}

int event_unpack(const void *payload, size_t len, Tensorboard__Event **ret)
{
    ProtobufCMessage *m;
    int r = pb_unpack(&tensorboard__event__descriptor, payload, len, &m);
    if (r < 0)
        return r;
    *ret = (Tensorboard__Event *)m;
    return 0;
}

void event_free(Tensorboard__Event *ev)
{
    if (ev)
        tensorboard__event__free_unpacked(ev, NULL);
}
