#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gif.h"
#include "pbfields.h"
#include "pbwire.h"
#include "plugins.pb-c.h"
#include "tensor.pb-c.h"
#include "utf8.h"

/* Cap of the metadata buffer: content plus a few strings and headers. */
#define SUMMARY_MAX_METADATA (SUMMARY_MAX_CONTENT + 4 * SUMMARY_MAX_META_STRING + 64)

static _Thread_local const char *last_error = "";

const char *summary_last_error(void)
{
    return last_error;
}

void summary_value_init(struct summary_value *v)
{
    buf_init(&v->tag, SUMMARY_MAX_TAG);
    buf_init(&v->metadata, SUMMARY_MAX_METADATA);
    buf_init(&v->body, SUMMARY_MAX_BODY);
}

void summary_value_done(struct summary_value *v)
{
    if (!v)
        return;
    buf_free(&v->tag);
    buf_free(&v->metadata);
    buf_free(&v->body);
}

static void value_reset(struct summary_value *v)
{
    buf_reset(&v->tag);
    buf_reset(&v->metadata);
    buf_reset(&v->body);
}

int summary_value_encode(struct buf *out, const struct summary_value *v, bool with_metadata)
{
    size_t inner = pb_len_field_size(PBF_VALUE_TAG, v->tag.len) + v->body.len;
    if (with_metadata && v->metadata.len)
        inner += pb_len_field_size(PBF_VALUE_METADATA, v->metadata.len);
    int r = buf_reserve(out, pb_len_field_size(PBF_SUMMARY_VALUE, inner));
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    p += pb_put_tag(p, PBF_SUMMARY_VALUE, PB_LEN);
    p += pb_put_varint(p, inner);
    p += pb_put_tag(p, PBF_VALUE_TAG, PB_LEN);
    p += pb_put_varint(p, v->tag.len);
    memcpy(p, v->tag.data, v->tag.len);
    p += v->tag.len;
    if (v->body.len) {
        memcpy(p, v->body.data, v->body.len);
        p += v->body.len;
    }
    if (with_metadata && v->metadata.len) {
        p += pb_put_tag(p, PBF_VALUE_METADATA, PB_LEN);
        p += pb_put_varint(p, v->metadata.len);
        memcpy(p, v->metadata.data, v->metadata.len);
        p += v->metadata.len;
    }
    out->len = (size_t)(p - out->data);
    return 0;
}

/* ---- shared pieces --------------------------------------------------- */

static int fail(struct summary_value *v, int r, const char *why)
{
    value_reset(v);
    last_error = why ? why : r == -EMSGSIZE ? "value exceeds a size limit"
                           : r == -ENOMEM   ? "out of memory"
                           : r == -EILSEQ   ? "string is not valid UTF-8"
                                            : "invalid argument";
    return r;
}

int summary_fail(struct summary_value *v, int r, const char *why)
{
    return fail(v, r, why);
}

void summary_clear_error(void)
{
    last_error = "";
}

static int set_tag(struct summary_value *v, const char *tag, const char **why)
{
    if (!tag || !*tag) {
        *why = "empty tag";
        return -EINVAL;
    }
    size_t len = strlen(tag);
    if (len > SUMMARY_MAX_TAG) {
        *why = "tag longer than SUMMARY_MAX_TAG";
        return -EMSGSIZE;
    }
    if (!utf8_valid(tag, len)) {
        *why = "tag is not valid UTF-8";
        return -EILSEQ;
    }
    return buf_append(&v->tag, tag, len);
}

static int check_meta_string(const char *s, size_t *ret_len, const char **why)
{
    *ret_len = s ? strlen(s) : 0;
    if (*ret_len > SUMMARY_MAX_META_STRING) {
        *why = "display name, description or plugin name too long";
        return -EMSGSIZE;
    }
    if (!utf8_valid(s, *ret_len)) {
        *why = "display name, description or plugin name is not valid UTF-8";
        return -EILSEQ;
    }
    return 0;
}

/* SummaryMetadata{plugin_data{plugin_name, content}, display_name,
 * summary_description, data_class} into v->metadata. */
static int set_metadata(struct summary_value *v, const char *plugin, const void *content,
                        size_t content_len, int data_class, const struct summary_meta *meta,
                        const char **why)
{
    size_t plen, dlen, slen;
    const char *dn = meta ? meta->display_name : NULL;
    const char *ds = meta ? meta->description : NULL;
    int r;
    if ((r = check_meta_string(plugin, &plen, why)) < 0 ||
        (r = check_meta_string(dn, &dlen, why)) < 0 ||
        (r = check_meta_string(ds, &slen, why)) < 0)
        return r;
    if (content_len > SUMMARY_MAX_CONTENT) {
        *why = "plugin content longer than SUMMARY_MAX_CONTENT";
        return -EMSGSIZE;
    }
    size_t pd = pb_len_field_size(PBF_PLUGIN_NAME, plen);
    if (content_len)
        pd += pb_len_field_size(PBF_PLUGIN_CONTENT, content_len);
    struct buf *m = &v->metadata;
    if ((r = pb_add_len_header(m, PBF_META_PLUGIN_DATA, pd)) < 0 ||
        (r = pb_add_bytes(m, PBF_PLUGIN_NAME, plugin, plen)) < 0)
        return r;
    if (content_len && (r = pb_add_bytes(m, PBF_PLUGIN_CONTENT, content, content_len)) < 0)
        return r;
    if (dlen && (r = pb_add_bytes(m, PBF_META_DISPLAY_NAME, dn, dlen)) < 0)
        return r;
    if (slen && (r = pb_add_bytes(m, PBF_META_DESCRIPTION, ds, slen)) < 0)
        return r;
    if (data_class && (r = pb_add_varint(m, PBF_META_DATA_CLASS, (uint64_t)data_class)) < 0)
        return r;
    return 0;
}

/* The TensorShapeProto of dims, as a field of TensorProto: its size, and
 * the bytes. */
static size_t shape_field_size(size_t rank, const uint64_t *dims)
{
    size_t inner = 0;
    for (size_t i = 0; i < rank; i++)
        inner += pb_len_field_size(PBF_SHAPE_DIM, 1 + pb_varint_size(dims[i]));
    return pb_len_field_size(PBF_TENSOR_SHAPE, inner);
}

static uint8_t *put_shape_field(uint8_t *p, size_t rank, const uint64_t *dims)
{
    size_t inner = 0;
    for (size_t i = 0; i < rank; i++)
        inner += pb_len_field_size(PBF_SHAPE_DIM, 1 + pb_varint_size(dims[i]));
    p += pb_put_tag(p, PBF_TENSOR_SHAPE, PB_LEN);
    p += pb_put_varint(p, inner);
    for (size_t i = 0; i < rank; i++) {
        p += pb_put_tag(p, PBF_SHAPE_DIM, PB_LEN);
        p += pb_put_varint(p, 1 + pb_varint_size(dims[i]));
        p += pb_put_tag(p, PBF_DIM_SIZE, PB_VARINT);
        p += pb_put_varint(p, dims[i]);
    }
    return p;
}

/* Start the body: Value.tensor key and length, then TensorProto dtype and
 * shape; values_size is the size of what the caller appends after. */
static int begin_tensor(struct buf *body, int dtype, size_t rank, const uint64_t *dims,
                        size_t values_size)
{
    size_t tensor = 2 + shape_field_size(rank, dims) + values_size;
    int r = buf_reserve(body, pb_len_field_size(PBF_VALUE_TENSOR, tensor));
    if (r < 0)
        return r;
    uint8_t *p = body->data + body->len;
    p += pb_put_tag(p, PBF_VALUE_TENSOR, PB_LEN);
    p += pb_put_varint(p, tensor);
    p += pb_put_tag(p, PBF_TENSOR_DTYPE, PB_VARINT);
    p += pb_put_varint(p, (uint64_t)dtype);
    p = put_shape_field(p, rank, dims);
    body->len = (size_t)(p - body->data);
    return 0;
}

/* A DT_STRING tensor of n strings. */
static int string_tensor(struct buf *body, size_t rank, const uint64_t *dims,
                         const struct summary_bytes *s, size_t n)
{
    size_t values = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].len > SUMMARY_MAX_BODY)
            return -EMSGSIZE;
        values += pb_len_field_size(PBF_TENSOR_STRING_VAL, s[i].len);
        if (values > SUMMARY_MAX_BODY)
            return -EMSGSIZE;
    }
    int r = begin_tensor(body, TENSORBOARD__DATA_TYPE__DT_STRING, rank, dims, values);
    if (r < 0)
        return r;
    if ((r = buf_reserve(body, values)) < 0)
        return r;
    uint8_t *p = body->data + body->len;
    for (size_t i = 0; i < n; i++) {
        p += pb_put_tag(p, PBF_TENSOR_STRING_VAL, PB_LEN);
        p += pb_put_varint(p, s[i].len);
        if (s[i].len)
            memcpy(p, s[i].data, s[i].len);
        p += s[i].len;
    }
    body->len = (size_t)(p - body->data);
    return 0;
}

/* A numeric tensor: packed float_val or double_val. */
static int numeric_tensor(struct buf *body, int dtype, size_t rank, const uint64_t *dims,
                          const double *x, size_t n)
{
    size_t width = dtype == TENSORBOARD__DATA_TYPE__DT_FLOAT ? 4 : 8;
    uint32_t field = width == 4 ? PBF_TENSOR_FLOAT_VAL : PBF_TENSOR_DOUBLE_VAL;
    if (n > SUMMARY_MAX_BODY / width)
        return -EMSGSIZE;
    size_t values = n ? pb_len_field_size(field, n * width) : 0;
    int r = begin_tensor(body, dtype, rank, dims, values);
    if (r < 0 || n == 0)
        return r;
    if ((r = buf_reserve(body, values)) < 0)
        return r;
    uint8_t *p = body->data + body->len;
    p += pb_put_tag(p, field, PB_LEN);
    p += pb_put_varint(p, n * width);
    if (width == 4)
        for (size_t i = 0; i < n; i++)
            p += pb_put_float(p, (float)x[i]);
    else
        for (size_t i = 0; i < n; i++)
            p += pb_put_double(p, x[i]);
    body->len = (size_t)(p - body->data);
    return 0;
}

/* dims as given, checked: rank <= SUMMARY_MAX_RANK, product <= max_count. */
static int check_dims(size_t rank, const size_t *dims, size_t max_count, uint64_t *out,
                      size_t *ret_count, const char **why)
{
    if (rank > SUMMARY_MAX_RANK) {
        *why = "tensor rank above SUMMARY_MAX_RANK";
        return -EINVAL;
    }
    if (rank && !dims) {
        *why = "tensor dims are NULL";
        return -EINVAL;
    }
    size_t count = 1;
    for (size_t i = 0; i < rank; i++) {
        out[i] = dims[i];
        if (dims[i] && count > max_count / dims[i]) {
            *why = "tensor has too many elements";
            return -EMSGSIZE;
        }
        count *= dims[i];
    }
    if (count > max_count) {
        *why = "tensor has too many elements";
        return -EMSGSIZE;
    }
    *ret_count = count;
    return 0;
}

/* ---- scalars --------------------------------------------------------- */

/* SummaryMetadata{plugin_data{plugin_name: "scalars"}, data_class: SCALAR}:
 * ScalarPluginData{version 0} serializes to nothing, so no content. */
static const uint8_t scalar_metadata[] = {
    PB_KEY(PBF_META_PLUGIN_DATA, PB_LEN), 9,
    PB_KEY(PBF_PLUGIN_NAME, PB_LEN), 7, 's', 'c', 'a', 'l', 'a', 'r', 's',
    PB_KEY(PBF_META_DATA_CLASS, PB_VARINT), TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR,
};
_Static_assert(sizeof scalar_metadata == SUMMARY_SCALAR_METADATA_LEN, "summary.h");

const uint8_t summary_scalar_body_head[8] = {
    PB_KEY(PBF_VALUE_TENSOR, PB_LEN), 10,
    PB_KEY(PBF_TENSOR_DTYPE, PB_VARINT), TENSORBOARD__DATA_TYPE__DT_FLOAT,
    PB_KEY(PBF_TENSOR_SHAPE, PB_LEN), 0,
    PB_KEY(PBF_TENSOR_FLOAT_VAL, PB_LEN), 4,
};

bool summary_is_plain_scalar(const struct summary_value *v, double *ret_value)
{
    if (v->body.len != SUMMARY_SCALAR_BODY_LEN || v->metadata.len != sizeof scalar_metadata ||
        memcmp(v->body.data, summary_scalar_body_head, sizeof summary_scalar_body_head) != 0 ||
        memcmp(v->metadata.data, scalar_metadata, sizeof scalar_metadata) != 0)
        return false;
    uint32_t bits = (uint32_t)v->body.data[8] | (uint32_t)v->body.data[9] << 8 |
                    (uint32_t)v->body.data[10] << 16 | (uint32_t)v->body.data[11] << 24;
    float f;
    memcpy(&f, &bits, 4);
    *ret_value = f;
    return true;
}

int summary_scalar(struct summary_value *v, const char *tag, double value,
                   const struct summary_meta *meta)
{
    const char *why = NULL;
    value_reset(v);
    int r = set_tag(v, tag, &why);
    if (r < 0)
        return fail(v, r, why);
    if (!meta || ((!meta->display_name || !*meta->display_name) &&
                  (!meta->description || !*meta->description)))
        r = buf_append(&v->metadata, scalar_metadata, sizeof scalar_metadata);
    else
        r = set_metadata(v, "scalars", NULL, 0, TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR,
                         meta, &why);
    if (r < 0)
        return fail(v, r, why);
    /* Value.tensor = TensorProto{dtype: DT_FLOAT, tensor_shape: {},
     * float_val: [value]} with float_val packed, as protobuf emits it. */
    if ((r = buf_reserve(&v->body, SUMMARY_SCALAR_BODY_LEN)) < 0)
        return fail(v, r, NULL);
    uint8_t *p = v->body.data;
    memcpy(p, summary_scalar_body_head, sizeof summary_scalar_body_head);
    pb_put_float(p + 8, (float)value);
    v->body.len = SUMMARY_SCALAR_BODY_LEN;
    last_error = "";
    return 0;
}

/* ---- text ------------------------------------------------------------ */

int summary_text_array(struct summary_value *v, const char *tag,
                       const struct summary_bytes *strings, size_t rank,
                       const size_t *dims, const struct summary_meta *meta)
{
    const char *why = NULL;
    uint64_t d[SUMMARY_MAX_RANK];
    size_t n;
    value_reset(v);
    if (rank > 2)
        return fail(v, -EINVAL, "text rank above 2");
    int r = check_dims(rank, dims, SUMMARY_MAX_STRINGS, d, &n, &why);
    if (r < 0)
        return fail(v, r, why);
    if (n && !strings)
        return fail(v, -EINVAL, "text strings are NULL");
    for (size_t i = 0; i < n; i++) {
        if (strings[i].len && !strings[i].data)
            return fail(v, -EINVAL, "text string is NULL");
        if (!utf8_valid(strings[i].data, strings[i].len))
            return fail(v, -EILSEQ, "text is not valid UTF-8");
    }
    if ((r = set_tag(v, tag, &why)) < 0 ||
        (r = set_metadata(v, "text", NULL, 0, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR,
                          meta, &why)) < 0 ||
        (r = string_tensor(&v->body, rank, d, strings, n)) < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}

int summary_text(struct summary_value *v, const char *tag, const char *text, size_t len,
                 const struct summary_meta *meta)
{
    struct summary_bytes s = {text, len};
    return summary_text_array(v, tag, &s, 0, NULL, meta);
}

/* ---- histograms ------------------------------------------------------ */

static int histogram_rows(struct summary_value *v, const char *tag, const double *rows,
                          size_t k, const struct summary_meta *meta)
{
    const char *why = NULL;
    uint64_t dims[2] = {k, 3};
    int r;
    if ((r = set_tag(v, tag, &why)) < 0 ||
        (r = set_metadata(v, "histograms", NULL, 0, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR,
                          meta, &why)) < 0 ||
        (r = numeric_tensor(&v->body, TENSORBOARD__DATA_TYPE__DT_DOUBLE, 2, dims, rows,
                            3 * k)) < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}

int summary_histogram(struct summary_value *v, const char *tag, const double *data,
                      size_t n, int bucket_count, const struct summary_meta *meta)
{
    value_reset(v);
    if (bucket_count < 0 || bucket_count > HISTOGRAM_MAX_BUCKETS)
        return fail(v, -EINVAL, "histogram bucket count below 0 or above HISTOGRAM_MAX_BUCKETS");
    if (n > HISTOGRAM_MAX_ELEMENTS)
        return fail(v, -EMSGSIZE, "histogram has more than HISTOGRAM_MAX_ELEMENTS values");
    if (n && !data)
        return fail(v, -EINVAL, "histogram data is NULL");
    size_t k = (size_t)bucket_count;
    double stack_rows[3 * HISTOGRAM_DEFAULT_BUCKETS];
    double *rows = stack_rows;
    if (k > HISTOGRAM_DEFAULT_BUCKETS) {
        rows = malloc(3 * k * sizeof *rows);
        if (!rows)
            return fail(v, -ENOMEM, NULL);
    }
    int r = histogram_compute(data, n, bucket_count, rows);
    if (r < 0)
        r = fail(v, r, "histogram data holds NaN or Inf, or its range overflows a double");
    else
        r = histogram_rows(v, tag, rows, k, meta);
    if (rows != stack_rows)
        free(rows);
    return r;
}

int summary_histogram_buckets(struct summary_value *v, const char *tag, const double *edges,
                              const double *counts, size_t k,
                              const struct summary_meta *meta)
{
    value_reset(v);
    if (k > HISTOGRAM_MAX_BUCKETS)
        return fail(v, -EINVAL, "more than HISTOGRAM_MAX_BUCKETS buckets");
    if (!edges || (k && !counts))
        return fail(v, -EINVAL, "histogram edges or counts are NULL");
    if (histogram_check_buckets(edges, counts, k) < 0)
        return fail(v, -EINVAL,
                    "histogram edges must be finite and non-decreasing, counts finite and >= 0");
    double *rows = malloc(3 * (k ? k : 1) * sizeof *rows);
    if (!rows)
        return fail(v, -ENOMEM, NULL);
    for (size_t i = 0; i < k; i++) {
        rows[3 * i] = edges[i];
        rows[3 * i + 1] = edges[i + 1];
        rows[3 * i + 2] = counts[i];
    }
    int r = histogram_rows(v, tag, rows, k, meta);
    free(rows);
    return r;
}

/* ---- images ---------------------------------------------------------- */

/* The image tensor [width, height, blob...] from blobs that live in one
 * buffer (offsets/lengths in spans). */
static int image_body(struct summary_value *v, const char *tag, uint32_t width,
                      uint32_t height, const struct summary_bytes *blobs, size_t n,
                      const struct summary_meta *meta)
{
    const char *why = NULL;
    char ws[16], hs[16];
    struct summary_bytes stack[8];
    struct summary_bytes *all = stack;
    if (n + 2 > 8) {
        all = malloc((n + 2) * sizeof *all);
        if (!all)
            return fail(v, -ENOMEM, NULL);
    }
    all[0].data = ws;
    all[0].len = (size_t)snprintf(ws, sizeof ws, "%" PRIu32, width);
    all[1].data = hs;
    all[1].len = (size_t)snprintf(hs, sizeof hs, "%" PRIu32, height);
    memcpy(all + 2, blobs, n * sizeof *blobs);
    uint64_t dims[1] = {n + 2};
    int r;
    if ((r = set_tag(v, tag, &why)) < 0 ||
        (r = set_metadata(v, "images", NULL, 0,
                          TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE, meta, &why)) < 0 ||
        (r = string_tensor(&v->body, 1, dims, all, n + 2)) < 0)
        r = fail(v, r, why);
    else
        last_error = "";
    if (all != stack)
        free(all);
    return r;
}

enum pixel_type { PIXEL_DOUBLE, PIXEL_FLOAT, PIXEL_U8 };

uint8_t summary_unit_to_byte(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= 1)
        return 255;
    return (uint8_t)(x * 255.0 + 0.5);
}

static int image_pixels(struct summary_value *v, const char *tag, const void *pixels,
                        enum pixel_type type, size_t batch, size_t height, size_t width,
                        size_t channels, const struct summary_meta *meta)
{
    value_reset(v);
    if (batch < 1 || batch > SUMMARY_MAX_IMAGES)
        return fail(v, -EINVAL, "image batch outside 1..SUMMARY_MAX_IMAGES");
    if (channels < 1 || channels > 4)
        return fail(v, -EINVAL, "image channels outside 1..4");
    if (width < 1 || height < 1 || width > PNG_MAX_DIM || height > PNG_MAX_DIM ||
        width * height > PNG_MAX_PIXELS)
        return fail(v, -EINVAL, "image size outside 1..PNG_MAX_DIM or above PNG_MAX_PIXELS");
    if (!pixels)
        return fail(v, -EINVAL, "image pixels are NULL");
    size_t per_image = width * height * channels;
    struct buf pngs;
    buf_init(&pngs, SUMMARY_MAX_BODY);
    uint8_t *bytes = NULL;
    size_t *ends = malloc(batch * sizeof *ends);
    struct summary_bytes *blobs = malloc(batch * sizeof *blobs);
    int r = -ENOMEM;
    if (!ends || !blobs)
        goto out;
    if (type != PIXEL_U8) {
        bytes = malloc(per_image);
        if (!bytes)
            goto out;
    }
    for (size_t b = 0; b < batch; b++) {
        const uint8_t *img;
        if (type == PIXEL_U8) {
            img = (const uint8_t *)pixels + b * per_image;
        } else if (type == PIXEL_DOUBLE) {
            const double *x = (const double *)pixels + b * per_image;
            for (size_t i = 0; i < per_image; i++)
                bytes[i] = summary_unit_to_byte(x[i]);
            img = bytes;
        } else {
            const float *x = (const float *)pixels + b * per_image;
            for (size_t i = 0; i < per_image; i++)
                bytes[i] = summary_unit_to_byte(x[i]);
            img = bytes;
        }
        r = png_encode(&pngs, img, width, height, channels);
        if (r < 0)
            goto out;
        ends[b] = pngs.len;
    }
    for (size_t b = 0; b < batch; b++) {
        size_t start = b ? ends[b - 1] : 0;
        blobs[b].data = pngs.data + start;
        blobs[b].len = ends[b] - start;
    }
    r = image_body(v, tag, (uint32_t)width, (uint32_t)height, blobs, batch, meta);
    goto done;
out:
    r = fail(v, r, r == -EMSGSIZE ? "images exceed SUMMARY_MAX_BODY" : NULL);
done:
    free(bytes);
    free(ends);
    free(blobs);
    buf_free(&pngs);
    return r;
}

int summary_image_doubles(struct summary_value *v, const char *tag, const double *pixels,
                          size_t batch, size_t height, size_t width, size_t channels,
                          const struct summary_meta *meta)
{
    return image_pixels(v, tag, pixels, PIXEL_DOUBLE, batch, height, width, channels, meta);
}

int summary_image_floats(struct summary_value *v, const char *tag, const float *pixels,
                         size_t batch, size_t height, size_t width, size_t channels,
                         const struct summary_meta *meta)
{
    return image_pixels(v, tag, pixels, PIXEL_FLOAT, batch, height, width, channels, meta);
}

int summary_image_u8(struct summary_value *v, const char *tag, const uint8_t *pixels,
                     size_t batch, size_t height, size_t width, size_t channels,
                     const struct summary_meta *meta)
{
    return image_pixels(v, tag, pixels, PIXEL_U8, batch, height, width, channels, meta);
}

int summary_image_encoded(struct summary_value *v, const char *tag,
                          const struct summary_bytes *blobs, size_t n, uint32_t width,
                          uint32_t height, const struct summary_meta *meta)
{
    value_reset(v);
    if (n < 1 || n > SUMMARY_MAX_IMAGES)
        return fail(v, -EINVAL, "image count outside 1..SUMMARY_MAX_IMAGES");
    if (!blobs)
        return fail(v, -EINVAL, "image blobs are NULL");
    if ((width == 0) != (height == 0))
        return fail(v, -EINVAL, "give both image width and height, or neither");
    for (size_t i = 0; i < n; i++) {
        uint32_t w, h;
        if (!blobs[i].data || (png_sniff(blobs[i].data, blobs[i].len, &w, &h) < 0 &&
                               gif_sniff(blobs[i].data, blobs[i].len, &w, &h) < 0))
            return fail(v, -EINVAL, "image is not a PNG, JPEG or GIF with a readable size");
        if (width == 0) {
            width = w;
            height = h;
        } else if (w != width || h != height) {
            return fail(v, -EINVAL, "image size differs from the given or first size");
        }
    }
    return image_body(v, tag, width, height, blobs, n, meta);
}

int summary_image_animation(struct summary_value *v, const char *tag, const uint8_t *frames,
                            size_t n_frames, size_t height, size_t width, size_t channels,
                            double fps, const struct summary_meta *meta)
{
    const char *why = NULL;
    struct buf gif;
    value_reset(v);
    buf_init(&gif, SUMMARY_MAX_BODY);
    int r = gif_encode(&gif, frames, n_frames, height, width, channels, fps, &why);
    if (r < 0) {
        buf_free(&gif);
        return fail(v, r, why);
    }
    struct summary_bytes blob = {gif.data, gif.len};
    r = image_body(v, tag, (uint32_t)width, (uint32_t)height, &blob, 1, meta);
    buf_free(&gif);
    return r;
}

/* ---- audio ----------------------------------------------------------- */

/* AudioPluginData{version: 0, encoding: WAV (11)}. */
static const uint8_t audio_content[] = {
    PB_KEY(PBF_AUDIO_ENCODING, PB_VARINT), TENSORBOARD__AUDIO_PLUGIN_DATA__ENCODING__WAV,
};

static int audio_body(struct summary_value *v, const char *tag,
                      const struct summary_bytes *wavs, size_t n,
                      const struct summary_meta *meta)
{
    const char *why = NULL;
    uint64_t dims[1] = {n};
    int r;
    if ((r = set_tag(v, tag, &why)) < 0 ||
        (r = set_metadata(v, "audio", audio_content, sizeof audio_content,
                          TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE, meta, &why)) < 0 ||
        (r = string_tensor(&v->body, 1, dims, wavs, n)) < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}

static int audio_samples(struct summary_value *v, const char *tag, const void *samples,
                         bool is_float, size_t batch, size_t frames, size_t channels,
                         uint32_t rate, const struct summary_meta *meta)
{
    value_reset(v);
    if (batch < 1 || batch > SUMMARY_MAX_AUDIO_CLIPS)
        return fail(v, -EINVAL, "audio batch outside 1..SUMMARY_MAX_AUDIO_CLIPS");
    if (frames == 0)
        return fail(v, -EINVAL, "zero-length audio");
    if (channels < 1 || channels > WAV_MAX_CHANNELS || rate < 1 || rate > WAV_MAX_RATE ||
        frames > WAV_MAX_SAMPLES / channels)
        return fail(v, -EINVAL,
                    "audio channels, sample rate or length outside the WAV_MAX_* limits");
    if (!samples)
        return fail(v, -EINVAL, "audio samples are NULL");
    size_t per_clip = frames * channels;
    size_t wav_len = WAV_HEADER_SIZE + 2 * per_clip;
    if (wav_len > SUMMARY_MAX_BODY / batch)
        return fail(v, -EMSGSIZE, "audio exceeds SUMMARY_MAX_BODY");
    struct buf wavs;
    buf_init(&wavs, SUMMARY_MAX_BODY);
    struct summary_bytes *blobs = malloc(batch * sizeof *blobs);
    int r = blobs ? buf_reserve(&wavs, batch * wav_len) : -ENOMEM;
    for (size_t b = 0; b < batch && r == 0; b++) {
        if (is_float)
            r = wav_encode_floats(&wavs, (const float *)samples + b * per_clip, frames,
                                  channels, rate);
        else
            r = wav_encode_doubles(&wavs, (const double *)samples + b * per_clip, frames,
                                   channels, rate);
    }
    if (r == 0) {
        for (size_t b = 0; b < batch; b++) {
            blobs[b].data = wavs.data + b * wav_len;
            blobs[b].len = wav_len;
        }
        r = audio_body(v, tag, blobs, batch, meta);
    } else {
        r = fail(v, r, NULL);
    }
    free(blobs);
    buf_free(&wavs);
    return r;
}

int summary_audio_doubles(struct summary_value *v, const char *tag, const double *samples,
                          size_t batch, size_t frames, size_t channels, uint32_t sample_rate,
                          const struct summary_meta *meta)
{
    return audio_samples(v, tag, samples, false, batch, frames, channels, sample_rate, meta);
}

int summary_audio_floats(struct summary_value *v, const char *tag, const float *samples,
                         size_t batch, size_t frames, size_t channels, uint32_t sample_rate,
                         const struct summary_meta *meta)
{
    return audio_samples(v, tag, samples, true, batch, frames, channels, sample_rate, meta);
}

int summary_audio_wav(struct summary_value *v, const char *tag,
                      const struct summary_bytes *wavs, size_t n,
                      const struct summary_meta *meta)
{
    value_reset(v);
    if (n < 1 || n > SUMMARY_MAX_AUDIO_CLIPS)
        return fail(v, -EINVAL, "audio clip count outside 1..SUMMARY_MAX_AUDIO_CLIPS");
    if (!wavs)
        return fail(v, -EINVAL, "audio clips are NULL");
    for (size_t i = 0; i < n; i++) {
        struct wav_info info;
        if (!wavs[i].data || wav_parse_header(wavs[i].data, wavs[i].len, &info) < 0)
            return fail(v, -EINVAL, "audio clip is not a RIFF/WAVE file");
    }
    return audio_body(v, tag, wavs, n, meta);
}

/* ---- hparams --------------------------------------------------------- */

/* Metadata with the content already in v->body (used as scratch), then the
 * empty DT_FLOAT [0] tensor as the body. */
static int hparams_finish(struct summary_value *v, const char *tag)
{
    const char *why = NULL;
    uint64_t dims[1] = {0};
    int r = set_tag(v, tag, &why);
    if (r == 0)
        r = set_metadata(v, "hparams", v->body.data, v->body.len,
                         TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, NULL, &why);
    if (r < 0)
        return fail(v, r, why);
    buf_reset(&v->body);
    if ((r = numeric_tensor(&v->body, TENSORBOARD__DATA_TYPE__DT_FLOAT, 1, dims, NULL, 0)) < 0)
        return fail(v, r, NULL);
    last_error = "";
    return 0;
}

int summary_hparams_experiment(struct summary_value *v, const struct hparams_experiment *e)
{
    const char *why = NULL;
    value_reset(v);
    if (!e)
        return fail(v, -EINVAL, "no experiment");
    int r = hparams_encode_experiment(&v->body, e, &why);
    if (r < 0)
        return fail(v, r, why);
    return hparams_finish(v, HPARAMS_TAG_EXPERIMENT);
}

int summary_hparams_session_start(struct summary_value *v,
                                  const struct hparams_session_start *s)
{
    const char *why = NULL;
    value_reset(v);
    if (!s)
        return fail(v, -EINVAL, "no session start info");
    int r = hparams_encode_session_start(&v->body, s, &why);
    if (r < 0)
        return fail(v, r, why);
    return hparams_finish(v, HPARAMS_TAG_SESSION_START);
}

int summary_hparams_session_end(struct summary_value *v, enum hparams_status status,
                                double end_time_secs)
{
    value_reset(v);
    int r = hparams_encode_session_end(&v->body, status, end_time_secs);
    if (r < 0)
        return fail(v, r, "session status unknown or end time not finite");
    return hparams_finish(v, HPARAMS_TAG_SESSION_END);
}

/* ---- custom plugins -------------------------------------------------- */

static int custom_head(struct summary_value *v, const char *tag, const char *plugin_name,
                       const void *content, size_t content_len, int data_class,
                       const struct summary_meta *meta, const char **why)
{
    if (!plugin_name || !*plugin_name) {
        *why = "custom summary without a plugin name";
        return -EINVAL;
    }
    if (data_class < 0 || data_class > TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE) {
        *why = "unknown data class";
        return -EINVAL;
    }
    if (content_len && !content) {
        *why = "plugin content is NULL";
        return -EINVAL;
    }
    int r = set_tag(v, tag, why);
    if (r < 0)
        return r;
    return set_metadata(v, plugin_name, content, content_len, data_class, meta, why);
}

int summary_custom(struct summary_value *v, const char *tag, const char *plugin_name,
                   const void *content, size_t content_len, int data_class,
                   const void *tensor_proto, size_t tensor_len,
                   const struct summary_meta *meta)
{
    const char *why = NULL;
    value_reset(v);
    if (tensor_len > SUMMARY_MAX_BODY - 16)
        return fail(v, -EMSGSIZE, "tensor exceeds SUMMARY_MAX_BODY");
    if (tensor_len && !tensor_proto)
        return fail(v, -EINVAL, "tensor bytes are NULL");
    /* Decoding costs a copy, but a tensor that does not decode would make
     * the whole Event undecodable, which stops TensorBoard's reloads. */
    ProtobufCMessage *t;
    int ur = pb_unpack(&tensorboard__tensor_proto__descriptor, tensor_proto, tensor_len, &t);
    if (ur == -ENOMEM)
        return fail(v, ur, NULL);
    if (ur < 0)
        return fail(v, -EBADMSG, "tensor bytes are not a TensorProto");
    protobuf_c_message_free_unpacked(t, NULL);
    int r = custom_head(v, tag, plugin_name, content, content_len, data_class, meta, &why);
    if (r == 0)
        r = pb_add_bytes(&v->body, PBF_VALUE_TENSOR, tensor_proto, tensor_len);
    if (r < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}

int summary_custom_numeric(struct summary_value *v, const char *tag, const char *plugin_name,
                           const void *content, size_t content_len, int data_class,
                           const double *values, size_t rank, const size_t *dims, int dtype,
                           const struct summary_meta *meta)
{
    const char *why = NULL;
    uint64_t d[SUMMARY_MAX_RANK];
    size_t n;
    value_reset(v);
    if (dtype != TENSORBOARD__DATA_TYPE__DT_FLOAT && dtype != TENSORBOARD__DATA_TYPE__DT_DOUBLE)
        return fail(v, -EINVAL, "custom numeric dtype must be DT_FLOAT or DT_DOUBLE");
    int r = check_dims(rank, dims, SUMMARY_MAX_BODY / 8, d, &n, &why);
    if (r == 0 && n && !values) {
        why = "tensor values are NULL";
        r = -EINVAL;
    }
    if (r == 0)
        r = custom_head(v, tag, plugin_name, content, content_len, data_class, meta, &why);
    if (r == 0)
        r = numeric_tensor(&v->body, dtype, rank, d, values, n);
    if (r < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}

int summary_custom_strings(struct summary_value *v, const char *tag, const char *plugin_name,
                           const void *content, size_t content_len, int data_class,
                           const struct summary_bytes *strings, size_t rank,
                           const size_t *dims, const struct summary_meta *meta)
{
    const char *why = NULL;
    uint64_t d[SUMMARY_MAX_RANK];
    size_t n;
    value_reset(v);
    int r = check_dims(rank, dims, SUMMARY_MAX_STRINGS, d, &n, &why);
    if (r == 0 && n && !strings) {
        why = "tensor strings are NULL";
        r = -EINVAL;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (strings[i].len && !strings[i].data) {
            why = "tensor string is NULL";
            r = -EINVAL;
        }
    }
    if (r == 0)
        r = custom_head(v, tag, plugin_name, content, content_len, data_class, meta, &why);
    if (r == 0)
        r = string_tensor(&v->body, rank, d, strings, n);
    if (r < 0)
        return fail(v, r, why);
    last_error = "";
    return 0;
}
