/* value: Summary.Value -> what TensorBoard's loader sees -> plain value.
 *
 * The migration rules follow TensorBoard's data_compat (legacy oneofs to
 * tensors) and dataclass_compat (data class inference, audio projection,
 * empty hparams tensor) as documented in shared/REFERENCE.md and
 * shared/golden/README.md. Rendering a decoded value is value_json.c's. */
#include "value.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbfields.h"
#include "pbwire.h"
#include "plugins.pb-c.h"
#include "types.pb-c.h"
#include "value_json.h"

/* ------------------------------------------------------------------ meta */

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

void value_meta_init(struct value_meta *m)
{
    memset(m, 0, sizeof *m);
}

void value_meta_done(struct value_meta *m)
{
    if (!m)
        return;
    free(m->plugin);
    free(m->display_name);
    free(m->description);
    free(m->content);
    value_meta_init(m);
}

/* Fill m from its parts; strings may be NULL. -ENOMEM leaves m empty. */
static int meta_set(struct value_meta *m, const char *plugin, int data_class,
                    const char *display_name, const char *description,
                    const uint8_t *content, size_t content_len)
{
    value_meta_done(m);
    m->present = true;
    m->plugin = dup_str(plugin);
    m->display_name = dup_str(display_name);
    m->description = dup_str(description);
    m->data_class = data_class;
    m->data_class_written = data_class;
    if (content_len > 0) {
        m->content = malloc(content_len);
        if (m->content) {
            memcpy(m->content, content, content_len);
            m->content_len = content_len;
        }
    }
    if (!m->plugin || !m->display_name || !m->description ||
        (content_len > 0 && !m->content)) {
        value_meta_done(m);
        return -ENOMEM;
    }
    return 0;
}

int value_meta_copy(struct value_meta *dst, const struct value_meta *src)
{
    value_meta_init(dst);
    if (!src->present)
        return 0;
    int r = meta_set(dst, src->plugin, src->data_class, src->display_name,
                     src->description, src->content, src->content_len);
    if (r < 0)
        return r;
    dst->data_class_written = src->data_class_written;
    return 0;
}

static int meta_from_proto(struct value_meta *m, const Tensorboard__SummaryMetadata *md)
{
    const Tensorboard__SummaryMetadata__PluginData *pd = md->plugin_data;
    return meta_set(m, pd ? pd->plugin_name : "", (int)md->data_class,
                    md->display_name, md->summary_description,
                    pd ? pd->content.data : NULL, pd ? pd->content.len : 0);
}

/* ------------------------------------------------------------------ value lifecycle */

void value_init(struct decoded_value *v)
{
    /* Readers clear millions of these. gcc expands a constant-size memset
     * of this size into `rep stos`, which starts slower on current x86
     * cores than the libc routine: the empty asm hides the size. */
    size_t size = sizeof *v;
    __asm__("" : "+r"(size));
    memset(v, 0, size);
    v->plugin = "";
}

void value_done(struct decoded_value *v)
{
    if (!v)
        return;
    value_meta_done(&v->meta);
    if (v->numbers != &v->inline_number)
        free(v->numbers);
    free(v->strings);
    free(v->clips);
    cJSON_Delete(v->hparams);
    value_init(v);
}

const char *value_data_class_name(int dc)
{
    switch (dc) {
    case 0: return "DATA_CLASS_UNKNOWN";
    case 1: return "DATA_CLASS_SCALAR";
    case 2: return "DATA_CLASS_TENSOR";
    case 3: return "DATA_CLASS_BLOB_SEQUENCE";
    default: return "DATA_CLASS_?";
    }
}

const char *value_kind_name(enum value_kind kind)
{
    switch (kind) {
    case VALUE_EMPTY: return "empty";
    case VALUE_SCALAR: return "scalar";
    case VALUE_TEXT: return "text";
    case VALUE_HISTOGRAM: return "histogram";
    case VALUE_IMAGE: return "image";
    case VALUE_AUDIO: return "audio";
    case VALUE_HPARAMS: return "hparams";
    case VALUE_TENSOR: return "tensor";
    case VALUE_INVALID: return "invalid";
    }
    return "?";
}

/* The data class dataclass_compat infers from a plugin name (0: none). */
static int plugin_data_class(const char *plugin)
{
    static const struct { const char *name; int dc; } table[] = {
        {"scalars", 1}, {"histograms", 2}, {"text", 2}, {"hparams", 2},
        {"pr_curves", 2}, {"mesh", 2}, {"custom_scalars", 2},
        {"images", 3}, {"audio", 3}, {"graph_run_metadata", 3},
        {"graph_run_metadata_graph", 3}, {"graph_keras_model", 3},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(plugin, table[i].name) == 0)
            return table[i].dc;
    return 0;
}

static void shape_set(struct tensor_shape *s, size_t rank, const int64_t *dims)
{
    s->rank = rank;
    s->count = 1;
    for (size_t i = 0; i < rank; i++) {
        s->dims[i] = dims[i];
        s->count *= (size_t)dims[i];
    }
}

/* ------------------------------------------------------------------ tensors */

/* The string elements of t following make_ndarray's rules: tensor_content
 * is not allowed for strings; one element fills any shape; otherwise the
 * count must match. stride > 1 keeps every stride-th element first (the
 * audio [k,2] -> [k] projection works on the raw list). */
static int tensor_take_strings(struct decoded_value *v, const Tensorboard__TensorProto *t,
                               size_t stride)
{
    if (t->tensor_content.len > 0)
        return -EBADMSG;
    size_t n = t->n_string_val;
    if (stride > 1)
        n = (n + stride - 1) / stride;
    else if (stride == 0)
        n = 0;
    size_t want = v->shape.count;
    if (n != want && !(n == 1 && want != 1))
        return -EBADMSG;
    if (want > VALUE_MAX_ELEMENTS)
        return -EMSGSIZE;
    if (want == 0)
        return 0;
    v->strings = malloc(want * sizeof *v->strings);
    if (!v->strings)
        return -ENOMEM;
    for (size_t i = 0; i < want; i++) {
        const ProtobufCBinaryData *b = &t->string_val[n == 1 ? 0 : i * (stride ? stride : 1)];
        v->strings[i].data = b->data;
        v->strings[i].len = b->len;
    }
    v->n_strings = want;
    return 0;
}

/* A rank-0 float or double in its typed field: the overwhelmingly common
 * scalar, decoded without allocating. */
static bool tensor_fast_scalar(const Tensorboard__TensorProto *t, double *ret)
{
    if (t->tensor_shape && t->tensor_shape->n_dim != 0)
        return false;
    if (t->dtype == TENSORBOARD__DATA_TYPE__DT_FLOAT && t->n_float_val == 1 &&
        t->tensor_content.len == 0) {
        *ret = t->float_val[0];
        return true;
    }
    if (t->dtype == TENSORBOARD__DATA_TYPE__DT_FLOAT && t->n_float_val == 0 &&
        t->tensor_content.len == 4) {
        float f;
        memcpy(&f, t->tensor_content.data, 4);
        *ret = f;
        return true;
    }
    if (t->dtype == TENSORBOARD__DATA_TYPE__DT_DOUBLE && t->n_double_val == 1 &&
        t->tensor_content.len == 0) {
        *ret = t->double_val[0];
        return true;
    }
    return false;
}

static bool is_complex(int dtype)
{
    return dtype == TENSORBOARD__DATA_TYPE__DT_COMPLEX64 ||
           dtype == TENSORBOARD__DATA_TYPE__DT_COMPLEX128;
}

/* ------------------------------------------------------------------ WAV */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int value_wav_info(const uint8_t *b, size_t len, struct value_clip *ret)
{
    if (len < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
        return -EBADMSG;
    size_t pos = 12;
    bool have_fmt = false, have_data = false;
    uint16_t channels = 0, block_align = 0;
    uint32_t rate = 0;
    uint64_t data_len = 0;
    /* Walk the chunks the way the golden files' reader does: fmt is taken
     * when it is at least 16 bytes, the walk stops at the data chunk, whose
     * size is clamped to the bytes actually present. */
    while (pos + 8 <= len) {
        uint32_t size = le32(b + pos + 4);
        if (memcmp(b + pos, "fmt ", 4) == 0 && size >= 16 && pos + 24 <= len) {
            have_fmt = true;
            channels = le16(b + pos + 10);
            rate = le32(b + pos + 12);
            block_align = le16(b + pos + 20);
        } else if (memcmp(b + pos, "data", 4) == 0) {
            size_t avail = len - pos - 8;
            data_len = size < avail ? size : avail;
            have_data = true;
            break;
        }
        uint64_t next = (uint64_t)pos + 8 + size + (size & 1);
        if (next > len)
            break;
        pos = (size_t)next;
    }
    if (!have_fmt || !have_data)
        return -EBADMSG;
    ret->is_wav = true;
    ret->sample_rate = rate;
    ret->channels = channels;
    ret->frames = block_align ? data_len / block_align : 0;
    return 0;
}

/* ------------------------------------------------------------------ decode */

/* Legacy HistogramProto -> [k,3] float32 rows: empty buckets at both ends
 * dropped, the first left edge is min, the last right edge max, inner edges
 * the bucket limits. */
static int migrate_histo(struct decoded_value *v, const Tensorboard__HistogramProto *h)
{
    size_t n = h->n_bucket, start = 0, end;
    while (start < n && !(h->bucket[start] > 0))
        start++;
    end = n;
    while (end > start && !(h->bucket[end - 1] > 0))
        end--;
    size_t k = end - start;
    /* TensorBoard builds the left edges, right edges and counts as lists
     * and raises when their lengths differ, which happens when bucket_limit
     * stops before the last non-empty bucket. */
    if (k > 0 && h->n_bucket_limit < end - 1)
        return -EBADMSG;
    if (k > VALUE_MAX_ELEMENTS / 3)
        return -EMSGSIZE;
    int64_t dims[2] = {(int64_t)k, 3};
    shape_set(&v->shape, 2, dims);
    v->dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    if (k == 0)
        return 0;
    v->numbers = malloc(3 * k * sizeof *v->numbers);
    if (!v->numbers)
        return -ENOMEM;
    for (size_t i = 0; i < k; i++) {
        double left = i == 0 ? h->min : h->bucket_limit[start + i - 1];
        double right = i == k - 1 ? h->max : h->bucket_limit[start + i];
        v->numbers[3 * i] = (float)left;
        v->numbers[3 * i + 1] = (float)right;
        v->numbers[3 * i + 2] = (float)h->bucket[start + i];
    }
    v->n_numbers = 3 * k;
    return 0;
}

static int set_legacy_meta(struct decoded_value *v, const Tensorboard__Summary__Value *sv,
                           const char *plugin, const uint8_t *content, size_t content_len)
{
    const Tensorboard__SummaryMetadata *md = sv->metadata;
    const char *disp = md && md->display_name && *md->display_name ? md->display_name : sv->tag;
    const char *desc = md ? md->summary_description : "";
    v->legacy = true;
    return meta_set(&v->meta, plugin, 0, disp, desc, content, content_len);
}

/* Decode the tensor t into v->numbers or v->strings. -EBADMSG/-ENOTSUP/
 * -EMSGSIZE make the value VALUE_INVALID; -ENOMEM is returned. */
static int take_tensor(struct decoded_value *v, const Tensorboard__TensorProto *t, size_t stride)
{
    if (v->dtype == TENSORBOARD__DATA_TYPE__DT_STRING)
        return tensor_take_strings(v, t, stride);
    if (stride != 1)
        return -EBADMSG;   /* projection of a non-string tensor: no values */
    if (v->shape.count > VALUE_MAX_ELEMENTS)
        return -EMSGSIZE;
    double d;
    if (tensor_fast_scalar(t, &d)) {
        v->inline_number = d;
        v->numbers = &v->inline_number;
        v->n_numbers = 1;
        return 0;
    }
    double *nums = NULL;
    size_t count = 0;
    int r = tensor_to_doubles(t, &nums, &count);
    if (r < 0)
        return r;
    v->numbers = nums;
    v->n_numbers = count;
    return 0;
}

static int interpret(struct decoded_value *v, const struct value_meta *kept)
{
    const char *plugin = v->plugin;
    bool str = v->dtype == TENSORBOARD__DATA_TYPE__DT_STRING;
    bool numeric = !str && !is_complex(v->dtype);

    if (strcmp(plugin, "scalars") == 0 && numeric && v->n_numbers == 1) {
        v->kind = VALUE_SCALAR;
        v->scalar = v->numbers[0];
    } else if (strcmp(plugin, "histograms") == 0 && numeric && v->shape.rank == 2 &&
               v->shape.dims[1] == 3) {
        v->kind = VALUE_HISTOGRAM;
    } else if (strcmp(plugin, "images") == 0 && str && v->shape.rank == 1 && v->n_strings >= 2) {
        v->kind = VALUE_IMAGE;
    } else if (strcmp(plugin, "audio") == 0 && str) {
        v->kind = VALUE_AUDIO;
        if (v->n_strings > 0) {
            v->clips = calloc(v->n_strings, sizeof *v->clips);
            if (!v->clips)
                return -ENOMEM;
        }
        for (size_t i = 0; i < v->n_strings; i++) {
            struct value_clip *c = &v->clips[i];
            c->bytes = v->strings[i];
            if (value_wav_info(c->bytes.data, c->bytes.len, c) < 0)
                c->is_wav = false;
        }
        v->n_clips = v->n_strings;
    } else if (strcmp(plugin, "text") == 0 && str) {
        v->kind = VALUE_TEXT;
    } else if (strcmp(plugin, "hparams") == 0) {
        const struct value_meta *m = kept ? kept : &v->meta;
        v->kind = VALUE_HPARAMS;
        v->hparams = value_content_json("hparams", m->content, m->content_len);
        if (!v->hparams)
            return -ENOMEM;
    } else {
        v->kind = VALUE_TENSOR;
    }
    return 0;
}

/* Summary.Value.simple_value -> DT_FLOAT [] of plugin "scalars". */
static int migrate_simple(struct decoded_value *v, const Tensorboard__Summary__Value *sv)
{
    int r = set_legacy_meta(v, sv, "scalars", NULL, 0);
    if (r < 0)
        return r;
    v->has_tensor = true;
    v->dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    shape_set(&v->shape, 0, NULL);
    v->inline_number = sv->simple_value;
    v->numbers = &v->inline_number;
    v->n_numbers = 1;
    return 0;
}

/* Summary.Image -> DT_STRING [3] (width, height, image) of plugin
 * "images". */
static int migrate_image(struct decoded_value *v, const Tensorboard__Summary__Value *sv)
{
    /* ImagePluginData{converted_to_tensor: true} */
    static const uint8_t content[] = {PB_KEY(PBF_IMAGE_CONVERTED_TO_TENSOR, PB_VARINT), 1};
    const Tensorboard__Summary__Image *im = sv->image;
    int r = set_legacy_meta(v, sv, "images", content, sizeof content);
    if (r < 0)
        return r;
    v->has_tensor = true;
    v->dtype = TENSORBOARD__DATA_TYPE__DT_STRING;
    int64_t dims[1] = {3};
    shape_set(&v->shape, 1, dims);
    v->strings = calloc(3, sizeof *v->strings);
    if (!v->strings)
        return -ENOMEM;
    snprintf(v->legacy_buf[0], sizeof v->legacy_buf[0], "%" PRId32, im->width);
    snprintf(v->legacy_buf[1], sizeof v->legacy_buf[1], "%" PRId32, im->height);
    for (int i = 0; i < 2; i++) {
        v->strings[i].data = (const uint8_t *)v->legacy_buf[i];
        v->strings[i].len = strlen(v->legacy_buf[i]);
    }
    v->strings[2].data = im->encoded_image_string.data;
    v->strings[2].len = im->encoded_image_string.len;
    v->n_strings = 3;
    return 0;
}

/* Summary.Audio -> DT_STRING [1, 2] (clip, empty label) of plugin
 * "audio". */
static int migrate_audio(struct decoded_value *v, const Tensorboard__Summary__Value *sv)
{
    /* AudioPluginData{encoding: WAV, converted_to_tensor: true} */
    static const uint8_t content[] = {
        PB_KEY(PBF_AUDIO_ENCODING, PB_VARINT), TENSORBOARD__AUDIO_PLUGIN_DATA__ENCODING__WAV,
        PB_KEY(PBF_AUDIO_CONVERTED_TO_TENSOR, PB_VARINT), 1,
    };
    int r = set_legacy_meta(v, sv, "audio", content, sizeof content);
    if (r < 0)
        return r;
    v->has_tensor = true;
    v->dtype = TENSORBOARD__DATA_TYPE__DT_STRING;
    int64_t dims[2] = {1, 2};
    shape_set(&v->shape, 2, dims);
    v->strings = calloc(2, sizeof *v->strings);
    if (!v->strings)
        return -ENOMEM;
    v->strings[0].data = sv->audio->encoded_audio_string.data;
    v->strings[0].len = sv->audio->encoded_audio_string.len;
    v->legacy_buf[0][0] = '\0';
    v->strings[1].data = (const uint8_t *)v->legacy_buf[0];
    v->strings[1].len = 0;
    v->n_strings = 2;
    return 0;
}

/* migrate_value() found a value TensorBoard's migration raises on. */
#define MIGRATE_DROPPED 1

/* data_compat: the value's oneof as TensorBoard migrates it to a tensor;
 * *ret_t gets the tensor proto of a tensor value (NULL otherwise). 0,
 * MIGRATE_DROPPED (v is left empty), or -ENOMEM. */
static int migrate_value(struct decoded_value *v, const Tensorboard__Summary__Value *sv,
                         const Tensorboard__TensorProto **ret_t)
{
    int r = 0;
    *ret_t = NULL;
    switch (sv->value_case) {
    case TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE:
        return migrate_simple(v, sv);
    case TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE:
        return migrate_image(v, sv);
    case TENSORBOARD__SUMMARY__VALUE__VALUE_AUDIO:
        return migrate_audio(v, sv);
    case TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO:
        v->has_tensor = true;
        r = migrate_histo(v, sv->histo);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            /* TensorBoard's migration raises on such a value: it is never
             * stored, metadata included. */
            value_done(v);
            return MIGRATE_DROPPED;
        }
        return set_legacy_meta(v, sv, "histograms", NULL, 0);
    case TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR:
        *ret_t = sv->tensor;
        v->has_tensor = true;
        v->dtype = (int)sv->tensor->dtype;
        return 0;
    default:
        return 0;
    }
}

/* The shape of tensor t into v->shape; false when it cannot be read. */
static bool read_shape(struct decoded_value *v, const Tensorboard__TensorProto *t)
{
    if (!t->tensor_shape || (t->tensor_shape->n_dim == 0 && !t->tensor_shape->unknown_rank)) {
        /* Rank 0, the common case, without tensor_get_shape()'s copy of a
         * whole struct tensor_shape (v->shape.dims are already 0). */
        v->shape.rank = 0;
        v->shape.count = 1;
        return true;
    }
    if (tensor_get_shape(t, &v->shape) < 0) {
        memset(&v->shape, 0, sizeof v->shape);
        return false;
    }
    return true;
}

/* dataclass_compat, driven by the tag's first value in this file (init):
 * data class inference, the audio [k, ...] -> [k] projection and the empty
 * hparams tensor. Returns the stride at which the tensor's strings are
 * taken (1: all of them). */
static size_t apply_dataclass_compat(struct decoded_value *v, const struct value_meta *init,
                                     bool invalid)
{
    const char *init_plugin = init->present && init->plugin ? init->plugin : "";
    if (init->data_class_written != 0)
        return 1;
    int dc = plugin_data_class(init_plugin);
    if (dc && v->meta.present)
        v->meta.data_class = dc;
    if (strcmp(init_plugin, "audio") == 0 && v->has_tensor && !invalid) {
        /* [k, ...] -> [k]: keep the first element of each row. */
        size_t rowlen = 1;
        for (size_t i = 1; i < v->shape.rank; i++)
            rowlen *= (size_t)v->shape.dims[i];
        if (v->shape.rank > 1) {
            int64_t k = v->shape.dims[0];
            shape_set(&v->shape, 1, &k);
        }
        if (v->legacy && rowlen != 1) {
            /* Migrated audio [1,2] -> [1]: drop the label. */
            v->n_strings = 1;
            return 1;
        }
        return rowlen;
    }
    if (strcmp(init_plugin, "hparams") == 0 && !v->has_tensor) {
        v->has_tensor = true;
        v->dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
        int64_t zero = 0;
        shape_set(&v->shape, 1, &zero);
    }
    return 1;
}

int value_decode(const Tensorboard__Summary__Value *sv,
                 const struct value_meta *file_initial,
                 const struct value_meta *kept, struct decoded_value *v)
{
    const Tensorboard__TensorProto *t;
    /* Readers decode millions of values into the same slots; a slot that
     * is still freshly initialised needs no second clearing. */
    if (v->kind != VALUE_EMPTY || v->has_tensor || v->meta.present || v->numbers ||
        v->strings || v->clips || v->hparams)
        value_done(v);

    int r = migrate_value(v, sv, &t);
    if (r == MIGRATE_DROPPED) {
        v->kind = VALUE_INVALID;
        return 0;
    }
    if (r < 0)
        goto fail;
    if (!v->legacy && sv->metadata && (r = meta_from_proto(&v->meta, sv->metadata)) < 0)
        goto fail;

    bool invalid = t && !read_shape(v, t);
    size_t stride = apply_dataclass_compat(v, file_initial ? file_initial : &v->meta, invalid);
    if (t && !invalid) {
        r = take_tensor(v, t, stride);
        if (r == -ENOMEM)
            goto fail;
        if (r < 0)
            invalid = true;
    }

    v->plugin = kept && kept->present ? kept->plugin
              : v->meta.present ? v->meta.plugin : "";
    if (!v->has_tensor) {
        v->kind = VALUE_EMPTY;
        return 0;
    }
    if (invalid) {
        v->kind = VALUE_INVALID;
        return 0;
    }
    r = interpret(v, kept && kept->present ? kept : NULL);
    if (r < 0)
        goto fail;
    return 0;

fail:
    value_done(v);
    return r;
}
