/* event_scan: protobuf wire format -> Tensorboard__Event for common shapes.
 *
 * Every rule below mirrors what protobuf-c 1.4 does with the same bytes, or
 * declines (-ENOTSUP) where matching it would take more than a few lines:
 *   - field keys are one byte (every field handled has a number below 16);
 *   - varints are at most 10 bytes and keep their low 64 bits (int32 and
 *     enum fields their low 32 bits), as protobuf-c's parse_uint64/32 do;
 *   - length prefixes are at most 4 bytes, so they can neither wrap nor
 *     reach past the message: protobuf-c reads them the same way;
 *   - a singular field or oneof given twice is declined (protobuf-c keeps
 *     the last scalar but merges messages), as is a second chunk of a
 *     packed field or an unpacked repeated number;
 *   - any other field number or wire type is declined. */
#include "event_scan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pbfields.h"
#include "pbwire.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "tensor_shape.pb-c.h"

/* Length prefixes of up to this many bytes are read (values < 2^28). */
#define MAX_LEN_BYTES 4

/* Most of a small event's tree is carved from one block taken from the
 * allocator per event (a call through a function pointer each time would
 * cost more than the scan); what does not fit is allocated one by one. */
#define SCAN_BLOCK_MIN 1024u
#define SCAN_BLOCK_PER_BYTE 16u
#define SCAN_BLOCK_MAX (16u * 1024)

struct scan {
    ProtobufCAllocator *alloc;
    uint8_t *block;
    size_t left;
};

static inline void *scan_alloc(struct scan *s, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (size <= s->left) {
        void *p = s->block;
        s->block += size;
        s->left -= size;
        return p;
    }
    return s->alloc->alloc(s->alloc->allocator_data, size);
}

/* Copy a message template. gcc expands a constant-size copy or clear of
 * more than 64 bytes into `rep movs`/`rep stos`, whose start-up cost on
 * current x86 cores is several times what the libc routine takes for a few
 * hundred bytes, and every event needs a 272-byte TensorProto or two. The
 * empty asm hides the size from the compiler, so libc is called. */
static inline void copy_template(void *dst, const void *template, size_t size)
{
    __asm__("" : "+r"(size));
    memcpy(dst, template, size);
}

#define INIT_FROM(dst, template) copy_template((dst), &(template), sizeof(template))

/* Message templates: copying one is protobuf-c's __init() without the
 * call. */
static const Tensorboard__Event event_template = TENSORBOARD__EVENT__INIT;
static const Tensorboard__Summary summary_template = TENSORBOARD__SUMMARY__INIT;
static const Tensorboard__Summary__Value value_template = TENSORBOARD__SUMMARY__VALUE__INIT;
static const Tensorboard__SummaryMetadata metadata_template = TENSORBOARD__SUMMARY_METADATA__INIT;
static const Tensorboard__SummaryMetadata__PluginData plugin_data_template =
    TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
static const Tensorboard__TensorProto tensor_template = TENSORBOARD__TENSOR_PROTO__INIT;
static const Tensorboard__TensorShapeProto shape_template = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
static const Tensorboard__TensorShapeProto__Dim dim_template =
    TENSORBOARD__TENSOR_SHAPE_PROTO__DIM__INIT;

static inline int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *ret)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *ret = *p;
        *pp = p + 1;
        return 0;
    }
    uint64_t v = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++, shift += 7) {
        /* At i == 9 only bit 0 survives the shift, as in protobuf-c. */
        v |= (uint64_t)(p[i] & 0x7f) << shift;
        if (!(p[i] & 0x80)) {
            *ret = v;
            *pp = p + i + 1;
            return 0;
        }
    }
    return -ENOTSUP;
}

/* A length prefix, checked against what is left of the message. */
static inline int get_len(const uint8_t **pp, const uint8_t *end, size_t *ret)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        if (*p > (size_t)(end - p - 1))
            return -ENOTSUP;
        *ret = *p;
        *pp = p + 1;
        return 0;
    }
    size_t v = 0;
    for (unsigned i = 0; i < MAX_LEN_BYTES && p + i < end; i++) {
        v |= (size_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            p += i + 1;
            if (v > (size_t)(end - p))
                return -ENOTSUP;
            *pp = p;
            *ret = v;
            return 0;
        }
    }
    return -ENOTSUP;
}

/* Fields of a message the scanner reads at most once: a second one (a
 * merge that protobuf-c would do) makes the scan leave the record to
 * protobuf-c (-ENOTSUP). seen holds a bit per field. */
static inline bool once(unsigned *seen, unsigned bit)
{
    if (*seen & bit)
        return false;
    *seen |= bit;
    return true;
}

static inline int once_len(const uint8_t **pp, const uint8_t *end, unsigned *seen, unsigned bit,
                           size_t *ret)
{
    return once(seen, bit) ? get_len(pp, end, ret) : -ENOTSUP;
}

static inline int once_varint(const uint8_t **pp, const uint8_t *end, unsigned *seen,
                              unsigned bit, uint64_t *ret)
{
    return once(seen, bit) ? get_varint(pp, end, ret) : -ENOTSUP;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The low 32 bits of a varint as the int32 protobuf-c stores. */
static int32_t low_int32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    int32_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

static int new_string(struct scan *s, const uint8_t *p, size_t n, char **ret)
{
    char *str = scan_alloc(s, n + 1);
    if (!str)
        return -ENOMEM;
    memcpy(str, p, n);
    str[n] = '\0';
    *ret = str;
    return 0;
}

static void set_bytes(ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
    /* protobuf-c leaves data NULL for an empty bytes field. */
    b->data = n ? (uint8_t *)p : NULL;
    b->len = n;
}

/* Fields with key `key` in [p, end), walking all fields by wire type. */
static int count_key(const uint8_t *p, const uint8_t *end, uint8_t key, size_t *ret)
{
    size_t n = 0;
    while (p < end) {
        uint8_t k = *p++;
        uint64_t v;
        size_t len;
        if (k & 0x80)
            return -ENOTSUP;
        switch (k & 7) {
        case PB_VARINT:
            if (get_varint(&p, end, &v) < 0)
                return -ENOTSUP;
            break;
        case PB_FIXED64:
            if (end - p < 8)
                return -ENOTSUP;
            p += 8;
            break;
        case PB_LEN:
            if (get_len(&p, end, &len) < 0)
                return -ENOTSUP;
            p += len;
            break;
        case PB_FIXED32:
            if (end - p < 4)
                return -ENOTSUP;
            p += 4;
            break;
        default:
            return -ENOTSUP;
        }
        if (k == key && ++n > EVENT_SCAN_MAX_REPEATED)
            return -ENOTSUP;
    }
    *ret = n;
    return 0;
}

/* n messages of `size` bytes initialised from template, and the array of
 * pointers to them (protobuf-c's layout for repeated messages). */
static void **new_message_array(struct scan *s, size_t n, size_t size, const void *template)
{
    void **arr = scan_alloc(s, n * sizeof *arr);
    uint8_t *msgs = scan_alloc(s, n * size);
    if (!arr || !msgs)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        arr[i] = msgs + i * size;
        copy_template(arr[i], template, size);
    }
    return arr;
}

/* ------------------------------------------------------------------ messages */

static int scan_dim(struct scan *s, const uint8_t *p, const uint8_t *end,
                    Tensorboard__TensorShapeProto__Dim *d)
{
    unsigned seen = 0;
    while (p < end) {
        uint8_t k = *p++;
        uint64_t v;
        size_t n;
        int r;
        switch (k) {
        case PB_KEY(PBF_DIM_SIZE, PB_VARINT):   /* size */
            if (once_varint(&p, end, &seen, 1, &v) < 0)
                return -ENOTSUP;
            memcpy(&d->size, &v, sizeof v);
            break;
        case PB_KEY(PBF_DIM_NAME, PB_LEN):      /* name */
            if (once_len(&p, end, &seen, 2, &n) < 0)
                return -ENOTSUP;
            r = new_string(s, p, n, &d->name);
            if (r < 0)
                return r;
            p += n;
            break;
        default:
            return -ENOTSUP;
        }
    }
    return 0;
}

static int scan_shape(struct scan *s, const uint8_t *p, const uint8_t *end,
                      Tensorboard__TensorShapeProto *sh)
{
    size_t n_dim = 0;
    int r = count_key(p, end, PB_KEY(PBF_SHAPE_DIM, PB_LEN), &n_dim);
    if (r < 0)
        return r;
    if (n_dim > 0) {
        sh->dim = (Tensorboard__TensorShapeProto__Dim **)new_message_array(
            s, n_dim, sizeof **sh->dim, &dim_template);
        if (!sh->dim)
            return -ENOMEM;
    }
    while (p < end) {
        uint8_t k = *p++;
        size_t n;
        if (k != PB_KEY(PBF_SHAPE_DIM, PB_LEN) || get_len(&p, end, &n) < 0)
            return -ENOTSUP;   /* unknown_rank and anything else */
        r = scan_dim(s, p, p + n, sh->dim[sh->n_dim]);
        if (r < 0)
            return r;
        sh->n_dim++;
        p += n;
    }
    return 0;
}

/* A packed float or double field copied out of the payload (which need not
 * be aligned for the element type). */
static int packed_fixed(struct scan *s, const uint8_t *p, size_t n, size_t elem,
                        void **ret_arr, size_t *ret_count)
{
    if (n % elem != 0)
        return -ENOTSUP;
    if (n == 0)
        return 0;
    void *arr = scan_alloc(s, n);
    if (!arr)
        return -ENOMEM;
    if (elem == 4) {
        float *f = arr;
        for (size_t i = 0; i < n / 4; i++) {
            uint32_t u = le32(p + 4 * i);
            memcpy(&f[i], &u, 4);
        }
    } else {
        double *d = arr;
        for (size_t i = 0; i < n / 8; i++) {
            uint64_t u = le64(p + 8 * i);
            memcpy(&d[i], &u, 8);
        }
    }
    *ret_arr = arr;
    *ret_count = n / elem;
    return 0;
}

static int scan_tensor(struct scan *s, const uint8_t *p, const uint8_t *end,
                       Tensorboard__TensorProto *t)
{
    unsigned seen = 0;
    size_t n_strings = 0;
    bool strings_counted = false;
    while (p < end) {
        uint8_t k = *p++;
        uint64_t v;
        size_t n;
        int r;
        void *arr = NULL;
        switch (k) {
        case PB_KEY(PBF_TENSOR_DTYPE, PB_VARINT):   /* dtype */
            if (once_varint(&p, end, &seen, 1, &v) < 0)
                return -ENOTSUP;
            t->dtype = low_int32(v);
            break;
        case PB_KEY(PBF_TENSOR_SHAPE, PB_LEN):      /* tensor_shape */
            if (once_len(&p, end, &seen, 2, &n) < 0)
                return -ENOTSUP;
            t->tensor_shape = scan_alloc(s, sizeof *t->tensor_shape);
            if (!t->tensor_shape)
                return -ENOMEM;
            INIT_FROM(t->tensor_shape, shape_template);
            r = scan_shape(s, p, p + n, t->tensor_shape);
            if (r < 0)
                return r;
            p += n;
            break;
        case PB_KEY(PBF_TENSOR_CONTENT, PB_LEN):      /* tensor_content */
            if (once_len(&p, end, &seen, 4, &n) < 0)
                return -ENOTSUP;
            set_bytes(&t->tensor_content, p, n);
            p += n;
            break;
        case PB_KEY(PBF_TENSOR_FLOAT_VAL, PB_LEN):      /* float_val, packed */
            if (once_len(&p, end, &seen, 8, &n) < 0)
                return -ENOTSUP;
            r = packed_fixed(s, p, n, 4, &arr, &t->n_float_val);
            if (r < 0)
                return r;
            t->float_val = arr;
            p += n;
            break;
        case PB_KEY(PBF_TENSOR_DOUBLE_VAL, PB_LEN):      /* double_val, packed */
            if (once_len(&p, end, &seen, 16, &n) < 0)
                return -ENOTSUP;
            r = packed_fixed(s, p, n, 8, &arr, &t->n_double_val);
            if (r < 0)
                return r;
            t->double_val = arr;
            p += n;
            break;
        case PB_KEY(PBF_TENSOR_STRING_VAL, PB_LEN):      /* string_val, repeated */
            if (!strings_counted) {
                /* Count from here: earlier fields held none. */
                r = count_key(p - 1, end, PB_KEY(PBF_TENSOR_STRING_VAL, PB_LEN), &n_strings);
                if (r < 0)
                    return r;
                t->string_val = scan_alloc(s, n_strings * sizeof *t->string_val);
                if (!t->string_val)
                    return -ENOMEM;
                strings_counted = true;
            }
            if (get_len(&p, end, &n) < 0 || t->n_string_val >= n_strings)
                return -ENOTSUP;
            set_bytes(&t->string_val[t->n_string_val++], p, n);
            p += n;
            break;
        default:
            return -ENOTSUP;
        }
    }
    return 0;
}

static int scan_plugin_data(struct scan *s, const uint8_t *p, const uint8_t *end,
                            Tensorboard__SummaryMetadata__PluginData *pd)
{
    unsigned seen = 0;
    while (p < end) {
        uint8_t k = *p++;
        size_t n;
        int r;
        switch (k) {
        case PB_KEY(PBF_PLUGIN_NAME, PB_LEN):      /* plugin_name */
            if (once_len(&p, end, &seen, 1, &n) < 0)
                return -ENOTSUP;
            r = new_string(s, p, n, &pd->plugin_name);
            if (r < 0)
                return r;
            p += n;
            break;
        case PB_KEY(PBF_PLUGIN_CONTENT, PB_LEN):      /* content */
            if (once_len(&p, end, &seen, 2, &n) < 0)
                return -ENOTSUP;
            set_bytes(&pd->content, p, n);
            p += n;
            break;
        default:
            return -ENOTSUP;
        }
    }
    return 0;
}

static int scan_metadata(struct scan *s, const uint8_t *p, const uint8_t *end,
                         Tensorboard__SummaryMetadata *md)
{
    unsigned seen = 0;
    while (p < end) {
        uint8_t k = *p++;
        uint64_t v;
        size_t n;
        int r;
        switch (k) {
        case PB_KEY(PBF_META_PLUGIN_DATA, PB_LEN):      /* plugin_data */
            if (once_len(&p, end, &seen, 1, &n) < 0)
                return -ENOTSUP;
            md->plugin_data = scan_alloc(s, sizeof *md->plugin_data);
            if (!md->plugin_data)
                return -ENOMEM;
            INIT_FROM(md->plugin_data, plugin_data_template);
            r = scan_plugin_data(s, p, p + n, md->plugin_data);
            if (r < 0)
                return r;
            p += n;
            break;
        case PB_KEY(PBF_META_DISPLAY_NAME, PB_LEN):      /* display_name */
        case PB_KEY(PBF_META_DESCRIPTION, PB_LEN):      /* summary_description */
        {
            unsigned bit = k == PB_KEY(PBF_META_DISPLAY_NAME, PB_LEN) ? 2 : 4;
            if (once_len(&p, end, &seen, bit, &n) < 0)
                return -ENOTSUP;
            r = new_string(s, p, n, bit == 2 ? &md->display_name : &md->summary_description);
            if (r < 0)
                return r;
            p += n;
            break;
        }
        case PB_KEY(PBF_META_DATA_CLASS, PB_VARINT):   /* data_class */
            if (once_varint(&p, end, &seen, 8, &v) < 0)
                return -ENOTSUP;
            md->data_class = low_int32(v);
            break;
        default:
            return -ENOTSUP;
        }
    }
    return 0;
}

static int scan_value(struct scan *s, const uint8_t *p, const uint8_t *end,
                      Tensorboard__Summary__Value *v)
{
    unsigned seen = 0;
    while (p < end) {
        uint8_t k = *p++;
        size_t n;
        int r;
        switch (k) {
        case PB_KEY(PBF_VALUE_TAG, PB_LEN):      /* tag */
        case PB_KEY(PBF_VALUE_NODE_NAME, PB_LEN):      /* node_name */
        {
            unsigned bit = k == PB_KEY(PBF_VALUE_TAG, PB_LEN) ? 1 : 2;
            if (once_len(&p, end, &seen, bit, &n) < 0)
                return -ENOTSUP;
            r = new_string(s, p, n, bit == 1 ? &v->tag : &v->node_name);
            if (r < 0)
                return r;
            p += n;
            break;
        }
        case PB_KEY(PBF_VALUE_METADATA, PB_LEN):      /* metadata */
            if (once_len(&p, end, &seen, 4, &n) < 0)
                return -ENOTSUP;
            v->metadata = scan_alloc(s, sizeof *v->metadata);
            if (!v->metadata)
                return -ENOMEM;
            INIT_FROM(v->metadata, metadata_template);
            r = scan_metadata(s, p, p + n, v->metadata);
            if (r < 0)
                return r;
            p += n;
            break;
        case PB_KEY(PBF_VALUE_SIMPLE_VALUE, PB_FIXED32):      /* simple_value (oneof value) */
            if (!once(&seen, 8) || end - p < 4)
                return -ENOTSUP;
            {
                uint32_t u = le32(p);
                memcpy(&v->simple_value, &u, 4);
            }
            v->value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
            p += 4;
            break;
        case PB_KEY(PBF_VALUE_TENSOR, PB_LEN):      /* tensor (oneof value) */
            if (once_len(&p, end, &seen, 8, &n) < 0)
                return -ENOTSUP;
            v->tensor = scan_alloc(s, sizeof *v->tensor);
            if (!v->tensor)
                return -ENOMEM;
            INIT_FROM(v->tensor, tensor_template);
            v->value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
            r = scan_tensor(s, p, p + n, v->tensor);
            if (r < 0)
                return r;
            p += n;
            break;
        default:
            return -ENOTSUP;
        }
    }
    return 0;
}

/* Values are collected in a small local array first, which saves counting
 * them in a separate pass for the usual one to a few values per event. */
#define LOCAL_VALUES 16

static int scan_summary(struct scan *s, const uint8_t *p, const uint8_t *end,
                        Tensorboard__Summary *sum)
{
    Tensorboard__Summary__Value *local[LOCAL_VALUES];
    Tensorboard__Summary__Value **arr = local;
    size_t n = 0, cap = LOCAL_VALUES;
    const uint8_t *start = p;
    int r;
    while (p < end) {
        uint8_t k = *p++;
        size_t len;
        if (k != PB_KEY(PBF_SUMMARY_VALUE, PB_LEN) || get_len(&p, end, &len) < 0)
            return -ENOTSUP;
        if (n == cap) {
            if (arr != local)
                return -ENOTSUP;   /* cannot happen: all were counted */
            size_t total;
            r = count_key(start, end, PB_KEY(PBF_SUMMARY_VALUE, PB_LEN), &total);
            if (r < 0)
                return r;
            if (total <= n)
                return -ENOTSUP;
            arr = scan_alloc(s, total * sizeof *arr);
            if (!arr)
                return -ENOMEM;
            memcpy(arr, local, n * sizeof *arr);
            cap = total;
        }
        Tensorboard__Summary__Value *v = scan_alloc(s, sizeof *v);
        if (!v)
            return -ENOMEM;
        INIT_FROM(v, value_template);
        r = scan_value(s, p, p + len, v);
        if (r < 0)
            return r;
        arr[n++] = v;
        p += len;
    }
    if (n > 0 && arr == local) {
        arr = scan_alloc(s, n * sizeof *arr);
        if (!arr)
            return -ENOMEM;
        memcpy(arr, local, n * sizeof *arr);
    }
    sum->value = n > 0 ? arr : NULL;
    sum->n_value = n;
    return 0;
}

int event_scan_unpack(const uint8_t *payload, size_t len, ProtobufCAllocator *alloc,
                      Tensorboard__Event **ret)
{
    struct scan s = {.alloc = alloc};
    const uint8_t *p = payload, *end = payload + len;
    size_t block = len < (SCAN_BLOCK_MAX - SCAN_BLOCK_MIN) / SCAN_BLOCK_PER_BYTE
                       ? SCAN_BLOCK_MIN + SCAN_BLOCK_PER_BYTE * len
                       : SCAN_BLOCK_MAX;
    s.block = alloc->alloc(alloc->allocator_data, block);
    if (!s.block)
        return -ENOMEM;
    s.left = block;
    Tensorboard__Event *ev = scan_alloc(&s, sizeof *ev);
    if (!ev)
        return -ENOMEM;
    INIT_FROM(ev, event_template);
    unsigned seen = 0;
    while (p < end) {
        uint8_t k = *p++;
        uint64_t v;
        size_t n;
        int r;
        switch (k) {
        case PB_KEY(PBF_EVENT_WALL_TIME, PB_FIXED64):      /* wall_time */
            if (!once(&seen, 1) || end - p < 8)
                return -ENOTSUP;
            v = le64(p);
            memcpy(&ev->wall_time, &v, 8);
            p += 8;
            break;
        case PB_KEY(PBF_EVENT_STEP, PB_VARINT):   /* step */
            if (once_varint(&p, end, &seen, 2, &v) < 0)
                return -ENOTSUP;
            memcpy(&ev->step, &v, 8);
            break;
        case PB_KEY(PBF_EVENT_FILE_VERSION, PB_LEN):      /* file_version (oneof what) */
            if (once_len(&p, end, &seen, 4, &n) < 0)
                return -ENOTSUP;
            r = new_string(&s, p, n, &ev->file_version);
            if (r < 0)
                return r;
            ev->what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
            p += n;
            break;
        case PB_KEY(PBF_EVENT_SUMMARY, PB_LEN):      /* summary (oneof what) */
            if (once_len(&p, end, &seen, 4, &n) < 0)
                return -ENOTSUP;
            ev->summary = scan_alloc(&s, sizeof *ev->summary);
            if (!ev->summary)
                return -ENOMEM;
            INIT_FROM(ev->summary, summary_template);
            ev->what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
            r = scan_summary(&s, p, p + n, ev->summary);
            if (r < 0)
                return r;
            p += n;
            break;
        default:
            return -ENOTSUP;
        }
    }
    *ret = ev;
    return 0;
}
