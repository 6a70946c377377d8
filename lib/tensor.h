/* tensor: reading values out of a TensorProto of any dtype.
 *
 * Values may be packed little-endian in tensor_content (TensorFlow, PyTorch)
 * or stored in the typed repeated field; both are accepted. A tensor whose
 * value count does not match its shape is -EBADMSG, except for the protobuf
 * convention that one value in a typed field fills a whole shape. */
#ifndef TFEVENTS_TENSOR_H
#define TFEVENTS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.pb-c.h"

#define TENSOR_MAX_RANK 8

/* Most elements tensor_to_doubles() converts (-EMSGSIZE above): one typed
 * value may "fill" any shape, so the shape alone must not size an
 * allocation. 2^27 doubles are 1 GiB. */
#define TENSOR_MAX_ELEMENTS ((size_t)1 << 27)

struct tensor_shape {
    size_t rank;
    int64_t dims[TENSOR_MAX_RANK];
    size_t count;   /* product of dims; 1 for rank 0 */
};

/* Shape of t. -EBADMSG for unknown or negative dims, rank above
 * TENSOR_MAX_RANK, or an element count that overflows. */
int tensor_get_shape(const Tensorboard__TensorProto *t, struct tensor_shape *ret);

/* All elements of a numeric tensor (float, double, half, bfloat16, every
 * integer width, bool; complex gives real parts) as doubles, in row-major
 * order. *ret is a new malloc'ed array the caller frees (NULL when count is
 * 0). -ENOTSUP for DT_STRING and other non-numeric dtypes, -EBADMSG when the
 * values do not fill the shape (tensor_content must hold exactly count
 * elements; a typed field count or one value), -EMSGSIZE above
 * TENSOR_MAX_ELEMENTS, -ENOMEM. Narrow integers carried in int_val wrap to
 * their dtype's width. */
int tensor_to_doubles(const Tensorboard__TensorProto *t, double **ret, size_t *ret_count);

/* The elements of a DT_STRING tensor, borrowed from t (valid while t is;
 * nothing to free). -ENOTSUP for other dtypes, -EBADMSG when the count does
 * not match the shape (one string does not fill a larger shape here: the
 * result is borrowed) or tensor_content is set. */
int tensor_strings(const Tensorboard__TensorProto *t,
                   const ProtobufCBinaryData **ret, size_t *ret_count);

/* IEEE binary16 and bfloat16 bit patterns to double (exact). */
double tensor_half_to_double(uint16_t h);
double tensor_bfloat16_to_double(uint16_t b);

/* "DT_FLOAT", "DT_STRING", ... ("DT_?" for unknown values). */
const char *tensor_dtype_name(int dtype);

#endif
