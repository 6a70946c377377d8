/* Packed arrays of the JSON protocol (json_packed.h). */
#include "json_packed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

enum elem { E_U8, E_I16, E_F32, E_F64 };

static const struct {
    const char *key;
    size_t size;
} elems[] = {[E_U8] = {"u8", 1}, [E_I16] = {"i16", 2}, [E_F32] = {"f32", 4}, [E_F64] = {"f64", 8}};

bool json_packed_is(const cJSON *it)
{
    return cJSON_IsObject(it);
}

/* Element i of the little-endian bytes p, as a double. */
static double element(const uint8_t *p, enum elem e)
{
    switch (e) {
    case E_U8:
        return p[0];
    case E_I16:
        return (int16_t)(uint16_t)(p[0] | p[1] << 8);
    case E_F32: {
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default: {
        uint64_t u = 0;
        for (int k = 7; k >= 0; k--)
            u = u << 8 | p[k];
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
}

/* The decoded bytes are written at the end of the block that will hold
 * the doubles, and widened front to back in place: element i is read
 * before double i is written, and double i never reaches element i + 1
 * (the block has 8 - size bytes of slack per element before the bytes). */
int json_packed_numbers(struct json_read *c, const cJSON *it, const char *where,
                        struct json_read_array *a)
{
    memset(a, 0, sizeof *a);
    const cJSON *k = it->child;
    size_t e = sizeof elems / sizeof elems[0];
    if (k && !k->next)
        for (e = 0; e < sizeof elems / sizeof elems[0]; e++)
            if (strcmp(k->string, elems[e].key) == 0)
                break;
    if (e == sizeof elems / sizeof elems[0])
        return FAIL(-EINVAL, "%s: a packed array is an object with one key, \"u8\", \"i16\", "
                    "\"f32\" or \"f64\"", where);
    if (!cJSON_IsString(k))
        return FAIL(-EINVAL, "%s: packed \"%s\" must be a base64 string", where, k->string);
    size_t size = elems[e].size;
    size_t len = strlen(k->valuestring);
    /* The elements the text holds if it is valid (exact once the padding
     * is set aside, so that an array at the limit is not refused for its
     * '='), and the most bytes the decoder may write whatever it holds. */
    size_t pad = 0;
    while (pad < 2 && len - pad > 0 && k->valuestring[len - pad - 1] == '=')
        pad++;
    if (b64_decoded_max(len - pad) / size > JSON_PACKED_MAX_ELEMENTS - c->packed)
        return FAIL(-EMSGSIZE, "%s: more than %u packed elements in one message", where,
                    JSON_PACKED_MAX_ELEMENTS);
    size_t max = b64_decoded_max(len);
    size_t cap = (max + size - 1) / size;
    uint8_t *block = json_read_own(c, malloc(cap ? cap * sizeof(double) : 1));
    if (!block)
        return FAIL(-ENOMEM, "out of memory");
    uint8_t *bytes = block + cap * sizeof(double) - max;
    size_t got = 0;
    if (b64_decode(k->valuestring, len, bytes, &got) < 0)
        return FAIL(-EINVAL, "%s: packed \"%s\" is not valid base64 (standard alphabet, "
                    "no spaces)", where, k->string);
    if (got % size)
        return FAIL(-EINVAL, "%s: packed \"%s\" holds %zu bytes, not a whole number of "
                    "%zu-byte elements", where, k->string, got, size);
    size_t n = got / size;
    double *v = (double *)(void *)block;
    for (size_t i = 0; i < n; i++) {
        double d = element(bytes + i * size, (enum elem)e);
        v[i] = d;
    }
    c->packed += n;
    a->v = v;
    a->n = a->cap = n;
    a->rank = 1;
    a->dims[0] = n;
    return 0;
}
