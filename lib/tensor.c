#include "tensor.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int tensor_get_shape(const Tensorboard__TensorProto *t, struct tensor_shape *ret)
{
    struct tensor_shape sh = {.rank = 0, .count = 1};
    const Tensorboard__TensorShapeProto *s = t->tensor_shape;
    if (s) {
        if (s->unknown_rank || s->n_dim > TENSOR_MAX_RANK)
            return -EBADMSG;
        sh.rank = s->n_dim;
        for (size_t i = 0; i < s->n_dim; i++) {
            int64_t d = s->dim[i]->size;
            if (d < 0)
                return -EBADMSG;
            sh.dims[i] = d;
            if (d != 0 && sh.count > SIZE_MAX / (uint64_t)d)
                return -EBADMSG;
            sh.count *= (size_t)d;
        }
    }
    *ret = sh;
    return 0;
}

/* Bytes of one element in tensor_content; 0 for dtypes without numbers. */
static size_t element_size(int dtype)
{
    switch (dtype) {
    case TENSORBOARD__DATA_TYPE__DT_UINT8:
    case TENSORBOARD__DATA_TYPE__DT_INT8:
    case TENSORBOARD__DATA_TYPE__DT_QINT8:
    case TENSORBOARD__DATA_TYPE__DT_QUINT8:
    case TENSORBOARD__DATA_TYPE__DT_BOOL:
        return 1;
    case TENSORBOARD__DATA_TYPE__DT_INT16:
    case TENSORBOARD__DATA_TYPE__DT_UINT16:
    case TENSORBOARD__DATA_TYPE__DT_QINT16:
    case TENSORBOARD__DATA_TYPE__DT_QUINT16:
    case TENSORBOARD__DATA_TYPE__DT_HALF:
    case TENSORBOARD__DATA_TYPE__DT_BFLOAT16:
        return 2;
    case TENSORBOARD__DATA_TYPE__DT_FLOAT:
    case TENSORBOARD__DATA_TYPE__DT_INT32:
    case TENSORBOARD__DATA_TYPE__DT_QINT32:
    case TENSORBOARD__DATA_TYPE__DT_UINT32:
        return 4;
    case TENSORBOARD__DATA_TYPE__DT_DOUBLE:
    case TENSORBOARD__DATA_TYPE__DT_INT64:
    case TENSORBOARD__DATA_TYPE__DT_UINT64:
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX64:
        return 8;
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

double tensor_half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f;
    unsigned mant = h & 0x3ffu;
    double v;
    if (exp == 0)
        v = ldexp((double)mant, -24);             /* zero and subnormals */
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp((double)(mant | 0x400u), exp - 25);
    return (h & 0x8000u) ? -v : v;
}

double tensor_bfloat16_to_double(uint16_t b)
{
    /* bfloat16 is the upper half of a float32. */
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* One element of tensor_content (little-endian, packed). */
static double content_element(int dtype, const uint8_t *p)
{
    switch (dtype) {
    case TENSORBOARD__DATA_TYPE__DT_UINT8:
    case TENSORBOARD__DATA_TYPE__DT_QUINT8:
        return p[0];
    case TENSORBOARD__DATA_TYPE__DT_INT8:
    case TENSORBOARD__DATA_TYPE__DT_QINT8:
        return (int8_t)p[0];
    case TENSORBOARD__DATA_TYPE__DT_BOOL:
        return p[0] != 0;
    case TENSORBOARD__DATA_TYPE__DT_INT16:
    case TENSORBOARD__DATA_TYPE__DT_QINT16:
        return (int16_t)load_le(p, 2);
    case TENSORBOARD__DATA_TYPE__DT_UINT16:
    case TENSORBOARD__DATA_TYPE__DT_QUINT16:
        return (uint16_t)load_le(p, 2);
    case TENSORBOARD__DATA_TYPE__DT_HALF:
        return tensor_half_to_double((uint16_t)load_le(p, 2));
    case TENSORBOARD__DATA_TYPE__DT_BFLOAT16:
        return tensor_bfloat16_to_double((uint16_t)load_le(p, 2));
    case TENSORBOARD__DATA_TYPE__DT_INT32:
    case TENSORBOARD__DATA_TYPE__DT_QINT32:
        return (int32_t)load_le(p, 4);
    case TENSORBOARD__DATA_TYPE__DT_UINT32:
        return (uint32_t)load_le(p, 4);
    case TENSORBOARD__DATA_TYPE__DT_FLOAT:
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX64: {
        /* complex64 is (re, im) float pairs: the real part comes first. */
        uint32_t bits = (uint32_t)load_le(p, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    case TENSORBOARD__DATA_TYPE__DT_INT64:
        return (double)(int64_t)load_le(p, 8);
    case TENSORBOARD__DATA_TYPE__DT_UINT64:
        return (double)load_le(p, 8);
    case TENSORBOARD__DATA_TYPE__DT_DOUBLE:
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX128: {
        uint64_t bits = load_le(p, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    default:
        return 0;
    }
}

/* How many values the typed field for dtype holds (complex: pairs), and
 * element i of it as a double. Integer fields narrower than their int32
 * carrier wrap to the dtype's width, as numpy does when it casts them. */
static size_t typed_count(const Tensorboard__TensorProto *t)
{
    switch ((int)t->dtype) {
    case TENSORBOARD__DATA_TYPE__DT_FLOAT:
        return t->n_float_val;
    case TENSORBOARD__DATA_TYPE__DT_DOUBLE:
        return t->n_double_val;
    case TENSORBOARD__DATA_TYPE__DT_HALF:
    case TENSORBOARD__DATA_TYPE__DT_BFLOAT16:
        return t->n_half_val;
    case TENSORBOARD__DATA_TYPE__DT_INT64:
        return t->n_int64_val;
    case TENSORBOARD__DATA_TYPE__DT_BOOL:
        return t->n_bool_val;
    case TENSORBOARD__DATA_TYPE__DT_UINT32:
        return t->n_uint32_val;
    case TENSORBOARD__DATA_TYPE__DT_UINT64:
        return t->n_uint64_val;
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX64:
        return t->n_scomplex_val / 2;
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX128:
        return t->n_dcomplex_val / 2;
    default:
        return t->n_int_val;
    }
}

static double typed_element(const Tensorboard__TensorProto *t, size_t i)
{
    switch ((int)t->dtype) {
    case TENSORBOARD__DATA_TYPE__DT_FLOAT:
        return t->float_val[i];
    case TENSORBOARD__DATA_TYPE__DT_DOUBLE:
        return t->double_val[i];
    case TENSORBOARD__DATA_TYPE__DT_HALF:
        return tensor_half_to_double((uint16_t)t->half_val[i]);
    case TENSORBOARD__DATA_TYPE__DT_BFLOAT16:
        return tensor_bfloat16_to_double((uint16_t)t->half_val[i]);
    case TENSORBOARD__DATA_TYPE__DT_INT64:
        return (double)t->int64_val[i];
    case TENSORBOARD__DATA_TYPE__DT_BOOL:
        return t->bool_val[i] ? 1.0 : 0.0;
    case TENSORBOARD__DATA_TYPE__DT_UINT32:
        return t->uint32_val[i];
    case TENSORBOARD__DATA_TYPE__DT_UINT64:
        return (double)t->uint64_val[i];
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX64:
        return t->scomplex_val[2 * i];
    case TENSORBOARD__DATA_TYPE__DT_COMPLEX128:
        return t->dcomplex_val[2 * i];
    case TENSORBOARD__DATA_TYPE__DT_UINT8:
    case TENSORBOARD__DATA_TYPE__DT_QUINT8:
        return (uint8_t)t->int_val[i];
    case TENSORBOARD__DATA_TYPE__DT_INT8:
    case TENSORBOARD__DATA_TYPE__DT_QINT8:
        return (int8_t)t->int_val[i];
    case TENSORBOARD__DATA_TYPE__DT_INT16:
    case TENSORBOARD__DATA_TYPE__DT_QINT16:
        return (int16_t)t->int_val[i];
    case TENSORBOARD__DATA_TYPE__DT_UINT16:
    case TENSORBOARD__DATA_TYPE__DT_QUINT16:
        return (uint16_t)t->int_val[i];
    default:
        return t->int_val[i];
    }
}

int tensor_to_doubles(const Tensorboard__TensorProto *t, double **ret, size_t *ret_count)
{
    size_t esize = element_size((int)t->dtype);
    if (esize == 0)
        return -ENOTSUP;
    struct tensor_shape sh;
    int r = tensor_get_shape(t, &sh);
    if (r < 0)
        return r;
    size_t count = sh.count;
    if (count > TENSOR_MAX_ELEMENTS)
        return -EMSGSIZE;

    size_t have;
    bool packed = t->tensor_content.len > 0;
    if (packed) {
        if (t->tensor_content.len != count * esize)
            return -EBADMSG;
        have = count;
    } else {
        /* An odd number of complex components is not a list of pairs. */
        if ((t->dtype == TENSORBOARD__DATA_TYPE__DT_COMPLEX64 && t->n_scomplex_val % 2) ||
            (t->dtype == TENSORBOARD__DATA_TYPE__DT_COMPLEX128 && t->n_dcomplex_val % 2))
            return -EBADMSG;
        have = typed_count(t);
        if (have != count && have != 1)
            return -EBADMSG;
    }

    double *out = NULL;
    if (count > 0) {
        out = malloc(count * sizeof *out);
        if (!out)
            return -ENOMEM;
    }
    if (packed) {
        const uint8_t *p = t->tensor_content.data;
        for (size_t i = 0; i < count; i++)
            out[i] = content_element((int)t->dtype, p + i * esize);
    } else if (have == count) {
        for (size_t i = 0; i < count; i++)
            out[i] = typed_element(t, i);
    } else {
        /* The protobuf convention: one value fills the whole shape. */
        double v = typed_element(t, 0);
        for (size_t i = 0; i < count; i++)
            out[i] = v;
    }
    *ret = out;
    *ret_count = count;
    return 0;
}

int tensor_strings(const Tensorboard__TensorProto *t,
                   const ProtobufCBinaryData **ret, size_t *ret_count)
{
    if (t->dtype != TENSORBOARD__DATA_TYPE__DT_STRING)
        return -ENOTSUP;
    struct tensor_shape sh;
    int r = tensor_get_shape(t, &sh);
    if (r < 0)
        return r;
    /* Strings are never packed into tensor_content. */
    if (t->tensor_content.len > 0 || t->n_string_val != sh.count)
        return -EBADMSG;
    *ret = t->string_val;
    *ret_count = t->n_string_val;
    return 0;
}

const char *tensor_dtype_name(int dtype)
{
    static const char *const names[] = {
        "DT_INVALID", "DT_FLOAT", "DT_DOUBLE", "DT_INT32", "DT_UINT8",
        "DT_INT16", "DT_INT8", "DT_STRING", "DT_COMPLEX64", "DT_INT64",
        "DT_BOOL", "DT_QINT8", "DT_QUINT8", "DT_QINT32", "DT_BFLOAT16",
        "DT_QINT16", "DT_QUINT16", "DT_UINT16", "DT_COMPLEX128", "DT_HALF",
        "DT_RESOURCE", "DT_VARIANT", "DT_UINT32", "DT_UINT64",
    };
    if (dtype < 0 || (size_t)dtype >= sizeof names / sizeof names[0])
        return "DT_?";
    return names[dtype];
}
