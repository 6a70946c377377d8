/* The wire format, one JSON object per line (docs/protocol.md):
 *
 *   {"v":1,"op":"log","id":7,"logdir":"exp1","step":3,"wall_time":1700000000.25,
 *    "values":{"loss":0.5,"train":{"acc":0.9},"img":{"$image":{"png":"iVBOR..."}}}}
 *
 * Every field is checked against the op's list of allowed fields, so a
 * typo is an error rather than silently ignored data. */
#include "json_decode.h"
#include "json_fast.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "hparams.h"
#include "utf8.h"

/* 2^53: the largest step a JSON number (a double) carries exactly. */
#define JD_MAX_STEP ((double)REQUEST_MAX_STEP)
/* Wall times must fit the 10-digit seconds of event file names. */
#define JD_MAX_WALL_TIME REQUEST_MAX_WALL_TIME

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

/* The decoding state of one line. */
struct ctx {
    struct request *m;
    char *err;
    size_t err_size;
    size_t depth;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->err_size, fmt, ap);
    va_end(ap);
    return code;
}

/* Longest name quoted whole in an error message: a longer one is cut
 * there (whole UTF-8 characters) and marked with an ellipsis, and it
 * comes after the reason, so that the reason always fits in
 * REQUEST_ERROR_SIZE. */
#define JD_ERROR_NAME 64u

struct cut_name {
    char s[JD_ERROR_NAME + 4];
};

static const char *cut(struct cut_name *b, const char *name)
{
    size_t n = strlen(name);
    if (n <= JD_ERROR_NAME)
        return name;
    n = JD_ERROR_NAME;
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
        n--;
    memcpy(b->s, name, n);
    memcpy(b->s + n, "\xe2\x80\xa6", 4);   /* U+2026 and the NUL */
    return b->s;
}

/* "<reason> (<what> '<name>')": the reason first, the name cut. */
__attribute__((format(printf, 5, 6)))
static int fail_at(struct ctx *c, int code, const char *what, const char *name,
                   const char *fmt, ...)
{
    if (!c->err || c->err_size == 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->err_size, fmt, ap);
    va_end(ap);
    size_t n = strlen(c->err);
    struct cut_name b;
    if (n + 1 < c->err_size)
        snprintf(c->err + n, c->err_size - n, " (%s '%s')", what, cut(&b, name));
    return code;
}

/* Builder failures carry the builder's own reason. */
static int fail_builder(struct ctx *c, int r, const char *tag, const char *kind)
{
    const char *why = summary_last_error();
    if (r == -ENOMEM)
        return fail(c, r, "out of memory");
    if (!why || !*why)
        why = r == -EILSEQ ? "invalid UTF-8" : r == -EMSGSIZE ? "too large" : "invalid";
    return fail_at(c, r, "value", tag, "%s: %s", kind, why);
}

/* A new value slot for run (copied). */
static int add_value(struct ctx *c, const char *run, struct summary_value **ret)
{
    int r = request_add_value(c->m, run, ret);
    if (r == -EMSGSIZE)
        return fail(c, r, "more than %u values in one message", REQUEST_MAX_VALUES);
    if (r < 0)
        return fail(c, r, "out of memory");
    return 0;
}

/* ---- small field readers ------------------------------------------------ */

static bool is_integer(double d, double max)
{
    return isfinite(d) && d >= 0 && d <= max && floor(d) == d;
}

static int get_string(struct ctx *c, const cJSON *obj, const char *key, const char *where,
                      const char **ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *ret = NULL;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsString(it))
        return fail(c, -EINVAL, "%s: \"%s\" must be a string", where, key);
    *ret = it->valuestring;
    return 0;
}

static int get_number(struct ctx *c, const cJSON *obj, const char *key, const char *where,
                      bool *present, double *ret)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *present = false;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsNumber(it))
        return fail(c, -EINVAL, "%s: \"%s\" must be a number", where, key);
    *present = true;
    *ret = it->valuedouble;
    return 0;
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
            return fail(c, -EINVAL, "%s: unknown field \"%s\"", where, it->string);
    }
    return 0;
}

static int read_meta(struct ctx *c, const cJSON *obj, const char *where,
                     struct summary_meta *meta)
{
    int r = get_string(c, obj, "display_name", where, &meta->display_name);
    if (r == 0)
        r = get_string(c, obj, "description", where, &meta->description);
    return r;
}

/* A numeric array, nested to any (rectangular) depth, flattened row-major.
 * dims/rank get the nesting shape. */
struct numbers {
    double *v;
    size_t n, cap;
    size_t dims[SUMMARY_MAX_RANK];
    size_t rank;
};

static void numbers_done(struct numbers *a)
{
    free(a->v);
}

static int flatten(struct ctx *c, const cJSON *arr, struct numbers *a, size_t level,
                   const char *where)
{
    if (level >= SUMMARY_MAX_RANK)
        return fail(c, -EINVAL, "%s: arrays nested deeper than %u", where, SUMMARY_MAX_RANK);
    size_t len = (size_t)cJSON_GetArraySize(arr);
    if (level == a->rank) {
        a->dims[a->rank++] = len;
    } else if (a->dims[level] != len) {
        return fail(c, -EINVAL, "%s: nested arrays are not rectangular", where);
    }
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (cJSON_IsArray(it)) {
            if (level + 1 < a->rank && a->dims[level + 1] == 0 && a->n > 0)
                return fail(c, -EINVAL, "%s: nested arrays are not rectangular", where);
            int r = flatten(c, it, a, level + 1, where);
            if (r < 0)
                return r;
            continue;
        }
        if (!cJSON_IsNumber(it))
            return fail(c, -EINVAL, "%s: array elements must be numbers", where);
        if (level + 1 != a->rank)
            return fail(c, -EINVAL, "%s: nested arrays are not rectangular", where);
        if (a->n >= REQUEST_MAX_ARRAY)
            return fail(c, -EMSGSIZE, "%s: more than %u numbers", where, REQUEST_MAX_ARRAY);
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 64;
            double *v = realloc(a->v, cap * sizeof *v);
            if (!v)
                return fail(c, -ENOMEM, "out of memory");
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
        return fail(c, -EINVAL, "%s must be an array of numbers", where);
    return flatten(c, it, a, 0, where);
}

/* An explicit "shape": replaces the nesting shape of a flat array. */
static int apply_shape(struct ctx *c, const cJSON *obj, struct numbers *a, const char *where)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    if (!s)
        return 0;
    if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) < 1 ||
        (size_t)cJSON_GetArraySize(s) > SUMMARY_MAX_RANK)
        return fail(c, -EINVAL, "%s: \"shape\" must be an array of 1 to %u sizes", where,
                    SUMMARY_MAX_RANK);
    size_t rank = 0, count = 1;
    for (const cJSON *it = s->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || !is_integer(it->valuedouble, (double)REQUEST_MAX_ARRAY))
            return fail(c, -EINVAL, "%s: \"shape\" sizes must be non-negative integers", where);
        a->dims[rank] = (size_t)it->valuedouble;
        count *= a->dims[rank];
        if (count > REQUEST_MAX_ARRAY)
            return fail(c, -EMSGSIZE, "%s: shape too large", where);
        rank++;
    }
    if (count != a->n)
        return fail(c, -EINVAL, "%s: shape holds %zu values but %zu were given", where,
                    count, a->n);
    a->rank = rank;
    return 0;
}

/* Base64 (standard alphabet, padding optional) into a new buffer. */
static int base64(struct ctx *c, const cJSON *it, const char *where, uint8_t **ret,
                  size_t *ret_len)
{
    if (!cJSON_IsString(it))
        return fail(c, -EINVAL, "%s must be a base64 string", where);
    const char *s = it->valuestring;
    size_t len = strlen(s);
    uint8_t *out = malloc(BASE64_DECODE_LENGTH(len) + 1);
    if (!out)
        return fail(c, -ENOMEM, "out of memory");
    struct base64_decode_ctx b;
    size_t n = BASE64_DECODE_LENGTH(len) + 1;
    base64_decode_init(&b);
    if (!base64_decode_update(&b, &n, out, len, s) || !base64_decode_final(&b)) {
        free(out);
        return fail(c, -EINVAL, "%s is not valid base64", where);
    }
    *ret = out;
    *ret_len = n;
    return 0;
}

/* One base64 string or an array of them. */
struct blobs {
    struct summary_bytes *b;
    uint8_t **owned;
    size_t n;
};

static void blobs_done(struct blobs *bl)
{
    for (size_t i = 0; i < bl->n; i++)
        free(bl->owned[i]);
    free(bl->owned);
    free(bl->b);
}

static int get_blobs(struct ctx *c, const cJSON *it, const char *where, size_t max,
                     struct blobs *bl)
{
    memset(bl, 0, sizeof *bl);
    size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 1;
    if (n == 0 || n > max)
        return fail(c, -EINVAL, "%s: between 1 and %zu items", where, max);
    bl->b = calloc(n, sizeof *bl->b);
    bl->owned = calloc(n, sizeof *bl->owned);
    if (!bl->b || !bl->owned)
        return fail(c, -ENOMEM, "out of memory");
    const cJSON *e = cJSON_IsArray(it) ? it->child : it;
    for (size_t i = 0; i < n; i++, e = e->next) {
        size_t len;
        int r = base64(c, e, where, &bl->owned[i], &len);
        if (r < 0)
            return r;
        bl->n++;
        bl->b[i].data = bl->owned[i];
        bl->b[i].len = len;
    }
    return 0;
}

/* ---- typed values ------------------------------------------------------- */

static int typed_scalar(struct ctx *c, const cJSON *o, const char *tag,
                        struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    int r = only_keys(c, o, "$scalar", keys);
    if (r < 0)
        return r;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    /* JSON has no literal for NaN or the infinities (and a number too
     * large for a double is refused before parsing): they are spelt as
     * these strings, the names JavaScript and Python print. */
    double x;
    if (cJSON_IsNumber(val))
        x = val->valuedouble;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "NaN") == 0)
        x = NAN;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "Infinity") == 0)
        x = INFINITY;
    else if (cJSON_IsString(val) && strcmp(val->valuestring, "-Infinity") == 0)
        x = -INFINITY;
    else
        return fail_at(c, -EINVAL, "value", tag,
                       "$scalar needs a numeric \"value\" (or \"NaN\", \"Infinity\", "
                       "\"-Infinity\")");
    r = summary_scalar(v, tag, x, meta);
    return r < 0 ? fail_builder(c, r, tag, "scalar") : 0;
}

static int typed_text(struct ctx *c, const cJSON *o, const char *tag,
                      struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"value", "display_name", "description", NULL};
    int r = only_keys(c, o, "$text", keys);
    if (r < 0)
        return r;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    if (cJSON_IsString(val)) {
        r = summary_text(v, tag, val->valuestring, strlen(val->valuestring), meta);
        return r < 0 ? fail_builder(c, r, tag, "text") : 0;
    }
    if (!cJSON_IsArray(val))
        return fail_at(c, -EINVAL,
                    "value", tag, "$text \"value\" must be a string, an array of strings "
                    "or an array of rows of strings");
    size_t dims[2] = {(size_t)cJSON_GetArraySize(val), 0};
    size_t rank = 1;
    if (val->child && cJSON_IsArray(val->child)) {
        rank = 2;
        dims[1] = (size_t)cJSON_GetArraySize(val->child);
    }
    if (dims[0] > SUMMARY_MAX_STRINGS || (rank == 2 && dims[1] > SUMMARY_MAX_STRINGS) ||
        dims[0] * (rank == 2 ? dims[1] : 1) > SUMMARY_MAX_STRINGS)
        return fail_at(c, -EMSGSIZE, "value", tag, "more than %u strings", SUMMARY_MAX_STRINGS);
    size_t total = dims[0] * (rank == 2 ? dims[1] : 1);
    struct summary_bytes *s = calloc(total ? total : 1, sizeof *s);
    if (!s)
        return fail(c, -ENOMEM, "out of memory");
    size_t k = 0;
    r = 0;
    for (const cJSON *row = val->child; row && r == 0; row = row->next) {
        if (rank == 1) {
            if (!cJSON_IsString(row)) {
                r = fail_at(c, -EINVAL, "value", tag, "$text array elements must be strings");
                break;
            }
            s[k].data = row->valuestring;
            s[k++].len = strlen(row->valuestring);
            continue;
        }
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != dims[1]) {
            r = fail_at(c, -EINVAL, "value", tag, "$text rows must be arrays of equal length");
            break;
        }
        for (const cJSON *cell = row->child; cell; cell = cell->next) {
            if (!cJSON_IsString(cell)) {
                r = fail_at(c, -EINVAL, "value", tag, "$text cells must be strings");
                break;
            }
            s[k].data = cell->valuestring;
            s[k++].len = strlen(cell->valuestring);
        }
    }
    if (r == 0) {
        r = summary_text_array(v, tag, s, rank, dims, meta);
        if (r < 0)
            r = fail_builder(c, r, tag, "text");
    }
    free(s);
    return r;
}

static int typed_histogram(struct ctx *c, const cJSON *o, const char *tag,
                           struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"values", "bucket_count", "edges", "counts",
                                       "display_name", "description", NULL};
    int r = only_keys(c, o, "$histogram", keys);
    if (r < 0)
        return r;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "values");
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(o, "edges");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(o, "counts");
    struct numbers a = {0}, b = {0};
    if (values && !edges && !counts) {
        int k = HISTOGRAM_DEFAULT_BUCKETS;
        bool has;
        double bc = 0;
        r = get_number(c, o, "bucket_count", "$histogram", &has, &bc);
        if (r < 0)
            return r;
        if (has) {
            if (!is_integer(bc, HISTOGRAM_MAX_BUCKETS))
                return fail_at(c, -EINVAL,
                            "value", tag,
                            "\"bucket_count\" must be an integer from 0 to %d",
                            HISTOGRAM_MAX_BUCKETS);
            k = (int)bc;
        }
        r = get_numbers(c, values, "$histogram \"values\"", &a);
        if (r == 0) {
            r = summary_histogram(v, tag, a.v, a.n, k, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "histogram");
        }
    } else if (edges && counts && !values) {
        if (cJSON_GetObjectItemCaseSensitive(o, "bucket_count"))
            return fail_at(c, -EINVAL, "value", tag, "\"bucket_count\" goes with \"values\"");
        r = get_numbers(c, edges, "$histogram \"edges\"", &a);
        if (r == 0)
            r = get_numbers(c, counts, "$histogram \"counts\"", &b);
        if (r == 0 && (a.rank != 1 || b.rank != 1 || a.n != b.n + 1))
            r = fail_at(c, -EINVAL,
                     "value", tag, "$histogram needs k+1 \"edges\" and k \"counts\" (flat arrays)");
        if (r == 0) {
            r = summary_histogram_buckets(v, tag, a.v, b.v, b.n, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "histogram");
        }
    } else {
        r = fail_at(c, -EINVAL,
                 "value", tag, "$histogram needs either \"values\" or \"edges\" and \"counts\"");
    }
    numbers_done(&a);
    numbers_done(&b);
    return r;
}

static int typed_image(struct ctx *c, const cJSON *o, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"png", "jpeg", "pixels", "shape", "dtype",
                                       "width", "height", "display_name", "description",
                                       NULL};
    int r = only_keys(c, o, "$image", keys);
    if (r < 0)
        return r;
    const cJSON *png = cJSON_GetObjectItemCaseSensitive(o, "png");
    const cJSON *jpeg = cJSON_GetObjectItemCaseSensitive(o, "jpeg");
    const cJSON *pixels = cJSON_GetObjectItemCaseSensitive(o, "pixels");
    if (!!png + !!jpeg + !!pixels != 1)
        return fail_at(c, -EINVAL,
                    "value", tag, "$image needs exactly one of \"png\", \"jpeg\", \"pixels\"");
    if (!pixels) {
        bool hw, hh;
        double w = 0, h = 0;
        r = get_number(c, o, "width", "$image", &hw, &w);
        if (r == 0)
            r = get_number(c, o, "height", "$image", &hh, &h);
        if (r < 0)
            return r;
        if ((hw && !is_integer(w, UINT32_MAX)) || (hh && !is_integer(h, UINT32_MAX)))
            return fail_at(c, -EINVAL, "value", tag, "width and height must be integers");
        if (cJSON_GetObjectItemCaseSensitive(o, "shape") ||
            cJSON_GetObjectItemCaseSensitive(o, "dtype"))
            return fail_at(c, -EINVAL, "value", tag, "\"shape\" and \"dtype\" go with \"pixels\"");
        struct blobs bl;
        r = get_blobs(c, png ? png : jpeg, png ? "$image \"png\"" : "$image \"jpeg\"",
                      SUMMARY_MAX_IMAGES, &bl);
        if (r == 0) {
            r = summary_image_encoded(v, tag, bl.b, bl.n, (uint32_t)w, (uint32_t)h, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "image");
        }
        blobs_done(&bl);
        return r;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "width") ||
        cJSON_GetObjectItemCaseSensitive(o, "height"))
        return fail_at(c, -EINVAL, "value", tag, "with \"pixels\" the size comes from the shape");
    const char *dtype = NULL;
    r = get_string(c, o, "dtype", "$image", &dtype);
    if (r < 0)
        return r;
    bool bytes = false;
    if (dtype && strcmp(dtype, "uint8") == 0)
        bytes = true;
    else if (dtype && strcmp(dtype, "float") != 0)
        return fail_at(c, -EINVAL, "value", tag, "$image \"dtype\" must be \"float\" or \"uint8\"");
    struct numbers a;
    r = get_numbers(c, pixels, "$image \"pixels\"", &a);
    if (r == 0)
        r = apply_shape(c, o, &a, "$image");
    size_t batch = 1, hgt = 0, wid = 0, ch = 1;
    if (r == 0) {
        if (a.rank == 2) {
            hgt = a.dims[0];
            wid = a.dims[1];
        } else if (a.rank == 3) {
            hgt = a.dims[0];
            wid = a.dims[1];
            ch = a.dims[2];
        } else if (a.rank == 4) {
            batch = a.dims[0];
            hgt = a.dims[1];
            wid = a.dims[2];
            ch = a.dims[3];
        } else {
            r = fail_at(c, -EINVAL,
                     "value", tag, "$image pixels must have shape [h,w], [h,w,c] or [n,h,w,c]");
        }
    }
    if (r == 0 && bytes) {
        uint8_t *px = malloc(a.n ? a.n : 1);
        if (!px)
            r = fail(c, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < a.n; i++) {
            if (!(a.v[i] >= 0 && a.v[i] <= 255) || floor(a.v[i]) != a.v[i])
                r = fail_at(c, -EINVAL, "value", tag, "uint8 pixels must be integers 0..255");
            else
                px[i] = (uint8_t)a.v[i];
        }
        if (r == 0) {
            r = summary_image_u8(v, tag, px, batch, hgt, wid, ch, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "image");
        }
        free(px);
    } else if (r == 0) {
        r = summary_image_doubles(v, tag, a.v, batch, hgt, wid, ch, meta);
        if (r < 0)
            r = fail_builder(c, r, tag, "image");
    }
    numbers_done(&a);
    return r;
}

static int typed_audio(struct ctx *c, const cJSON *o, const char *tag,
                       struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"wav", "samples", "shape", "sample_rate",
                                       "display_name", "description", NULL};
    int r = only_keys(c, o, "$audio", keys);
    if (r < 0)
        return r;
    const cJSON *wav = cJSON_GetObjectItemCaseSensitive(o, "wav");
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(o, "samples");
    if (!!wav + !!samples != 1)
        return fail_at(c, -EINVAL, "value", tag,
                       "$audio needs exactly one of \"wav\", \"samples\"");
    if (wav) {
        if (cJSON_GetObjectItemCaseSensitive(o, "sample_rate") ||
            cJSON_GetObjectItemCaseSensitive(o, "shape"))
            return fail_at(c, -EINVAL,
                        "value", tag, "a WAV file carries its own rate and shape");
        struct blobs bl;
        r = get_blobs(c, wav, "$audio \"wav\"", SUMMARY_MAX_AUDIO_CLIPS, &bl);
        if (r == 0) {
            r = summary_audio_wav(v, tag, bl.b, bl.n, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "audio");
        }
        blobs_done(&bl);
        return r;
    }
    bool has;
    double rate = 0;
    r = get_number(c, o, "sample_rate", "$audio", &has, &rate);
    if (r < 0)
        return r;
    if (!has || !is_integer(rate, UINT32_MAX) || rate < 1)
        return fail_at(c, -EINVAL, "value", tag, "$audio samples need an integer \"sample_rate\"");
    struct numbers a;
    r = get_numbers(c, samples, "$audio \"samples\"", &a);
    if (r == 0)
        r = apply_shape(c, o, &a, "$audio");
    size_t batch = 1, frames = 0, ch = 1;
    if (r == 0) {
        if (a.rank == 1) {
            frames = a.dims[0];
        } else if (a.rank == 2) {
            frames = a.dims[0];
            ch = a.dims[1];
        } else if (a.rank == 3) {
            batch = a.dims[0];
            frames = a.dims[1];
            ch = a.dims[2];
        } else {
            r = fail_at(c, -EINVAL,
                     "value", tag, "$audio samples must have shape [frames], [frames,channels] "
                     "or [clips,frames,channels]");
        }
    }
    if (r == 0) {
        r = summary_audio_doubles(v, tag, a.v, batch, frames, ch, (uint32_t)rate, meta);
        if (r < 0)
            r = fail_builder(c, r, tag, "audio");
    }
    numbers_done(&a);
    return r;
}

static int data_class_of(const char *s)
{
    static const char *const names[] = {"unknown", "scalar", "tensor", "blob_sequence"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int typed_custom(struct ctx *c, const cJSON *o, const char *tag,
                        struct summary_value *v, const struct summary_meta *meta)
{
    static const char *const keys[] = {"plugin", "content", "data_class", "tensor",
                                       "numbers", "strings", "shape", "dtype",
                                       "display_name", "description", NULL};
    int r = only_keys(c, o, "$custom", keys);
    if (r < 0)
        return r;
    const char *plugin = NULL, *dc = NULL, *dtype = NULL;
    r = get_string(c, o, "plugin", "$custom", &plugin);
    if (r == 0)
        r = get_string(c, o, "data_class", "$custom", &dc);
    if (r == 0)
        r = get_string(c, o, "dtype", "$custom", &dtype);
    if (r < 0)
        return r;
    if (!plugin || !*plugin)
        return fail_at(c, -EINVAL, "value", tag, "$custom needs a \"plugin\" name");
    int data_class = 2;
    if (dc && (data_class = data_class_of(dc)) < 0)
        return fail_at(c, -EINVAL,
                    "value", tag, "\"data_class\" must be \"unknown\", \"scalar\", \"tensor\" "
                    "or \"blob_sequence\"");
    uint8_t *content = NULL, *tensor = NULL;
    size_t content_len = 0, tensor_len = 0;
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(o, "content");
    if (ci && (r = base64(c, ci, "$custom \"content\"", &content, &content_len)) < 0)
        return r;
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(o, "tensor");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(o, "numbers");
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(o, "strings");
    struct numbers a = {0};
    if (!!ti + !!ni + !!si != 1) {
        r = fail_at(c, -EINVAL,
                 "value", tag, "$custom needs exactly one of \"tensor\" (base64 TensorProto), "
                 "\"numbers\", \"strings\"");
    } else if (ti) {
        r = base64(c, ti, "$custom \"tensor\"", &tensor, &tensor_len);
        if (r == 0) {
            r = summary_custom(v, tag, plugin, content, content_len, data_class, tensor,
                               tensor_len, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "custom");
        }
    } else if (ni) {
        int dt = 1; /* DT_FLOAT */
        if (dtype && strcmp(dtype, "double") == 0)
            dt = 2;
        else if (dtype && strcmp(dtype, "float") != 0)
            r = fail_at(c, -EINVAL, "value", tag, "\"dtype\" must be \"float\" or \"double\"");
        if (r == 0)
            r = get_numbers(c, ni, "$custom \"numbers\"", &a);
        if (r == 0)
            r = apply_shape(c, o, &a, "$custom");
        if (r == 0) {
            r = summary_custom_numeric(v, tag, plugin, content, content_len, data_class, a.v,
                                       a.rank, a.dims, dt, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "custom");
        }
    } else {
        /* Strings: a string (rank 0) or a flat array with an optional shape. */
        size_t n = cJSON_IsArray(si) ? (size_t)cJSON_GetArraySize(si) : 1;
        struct summary_bytes *s = NULL;
        if (!cJSON_IsArray(si) && !cJSON_IsString(si))
            r = fail_at(c, -EINVAL, "value", tag, "\"strings\" must be a string or an array");
        else if (n > SUMMARY_MAX_STRINGS)
            r = fail_at(c, -EMSGSIZE, "value", tag, "too many strings");
        else if (!(s = calloc(n ? n : 1, sizeof *s)))
            r = fail(c, -ENOMEM, "out of memory");
        size_t k = 0;
        const cJSON *e = cJSON_IsArray(si) ? si->child : si;
        for (; r == 0 && e && k < n; e = e->next, k++) {
            if (!cJSON_IsString(e)) {
                r = fail_at(c, -EINVAL, "value", tag, "\"strings\" elements must be strings");
                break;
            }
            s[k].data = e->valuestring;
            s[k].len = strlen(e->valuestring);
        }
        if (r == 0) {
            a.rank = cJSON_IsArray(si) ? 1 : 0;
            a.dims[0] = n;
            a.n = n;
            r = apply_shape(c, o, &a, "$custom");
        }
        if (r == 0) {
            r = summary_custom_strings(v, tag, plugin, content, content_len, data_class, s,
                                       a.rank, a.dims, meta);
            if (r < 0)
                r = fail_builder(c, r, tag, "custom");
        }
        free(s);
    }
    numbers_done(&a);
    free(content);
    free(tensor);
    return r;
}

static const struct {
    const char *key;
    int (*fn)(struct ctx *, const cJSON *, const char *, struct summary_value *,
              const struct summary_meta *);
} kinds[] = {
    {"$scalar", typed_scalar},   {"$text", typed_text},   {"$histogram", typed_histogram},
    {"$image", typed_image},     {"$audio", typed_audio}, {"$custom", typed_custom},
};

static int typed_value(struct ctx *c, const cJSON *obj, const char *run, const char *tag)
{
    const cJSON *t = obj->child;
    struct cut_name tb;
    if (t->next)
        return fail_at(c, -EINVAL,
                    "value", tag, "a typed value is an object with exactly one key (\"%s\")",
                       cut(&tb, t->string));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(t->string, kinds[i].key) != 0)
            continue;
        if (!cJSON_IsObject(t))
            return fail_at(c, -EINVAL, "value", tag, "\"%s\" must hold an object",
                           cut(&tb, t->string));
        struct summary_meta meta = {0};
        int r = read_meta(c, t, t->string, &meta);
        if (r < 0)
            return r;
        struct summary_value *v;
        r = add_value(c, run, &v);
        if (r < 0)
            return r;
        return kinds[i].fn(c, t, tag, v, &meta);
    }
    return fail_at(c, -EINVAL,
                "value", tag, "unknown type \"%s\" (known: $scalar, $text, $histogram, $image, "
                "$audio, $custom)", cut(&tb, t->string));
}

/* The values (or runs) inside obj, all in run. */
static int values_of(struct ctx *c, const cJSON *obj, const char *run)
{
    if (++c->depth > REQUEST_MAX_RUN_DEPTH)
        return fail(c, -EINVAL, "runs nested deeper than %u", REQUEST_MAX_RUN_DEPTH);
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *key = it->string;
        int r;
        if (!*key)
            return fail(c, -EINVAL, "empty name in \"values\" (in run '%s')", run);
        if (key[0] == '$')
            return fail_at(c, -EINVAL, "name in \"values\"", key,
                           "names starting with '$' are reserved for typed values (write "
                           "{\"tag\": {\"$scalar\": ...}})");
        if (cJSON_IsNumber(it)) {
            struct summary_value *v;
            r = add_value(c, run, &v);
            if (r == 0 && (r = summary_scalar(v, key, it->valuedouble, NULL)) < 0)
                r = fail_builder(c, r, key, "scalar");
        } else if (cJSON_IsString(it)) {
            struct summary_value *v;
            r = add_value(c, run, &v);
            if (r == 0 && (r = summary_text(v, key, it->valuestring, strlen(it->valuestring),
                                            NULL)) < 0)
                r = fail_builder(c, r, key, "text");
        } else if (cJSON_IsObject(it) && it->child && it->child->string[0] == '$') {
            r = typed_value(c, it, run, key);
        } else if (cJSON_IsObject(it)) {
            /* A run: one path component, normalised together with its parent. */
            if (!utf8_valid(key, strlen(key)))
                return fail(c, -EILSEQ, "a run name (in run '%s') is not valid UTF-8", run);
            if (strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
                return fail_at(c, -EINVAL, "run name", key,
                               "a run is one directory name, without '/', '.' or '..'");
            char path[LOGDIR_MAX_NAME + 1], norm[LOGDIR_MAX_NAME + 1];
            int k = strcmp(run, ".") == 0 ? snprintf(path, sizeof path, "%s", key)
                                          : snprintf(path, sizeof path, "%s/%s", run, key);
            const char *why = "name too long";
            if (k < 0 || (size_t)k >= sizeof path ||
                logdir_normalize(path, (size_t)k, norm, sizeof norm, &why) < 0)
                return fail_at(c, -EINVAL, "run name", key, "%s", why);
            if (!it->child)
                return fail_at(c, -EINVAL, "run", norm, "a run holds no values");
            r = values_of(c, it, norm);
        } else if (cJSON_IsBool(it)) {
            r = fail_at(c, -EINVAL,
                     "value", key, "true/false is not a value kind (send 1 or 0 as a number)");
        } else if (cJSON_IsNull(it)) {
            r = fail_at(c, -EINVAL, "value", key, "null is not a value");
        } else {
            r = fail_at(c, -EINVAL,
                     "value", key, "an array is not a value (use {\"$histogram\": {\"values\": "
                     "[...]}} or another typed value)");
        }
        if (r < 0)
            return r;
    }
    c->depth--;
    return 0;
}

/* ---- hparams -------------------------------------------------------------- */

static int hparam_value(struct ctx *c, const cJSON *it, const char *name,
                        struct hparams_value *ret)
{
    memset(ret, 0, sizeof *ret);
    if (cJSON_IsBool(it)) {
        ret->kind = HPARAMS_BOOL;
        ret->boolean = cJSON_IsTrue(it);
    } else if (cJSON_IsString(it)) {
        ret->kind = HPARAMS_STRING;
        ret->string = it->valuestring;
    } else if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        /* JSON does not tell 1 from 1.0 once parsed; an integral number
         * of safe size is taken as an int (as Python would read "1"). */
        if (isfinite(d) && floor(d) == d && fabs(d) <= JD_MAX_STEP) {
            ret->kind = HPARAMS_INT;
            ret->integer = (int64_t)d;
        } else {
            ret->kind = HPARAMS_NUMBER;
        }
        ret->number = d;
    } else {
        return fail_at(c, -EINVAL, "hparam", name, "must be a number, a string or a boolean");
    }
    return 0;
}

static int decode_session_start(struct ctx *c, const cJSON *root, struct summary_value *v)
{
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    if (!cJSON_IsObject(hp))
        return fail(c, -EINVAL, "\"hparams\" must be an object of name: value");
    size_t n = (size_t)cJSON_GetArraySize(hp);
    if (n > HPARAMS_MAX_HPARAMS)
        return fail(c, -EMSGSIZE, "more than %d hparams", HPARAMS_MAX_HPARAMS);
    struct hparams_kv *kv = calloc(n ? n : 1, sizeof *kv);
    if (!kv)
        return fail(c, -ENOMEM, "out of memory");
    struct hparams_session_start s = {0};
    int r = 0;
    size_t i = 0;
    for (const cJSON *it = hp->child; it && r == 0; it = it->next, i++) {
        kv[i].name = it->string;
        r = hparam_value(c, it, it->string, &kv[i].value);
    }
    bool has;
    if (r == 0)
        r = get_string(c, root, "group_name", "hparams_session_start", &s.group_name);
    if (r == 0)
        r = get_string(c, root, "model_uri", "hparams_session_start", &s.model_uri);
    if (r == 0)
        r = get_string(c, root, "monitor_url", "hparams_session_start", &s.monitor_url);
    if (r == 0)
        r = get_number(c, root, "start_time_secs", "hparams_session_start", &has,
                       &s.start_time_secs);
    if (r == 0) {
        if (!has)
            s.start_time_secs = c->m->has_wall_time ? c->m->wall_time : 0;
        s.hparams = kv;
        s.n_hparams = n;
        r = summary_hparams_session_start(v, &s);
        if (r < 0)
            r = fail_builder(c, r, HPARAMS_TAG_SESSION_START, "hparams");
    }
    free(kv);
    return r;
}

static int hparams_type_of(const char *s)
{
    if (strcmp(s, "string") == 0)
        return HPARAMS_TYPE_STRING;
    if (strcmp(s, "bool") == 0)
        return HPARAMS_TYPE_BOOL;
    if (strcmp(s, "float") == 0 || strcmp(s, "number") == 0)
        return HPARAMS_TYPE_FLOAT64;
    return -1;
}

static int decode_experiment(struct ctx *c, const cJSON *root, struct summary_value *v)
{
    static const char *const hkeys[] = {"name", "type", "display_name", "description",
                                        "values", "min", "max", NULL};
    static const char *const mkeys[] = {"tag", "group", "display_name", "description",
                                        "dataset_type", NULL};
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (!cJSON_IsArray(hp))
        return fail(c, -EINVAL, "\"hparams\" must be an array of {\"name\": ...} objects");
    if (mt && !cJSON_IsArray(mt))
        return fail(c, -EINVAL, "\"metrics\" must be an array of {\"tag\": ...} objects");
    size_t nh = (size_t)cJSON_GetArraySize(hp), nm = mt ? (size_t)cJSON_GetArraySize(mt) : 0;
    if (nh > HPARAMS_MAX_HPARAMS || nm > HPARAMS_MAX_METRICS)
        return fail(c, -EMSGSIZE, "too many hparams or metrics");
    struct hparams_info *hi = calloc(nh ? nh : 1, sizeof *hi);
    struct hparams_metric *mi = calloc(nm ? nm : 1, sizeof *mi);
    struct hparams_value **dom = calloc(nh ? nh : 1, sizeof *dom);
    int r = 0;
    if (!hi || !mi || !dom) {
        r = fail(c, -ENOMEM, "out of memory");
        goto out;
    }
    size_t i = 0;
    for (const cJSON *it = hp->child; it && r == 0; it = it->next, i++) {
        if (!cJSON_IsObject(it)) {
            r = fail(c, -EINVAL, "\"hparams\" items must be objects");
            break;
        }
        if ((r = only_keys(c, it, "hparams item", hkeys)) < 0)
            break;
        const char *type = NULL;
        r = get_string(c, it, "name", "hparams item", &hi[i].name);
        if (r == 0)
            r = get_string(c, it, "display_name", "hparams item", &hi[i].display_name);
        if (r == 0)
            r = get_string(c, it, "description", "hparams item", &hi[i].description);
        if (r == 0)
            r = get_string(c, it, "type", "hparams item", &type);
        if (r < 0)
            break;
        if (!hi[i].name) {
            r = fail(c, -EINVAL, "every hparams item needs a \"name\"");
            break;
        }
        if (type) {
            int t = hparams_type_of(type);
            if (t < 0) {
                r = fail_at(c, -EINVAL,
                         "hparam", hi[i].name,
                         "\"type\" must be \"string\", \"bool\" or \"float\"");
                break;
            }
            hi[i].type = (enum hparams_type)t;
        }
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
        bool hmin = false, hmax = false;
        r = get_number(c, it, "min", "hparams item", &hmin, &hi[i].min_value);
        if (r == 0)
            r = get_number(c, it, "max", "hparams item", &hmax, &hi[i].max_value);
        if (r < 0)
            break;
        if (vals && (hmin || hmax)) {
            r = fail_at(c, -EINVAL, "hparam", hi[i].name,
                        "a domain is \"values\" or \"min\"/\"max\"");
            break;
        }
        if (hmin != hmax) {
            r = fail_at(c, -EINVAL, "hparam", hi[i].name,
                        "an interval needs both \"min\" and \"max\"");
            break;
        }
        if (hmin) {
            hi[i].domain = HPARAMS_DOMAIN_INTERVAL;
            if (!type)
                hi[i].type = HPARAMS_TYPE_FLOAT64;
        } else if (vals) {
            if (!cJSON_IsArray(vals) ||
                (size_t)cJSON_GetArraySize(vals) > HPARAMS_MAX_DOMAIN_VALUES) {
                r = fail_at(c, -EINVAL, "hparam", hi[i].name, "\"values\" must be an array");
                break;
            }
            size_t nv = (size_t)cJSON_GetArraySize(vals);
            dom[i] = calloc(nv ? nv : 1, sizeof **dom);
            if (!dom[i]) {
                r = fail(c, -ENOMEM, "out of memory");
                break;
            }
            size_t k = 0;
            for (const cJSON *e = vals->child; e && r == 0; e = e->next, k++)
                r = hparam_value(c, e, hi[i].name, &dom[i][k]);
            hi[i].domain = HPARAMS_DOMAIN_DISCRETE;
            hi[i].values = dom[i];
            hi[i].n_values = nv;
            if (r == 0 && !type && nv > 0) {
                /* The type follows the values, as TensorBoard's hp.Discrete does. */
                hi[i].type = dom[i][0].kind == HPARAMS_STRING ? HPARAMS_TYPE_STRING
                             : dom[i][0].kind == HPARAMS_BOOL ? HPARAMS_TYPE_BOOL
                                                              : HPARAMS_TYPE_FLOAT64;
            }
        }
    }
    i = 0;
    for (const cJSON *it = mt ? mt->child : NULL; it && r == 0; it = it->next, i++) {
        if (!cJSON_IsObject(it)) {
            r = fail(c, -EINVAL, "\"metrics\" items must be objects");
            break;
        }
        if ((r = only_keys(c, it, "metrics item", mkeys)) < 0)
            break;
        const char *ds = NULL;
        r = get_string(c, it, "tag", "metrics item", &mi[i].tag);
        if (r == 0)
            r = get_string(c, it, "group", "metrics item", &mi[i].group);
        if (r == 0)
            r = get_string(c, it, "display_name", "metrics item", &mi[i].display_name);
        if (r == 0)
            r = get_string(c, it, "description", "metrics item", &mi[i].description);
        if (r == 0)
            r = get_string(c, it, "dataset_type", "metrics item", &ds);
        if (r < 0)
            break;
        if (!mi[i].tag) {
            r = fail(c, -EINVAL, "every metrics item needs a \"tag\"");
            break;
        }
        if (ds && strcmp(ds, "training") == 0)
            mi[i].dataset_type = HPARAMS_DATASET_TRAINING;
        else if (ds && strcmp(ds, "validation") == 0)
            mi[i].dataset_type = HPARAMS_DATASET_VALIDATION;
        else if (ds)
            r = fail_at(c, -EINVAL, "metric", mi[i].tag, "\"dataset_type\" must be \"training\" or "
                     "\"validation\"");
    }
    if (r == 0) {
        struct hparams_experiment e = {0};
        bool has;
        r = get_string(c, root, "name", "hparams_config", &e.name);
        if (r == 0)
            r = get_string(c, root, "description", "hparams_config", &e.description);
        if (r == 0)
            r = get_string(c, root, "user", "hparams_config", &e.user);
        if (r == 0)
            r = get_number(c, root, "time_created_secs", "hparams_config", &has,
                           &e.time_created_secs);
        if (r == 0) {
            if (!has)
                e.time_created_secs = c->m->has_wall_time ? c->m->wall_time : 0;
            e.hparams = hi;
            e.n_hparams = nh;
            e.metrics = mi;
            e.n_metrics = nm;
            r = summary_hparams_experiment(v, &e);
            if (r < 0)
                r = fail_builder(c, r, HPARAMS_TAG_EXPERIMENT, "hparams");
        }
    }
out:
    for (size_t k = 0; dom && k < nh; k++)
        free(dom[k]);
    free(dom);
    free(hi);
    free(mi);
    return r;
}

static int decode_session_end(struct ctx *c, const cJSON *root, struct summary_value *v)
{
    static const char *const names[] = {"unknown", "success", "failure", "running"};
    const char *status = NULL;
    int r = get_string(c, root, "status", "hparams_session_end", &status);
    if (r < 0)
        return r;
    int st = -1;
    for (int i = 0; status && i < 4; i++)
        if (strcmp(status, names[i]) == 0)
            st = i;
    if (st < 0)
        return fail(c, -EINVAL,
                    "\"status\" must be \"success\", \"failure\", \"running\" or \"unknown\"");
    bool has;
    double end = 0;
    r = get_number(c, root, "end_time_secs", "hparams_session_end", &has, &end);
    if (r < 0)
        return r;
    if (!has)
        end = c->m->has_wall_time ? c->m->wall_time : 0;
    r = summary_hparams_session_end(v, (enum hparams_status)st, end);
    return r < 0 ? fail_builder(c, r, HPARAMS_TAG_SESSION_END, "hparams") : 0;
}

/* ---- the envelope ------------------------------------------------------- */

static int read_id(struct ctx *c, const cJSON *id)
{
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
        return fail(c, -EINVAL, "\"id\" must be a number or a string");
    if (cJSON_IsNumber(id) && !isfinite(id->valuedouble))
        return fail(c, -EINVAL, "\"id\" must be finite");
    char *text = cJSON_PrintUnformatted(id);
    if (!text)
        return fail(c, -ENOMEM, "out of memory");
    size_t len = strlen(text);
    if (len > REQUEST_MAX_ID) {
        cJSON_free(text);
        return fail(c, -EMSGSIZE, "\"id\" is longer than %u bytes", REQUEST_MAX_ID);
    }
    memcpy(c->m->id, text, len + 1);
    c->m->has_id = true;
    cJSON_free(text);
    return 0;
}

static int read_name(struct ctx *c, const cJSON *it, const char *field, char *out)
{
    if (!cJSON_IsString(it))
        return fail(c, -EINVAL, "\"%s\" must be a string", field);
    if (!utf8_valid(it->valuestring, strlen(it->valuestring)))
        return fail(c, -EILSEQ, "\"%s\" is not valid UTF-8", field);
    const char *why = NULL;
    int r = logdir_normalize(it->valuestring, strlen(it->valuestring), out,
                             LOGDIR_MAX_NAME + 1, &why);
    if (r < 0)
        return fail_at(c, r == -ENAMETOOLONG ? -EMSGSIZE : -EINVAL, field,
                       it->valuestring, "%s", why ? why : "invalid");
    return 0;
}

static int decode_root(struct ctx *c, const cJSON *root)
{
    struct request *m = c->m;
    unsigned seen = 0;
    const cJSON *op = NULL;

    /* The id first, so that every error can carry it. */
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (id) {
        int r = read_id(c, id);
        if (r < 0)
            return r;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if (strcmp(it->string, field_names[i].name) == 0)
                bit = field_names[i].bit;
        if (!bit)
            return fail(c, -EINVAL, "unknown field \"%s\"", it->string);
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return fail(c, -EINVAL, "field \"%s\" given twice", it->string);
        seen |= bit;
        if (bit == F_OP)
            op = it;
    }

    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
    if (v && !(cJSON_IsNumber(v) && v->valuedouble == PROTOCOL_VERSION))
        return fail(c, -EINVAL, "unsupported protocol version (\"v\" must be %d)",
                    PROTOCOL_VERSION);

    size_t opi = 0;
    if (op) {
        if (!cJSON_IsString(op))
            return fail(c, -EINVAL, "\"op\" must be a string");
        size_t nops = sizeof ops / sizeof ops[0];
        for (opi = 0; opi < nops; opi++)
            if (strcmp(ops[opi].name, op->valuestring) == 0)
                break;
        if (opi == nops)
            return fail(c, -EINVAL,
                        "unknown op \"%.64s\" (known: log, step_get, step_set, flush, "
                        "hparams_config, hparams_session_start, hparams_session_end, restart, "
                        "close, ping, stats)",
                        op->valuestring);
    }
    m->op = ops[opi].op;
    unsigned extra = seen & ~ops[opi].allowed;
    if (extra) {
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if ((extra & field_names[i].bit) &&
                cJSON_GetObjectItemCaseSensitive(root, field_names[i].name))
                return fail(c, -EINVAL, "field \"%s\" does not belong to op \"%s\"",
                            field_names[i].name, ops[opi].name);
    }
    unsigned missing = ops[opi].required & ~seen;
    if (missing) {
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if (missing & field_names[i].bit)
                return fail(c, -EINVAL, "op \"%s\" needs \"%s\"", ops[opi].name,
                            field_names[i].name);
    }

    int r;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "logdir"))) {
        if ((r = read_name(c, it, "logdir", m->logdir)) < 0)
            return r;
        m->has_logdir = true;
    }
    strcpy(m->run, ".");
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "run"))) {
        if ((r = read_name(c, it, "run", m->run)) < 0)
            return r;
        m->has_run = true;
    }
    m->step_mode = LOGDIR_STEP_NEXT;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "step"))) {
        if (m->op == REQUEST_LOG && cJSON_IsString(it) && strcmp(it->valuestring, "current") == 0) {
            m->step_mode = LOGDIR_STEP_CURRENT;
        } else if (cJSON_IsNumber(it) && is_integer(it->valuedouble, JD_MAX_STEP)) {
            m->step_mode = LOGDIR_STEP_AT;
            m->step = (int64_t)it->valuedouble;
        } else if (m->op == REQUEST_STEP_SET && cJSON_IsNumber(it) && it->valuedouble == -1) {
            /* step_set -1 starts the counter over: the next step is 0. */
            m->step_mode = LOGDIR_STEP_AT;
            m->step = -1;
        } else {
            return fail(c, -EINVAL, "\"step\" must be an integer from 0 to 2^53%s",
                        m->op == REQUEST_LOG ? ", or \"current\"" : "");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "wall_time"))) {
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble < JD_MAX_WALL_TIME))
            return fail(c, -EINVAL, "\"wall_time\" must be seconds since 1970 (a number from 0 "
                        "to 1e10)");
        m->has_wall_time = true;
        m->wall_time = it->valuedouble;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "sync"))) {
        if (!cJSON_IsBool(it))
            return fail(c, -EINVAL, "\"sync\" must be true or false");
        m->sync = cJSON_IsTrue(it);
    }

    struct summary_value *sv;
    switch (m->op) {
    case REQUEST_LOG:
        it = cJSON_GetObjectItemCaseSensitive(root, "values");
        if (!cJSON_IsObject(it))
            return fail(c, -EINVAL, "\"values\" must be an object of name: value");
        if (!it->child)
            return fail(c, -EINVAL, "\"values\" is empty");
        c->depth = 0;
        return values_of(c, it, ".");
    case REQUEST_HPARAMS_CONFIG:
        if ((r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_experiment(c, root, sv);
    case REQUEST_HPARAMS_SESSION_START:
        if ((r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_session_start(c, root, sv);
    case REQUEST_HPARAMS_SESSION_END:
        if ((r = add_value(c, m->run, &sv)) < 0)
            return r;
        return decode_session_end(c, root, sv);
    default:
        return 0;
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
    struct ctx c = {.m = m, .err = err, .err_size = err_size};
    request_recycle(m);
    err[0] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!root) {
        const char *at = end;
        if (at && at >= line && at <= line + len)
            return fail(&c, -EBADMSG, "invalid JSON (at byte %zu)", (size_t)(at - line) + 1);
        return fail(&c, -EBADMSG, "invalid JSON");
    }
    /* cJSON stops after the first value; anything but spaces after it
     * means the line was not one JSON object. */
    while (end && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (end && end < line + len) {
        cJSON_Delete(root);
        return fail(&c, -EBADMSG, "invalid JSON (extra data at byte %zu)",
                    (size_t)(end - line) + 1);
    }
    int r;
    if (!cJSON_IsObject(root))
        r = fail(&c, -EBADMSG, "a message must be a JSON object");
    else
        r = decode_root(&c, root);
    cJSON_Delete(root);
    return r;
}
