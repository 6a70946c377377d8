/* The readers of the JSON translation (json_read.h). */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_packed.h"

/* p (malloc'd, may be NULL) becomes the translation's, freed at its end. */
void *json_read_own(struct json_read *c, void *p)
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
void *json_read_alloc(struct json_read *c, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    size_t align = _Alignof(max_align_t);
    size_t at = (c->arena_used + align - 1) & ~(align - 1);
    if (at <= JSON_READ_ARENA && size > 0 && n <= (JSON_READ_ARENA - at) / size) {
        void *p = c->arena + at;
        c->arena_used = at + n * size;
        memset(p, 0, n * size);
        return p;
    }
    return json_read_own(c, calloc(n, size));
}

void json_read_done(struct json_read *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
}

void *json_read_new(struct json_read *c, size_t size, const void *init)
{
    void *p = json_read_alloc(c, 1, size);
    if (p)
        memcpy(p, init, size);
    return p;
}

/* ---- small field readers ------------------------------------------------ */

bool json_read_is_integer(double d, double max)
{
    return isfinite(d) && d >= 0 && d <= max && floor(d) == d;
}

/* A JSON number as a Request's unsigned or signed integer field; a value
 * the field cannot hold becomes one the shared check refuses. */
uint64_t json_read_u64(const cJSON *it)
{
    if (cJSON_IsNumber(it) && json_read_is_integer(it->valuedouble, 0x1p63))
        return (uint64_t)it->valuedouble;
    return JSON_READ_POISON_U64;
}

int64_t json_read_i64(const cJSON *it)
{
    if (!cJSON_IsNumber(it))
        return JSON_READ_POISON_I64;
    double d = it->valuedouble;
    return isfinite(d) && floor(d) == d && fabs(d) < 0x1p62 ? (int64_t)d : JSON_READ_POISON_I64;
}

int json_read_string(struct json_read *c, const cJSON *obj, const char *key, const char *where,
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

int json_read_number(struct json_read *c, const cJSON *obj, const char *key, const char *where,
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
int json_read_u32(struct json_read *c, const cJSON *obj, const char *key, const char *where,
                  uint32_t poison, protobuf_c_boolean *present, uint32_t *ret)
{
    double d = 0;
    int r = json_read_number(c, obj, key, where, present, &d);
    if (r == 0 && *present)
        *ret = json_read_is_integer(d, UINT32_MAX) ? (uint32_t)d : poison;
    return r;
}

/* Every key of obj must be in the NULL-terminated list. */
int json_read_keys(struct json_read *c, const cJSON *obj, const char *where,
                   const char *const *keys)
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


static int flatten(struct json_read *c, const cJSON *arr, struct json_read_array *a, size_t level,
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

int json_read_numbers(struct json_read *c, const cJSON *it, const char *where,
                      struct json_read_array *a)
{
    if (json_packed_is(it))
        return json_packed_numbers(c, it, where, a);
    memset(a, 0, sizeof *a);
    if (!cJSON_IsArray(it))
        return FAIL(-EINVAL, "%s must be an array of numbers", where);
    int r = flatten(c, it, a, 0, where);
    if (a->v && !json_read_own(c, a->v)) {
        a->v = NULL;
        return FAIL(-ENOMEM, "out of memory");
    }
    return r;
}

/* The shape of a Request's array: an explicit "shape" if given, else the
 * nesting of the JSON arrays. *ret (owned), *ret_n sizes. */
int json_read_shape(struct json_read *c, const cJSON *obj, const struct json_read_array *a,
                    const char *where, uint64_t **ret, size_t *ret_n)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    size_t rank = s ? (size_t)cJSON_GetArraySize(s) : a->rank;
    if (s && (!cJSON_IsArray(s) || rank < 1 || rank > SUMMARY_MAX_RANK))
        return FAIL(-EINVAL, "%s: \"shape\" must be an array of 1 to %u sizes", where,
                    SUMMARY_MAX_RANK);
    uint64_t *dims = json_read_alloc(c, rank, sizeof *dims);
    if (!dims)
        return FAIL(-ENOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *it = s ? s->child : NULL; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || !json_read_is_integer(it->valuedouble,
            (double)REQUEST_MAX_ARRAY))
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
int json_read_base64(struct json_read *c, const cJSON *it, const char *where,
                     ProtobufCBinaryData *ret)
{
    if (!cJSON_IsString(it))
        return FAIL(-EINVAL, "%s must be a base64 string", where);
    const char *s = it->valuestring;
    size_t len = strlen(s);
    size_t n = BASE64_DECODE_LENGTH(len) + 1;
    uint8_t *out = json_read_alloc(c, n, 1);
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
int json_read_blobs(struct json_read *c, const cJSON *it, const char *where,
                    ProtobufCBinaryData **ret, size_t *ret_n)
{
    size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 1;
    ProtobufCBinaryData *b = json_read_alloc(c, n, sizeof *b);
    if (!b)
        return FAIL(-ENOMEM, "out of memory");
    const cJSON *e = cJSON_IsArray(it) ? it->child : it;
    for (size_t i = 0; i < n; i++, e = e->next) {
        int r = json_read_base64(c, e, where, &b[i]);
        if (r < 0)
            return r;
    }
    *ret = b;
    *ret_n = n;
    return 0;
}

