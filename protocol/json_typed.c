/* Typed values of the JSON protocol into Request Values (json_typed.h). */
#include "json_typed.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "json_kinds.h"
#include "summary.h"

/* ---- typed values ------------------------------------------------------- */

static int typed_scalar(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    int r = json_read_keys(c, o, "$scalar", keys);
    if (r < 0)
        return r;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    /* JSON has no literal for NaN or the infinities (and a number too
     * large for a double is refused before parsing): they are spelt as
     * these strings, the names JavaScript and Python print. */
    if (cJSON_IsNumber(val))
        v->scalar = val->valuedouble;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "NaN") == 0)
        v->scalar = NAN;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "Infinity") == 0)
        v->scalar = INFINITY;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "-Infinity") == 0)
        v->scalar = -INFINITY;
    else
        return FAIL_AT(-EINVAL, "value", tag,
                       "$scalar needs a numeric \"value\" (or \"NaN\", \"Infinity\", "
                       "\"-Infinity\")");
    v->kind_case = TFEVENTS__VALUE__KIND_SCALAR;
    return 0;
}

/* A string, an array of strings (shape [n]) or of rows ([rows, cols]). */
static int typed_text(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    static const Tfevents__Text init = TFEVENTS__TEXT__INIT;
    int r = json_read_keys(c, o, "$text", keys);
    if (r < 0)
        return r;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    Tfevents__Text *t = NEW(c, Tfevents__Text, init);
    if (!t)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_TEXT;
    v->text = t;
    if (cJSON_IsString(val)) {
        t->strings = json_read_alloc(c, 1, sizeof *t->strings);
        if (!t->strings)
            return FAIL(-ENOMEM, "out of memory");
        t->strings[0] = val->valuestring;
        t->n_strings = 1;
        return 0;
    }
    if (!cJSON_IsArray(val))
        return FAIL_AT(-EINVAL, "value", tag,
                       "$text \"value\" must be a string, an array of strings or an array of "
                       "rows of strings");
    bool table = val->child && cJSON_IsArray(val->child);
    size_t rows = (size_t)cJSON_GetArraySize(val);
    size_t cols = table ? (size_t)cJSON_GetArraySize(val->child) : 1;
    t->n_shape = table ? 2 : 1;
    t->shape = json_read_alloc(c, 2, sizeof *t->shape);
    if (!t->shape || !(t->strings = json_read_alloc(c, rows * cols, sizeof *t->strings)))
        return FAIL(-ENOMEM, "out of memory");
    t->shape[0] = rows;
    t->shape[1] = cols;
    for (const cJSON *row = val->child; row; row = row->next) {
        if (!table) {
            if (!cJSON_IsString(row))
                return FAIL_AT(-EINVAL, "value", tag, "$text array elements must be strings");
            t->strings[t->n_strings++] = row->valuestring;
            continue;
        }
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != cols)
            return FAIL_AT(-EINVAL, "value", tag, "$text rows must be arrays of equal length");
        for (const cJSON *cell = row->child; cell; cell = cell->next) {
            if (!cJSON_IsString(cell))
                return FAIL_AT(-EINVAL, "value", tag, "$text cells must be strings");
            t->strings[t->n_strings++] = cell->valuestring;
        }
    }
    return 0;
}

static int typed_histogram(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"values", "bucket_count", "edges", "counts",
                                       "display_name", "description", NULL};
    static const Tfevents__Histogram init = TFEVENTS__HISTOGRAM__INIT;
    int r = json_read_keys(c, o, "$histogram", keys);
    if (r < 0)
        return r;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "values");
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(o, "edges");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(o, "counts");
    Tfevents__Histogram *h = NEW(c, Tfevents__Histogram, init);
    if (!h)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_HISTOGRAM;
    v->histogram = h;
    /* Which of them are there is JSON's to say: an empty array would be
     * no field at all in a Request. */
    if (!((values && !edges && !counts) || (edges && counts && !values)))
        return FAIL_AT(-EINVAL, "value", tag, REQUEST_SAY_HISTOGRAM_FORMS);
    r = json_read_u32(c, o, "bucket_count", "$histogram", UINT32_MAX, &h->has_bucket_count,
                &h->bucket_count);
    struct json_read_array a, b;
    if (r == 0 && values) {
        r = json_read_numbers(c, values, "$histogram \"values\"", &a);
        h->values = a.v;
        h->n_values = a.n;
        return r;
    }
    if (r == 0)
        r = json_read_numbers(c, edges, "$histogram \"edges\"", &a);
    if (r == 0)
        r = json_read_numbers(c, counts, "$histogram \"counts\"", &b);
    if (r < 0)
        return r;
    if (a.rank != 1 || b.rank != 1 || a.n == 0)
        return FAIL_AT(-EINVAL, "value", tag, REQUEST_SAY_HISTOGRAM_EDGES " (flat arrays)");
    h->edges = a.v;
    h->n_edges = a.n;
    h->counts = b.v;
    h->n_counts = b.n;
    return 0;
}

/* Pixels as bytes: "uint8" ones as they are, "float" ones in [0, 1]
 * converted here as the image builder converts doubles, so that a JSON
 * pixel keeps a double's precision although the Request holds floats. */
static int image_pixels(struct json_read *c, const cJSON *o, const cJSON *pixels, const char *tag,
                        Tfevents__Image *im)
{
    char *dtype = NULL;
    int r = json_read_string(c, o, "dtype", "$image", &dtype);
    if (r < 0)
        return r;
    bool bytes = dtype && strcmp(dtype, "uint8") == 0;
    if (dtype && !bytes && strcmp(dtype, "float") != 0)
        return FAIL_AT(-EINVAL, "value", tag, "$image \"dtype\" must be \"float\" or \"uint8\"");
    struct json_read_array a;
    if ((r = json_read_numbers(c, pixels, "$image \"pixels\"", &a)) < 0 ||
        (r = json_read_shape(c, o, &a, "$image", &im->shape, &im->n_shape)) < 0)
        return r;
    uint8_t *px = json_read_alloc(c, a.n, 1);
    if (!px)
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < a.n; i++) {
        if (!bytes)
            px[i] = summary_unit_to_byte(a.v[i]);
        else if (a.v[i] >= 0 && a.v[i] <= 255 && floor(a.v[i]) == a.v[i])
            px[i] = (uint8_t)a.v[i];
        else
            return FAIL_AT(-EINVAL, "value", tag, "uint8 pixels must be integers 0..255");
    }
    im->has_pixels_u8 = true;
    im->pixels_u8.data = px;
    im->pixels_u8.len = a.n;
    return 0;
}

static int typed_image(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"png", "jpeg", "gif", "pixels", "shape", "dtype",
                                       "animate", "fps", "width", "height", "display_name",
                                       "description", NULL};
    static const Tfevents__Image init = TFEVENTS__IMAGE__INIT;
    int r = json_read_keys(c, o, "$image", keys);
    if (r < 0)
        return r;
    Tfevents__Image *im = NEW(c, Tfevents__Image, init);
    if (!im)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_IMAGE;
    v->image = im;
    const cJSON *png = cJSON_GetObjectItemCaseSensitive(o, "png");
    const cJSON *jpeg = cJSON_GetObjectItemCaseSensitive(o, "jpeg");
    const cJSON *pixels = cJSON_GetObjectItemCaseSensitive(o, "pixels");
    double w = 0, h = 0;
    if ((r = json_read_number(c, o, "width", "$image", &im->has_width, &w)) < 0 ||
        (r = json_read_number(c, o, "height", "$image", &im->has_height, &h)) < 0)
        return r;
    if ((im->has_width && !json_read_is_integer(w, UINT32_MAX)) ||
        (im->has_height && !json_read_is_integer(h, UINT32_MAX)))
        return FAIL_AT(-EINVAL, "value", tag, "width and height must be integers");
    im->width = (uint32_t)w;
    im->height = (uint32_t)h;
    if (png && (r = json_read_blobs(c, png, "$image \"png\"", &im->png, &im->n_png)) < 0)
        return r;
    if (jpeg && (r = json_read_blobs(c, jpeg, "$image \"jpeg\"", &im->jpeg, &im->n_jpeg)) < 0)
        return r;
    const cJSON *gif = cJSON_GetObjectItemCaseSensitive(o, "gif");
    if (gif && (r = json_read_blobs(c, gif, "$image \"gif\"", &im->gif, &im->n_gif)) < 0)
        return r;
    const cJSON *animate = cJSON_GetObjectItemCaseSensitive(o, "animate");
    if (animate && !cJSON_IsBool(animate))
        return FAIL_AT(-EINVAL, "value", tag, "$image \"animate\" must be true or false");
    im->has_animate = animate != NULL;
    im->animate = cJSON_IsTrue(animate);
    if ((r = json_read_number(c, o, "fps", "$image", &im->has_fps, &im->fps)) < 0)
        return r;
    if (pixels)
        return image_pixels(c, o, pixels, tag, im);
    if (cJSON_GetObjectItemCaseSensitive(o, "dtype"))
        return FAIL_AT(-EINVAL, "value", tag, "\"dtype\" goes with pixels");
    if (cJSON_GetObjectItemCaseSensitive(o, "shape")) {
        struct json_read_array none = {0};
        return json_read_shape(c, o, &none, "$image", &im->shape, &im->n_shape);
    }
    return 0;
}

/* Samples go as the Request's floats: a sample's 16-bit PCM value can
 * differ from the one its double gives by one step, when the double lies
 * within a float's rounding of halfway between two steps. */
static int typed_audio(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"wav", "samples", "shape", "sample_rate",
                                       "display_name", "description", NULL};
    static const Tfevents__Audio init = TFEVENTS__AUDIO__INIT;
    int r = json_read_keys(c, o, "$audio", keys);
    if (r < 0)
        return r;
    Tfevents__Audio *a = NEW(c, Tfevents__Audio, init);
    if (!a)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_AUDIO;
    v->audio = a;
    const cJSON *wav = cJSON_GetObjectItemCaseSensitive(o, "wav");
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(o, "samples");
    if ((r = json_read_u32(c, o, "sample_rate", "$audio", 0, &a->has_sample_rate,
                     &a->sample_rate)) < 0)
        return r;
    if (wav && (r = json_read_blobs(c, wav, "$audio \"wav\"", &a->wav, &a->n_wav)) < 0)
        return r;
    struct json_read_array n = {0};
    if (samples && (r = json_read_numbers(c, samples, "$audio \"samples\"", &n)) < 0)
        return r;
    if (cJSON_GetObjectItemCaseSensitive(o, "shape") || samples)
        if ((r = json_read_shape(c, o, &n, "$audio", &a->shape, &a->n_shape)) < 0)
            return r;
    if (!samples)
        return 0;
    if (!(a->samples = json_read_alloc(c, n.n, sizeof *a->samples)))
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < n.n; i++)
        a->samples[i] = (float)n.v[i];
    a->n_samples = n.n;
    return 0;
}

static int custom_enums(struct json_read *c, const cJSON *o, Tfevents__Custom *cu)
{
    static const char *const classes[] = {"unknown", "scalar", "tensor", "blob_sequence"};
    char *dc = NULL, *dtype = NULL;
    int r = json_read_string(c, o, "data_class", "$custom", &dc);
    if (r == 0)
        r = json_read_string(c, o, "dtype", "$custom", &dtype);
    if (r < 0)
        return r;
    if (dc) {
        cu->has_data_class = true;
        cu->data_class = JSON_READ_POISON_ENUM;
        for (int i = 0; i < 4; i++)
            if (strcmp(dc, classes[i]) == 0)
                cu->data_class = i;
    }
    if (dtype) {
        cu->has_dtype = true;
        cu->dtype = strcmp(dtype, "float") == 0    ? TFEVENTS__DTYPE__DTYPE_FLOAT
                    : strcmp(dtype, "double") == 0 ? TFEVENTS__DTYPE__DTYPE_DOUBLE
                                                   : JSON_READ_POISON_ENUM;
    }
    return 0;
}

/* "strings": one string (a rank-0 tensor unless a shape is given) or an
 * array of them. */
static int custom_strings(struct json_read *c, const cJSON *o, const cJSON *si, const char *tag,
                          Tfevents__Custom *cu)
{
    if (!cJSON_IsArray(si) && !cJSON_IsString(si))
        return FAIL_AT(-EINVAL, "value", tag, "\"strings\" must be a string or an array");
    size_t n = cJSON_IsArray(si) ? (size_t)cJSON_GetArraySize(si) : 1;
    ProtobufCBinaryData *s = json_read_alloc(c, n, sizeof *s);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    size_t k = 0;
    for (const cJSON *e = cJSON_IsArray(si) ? si->child : si; e && k < n; e = e->next, k++) {
        if (!cJSON_IsString(e))
            return FAIL_AT(-EINVAL, "value", tag, "\"strings\" elements must be strings");
        s[k].data = (uint8_t *)e->valuestring;
        s[k].len = strlen(e->valuestring);
    }
    cu->strings = s;
    cu->n_strings = n;
    if (cJSON_GetObjectItemCaseSensitive(o, "shape")) {
        struct json_read_array none = {0};
        return json_read_shape(c, o, &none, "$custom", &cu->shape, &cu->n_shape);
    }
    cu->has_rank0 = cu->rank0 = !cJSON_IsArray(si);
    return 0;
}

static int typed_custom(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"plugin", "content", "data_class", "tensor",
                                       "numbers", "strings", "shape", "dtype",
                                       "display_name", "description", NULL};
    static const Tfevents__Custom init = TFEVENTS__CUSTOM__INIT;
    int r = json_read_keys(c, o, "$custom", keys);
    if (r < 0)
        return r;
    Tfevents__Custom *cu = NEW(c, Tfevents__Custom, init);
    if (!cu)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_CUSTOM;
    v->custom = cu;
    if ((r = json_read_string(c, o, "plugin", "$custom", &cu->plugin)) < 0 ||
        (r = custom_enums(c, o, cu)) < 0)
        return r;
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(o, "content");
    if (ci && (r = json_read_base64(c, ci, "$custom \"content\"", &cu->content)) < 0)
        return r;
    cu->has_content = ci != NULL;
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(o, "tensor");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(o, "numbers");
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(o, "strings");
    if (ti && (r = json_read_base64(c, ti, "$custom \"tensor\"", &cu->tensor)) < 0)
        return r;
    cu->has_tensor = ti != NULL;
    if (si && (r = custom_strings(c, o, si, tag, cu)) < 0)
        return r;
    if (ni) {
        struct json_read_array a;
        if ((r = json_read_numbers(c, ni, "$custom \"numbers\"", &a)) < 0)
            return r;
        cu->numbers = a.v;
        cu->n_numbers = a.n;
        if (a.rank != 1 || cJSON_GetObjectItemCaseSensitive(o, "shape"))
            return json_read_shape(c, o, &a, "$custom", &cu->shape, &cu->n_shape);
    } else if (!si && cJSON_GetObjectItemCaseSensitive(o, "shape")) {
        struct json_read_array none = {0};
        return json_read_shape(c, o, &none, "$custom", &cu->shape, &cu->n_shape);
    }
    return 0;
}

static const struct {
    const char *key;
    int (*fn)(struct json_read *, const cJSON *, const char *, Tfevents__Value *);
} kinds[] = {
    {"$scalar", typed_scalar},   {"$text", typed_text},   {"$histogram", typed_histogram},
    {"$image", typed_image},     {"$audio", typed_audio}, {"$custom", typed_custom},
    {"$pr_curve", json_kinds_pr_curve}, {"$layout", json_kinds_layout},
    {"$mesh", json_kinds_mesh},
};

/* {"$kind": {...}} as v, tag (borrowed) already set. */
int json_typed_value(struct json_read *c, const cJSON *obj, const char *tag, Tfevents__Value *v)
{
    const cJSON *t = obj->child;
    if (t->next)
        return FAIL_AT(-EINVAL, "value", tag,
                       "a typed value is an object with exactly one key (\"%.64s\")",
                       t->string);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(t->string, kinds[i].key) != 0)
            continue;
        if (!cJSON_IsObject(t))
            return FAIL_AT(-EINVAL, "value", tag, "\"%s\" must hold an object", t->string);
        int r = json_read_string(c, t, "display_name", t->string, &v->display_name);
        if (r == 0)
            r = json_read_string(c, t, "description", t->string, &v->description);
        return r < 0 ? r : kinds[i].fn(c, t, tag, v);
    }
    return FAIL_AT(-EINVAL, "value", tag,
                   "unknown type \"%.64s\" (known: $scalar, $text, $histogram, $image, "
                   "$audio, $pr_curve, $layout, $mesh, $custom)", t->string);
}

