/* json_read: the pieces of the JSON translation (json_decode.h): the
 * state of one line's translation, with the memory the translated
 * tfevents.Request needs besides the cJSON tree's strings, and the readers
 * of JSON fields into Request fields. Errors are written as the shared
 * sentences (request_error()). Pure; no logging. */
#ifndef TFEVENTS_JSON_READ_H
#define TFEVENTS_JSON_READ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "tfwire.pb-c.h"

/* Out of range for the Request's fields: a JSON value a field cannot hold
 * becomes one the shared check refuses, with its sentence. */
#define JSON_READ_POISON_U64 UINT64_MAX
#define JSON_READ_POISON_I64 INT64_MIN
#define JSON_READ_POISON_ENUM 99

/* The translation of one line. */
/* Bytes of small allocations a translation serves from its own block
 * (struct json_read, on the caller's stack) before it calls malloc: a
 * line of a few values then costs no allocation for its Request. */
#define JSON_READ_ARENA 4096u

/* The translation of one line into a Request. */
struct json_read {
    struct request *m;
    char *err;
    size_t err_size;
    size_t depth;                 /* runs open in "values" */
    void **owned;                 /* freed with the translation */
    size_t n_owned, cap_owned;
    Tfevents__Value **values;     /* a log's values (json_read_alloc()) */
    size_t n_values, cap_values;
    size_t arena_used;            /* bytes of arena handed out */
    size_t packed;                /* packed array elements read (json_packed.h) */
    _Alignas(max_align_t) unsigned char arena[JSON_READ_ARENA];
};

/* In functions with a struct json_read *c: return FAIL(-EINVAL, "..."). */
#define FAIL(code, ...) request_error(c->err, c->err_size, (code), __VA_ARGS__)
#define FAIL_AT(code, what, name, ...) \
    request_error_at(c->err, c->err_size, (code), (what), (name), __VA_ARGS__)

/* A new protobuf-c message of type, a copy of init, owned. */
#define NEW(c, type, init) json_read_new((c), sizeof(type), &(init))

/* A numeric array, nested to any (rectangular) depth, flattened row-major
 * (owned). dims/rank get the nesting shape. */
struct json_read_array {
    double *v;
    size_t n, cap;
    size_t dims[SUMMARY_MAX_RANK];
    size_t rank;
};

/* p (malloc'd, may be NULL) becomes the translation's, freed at its end. */
void *json_read_own(struct json_read *c, void *p);

/* n zeroed elements of size bytes, owned; NULL: out of memory. */
void *json_read_alloc(struct json_read *c, size_t n, size_t size);

/* Free what the translation owns (the tree and m are the caller's). */
void json_read_done(struct json_read *c);

/* size bytes copied from init, owned (see NEW). */
void *json_read_new(struct json_read *c, size_t size, const void *init);

/* A whole number from 0 to max. */
bool json_read_is_integer(double d, double max);

/* A JSON number as a Request's unsigned or signed integer field; a value
 * the field cannot hold becomes one the shared check refuses. */
uint64_t json_read_u64(const cJSON *it);

int64_t json_read_i64(const cJSON *it);

/* obj[key] when it is there and not null: a string (*ret borrowed from the
 * tree) or -EINVAL "<where>: \"<key>\" must be a string". Absent: NULL. */
int json_read_string(struct json_read *c, const cJSON *obj, const char *key, const char *where,
                     char **ret);

/* The same for a number; *present says whether it was given. */
int json_read_number(struct json_read *c, const cJSON *obj, const char *key, const char *where,
                     protobuf_c_boolean *present, double *ret);

/* An optional number for an unsigned field; poison if it holds none. */
int json_read_u32(struct json_read *c, const cJSON *obj, const char *key, const char *where,
                  uint32_t poison, protobuf_c_boolean *present, uint32_t *ret);

/* Every key of obj must be in the NULL-terminated list. */
int json_read_keys(struct json_read *c, const cJSON *obj, const char *where,
                   const char *const *keys);

/* it as a numeric array, flattened into a->v (owned) with its nesting
 * shape, or a packed array ({"f64": "<base64>"}, json_packed.h: flat). */
int json_read_numbers(struct json_read *c, const cJSON *it, const char *where,
                      struct json_read_array *a);

/* The shape of a Request's array: an explicit "shape" if given, else the
 * nesting of the JSON arrays. *ret (owned), *ret_n sizes. */
int json_read_shape(struct json_read *c, const cJSON *obj, const struct json_read_array *a,
                    const char *where, uint64_t **ret, size_t *ret_n);

/* Base64 (standard alphabet, padding optional) into *ret (owned). */
int json_read_base64(struct json_read *c, const cJSON *it, const char *where,
                     ProtobufCBinaryData *ret);

/* One base64 string or an array of them. */
int json_read_blobs(struct json_read *c, const cJSON *it, const char *where,
                    ProtobufCBinaryData **ret, size_t *ret_n);

#endif
