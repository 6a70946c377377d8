#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"
#include "test.h"

/* A tensor under construction: the struct plus storage for its shape. */
struct tbuild {
    Tensorboard__TensorProto t;
    Tensorboard__TensorShapeProto shape;
    Tensorboard__TensorShapeProto__Dim dims[16];
    Tensorboard__TensorShapeProto__Dim *dimp[16];
    uint8_t content[512];
};

static void tb_init(struct tbuild *b, int dtype, size_t rank, const int64_t *dims)
{
    Tensorboard__TensorProto t = TENSORBOARD__TENSOR_PROTO__INIT;
    Tensorboard__TensorShapeProto s = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    b->t = t;
    b->shape = s;
    for (size_t i = 0; i < rank; i++) {
        Tensorboard__TensorShapeProto__Dim d = TENSORBOARD__TENSOR_SHAPE_PROTO__DIM__INIT;
        d.size = dims[i];
        b->dims[i] = d;
        b->dimp[i] = &b->dims[i];
    }
    b->shape.n_dim = rank;
    b->shape.dim = b->dimp;
    b->t.dtype = (Tensorboard__DataType)dtype;
    b->t.tensor_shape = &b->shape;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

static void check_doubles(const Tensorboard__TensorProto *t, const double *want, size_t n,
                          const char *what)
{
    double *got = NULL;
    size_t count = 0;
    int r = tensor_to_doubles(t, &got, &count);
    if (r != 0) {
        fprintf(stderr, "%s: tensor_to_doubles = %d\n", what, r);
        CHECK_EQ(r, 0);
        return;
    }
    CHECK_EQ(count, n);
    for (size_t i = 0; i < n && i < count; i++) {
        if (!same(got[i], want[i])) {
            fprintf(stderr, "%s[%zu]: got %.17g want %.17g\n", what, i, got[i], want[i]);
            CHECK(0);
        }
    }
    free(got);
}

/* Every numeric dtype, three values each, packed in tensor_content and in
 * the typed field. Expected values are written out, not computed. */
static void every_dtype(void)
{
    static const int64_t dim3[] = {3};
    struct tbuild b;

    /* Integer types carried in int_val. */
    struct {
        int dtype;
        size_t size;
        int32_t vals[3];
        double want[3];
    } ints[] = {
        {TENSORBOARD__DATA_TYPE__DT_INT32, 4, {INT32_MIN, INT32_MAX, 0}, {-2147483648.0, 2147483647.0, 0}},
        {TENSORBOARD__DATA_TYPE__DT_QINT32, 4, {-5, 6, 7}, {-5, 6, 7}},
        {TENSORBOARD__DATA_TYPE__DT_UINT8, 1, {0, 255, 128}, {0, 255, 128}},
        {TENSORBOARD__DATA_TYPE__DT_QUINT8, 1, {1, 254, 3}, {1, 254, 3}},
        {TENSORBOARD__DATA_TYPE__DT_INT8, 1, {-128, 127, -1}, {-128, 127, -1}},
        {TENSORBOARD__DATA_TYPE__DT_QINT8, 1, {-2, 2, 0}, {-2, 2, 0}},
        {TENSORBOARD__DATA_TYPE__DT_INT16, 2, {-32768, 32767, -1}, {-32768, 32767, -1}},
        {TENSORBOARD__DATA_TYPE__DT_QINT16, 2, {-300, 300, 1}, {-300, 300, 1}},
        {TENSORBOARD__DATA_TYPE__DT_UINT16, 2, {65535, 0, 1000}, {65535, 0, 1000}},
        {TENSORBOARD__DATA_TYPE__DT_QUINT16, 2, {40000, 1, 2}, {40000, 1, 2}},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        const char *name = tensor_dtype_name(ints[k].dtype);
        tb_init(&b, ints[k].dtype, 1, dim3);
        b.t.n_int_val = 3;
        b.t.int_val = ints[k].vals;
        check_doubles(&b.t, ints[k].want, 3, name);
        tb_init(&b, ints[k].dtype, 1, dim3);
        for (int i = 0; i < 3; i++)
            put_le(b.content + i * ints[k].size, (uint64_t)(int64_t)ints[k].vals[i], ints[k].size);
        b.t.tensor_content.data = b.content;
        b.t.tensor_content.len = 3 * ints[k].size;
        check_doubles(&b.t, ints[k].want, 3, name);
    }

    /* Narrow integers wrap to their width, as numpy's cast does. */
    int32_t wrap[] = {-1, 256 + 7, 0x12345};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_UINT8, 1, dim3);
    b.t.n_int_val = 3;
    b.t.int_val = wrap;
    check_doubles(&b.t, (double[]){255, 7, 0x45}, 3, "uint8 wrap");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_INT16, 1, dim3);
    b.t.n_int_val = 3;
    b.t.int_val = wrap;
    check_doubles(&b.t, (double[]){-1, 263, 0x2345}, 3, "int16 wrap");

    /* float */
    float fv[] = {1.5f, -2.25f, 0.1f};
    double fw[] = {1.5, -2.25, 0.100000001490116119384765625};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 1, dim3);
    b.t.n_float_val = 3;
    b.t.float_val = fv;
    check_doubles(&b.t, fw, 3, "float typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 1, dim3);
    for (int i = 0; i < 3; i++)
        put_le(b.content + 4 * i, float_bits(fv[i]), 4);
    b.t.tensor_content = (ProtobufCBinaryData){12, b.content};
    check_doubles(&b.t, fw, 3, "float content");

    /* double */
    double dv[] = {1e300, -0.5, -0.0};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_DOUBLE, 1, dim3);
    b.t.n_double_val = 3;
    b.t.double_val = dv;
    check_doubles(&b.t, dv, 3, "double typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_DOUBLE, 1, dim3);
    for (int i = 0; i < 3; i++)
        put_le(b.content + 8 * i, double_bits(dv[i]), 8);
    b.t.tensor_content = (ProtobufCBinaryData){24, b.content};
    check_doubles(&b.t, dv, 3, "double content");

    /* int64 */
    int64_t lv[] = {-9007199254740992LL, 9007199254740992LL, -1};
    double lw[] = {-9007199254740992.0, 9007199254740992.0, -1};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_INT64, 1, dim3);
    b.t.n_int64_val = 3;
    b.t.int64_val = lv;
    check_doubles(&b.t, lw, 3, "int64 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_INT64, 1, dim3);
    for (int i = 0; i < 3; i++)
        put_le(b.content + 8 * i, (uint64_t)lv[i], 8);
    b.t.tensor_content = (ProtobufCBinaryData){24, b.content};
    check_doubles(&b.t, lw, 3, "int64 content");

    /* uint32, uint64 */
    uint32_t uv[] = {4294967295u, 0, 7};
    double uw[] = {4294967295.0, 0, 7};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_UINT32, 1, dim3);
    b.t.n_uint32_val = 3;
    b.t.uint32_val = uv;
    check_doubles(&b.t, uw, 3, "uint32 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_UINT32, 1, dim3);
    for (int i = 0; i < 3; i++)
        put_le(b.content + 4 * i, uv[i], 4);
    b.t.tensor_content = (ProtobufCBinaryData){12, b.content};
    check_doubles(&b.t, uw, 3, "uint32 content");
    uint64_t qv[] = {9223372036854775808ull, 0, 9007199254740992ull};
    double qw[] = {9223372036854775808.0, 0, 9007199254740992.0};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_UINT64, 1, dim3);
    b.t.n_uint64_val = 3;
    b.t.uint64_val = qv;
    check_doubles(&b.t, qw, 3, "uint64 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_UINT64, 1, dim3);
    for (int i = 0; i < 3; i++)
        put_le(b.content + 8 * i, qv[i], 8);
    b.t.tensor_content = (ProtobufCBinaryData){24, b.content};
    check_doubles(&b.t, qw, 3, "uint64 content");

    /* bool: any non-zero byte is true */
    protobuf_c_boolean bv[] = {1, 0, 1};
    double bw[] = {1, 0, 1};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_BOOL, 1, dim3);
    b.t.n_bool_val = 3;
    b.t.bool_val = bv;
    check_doubles(&b.t, bw, 3, "bool typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_BOOL, 1, dim3);
    b.content[0] = 1;
    b.content[1] = 0;
    b.content[2] = 2;
    b.t.tensor_content = (ProtobufCBinaryData){3, b.content};
    check_doubles(&b.t, bw, 3, "bool content");

    /* complex: real parts */
    float cv[] = {1.5f, 9, -2, 8, 3, 7};
    double cw[] = {1.5, -2, 3};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_COMPLEX64, 1, dim3);
    b.t.n_scomplex_val = 6;
    b.t.scomplex_val = cv;
    check_doubles(&b.t, cw, 3, "complex64 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_COMPLEX64, 1, dim3);
    for (int i = 0; i < 6; i++)
        put_le(b.content + 4 * i, float_bits(cv[i]), 4);
    b.t.tensor_content = (ProtobufCBinaryData){24, b.content};
    check_doubles(&b.t, cw, 3, "complex64 content");
    double zv[] = {1.5, 9, -2, 8, 3, 7};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_COMPLEX128, 1, dim3);
    b.t.n_dcomplex_val = 6;
    b.t.dcomplex_val = zv;
    check_doubles(&b.t, cw, 3, "complex128 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_COMPLEX128, 1, dim3);
    for (int i = 0; i < 6; i++)
        put_le(b.content + 8 * i, double_bits(zv[i]), 8);
    b.t.tensor_content = (ProtobufCBinaryData){48, b.content};
    check_doubles(&b.t, cw, 3, "complex128 content");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_COMPLEX64, 1, dim3);
    b.t.n_scomplex_val = 5;
    b.t.scomplex_val = cv;
    double *out;
    size_t n;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
}

/* IEEE half and bfloat16 bit patterns with their values written out. */
static void half_and_bfloat16(void)
{
    static const struct {
        uint16_t bits;
        double half;
    } cases[] = {
        {0x0000, 0.0},
        {0x3c00, 1.0},
        {0xc000, -2.0},
        {0x7bff, 65504.0},
        {0x0001, 5.9604644775390625e-08},   /* smallest subnormal, 2^-24 */
        {0x03ff, 6.0975551605224609e-05},   /* largest subnormal */
        {0x0400, 6.103515625e-05},          /* smallest normal, 2^-14 */
        {0x3555, 0.333251953125},
        {0x3f80, 1.875},
        {0x7c00, INFINITY},
        {0xfc00, -INFINITY},
        {0x7e00, NAN},
        {0x8000, -0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double h = tensor_half_to_double(cases[i].bits);
        if (!same(h, cases[i].half)) {
            fprintf(stderr, "half %04x: got %.17g want %.17g\n", cases[i].bits, h, cases[i].half);
            CHECK(0);
        }
    }
    /* bfloat16 = the top half of a float32: check against literal floats. */
    CHECK(same(tensor_bfloat16_to_double(0x3f80), 1.0));
    CHECK(same(tensor_bfloat16_to_double(0xc000), -2.0));
    CHECK(same(tensor_bfloat16_to_double(0x4049), 3.140625));
    CHECK(same(tensor_bfloat16_to_double(0x3e80), 0.25));
    CHECK(same(tensor_bfloat16_to_double(0x7f80), INFINITY));
    CHECK(isnan(tensor_bfloat16_to_double(0x7fc0)));
    CHECK(same(tensor_bfloat16_to_double(0x0001), 9.183549615799121e-41));
    CHECK(same(tensor_bfloat16_to_double(0x8000), -0.0));

    /* Both through a tensor, typed (half_val) and packed. */
    static const int64_t dim4[] = {4};
    struct tbuild b;
    int32_t hv[] = {0x3c00, 0xc000, 0x7bff, 0x0001};
    double hw[] = {1.0, -2.0, 65504.0, 5.9604644775390625e-08};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_HALF, 1, dim4);
    b.t.n_half_val = 4;
    b.t.half_val = hv;
    check_doubles(&b.t, hw, 4, "half typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_HALF, 1, dim4);
    for (int i = 0; i < 4; i++)
        put_le(b.content + 2 * i, (uint64_t)hv[i], 2);
    b.t.tensor_content = (ProtobufCBinaryData){8, b.content};
    check_doubles(&b.t, hw, 4, "half content");
    int32_t bfv[] = {0x3f80, 0xc000, 0x4049, 0x3e80};
    double bfw[] = {1.0, -2.0, 3.140625, 0.25};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_BFLOAT16, 1, dim4);
    b.t.n_half_val = 4;
    b.t.half_val = bfv;
    check_doubles(&b.t, bfw, 4, "bfloat16 typed");
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_BFLOAT16, 1, dim4);
    for (int i = 0; i < 4; i++)
        put_le(b.content + 2 * i, (uint64_t)bfv[i], 2);
    b.t.tensor_content = (ProtobufCBinaryData){8, b.content};
    check_doubles(&b.t, bfw, 4, "bfloat16 content");
}

static void shapes(void)
{
    struct tbuild b;
    struct tensor_shape sh;

    /* No shape message at all: rank 0, one element. */
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 0, NULL);
    b.t.tensor_shape = NULL;
    REQUIRE(tensor_get_shape(&b.t, &sh) == 0);
    CHECK_EQ(sh.rank, 0);
    CHECK_EQ(sh.count, 1);
    float one = 0.25f;
    b.t.n_float_val = 1;
    b.t.float_val = &one;
    check_doubles(&b.t, (double[]){0.25}, 1, "rank 0");

    static const int64_t d234[] = {2, 3, 4};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 3, d234);
    REQUIRE(tensor_get_shape(&b.t, &sh) == 0);
    CHECK_EQ(sh.rank, 3);
    CHECK_EQ(sh.dims[0], 2);
    CHECK_EQ(sh.dims[2], 4);
    CHECK_EQ(sh.count, 24);

    /* One typed value fills the shape. */
    static const int64_t d22[] = {2, 2};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 2, d22);
    b.t.n_float_val = 1;
    b.t.float_val = &one;
    check_doubles(&b.t, (double[]){0.25, 0.25, 0.25, 0.25}, 4, "fill");

    /* Too few or too many values. */
    float three[] = {1, 2, 3};
    double *out = NULL;
    size_t n;
    b.t.n_float_val = 3;
    b.t.float_val = three;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
    b.t.n_float_val = 0;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 2, d22);
    b.t.tensor_content = (ProtobufCBinaryData){12, b.content};
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
    b.t.tensor_content = (ProtobufCBinaryData){20, b.content};
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
    /* tensor_content needs every element: one does not fill. */
    b.t.tensor_content = (ProtobufCBinaryData){4, b.content};
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);

    /* Empty tensors: [0] and [3, 0]. */
    static const int64_t d30[] = {3, 0};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 2, d30);
    out = (double *)&n;
    REQUIRE(tensor_to_doubles(&b.t, &out, &n) == 0);
    CHECK_EQ(n, 0);
    CHECK(out == NULL);

    /* Rank limit, negative and unknown dims, overflow. */
    int64_t d9[TENSOR_MAX_RANK + 1];
    for (int i = 0; i <= TENSOR_MAX_RANK; i++)
        d9[i] = 1;
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, TENSOR_MAX_RANK, d9);
    CHECK_EQ(tensor_get_shape(&b.t, &sh), 0);
    CHECK_EQ(sh.rank, TENSOR_MAX_RANK);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, TENSOR_MAX_RANK + 1, d9);
    CHECK_EQ(tensor_get_shape(&b.t, &sh), -EBADMSG);
    b.t.n_float_val = 1;
    b.t.float_val = &one;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EBADMSG);
    static const int64_t dneg[] = {2, -1};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 2, dneg);
    CHECK_EQ(tensor_get_shape(&b.t, &sh), -EBADMSG);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 1, d22);
    b.shape.unknown_rank = 1;
    CHECK_EQ(tensor_get_shape(&b.t, &sh), -EBADMSG);
    static const int64_t dbig[] = {INT64_MAX, INT64_MAX, 4};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 3, dbig);
    CHECK_EQ(tensor_get_shape(&b.t, &sh), -EBADMSG);

    /* One value may not fill a shape too large to convert. */
    static const int64_t dhuge[] = {1 << 20, 1 << 20};
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 2, dhuge);
    b.t.n_float_val = 1;
    b.t.float_val = &one;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -EMSGSIZE);
}

static void strings_and_unsupported(void)
{
    static const int64_t d2[] = {2};
    struct tbuild b;
    ProtobufCBinaryData sv[] = {{1, (uint8_t *)"a"}, {2, (uint8_t *)"bc"}};
    const ProtobufCBinaryData *got;
    size_t n;
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_STRING, 1, d2);
    b.t.n_string_val = 2;
    b.t.string_val = sv;
    REQUIRE(tensor_strings(&b.t, &got, &n) == 0);
    CHECK_EQ(n, 2);
    CHECK(got == sv);
    double *out;
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -ENOTSUP);
    b.t.n_string_val = 1;
    CHECK_EQ(tensor_strings(&b.t, &got, &n), -EBADMSG);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_STRING, 0, NULL);
    b.t.n_string_val = 1;
    b.t.string_val = sv;
    REQUIRE(tensor_strings(&b.t, &got, &n) == 0);
    CHECK_EQ(n, 1);

    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_FLOAT, 1, d2);
    CHECK_EQ(tensor_strings(&b.t, &got, &n), -ENOTSUP);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_RESOURCE, 1, d2);
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -ENOTSUP);
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_INVALID, 1, d2);
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -ENOTSUP);
    tb_init(&b, 99, 1, d2);
    CHECK_EQ(tensor_to_doubles(&b.t, &out, &n), -ENOTSUP);

    CHECK_STR(tensor_dtype_name(1), "DT_FLOAT");
    CHECK_STR(tensor_dtype_name(7), "DT_STRING");
    CHECK_STR(tensor_dtype_name(14), "DT_BFLOAT16");
    CHECK_STR(tensor_dtype_name(19), "DT_HALF");
    CHECK_STR(tensor_dtype_name(23), "DT_UINT64");
    CHECK_STR(tensor_dtype_name(24), "DT_?");
    CHECK_STR(tensor_dtype_name(-1), "DT_?");
}

/* Through protobuf's own wire format: what a file really holds. */
static void from_the_wire(void)
{
    static const int64_t d2[] = {2};
    struct tbuild b;
    tb_init(&b, TENSORBOARD__DATA_TYPE__DT_HALF, 1, d2);
    put_le(b.content, 0x3c00, 2);
    put_le(b.content + 2, 0xc400, 2);
    b.t.tensor_content = (ProtobufCBinaryData){4, b.content};
    uint8_t wire[256];
    size_t len = tensorboard__tensor_proto__pack(&b.t, wire);
    Tensorboard__TensorProto *t = tensorboard__tensor_proto__unpack(NULL, len, wire);
    REQUIRE(t);
    check_doubles(t, (double[]){1.0, -4.0}, 2, "half from wire");
    tensorboard__tensor_proto__free_unpacked(t, NULL);
}

TEST_MAIN(TEST(every_dtype), TEST(half_and_bfloat16), TEST(shapes),
          TEST(strings_and_unsupported), TEST(from_the_wire))
