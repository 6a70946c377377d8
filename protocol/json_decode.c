/* The wire format, one JSON object per line (docs/protocol.md):
 *
 *   {"v":1,"op":"log","id":7,"logdir":"exp1","step":3,"wall_time":1700000000.25,
 *    "values":{"loss":0.5,"train":{"acc":0.9},"img":{"$image":{"png":"iVBOR..."}}}}
 *
 * Every field is checked against the op's list of allowed fields, so a
 * typo is an error rather than silently ignored data.
 *
 * The decoder is a translator: it turns the cJSON tree into the
 * tfevents.Request a binary client would send for the same line (built in
 * memory with protobuf-c's structs, never serialized) and hands it to
 * frame_decode_fields(), which checks, normalises and builds the summary
 * values for both protocols. What stays here is what only JSON has: the
 * allowed fields of each op and typed value, JSON types, base64, nested
 * arrays and their shape, the "NaN"/"Infinity" spellings, "step":
 * "current", the id's text and runs as nested objects.
 *
 * Where a JSON value cannot be carried by the Request as it is (a step of
 * 1.5, a "status" of "meh"), the translator puts a value the shared check
 * refuses (a step above 2^53, status 99) instead of refusing it itself, so
 * that the sentence is the one a binary client gets for the same mistake.
 * The Request borrows the tree's strings; what it needs besides (arrays,
 * decoded base64) is owned by the translation and freed with it. */
#include "json_decode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_decode.h"
#include "hparams.h"
#include "utf8.h"

/* Out of range for the Request's integer fields: refused there. */
#define POISON_U64 UINT64_MAX
#define POISON_I64 INT64_MIN
#define POISON_ENUM 99

enum field {
    F_V = 1u << 0,
    F_OP = 1u << 1,
    F_ID = 1u << 2,
    F_LOGDIR = 1u << 3,
    F_STEP = 1u << 4,
    F_WALL_TIME = 1u << 5,
    F_VALUES = 1u << 6,
    F_RUN = 1u << 7,
    F_SYNC = 1u << 8,
    F_HPARAMS = 1u << 9,
    F_METRICS = 1u << 10,
    F_GROUP_NAME = 1u << 11,
    F_STATUS = 1u << 12,
    F_TIME = 1u << 13,        /* start_time_secs / end_time_secs / time_created_secs */
    F_DESCRIPTION = 1u << 14, /* experiment name/description/user, model_uri, monitor_url */
};

static const struct {
    const char *name;
    unsigned bit;
} field_names[] = {
    {"v", F_V},
    {"op", F_OP},
    {"id", F_ID},
    {"logdir", F_LOGDIR},
    {"step", F_STEP},
    {"wall_time", F_WALL_TIME},
    {"values", F_VALUES},
    {"run", F_RUN},
    {"sync", F_SYNC},
    {"hparams", F_HPARAMS},
    {"metrics", F_METRICS},
    {"group_name", F_GROUP_NAME},
    {"status", F_STATUS},
    {"time_created_secs", F_TIME},
    {"start_time_secs", F_TIME},
    {"end_time_secs", F_TIME},
    {"name", F_DESCRIPTION},
    {"description", F_DESCRIPTION},
    {"user", F_DESCRIPTION},
    {"model_uri", F_DESCRIPTION},
    {"monitor_url", F_DESCRIPTION},
};

#define COMMON (F_V | F_OP | F_ID)

static const struct {
    const char *name;
    enum request_op op;
    unsigned allowed;
    unsigned required;
} ops[] = {
    {"log", REQUEST_LOG, COMMON | F_LOGDIR | F_STEP | F_WALL_TIME | F_VALUES,
     F_LOGDIR | F_VALUES},
    {"step_get", REQUEST_STEP_GET, COMMON | F_LOGDIR, F_LOGDIR},
    {"step_set", REQUEST_STEP_SET, COMMON | F_LOGDIR | F_STEP, F_LOGDIR | F_STEP},
    {"flush", REQUEST_FLUSH, COMMON | F_LOGDIR | F_SYNC, 0},
    {"hparams_config", REQUEST_HPARAMS_CONFIG,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_HPARAMS | F_METRICS | F_TIME | F_DESCRIPTION,
     F_LOGDIR | F_HPARAMS},
    {"hparams_session_start", REQUEST_HPARAMS_SESSION_START,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_HPARAMS | F_GROUP_NAME | F_TIME |
         F_DESCRIPTION,
     F_LOGDIR | F_HPARAMS},
    {"hparams_session_end", REQUEST_HPARAMS_SESSION_END,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_STATUS | F_TIME, F_LOGDIR | F_STATUS},
    {"restart", REQUEST_RESTART, COMMON | F_LOGDIR | F_RUN | F_STEP | F_WALL_TIME,
     F_LOGDIR | F_STEP},
    {"close", REQUEST_CLOSE, COMMON | F_LOGDIR | F_SYNC, 0},
    {"ping", REQUEST_PING, COMMON, 0},
    {"stats", REQUEST_STATS, COMMON, 0},
};

/* The translation of one line. */
struct ctx {
    struct request *m;
    char *err;
    size_t err_size;
    size_t depth;                 /* runs open in "values" */
    void **owned;                 /* freed with the translation */
    size_t n_owned, cap_owned;
    Tfevents__Value **values;     /* a log's values (owned) */
    size_t n_values, cap_values;
};

#define FAIL(code, ...) request_error(c->err, c->err_size, (code), __VA_ARGS__)
#define FAIL_AT(code, what, name, ...) \
    request_error_at(c->err, c->err_size, (code), (what), (name), __VA_ARGS__)

/* p (malloc'd, may be NULL) becomes the translation's, freed at its end. */
static void *own(struct ctx *c, void *p)
{
    if (!p)
        return NULL;
    if (c->n_owned == c->cap_owned) {
        size_t cap = c->cap_owned ? c->cap_owned * 2 : 16;
        void **o = realloc(c->owned, cap * sizeof *o);
        if (!o) {
            free(p);
            return NULL;
        }
        c->owned = o;
        c->cap_owned = cap;
    }
    c->owned[c->n_owned++] = p;
    return p;
}

/* n zeroed elements of size bytes, owned; NULL: out of memory. */
static void *alloc(struct ctx *c, size_t n, size_t size)
{
    return own(c, calloc(n ? n : 1, size));
}

static void ctx_done(struct ctx *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->values);
}

#define NEW(c, type, init) new_msg((c), sizeof(type), &(init))

static void *new_msg(struct ctx *c, size_t size, const void *init)
{
    void *p = alloc(c, 1, size);
    if (p)
        memcpy(p, init, size);
    return p;
}

/* ---- small field readers ------------------------------------------------ */

static bool is_integer(double d, double max)
{
    return isfinite(d) && d >= 0 && d <= max && floor(d) == d;
}

/* A JSON number as a Request's unsigned or signed integer field; a value
 * the field cannot hold becomes one the shared check refuses. */
static uint64_t json_u64(const cJSON *it)
{
    return cJSON_IsNumber(it) && is_integer(it->valuedouble, 0x1p63) ? (uint64_t)it->valuedouble
                                                                       : POISON_U64;
}

static int64_t json_i64(const cJSON *it)
{
    if (!cJSON_IsNumber(it))
        return POISON_I64;
    double d = it->valuedouble;
    return isfinite(d) && floor(d) == d && fabs(d) < 0x1p62 ? (int64_t)d : POISON_I64;
}

static int get_string(struct ctx *c, const cJSON *obj, const char *key, const char *where,
                      char **ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *ret = NULL;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsString(it))
        return FAIL(-EINVAL, "%s: \"%s\" must be a string", where, key);
    *ret = it->valuestring;
    return 0;
}

static int get_number(struct ctx *c, const cJSON *obj, const char *key, const char *where,
                      protobuf_c_boolean *present, double *ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *present = false;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsNumber(it))
        return FAIL(-EINVAL, "%s: \"%s\" must be a number", where, key);
    *present = true;
    *ret = it->valuedouble;
    return 0;
}

/* An optional number for an unsigned field; poison if it holds none. */
static int get_u32(struct ctx *c, const cJSON *obj, const char *key, const char *where,
                   uint32_t poison, protobuf_c_boolean *present, uint32_t *ret)
{
    double d = 0;
    int r = get_number(c, obj, key, where, present, &d);
    if (r == 0 && *present)
        *ret = is_integer(d, UINT32_MAX) ? (uint32_t)d : poison;
    return r;
}

/* Every key of obj must be in the NULL-terminated list. */
static int only_keys(struct ctx *c, const cJSON *obj, const char *where, const char *const *keys)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (size_t i = 0; keys[i]; i++)
            if (strcmp(it->string, keys[i]) == 0)
                ok = true;
        if (!ok)
            return FAIL(-EINVAL, "%s: unknown field \"%s\"", where, it->string);
    }
    return 0;
}

/* A numeric array, nested to any (rectangular) depth, flattened row-major
 * (owned). dims/rank get the nesting shape. */
struct numbers {
    double *v;
    size_t n, cap;
    size_t dims[SUMMARY_MAX_RANK];
    size_t rank;
};

static int flatten(struct ctx *c, const cJSON *arr, struct numbers *a, size_t level,
                   const char *where)
{
    if (level >= SUMMARY_MAX_RANK)
        return FAIL(-EINVAL, "%s: arrays nested deeper than %u", where, SUMMARY_MAX_RANK);
    size_t len = (size_t)cJSON_GetArraySize(arr);
    if (level == a->rank)
        a->dims[a->rank++] = len;
    else if (a->dims[level] != len)
        return FAIL(-EINVAL, "%s: nested arrays are not rectangular", where);
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (cJSON_IsArray(it)) {
            if (level + 1 < a->rank && a->dims[level + 1] == 0 && a->n > 0)
                return FAIL(-EINVAL, "%s: nested arrays are not rectangular", where);
            int r = flatten(c, it, a, level + 1, where);
            if (r < 0)
                return r;
            continue;
        }
        if (!cJSON_IsNumber(it))
            return FAIL(-EINVAL, "%s: array elements must be numbers", where);
        if (level + 1 != a->rank)
            return FAIL(-EINVAL, "%s: nested arrays are not rectangular", where);
        if (a->n >= REQUEST_MAX_ARRAY)
            return FAIL(-EMSGSIZE, "%s: more than %u numbers", where, REQUEST_MAX_ARRAY);
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 64;
            double *v = realloc(a->v, cap * sizeof *v);
            if (!v)
                return FAIL(-ENOMEM, "out of memory");
            a->v = v;
            a->cap = cap;
        }
        a->v[a->n++] = it->valuedouble;
    }
    return 0;
}

static int get_numbers(struct ctx *c, const cJSON *it, const char *where, struct numbers *a)
{
    memset(a, 0, sizeof *a);
    if (!cJSON_IsArray(it))
        return FAIL(-EINVAL, "%s must be an array of numbers", where);
    int r = flatten(c, it, a, 0, where);
    if (a->v && !own(c, a->v)) {
        a->v = NULL;
        return FAIL(-ENOMEM, "out of memory");
    }
    return r;
}

/* The shape of a Request's array: an explicit "shape" if given, else the
 * nesting of the JSON arrays. *ret (owned), *ret_n sizes. */
static int get_shape(struct ctx *c, const cJSON *obj, const struct numbers *a,
                     const char *where, uint64_t **ret, size_t *ret_n)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    size_t rank = s ? (size_t)cJSON_GetArraySize(s) : a->rank;
    if (s && (!cJSON_IsArray(s) || rank < 1 || rank > SUMMARY_MAX_RANK))
        return FAIL(-EINVAL, "%s: \"shape\" must be an array of 1 to %u sizes", where,
                    SUMMARY_MAX_RANK);
    uint64_t *dims = alloc(c, rank, sizeof *dims);
    if (!dims)
        return FAIL(-ENOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *it = s ? s->child : NULL; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || !is_integer(it->valuedouble, (double)REQUEST_MAX_ARRAY))
            return FAIL(-EINVAL, "%s: \"shape\" sizes must be non-negative integers", where);
        dims[i] = (uint64_t)it->valuedouble;
    }
    for (i = 0; !s && i < rank; i++)
        dims[i] = a->dims[i];
    *ret = dims;
    *ret_n = rank;
    return 0;
}

/* Base64 (standard alphabet, padding optional) into *ret (owned). */
static int base64(struct ctx *c, const cJSON *it, const char *where, ProtobufCBinaryData *ret)
{
    if (!cJSON_IsString(it))
        return FAIL(-EINVAL, "%s must be a base64 string", where);
    const char *s = it->valuestring;
    size_t len = strlen(s);
    size_t n = BASE64_DECODE_LENGTH(len) + 1;
    uint8_t *out = alloc(c, n, 1);
    if (!out)
        return FAIL(-ENOMEM, "out of memory");
    struct base64_decode_ctx b;
    base64_decode_init(&b);
    if (!base64_decode_update(&b, &n, out, len, s) || !base64_decode_final(&b))
        return FAIL(-EINVAL, "%s is not valid base64", where);
    ret->data = out;
    ret->len = n;
    return 0;
}

/* One base64 string or an array of them. */
static int get_blobs(struct ctx *c, const cJSON *it, const char *where,
                     ProtobufCBinaryData **ret, size_t *ret_n)
{
    size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 1;
    ProtobufCBinaryData *b = alloc(c, n, sizeof *b);
    if (!b)
        return FAIL(-ENOMEM, "out of memory");
    const cJSON *e = cJSON_IsArray(it) ? it->child : it;
    for (size_t i = 0; i < n; i++, e = e->next) {
        int r = base64(c, e, where, &b[i]);
        if (r < 0)
            return r;
    }
    *ret = b;
    *ret_n = n;
    return 0;
}

/* ---- typed values ------------------------------------------------------- */

static int typed_scalar(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    int r = only_keys(c, o, "$scalar", keys);
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
static int typed_text(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    static const Tfevents__Text init = TFEVENTS__TEXT__INIT;
    int r = only_keys(c, o, "$text", keys);
    if (r < 0)
        return r;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    Tfevents__Text *t = NEW(c, Tfevents__Text, init);
    if (!t)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_TEXT;
    v->text = t;
    if (cJSON_IsString(val)) {
        t->strings = alloc(c, 1, sizeof *t->strings);
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
    t->shape = alloc(c, 2, sizeof *t->shape);
    if (!t->shape || !(t->strings = alloc(c, rows * cols, sizeof *t->strings)))
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

static int typed_histogram(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"values", "bucket_count", "edges", "counts",
                                       "display_name", "description", NULL};
    static const Tfevents__Histogram init = TFEVENTS__HISTOGRAM__INIT;
    int r = only_keys(c, o, "$histogram", keys);
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
    r = get_u32(c, o, "bucket_count", "$histogram", UINT32_MAX, &h->has_bucket_count,
                &h->bucket_count);
    struct numbers a, b;
    if (r == 0 && values) {
        r = get_numbers(c, values, "$histogram \"values\"", &a);
        h->values = a.v;
        h->n_values = a.n;
        return r;
    }
    if (r == 0)
        r = get_numbers(c, edges, "$histogram \"edges\"", &a);
    if (r == 0)
        r = get_numbers(c, counts, "$histogram \"counts\"", &b);
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
static int image_pixels(struct ctx *c, const cJSON *o, const cJSON *pixels, const char *tag,
                        Tfevents__Image *im)
{
    char *dtype = NULL;
    int r = get_string(c, o, "dtype", "$image", &dtype);
    if (r < 0)
        return r;
    bool bytes = dtype && strcmp(dtype, "uint8") == 0;
    if (dtype && !bytes && strcmp(dtype, "float") != 0)
        return FAIL_AT(-EINVAL, "value", tag, "$image \"dtype\" must be \"float\" or \"uint8\"");
    struct numbers a;
    if ((r = get_numbers(c, pixels, "$image \"pixels\"", &a)) < 0 ||
        (r = get_shape(c, o, &a, "$image", &im->shape, &im->n_shape)) < 0)
        return r;
    uint8_t *px = alloc(c, a.n, 1);
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

static int typed_image(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"png", "jpeg", "pixels", "shape", "dtype",
                                       "width", "height", "display_name", "description",
                                       NULL};
    static const Tfevents__Image init = TFEVENTS__IMAGE__INIT;
    int r = only_keys(c, o, "$image", keys);
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
    if ((r = get_number(c, o, "width", "$image", &im->has_width, &w)) < 0 ||
        (r = get_number(c, o, "height", "$image", &im->has_height, &h)) < 0)
        return r;
    if ((im->has_width && !is_integer(w, UINT32_MAX)) ||
        (im->has_height && !is_integer(h, UINT32_MAX)))
        return FAIL_AT(-EINVAL, "value", tag, "width and height must be integers");
    im->width = (uint32_t)w;
    im->height = (uint32_t)h;
    if (png && (r = get_blobs(c, png, "$image \"png\"", &im->png, &im->n_png)) < 0)
        return r;
    if (jpeg && (r = get_blobs(c, jpeg, "$image \"jpeg\"", &im->jpeg, &im->n_jpeg)) < 0)
        return r;
    if (pixels)
        return image_pixels(c, o, pixels, tag, im);
    if (cJSON_GetObjectItemCaseSensitive(o, "dtype"))
        return FAIL_AT(-EINVAL, "value", tag, "\"dtype\" goes with pixels");
    if (cJSON_GetObjectItemCaseSensitive(o, "shape")) {
        struct numbers none = {0};
        return get_shape(c, o, &none, "$image", &im->shape, &im->n_shape);
    }
    return 0;
}

/* Samples go as the Request's floats: a sample's 16-bit PCM value can
 * differ from the one its double gives by one step, when the double lies
 * within a float's rounding of halfway between two steps. */
static int typed_audio(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"wav", "samples", "shape", "sample_rate",
                                       "display_name", "description", NULL};
    static const Tfevents__Audio init = TFEVENTS__AUDIO__INIT;
    int r = only_keys(c, o, "$audio", keys);
    if (r < 0)
        return r;
    Tfevents__Audio *a = NEW(c, Tfevents__Audio, init);
    if (!a)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_AUDIO;
    v->audio = a;
    const cJSON *wav = cJSON_GetObjectItemCaseSensitive(o, "wav");
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(o, "samples");
    if ((r = get_u32(c, o, "sample_rate", "$audio", 0, &a->has_sample_rate,
                     &a->sample_rate)) < 0)
        return r;
    if (wav && (r = get_blobs(c, wav, "$audio \"wav\"", &a->wav, &a->n_wav)) < 0)
        return r;
    struct numbers n = {0};
    if (samples && (r = get_numbers(c, samples, "$audio \"samples\"", &n)) < 0)
        return r;
    if (cJSON_GetObjectItemCaseSensitive(o, "shape") || samples)
        if ((r = get_shape(c, o, &n, "$audio", &a->shape, &a->n_shape)) < 0)
            return r;
    if (!samples)
        return 0;
    if (!(a->samples = alloc(c, n.n, sizeof *a->samples)))
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < n.n; i++)
        a->samples[i] = (float)n.v[i];
    a->n_samples = n.n;
    return 0;
}

static int custom_enums(struct ctx *c, const cJSON *o, Tfevents__Custom *cu)
{
    static const char *const classes[] = {"unknown", "scalar", "tensor", "blob_sequence"};
    char *dc = NULL, *dtype = NULL;
    int r = get_string(c, o, "data_class", "$custom", &dc);
    if (r == 0)
        r = get_string(c, o, "dtype", "$custom", &dtype);
    if (r < 0)
        return r;
    if (dc) {
        cu->has_data_class = true;
        cu->data_class = POISON_ENUM;
        for (int i = 0; i < 4; i++)
            if (strcmp(dc, classes[i]) == 0)
                cu->data_class = i;
    }
    if (dtype) {
        cu->has_dtype = true;
        cu->dtype = strcmp(dtype, "float") == 0    ? TFEVENTS__DTYPE__DTYPE_FLOAT
                    : strcmp(dtype, "double") == 0 ? TFEVENTS__DTYPE__DTYPE_DOUBLE
                                                   : POISON_ENUM;
    }
    return 0;
}

/* "strings": one string (a rank-0 tensor unless a shape is given) or an
 * array of them. */
static int custom_strings(struct ctx *c, const cJSON *o, const cJSON *si, const char *tag,
                          Tfevents__Custom *cu)
{
    if (!cJSON_IsArray(si) && !cJSON_IsString(si))
        return FAIL_AT(-EINVAL, "value", tag, "\"strings\" must be a string or an array");
    size_t n = cJSON_IsArray(si) ? (size_t)cJSON_GetArraySize(si) : 1;
    ProtobufCBinaryData *s = alloc(c, n, sizeof *s);
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
        struct numbers none = {0};
        return get_shape(c, o, &none, "$custom", &cu->shape, &cu->n_shape);
    }
    cu->has_rank0 = cu->rank0 = !cJSON_IsArray(si);
    return 0;
}

static int typed_custom(struct ctx *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"plugin", "content", "data_class", "tensor",
                                       "numbers", "strings", "shape", "dtype",
                                       "display_name", "description", NULL};
    static const Tfevents__Custom init = TFEVENTS__CUSTOM__INIT;
    int r = only_keys(c, o, "$custom", keys);
    if (r < 0)
        return r;
    Tfevents__Custom *cu = NEW(c, Tfevents__Custom, init);
    if (!cu)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_CUSTOM;
    v->custom = cu;
    if ((r = get_string(c, o, "plugin", "$custom", &cu->plugin)) < 0 ||
        (r = custom_enums(c, o, cu)) < 0)
        return r;
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(o, "content");
    if (ci && (r = base64(c, ci, "$custom \"content\"", &cu->content)) < 0)
        return r;
    cu->has_content = ci != NULL;
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(o, "tensor");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(o, "numbers");
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(o, "strings");
    if (ti && (r = base64(c, ti, "$custom \"tensor\"", &cu->tensor)) < 0)
        return r;
    cu->has_tensor = ti != NULL;
    if (si && (r = custom_strings(c, o, si, tag, cu)) < 0)
        return r;
    if (ni) {
        struct numbers a;
        if ((r = get_numbers(c, ni, "$custom \"numbers\"", &a)) < 0)
            return r;
        cu->numbers = a.v;
        cu->n_numbers = a.n;
        if (a.rank != 1 || cJSON_GetObjectItemCaseSensitive(o, "shape"))
            return get_shape(c, o, &a, "$custom", &cu->shape, &cu->n_shape);
    } else if (!si && cJSON_GetObjectItemCaseSensitive(o, "shape")) {
        struct numbers none = {0};
        return get_shape(c, o, &none, "$custom", &cu->shape, &cu->n_shape);
    }
    return 0;
}

static const struct {
    const char *key;
    int (*fn)(struct ctx *, const cJSON *, const char *, Tfevents__Value *);
} kinds[] = {
    {"$scalar", typed_scalar},   {"$text", typed_text},   {"$histogram", typed_histogram},
    {"$image", typed_image},     {"$audio", typed_audio}, {"$custom", typed_custom},
};

/* {"$kind": {...}} as v, tag (borrowed) already set. */
static int typed_value(struct ctx *c, const cJSON *obj, const char *tag, Tfevents__Value *v)
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
        int r = get_string(c, t, "display_name", t->string, &v->display_name);
        if (r == 0)
            r = get_string(c, t, "description", t->string, &v->description);
        return r < 0 ? r : kinds[i].fn(c, t, tag, v);
    }
    return FAIL_AT(-EINVAL, "value", tag,
                   "unknown type \"%.64s\" (known: $scalar, $text, $histogram, $image, "
                   "$audio, $custom)", t->string);
}

/* ---- values ------------------------------------------------------------- */

/* A new Value in run (borrowed; NULL for the logdir itself) named tag
 * (borrowed), or NULL when the log already holds more values than a
 * request may: the walk stops there and the shared check refuses them. */
static int add_value(struct ctx *c, char *run, char *tag, Tfevents__Value **ret)
{
    static const Tfevents__Value init = TFEVENTS__VALUE__INIT;
    *ret = NULL;
    if (c->n_values > REQUEST_MAX_VALUES)
        return 0;
    if (c->n_values == c->cap_values) {
        size_t cap = c->cap_values ? c->cap_values * 2 : 16;
        Tfevents__Value **v = realloc(c->values, cap * sizeof *v);
        if (!v)
            return FAIL(-ENOMEM, "out of memory");
        c->values = v;
        c->cap_values = cap;
    }
    Tfevents__Value *v = NEW(c, Tfevents__Value, init);
    if (!v)
        return FAIL(-ENOMEM, "out of memory");
    v->run = run;
    v->tag = tag;
    c->values[c->n_values++] = v;
    *ret = v;
    return 0;
}

static int values_of(struct ctx *c, const cJSON *obj, const char *run);

/* A run: one path component, normalised together with its parent. */
static int run_of(struct ctx *c, const cJSON *it, const char *run)
{
    const char *key = it->string;
    if (!utf8_valid(key, strlen(key)))
        return FAIL(-EILSEQ, "a run name (in run '%.64s') is not valid UTF-8", run);
    if (strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        return FAIL_AT(-EINVAL, "run name", key,
                       "a run is one directory name, without '/', '.' or '..'");
    char path[LOGDIR_MAX_NAME + 1];
    char *norm = alloc(c, LOGDIR_MAX_NAME + 1, 1);
    if (!norm)
        return FAIL(-ENOMEM, "out of memory");
    int k = strcmp(run, ".") == 0 ? snprintf(path, sizeof path, "%s", key)
                                  : snprintf(path, sizeof path, "%s/%s", run, key);
    const char *why = "name too long";
    if (k < 0 || (size_t)k >= sizeof path ||
        logdir_normalize(path, (size_t)k, norm, LOGDIR_MAX_NAME + 1, &why) < 0)
        return FAIL_AT(-EINVAL, "run name", key, "%s", why);
    if (!it->child)
        return FAIL_AT(-EINVAL, "run", norm, "a run holds no values");
    return values_of(c, it, norm);
}

/* The values (or runs) inside obj, all in run. */
static int values_of(struct ctx *c, const cJSON *obj, const char *run)
{
    if (++c->depth > REQUEST_MAX_RUN_DEPTH)
        return FAIL(-EINVAL, "runs nested deeper than %u", REQUEST_MAX_RUN_DEPTH);
    char *vrun = strcmp(run, ".") == 0 ? NULL : (char *)run;
    for (const cJSON *it = obj->child; it && c->n_values <= REQUEST_MAX_VALUES; it = it->next) {
        char *key = it->string;
        Tfevents__Value *v;
        int r = 0;
        if (!*key)
            return FAIL(-EINVAL, "empty name in \"values\" (in run '%.64s')", run);
        if (key[0] == '$')
            return FAIL_AT(-EINVAL, "value", key, REQUEST_SAY_RESERVED);
        bool typed = cJSON_IsObject(it) && it->child && it->child->string[0] == '$';
        if (cJSON_IsObject(it) && !typed) {
            r = run_of(c, it, run);
        } else if (cJSON_IsNumber(it) || cJSON_IsString(it) || typed) {
            if ((r = add_value(c, vrun, key, &v)) < 0 || !v)
                return r;
            if (typed) {
                r = typed_value(c, it, key, v);
            } else if (cJSON_IsNumber(it)) {
                v->kind_case = TFEVENTS__VALUE__KIND_SCALAR;
                v->scalar = it->valuedouble;
            } else {
                static const Tfevents__Text init = TFEVENTS__TEXT__INIT;
                v->kind_case = TFEVENTS__VALUE__KIND_TEXT;
                if (!(v->text = NEW(c, Tfevents__Text, init)) ||
                    !(v->text->strings = alloc(c, 1, sizeof *v->text->strings)))
                    return FAIL(-ENOMEM, "out of memory");
                v->text->strings[0] = it->valuestring;
                v->text->n_strings = 1;
            }
        } else if (cJSON_IsBool(it)) {
            r = FAIL_AT(-EINVAL, "value", key,
                        "true/false is not a value kind (send 1 or 0 as a number)");
        } else if (cJSON_IsNull(it)) {
            r = FAIL_AT(-EINVAL, "value", key, "null is not a value");
        } else {
            r = FAIL_AT(-EINVAL, "value", key,
                        "an array is not a value (use {\"$histogram\": {\"values\": [...]}} "
                        "or another typed value)");
        }
        if (r < 0)
            return r;
    }
    c->depth--;
    return 0;
}

/* ---- hparams -------------------------------------------------------------- */

/* A JSON value as an HparamValue; one of another kind is left unset, which
 * the shared check refuses. */
static Tfevents__HparamValue *hparam_value(struct ctx *c, const cJSON *it)
{
    static const Tfevents__HparamValue init = TFEVENTS__HPARAM_VALUE__INIT;
    Tfevents__HparamValue *hv = NEW(c, Tfevents__HparamValue, init);
    if (!hv)
        return NULL;
    if (cJSON_IsBool(it)) {
        hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_BOOLEAN;
        hv->boolean = cJSON_IsTrue(it);
    } else if (cJSON_IsString(it)) {
        hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_STRING;
        hv->string = it->valuestring;
    } else if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        /* JSON does not tell 1 from 1.0 once parsed; an integral number
         * of safe size is taken as an int (as Python would read "1"). */
        if (isfinite(d) && floor(d) == d && fabs(d) <= (double)REQUEST_MAX_STEP) {
            hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_INTEGER;
            hv->integer = (int64_t)d;
        } else {
            hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_NUMBER;
            hv->number = d;
        }
    }
    return hv;
}

static int session_start(struct ctx *c, const cJSON *root, Tfevents__HparamsSessionStart *q)
{
    static const Tfevents__Hparam init = TFEVENTS__HPARAM__INIT;
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    if (!cJSON_IsObject(hp))
        return FAIL(-EINVAL, "\"hparams\" must be an object of name: value");
    size_t n = (size_t)cJSON_GetArraySize(hp);
    if (!(q->hparams = alloc(c, n, sizeof *q->hparams)))
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *it = hp->child; it; it = it->next) {
        Tfevents__Hparam *h = NEW(c, Tfevents__Hparam, init);
        if (!h || !(h->value = hparam_value(c, it)))
            return FAIL(-ENOMEM, "out of memory");
        h->name = it->string;
        q->hparams[q->n_hparams++] = h;
    }
    const char *w = "hparams_session_start";
    int r;
    if ((r = get_string(c, root, "group_name", w, &q->group_name)) < 0 ||
        (r = get_string(c, root, "model_uri", w, &q->model_uri)) < 0 ||
        (r = get_string(c, root, "monitor_url", w, &q->monitor_url)) < 0)
        return r;
    return get_number(c, root, "start_time_secs", w, &q->has_start_time_secs,
                      &q->start_time_secs);
}

static int hparams_type_of(const char *s)
{
    if (strcmp(s, "string") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_STRING;
    if (strcmp(s, "bool") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_BOOL;
    if (strcmp(s, "float") == 0 || strcmp(s, "number") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_FLOAT64;
    return POISON_ENUM;
}

/* One item of hparams_config's "hparams". */
static int experiment_hparam(struct ctx *c, const cJSON *it, Tfevents__HparamInfo **ret)
{
    static const char *const keys[] = {"name", "type", "display_name", "description",
                                       "values", "min", "max", NULL};
    static const Tfevents__HparamInfo init = TFEVENTS__HPARAM_INFO__INIT;
    const char *w = "hparams item";
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"hparams\" items must be objects");
    Tfevents__HparamInfo *h = *ret = NEW(c, Tfevents__HparamInfo, init);
    if (!h)
        return FAIL(-ENOMEM, "out of memory");
    char *type = NULL;
    int r;
    if ((r = only_keys(c, it, w, keys)) < 0 || (r = get_string(c, it, "name", w, &h->name)) < 0 ||
        (r = get_string(c, it, "display_name", w, &h->display_name)) < 0 ||
        (r = get_string(c, it, "description", w, &h->description)) < 0 ||
        (r = get_string(c, it, "type", w, &type)) < 0 ||
        (r = get_number(c, it, "min", w, &h->has_min, &h->min)) < 0 ||
        (r = get_number(c, it, "max", w, &h->has_max, &h->max)) < 0)
        return r;
    if (!h->name)
        return FAIL(-EINVAL, "every hparams item needs a \"name\"");
    if (type) {
        h->has_type = true;
        h->type = hparams_type_of(type);
    }
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
    if (!vals)
        return 0;
    if (!cJSON_IsArray(vals))
        return FAIL_AT(-EINVAL, "hparam", h->name, "\"values\" must be an array");
    size_t n = (size_t)cJSON_GetArraySize(vals);
    if (!(h->values = alloc(c, n, sizeof *h->values)))
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *e = vals->child; e; e = e->next)
        if (!(h->values[h->n_values++] = hparam_value(c, e)))
            return FAIL(-ENOMEM, "out of memory");
    return 0;
}

/* One item of hparams_config's "metrics". */
static int experiment_metric(struct ctx *c, const cJSON *it, Tfevents__MetricInfo **ret)
{
    static const char *const keys[] = {"tag", "group", "display_name", "description",
                                       "dataset_type", NULL};
    static const Tfevents__MetricInfo init = TFEVENTS__METRIC_INFO__INIT;
    const char *w = "metrics item";
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"metrics\" items must be objects");
    Tfevents__MetricInfo *m = *ret = NEW(c, Tfevents__MetricInfo, init);
    if (!m)
        return FAIL(-ENOMEM, "out of memory");
    char *ds = NULL;
    int r;
    if ((r = only_keys(c, it, w, keys)) < 0 || (r = get_string(c, it, "tag", w, &m->tag)) < 0 ||
        (r = get_string(c, it, "group", w, &m->group)) < 0 ||
        (r = get_string(c, it, "display_name", w, &m->display_name)) < 0 ||
        (r = get_string(c, it, "description", w, &m->description)) < 0 ||
        (r = get_string(c, it, "dataset_type", w, &ds)) < 0)
        return r;
    if (!m->tag)
        return FAIL(-EINVAL, "every metrics item needs a \"tag\"");
    if (ds) {
        m->has_dataset_type = true;
        m->dataset_type = strcmp(ds, "training") == 0     ? TFEVENTS__DATASET_TYPE__DATASET_TRAINING
                          : strcmp(ds, "validation") == 0 ? TFEVENTS__DATASET_TYPE__DATASET_VALIDATION
                                                          : POISON_ENUM;
    }
    return 0;
}

static int experiment(struct ctx *c, const cJSON *root, Tfevents__HparamsConfig *q)
{
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (!cJSON_IsArray(hp))
        return FAIL(-EINVAL, "\"hparams\" must be an array of {\"name\": ...} objects");
    if (mt && !cJSON_IsArray(mt))
        return FAIL(-EINVAL, "\"metrics\" must be an array of {\"tag\": ...} objects");
    size_t nh = (size_t)cJSON_GetArraySize(hp), nm = mt ? (size_t)cJSON_GetArraySize(mt) : 0;
    q->hparams = alloc(c, nh, sizeof *q->hparams);
    q->metrics = alloc(c, nm, sizeof *q->metrics);
    if (!q->hparams || !q->metrics)
        return FAIL(-ENOMEM, "out of memory");
    int r = 0;
    for (const cJSON *it = hp->child; it && r == 0; it = it->next)
        r = experiment_hparam(c, it, &q->hparams[q->n_hparams++]);
    for (const cJSON *it = mt ? mt->child : NULL; it && r == 0; it = it->next)
        r = experiment_metric(c, it, &q->metrics[q->n_metrics++]);
    const char *w = "hparams_config";
    if (r < 0 || (r = get_string(c, root, "name", w, &q->name)) < 0 ||
        (r = get_string(c, root, "description", w, &q->description)) < 0 ||
        (r = get_string(c, root, "user", w, &q->user)) < 0)
        return r;
    return get_number(c, root, "time_created_secs", w, &q->has_time_created_secs,
                      &q->time_created_secs);
}

static int session_end(struct ctx *c, const cJSON *root, Tfevents__HparamsSessionEnd *q)
{
    static const char *const names[] = {"unknown", "success", "failure", "running"};
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    q->status = POISON_ENUM;
    for (int i = 0; cJSON_IsString(st) && i < 4; i++)
        if (strcmp(st->valuestring, names[i]) == 0)
            q->status = i;
    return get_number(c, root, "end_time_secs", "hparams_session_end", &q->has_end_time_secs,
                      &q->end_time_secs);
}

/* ---- the envelope ------------------------------------------------------- */

static int read_id(struct ctx *c, const cJSON *id)
{
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
        return FAIL(-EINVAL, "\"id\" must be a number or a string");
    if (cJSON_IsNumber(id) && !isfinite(id->valuedouble))
        return FAIL(-EINVAL, "\"id\" must be finite");
    char *text = cJSON_PrintUnformatted(id);
    if (!text)
        return FAIL(-ENOMEM, "out of memory");
    size_t len = strlen(text);
    if (len > REQUEST_MAX_ID) {
        cJSON_free(text);
        return FAIL(-EMSGSIZE, "\"id\" is longer than %u bytes", REQUEST_MAX_ID);
    }
    memcpy(c->m->id, text, len + 1);
    c->m->has_id = true;
    cJSON_free(text);
    return 0;
}

/* Which op, with every field allowed for it and every one it needs. */
static int check_fields(struct ctx *c, const cJSON *root, size_t *ret_op)
{
    unsigned seen = 0;
    const cJSON *op = NULL;
    for (const cJSON *it = root->child; it; it = it->next) {
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if (strcmp(it->string, field_names[i].name) == 0)
                bit = field_names[i].bit;
        if (!bit)
            return FAIL(-EINVAL, "unknown field \"%s\"", it->string);
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return FAIL(-EINVAL, "field \"%s\" given twice", it->string);
        seen |= bit;
        if (bit == F_OP)
            op = it;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
    if (v && !(cJSON_IsNumber(v) && v->valuedouble == PROTOCOL_VERSION))
        return FAIL(-EINVAL, "unsupported protocol version (\"v\" must be %d)", PROTOCOL_VERSION);
    size_t opi = 0, nops = sizeof ops / sizeof ops[0];
    if (op && !cJSON_IsString(op))
        return FAIL(-EINVAL, "\"op\" must be a string");
    while (op && opi < nops && strcmp(ops[opi].name, op->valuestring) != 0)
        opi++;
    if (opi == nops)
        return FAIL(-EINVAL,
                    "unknown op \"%.64s\" (known: log, step_get, step_set, flush, "
                    "hparams_config, hparams_session_start, hparams_session_end, restart, "
                    "close, ping, stats)",
                    op->valuestring);
    c->m->op = ops[opi].op;
    unsigned extra = seen & ~ops[opi].allowed, missing = ops[opi].required & ~seen;
    for (size_t i = 0; extra && i < sizeof field_names / sizeof field_names[0]; i++)
        if ((extra & field_names[i].bit) &&
            cJSON_GetObjectItemCaseSensitive(root, field_names[i].name))
            return FAIL(-EINVAL, "field \"%s\" does not belong to op \"%s\"",
                        field_names[i].name, ops[opi].name);
    for (size_t i = 0; missing && i < sizeof field_names / sizeof field_names[0]; i++)
        if (missing & field_names[i].bit)
            return FAIL(-EINVAL, "op \"%s\" needs \"%s\"", ops[opi].name, field_names[i].name);
    *ret_op = opi;
    return 0;
}

/* The fields several ops share, as the Request spells them. */
struct common {
    char *logdir, *run;
    const cJSON *step;
    protobuf_c_boolean has_wall_time, has_sync;
    double wall_time;
    protobuf_c_boolean sync;
};

static int read_common(struct ctx *c, const cJSON *root, struct common *f)
{
    const cJSON *it;
    memset(f, 0, sizeof *f);
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "logdir"))) {
        if (!cJSON_IsString(it))
            return FAIL(-EINVAL, "\"logdir\" must be a string");
        f->logdir = it->valuestring;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "run"))) {
        if (!cJSON_IsString(it))
            return FAIL(-EINVAL, "\"run\" must be a string");
        f->run = it->valuestring;
    }
    f->step = cJSON_GetObjectItemCaseSensitive(root, "step");
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "wall_time"))) {
        f->has_wall_time = true;
        f->wall_time = cJSON_IsNumber(it) ? it->valuedouble : NAN;   /* refused there */
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "sync"))) {
        if (!cJSON_IsBool(it))
            return FAIL(-EINVAL, "\"sync\" must be true or false");
        f->has_sync = f->sync = cJSON_IsTrue(it);
        f->has_sync = true;
    }
    return 0;
}

static int translate_log(struct ctx *c, const cJSON *root, const struct common *f,
                         Tfevents__Request *rq)
{
    static const Tfevents__Log init = TFEVENTS__LOG__INIT;
    Tfevents__Log *q = NEW(c, Tfevents__Log, init);
    if (!q)
        return FAIL(-ENOMEM, "out of memory");
    rq->op_case = TFEVENTS__REQUEST__OP_LOG;
    rq->log = q;
    q->logdir = f->logdir;
    q->has_wall_time = f->has_wall_time;
    q->wall_time = f->wall_time;
    if (cJSON_IsString(f->step) && strcmp(f->step->valuestring, "current") == 0) {
        q->step_kind_case = TFEVENTS__LOG__STEP_KIND_CURRENT;
        q->current = true;
    } else if (f->step) {
        q->step_kind_case = TFEVENTS__LOG__STEP_KIND_STEP;
        q->step = json_u64(f->step);
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "values");
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"values\" must be an object of name: value");
    c->depth = 0;
    int r = values_of(c, it, ".");
    q->values = c->values;
    q->n_values = c->n_values;
    return r;
}

/* The hparams ops: their own message, with the envelope's fields. */
#define HPARAMS_OP(c, rq, type, init, field, CASE, f, q)  \
    do {                                                   \
        static const type init_ = init;                    \
        if (!((q) = NEW(c, type, init_)))                  \
            return FAIL(-ENOMEM, "out of memory");         \
        (rq)->op_case = CASE;                              \
        (rq)->field = (q);                                 \
        (q)->logdir = (f)->logdir;                         \
        (q)->run = (f)->run;                               \
        (q)->has_wall_time = (f)->has_wall_time;           \
        (q)->wall_time = (f)->wall_time;                   \
    } while (0)

static int translate_hparams(struct ctx *c, const cJSON *root, const struct common *f,
                             Tfevents__Request *rq)
{
    Tfevents__HparamsConfig *hc;
    Tfevents__HparamsSessionStart *hs;
    Tfevents__HparamsSessionEnd *he;
    switch (c->m->op) {
    case REQUEST_HPARAMS_CONFIG:
        HPARAMS_OP(c, rq, Tfevents__HparamsConfig, TFEVENTS__HPARAMS_CONFIG__INIT,
                   hparams_config, TFEVENTS__REQUEST__OP_HPARAMS_CONFIG, f, hc);
        return experiment(c, root, hc);
    case REQUEST_HPARAMS_SESSION_START:
        HPARAMS_OP(c, rq, Tfevents__HparamsSessionStart, TFEVENTS__HPARAMS_SESSION_START__INIT,
                   hparams_session_start, TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START, f, hs);
        return session_start(c, root, hs);
    default:
        HPARAMS_OP(c, rq, Tfevents__HparamsSessionEnd, TFEVENTS__HPARAMS_SESSION_END__INIT,
                   hparams_session_end, TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END, f, he);
        return session_end(c, root, he);
    }
}

/* The ops without values. */
static int translate_plain(struct ctx *c, const struct common *f, Tfevents__Request *rq)
{
    static const Tfevents__StepGet sg0 = TFEVENTS__STEP_GET__INIT;
    static const Tfevents__StepSet ss0 = TFEVENTS__STEP_SET__INIT;
    static const Tfevents__Flush fl0 = TFEVENTS__FLUSH__INIT;
    static const Tfevents__Restart rs0 = TFEVENTS__RESTART__INIT;
    static const Tfevents__Empty em0 = TFEVENTS__EMPTY__INIT;
    bool ok;
    switch (c->m->op) {
    case REQUEST_STEP_GET:
        rq->op_case = TFEVENTS__REQUEST__OP_STEP_GET;
        if ((ok = (rq->step_get = NEW(c, Tfevents__StepGet, sg0)) != NULL))
            rq->step_get->logdir = f->logdir;
        break;
    case REQUEST_STEP_SET:
        rq->op_case = TFEVENTS__REQUEST__OP_STEP_SET;
        if ((ok = (rq->step_set = NEW(c, Tfevents__StepSet, ss0)) != NULL)) {
            rq->step_set->logdir = f->logdir;
            rq->step_set->step = json_i64(f->step);
        }
        break;
    case REQUEST_FLUSH:
    case REQUEST_CLOSE: {
        Tfevents__Flush *q = NEW(c, Tfevents__Flush, fl0);
        bool flush = c->m->op == REQUEST_FLUSH;
        rq->op_case = flush ? TFEVENTS__REQUEST__OP_FLUSH : TFEVENTS__REQUEST__OP_CLOSE;
        *(flush ? &rq->flush : &rq->close) = q;
        if ((ok = q != NULL)) {
            q->logdir = f->logdir;
            q->has_sync = f->has_sync;
            q->sync = f->sync;
        }
        break;
    }
    case REQUEST_RESTART:
        rq->op_case = TFEVENTS__REQUEST__OP_RESTART;
        if ((ok = (rq->restart = NEW(c, Tfevents__Restart, rs0)) != NULL)) {
            rq->restart->logdir = f->logdir;
            rq->restart->step = json_u64(f->step);
            rq->restart->run = f->run;
            rq->restart->has_wall_time = f->has_wall_time;
            rq->restart->wall_time = f->wall_time;
        }
        break;
    default: {
        Tfevents__Empty *e = NEW(c, Tfevents__Empty, em0);
        bool ping = c->m->op == REQUEST_PING;
        rq->op_case = ping ? TFEVENTS__REQUEST__OP_PING : TFEVENTS__REQUEST__OP_STATS;
        *(ping ? &rq->ping : &rq->stats) = e;
        ok = e != NULL;
        break;
    }
    }
    return ok ? 0 : FAIL(-ENOMEM, "out of memory");
}

/* The line as the Request a binary client would send for it. */
static int translate(struct ctx *c, const cJSON *root, Tfevents__Request *rq)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    size_t opi;
    struct common f;
    int r;
    /* The id first, so that every error can carry it. */
    if ((id && (r = read_id(c, id)) < 0) || (r = check_fields(c, root, &opi)) < 0 ||
        (r = read_common(c, root, &f)) < 0)
        return r;
    switch (c->m->op) {
    case REQUEST_LOG:
        return translate_log(c, root, &f, rq);
    case REQUEST_HPARAMS_CONFIG:
    case REQUEST_HPARAMS_SESSION_START:
    case REQUEST_HPARAMS_SESSION_END:
        return translate_hparams(c, root, &f, rq);
    default:
        return translate_plain(c, &f, rq);
    }
}

int jd_decode(struct request *m, const char *line, size_t len, char *err, size_t err_size)
{
    if (jd_decode_fast(m, line, len) == 0) {
        err[0] = '\0';
        return 0;
    }
    return jd_decode_full(m, line, len, err, err_size);
}

int jd_decode_full(struct request *m, const char *line, size_t len, char *err, size_t err_size)
{
    struct ctx cx = {.m = m, .err = err, .err_size = err_size}, *c = &cx;
    request_recycle(m);
    err[0] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!root) {
        if (end && end >= line && end <= line + len)
            return FAIL(-EBADMSG, "invalid JSON (at byte %zu)", (size_t)(end - line) + 1);
        return FAIL(-EBADMSG, "invalid JSON");
    }
    /* cJSON stops after the first value; anything but spaces after it
     * means the line was not one JSON object. */
    while (end && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    int r;
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    if (end && end < line + len)
        r = FAIL(-EBADMSG, "invalid JSON (extra data at byte %zu)", (size_t)(end - line) + 1);
    else if (!cJSON_IsObject(root))
        r = FAIL(-EBADMSG, "a message must be a JSON object");
    else if ((r = translate(c, root, &rq)) == 0)
        r = frame_decode_fields(&rq, m, err, err_size);
    ctx_done(c);
    cJSON_Delete(root);
    return r;
}
