/* A tfevents.Request, field by field, into a request (frame_decode.h and
 * docs/protocol.md): every check, normalisation and summary building of
 * both protocols, since the JSON decoder translates a line into a Request
 * and ends here too. */
#include "frame_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_kinds.h"
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

static void fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/* Every error path below is "return FAIL(...)": the code and the sentence
 * set together; FAIL_AT puts a name first ("value 'loss': ..."). */
#define FAIL(code, ...) request_error(c->err, c->err_size, (code), __VA_ARGS__)
#define FAIL_AT(code, what, name, ...) \
    request_error_at(c->err, c->err_size, (code), (what), (name), __VA_ARGS__)

struct ctx {
    struct request *m;
    char *err;
    size_t err_size;
    /* The last Value.run normalised: a translated JSON line gives every
     * value of a run the same string, normalised once. */
    const char *run_raw;
    char run[LOGDIR_MAX_NAME + 1];
};

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

/* A varint at *p (< end): 0, or -EBADMSG. */
static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -EBADMSG;
}

static int find_nul(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                    unsigned depth, const char **ret_field, const char **ret_msg)
{
    if (depth > FRAME_MAX_DEPTH)
        return -EBADMSG;
    while (p < end) {
        uint64_t key, n;
        if (wire_varint(&p, end, &key) < 0)
            return -EBADMSG;
        switch (key & 7) {
        case 0:
            if (wire_varint(&p, end, &n) < 0)
                return -EBADMSG;
            continue;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < w)
                return -EBADMSG;
            p += w;
            continue;
        }
        case 2:
            if (wire_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
                return -EBADMSG;
            break;
        default:
            return -EBADMSG;
        }
        const ProtobufCFieldDescriptor *f =
            key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                                   : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)n)) {
            *ret_field = f->name;
            *ret_msg = d->name;
            return 1;
        }
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
            int r = find_nul(f->descriptor, p, p + n, depth + 1, ret_field, ret_msg);
            if (r != 0)
                return r;
        }
        p += n;
    }
    return 0;
}

int frame_find_nul(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len,
                   const char **ret_field, const char **ret_msg)
{
    return find_nul(d, msg, msg + len, 0, ret_field, ret_msg);
}

int frame_fail_nul(const char *field, const char *msg, char *err, size_t err_size)
{
    snprintf(err, err_size,
             "field '%s' of %s holds a NUL byte; names, tags and texts cannot hold NUL",
             field, msg);
    return -EINVAL;
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

/* Builder failures carry the builder's own reason ("image value 'x': image
 * is not a PNG or JPEG ..."). */
static int fail_builder(struct ctx *c, int r, const char *tag, const char *kind)
{
    const char *why = summary_last_error();
    char what[32];
    if (r == -ENOMEM)
        return FAIL(r, "out of memory");
    if (!why || !*why)
        why = r == -EILSEQ ? "invalid UTF-8" : r == -EMSGSIZE ? "too large" : "invalid";
    snprintf(what, sizeof what, "%s value", kind);
    return FAIL_AT(r, what, tag, "%s", why);
}

static int read_name(struct ctx *c, const char *s, const char *field, char *out)
{
    size_t len = strlen(s);
    if (!utf8_valid(s, len))
        return FAIL(-EILSEQ, "\"%s\" is not valid UTF-8", field);
    const char *why = NULL;
    int r = logdir_normalize(s, len, out, LOGDIR_MAX_NAME + 1, &why);
    if (r < 0)
        return FAIL_AT(r == -ENAMETOOLONG ? -EMSGSIZE : -EINVAL, field, s, "%s",
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
        return FAIL_AT(-EINVAL, "value", tag, "%s \"shape\" has more than %u sizes", where,
                       SUMMARY_MAX_RANK);
    uint64_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (shape[i] > max || (shape[i] > 0 && n > max / shape[i]))
            return FAIL_AT(-EMSGSIZE, "value", tag, "%s shape too large", where);
        n *= shape[i];
    }
    *ret = (size_t)n;
    return 0;
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

/* ---- values -------------------------------------------------------------- */

static int value_text(struct ctx *c, const Tfevents__Text *t, const char *tag,
                      struct summary_value *v, const struct summary_meta *meta)
{
    if (t->n_shape == 0) {
        if (t->n_strings != 1)
            return FAIL_AT(-EINVAL, "value", tag,
                           "text without a \"shape\" is one string (%zu given)", t->n_strings);
        int r = summary_text(v, tag, t->strings[0], strlen(t->strings[0]), meta);
        return r < 0 ? fail_builder(c, r, tag, "text") : 0;
    }
    if (t->n_shape > 2)
        return FAIL_AT(-EINVAL, "value", tag, "text \"shape\" is [n] or [rows, columns]");
    size_t count = 0;
    int r = shape_count(c, t->shape, t->n_shape, SUMMARY_MAX_STRINGS, "text", tag, &count);
    if (r < 0)
        return r;
    if (count > SUMMARY_MAX_STRINGS)
        return FAIL_AT(-EMSGSIZE, "value", tag, "more than %u strings", SUMMARY_MAX_STRINGS);
    if (count != t->n_strings)
        return FAIL_AT(-EINVAL, "value", tag, "text shape holds %zu strings but %zu were given",
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
        return FAIL_AT(-EINVAL, "value", tag, REQUEST_SAY_HISTOGRAM_FORMS);
    if (buckets) {
        if (h->has_bucket_count)
            return FAIL_AT(-EINVAL, "value", tag, "\"bucket_count\" goes with \"values\"");
        if (h->n_edges != h->n_counts + 1)
            return FAIL_AT(-EINVAL, "value", tag, REQUEST_SAY_HISTOGRAM_EDGES);
        r = summary_histogram_buckets(v, tag, h->edges, h->counts, h->n_counts, meta);
    } else {
        int k = HISTOGRAM_DEFAULT_BUCKETS;
        if (h->has_bucket_count) {
            if (h->bucket_count > (uint32_t)HISTOGRAM_MAX_BUCKETS)
                return FAIL_AT(-EINVAL, "value", tag,
                               "\"bucket_count\" must be an integer from 0 to %d",
                               HISTOGRAM_MAX_BUCKETS);
            k = (int)h->bucket_count;
        }
        r = summary_histogram(v, tag, h->values, h->n_values, k, meta);
    }
    return r < 0 ? fail_builder(c, r, tag, "histogram") : 0;
}

static int image_encoded(struct ctx *c, const Tfevents__Image *im, const char *tag,
                         struct summary_value *v, const struct summary_meta *meta)
{
    if (im->n_shape > 0)
        return FAIL_AT(-EINVAL, "value", tag, "\"shape\" goes with pixels");
    size_t n = im->n_png ? im->n_png : im->n_jpeg ? im->n_jpeg : im->n_gif;
    if (n > SUMMARY_MAX_IMAGES)
        return FAIL_AT(-EINVAL, "value", tag, "between 1 and %u images", SUMMARY_MAX_IMAGES);
    if (im->has_animate || im->has_fps)
        return FAIL_AT(-EINVAL, "value", tag, "\"animate\" and \"fps\" go with pixels");
    struct summary_bytes *s = blobs_of(im->n_png ? im->png : im->n_jpeg ? im->jpeg : im->gif, n);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    int r = summary_image_encoded(v, tag, s, n, im->has_width ? im->width : 0,
                                  im->has_height ? im->height : 0, meta);
    free(s);
    return r < 0 ? fail_builder(c, r, tag, "image") : 0;
}

static int value_image(struct ctx *c, const Tfevents__Image *im, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    int forms = (im->n_png > 0) + (im->n_jpeg > 0) + (im->n_gif > 0) +
                (im->has_pixels_u8 ? 1 : 0) + (im->n_pixels_float > 0);
    if (forms != 1)
        return FAIL_AT(-EINVAL, "value", tag,
                       "image needs exactly one of \"png\", \"jpeg\", \"gif\" or pixels");
    if (im->n_png > 0 || im->n_jpeg > 0 || im->n_gif > 0)
        return image_encoded(c, im, tag, v, meta);
    if (im->has_animate && im->animate)
        return frame_kinds_animation(im, tag, v, meta, c->err, c->err_size);
    if (im->has_fps || im->has_animate)
        return FAIL_AT(-EINVAL, "value", tag, "\"fps\" goes with \"animate\": true");
    if (im->has_width || im->has_height)
        return FAIL_AT(-EINVAL, "value", tag, "with pixels the size comes from the shape");
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
        return FAIL_AT(-EINVAL, "value", tag,
                       "image pixels need a \"shape\" [h,w], [h,w,c] or [n,h,w,c]");
    }
    size_t count = 0;
    int r = shape_count(c, s, im->n_shape, REQUEST_MAX_ARRAY, "image", tag, &count);
    if (r < 0)
        return r;
    size_t given = im->has_pixels_u8 ? im->pixels_u8.len : im->n_pixels_float;
    if (count != given)
        return FAIL_AT(-EINVAL, "value", tag, "image shape holds %zu values but %zu were given",
                       count, given);
    if (im->has_pixels_u8)
        r = summary_image_u8(v, tag, im->pixels_u8.data, batch, hgt, wid, ch, meta);
    else
        r = summary_image_floats(v, tag, im->pixels_float, batch, hgt, wid, ch, meta);
    return r < 0 ? fail_builder(c, r, tag, "image") : 0;
}

static int audio_wav(struct ctx *c, const Tfevents__Audio *a, const char *tag,
                     struct summary_value *v, const struct summary_meta *meta)
{
    if (a->has_sample_rate || a->n_shape > 0)
        return FAIL_AT(-EINVAL, "value", tag, "a WAV file carries its own rate and shape");
    if (a->n_wav > SUMMARY_MAX_AUDIO_CLIPS)
        return FAIL_AT(-EINVAL, "value", tag, "between 1 and %u clips",
                       SUMMARY_MAX_AUDIO_CLIPS);
    struct summary_bytes *s = blobs_of(a->wav, a->n_wav);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    int r = summary_audio_wav(v, tag, s, a->n_wav, meta);
    free(s);
    return r < 0 ? fail_builder(c, r, tag, "audio") : 0;
}

static int value_audio(struct ctx *c, const Tfevents__Audio *a, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    if ((a->n_wav > 0) == (a->n_samples > 0))
        return FAIL_AT(-EINVAL, "value", tag,
                       "audio needs exactly one of \"wav\", \"samples\"");
    if (a->n_wav > 0)
        return audio_wav(c, a, tag, v, meta);
    if (!a->has_sample_rate || a->sample_rate < 1)
        return FAIL_AT(-EINVAL, "value", tag,
                       "audio samples need a \"sample_rate\" (a whole number of Hz)");
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
        return FAIL_AT(-EINVAL, "value", tag,
                       "audio samples must have shape [frames], [frames,channels] or "
                       "[clips,frames,channels]");
    }
    size_t count = a->n_samples;
    int r;
    if (a->n_shape > 0 &&
        (r = shape_count(c, s, a->n_shape, REQUEST_MAX_ARRAY, "audio", tag, &count)) < 0)
        return r;
    if (count != a->n_samples)
        return FAIL_AT(-EINVAL, "value", tag, "audio shape holds %zu values but %zu were given",
                       count, a->n_samples);
    r = summary_audio_floats(v, tag, a->samples, batch, frames, ch, a->sample_rate, meta);
    return r < 0 ? fail_builder(c, r, tag, "audio") : 0;
}

/* A custom value's numbers or strings with their shape. */
static int custom_elements(struct ctx *c, const Tfevents__Custom *cu, const char *tag,
                           struct summary_value *v, const struct summary_meta *meta, int dc)
{
    const void *content = cu->has_content ? cu->content.data : NULL;
    size_t content_len = cu->has_content ? cu->content.len : 0;
    size_t n = cu->n_numbers ? cu->n_numbers : cu->n_strings;
    size_t dims[SUMMARY_MAX_RANK] = {n};
    size_t rank = 1;
    int r;
    if (cu->has_rank0 && cu->rank0) {
        if (cu->n_shape > 0 || n != 1)
            return FAIL_AT(-EINVAL, "value", tag,
                           "a rank-0 tensor holds one element and no shape");
        rank = 0;
    } else if (cu->n_shape > 0) {
        size_t count = 0;
        r = shape_count(c, cu->shape, cu->n_shape, REQUEST_MAX_ARRAY, "custom", tag, &count);
        if (r < 0)
            return r;
        if (count != n)
            return FAIL_AT(-EINVAL, "value", tag, "shape holds %zu values but %zu were given",
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
                return FAIL_AT(-EINVAL, "value", tag, "\"dtype\" must be \"float\" or \"double\"");
            dt = (int)cu->dtype;
        }
        r = summary_custom_numeric(v, tag, cu->plugin, content, content_len, dc, cu->numbers,
                                   rank, dims, dt, meta);
        return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
    }
    if (cu->has_dtype)
        return FAIL_AT(-EINVAL, "value", tag, "\"dtype\" goes with \"numbers\"");
    if (n > SUMMARY_MAX_STRINGS)
        return FAIL_AT(-EMSGSIZE, "value", tag, "more than %u strings", SUMMARY_MAX_STRINGS);
    struct summary_bytes *s = blobs_of(cu->strings, n);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    r = summary_custom_strings(v, tag, cu->plugin, content, content_len, dc, s, rank, dims,
                               meta);
    free(s);
    return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
}

static int value_custom(struct ctx *c, const Tfevents__Custom *cu, const char *tag,
                        struct summary_value *v, const struct summary_meta *meta)
{
    if (!cu->plugin || !*cu->plugin)
        return FAIL_AT(-EINVAL, "value", tag, "custom needs a \"plugin\" name");
    int dc = TFEVENTS__DATA_CLASS__DATA_CLASS_TENSOR;
    if (cu->has_data_class) {
        if ((unsigned)cu->data_class > 3)
            return FAIL_AT(-EINVAL, "value", tag,
                           "\"data_class\" must be \"unknown\", \"scalar\", \"tensor\" or "
                           "\"blob_sequence\"");
        dc = (int)cu->data_class;
    }
    int forms = (cu->has_tensor ? 1 : 0) + (cu->n_numbers > 0) + (cu->n_strings > 0);
    if (forms != 1)
        return FAIL_AT(-EINVAL, "value", tag,
                       "custom needs exactly one of \"tensor\" (a serialized TensorProto), "
                       "\"numbers\", \"strings\"");
    if (!cu->has_tensor)
        return custom_elements(c, cu, tag, v, meta, dc);
    if (cu->n_shape > 0 || cu->has_dtype || cu->has_rank0)
        return FAIL_AT(-EINVAL, "value", tag, "a TensorProto carries its own shape and dtype");
    int r = summary_custom(v, tag, cu->plugin, cu->has_content ? cu->content.data : NULL,
                           cu->has_content ? cu->content.len : 0, dc, cu->tensor.data,
                           cu->tensor.len, meta);
    return r < 0 ? fail_builder(c, r, tag, "custom") : 0;
}


/* The tensor of an encoded value, re-encoded as a custom value. */
static int encoded_tensor(struct ctx *c, const Tensorboard__Summary__Value *sv, const char *tag,
                          struct summary_value *v, const struct summary_meta *meta)
{
    const Tensorboard__SummaryMetadata *md = sv->metadata;
    struct decoded_value dec;
    value_init(&dec);
    int r = value_decode(sv, NULL, NULL, &dec);
    if (r < 0) {
        value_done(&dec);
        return FAIL(r, "out of memory");
    }
    bool ok = dec.kind != VALUE_INVALID;
    value_done(&dec);
    if (!ok)
        return FAIL_AT(-EINVAL, "value", tag,
                       "the encoded tensor cannot be decoded (value count does not match the "
                       "shape, or a dtype TensorBoard cannot read)");
    size_t tlen = tensorboard__tensor_proto__get_packed_size(sv->tensor);
    uint8_t *tbytes = malloc(tlen ? tlen : 1);
    if (!tbytes)
        return FAIL(-ENOMEM, "out of memory");
    tensorboard__tensor_proto__pack(sv->tensor, tbytes);
    const ProtobufCBinaryData *content = &md->plugin_data->content;
    r = summary_custom(v, tag, md->plugin_data->plugin_name, content->data, content->len,
                       (int)md->data_class, tbytes, tlen, meta);
    free(tbytes);
    return r < 0 ? fail_builder(c, r, tag, "encoded") : 0;
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
    if (r < 0)
        goto out;
    if (!*tag) {
        r = FAIL(-EINVAL, "an encoded value has no tag");
        goto out;
    }
    if (!md || !md->plugin_data || !md->plugin_data->plugin_name ||
        !*md->plugin_data->plugin_name) {
        r = FAIL_AT(-EINVAL, "value", tag,
                    "an encoded value needs metadata naming a plugin (without it no dashboard "
                    "lists the tag)");
        goto out;
    }
    struct summary_meta meta = {
        .display_name = md->display_name && *md->display_name ? md->display_name : NULL,
        .description =
            md->summary_description && *md->summary_description ? md->summary_description : NULL,
    };
    const struct summary_meta *mp = meta.display_name || meta.description ? &meta : NULL;
    if (sv->value_case == TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE) {
        if (strcmp(md->plugin_data->plugin_name, "scalars") != 0)
            r = FAIL_AT(-EINVAL, "value", tag, "an encoded simple_value needs plugin \"scalars\"");
        else if ((r = summary_scalar(v, tag, sv->simple_value, mp)) < 0)
            r = fail_builder(c, r, tag, "encoded");
    } else if (sv->value_case != TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR) {
        r = FAIL_AT(-EINVAL, "value", tag,
                    "only tensor and simple_value encoded values are accepted (legacy image, "
                    "histo and audio: send them as tensors)");
    } else {
        r = encoded_tensor(c, sv, tag, v, mp);
    }
out:
    protobuf_c_message_free_unpacked(&sv->base, NULL);
    return r;
}

static int decode_value(struct ctx *c, const Tfevents__Value *val)
{
    const char *run = ".";
    int r;
    if (val->run && val->run != c->run_raw) {
        size_t len = strlen(val->run);
        const char *why = NULL;
        c->run_raw = NULL;
        if (!utf8_valid(val->run, len))
            return FAIL(-EILSEQ, "a run name is not valid UTF-8");
        r = logdir_normalize(val->run, len, c->run, sizeof c->run, &why);
        if (r < 0)
            return FAIL_AT(r == -ENAMETOOLONG ? -EMSGSIZE : -EINVAL, "run", val->run, "%s",
                           why ? why : "invalid");
        c->run_raw = val->run;
    }
    if (val->run)
        run = c->run;
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
        return FAIL_AT(-EINVAL, "value", tag, REQUEST_SAY_RESERVED);
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
    case TFEVENTS__VALUE__KIND_PR_CURVE:
        return frame_kinds_pr_curve(val->pr_curve, tag, v, mp, c->err, c->err_size);
    case TFEVENTS__VALUE__KIND_LAYOUT:
        return frame_kinds_layout(val->layout, tag, v, mp, c->err, c->err_size);
    case TFEVENTS__VALUE__KIND_MESH:
        return frame_kinds_mesh(val->mesh, tag, v, c->m, run, mp, c->err, c->err_size);
    default:
        return FAIL_AT(-EINVAL, "value", tag,
                       "no data (scalar, text, histogram, image, audio, pr_curve, layout, "
                       "mesh, custom or encoded)");
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
        return FAIL_AT(-EINVAL, "hparam", name, "must be a number, a string or a boolean");
    }
}

/* One hparam of the experiment with its domain; *dom (owned by the
 * caller) holds a discrete domain's values. */
static int experiment_hparam(struct ctx *c, const Tfevents__HparamInfo *h,
                             struct hparams_info *hi, struct hparams_value **dom)
{
    hi->name = h->name;
    hi->display_name = h->display_name;
    hi->description = h->description;
    if (h->has_type) {
        if ((unsigned)h->type > 3)
            return FAIL_AT(-EINVAL, "hparam", h->name,
                           "\"type\" must be \"string\", \"bool\" or \"float\"");
        hi->type = (enum hparams_type)h->type;
    }
    if (h->n_values > 0 && (h->has_min || h->has_max))
        return FAIL_AT(-EINVAL, "hparam", h->name, "a domain is \"values\" or \"min\"/\"max\"");
    if (h->has_min != h->has_max)
        return FAIL_AT(-EINVAL, "hparam", h->name, "an interval needs both \"min\" and \"max\"");
    if (h->has_min) {
        hi->domain = HPARAMS_DOMAIN_INTERVAL;
        hi->min_value = h->min;
        hi->max_value = h->max;
        if (!h->has_type)
            hi->type = HPARAMS_TYPE_FLOAT64;
        return 0;
    }
    if (h->n_values == 0)
        return 0;
    if (h->n_values > HPARAMS_MAX_DOMAIN_VALUES)
        return FAIL_AT(-EMSGSIZE, "hparam", h->name, "more than %d \"values\"",
                       HPARAMS_MAX_DOMAIN_VALUES);
    *dom = calloc(h->n_values, sizeof **dom);
    if (!*dom)
        return FAIL(-ENOMEM, "out of memory");
    for (size_t k = 0; k < h->n_values; k++) {
        int r = hparam_value(c, h->values[k], h->name, &(*dom)[k]);
        if (r < 0)
            return r;
    }
    hi->domain = HPARAMS_DOMAIN_DISCRETE;
    hi->values = *dom;
    hi->n_values = h->n_values;
    /* The type follows the values, as TensorBoard's hp.Discrete does. */
    if (!h->has_type)
        hi->type = (*dom)[0].kind == HPARAMS_STRING ? HPARAMS_TYPE_STRING
                   : (*dom)[0].kind == HPARAMS_BOOL ? HPARAMS_TYPE_BOOL
                                                    : HPARAMS_TYPE_FLOAT64;
    return 0;
}

static int decode_experiment(struct ctx *c, const Tfevents__HparamsConfig *q,
                             struct summary_value *v)
{
    size_t nh = q->n_hparams, nm = q->n_metrics;
    if (nh > HPARAMS_MAX_HPARAMS || nm > HPARAMS_MAX_METRICS)
        return FAIL(-EMSGSIZE, "more than %d hparams or %d metrics", HPARAMS_MAX_HPARAMS,
                    HPARAMS_MAX_METRICS);
    if (nh == 0 && nm == 0)
        return FAIL(-EINVAL, "hparams_config without any hparams or metrics");
    struct hparams_info *hi = calloc(nh ? nh : 1, sizeof *hi);
    struct hparams_metric *mi = calloc(nm ? nm : 1, sizeof *mi);
    struct hparams_value **dom = calloc(nh ? nh : 1, sizeof *dom);
    int r = 0;
    if (!hi || !mi || !dom)
        r = FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < nh && r == 0; i++)
        r = experiment_hparam(c, q->hparams[i], &hi[i], &dom[i]);
    for (size_t i = 0; i < nm && r == 0; i++) {
        const Tfevents__MetricInfo *m = q->metrics[i];
        mi[i].tag = m->tag;
        mi[i].group = m->group;
        mi[i].display_name = m->display_name;
        mi[i].description = m->description;
        if (m->has_dataset_type) {
            if ((unsigned)m->dataset_type > 2)
                r = FAIL_AT(-EINVAL, "metric", m->tag,
                            "\"dataset_type\" must be \"training\" or \"validation\"");
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
        return FAIL(-EINVAL,
                    "\"status\" must be \"success\", \"failure\", \"running\" or \"unknown\"");
    double end = q->has_end_time_secs ? q->end_time_secs
                 : c->m->has_wall_time ? c->m->wall_time
                                       : 0;
    int r = summary_hparams_session_end(v, (enum hparams_status)q->status, end);
    return r < 0 ? fail_builder(c, r, HPARAMS_TAG_SESSION_END, "hparams") : 0;
}

/* The envelope of an hparams op: logdir, run, wall time and the one value
 * the op writes, in *ret. */
static int hparams_envelope(struct ctx *c, enum request_op op, const char *dir,
                            const char *run, bool has_wall_time, double wall_time,
                            struct summary_value **ret)
{
    int r;
    c->m->op = op;
    if ((r = read_logdir(c, dir)) < 0 || (r = read_run(c, run)) < 0 ||
        (r = read_wall_time(c, has_wall_time, wall_time)) < 0)
        return r;
    return add_value(c, c->m->run, ret);
}

static int decode_hparams(struct ctx *c, const Tfevents__Request *rq)
{
    struct summary_value *sv;
    int r;
    if (rq->op_case == TFEVENTS__REQUEST__OP_HPARAMS_CONFIG) {
        const Tfevents__HparamsConfig *q = rq->hparams_config;
        r = hparams_envelope(c, REQUEST_HPARAMS_CONFIG, q->logdir, q->run, q->has_wall_time,
                             q->wall_time, &sv);
        return r < 0 ? r : decode_experiment(c, q, sv);
    }
    if (rq->op_case == TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START) {
        const Tfevents__HparamsSessionStart *q = rq->hparams_session_start;
        r = hparams_envelope(c, REQUEST_HPARAMS_SESSION_START, q->logdir, q->run,
                             q->has_wall_time, q->wall_time, &sv);
        return r < 0 ? r : decode_session_start(c, q, sv);
    }
    const Tfevents__HparamsSessionEnd *q = rq->hparams_session_end;
    r = hparams_envelope(c, REQUEST_HPARAMS_SESSION_END, q->logdir, q->run, q->has_wall_time,
                         q->wall_time, &sv);
    return r < 0 ? r : decode_session_end(c, q, sv);
}

/* ---- the request --------------------------------------------------------- */

static int decode_log(struct ctx *c, const Tfevents__Log *q)
{
    struct request *m = c->m;
    m->op = REQUEST_LOG;
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
    if (q->has_resent && q->resent) {
        if (m->step_mode != LOGDIR_STEP_AT)
            return FAIL(-EINVAL, "\"resent\" needs an explicit step (a step of the "
                                 "counter may not be the one the first sending got)");
        m->resent = true;
    }
    if (q->n_values == 0)
        return FAIL(-EINVAL, "\"values\" is empty");
    if (q->n_values > REQUEST_MAX_VALUES)
        return FAIL(-EMSGSIZE, "more than %u values in one message", REQUEST_MAX_VALUES);
    for (size_t i = 0; i < q->n_values; i++)
        if ((r = decode_value(c, q->values[i])) < 0)
            return r;
    return 0;
}

/* step_set and restart. */
static int decode_steps(struct ctx *c, const Tfevents__Request *rq)
{
    struct request *m = c->m;
    int r;
    if (rq->op_case == TFEVENTS__REQUEST__OP_STEP_SET) {
        m->op = REQUEST_STEP_SET;
        if (rq->step_set->step < -1 || rq->step_set->step > (int64_t)FRAME_MAX_STEP)
            return FAIL(-EINVAL, "\"step\" must be an integer from -1 to 2^53");
        m->step_mode = LOGDIR_STEP_AT;
        m->step = rq->step_set->step;
        return read_logdir(c, rq->step_set->logdir);
    }
    m->op = REQUEST_RESTART;
    if (rq->restart->step > FRAME_MAX_STEP)
        return FAIL(-EINVAL, "\"step\" must be an integer from 0 to 2^53");
    m->step_mode = LOGDIR_STEP_AT;
    m->step = (int64_t)rq->restart->step;
    if ((r = read_logdir(c, rq->restart->logdir)) < 0 || (r = read_run(c, rq->restart->run)) < 0)
        return r;
    return read_wall_time(c, rq->restart->has_wall_time, rq->restart->wall_time);
}

/* A graph or a run metadata, at an explicit step (0 when none). */
static int decode_graph(struct ctx *c, const Tfevents__Graph *q)
{
    struct request *m = c->m;
    int r;
    m->op = REQUEST_GRAPH;
    if (q->step > FRAME_MAX_STEP)
        return FAIL(-EINVAL, "\"step\" must be an integer from 0 to 2^53");
    m->step_mode = LOGDIR_STEP_AT;
    m->step = (int64_t)q->step;
    if ((r = read_logdir(c, q->logdir)) < 0 || (r = read_run(c, q->run)) < 0 ||
        (r = read_wall_time(c, q->has_wall_time, q->wall_time)) < 0)
        return r;
    return frame_kinds_graph(q, m, c->err, c->err_size);
}

int frame_decode_fields(const Tfevents__Request *rq, struct request *m, char *err,
                        size_t err_size)
{
    struct ctx cx = {.m = m, .err = err, .err_size = err_size, .run_raw = NULL};
    struct ctx *c = &cx;
    err[0] = '\0';
    if (rq->has_id)
        request_set_id_u64(m, rq->id);
    strcpy(m->run, ".");
    m->step_mode = LOGDIR_STEP_NEXT;
    switch (rq->op_case) {
    case TFEVENTS__REQUEST__OP_LOG:
        return decode_log(c, rq->log);
    case TFEVENTS__REQUEST__OP_STEP_GET:
        m->op = REQUEST_STEP_GET;
        return read_logdir(c, rq->step_get->logdir);
    case TFEVENTS__REQUEST__OP_STEP_SET:
    case TFEVENTS__REQUEST__OP_RESTART:
        return decode_steps(c, rq);
    case TFEVENTS__REQUEST__OP_FLUSH:
    case TFEVENTS__REQUEST__OP_CLOSE: {
        const Tfevents__Flush *f =
            rq->op_case == TFEVENTS__REQUEST__OP_FLUSH ? rq->flush : rq->close;
        m->op = rq->op_case == TFEVENTS__REQUEST__OP_FLUSH ? REQUEST_FLUSH : REQUEST_CLOSE;
        m->sync = f->has_sync && f->sync;
        return f->logdir ? read_logdir(c, f->logdir) : 0;
    }
    case TFEVENTS__REQUEST__OP_HPARAMS_CONFIG:
    case TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START:
    case TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END:
        return decode_hparams(c, rq);
    case TFEVENTS__REQUEST__OP_PING:
        m->op = REQUEST_PING;
        return 0;
    case TFEVENTS__REQUEST__OP_STATS:
        m->op = REQUEST_STATS;
        return 0;
    case TFEVENTS__REQUEST__OP_EMBEDDING: {
        int r;
        m->op = REQUEST_EMBEDDING;
        m->step_mode = LOGDIR_STEP_AT;
        m->step = (int64_t)(rq->embedding->step & INT64_MAX);
        if ((r = read_logdir(c, rq->embedding->logdir)) < 0 ||
            (r = read_run(c, rq->embedding->run)) < 0)
            return r;
        return frame_kinds_embedding(rq->embedding, &m->embedding, err, err_size);
    }
    case TFEVENTS__REQUEST__OP_GRAPH:
        return decode_graph(c, rq->graph);
    default:
        return FAIL(-EINVAL,
                    "a request needs an op (log, step_get, step_set, flush, hparams_config, "
                    "hparams_session_start, hparams_session_end, restart, close, ping, stats, "
                    "embedding, graph)");
    }
}

int frame_decode_request(const Tfevents__Request *rq, struct request *m, char *err,
                         size_t err_size)
{
    request_done(m);
    err[0] = '\0';
    if (rq->has_id)
        request_set_id_u64(m, rq->id);
    int r = frame_check_unknown(&rq->base, err, err_size);
    if (r < 0)
        return r;
    return frame_decode_fields(rq, m, err, err_size);
}
