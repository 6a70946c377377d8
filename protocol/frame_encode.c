#include "frame_encode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame_decode.h"
#include "tfwire.pb-c.h"

/* Pack msg behind a frame header of kind into out. */
static int append_frame(struct buf *out, const ProtobufCMessage *msg, uint8_t kind)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > UINT32_MAX)
        return -EMSGSIZE;
    int r = buf_reserve(out, FRAME_HEADER_LEN + len);
    if (r < 0)
        return r;
    frame_header_write(out->data + out->len, (uint32_t)len, kind);
    protobuf_c_message_pack(msg, out->data + out->len + FRAME_HEADER_LEN);
    out->len += FRAME_HEADER_LEN + len;
    return 0;
}

int frame_encode_hello(struct buf *out, uint64_t max_frame, const char *root)
{
    Tfevents__Hello h = TFEVENTS__HELLO__INIT;
    h.protocol = 1;
    h.max_frame = max_frame;
    h.root = (char *)root;
    return append_frame(out, &h.base, FRAME_HELLO);
}

/* A JSON integer that fits the field exactly. */
static bool as_int(const cJSON *it, double lo, double hi, double *ret)
{
    if (!cJSON_IsNumber(it))
        return false;
    double d = it->valuedouble;
    if (!(d >= lo && d <= hi) || floor(d) != d)
        return false;
    *ret = d;
    return true;
}

int frame_encode_reply_json(struct buf *out, const char *json, size_t len, bool closing)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -EBADMSG;
    }
    Tfevents__Reply rp = TFEVENTS__REPLY__INIT;
    char *stats = NULL;
    int r = 0;
    double d;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "id"))) {
        if (cJSON_IsString(it)) {
            char *end = NULL;
            errno = 0;
            unsigned long long id = strtoull(it->valuestring, &end, 10);
            if (*it->valuestring && end && !*end && errno == 0) {
                rp.has_id = true;
                rp.id = id;
            }
        } else if (as_int(it, 0, 18446744073709549568.0, &d)) {
            rp.has_id = true;
            rp.id = (uint64_t)d;
        }
    }
    rp.ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ok"));
    if (as_int(cJSON_GetObjectItemCaseSensitive(root, "line"), 0, 18446744073709549568.0, &d)) {
        rp.has_request = true;
        rp.request = (uint64_t)d;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "error")) && cJSON_IsString(it))
        rp.error = it->valuestring;
    if (as_int(cJSON_GetObjectItemCaseSensitive(root, "step"), -9007199254740992.0,
               9007199254740992.0, &d)) {
        rp.has_step = true;
        rp.step = (int64_t)d;
    }
    if (as_int(cJSON_GetObjectItemCaseSensitive(root, "next"), -9007199254740992.0,
               9007199254740992.0, &d)) {
        rp.has_next = true;
        rp.next = (int64_t)d;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "pong")) && cJSON_IsBool(it)) {
        rp.has_pong = true;
        rp.pong = cJSON_IsTrue(it);
    }
    if (as_int(cJSON_GetObjectItemCaseSensitive(root, "protocol"), 0, 4294967295.0, &d)) {
        rp.has_protocol = true;
        rp.protocol = (uint32_t)d;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "stats"))) {
        stats = cJSON_PrintUnformatted(it);
        if (!stats) {
            r = -ENOMEM;
            goto out;
        }
        rp.stats_json = stats;
    }
    if (closing) {
        rp.has_closing = true;
        rp.closing = true;
    }
    r = append_frame(out, &rp.base, FRAME_REPLY);
out:
    cJSON_free(stats);
    cJSON_Delete(root);
    return r;
}
