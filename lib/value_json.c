/* value_json: a decoded value (value.h) as JSON -- the golden "expected"
 * layout, plugin content in protobuf's JSON mapping, and numbers printed
 * so that they read back exactly. */
#include "value_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "shortest.h"

#include "hparams.pb-c.h"
#include "pbwire.h"
#include "plugins.pb-c.h"
#include "struct.pb-c.h"
#include "types.pb-c.h"
#include "utf8.h"

/* ------------------------------------------------------------------ SHA-256 */

void value_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof digest, digest);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof digest; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there
 * are not one; *ret_bad gets how many bytes form the maximal invalid
 * subpart (what one U+FFFD replaces). */
/* ------------------------------------------------------------------ JSON */

cJSON *value_json_number(double d)
{
    if (isnan(d))
        return cJSON_CreateString("NaN");
    if (isinf(d))
        return cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity");
    return cJSON_CreateNumber(d);
}

static cJSON *bytes_digest_json(const struct value_bytes *b)
{
    char hex[65];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    value_sha256_hex(b->data, b->len, hex);
    if (!cJSON_AddStringToObject(o, "sha256", hex) ||
        !cJSON_AddNumberToObject(o, "size", (double)b->len)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *string_json(const struct value_bytes *b, bool replace)
{
    if (!replace && !utf8_valid(b->data, b->len))
        return bytes_digest_json(b);
    char *s = utf8_replace(b->data, b->len);
    if (!s)
        return NULL;
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

/* Element i of v as JSON (generic and text rendering). */
static cJSON *element_json(const struct decoded_value *v, size_t i)
{
    if (v->dtype == TENSORBOARD__DATA_TYPE__DT_STRING)
        return string_json(&v->strings[i], v->kind == VALUE_TEXT);
    if (v->dtype == TENSORBOARD__DATA_TYPE__DT_BOOL)
        return cJSON_CreateBool(v->numbers[i] != 0);
    return value_json_number(v->numbers[i]);
}

/* Nested lists following the shape, elements from *pos on. */
static cJSON *nest_json(const struct decoded_value *v, size_t dim, size_t *pos)
{
    if (dim == v->shape.rank)
        return element_json(v, (*pos)++);
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    for (int64_t i = 0; i < v->shape.dims[dim]; i++) {
        cJSON *e = nest_json(v, dim + 1, pos);
        if (!e || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static bool all_digits(const struct value_bytes *b)
{
    if (b->len == 0)
        return false;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] < '0' || b->data[i] > '9')
            return false;
    return true;
}

static cJSON *image_dim_json(const struct value_bytes *b)
{
    if (all_digits(b)) {
        char tmp[64];
        size_t n = b->len < sizeof tmp - 1 ? b->len : sizeof tmp - 1;
        memcpy(tmp, b->data, n);
        tmp[n] = '\0';
        return cJSON_CreateNumber(strtod(tmp, NULL));
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = b->len > 1024 ? 1024 : b->len;   /* a size, not a blob */
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hex[b->data[i] >> 4];
        s[2 * i + 1] = hex[b->data[i] & 15];
    }
    s[2 * n] = '\0';
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "hex", s)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(s);
    return o;
}

static bool add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool push(cJSON *arr, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

cJSON *value_to_json(const struct decoded_value *v)
{
    cJSON *o = NULL, *arr = NULL;
    switch (v->kind) {
    case VALUE_EMPTY:
        return cJSON_CreateNull();
    case VALUE_INVALID:
        o = cJSON_CreateObject();
        if (o && !cJSON_AddStringToObject(o, "error", "undecodable tensor"))
            goto fail;
        return o;
    case VALUE_SCALAR:
        return value_json_number(v->scalar);
    case VALUE_HISTOGRAM:
        arr = cJSON_CreateArray();
        if (!arr)
            return NULL;
        for (size_t i = 0; i + 2 < v->n_numbers; i += 3) {
            cJSON *row = cJSON_CreateArray();
            if (!push(arr, row))
                goto fail;
            for (size_t j = 0; j < 3; j++)
                if (!push(row, value_json_number(v->numbers[i + j])))
                    goto fail;
        }
        return arr;
    case VALUE_IMAGE:
        o = cJSON_CreateObject();
        if (!o)
            return NULL;
        if (!add(o, "width", image_dim_json(&v->strings[0])) ||
            !add(o, "height", image_dim_json(&v->strings[1])) ||
            !cJSON_AddNumberToObject(o, "count", (double)(v->n_strings - 2)))
            goto fail;
        arr = cJSON_AddArrayToObject(o, "sha256");
        if (!arr)
            goto fail;
        for (size_t i = 2; i < v->n_strings; i++) {
            char hex[65];
            value_sha256_hex(v->strings[i].data, v->strings[i].len, hex);
            if (!push(arr, cJSON_CreateString(hex)))
                goto fail;
        }
        return o;
    case VALUE_AUDIO:
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddNumberToObject(o, "count", (double)v->n_clips))
            goto fail;
        arr = cJSON_AddArrayToObject(o, "clips");
        if (!arr)
            goto fail;
        for (size_t i = 0; i < v->n_clips; i++) {
            const struct value_clip *c = &v->clips[i];
            if (!c->is_wav) {
                if (!push(arr, bytes_digest_json(&c->bytes)))
                    goto fail;
                continue;
            }
            char hex[65];
            cJSON *cj = cJSON_CreateObject();
            if (!push(arr, cj))
                goto fail;
            value_sha256_hex(c->bytes.data, c->bytes.len, hex);
            if (!cJSON_AddNumberToObject(cj, "sample_rate", c->sample_rate) ||
                !cJSON_AddNumberToObject(cj, "channels", c->channels) ||
                !cJSON_AddNumberToObject(cj, "frames", (double)c->frames) ||
                !cJSON_AddStringToObject(cj, "sha256", hex))
                goto fail;
        }
        return o;
    case VALUE_HPARAMS:
        return cJSON_Duplicate(v->hparams, 1);
    case VALUE_TEXT:
    case VALUE_TENSOR: {
        size_t pos = 0;
        size_t have = v->dtype == TENSORBOARD__DATA_TYPE__DT_STRING ? v->n_strings : v->n_numbers;
        if (have < v->shape.count)
            return NULL;
        return nest_json(v, 0, &pos);
    }
    }
    return NULL;
fail:
    cJSON_Delete(o ? o : arr);
    return NULL;
}

/* ------------------------------------------------------------------ plugin content JSON */

static cJSON *b64_json(const uint8_t *data, size_t len)
{
    if (len > (SIZE_MAX / 4) * 3 - 3)
        return NULL;
    char *s = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
    if (!s)
        return NULL;
    base64_encode_raw(s, len, data);
    s[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static cJSON *message_json(const ProtobufCMessage *m, int depth);

static bool is_map_entry(const ProtobufCMessageDescriptor *d)
{
    size_t n = strlen(d->name);
    return d->n_fields == 2 && n > 5 && strcmp(d->name + n - 5, "Entry") == 0 &&
           strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

/* google.protobuf.Value / ListValue / Struct as plain JSON. */
static cJSON *pbvalue_json(const Google__Protobuf__Value *v, int depth);

static cJSON *pblist_json(const Google__Protobuf__ListValue *l, int depth)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    for (size_t i = 0; l && i < l->n_values; i++)
        if (!push(arr, pbvalue_json(l->values[i], depth + 1))) {
            cJSON_Delete(arr);
            return NULL;
        }
    return arr;
}

static cJSON *pbstruct_json(const Google__Protobuf__Struct *s, int depth)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; s && i < s->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = s->fields[i];
        cJSON_DeleteItemFromObjectCaseSensitive(o, e->key);   /* last one wins */
        if (!add(o, e->key, pbvalue_json(e->value, depth + 1))) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *pbvalue_json(const Google__Protobuf__Value *v, int depth)
{
    if (!v || depth > VALUE_MAX_JSON_DEPTH)
        return cJSON_CreateNull();
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        return value_json_number(v->number_value);
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        return cJSON_CreateString(v->string_value);
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        return cJSON_CreateBool(v->bool_value);
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        return pbstruct_json(v->struct_value, depth);
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        return pblist_json(v->list_value, depth);
    default:
        return cJSON_CreateNull();
    }
}

/* One element of a field (at p, of field f) as JSON. */
static cJSON *field_elem_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    char num[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return cJSON_CreateNumber(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return cJSON_CreateNumber(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)p);
        return cJSON_CreateString(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)p);
        return cJSON_CreateString(num);
    case PROTOBUF_C_TYPE_FLOAT:
        return value_json_number(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return value_json_number(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return cJSON_CreateBool(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int e = *(const int *)p;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, e);
        return ev ? cJSON_CreateString(ev->name) : cJSON_CreateNumber(e);
    }
    case PROTOBUF_C_TYPE_STRING:
        return cJSON_CreateString(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return b64_json(b->data, b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
        const ProtobufCMessageDescriptor *d = f->descriptor;
        if (depth > VALUE_MAX_JSON_DEPTH)
            return cJSON_CreateNull();
        if (d == &google__protobuf__value__descriptor)
            return pbvalue_json((const Google__Protobuf__Value *)sub, depth + 1);
        if (d == &google__protobuf__list_value__descriptor)
            return pblist_json((const Google__Protobuf__ListValue *)sub, depth + 1);
        if (d == &google__protobuf__struct__descriptor)
            return pbstruct_json((const Google__Protobuf__Struct *)sub, depth + 1);
        if (!sub)
            return cJSON_CreateObject();
        return message_json(sub, depth + 1);
    }
    }
    return cJSON_CreateNull();
}

static bool field_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
        return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_STRING:
        return !*(char *const *)p || !**(char *const *)p;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)p == NULL;
    }
    return false;
}

static size_t field_elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

/* Generic protobuf JSON mapping over protobuf-c's reflection data. */
static cJSON *message_json(const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        const void *member = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *arr = *(const char *const *)member;
            if (n == 0)
                continue;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor)) {
                const ProtobufCMessageDescriptor *ed = f->descriptor;
                cJSON *map = cJSON_CreateObject();
                if (!add(o, f->name, map))
                    goto fail;
                for (size_t k = 0; k < n; k++) {
                    const char *entry = ((const char *const *)arr)[k];
                    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
                    cJSON *key = field_elem_json(kf, entry + kf->offset, depth);
                    if (!key)
                        goto fail;   /* out of memory */
                    char kbuf[64];
                    const char *ks = "";
                    if (key && cJSON_IsString(key))
                        ks = key->valuestring;
                    else if (key && cJSON_IsNumber(key)) {
                        snprintf(kbuf, sizeof kbuf, "%.17g", key->valuedouble);
                        ks = kbuf;
                    }
                    cJSON_DeleteItemFromObjectCaseSensitive(map, ks);
                    bool ok = add(map, ks, field_elem_json(vf, entry + vf->offset, depth));
                    cJSON_Delete(key);
                    if (!ok)
                        goto fail;
                }
                continue;
            }
            cJSON *list = cJSON_CreateArray();
            if (!add(o, f->name, list))
                goto fail;
            size_t sz = field_elem_size(f);
            for (size_t k = 0; k < n; k++)
                if (!push(list, field_elem_json(f, arr + k * sz, depth)))
                    goto fail;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
            if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
                continue;
        } else if (field_is_default(f, member)) {
            continue;
        }
        if (!add(o, f->name, field_elem_json(f, member, depth)))
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static const ProtobufCMessageDescriptor *plugin_content_descriptor(const char *plugin)
{
    static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *desc;
    } table[] = {
        {"scalars", &tensorboard__scalar_plugin_data__descriptor},
        {"images", &tensorboard__image_plugin_data__descriptor},
        {"audio", &tensorboard__audio_plugin_data__descriptor},
        {"histograms", &tensorboard__histogram_plugin_data__descriptor},
        {"text", &tensorboard__text_plugin_data__descriptor},
        {"hparams", &tensorboard__hparams__hparams_plugin_data__descriptor},
        {"pr_curves", &tensorboard__pr_curve_plugin_data__descriptor},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(plugin, table[i].name) == 0)
            return table[i].desc;
    return NULL;
}

cJSON *value_content_json(const char *plugin, const uint8_t *content, size_t len)
{
    const ProtobufCMessageDescriptor *d = plugin_content_descriptor(plugin ? plugin : "");
    static const uint8_t empty[1];
    if (!content)
        content = empty;
    if (!d) {
        cJSON *o = cJSON_CreateObject();
        if (o && len > 0 && !add(o, "base64", b64_json(content, len))) {
            cJSON_Delete(o);
            return NULL;
        }
        return o;
    }
    /* Out of memory is not "undecodable": pb_unpack() tells them apart. */
    ProtobufCMessage *m;
    int ur = pb_unpack(d, content, len, &m);
    if (ur == -ENOMEM)
        return NULL;
    if (ur < 0) {
        cJSON *o = cJSON_CreateObject();
        if (o && !add(o, "undecodable_base64", b64_json(content, len))) {
            cJSON_Delete(o);
            return NULL;
        }
        return o;
    }
    cJSON *j = message_json(m, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    return j;
}

cJSON *value_message_json(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                          bool *ret_undecodable)
{
    static const uint8_t empty[1];
    ProtobufCMessage *m;
    int ur = pb_unpack(d, data ? data : empty, len, &m);
    *ret_undecodable = ur < 0 && ur != -ENOMEM;
    if (ur < 0)
        return NULL;
    cJSON *j = message_json(m, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    return j;
}

/* ------------------------------------------------------------------ exact printing */

/* digits (n decimal digits, most significant first, value
 * 0.d1d2...dn * 10^(exp10 + 1)... i.e. d1.d2...dn * 10^exp10) read back as
 * exactly d? Exact when the digits fit a double and 10^|exp| is exact
 * (Clinger's fast path: one correctly rounded operation); otherwise strtod
 * decides. */
static bool digits_read_back(const char *digits, int n, int exp10, bool neg, double d)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t m = 0;
    for (int i = 0; i < n; i++)
        m = m * 10 + (uint64_t)(digits[i] - '0');
    int e = exp10 - (n - 1);
    if (m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
        double v = e >= 0 ? (double)m * pow10[e] : (double)m / pow10[-e];
        return (neg ? -v : v) == d;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%s%c.%.*se%d", neg ? "-" : "", digits[0], n - 1, digits + 1, exp10);
    return strtod(tmp, NULL) == d;
}

/* Render digits (n significant, exponent exp10) as printf's %.{prec}g does:
 * fixed notation when -4 <= exp10 < prec, else d.ddde+XX; trailing zeros
 * and a bare decimal point dropped. */
static int format_g(char *buf, size_t size, const char *digits, int n, int exp10, bool neg,
                    int prec)
{
    while (n > 1 && digits[n - 1] == '0')
        n--;
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp10 >= -4 && exp10 < prec) {
        if (exp10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > exp10; i--)
                out[o++] = '0';
            for (int i = 0; i < n; i++)
                out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++)
                out[o++] = i < n ? digits[i] : '0';
            if (n > exp10 + 1) {
                out[o++] = '.';
                for (int i = exp10 + 1; i < n; i++)
                    out[o++] = digits[i];
            }
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (n > 1) {
            out[o++] = '.';
            for (int i = 1; i < n; i++)
                out[o++] = digits[i];
        }
        snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
    }
    return snprintf(buf, size, "%s", out);
}

int value_format_double(char *buf, size_t size, double d)
{
    if (isnan(d))
        return snprintf(buf, size, "NaN");
    if (isinf(d))
        return snprintf(buf, size, d > 0 ? "Infinity" : "-Infinity");
    /* Wall times and other large doubles: exactly, without printf. */
    int fast = shortest_double(buf, size, d, 15, 17);
    if (fast >= 0)
        return fast;
    /* The shortest of 15..17 significant digits that reads back exactly,
     * written as %.{15,16,17}g would. Collecting millions of rows made the
     * obvious loop (printf and strtod per precision) the bottleneck, so
     * the digits are printed once, at 17 places, and the 15- and 16-digit
     * candidates are rounded from them: that matches printf's own rounding
     * of the exact value unless the dropped digits are exactly 5 or 50 (a
     * tie at 17 digits may hide a remainder), which goes the slow way. */
    char e17[40];
    snprintf(e17, sizeof e17, "%.16e", d);
    bool neg = e17[0] == '-';
    const char *p = e17 + neg;
    char digits[18];
    digits[0] = p[0];
    memcpy(digits + 1, p + 2, 16);
    digits[17] = '\0';
    int exp10 = atoi(p + 19);
    for (int prec = 15; prec <= 17; prec++) {
        char cand[18];
        int cexp = exp10;
        memcpy(cand, digits, 17);
        if (prec < 17) {
            const char *drop = digits + prec;
            bool tie = drop[0] == '5' && (prec == 16 || drop[1] == '0');
            if (tie) {
                int n = snprintf(buf, size, "%.*g", prec, d);
                if (n < 0 || (size_t)n >= size || strtod(buf, NULL) == d)
                    return n;
                continue;
            }
            if (drop[0] >= '5') {
                /* Round up, carrying; 99..9 becomes 10..0 one decade up. */
                int i = prec - 1;
                while (i >= 0 && cand[i] == '9')
                    cand[i--] = '0';
                if (i >= 0) {
                    cand[i]++;
                } else {
                    memmove(cand + 1, cand, (size_t)prec - 1);
                    cand[0] = '1';
                    cexp++;
                }
            }
        }
        if (prec == 17 || digits_read_back(cand, prec, cexp, neg, d))
            return format_g(buf, size, cand, prec, cexp, neg, prec);
    }
    return -1;   /* not reached: 17 digits always read back */
}

static int print_string(struct buf *out, const char *s)
{
    int r = buf_append(out, "\"", 1);
    const char *run = s;
    for (; r == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        r = buf_append(out, run, (size_t)(s - run));
        if (r < 0)
            break;
        switch (c) {
        case '"': r = buf_append_str(out, "\\\""); break;
        case '\\': r = buf_append_str(out, "\\\\"); break;
        case '\n': r = buf_append_str(out, "\\n"); break;
        case '\r': r = buf_append_str(out, "\\r"); break;
        case '\t': r = buf_append_str(out, "\\t"); break;
        case '\b': r = buf_append_str(out, "\\b"); break;
        case '\f': r = buf_append_str(out, "\\f"); break;
        default: r = buf_printf(out, "\\u%04x", c); break;
        }
        run = s + 1;
    }
    if (r == 0)
        r = buf_append(out, run, (size_t)(s - run));
    if (r == 0)
        r = buf_append(out, "\"", 1);
    return r;
}

static int print_json(struct buf *out, const cJSON *j, int depth)
{
    int r = 0;
    if (depth > VALUE_MAX_JSON_DEPTH * 4)
        return buf_append_str(out, "null");
    if (cJSON_IsNumber(j)) {
        char num[64];
        double d = j->valuedouble;
        if (!isfinite(d))
            return buf_append_str(out, "null");
        value_format_double(num, sizeof num, d);
        return buf_append_str(out, num);
    }
    if (cJSON_IsString(j))
        return print_string(out, j->valuestring ? j->valuestring : "");
    if (cJSON_IsTrue(j))
        return buf_append_str(out, "true");
    if (cJSON_IsFalse(j))
        return buf_append_str(out, "false");
    if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        bool obj = cJSON_IsObject(j);
        r = buf_append(out, obj ? "{" : "[", 1);
        for (const cJSON *c = j->child; r == 0 && c; c = c->next) {
            if (c != j->child)
                r = buf_append(out, ",", 1);
            if (r == 0 && obj) {
                r = print_string(out, c->string ? c->string : "");
                if (r == 0)
                    r = buf_append(out, ":", 1);
            }
            if (r == 0)
                r = print_json(out, c, depth + 1);
        }
        if (r == 0)
            r = buf_append(out, obj ? "}" : "]", 1);
        return r;
    }
    return buf_append_str(out, "null");
}

int value_json_print(struct buf *out, const cJSON *j)
{
    return print_json(out, j, 0);
}
