/* The binary protocol's requests, field by field, mapped onto the JSON
 * protocol's messages (see frame_decode.h and docs/protocol.md). The
 * checks and messages follow json_decode.c so that both protocols refuse
 * the same things with the same words. */
#include "frame_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "pbwire.h"
#include "hparams.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "utf8.h"
#include "value.h"

/* Steps travel as JSON numbers in the other protocol: keep the same range. */
#define FRAME_MAX_STEP ((uint64_t)REQUEST_MAX_STEP)
/* Wall times must fit the 10-digit seconds of event file names. */
#define FRAME_MAX_WALL_TIME REQUEST_MAX_WALL_TIME

__attribute__((format(printf, 3, 4)))
static void fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/* Every error path below is "return fail_code(...)": the code and the
 * sentence set together. */
#define FAIL(code, ...) (fail(c->err, c->err_size, __VA_ARGS__), (code))

struct ctx {
    struct request *m;
    char *err;
    size_t err_size;
};

int frame_magic_check(const void *data, size_t len)
{
    size_t n = len < FRAME_MAGIC_LEN ? len : FRAME_MAGIC_LEN;
    if (memcmp(data, FRAME_MAGIC, n) != 0)
        return -EPROTO;
    return n == FRAME_MAGIC_LEN ? 1 : 0;
}

int frame_header_read(const uint8_t *p, size_t avail, size_t max_payload, uint32_t *ret_len,
                      uint8_t *ret_kind)
{
    if (avail < FRAME_HEADER_LEN)
        return -EAGAIN;
    uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24;
    uint8_t kind = p[4];
    if (kind != FRAME_BATCH && kind != FRAME_REPLY && kind != FRAME_HELLO)
        return -EPROTO;
    if (len > max_payload)
        return -EMSGSIZE;
    *ret_len = len;
    *ret_kind = kind;
    return 0;
}

void frame_header_write(uint8_t *out, uint32_t len, uint8_t kind)
{
    out[0] = (uint8_t)len;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 24);
    out[4] = kind;
}

/* ---- unknown fields ------------------------------------------------------ */

static int check_unknown(const ProtobufCMessage *msg, unsigned depth, char *err, size_t size)
{
    if (depth > FRAME_MAX_DEPTH) {
        fail(err, size, "messages nested deeper than %u", FRAME_MAX_DEPTH);
        return -EINVAL;
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (msg->n_unknown_fields > 0) {
        fail(err, size, "unknown field %" PRIu32 " in %s (this daemon speaks protocol %d)",
             msg->unknown_fields[0].tag, d->name, PROTOCOL_VERSION);
        return -EINVAL;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)msg;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++) {
                int r = check_unknown(items[k], depth + 1, err, size);
                if (r < 0)
                    return r;
            }
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)(base + f->offset);
        if (sub) {
            int r = check_unknown(sub, depth + 1, err, size);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int frame_check_unknown(const ProtobufCMessage *msg, char *err, size_t err_size)
{
    return check_unknown(msg, 0, err, err_size);
}

int frame_decode_batch(const uint8_t *payload, size_t len, Tfevents__Batch **ret, char *err,
                       size_t err_size)
{
    *ret = NULL;
    err[0] = '\0';
    Tfevents__Batch *b = tfevents__batch__unpack(NULL, len, payload);
    if (!b) {
        fail(err, err_size,
             "frame payload (%zu bytes) is not a tfevents.Batch (a wrong wire type, a "
             "truncated field or a missing required field)",
             len);
        return -EBADMSG;
    }
    /* Only the Batch's own fields here: unknown fields inside a request
     * are that request's error (with its id), the others still run. */
    int r = 0;
    if (b->base.n_unknown_fields > 0) {
        fail(err, err_size, "unknown field %" PRIu32 " in tfevents.Batch",
             b->base.unknown_fields[0].tag);
        r = -EINVAL;
    }
    if (r == 0 && b->n_requests > FRAME_MAX_REQUESTS) {
        fail(err, err_size, "more than %u requests in one frame", FRAME_MAX_REQUESTS);
        r = -EMSGSIZE;
    }
    if (r < 0) {
        tfevents__batch__free_unpacked(b, NULL);
        return r;
    }
    *ret = b;
    return 0;
}

void frame_batch_free(Tfevents__Batch *b)
{
    if (b)
        tfevents__batch__free_unpacked(b, NULL);
}


/* ---- helpers ------------------------------------------------------------- */

static int fail_builder(struct ctx *c, int r, const char *tag, const char *kind)
{
    const char *why = summary_last_error();
    if (r == -ENOMEM)
        return FAIL(r, "out of memory");
    if (!why || !*why)
        why = r == -EILSEQ ? "invalid UTF-8" : r == -EMSGSIZE ? "too large" : "invalid";
    return FAIL(r, "value '%s' (%s): %s", tag, kind, why);
}

static int read_name(struct ctx *c, const char *s, const char *field, char *out)
{
    size_t len = strlen(s);
    if (!utf8_valid(s, len))
        return FAIL(-EILSEQ, "\"%s\" is not valid UTF-8", field);
    const char *why = NULL;
    int r = logdir_normalize(s, len, out, LOGDIR_MAX_NAME + 1, &why);
    if (r < 0)
        return FAIL(r == -ENAMETOOLONG ? -EMSGSIZE : -EINVAL, "\"%s\" '%.200s': %s", field, s,
                    why ? why : "invalid");
    return 0;
}

static int read_logdir(struct ctx *c, const char *s)
{
    int r = read_name(c, s, "logdir", c->m->logdir);
    if (r == 0)
        c->m->has_logdir = true;
    return r;
}

static int read_run(struct ctx *c, const char *s)
{
    if (!s)
        return 0;
    int r = read_name(c, s, "run", c->m->run);
    if (r == 0)
        c->m->has_run = true;
    return r;
}

static int read_wall_time(struct ctx *c, bool has, double wt)
{
    if (!has)
        return 0;
    if (!(wt >= 0 && wt < FRAME_MAX_WALL_TIME))
        return FAIL(-EINVAL, "\"wall_time\" must be seconds since 1970 (a number from 0 to 1e10)");
    c->m->has_wall_time = true;
    c->m->wall_time = wt;
    return 0;
}

/* A new value slot in run (normalised; copied). */
static int add_value(struct ctx *c, const char *run, struct summary_value **ret)
{
    int r = request_add_value(c->m, run, ret);
    if (r == -EMSGSIZE)
        return FAIL(r, "more than %u values in one message", REQUEST_MAX_VALUES);
    if (r < 0)
        return FAIL(r, "out of memory");
    return 0;
}

/* The product of a shape, refusing overflow and more than max elements. */
static int shape_count(struct ctx *c, const uint64_t *shape, size_t rank, uint64_t max,
                       const char *where, const char *tag, size_t *ret)
{
    if (rank > SUMMARY_MAX_RANK)
        return FAIL(-EINVAL, "value '%s': %s \"shape\" has more than %u sizes", tag, where,
                    SUMMARY_MAX_RANK);
    uint64_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (shape[i] > max || (shape[i] > 0 && n > max / shape[i]))
            return FAIL(-EMSGSIZE, "value '%s': %s shape too large", tag, where);
        n *= shape[i];
    }
    *ret = (size_t)n;
    return 0;
}

/* ---- values -------------------------------------------------------------- */

static int value_text(struct ctx *c, const Tfevents__Text *t, const char *tag,
                      struct summary_value *v, const struct summary_meta *meta)
{
    if (t->n_shape == 0) {
        if (t->n_strings != 1)
            return FAIL(-EINVAL,
                        "value '%s': text without a \"shape\" is one string (%zu given)", tag,
                        t->n_strings);
        int r = summary_text(v, tag, t->strings[0], strlen(t->strings[0]), meta);
        return r < 0 ? fail_builder(c, r, tag, "text") : 0;
    }
    if (t->n_shape > 2)
        return FAIL(-EINVAL, "value '%s': text \"shape\" is [n] or [rows, columns]", tag);
    size_t count;
    int r = shape_count(c, t->shape, t->n_shape, SUMMARY_MAX_STRINGS, "text", tag, &count);
    if (r < 0)
        return r;
    if (count > SUMMARY_MAX_STRINGS)
        return FAIL(-EMSGSIZE, "value '%s': more than %u strings", tag, SUMMARY_MAX_STRINGS);
    if (count != t->n_strings)
        return FAIL(-EINVAL, "value '%s': text shape holds %zu strings but %zu were given", tag,
                    count, t->n_strings);
    struct summary_bytes *s = calloc(count ? count : 1, sizeof *s);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        s[i].data = t->strings[i];
        s[i].len = strlen(t->strings[i]);
    }
    size_t dims[2] = {(size_t)t->shape[0], t->n_shape == 2 ? (size_t)t->shape[1] : 0};
    r = summary_text_array(v, tag, s, t->n_shape, dims, meta);
    free(s);
    return r < 0 ? fail_builder(c, r, tag, "text") : 0;
}

static int value_histogram(struct ctx *c, const Tfevents__Histogram *h, const char *tag,
                           struct summary_value *v, const struct summary_meta *meta)
{
    int r;
    bool buckets = h->n_edges > 0 || h->n_counts > 0;
    if (buckets && h->n_values > 0)
        return FAIL(-EINVAL,
                    "value '%s': histogram needs either \"values\" or \"edges\" and \"counts\"",
                    tag);
    if (buckets) {
        if (h->has_bucket_count)
            return FAIL(-EINVAL, "value '%s': \"bucket_count\" goes with \"values\"", tag);
        if (h->n_edges != h->n_counts + 1)
            return FAIL(-EINVAL, "value '%s': histogram needs k+1 \"edges\" and k \"counts\"",
                        tag);
        r = summary_histogram_buckets(v, tag, h->edges, h->counts, h->n_counts, meta);
    } else {
        int k = HISTOGRAM_DEFAULT_BUCKETS;
        if (h->has_bucket_count) {
            if (h->bucket_count > (uint32_t)HISTOGRAM_MAX_BUCKETS)
                return FAIL(-EINVAL,
                            "value '%s': \"bucket_count\" must be an integer from 0 to %d", tag,
                            HISTOGRAM_MAX_BUCKETS);
            k = (int)h->bucket_count;
        }
        r = summary_histogram(v, tag, h->values, h->n_values, k, meta);
    }
    return r < 0 ? fail_builder(c, r, tag, "histogram") : 0;
}

/* Byte strings of a repeated bytes field as summary_bytes (borrowed). */
static struct summary_bytes *blobs_of(const ProtobufCBinaryData *b, size_t n)
{
    struct summary_bytes *s = calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; s && i < n; i++) {
        s[i].data = b[i].data;
        s[i].len = b[i].len;
    }
    return s;
}

static int value_image(struct ctx *c, const Tfevents__Image *im, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    int forms = (im->n_png > 0) + (im->n_jpeg > 0) + (im->has_pixels_u8 ? 1 : 0) +
                (im->n_pixels_float > 0);
    if (forms != 1)
        return FAIL(-EINVAL,
                    "value '%s': image needs exactly one of \"png\", \"jpeg\", \"pixels_u8\", "
                    "\"pixels_float\"",
                    tag);
    int r;
    if (im->n_png > 0 || im->n_jpeg > 0) {
        if (im->n_shape > 0)
            return FAIL(-EINVAL, "value '%s': \"shape\" goes with pixels", tag);
        size_t n = im->n_png ? im->n_png : im->n_jpeg;
        if (n > SUMMARY_MAX_IMAGES)
            return FAIL(-EINVAL, "value '%s': between 1 and %u images", tag, SUMMARY_MAX_IMAGES);
        struct summary_bytes *s = blobs_of(im->n_png ? im->png : im->jpeg, n);
        if (!s)
            return FAIL(-ENOMEM, "out of memory");
        r = summary_image_encoded(v, tag, s, n, im->has_width ? im->width : 0,
                                  im->has_height ? im->height : 0, meta);
        free(s);
        return r < 0 ? fail_builder(c, r, tag, "image") : 0;
    }
    if (im->has_width || im->has_height)
        return FAIL(-EINVAL, "value '%s': with pixels the size comes from the shape", tag);
    size_t batch = 1, hgt, wid, ch = 1;
    const uint64_t *s = im->shape;
    switch (im->n_shape) {
    case 2:
        hgt = (size_t)s[0], wid = (size_t)s[1];
        break;
    case 3:
        hgt = (size_t)s[0], wid = (size_t)s[1], ch = (size_t)s[2];
        break;
    case 4:
        batch = (size_t)s[0], hgt = (size_t)s[1], wid = (size_t)s[2], ch = (size_t)s[3];
        break;
    default:
        return FAIL(-EINVAL,
                    "value '%s': image pixels need \"shape\" [h,w], [h,w,c] or [n,h,w,c]", tag);
    }
    size_t count;
    r = shape_count(c, s, im->n_shape, REQUEST_MAX_ARRAY, "image", tag, &count);
    if (r < 0)
        return r;
    size_t given = im->has_pixels_u8 ? im->pixels_u8.len : im->n_pixels_float;
    if (count != given)
        return FAIL(-EINVAL, "value '%s': image shape holds %zu values but %zu were given", tag,
                    count, given);
    if (im->has_pixels_u8)
        r = summary_image_u8(v, tag, im->pixels_u8.data, batch, hgt, wid, ch, meta);
    else
        r = summary_image_floats(v, tag, im->pixels_float, batch, hgt, wid, ch, meta);
    return r < 0 ? fail_builder(c, r, tag, "image") : 0;
}

static int value_audio(struct ctx *c, const Tfevents__Audio *a, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    if ((a->n_wav > 0) == (a->n_samples > 0))
        return FAIL(-EINVAL, "value '%s': audio needs exactly one of \"wav\", \"samples\"", tag);
    int r;
    if (a->n_wav > 0) {
        if (a->has_sample_rate || a->n_shape > 0)
            return FAIL(-EINVAL, "value '%s': a WAV file carries its own rate and shape", tag);
        if (a->n_wav > SUMMARY_MAX_AUDIO_CLIPS)
            return FAIL(-EINVAL, "value '%s': between 1 and %u clips", tag,
                        SUMMARY_MAX_AUDIO_CLIPS);
        struct summary_bytes *s = blobs_of(a->wav, a->n_wav);
        if (!s)
            return FAIL(-ENOMEM, "out of memory");
        r = summary_audio_wav(v, tag, s, a->n_wav, meta);
        free(s);
        return r < 0 ? fail_builder(c, r, tag, "audio") : 0;
    }
    if (!a->has_sample_rate || a->sample_rate < 1)
        return FAIL(-EINVAL, "value '%s': audio samples need a \"sample_rate\"", tag);
    size_t batch = 1, frames, ch = 1;
    const uint64_t *s = a->shape;
    switch (a->n_shape) {
    case 0:
        frames = a->n_samples;
        break;
    case 1:
        frames = (size_t)s[0];
        break;
    case 2:
        frames = (size_t)s[0], ch = (size_t)s[1];
        break;
    case 3:
        batch = (size_t)s[0], frames = (size_t)s[1], ch = (size_t)s[2];
        break;
    default:
        return FAIL(-EINVAL,
                    "value '%s': audio samples must have shape [frames], [frames,channels] or "
                    "[clips,frames,channels]",
                    tag);
    }
    size_t count = a->n_samples;
    if (a->n_shape > 0 &&
        (r = shape_count(c, s, a->n_shape, REQUEST_MAX_ARRAY, "audio", tag, &count)) < 0)
        return r;
    if (count != a->n_samples)
        return FAIL(-EINVAL, "value '%s': audio shape holds %zu values but %zu were given", tag,
                    count, a->n_samples);
    r = summary_audio_floats(v, tag, a->samples, batch, frames, ch, a->sample_rate, meta);
    return r < 0 ? fail_builder(c, r, tag, "audio") : 0;
}

static int value_custom(struct ctx *c, const Tfevents__Custom *cu, const char *tag,
                        struct summary_value *v, const struct summary_meta *meta)
{
    if (!*cu->plugin)
        return FAIL(-EINVAL, "value '%s': custom needs a \"plugin\" name", tag);
    int dc = TFEVENTS__DATA_CLASS__DATA_CLASS_TENSOR;
    if (cu->has_data_class) {
        if ((unsigned)cu->data_class > 3)
            return FAIL(-EINVAL, "value '%s': \"data_class\" must be 0..3", tag);
        dc = (int)cu->data_class;
    }
    const void *content = cu->has_content ? cu->content.data : NULL;
    size_t content_len = cu->has_content ? cu->content.len : 0;
    int forms = (cu->has_tensor ? 1 : 0) + (cu->n_numbers > 0) + (cu->n_strings > 0);
    if (forms != 1)
        return FAIL(-EINVAL,
                    "value '%s': custom needs exactly one of \"tensor\" (a serialized "
                    "TensorProto), \"numbers\", \"strings\"",
                    tag);
    int r;
    if (cu->has_tensor) {
        if (cu->n_shape > 0 || cu->has_dtype || cu->has_rank0)
            return FAIL(-EINVAL, "value '%s': a TensorProto carries its own shape and dtype",
                        tag);
        r = summary_custom(v, tag, cu->plugin, content, content_len, dc, cu->tensor.data,
                           cu->tensor.len, meta);
        return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
    }
    size_t n = cu->n_numbers ? cu->n_numbers : cu->n_strings;
    size_t dims[SUMMARY_MAX_RANK] = {n};
    size_t rank = 1;
    if (cu->has_rank0 && cu->rank0) {
        if (cu->n_shape > 0 || n != 1)
            return FAIL(-EINVAL, "value '%s': a rank-0 tensor holds one element and no shape",
                        tag);
        rank = 0;
    } else if (cu->n_shape > 0) {
        size_t count;
        r = shape_count(c, cu->shape, cu->n_shape, REQUEST_MAX_ARRAY, "custom", tag, &count);
        if (r < 0)
            return r;
        if (count != n)
            return FAIL(-EINVAL, "value '%s': shape holds %zu values but %zu were given", tag,
                        count, n);
        rank = cu->n_shape;
        for (size_t i = 0; i < rank; i++)
            dims[i] = (size_t)cu->shape[i];
    }
    if (cu->n_numbers > 0) {
        int dt = 1;   /* DT_FLOAT */
        if (cu->has_dtype) {
            if (cu->dtype != TFEVENTS__DTYPE__DTYPE_FLOAT &&
                cu->dtype != TFEVENTS__DTYPE__DTYPE_DOUBLE)
                return FAIL(-EINVAL, "value '%s': \"dtype\" must be FLOAT or DOUBLE", tag);
            dt = (int)cu->dtype;
        }
        r = summary_custom_numeric(v, tag, cu->plugin, content, content_len, dc, cu->numbers,
                                   rank, dims, dt, meta);
        return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
    }
    if (cu->has_dtype)
        return FAIL(-EINVAL, "value '%s': \"dtype\" goes with \"numbers\"", tag);
    if (n > SUMMARY_MAX_STRINGS)
        return FAIL(-EMSGSIZE, "value '%s': too many strings", tag);
    struct summary_bytes *s = blobs_of(cu->strings, n);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    r = summary_custom_strings(v, tag, cu->plugin, content, content_len, dc, s, rank, dims,
                               meta);
    free(s);
    return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
}

/* A serialized Summary.Value: checked (decodes, no unknown fields, names a
 * plugin, its tensor decodes the way TensorBoard reads it) and re-encoded
 * with the builders so that metadata handling stays the writer's. */
static int value_encoded(struct ctx *c, const ProtobufCBinaryData *bytes,
                         struct summary_value *v)
{
    /* Nested messages get no unpack function of their own. */
    Tensorboard__Summary__Value *sv = (Tensorboard__Summary__Value *)protobuf_c_message_unpack(
        &tensorboard__summary__value__descriptor, NULL, bytes->len, bytes->data);
    if (!sv)
        return FAIL(-EBADMSG, "an encoded value is not a serialized tensorboard.Summary.Value");
    int r = frame_check_unknown(&sv->base, c->err, c->err_size);
    const char *tag = sv->tag ? sv->tag : "";
    const Tensorboard__SummaryMetadata *md = sv->metadata;
    struct decoded_value dec;
    value_init(&dec);
    if (r < 0)
        goto out;
    if (!*tag) {
        r = FAIL(-EINVAL, "an encoded value has no tag");
        goto out;
    }
    if (!md || !md->plugin_data || !md->plugin_data->plugin_name ||
        !*md->plugin_data->plugin_name) {
        r = FAIL(-EINVAL,
                 "encoded value '%.200s': needs metadata naming a plugin (without it no "
                 "dashboard lists the tag)",
                 tag);
        goto out;
    }
    struct summary_meta meta = {
        .display_name = md->display_name && *md->display_name ? md->display_name : NULL,
        .description =
            md->summary_description && *md->summary_description ? md->summary_description : NULL,
    };
    if (sv->value_case == TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE) {
        if (strcmp(md->plugin_data->plugin_name, "scalars") != 0) {
            r = FAIL(-EINVAL, "encoded value '%.200s': simple_value needs plugin \"scalars\"",
                     tag);
            goto out;
        }
        r = summary_scalar(v, tag, sv->simple_value, meta.display_name || meta.description
                                                         ? &meta : NULL);
        if (r < 0)
            r = fail_builder(c, r, tag, "encoded");
        goto out;
    }
    if (sv->value_case != TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR) {
        r = FAIL(-EINVAL,
                 "encoded value '%.200s': only tensor and simple_value values are accepted "
                 "(legacy image, histo and audio: send them as tensors)",
                 tag);
        goto out;
    }
    r = value_decode(sv, NULL, NULL, &dec);
    if (r < 0) {
        r = FAIL(r, "out of memory");
        goto out;
    }
    if (dec.kind == VALUE_INVALID) {
        r = FAIL(-EINVAL,
                 "encoded value '%.200s': its tensor cannot be decoded (value count does not "
                 "match the shape, or a dtype TensorBoard cannot read)",
                 tag);
        goto out;
    }
    size_t tlen = tensorboard__tensor_proto__get_packed_size(sv->tensor);
    uint8_t *tbytes = malloc(tlen ? tlen : 1);
    if (!tbytes) {
        r = FAIL(-ENOMEM, "out of memory");
        goto out;
    }
    tensorboard__tensor_proto__pack(sv->tensor, tbytes);
    const ProtobufCBinaryData *content = &md->plugin_data->content;
    r = summary_custom(v, tag, md->plugin_data->plugin_name, content->data, content->len,
                       (int)md->data_class, tbytes, tlen,
                       meta.display_name || meta.description ? &meta : NULL);
    free(tbytes);
    if (r < 0)
        r = fail_builder(c, r, tag, "encoded");
out:
    value_done(&dec);
    protobuf_c_message_free_unpacked(&sv->base, NULL);
    return r;
}

static int decode_value(struct ctx *c, const Tfevents__Value *val)
{
    char run[LOGDIR_MAX_NAME + 1] = ".";
    int r;
    if (val->run) {
        size_t len = strlen(val->run);
        const char *why = NULL;
        if (!utf8_valid(val->run, len))
            return FAIL(-EILSEQ, "a run name is not valid UTF-8");
        r = logdir_normalize(val->run, len, run, sizeof run, &why);
        if (r < 0)
            return FAIL(r == -ENAMETOOLONG ? -EMSGSIZE : -EINVAL, "run '%.200s': %s", val->run,
                        why ? why : "invalid");
    }
    struct summary_value *v;
    if (val->kind_case == TFEVENTS__VALUE__KIND_ENCODED) {
        if (val->tag || val->display_name || val->description)
            return FAIL(-EINVAL,
                        "an encoded value carries its own tag, display name and description");
        r = add_value(c, run, &v);
        return r < 0 ? r : value_encoded(c, &val->encoded, v);
    }
    const char *tag = val->tag;
    if (!tag || !*tag)
        return FAIL(-EINVAL, "a value needs a \"tag\"");
    if (tag[0] == '$')
        return FAIL(-EINVAL, "name '%.200s': names starting with '$' are reserved", tag);
    struct summary_meta meta = {val->display_name, val->description};
    const struct summary_meta *mp = meta.display_name || meta.description ? &meta : NULL;
    r = add_value(c, run, &v);
    if (r < 0)
        return r;
    switch (val->kind_case) {
    case TFEVENTS__VALUE__KIND_SCALAR:
        r = summary_scalar(v, tag, val->scalar, mp);
        return r < 0 ? fail_builder(c, r, tag, "scalar") : 0;
    case TFEVENTS__VALUE__KIND_TEXT:
        return value_text(c, val->text, tag, v, mp);
    case TFEVENTS__VALUE__KIND_HISTOGRAM:
        return value_histogram(c, val->histogram, tag, v, mp);
    case TFEVENTS__VALUE__KIND_IMAGE:
        return value_image(c, val->image, tag, v, mp);
    case TFEVENTS__VALUE__KIND_AUDIO:
        return value_audio(c, val->audio, tag, v, mp);
    case TFEVENTS__VALUE__KIND_CUSTOM:
        return value_custom(c, val->custom, tag, v, mp);
    default:
        return FAIL(-EINVAL, "value '%.200s' has no data (scalar, text, histogram, image, "
                    "audio, custom or encoded)", tag);
    }
}

/* ---- hparams ------------------------------------------------------------- */

static int hparam_value(struct ctx *c, const Tfevents__HparamValue *hv, const char *name,
                        struct hparams_value *ret)
{
    memset(ret, 0, sizeof *ret);
    switch (hv ? hv->kind_case : TFEVENTS__HPARAM_VALUE__KIND__NOT_SET) {
    case TFEVENTS__HPARAM_VALUE__KIND_NUMBER:
        ret->kind = HPARAMS_NUMBER;
        ret->number = hv->number;
        return 0;
    case TFEVENTS__HPARAM_VALUE__KIND_INTEGER:
        ret->kind = HPARAMS_INT;
        ret->integer = hv->integer;
        ret->number = (double)hv->integer;
        return 0;
    case TFEVENTS__HPARAM_VALUE__KIND_STRING:
        ret->kind = HPARAMS_STRING;
        ret->string = hv->string;
        return 0;
    case TFEVENTS__HPARAM_VALUE__KIND_BOOLEAN:
        ret->kind = HPARAMS_BOOL;
        ret->boolean = hv->boolean;
        return 0;
    default:
        return FAIL(-EINVAL, "hparam '%.200s' must be a number, a string or a boolean", name);
    }
}

static int decode_experiment(struct ctx *c, const Tfevents__HparamsConfig *q,
                             struct summary_value *v)
{
    size_t nh = q->n_hparams, nm = q->n_metrics;
    if (nh > HPARAMS_MAX_HPARAMS || nm > HPARAMS_MAX_METRICS)
        return FAIL(-EMSGSIZE, "more than %d hparams or metrics", HPARAMS_MAX_HPARAMS);
    if (nh == 0 && nm == 0)
        return FAIL(-EINVAL, "hparams_config without any hparams or metrics");
    struct hparams_info *hi = calloc(nh ? nh : 1, sizeof *hi);
    struct hparams_metric *mi = calloc(nm ? nm : 1, sizeof *mi);
    struct hparams_value **dom = calloc(nh ? nh : 1, sizeof *dom);
    int r = 0;
    if (!hi || !mi || !dom) {
        r = FAIL(-ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nh && r == 0; i++) {
        const Tfevents__HparamInfo *h = q->hparams[i];
        hi[i].name = h->name;
        hi[i].display_name = h->display_name;
        hi[i].description = h->description;
        if (h->has_type) {
            if ((unsigned)h->type > 3) {
                r = FAIL(-EINVAL, "hparam '%.200s': \"type\" must be 0..3", h->name);
                break;
            }
            hi[i].type = (enum hparams_type)h->type;
        }
        if (h->n_values > 0 && (h->has_min || h->has_max)) {
            r = FAIL(-EINVAL, "hparam '%.200s': a domain is \"values\" or \"min\"/\"max\"",
                     h->name);
            break;
        }
        if (h->has_min != h->has_max) {
            r = FAIL(-EINVAL, "hparam '%.200s': an interval needs both \"min\" and \"max\"",
                     h->name);
            break;
        }
        if (h->has_min) {
            hi[i].domain = HPARAMS_DOMAIN_INTERVAL;
            hi[i].min_value = h->min;
            hi[i].max_value = h->max;
            if (!h->has_type)
                hi[i].type = HPARAMS_TYPE_FLOAT64;
        } else if (h->n_values > 0) {
            if (h->n_values > HPARAMS_MAX_DOMAIN_VALUES) {
                r = FAIL(-EMSGSIZE, "hparam '%.200s': too many \"values\"", h->name);
                break;
            }
            dom[i] = calloc(h->n_values, sizeof **dom);
            if (!dom[i]) {
                r = FAIL(-ENOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; k < h->n_values && r == 0; k++)
                r = hparam_value(c, h->values[k], h->name, &dom[i][k]);
            hi[i].domain = HPARAMS_DOMAIN_DISCRETE;
            hi[i].values = dom[i];
            hi[i].n_values = h->n_values;
            if (r == 0 && !h->has_type)
                hi[i].type = dom[i][0].kind == HPARAMS_STRING ? HPARAMS_TYPE_STRING
                             : dom[i][0].kind == HPARAMS_BOOL ? HPARAMS_TYPE_BOOL
                                                              : HPARAMS_TYPE_FLOAT64;
        }
    }
    for (size_t i = 0; i < nm && r == 0; i++) {
        const Tfevents__MetricInfo *m = q->metrics[i];
        mi[i].tag = m->tag;
        mi[i].group = m->group;
        mi[i].display_name = m->display_name;
        mi[i].description = m->description;
        if (m->has_dataset_type) {
            if ((unsigned)m->dataset_type > 2)
                r = FAIL(-EINVAL, "metric '%.200s': \"dataset_type\" must be 0..2", m->tag);
            mi[i].dataset_type = (enum hparams_dataset)m->dataset_type;
        }
    }
    if (r == 0) {
        struct hparams_experiment e = {
            .name = q->name,
            .description = q->description,
            .user = q->user,
            .time_created_secs = q->has_time_created_secs ? q->time_created_secs
                                 : c->m->has_wall_time    ? c->m->wall_time
                                                          : 0,
            .hparams = hi,
            .n_hparams = nh,
            .metrics = mi,
            .n_metrics = nm,
        };
        r = summary_hparams_experiment(v, &e);
        if (r < 0)
            r = fail_builder(c, r, HPARAMS_TAG_EXPERIMENT, "hparams");
    }
out:
    for (size_t k = 0; dom && k < nh; k++)
        free(dom[k]);
    free(dom);
    free(hi);
    free(mi);
    return r;
}

static int decode_session_start(struct ctx *c, const Tfevents__HparamsSessionStart *q,
                                struct summary_value *v)
{
    size_t n = q->n_hparams;
    if (n > HPARAMS_MAX_HPARAMS)
        return FAIL(-EMSGSIZE, "more than %d hparams", HPARAMS_MAX_HPARAMS);
    struct hparams_kv *kv = calloc(n ? n : 1, sizeof *kv);
    if (!kv)
        return FAIL(-ENOMEM, "out of memory");
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        kv[i].name = q->hparams[i]->name;
        r = hparam_value(c, q->hparams[i]->value, kv[i].name, &kv[i].value);
    }
    if (r == 0) {
        struct hparams_session_start s = {
            .hparams = kv,
            .n_hparams = n,
            .model_uri = q->model_uri,
            .monitor_url = q->monitor_url,
            .group_name = q->group_name,
            .start_time_secs = q->has_start_time_secs ? q->start_time_secs
                               : c->m->has_wall_time  ? c->m->wall_time
                                                      : 0,
        };
        r = summary_hparams_session_start(v, &s);
        if (r < 0)
            r = fail_builder(c, r, HPARAMS_TAG_SESSION_START, "hparams");
    }
    free(kv);
    return r;
}

static int decode_session_end(struct ctx *c, const Tfevents__HparamsSessionEnd *q,
                              struct summary_value *v)
{
    if ((unsigned)q->status > 3)
        return FAIL(-EINVAL, "\"status\" must be 0..3 (unknown, success, failure, running)");
    double end = q->has_end_time_secs ? q->end_time_secs
                 : c->m->has_wall_time ? c->m->wall_time
                                       : 0;
    int r = summary_hparams_session_end(v, (enum hparams_status)q->status, end);
    return r < 0 ? fail_builder(c, r, HPARAMS_TAG_SESSION_END, "hparams") : 0;
}

/* ---- the request --------------------------------------------------------- */

static int decode_log(struct ctx *c, const Tfevents__Log *q)
{
    struct request *m = c->m;
    int r = read_logdir(c, q->logdir);
    if (r < 0)
        return r;
    switch (q->step_kind_case) {
    case TFEVENTS__LOG__STEP_KIND_STEP:
        if (q->step > FRAME_MAX_STEP)
            return FAIL(-EINVAL, "\"step\" must be an integer from 0 to 2^53, or \"current\"");
        m->step_mode = LOGDIR_STEP_AT;
        m->step = (int64_t)q->step;
        break;
    case TFEVENTS__LOG__STEP_KIND_CURRENT:
        if (!q->current)
            return FAIL(-EINVAL, "\"current\" must be true when given");
        m->step_mode = LOGDIR_STEP_CURRENT;
        break;
    default:
        break;
    }
    if ((r = read_wall_time(c, q->has_wall_time, q->wall_time)) < 0)
        return r;
    if (q->n_values == 0)
        return FAIL(-EINVAL, "\"values\" is empty");
    if (q->n_values > REQUEST_MAX_VALUES)
        return FAIL(-EMSGSIZE, "more than %u values in one message", REQUEST_MAX_VALUES);
    for (size_t i = 0; i < q->n_values; i++)
        if ((r = decode_value(c, q->values[i])) < 0)
            return r;
    return 0;
}

int frame_decode_request(const Tfevents__Request *rq, struct request *m, char *err,
                         size_t err_size)
{
    struct ctx cx = {.m = m, .err = err, .err_size = err_size};
    struct ctx *c = &cx;
    request_done(m);
    err[0] = '\0';
    if (rq->has_id)
        request_set_id_u64(m, rq->id);
    strcpy(m->run, ".");
    m->step_mode = LOGDIR_STEP_NEXT;
    int r = frame_check_unknown(&rq->base, err, err_size);
    if (r < 0)
        return r;
    struct summary_value *sv;
    switch (rq->op_case) {
    case TFEVENTS__REQUEST__OP_LOG:
        m->op = REQUEST_LOG;
        return decode_log(c, rq->log);
    case TFEVENTS__REQUEST__OP_STEP_GET:
        m->op = REQUEST_STEP_GET;
        return read_logdir(c, rq->step_get->logdir);
    case TFEVENTS__REQUEST__OP_STEP_SET:
        m->op = REQUEST_STEP_SET;
        if (rq->step_set->step < -1 || rq->step_set->step > (int64_t)FRAME_MAX_STEP)
            return FAIL(-EINVAL, "\"step\" must be an integer from -1 to 2^53");
        m->step_mode = LOGDIR_STEP_AT;
        m->step = rq->step_set->step;
        return read_logdir(c, rq->step_set->logdir);
    case TFEVENTS__REQUEST__OP_FLUSH:
    case TFEVENTS__REQUEST__OP_CLOSE: {
        const Tfevents__Flush *f =
            rq->op_case == TFEVENTS__REQUEST__OP_FLUSH ? rq->flush : rq->close;
        m->op = rq->op_case == TFEVENTS__REQUEST__OP_FLUSH ? REQUEST_FLUSH : REQUEST_CLOSE;
        m->sync = f->has_sync && f->sync;
        return f->logdir ? read_logdir(c, f->logdir) : 0;
    }
    case TFEVENTS__REQUEST__OP_RESTART:
        m->op = REQUEST_RESTART;
        if (rq->restart->step > FRAME_MAX_STEP)
            return FAIL(-EINVAL, "\"step\" must be an integer from 0 to 2^53");
        m->step_mode = LOGDIR_STEP_AT;
        m->step = (int64_t)rq->restart->step;
        if ((r = read_logdir(c, rq->restart->logdir)) < 0 ||
            (r = read_run(c, rq->restart->run)) < 0)
            return r;
        return read_wall_time(c, rq->restart->has_wall_time, rq->restart->wall_time);
    case TFEVENTS__REQUEST__OP_HPARAMS_CONFIG: {
        const Tfevents__HparamsConfig *q = rq->hparams_config;
        m->op = REQUEST_HPARAMS_CONFIG;
        if ((r = read_logdir(c, q->logdir)) < 0 || (r = read_run(c, q->run)) < 0 ||
            (r = read_wall_time(c, q->has_wall_time, q->wall_time)) < 0 ||
            (r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_experiment(c, q, sv);
    }
    case TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START: {
        const Tfevents__HparamsSessionStart *q = rq->hparams_session_start;
        m->op = REQUEST_HPARAMS_SESSION_START;
        if ((r = read_logdir(c, q->logdir)) < 0 || (r = read_run(c, q->run)) < 0 ||
            (r = read_wall_time(c, q->has_wall_time, q->wall_time)) < 0 ||
            (r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_session_start(c, q, sv);
    }
    case TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END: {
        const Tfevents__HparamsSessionEnd *q = rq->hparams_session_end;
        m->op = REQUEST_HPARAMS_SESSION_END;
        if ((r = read_logdir(c, q->logdir)) < 0 || (r = read_run(c, q->run)) < 0 ||
            (r = read_wall_time(c, q->has_wall_time, q->wall_time)) < 0 ||
            (r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_session_end(c, q, sv);
    }
    case TFEVENTS__REQUEST__OP_PING:
        m->op = REQUEST_PING;
        return 0;
    case TFEVENTS__REQUEST__OP_STATS:
        m->op = REQUEST_STATS;
        return 0;
    default:
        return FAIL(-EINVAL,
                    "a request needs an op (log, step_get, step_set, flush, hparams_config, "
                    "hparams_session_start, hparams_session_end, restart, close, ping, stats)");
    }
}

/* ---- the lean path ------------------------------------------------------- */

struct frame_req {
    const uint8_t *data;       /* the Request's bytes, in the payload */
    size_t len;
    Tfevents__Request *rq;     /* unpacked (general path), NULL when lean */
};

struct frame_split {
    struct frame_req *reqs;
    size_t n;
    Tfevents__Batch *whole;    /* the old way, for frames out of the plain shape */
    /* The lean message and what it points into. Its values[] slots are
     * all initialised up to cap_values; their runs point into runs. */
    struct request msg;
    struct buf runs;
    bool *is_scalar;           /* msg.values[i].value is summary_scalar(tag, x, NULL) */
    char tag[SUMMARY_MAX_TAG + 1];
    /* The last logdir and run as sent and their normalised names. */
    struct buf logdir_raw;
    bool has_logdir;
    char logdir_norm[LOGDIR_MAX_NAME + 1];
    struct buf run_raw;
    bool has_run;
    char run_norm[LOGDIR_MAX_NAME + 1];
};

/* A wire cursor. Varints longer than 9 bytes are "not plain" (protobuf-c
 * has its own rules for the tenth byte), which the lean path leaves to it. */
struct cur {
    const uint8_t *p, *end;
};

static bool cur_varint(struct cur *c, uint64_t *ret)
{
    /* Keys, lengths and small numbers are one byte. */
    if (c->p < c->end && *c->p < 0x80) {
        *ret = *c->p++;
        return true;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 9 && c->p < c->end; i++) {
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *ret = v;
            return true;
        }
    }
    return false;
}

/* A field's key: field number and wire type. */
static bool cur_key(struct cur *c, uint32_t *field, unsigned *wire)
{
    uint64_t k;
    if (!cur_varint(c, &k) || (k >> 3) == 0 || (k >> 3) > UINT32_MAX)
        return false;
    *field = (uint32_t)(k >> 3);
    *wire = (unsigned)(k & 7);
    return true;
}

static bool cur_bytes(struct cur *c, struct cur *ret)
{
    uint64_t n;
    if (!cur_varint(c, &n) || n > (uint64_t)(c->end - c->p))
        return false;
    ret->p = c->p;
    ret->end = c->p + n;
    c->p += n;
    return true;
}

static bool cur_fixed64(struct cur *c, double *ret)
{
    if (c->end - c->p < 8)
        return false;
    uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, c->p, 8);
#else
    v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
#endif
    memcpy(ret, &v, 8);
    c->p += 8;
    return true;
}

/* A string field's bytes, when they hold no NUL (protobuf-c would cut the
 * C string there; the general path then sees less than was sent). */
static bool plain_string(const struct cur *s)
{
    return memchr(s->p, 0, (size_t)(s->end - s->p)) == NULL;
}

/* The normalised name of a logdir or run as read_name() makes it, with a
 * one-entry cache (raw bytes -> name). false when the general path would
 * refuse it. */
static bool lean_name(const struct cur *s, struct buf *raw, bool *has, char *norm)
{
    size_t len = (size_t)(s->end - s->p);
    if (*has && raw->len == len && memcmp(raw->data, s->p, len) == 0)
        return true;
    *has = false;
    if (!plain_string(s) || !utf8_valid(s->p, len) ||
        logdir_normalize((const char *)s->p, len, norm, LOGDIR_MAX_NAME + 1, NULL) < 0)
        return false;
    buf_reset(raw);
    if (buf_append(raw, s->p, len) < 0)
        return false;
    *has = true;
    return true;
}

static int lean_reserve(struct frame_split *b, size_t n)
{
    struct request *m = &b->msg;
    if (n <= m->cap_values)
        return 0;
    size_t cap = m->cap_values ? m->cap_values * 2 : 8;
    while (cap < n)
        cap *= 2;
    bool *sc = realloc(b->is_scalar, cap * sizeof *sc);
    if (!sc)
        return -ENOMEM;
    b->is_scalar = sc;
    struct request_value *v = realloc(m->values, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    m->values = v;
    for (size_t i = m->cap_values; i < cap; i++) {
        v[i].run = NULL;
        summary_value_init(&v[i].value);
        sc[i] = false;
    }
    m->cap_values = cap;
    return 0;
}

/* One Value {run, tag, scalar} into slot i. */
static bool lean_value(struct frame_split *b, struct cur v, size_t i)
{
    struct cur run = {NULL, NULL}, tag = {NULL, NULL};
    bool has_run = false, has_tag = false, has_scalar = false;
    double x = 0;
    while (v.p < v.end) {
        uint32_t f;
        unsigned w;
        if (!cur_key(&v, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !has_run) {
            if (!cur_bytes(&v, &run))
                return false;
            has_run = true;
        } else if (f == 2 && w == PB_LEN && !has_tag) {
            if (!cur_bytes(&v, &tag))
                return false;
            has_tag = true;
        } else if (f == 10 && w == PB_FIXED64 && !has_scalar) {
            if (!cur_fixed64(&v, &x))
                return false;
            has_scalar = true;
        } else {
            return false;
        }
    }
    size_t tl = has_tag ? (size_t)(tag.end - tag.p) : 0;
    if (!has_scalar || tl == 0 || tag.p[0] == '$' || tl > SUMMARY_MAX_TAG || !plain_string(&tag))
        return false;
    const char *norm = ".";
    if (has_run) {
        if (!lean_name(&run, &b->run_raw, &b->has_run, b->run_norm))
            return false;
        norm = b->run_norm;
    }
    if (buf_append(&b->runs, norm, strlen(norm) + 1) < 0)
        return false;
    /* A slot already holding a scalar of this tag differs from what
     * summary_scalar() would build only in the float that ends its body. */
    struct summary_value *sv = &b->msg.values[i].value;
    if (b->is_scalar[i] && sv->tag.len == tl && sv->body.len == 12 &&
        memcmp(sv->tag.data, tag.p, tl) == 0) {
        pb_put_float(sv->body.data + 8, (float)x);
        return true;
    }
    memcpy(b->tag, tag.p, tl);
    b->tag[tl] = '\0';
    b->is_scalar[i] = summary_scalar(sv, b->tag, x, NULL) == 0;
    return b->is_scalar[i];
}

static bool lean_log(struct frame_split *b, struct cur q)
{
    struct request *m = &b->msg;
    bool has_logdir = false, has_step = false, has_wt = false;
    uint64_t step = 0;
    double wt = 0;
    size_t n = 0;
    buf_reset(&b->runs);
    while (q.p < q.end) {
        uint32_t f;
        unsigned w;
        struct cur s;
        if (!cur_key(&q, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !has_logdir) {
            if (!cur_bytes(&q, &s) ||
                !lean_name(&s, &b->logdir_raw, &b->has_logdir, b->logdir_norm))
                return false;
            has_logdir = true;
        } else if (f == 2 && w == PB_VARINT && !has_step) {
            if (!cur_varint(&q, &step) || step > FRAME_MAX_STEP)
                return false;
            has_step = true;
        } else if (f == 4 && w == PB_FIXED64 && !has_wt) {
            if (!cur_fixed64(&q, &wt) || !(wt >= 0 && wt < FRAME_MAX_WALL_TIME))
                return false;
            has_wt = true;
        } else if (f == 5 && w == PB_LEN) {
            if (n >= REQUEST_MAX_VALUES || !cur_bytes(&q, &s) || lean_reserve(b, n + 1) < 0 ||
                !lean_value(b, s, n))
                return false;
            n++;
        } else {
            return false;
        }
    }
    if (!has_logdir || n == 0)
        return false;
    m->op = REQUEST_LOG;
    m->has_logdir = true;
    memcpy(m->logdir, b->logdir_norm, strlen(b->logdir_norm) + 1);
    m->has_run = false;
    strcpy(m->run, ".");
    m->step_mode = has_step ? LOGDIR_STEP_AT : LOGDIR_STEP_NEXT;
    m->step = has_step ? (int64_t)step : 0;
    m->has_wall_time = has_wt;
    m->wall_time = has_wt ? wt : 0;
    m->sync = false;
    m->n_values = n;
    char *run = (char *)b->runs.data;
    for (size_t i = 0; i < n; i++) {
        m->values[i].run = run;
        run += strlen(run) + 1;
    }
    return true;
}

int frame_split_lean(struct frame_split *b, const uint8_t *req, size_t len,
                     struct request **ret_msg)
{
    struct cur c = {req, req + len}, log = {NULL, NULL};
    bool has_id = false, has_log = false;
    uint64_t id = 0;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        if (!cur_key(&c, &f, &w))
            return 1;
        if (f == 1 && w == PB_VARINT && !has_id) {
            if (!cur_varint(&c, &id))
                return 1;
            has_id = true;
        } else if (f == 2 && w == PB_LEN && !has_log) {
            if (!cur_bytes(&c, &log))
                return 1;
            has_log = true;
        } else {
            return 1;
        }
    }
    struct request *m = &b->msg;
    if (!has_log || !lean_log(b, log)) {
        m->n_values = 0;
        return 1;
    }
    m->has_id = m->id_is_u64 = false;
    m->id[0] = '\0';
    if (has_id)
        request_set_id_u64(m, id);
    *ret_msg = m;
    return 0;
}

static void split_free_reqs(struct frame_split *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->reqs[i].rq)
            tfevents__request__free_unpacked(b->reqs[i].rq, NULL);
    free(b->reqs);
    b->reqs = NULL;
    b->n = 0;
}

void frame_split_free(struct frame_split *b)
{
    if (!b)
        return;
    if (b->whole)
        tfevents__batch__free_unpacked(b->whole, NULL);
    else
        split_free_reqs(b);
    /* The lean message's runs are not its own: only the value slots. */
    for (size_t i = 0; i < b->msg.cap_values; i++)
        summary_value_done(&b->msg.values[i].value);
    free(b->msg.values);
    free(b->is_scalar);
    buf_free(&b->runs);
    buf_free(&b->logdir_raw);
    buf_free(&b->run_raw);
    free(b);
}

/* Is req[0..len) a Request of the lean shape: an id at most once, one Log
 * {logdir once, step at most once, wall_time at most once, values} whose
 * Values hold run and tag at most once and a scalar, every field with its
 * schema's wire type? Such bytes always unpack with protobuf-c (nothing
 * required is missing, no wire type is wrong), which is all the walk
 * needs to know; whether the lean decoder takes the request (valid names,
 * ranges) is settled when its turn comes. */
static bool lean_shape(const uint8_t *req, size_t len)
{
    struct cur c = {req, req + len}, log = {NULL, NULL};
    bool has_id = false;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        uint64_t u;
        if (!cur_key(&c, &f, &w))
            return false;
        if (f == 1 && w == PB_VARINT && !has_id) {
            if (!cur_varint(&c, &u))
                return false;
            has_id = true;
        } else if (f == 2 && w == PB_LEN && !log.p) {
            if (!cur_bytes(&c, &log))
                return false;
        } else {
            return false;
        }
    }
    if (!log.p)
        return false;
    unsigned seen = 0;   /* bits: 1 logdir, 2 step, 4 wall_time */
    while (log.p < log.end) {
        uint32_t f;
        unsigned w;
        uint64_t u;
        double d;
        struct cur v;
        if (!cur_key(&log, &f, &w))
            return false;
        if (f == 1 && w == PB_LEN && !(seen & 1)) {
            if (!cur_bytes(&log, &v))
                return false;
            seen |= 1;
        } else if (f == 2 && w == PB_VARINT && !(seen & 2)) {
            if (!cur_varint(&log, &u))
                return false;
            seen |= 2;
        } else if (f == 4 && w == PB_FIXED64 && !(seen & 4)) {
            if (!cur_fixed64(&log, &d))
                return false;
            seen |= 4;
        } else if (f == 5 && w == PB_LEN) {
            if (!cur_bytes(&log, &v))
                return false;
            unsigned vs = 0;   /* 1 run, 2 tag, 4 scalar */
            while (v.p < v.end) {
                struct cur x;
                if (!cur_key(&v, &f, &w))
                    return false;
                if (f == 1 && w == PB_LEN && !(vs & 1) && cur_bytes(&v, &x))
                    vs |= 1;
                else if (f == 2 && w == PB_LEN && !(vs & 2) && cur_bytes(&v, &x))
                    vs |= 2;
                else if (f == 10 && w == PB_FIXED64 && !(vs & 4) && cur_fixed64(&v, &d))
                    vs |= 4;
                else
                    return false;
            }
        } else {
            return false;
        }
    }
    return (seen & 1) != 0;
}

/* Walk the Batch's fields: every one must be a request (field 1,
 * length-delimited) of the lean shape or one that protobuf-c unpacks.
 * 0, or 1 when the frame is not of that plain shape (an unknown Batch
 * field, a bad wire type, a request that does not unpack, too many
 * requests): frame_decode_batch() then judges it, as before. */
static int split_walk(struct frame_split *b, const uint8_t *payload, size_t len)
{
    struct cur c = {payload, payload + len};
    size_t cap = 0;
    while (c.p < c.end) {
        uint32_t f;
        unsigned w;
        struct cur rq;
        if (!cur_key(&c, &f, &w) || f != 1 || w != PB_LEN || !cur_bytes(&c, &rq) ||
            b->n >= FRAME_MAX_REQUESTS)
            return 1;
        if (b->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct frame_req *v = realloc(b->reqs, nc * sizeof *v);
            if (!v)
                return 1;
            b->reqs = v;
            cap = nc;
        }
        struct frame_req *r = &b->reqs[b->n];
        r->data = rq.p;
        r->len = (size_t)(rq.end - rq.p);
        r->rq = NULL;
        if (!lean_shape(r->data, r->len) &&
            !(r->rq = tfevents__request__unpack(NULL, r->len, r->data)))
            return 1;
        b->n++;
    }
    return 0;
}

int frame_split_open(const uint8_t *payload, size_t len, struct frame_split **ret, char *err,
                     size_t err_size)
{
    *ret = NULL;
    err[0] = '\0';
    struct frame_split *b = calloc(1, sizeof *b);
    if (!b) {
        fail(err, err_size, "out of memory");
        return -ENOMEM;
    }
    request_init(&b->msg);
    buf_init(&b->runs, BUF_NO_CAP);
    buf_init(&b->logdir_raw, LOGDIR_MAX_NAME * 4);
    buf_init(&b->run_raw, LOGDIR_MAX_NAME * 4);
    if (split_walk(b, payload, len) != 0) {
        split_free_reqs(b);
        int r = frame_decode_batch(payload, len, &b->whole, err, err_size);
        if (r < 0) {
            frame_split_free(b);
            return r;
        }
        b->n = b->whole->n_requests;
    }
    *ret = b;
    return 0;
}

size_t frame_split_count(const struct frame_split *b)
{
    return b->n;
}

int frame_split_decode(struct frame_split *b, size_t i, struct request *m,
                       struct request **ret_msg, char *err, size_t err_size)
{
    *ret_msg = m;
    if (b->whole)
        return frame_decode_request(b->whole->requests[i], m, err, err_size);
    struct frame_req *r = &b->reqs[i];
    if (!r->rq) {
        if (frame_split_lean(b, r->data, r->len, ret_msg) == 0) {
            err[0] = '\0';
            return 0;
        }
        /* Of the lean shape, so it unpacks; the general decoder says
         * what is wrong with it. */
        *ret_msg = m;
        r->rq = tfevents__request__unpack(NULL, r->len, r->data);
        if (!r->rq) {
            request_done(m);
            fail(err, err_size, "out of memory");
            return -ENOMEM;
        }
    }
    return frame_decode_request(r->rq, m, err, err_size);
}
