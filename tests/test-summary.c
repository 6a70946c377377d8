/* Summary values: scalars (byte-exact against protobuf-c's encoding of the
 * same message), text of rank 0/1/2, UTF-8 validation, custom plugins, and
 * the common rules (metadata on demand, reset on failure, limits). */
#include <errno.h>

#include "summary.h"
#include "test.h"
#include "utf8.h"

static Tensorboard__Summary *decode(const struct summary_value *v, bool with_metadata)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (summary_value_encode(&out, v, with_metadata) < 0)
        return NULL;
    Tensorboard__Summary *s = tensorboard__summary__unpack(NULL, out.len, out.data);
    buf_free(&out);
    return s;
}

/* ---- UTF-8 ---- */

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t len;
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"plain ascii tag/with/slashes", 28, true},
        {"\0nul", 4, true},
        {"\xc3\xa9", 2, true},                  /* U+00E9 */
        {"\xe2\x82\xac", 3, true},              /* U+20AC */
        {"\xf0\x9f\x98\x80", 4, true},          /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, true},          /* U+10FFFF */
        {"\xed\x9f\xbf", 3, true},              /* U+D7FF */
        {"\xee\x80\x80", 3, true},              /* U+E000 */
        {"\xc0\x80", 2, false},                 /* overlong NUL */
        {"\xc1\xbf", 2, false},                 /* overlong */
        {"\xe0\x80\xaf", 3, false},             /* overlong '/' */
        {"\xe0\x9f\xbf", 3, false},             /* overlong U+07FF */
        {"\xf0\x8f\xbf\xbf", 4, false},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, false},             /* U+D800 surrogate */
        {"\xed\xbf\xbf", 3, false},             /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 4, false},         /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false},
        {"\xff", 1, false},
        {"\x80", 1, false},                     /* lone continuation */
        {"\xc3", 1, false},                     /* truncated */
        {"\xe2\x82", 2, false},
        {"abcdefgh\xc3(", 10, false},           /* bad continuation after the fast path */
        {"abcdefghijklmnop\xf0\x9f\x98", 19, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (utf8_valid(cases[i].s, cases[i].len) != cases[i].ok) {
            fprintf(stderr, "utf8 case %zu: expected %d\n", i, cases[i].ok);
            test_failures_++;
        }
    }
    unsigned cp;
    CHECK_EQ(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    CHECK_EQ(cp, 0x1F600);
    CHECK_EQ(utf8_decode("\xed\xa0\x80", 3, &cp), -EILSEQ);
}

/* ---- scalars ---- */

/* What protobuf-c itself emits for Summary{value{tag, tensor{DT_FLOAT, {},
 * float_val}, metadata{plugin_data{"scalars"}, data_class SCALAR}}}. */
static void reference_scalar(struct buf *out, const char *tag, float f, const char *dn,
                             const char *desc, bool with_meta)
{
    Tensorboard__TensorShapeProto shape = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    Tensorboard__TensorProto t = TENSORBOARD__TENSOR_PROTO__INIT;
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.n_float_val = 1;
    t.float_val = &f;
    Tensorboard__SummaryMetadata__PluginData pd = TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = (char *)"scalars";
    Tensorboard__SummaryMetadata md = TENSORBOARD__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    md.display_name = (char *)(dn ? dn : "");
    md.summary_description = (char *)(desc ? desc : "");
    md.data_class = TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR;
    Tensorboard__Summary__Value val = TENSORBOARD__SUMMARY__VALUE__INIT;
    val.tag = (char *)tag;
    val.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    val.tensor = &t;
    val.metadata = with_meta ? &md : NULL;
    Tensorboard__Summary__Value *vals[1] = {&val};
    Tensorboard__Summary s = TENSORBOARD__SUMMARY__INIT;
    s.n_value = 1;
    s.value = vals;
    size_t n = tensorboard__summary__get_packed_size(&s);
    buf_reserve(out, n);
    tensorboard__summary__pack(&s, out->data + out->len);
    out->len += n;
}

static void test_scalar_bytes(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct buf mine, ref;
    buf_init(&mine, BUF_NO_CAP);
    buf_init(&ref, BUF_NO_CAP);
    static const double vals[] = {0.5, -1e30, 3.0, 1e-45, 0.0};
    struct summary_meta meta = {"Loss (train)", "cross-entropy"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        for (int m = 0; m < 3; m++) {
            const struct summary_meta *mp = m == 2 ? &meta : NULL;
            REQUIRE(summary_scalar(&v, "train/loss", vals[i], mp) == 0);
            buf_reset(&mine);
            buf_reset(&ref);
            REQUIRE(summary_value_encode(&mine, &v, m != 0) == 0);
            reference_scalar(&ref, "train/loss", (float)vals[i], mp ? meta.display_name : NULL,
                             mp ? meta.description : NULL, m != 0);
            CHECK(mine.len == ref.len && memcmp(mine.data, ref.data, ref.len) == 0);
        }
    }
    /* An empty meta is the same as none. */
    struct summary_meta empty = {"", NULL};
    REQUIRE(summary_scalar(&v, "t", 1, &empty) == 0);
    buf_reset(&mine);
    buf_reset(&ref);
    summary_value_encode(&mine, &v, true);
    reference_scalar(&ref, "t", 1, NULL, NULL, true);
    CHECK(mine.len == ref.len && memcmp(mine.data, ref.data, ref.len) == 0);
    buf_free(&mine);
    buf_free(&ref);
    summary_value_done(&v);
}

static void test_scalar_nonfinite(void)
{
    struct summary_value v;
    summary_value_init(&v);
    static const double vals[] = {NAN, INFINITY, -INFINITY, 1e300, -0.0, 42.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        REQUIRE(summary_scalar(&v, "x", vals[i], NULL) == 0);
        Tensorboard__Summary *s = decode(&v, true);
        REQUIRE(s && s->n_value == 1);
        Tensorboard__TensorProto *t = s->value[0]->tensor;
        REQUIRE(t && t->n_float_val == 1);
        CHECK_EQ(t->dtype, TENSORBOARD__DATA_TYPE__DT_FLOAT);
        CHECK(t->tensor_shape && t->tensor_shape->n_dim == 0);
        float want = (float)vals[i], got = t->float_val[0];
        if (isnan(want))
            CHECK(isnan(got));
        else
            CHECK(got == want && signbit(got) == signbit(want));
        tensorboard__summary__free_unpacked(s, NULL);
    }
    summary_value_done(&v);
}

static void test_metadata_optional(void)
{
    struct summary_value v;
    summary_value_init(&v);
    REQUIRE(summary_scalar(&v, "loss", 1.5, NULL) == 0);
    Tensorboard__Summary *s = decode(&v, false);
    REQUIRE(s);
    CHECK(s->value[0]->metadata == NULL);
    CHECK_STR(s->value[0]->tag, "loss");
    tensorboard__summary__free_unpacked(s, NULL);
    s = decode(&v, true);
    REQUIRE(s && s->value[0]->metadata);
    CHECK_STR(s->value[0]->metadata->plugin_data->plugin_name, "scalars");
    CHECK_EQ(s->value[0]->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR);
    tensorboard__summary__free_unpacked(s, NULL);

    /* Two values concatenated decode as one Summary of two. */
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    summary_value_encode(&out, &v, true);
    REQUIRE(summary_text(&v, "note", "hi", 2, NULL) == 0);
    summary_value_encode(&out, &v, false);
    s = tensorboard__summary__unpack(NULL, out.len, out.data);
    REQUIRE(s && s->n_value == 2);
    CHECK_STR(s->value[1]->tag, "note");
    tensorboard__summary__free_unpacked(s, NULL);
    buf_free(&out);
    summary_value_done(&v);
}

static void test_tag_rules(void)
{
    struct summary_value v;
    summary_value_init(&v);
    CHECK_EQ(summary_scalar(&v, "", 1, NULL), -EINVAL);
    CHECK_EQ(summary_scalar(&v, NULL, 1, NULL), -EINVAL);
    CHECK_EQ(summary_scalar(&v, "bad\xff", 1, NULL), -EILSEQ);
    CHECK(strlen(summary_last_error()) > 0);
    char *longtag = malloc(SUMMARY_MAX_TAG + 2);
    REQUIRE(longtag);
    memset(longtag, 'a', SUMMARY_MAX_TAG + 1);
    longtag[SUMMARY_MAX_TAG + 1] = '\0';
    CHECK_EQ(summary_scalar(&v, longtag, 1, NULL), -EMSGSIZE);
    longtag[SUMMARY_MAX_TAG] = '\0';
    CHECK_EQ(summary_scalar(&v, longtag, 1, NULL), 0);
    CHECK_STR(summary_last_error(), "");
    free(longtag);
    struct summary_meta bad = {"ok", "\xed\xa0\x80"};
    CHECK_EQ(summary_scalar(&v, "t", 1, &bad), -EILSEQ);
    /* A failed builder leaves the value empty, never half-built. */
    CHECK_EQ(v.tag.len, 0);
    CHECK_EQ(v.metadata.len, 0);
    CHECK_EQ(v.body.len, 0);
    summary_value_done(&v);
    summary_value_done(NULL);
}

/* ---- text ---- */

static void check_text(const struct summary_value *v, const char *tag, size_t rank,
                       const int64_t *dims, const char *const *want, size_t n)
{
    Tensorboard__Summary *s = decode(v, true);
    REQUIRE(s && s->n_value == 1);
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK_STR(val->tag, tag);
    CHECK_STR(val->metadata->plugin_data->plugin_name, "text");
    CHECK_EQ(val->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR);
    Tensorboard__TensorProto *t = val->tensor;
    CHECK_EQ(t->dtype, TENSORBOARD__DATA_TYPE__DT_STRING);
    REQUIRE(t->tensor_shape && t->tensor_shape->n_dim == rank);
    for (size_t i = 0; i < rank; i++)
        CHECK_EQ(t->tensor_shape->dim[i]->size, dims[i]);
    REQUIRE(t->n_string_val == n);
    for (size_t i = 0; i < n; i++)
        CHECK(t->string_val[i].len == strlen(want[i]) &&
              (t->string_val[i].len == 0 ||
               memcmp(t->string_val[i].data, want[i], strlen(want[i])) == 0));
    tensorboard__summary__free_unpacked(s, NULL);
}

static void test_text(void)
{
    struct summary_value v;
    summary_value_init(&v);
    const char *md = "# Title\n\n*caf\xc3\xa9* \xf0\x9f\x98\x80";
    REQUIRE(summary_text(&v, "notes", md, strlen(md), NULL) == 0);
    check_text(&v, "notes", 0, NULL, &md, 1);

    const char *row[3] = {"a", "", "c\xc3\xa9"};
    struct summary_bytes b3[3] = {{row[0], 1}, {row[1], 0}, {row[2], 3}};
    size_t d1[1] = {3};
    int64_t w1[1] = {3};
    REQUIRE(summary_text_array(&v, "list", b3, 1, d1, NULL) == 0);
    check_text(&v, "list", 1, w1, row, 3);

    const char *cells[6] = {"r0c0", "r0c1", "r0c2", "r1c0", "r1c1", "r1c2"};
    struct summary_bytes b6[6];
    for (int i = 0; i < 6; i++) {
        b6[i].data = cells[i];
        b6[i].len = 4;
    }
    size_t d2[2] = {2, 3};
    int64_t w2[2] = {2, 3};
    struct summary_meta meta = {"Table", "2x3"};
    REQUIRE(summary_text_array(&v, "table", b6, 2, d2, &meta) == 0);
    check_text(&v, "table", 2, w2, cells, 6);

    size_t d0[1] = {0};
    int64_t w0[1] = {0};
    REQUIRE(summary_text_array(&v, "empty", NULL, 1, d0, NULL) == 0);
    check_text(&v, "empty", 1, w0, NULL, 0);

    /* Invalid UTF-8 anywhere in the text is refused. */
    CHECK_EQ(summary_text(&v, "t", "ok\xc0\xaf", 4, NULL), -EILSEQ);
    b6[4].data = "\xed\xb0\x80";
    b6[4].len = 3;
    CHECK_EQ(summary_text_array(&v, "t", b6, 2, d2, NULL), -EILSEQ);
    size_t d3[3] = {1, 1, 1};
    CHECK_EQ(summary_text_array(&v, "t", b6, 3, d3, NULL), -EINVAL);
    summary_value_done(&v);
}

/* ---- custom ---- */

static void test_custom(void)
{
    struct summary_value v;
    summary_value_init(&v);
    /* pr_curves: float [6, 3], content PrCurvePluginData{version 0,
     * num_thresholds 3} = 10 03. */
    static const uint8_t content[] = {0x10, 0x03};
    double pr[18];
    for (int i = 0; i < 18; i++)
        pr[i] = i * 0.5;
    size_t dims[2] = {6, 3};
    REQUIRE(summary_custom_numeric(&v, "pr", "pr_curves", content, 2,
                                   TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, pr, 2, dims,
                                   TENSORBOARD__DATA_TYPE__DT_FLOAT, NULL) == 0);
    Tensorboard__Summary *s = decode(&v, true);
    REQUIRE(s);
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK_STR(val->metadata->plugin_data->plugin_name, "pr_curves");
    CHECK(val->metadata->plugin_data->content.len == 2 &&
          memcmp(val->metadata->plugin_data->content.data, content, 2) == 0);
    CHECK_EQ(val->tensor->dtype, TENSORBOARD__DATA_TYPE__DT_FLOAT);
    REQUIRE(val->tensor->tensor_shape->n_dim == 2);
    CHECK_EQ(val->tensor->tensor_shape->dim[0]->size, 6);
    CHECK_EQ(val->tensor->tensor_shape->dim[1]->size, 3);
    REQUIRE(val->tensor->n_float_val == 18);
    for (int i = 0; i < 18; i++)
        CHECK(val->tensor->float_val[i] == (float)pr[i]);
    tensorboard__summary__free_unpacked(s, NULL);

    /* Double, rank 0. */
    double one = 1.0 / 3;
    REQUIRE(summary_custom_numeric(&v, "d", "myplugin", NULL, 0, 0, &one, 0, NULL,
                                   TENSORBOARD__DATA_TYPE__DT_DOUBLE, NULL) == 0);
    s = decode(&v, true);
    REQUIRE(s);
    CHECK_EQ(s->value[0]->metadata->data_class, 0);
    CHECK_EQ(s->value[0]->tensor->n_double_val, 1);
    CHECK(s->value[0]->tensor->double_val[0] == one);
    tensorboard__summary__free_unpacked(s, NULL);
    CHECK_EQ(summary_custom_numeric(&v, "d", "p", NULL, 0, 0, &one, 0, NULL,
                                    TENSORBOARD__DATA_TYPE__DT_INT32, NULL), -EINVAL);

    /* custom_scalars layout: a rank-0 string. */
    struct summary_bytes layout = {"\x0a\x00", 2};
    REQUIRE(summary_custom_strings(&v, "custom_scalars__config__", "custom_scalars", NULL, 0,
                                   TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, &layout, 0,
                                   NULL, NULL) == 0);
    s = decode(&v, true);
    REQUIRE(s);
    CHECK_EQ(s->value[0]->tensor->dtype, TENSORBOARD__DATA_TYPE__DT_STRING);
    CHECK(s->value[0]->tensor->n_string_val == 1 && s->value[0]->tensor->string_val[0].len == 2);
    tensorboard__summary__free_unpacked(s, NULL);

    /* Pass-through TensorProto bytes: int64 [2] from protobuf-c. */
    int64_t iv[2] = {7, -9};
    Tensorboard__TensorShapeProto__Dim dim = TENSORBOARD__TENSOR_SHAPE_PROTO__DIM__INIT;
    dim.size = 2;
    Tensorboard__TensorShapeProto__Dim *dimp = &dim;
    Tensorboard__TensorShapeProto shape = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = &dimp;
    Tensorboard__TensorProto t = TENSORBOARD__TENSOR_PROTO__INIT;
    t.dtype = TENSORBOARD__DATA_TYPE__DT_INT64;
    t.tensor_shape = &shape;
    t.n_int64_val = 2;
    t.int64_val = iv;
    uint8_t tb[64];
    size_t tl = tensorboard__tensor_proto__pack(&t, tb);
    struct summary_meta meta = {"Mine", NULL};
    REQUIRE(summary_custom(&v, "raw", "mine", "c", 1, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR,
                           tb, tl, &meta) == 0);
    s = decode(&v, true);
    REQUIRE(s);
    CHECK_STR(s->value[0]->metadata->display_name, "Mine");
    REQUIRE(s->value[0]->tensor && s->value[0]->tensor->n_int64_val == 2);
    CHECK_EQ(s->value[0]->tensor->int64_val[1], -9);
    tensorboard__summary__free_unpacked(s, NULL);

    /* Bytes that are not a TensorProto, bad plugin names or data classes. */
    static const uint8_t junk[] = {0x0a, 0x7f, 0x01};
    CHECK_EQ(summary_custom(&v, "raw", "mine", NULL, 0, 0, junk, sizeof junk, NULL), -EBADMSG);
    CHECK_EQ(summary_custom(&v, "raw", "", NULL, 0, 0, tb, tl, NULL), -EINVAL);
    CHECK_EQ(summary_custom(&v, "raw", "m\xff", NULL, 0, 0, tb, tl, NULL), -EILSEQ);
    CHECK_EQ(summary_custom(&v, "raw", "m", NULL, 0, 4, tb, tl, NULL), -EINVAL);
    CHECK_EQ(summary_custom(&v, "raw", "m", NULL, 1, 0, tb, tl, NULL), -EINVAL);
    CHECK_EQ(summary_custom(&v, "raw", "m", "c", SUMMARY_MAX_CONTENT + 1, 0, tb, tl, NULL),
             -EMSGSIZE);
    size_t huge[2] = {SIZE_MAX / 2, 4};
    CHECK_EQ(summary_custom_numeric(&v, "d", "p", NULL, 0, 0, pr, 2, huge,
                                    TENSORBOARD__DATA_TYPE__DT_FLOAT, NULL), -EMSGSIZE);
    summary_value_done(&v);
}

TEST_MAIN(TEST(test_utf8), TEST(test_scalar_bytes), TEST(test_scalar_nonfinite),
          TEST(test_metadata_optional), TEST(test_tag_rules), TEST(test_text), TEST(test_custom))
