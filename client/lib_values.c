/* Hand-encoded tfevents.Value messages (proto/tfwire.proto), one per
 * tfevents_add_*() call. The field numbers below are the .proto's. */
#include "lib_values.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbwire.h"

#define TFEV_API __attribute__((visibility("default")))

enum {
    V_RUN = 1, V_TAG = 2, V_DISPLAY = 3, V_DESCRIPTION = 4,
    V_SCALAR = 10, V_TEXT = 11, V_HISTOGRAM = 12, V_IMAGE = 13, V_AUDIO = 14, V_CUSTOM = 15,
    V_ENCODED = 16, V_PR_CURVE = 17, V_LAYOUT = 18, V_MESH = 19,
};
#define LOG_VALUES 5

void lib_values_init(tfevents_values *vs)
{
    buf_init(&vs->packed, LIB_VALUES_MAX_BYTES);
    buf_init(&vs->body, LIB_VALUES_MAX_BYTES);
    buf_init(&vs->sub, LIB_VALUES_MAX_BYTES);
    vs->n = 0;
    vs->last_off = 0;
}

void lib_values_done(tfevents_values *vs)
{
    if (!vs)
        return;
    buf_free(&vs->packed);
    buf_free(&vs->body);
    buf_free(&vs->sub);
}

TFEV_API tfevents_values *tfevents_values_new(void)
{
    tfevents_values *vs = calloc(1, sizeof *vs);
    if (vs)
        lib_values_init(vs);
    return vs;
}

TFEV_API void tfevents_values_free(tfevents_values *vs)
{
    if (!vs)
        return;
    lib_values_done(vs);
    free(vs);
}

/* A scratch buffer of vs (slot) lent as b, empty, or a fresh one without
 * vs; given back afterwards with its memory (up to
 * LIB_VALUES_KEEP_SCRATCH), or freed. */
static void scratch_take(struct buf *slot, struct buf *b)
{
    if (slot) {
        *b = *slot;
        b->len = 0;
        buf_init(slot, LIB_VALUES_MAX_BYTES);
    } else {
        buf_init(b, LIB_VALUES_MAX_BYTES);
    }
}

static void scratch_give(struct buf *slot, struct buf *b)
{
    if (slot && !slot->data && b->cap <= LIB_VALUES_KEEP_SCRATCH) {
        b->len = 0;
        *slot = *b;
        buf_init(b, LIB_VALUES_MAX_BYTES);
    } else {
        buf_free(b);
    }
}

#define SUB_TAKE(vs, b) scratch_take((vs) ? &(vs)->sub : NULL, (b))
#define SUB_GIVE(vs, b) scratch_give((vs) ? &(vs)->sub : NULL, (b))

TFEV_API void tfevents_values_clear(tfevents_values *vs)
{
    if (!vs)
        return;
    buf_reset(&vs->packed);
    vs->n = 0;
    vs->last_off = 0;
}

TFEV_API size_t tfevents_values_count(const tfevents_values *vs)
{
    return vs ? vs->n : 0;
}

/* Packed repeated fields. */
static int add_packed_doubles(struct buf *b, uint32_t field, const double *v, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / 8)
        return -EMSGSIZE;
    int r = pb_add_len_header(b, field, n * 8);
    if (r == 0)
        r = buf_reserve(b, n * 8);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        b->len += pb_put_double(b->data + b->len, v[i]);
    return 0;
}

static int add_packed_floats(struct buf *b, uint32_t field, const float *v, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / 4)
        return -EMSGSIZE;
    int r = pb_add_len_header(b, field, n * 4);
    if (r == 0)
        r = buf_reserve(b, n * 4);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        b->len += pb_put_float(b->data + b->len, v[i]);
    return 0;
}

static int add_packed_sizes(struct buf *b, uint32_t field, const size_t *v, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += pb_varint_size(v[i]);
    int r = pb_add_len_header(b, field, len);
    if (r == 0)
        r = buf_reserve(b, len);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        b->len += pb_put_varint(b->data + b->len, v[i]);
    return 0;
}

static bool mul_ok(size_t *acc, size_t x)
{
    if (x != 0 && *acc > SIZE_MAX / x)
        return false;
    *acc *= x;
    return true;
}

/* One value: its run and tag, then the kind field built by the caller in
 * body (a sub-message for kind >= V_TEXT, or a scalar). */
struct entry {
    tfevents_values *vs;
    size_t start;
    struct buf body;
};

static int begin(struct entry *e, tfevents_values *vs, const char *run, const char *tag)
{
    e->vs = vs;
    e->start = vs ? vs->packed.len : 0;
    scratch_take(vs ? &vs->body : NULL, &e->body);
    if (!vs)
        return -EINVAL;
    if (vs->n >= TFEVENTS_MAX_VALUES)
        return -EMSGSIZE;
    if (tag && !*tag)
        return -EINVAL;
    int r = 0;
    if (run && strcmp(run, ".") != 0)
        r = pb_add_string(&e->body, V_RUN, run);
    if (r == 0 && tag)
        r = pb_add_string(&e->body, V_TAG, tag);
    return r;
}

/* Append the entry (or, on error, nothing). */
static int finish(struct entry *e, int r)
{
    tfevents_values *vs = e->vs;
    if (r == 0)
        r = pb_add_bytes(&vs->packed, LOG_VALUES, e->body.data, e->body.len);
    scratch_give(vs ? &vs->body : NULL, &e->body);
    if (r < 0) {
        if (vs)
            vs->packed.len = e->start;
        return r;
    }
    vs->last_off = e->start;
    vs->n++;
    return 0;
}

/* Append sub (a built sub-message) as field of the body. */
static int add_sub(struct entry *e, uint32_t field, struct buf *sub)
{
    return pb_add_bytes(&e->body, field, sub->data, sub->len);
}

TFEV_API int tfevents_values_meta(tfevents_values *vs, const char *display_name,
                                  const char *description)
{
    if (!vs)
        return -EINVAL;
    if (vs->n == 0)
        return -ENOENT;
    /* Re-frame the last entry with the two fields added: protobuf allows
     * fields in any order, only the entry's length prefix changes. */
    const uint8_t *p = vs->packed.data + vs->last_off + 1;   /* after the key */
    uint64_t len = 0;
    unsigned shift = 0;
    while (*p & 0x80) {
        len |= (uint64_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    len |= (uint64_t)*p++ << shift;
    struct buf body;
    buf_init(&body, LIB_VALUES_MAX_BYTES);
    int r = buf_append(&body, p, (size_t)len);
    if (r == 0 && display_name)
        r = pb_add_string(&body, V_DISPLAY, display_name);
    if (r == 0 && description)
        r = pb_add_string(&body, V_DESCRIPTION, description);
    if (r == 0) {
        size_t old = vs->packed.len;
        vs->packed.len = vs->last_off;
        r = pb_add_bytes(&vs->packed, LOG_VALUES, body.data, body.len);
        if (r < 0)
            vs->packed.len = old;   /* the old bytes are still there */
    }
    buf_free(&body);
    return r;
}

TFEV_API int tfevents_add_scalar(tfevents_values *vs, const char *run, const char *tag,
                                 double value)
{
    struct entry e;
    int r = begin(&e, vs, run, tag);
    if (r == 0 && !tag)
        r = -EINVAL;
    if (r == 0)
        r = pb_add_double(&e.body, V_SCALAR, value);
    return finish(&e, r);
}

TFEV_API int tfevents_add_text(tfevents_values *vs, const char *run, const char *tag,
                               const char *text)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || !text))
        r = -EINVAL;
    if (r == 0)
        r = pb_add_string(&sub, 1, text);
    if (r == 0)
        r = add_sub(&e, V_TEXT, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_text_table(tfevents_values *vs, const char *run, const char *tag,
                                     const char *const *cells, size_t rows, size_t cols)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    size_t n = rows;
    if (r == 0 && (!tag || !mul_ok(&n, cols ? cols : 1)))
        r = -EINVAL;
    if (r == 0 && n > 0 && !cells)
        r = -EINVAL;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = cells[i] ? pb_add_string(&sub, 1, cells[i]) : -EINVAL;
    size_t dims[2] = {rows, cols};
    if (r == 0)
        r = add_packed_sizes(&sub, 2, dims, cols ? 2 : 1);
    if (r == 0)
        r = add_sub(&e, V_TEXT, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_histogram(tfevents_values *vs, const char *run, const char *tag,
                                    const double *data, size_t n, int bucket_count)
{
    /* The sub-message is written in place, its length known beforehand:
     * the data is copied once into the entry, not into a sub-message and
     * then again into the entry. */
    struct entry e;
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || (n > 0 && !data) || n > SIZE_MAX / 16))
        r = -EINVAL;
    size_t len = (n ? pb_len_field_size(1, n * 8) : 0) +
                 (bucket_count >= 0 ? 1 + pb_varint_size((uint64_t)bucket_count) : 0);
    if (r == 0)
        r = pb_add_len_header(&e.body, V_HISTOGRAM, len);
    if (r == 0)
        r = add_packed_doubles(&e.body, 1, data, n);
    if (r == 0 && bucket_count >= 0)
        r = pb_add_varint(&e.body, 2, (uint64_t)bucket_count);
    return finish(&e, r);
}

TFEV_API int tfevents_add_histogram_buckets(tfevents_values *vs, const char *run,
                                            const char *tag, const double *edges,
                                            const double *counts, size_t k)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || !edges || (k > 0 && !counts) || k == SIZE_MAX))
        r = -EINVAL;
    if (r == 0)
        r = add_packed_doubles(&sub, 3, edges, k + 1);
    if (r == 0)
        r = add_packed_doubles(&sub, 4, counts, k);
    if (r == 0)
        r = add_sub(&e, V_HISTOGRAM, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

static int add_image_pixels(tfevents_values *vs, const char *run, const char *tag,
                            const void *pixels, bool bytes, size_t n, size_t height,
                            size_t width, size_t channels)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    size_t count = n;
    if (r == 0 && (!tag || !pixels || !mul_ok(&count, height) || !mul_ok(&count, width) ||
                   !mul_ok(&count, channels) || count == 0))
        r = -EINVAL;
    if (r == 0)
        r = bytes ? pb_add_bytes(&sub, 5, pixels, count)
                  : add_packed_floats(&sub, 6, pixels, count);
    size_t dims[4] = {n, height, width, channels};
    if (r == 0)
        r = add_packed_sizes(&sub, 7, dims, 4);
    if (r == 0)
        r = add_sub(&e, V_IMAGE, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_image_u8(tfevents_values *vs, const char *run, const char *tag,
                                   const uint8_t *pixels, size_t n, size_t height,
                                   size_t width, size_t channels)
{
    return add_image_pixels(vs, run, tag, pixels, true, n, height, width, channels);
}

TFEV_API int tfevents_add_image_float(tfevents_values *vs, const char *run, const char *tag,
                                      const float *pixels, size_t n, size_t height,
                                      size_t width, size_t channels)
{
    return add_image_pixels(vs, run, tag, pixels, false, n, height, width, channels);
}

/* A list of blobs as repeated bytes field `field` of a sub-message. */
static int add_blobs(struct buf *sub, uint32_t field, const void *const *blobs,
                     const size_t *lens, size_t n)
{
    if (n == 0 || !blobs || !lens)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!blobs[i] && lens[i] > 0)
            return -EINVAL;
        int r = pb_add_bytes(sub, field, blobs[i] ? blobs[i] : "", lens[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int add_image_encoded(tfevents_values *vs, const char *run, const char *tag,
                             uint32_t field, const void *const *blobs, const size_t *lens,
                             size_t n)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && !tag)
        r = -EINVAL;
    if (r == 0)
        r = add_blobs(&sub, field, blobs, lens, n);
    if (r == 0)
        r = add_sub(&e, V_IMAGE, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_image_png(tfevents_values *vs, const char *run, const char *tag,
                                    const void *const *blobs, const size_t *lens, size_t n)
{
    return add_image_encoded(vs, run, tag, 1, blobs, lens, n);
}

TFEV_API int tfevents_add_image_jpeg(tfevents_values *vs, const char *run, const char *tag,
                                     const void *const *blobs, const size_t *lens, size_t n)
{
    return add_image_encoded(vs, run, tag, 2, blobs, lens, n);
}

TFEV_API int tfevents_add_image_gif(tfevents_values *vs, const char *run, const char *tag,
                                    const void *const *blobs, const size_t *lens, size_t n)
{
    return add_image_encoded(vs, run, tag, 8, blobs, lens, n);
}

TFEV_API int tfevents_add_animation_u8(tfevents_values *vs, const char *run, const char *tag,
                                       const uint8_t *frames, size_t n_frames, size_t height,
                                       size_t width, size_t channels, double fps)
{
    struct entry e;
    struct buf sub;
    buf_init(&sub, LIB_VALUES_MAX_BYTES);
    int r = begin(&e, vs, run, tag);
    size_t count = n_frames;
    if (r == 0 && (!tag || !frames || !mul_ok(&count, height) || !mul_ok(&count, width) ||
                   !mul_ok(&count, channels) || count == 0))
        r = -EINVAL;
    if (r == 0)
        r = pb_add_bytes(&sub, 5, frames, count);
    size_t dims[4] = {n_frames, height, width, channels};
    if (r == 0)
        r = add_packed_sizes(&sub, 7, dims, 4);
    if (r == 0)
        r = pb_add_varint(&sub, 9, 1);
    if (r == 0 && fps > 0)
        r = pb_add_double(&sub, 10, fps);
    if (r == 0)
        r = add_sub(&e, V_IMAGE, &sub);
    buf_free(&sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_mesh(tfevents_values *vs, const char *run, const char *name,
                               const float *vertices, size_t n_vertices, const int32_t *faces,
                               size_t n_faces, const uint8_t *colors, size_t samples,
                               const char *config)
{
    struct entry e;
    struct buf sub;
    buf_init(&sub, LIB_VALUES_MAX_BYTES);
    int r = begin(&e, vs, run, name);
    size_t nv = samples, nf = samples;
    if (r == 0 && (!name || !vertices || samples == 0 || !mul_ok(&nv, n_vertices) ||
                   !mul_ok(&nv, 3) || nv == 0 || !mul_ok(&nf, n_faces) || !mul_ok(&nf, 3) ||
                   (n_faces && !faces)))
        r = -EINVAL;
    if (r == 0)
        r = add_packed_floats(&sub, 1, vertices, nv);
    if (r == 0 && nf) {
        /* packed int32: each a varint (negatives as 10 bytes, refused later) */
        struct buf p;
        buf_init(&p, LIB_VALUES_MAX_BYTES);
        uint8_t tmp[10];
        for (size_t j = 0; r == 0 && j < nf; j++)
            r = buf_append(&p, tmp, pb_put_varint(tmp, (uint64_t)(int64_t)faces[j]));
        if (r == 0)
            r = pb_add_bytes(&sub, 2, p.data, p.len);
        buf_free(&p);
    }
    if (r == 0 && colors)
        r = pb_add_bytes(&sub, 3, colors, nv);
    if (r == 0)
        r = pb_add_varint(&sub, 4, samples);
    if (r == 0 && config)
        r = pb_add_string(&sub, 5, config);
    if (r == 0)
        r = add_sub(&e, V_MESH, &sub);
    buf_free(&sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_audio_float(tfevents_values *vs, const char *run, const char *tag,
                                      const float *samples, size_t clips, size_t frames,
                                      size_t channels, uint32_t sample_rate)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    size_t count = clips;
    if (r == 0 && (!tag || !samples || !mul_ok(&count, frames) || !mul_ok(&count, channels) ||
                   count == 0 || sample_rate == 0))
        r = -EINVAL;
    if (r == 0)
        r = add_packed_floats(&sub, 2, samples, count);
    size_t dims[3] = {clips, frames, channels};
    if (r == 0)
        r = add_packed_sizes(&sub, 3, dims, 3);
    if (r == 0)
        r = pb_add_varint(&sub, 4, sample_rate);
    if (r == 0)
        r = add_sub(&e, V_AUDIO, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_audio_wav(tfevents_values *vs, const char *run, const char *tag,
                                    const void *const *wavs, const size_t *lens, size_t n)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && !tag)
        r = -EINVAL;
    if (r == 0)
        r = add_blobs(&sub, 1, wavs, lens, n);
    if (r == 0)
        r = add_sub(&e, V_AUDIO, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

/* The fields every custom value shares. */
static int custom_head(struct buf *sub, const char *plugin, const void *content,
                       size_t content_len, enum tfevents_data_class data_class)
{
    if (!plugin || !*plugin || (content_len > 0 && !content) || (unsigned)data_class > 3)
        return -EINVAL;
    int r = pb_add_string(sub, 1, plugin);
    if (r == 0 && content_len > 0)
        r = pb_add_bytes(sub, 2, content, content_len);
    if (r == 0)
        r = pb_add_varint(sub, 3, (uint64_t)data_class);
    return r;
}

/* Shape: rank 0 is the rank0 flag, otherwise packed sizes whose product
 * must be n. */
static int custom_shape(struct buf *sub, size_t rank, const size_t *dims, size_t n)
{
    if (rank == 0)
        return n == 1 ? pb_add_varint(sub, 9, 1) : -EINVAL;
    if (rank > 8 || !dims)
        return -EINVAL;
    size_t count = 1;
    for (size_t i = 0; i < rank; i++)
        if (!mul_ok(&count, dims[i]))
            return -EINVAL;
    if (count != n)
        return -EINVAL;
    return add_packed_sizes(sub, 7, dims, rank);
}

static size_t shape_elements(size_t rank, const size_t *dims, bool *ok)
{
    size_t count = 1;
    *ok = rank <= 8 && (rank == 0 || dims);
    for (size_t i = 0; *ok && i < rank; i++)
        *ok = mul_ok(&count, dims[i]);
    return count;
}

TFEV_API int tfevents_add_custom_numbers(tfevents_values *vs, const char *run, const char *tag,
                                         const char *plugin, const void *content,
                                         size_t content_len, enum tfevents_data_class data_class,
                                         const double *values, size_t rank, const size_t *dims,
                                         enum tfevents_dtype dtype)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    bool ok;
    size_t n = shape_elements(rank, dims, &ok);
    /* The protocol tells "numbers" from "strings" by which list is
     * non-empty, so an empty numeric tensor cannot travel. */
    if (r == 0 && (!tag || !ok || n == 0 || !values ||
                   (dtype != TFEVENTS_DTYPE_FLOAT && dtype != TFEVENTS_DTYPE_DOUBLE)))
        r = -EINVAL;
    if (r == 0)
        r = custom_head(&sub, plugin, content, content_len, data_class);
    if (r == 0)
        r = add_packed_doubles(&sub, 5, values, n);
    if (r == 0)
        r = custom_shape(&sub, rank, dims, n);
    if (r == 0)
        r = pb_add_varint(&sub, 8, (uint64_t)dtype);
    if (r == 0)
        r = add_sub(&e, V_CUSTOM, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_custom_strings(tfevents_values *vs, const char *run, const char *tag,
                                         const char *plugin, const void *content,
                                         size_t content_len, enum tfevents_data_class data_class,
                                         const void *const *strings, const size_t *lens,
                                         size_t rank, const size_t *dims)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    bool ok;
    size_t n = shape_elements(rank, dims, &ok);
    if (r == 0 && (!tag || !ok || n == 0))
        r = -EINVAL;
    if (r == 0)
        r = custom_head(&sub, plugin, content, content_len, data_class);
    if (r == 0)
        r = add_blobs(&sub, 6, strings, lens, n);
    if (r == 0)
        r = custom_shape(&sub, rank, dims, n);
    if (r == 0)
        r = add_sub(&e, V_CUSTOM, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_custom_tensor(tfevents_values *vs, const char *run, const char *tag,
                                        const char *plugin, const void *content,
                                        size_t content_len, enum tfevents_data_class data_class,
                                        const void *tensor_proto, size_t tensor_len)
{
    struct entry e;
    struct buf sub;
    SUB_TAKE(vs, &sub);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || (!tensor_proto && tensor_len > 0)))
        r = -EINVAL;
    if (r == 0)
        r = custom_head(&sub, plugin, content, content_len, data_class);
    if (r == 0)
        r = pb_add_bytes(&sub, 4, tensor_proto ? tensor_proto : "", tensor_len);
    if (r == 0)
        r = add_sub(&e, V_CUSTOM, &sub);
    SUB_GIVE(vs, &sub);
    return finish(&e, r);
}

/* Predictions: exactly one of f32 and f64. */
static int add_pr_curve(tfevents_values *vs, const char *run, const char *tag,
                        const double *labels, const float *f32, const double *f64, size_t n,
                        const double *weights, size_t n_weights, unsigned num_thresholds)
{
    struct entry e;
    struct buf sub;
    buf_init(&sub, LIB_VALUES_MAX_BYTES);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || !labels || (!f32 && !f64) || n == 0 || (n_weights && !weights)))
        r = -EINVAL;
    if (r == 0)
        r = add_packed_doubles(&sub, 1, labels, n);
    if (r == 0)
        r = f32 ? add_packed_floats(&sub, 2, f32, n) : add_packed_doubles(&sub, 3, f64, n);
    if (r == 0)
        r = add_packed_doubles(&sub, 4, weights, n_weights);
    if (r == 0 && num_thresholds)
        r = pb_add_varint(&sub, 5, num_thresholds);
    if (r == 0)
        r = add_sub(&e, V_PR_CURVE, &sub);
    buf_free(&sub);
    return finish(&e, r);
}

TFEV_API int tfevents_add_pr_curve(tfevents_values *vs, const char *run, const char *tag,
                                   const double *labels, const float *predictions, size_t n,
                                   const double *weights, size_t n_weights,
                                   unsigned num_thresholds)
{
    if (!predictions)
        return -EINVAL;
    return add_pr_curve(vs, run, tag, labels, predictions, NULL, n, weights, n_weights,
                        num_thresholds);
}

TFEV_API int tfevents_add_pr_curve_double(tfevents_values *vs, const char *run, const char *tag,
                                          const double *labels, const double *predictions,
                                          size_t n, const double *weights, size_t n_weights,
                                          unsigned num_thresholds)
{
    if (!predictions)
        return -EINVAL;
    return add_pr_curve(vs, run, tag, labels, NULL, predictions, n, weights, n_weights,
                        num_thresholds);
}

TFEV_API int tfevents_add_pr_curve_raw(tfevents_values *vs, const char *run, const char *tag,
                                       const double *const rows[6], size_t num_thresholds)
{
    struct entry e;
    struct buf sub;
    buf_init(&sub, LIB_VALUES_MAX_BYTES);
    int r = begin(&e, vs, run, tag);
    if (r == 0 && (!tag || !rows || num_thresholds == 0))
        r = -EINVAL;
    for (uint32_t i = 0; r == 0 && i < 6; i++)
        r = rows[i] ? add_packed_doubles(&sub, 6 + i, rows[i], num_thresholds) : -EINVAL;
    if (r == 0)
        r = add_sub(&e, V_PR_CURVE, &sub);
    buf_free(&sub);
    return finish(&e, r);
}

/* LayoutChart{title=1, multiline=2..., margin=3 {value, lower, upper}...}. */
static int layout_chart(struct buf *b, const struct tfevents_layout_chart *ch)
{
    struct buf series;
    buf_init(&series, LIB_VALUES_MAX_BYTES);
    int r = ch->title ? pb_add_string(b, 1, ch->title) : -EINVAL;
    if (r == 0 && ((ch->n_multiline && !ch->multiline) || (ch->n_margin && !ch->margin)))
        r = -EINVAL;
    for (size_t i = 0; r == 0 && i < ch->n_multiline; i++)
        r = ch->multiline[i] ? pb_add_string(b, 2, ch->multiline[i]) : -EINVAL;
    for (size_t i = 0; r == 0 && i < ch->n_margin; i++) {
        const struct tfevents_layout_series *m = &ch->margin[i];
        if (!m->value || !m->lower || !m->upper)
            r = -EINVAL;
        if (r == 0)
            r = pb_add_string(&series, 1, m->value);
        if (r == 0)
            r = pb_add_string(&series, 2, m->lower);
        if (r == 0)
            r = pb_add_string(&series, 3, m->upper);
        if (r == 0)
            r = pb_add_bytes(b, 3, series.data, series.len);
        buf_reset(&series);
    }
    buf_free(&series);
    return r;
}

TFEV_API int tfevents_add_custom_scalars(tfevents_values *vs, const char *run,
                                         const struct tfevents_layout_category *categories,
                                         size_t n)
{
    struct entry e;
    struct buf layout, cat, chart;
    buf_init(&layout, LIB_VALUES_MAX_BYTES);
    buf_init(&cat, LIB_VALUES_MAX_BYTES);
    buf_init(&chart, LIB_VALUES_MAX_BYTES);
    int r = begin(&e, vs, run, "custom_scalars__config__");
    if (r == 0 && (!categories || n == 0))
        r = -EINVAL;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct tfevents_layout_category *c = &categories[i];
        r = c->title && (c->charts || !c->n_charts) ? pb_add_string(&cat, 1, c->title) : -EINVAL;
        if (r == 0 && c->closed)
            r = pb_add_varint(&cat, 2, 1);
        for (size_t j = 0; r == 0 && j < c->n_charts; j++) {
            r = layout_chart(&chart, &c->charts[j]);
            if (r == 0)
                r = pb_add_bytes(&cat, 3, chart.data, chart.len);
            buf_reset(&chart);
        }
        if (r == 0)
            r = pb_add_bytes(&layout, 1, cat.data, cat.len);
        buf_reset(&cat);
    }
    if (r == 0)
        r = add_sub(&e, V_LAYOUT, &layout);
    buf_free(&layout);
    buf_free(&cat);
    buf_free(&chart);
    return finish(&e, r);
}

TFEV_API int tfevents_add_encoded(tfevents_values *vs, const char *run,
                                  const void *summary_value, size_t len)
{
    struct entry e;
    int r = begin(&e, vs, run, NULL);
    if (r == 0 && !summary_value)
        r = -EINVAL;
    if (r == 0)
        r = pb_add_bytes(&e.body, V_ENCODED, summary_value, len);
    return finish(&e, r);
}

/* ---- the direct route's view of plain scalars ----------------------------- */

void lib_scalars_init(struct lib_scalars *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
    buf_init(&s->text, LIB_VALUES_MAX_BYTES);
}

void lib_scalars_done(struct lib_scalars *s)
{
    if (!s)
        return;
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
    buf_free(&s->text);
}

/* A varint at *p (before end); false when it does not fit. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return true;
        }
    }
    return false;
}

/* Parse the entries of vs->packed, which this file wrote: each is field
 * LOG_VALUES holding V_RUN and V_TAG strings (either may be absent) and a
 * V_SCALAR double. Any other field means "not a plain scalar". The copies
 * of the strings (with their NUL) cannot outgrow the packed bytes plus two
 * NULs per value, so s->text is reserved once and never moves meanwhile. */
int lib_values_scalars(const tfevents_values *vs, struct lib_scalars *s)
{
    s->n = 0;
    buf_reset(&s->text);
    if (vs->n == 0)
        return 0;
    if (vs->n > s->cap) {
        struct lib_scalar *v = realloc(s->v, vs->n * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = vs->n;
    }
    int r = buf_reserve(&s->text, vs->packed.len + 2 * vs->n);
    if (r < 0)
        return r == -ENOMEM ? r : 0;
    char *text = (char *)s->text.data;
    size_t used = 0;
    const uint8_t *p = vs->packed.data, *end = p + vs->packed.len;
    while (p < end) {
        uint64_t len;
        if (*p++ != ((LOG_VALUES << 3) | PB_LEN) || !read_varint(&p, end, &len) ||
            len > (uint64_t)(end - p) || s->n >= vs->n)
            return 0;
        const uint8_t *q = p, *qe = p + len;
        p = qe;
        struct lib_scalar *sc = &s->v[s->n];
        sc->run = sc->tag = NULL;
        bool has_scalar = false;
        while (q < qe) {
            uint8_t key = *q++;
            if (key == ((V_SCALAR << 3) | PB_FIXED64) && qe - q >= 8) {
                uint64_t bits = 0;
                for (int i = 0; i < 8; i++)
                    bits |= (uint64_t)q[i] << (8 * i);
                memcpy(&sc->value, &bits, 8);
                q += 8;
                has_scalar = true;
                continue;
            }
            if (key != ((V_RUN << 3) | PB_LEN) && key != ((V_TAG << 3) | PB_LEN))
                return 0;
            uint64_t sl;
            if (!read_varint(&q, qe, &sl) || sl > (uint64_t)(qe - q) || memchr(q, 0, sl))
                return 0;
            if (used + sl + 1 > s->text.cap)
                return 0;   /* cannot happen for bytes this file wrote */
            memcpy(text + used, q, (size_t)sl);
            text[used + sl] = '\0';
            if (key == ((V_RUN << 3) | PB_LEN))
                sc->run = text + used;
            else
                sc->tag = text + used;
            used += sl + 1;
            q += sl;
        }
        if (!has_scalar || !sc->tag)
            return 0;
        s->n++;
    }
    s->text.len = used;
    return s->n == vs->n ? 1 : 0;
}
