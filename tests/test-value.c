/* value: migrations, inference, decoding and JSON of single values. The
 * expected results are worked out by hand from TensorBoard's rules
 * (shared/golden/README.md), not taken from the code under test. */
#include <errno.h>

#include "buf.h"
#include "hparams.pb-c.h"
#include "plugins.pb-c.h"
#include "struct.pb-c.h"
#include "test.h"
#include "value_json.h"

/* Helpers building protobuf-c messages on the stack. */

static Tensorboard__SummaryMetadata__PluginData pd_;
static Tensorboard__SummaryMetadata md_;

static Tensorboard__SummaryMetadata *metadata(const char *plugin, int data_class,
                                              const uint8_t *content, size_t len)
{
    tensorboard__summary_metadata__plugin_data__init(&pd_);
    tensorboard__summary_metadata__init(&md_);
    pd_.plugin_name = (char *)plugin;
    pd_.content.data = (uint8_t *)content;
    pd_.content.len = len;
    md_.plugin_data = &pd_;
    md_.data_class = (Tensorboard__DataClass)data_class;
    return &md_;
}

static char *json_text(const struct decoded_value *v)
{
    cJSON *j = value_to_json(v);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    if (!j || value_json_print(&b, j) < 0 || buf_append(&b, "", 1) < 0) {
        cJSON_Delete(j);
        buf_free(&b);
        return strdup("(error)");
    }
    cJSON_Delete(j);
    return (char *)b.data;
}

static void test_simple_value(void)
{
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "loss";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    sv.simple_value = 0.1f;
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_SCALAR);
    CHECK(v.legacy);
    CHECK(v.meta.present);
    CHECK_STR(v.meta.plugin, "scalars");
    CHECK_STR(v.meta.display_name, "loss");   /* migration: display name = tag */
    CHECK_EQ(v.meta.data_class_written, 0);
    CHECK_EQ(v.meta.data_class, 1);           /* inferred from "scalars" */
    CHECK_EQ(v.dtype, 1);
    CHECK_EQ(v.shape.rank, 0);
    CHECK(v.scalar == (double)0.1f);
    char *s = json_text(&v);
    CHECK_STR(s, "0.10000000149011612");
    free(s);
    value_done(&v);
}

static void test_scalar_needs_kept_metadata(void)
{
    float f = 2.5f;
    Tensorboard__TensorProto t;
    tensorboard__tensor_proto__init(&t);
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    t.n_float_val = 1;
    t.float_val = &f;
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "x";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    sv.tensor = &t;
    struct decoded_value v;
    value_init(&v);

    /* No metadata anywhere: a generic tensor no dashboard lists. */
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_TENSOR);
    CHECK(!v.meta.present);
    CHECK_STR(v.plugin, "");

    /* A later value of a tag whose first value said "scalars". */
    struct value_meta kept;
    value_meta_init(&kept);
    kept.present = true;
    kept.plugin = strdup("scalars");
    kept.display_name = strdup("");
    kept.description = strdup("");
    kept.data_class = 1;
    REQUIRE(value_decode(&sv, &kept, &kept, &v) == 0);
    CHECK_EQ(v.kind, VALUE_SCALAR);
    CHECK(v.scalar == 2.5);
    CHECK_STR(v.plugin, "scalars");

    /* Written with metadata (no data class): inferred only when it is the
     * tag's first value in the file. */
    sv.metadata = metadata("scalars", 0, NULL, 0);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.meta.data_class, 1);
    struct value_meta no_md;
    value_meta_init(&no_md);   /* the first value in this file had none */
    REQUIRE(value_decode(&sv, &no_md, NULL, &v) == 0);
    CHECK_EQ(v.meta.data_class, 0);
    CHECK_EQ(v.kind, VALUE_SCALAR);   /* the plugin still decides the kind */
    value_done(&v);
    value_meta_done(&kept);
}

static void test_legacy_histogram(void)
{
    /* Buckets (count): 0 | 2 | 3 | 0 with right edges 1, 2, 3, 4; min 0.1,
     * max 3.5. Empty end buckets go; first left = min, last right = max;
     * float32 rounding: 0.1 -> 0.10000000149011612. */
    double limits[] = {1, 2, 3, 4}, counts[] = {0, 2, 3, 0};
    Tensorboard__HistogramProto h;
    tensorboard__histogram_proto__init(&h);
    h.min = 0.1;
    h.max = 3.5;
    h.n_bucket_limit = 4;
    h.bucket_limit = limits;
    h.n_bucket = 4;
    h.bucket = counts;
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "h";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO;
    sv.histo = &h;
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_HISTOGRAM);
    CHECK_STR(v.meta.plugin, "histograms");
    CHECK_EQ(v.meta.data_class, 2);
    CHECK_EQ(v.dtype, 1);
    CHECK_EQ(v.shape.rank, 2);
    CHECK_EQ(v.shape.dims[0], 2);
    CHECK_EQ(v.shape.dims[1], 3);
    char *s = json_text(&v);
    CHECK_STR(s, "[[0.10000000149011612,2,2],[2,3.5,3]]");
    free(s);

    /* bucket_limit ending before the last non-empty bucket: TensorBoard's
     * migration raises and the value leaves no trace. */
    h.n_bucket_limit = 1;
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_INVALID);
    CHECK(!v.has_tensor);
    CHECK(!v.meta.present);

    /* All empty: a [0,3] tensor. */
    double zero[] = {0, 0};
    h.n_bucket_limit = 2;
    h.n_bucket = 2;
    h.bucket = zero;
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_HISTOGRAM);
    CHECK_EQ(v.shape.dims[0], 0);
    value_done(&v);
}

static void test_legacy_image(void)
{
    static const uint8_t png[] = "\x89PNG fake";
    Tensorboard__Summary__Image im;
    tensorboard__summary__image__init(&im);
    im.width = 300;
    im.height = 7;
    im.encoded_image_string.data = (uint8_t *)png;
    im.encoded_image_string.len = sizeof png - 1;
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "img";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE;
    sv.image = &im;
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_IMAGE);
    CHECK_EQ(v.meta.data_class, 3);
    CHECK_EQ(v.shape.dims[0], 3);
    char hex[65];
    value_sha256_hex(png, sizeof png - 1, hex);
    char want[256];
    snprintf(want, sizeof want, "{\"width\":300,\"height\":7,\"count\":1,\"sha256\":[\"%s\"]}", hex);
    char *s = json_text(&v);
    CHECK_STR(s, want);
    free(s);
    cJSON *c = value_content_json("images", v.meta.content, v.meta.content_len);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK(value_json_print(&b, c) == 0 && buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "{\"converted_to_tensor\":true}");
    buf_free(&b);
    cJSON_Delete(c);
    value_done(&v);
}

/* A 16-bit mono WAV header for n_frames frames at rate, then the samples. */
static size_t make_wav(uint8_t *out, uint32_t rate, uint32_t n_frames)
{
    uint32_t data = n_frames * 2;
    uint8_t *p = out;
#define U32(x) do { uint32_t v_ = (x); for (int i_ = 0; i_ < 4; i_++) *p++ = (uint8_t)(v_ >> (8 * i_)); } while (0)
#define U16(x) do { uint16_t v_ = (x); *p++ = (uint8_t)v_; *p++ = (uint8_t)(v_ >> 8); } while (0)
    memcpy(p, "RIFF", 4); p += 4; U32(36 + data);
    memcpy(p, "WAVE", 4); p += 4;
    memcpy(p, "fmt ", 4); p += 4; U32(16); U16(1); U16(1); U32(rate); U32(rate * 2); U16(2); U16(16);
    memcpy(p, "data", 4); p += 4; U32(data);
    memset(p, 0, data);
    p += data;
#undef U32
#undef U16
    return (size_t)(p - out);
}

static void test_audio_projection(void)
{
    static uint8_t wav[44 + 200];
    size_t wav_len = make_wav(wav, 8000, 100);
    CHECK_EQ(wav_len, sizeof wav);
    struct value_clip clip;
    memset(&clip, 0, sizeof clip);
    CHECK(value_wav_info(wav, wav_len, &clip) == 0);
    CHECK_EQ(clip.sample_rate, 8000);
    CHECK_EQ(clip.channels, 1);
    CHECK_EQ(clip.frames, 100);
    CHECK(value_wav_info(wav, 20, &clip) < 0);
    CHECK(value_wav_info((const uint8_t *)"RIFX....WAVE", 12, &clip) < 0);

    /* [2,2] (clip, label) with audio metadata and no data class: projected
     * to [2] on read. */
    ProtobufCBinaryData strs[4] = {
        {wav_len, wav}, {5, (uint8_t *)"label"}, {3, (uint8_t *)"abc"}, {0, NULL},
    };
    Tensorboard__TensorShapeProto__Dim d0, d1, *dims[2] = {&d0, &d1};
    tensorboard__tensor_shape_proto__dim__init(&d0);
    tensorboard__tensor_shape_proto__dim__init(&d1);
    d0.size = 2;
    d1.size = 2;
    Tensorboard__TensorShapeProto shape;
    tensorboard__tensor_shape_proto__init(&shape);
    shape.n_dim = 2;
    shape.dim = dims;
    Tensorboard__TensorProto t;
    tensorboard__tensor_proto__init(&t);
    t.dtype = TENSORBOARD__DATA_TYPE__DT_STRING;
    t.tensor_shape = &shape;
    t.n_string_val = 4;
    t.string_val = strs;
    static const uint8_t audio_content[] = {0x10, 0x0b};   /* encoding WAV */
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "a";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    sv.tensor = &t;
    sv.metadata = metadata("audio", 0, audio_content, sizeof audio_content);
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_AUDIO);
    CHECK_EQ(v.shape.rank, 1);
    CHECK_EQ(v.shape.dims[0], 2);
    REQUIRE(v.n_clips == 2);
    CHECK(v.clips[0].is_wav);
    CHECK_EQ(v.clips[0].frames, 100);
    CHECK(!v.clips[1].is_wav);        /* "abc", the second row's clip */
    CHECK_EQ(v.clips[1].bytes.len, 3);
    cJSON *c = value_content_json("audio", v.meta.content, v.meta.content_len);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "encoding")), "WAV");
    cJSON_Delete(c);

    /* With the data class set, nothing is projected: 4 "clips". */
    sv.metadata = metadata("audio", 3, audio_content, sizeof audio_content);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_AUDIO);
    CHECK_EQ(v.shape.rank, 2);
    CHECK_EQ(v.n_clips, 4);
    value_done(&v);
}

static void test_hparams_without_tensor(void)
{
    /* HParamsPluginData{session_start_info{hparams{lr: 0.5, opt: "adam",
     * bn: true}, group_name "g"}} packed with protobuf-c. */
    Google__Protobuf__Value lr, opt, bn;
    google__protobuf__value__init(&lr);
    google__protobuf__value__init(&opt);
    google__protobuf__value__init(&bn);
    lr.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    lr.number_value = 0.5;
    opt.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    opt.string_value = "adam";
    bn.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
    bn.bool_value = 1;
    Tensorboard__Hparams__SessionStartInfo__HparamsEntry e[3], *ep[3] = {&e[0], &e[1], &e[2]};
    const char *keys[3] = {"lr", "opt", "bn"};
    Google__Protobuf__Value *vals[3] = {&lr, &opt, &bn};
    for (int i = 0; i < 3; i++) {
        tensorboard__hparams__session_start_info__hparams_entry__init(&e[i]);
        e[i].key = (char *)keys[i];
        e[i].value = vals[i];
    }
    Tensorboard__Hparams__SessionStartInfo ssi;
    tensorboard__hparams__session_start_info__init(&ssi);
    ssi.n_hparams = 3;
    ssi.hparams = ep;
    ssi.group_name = "g";
    Tensorboard__Hparams__HParamsPluginData pdata;
    tensorboard__hparams__hparams_plugin_data__init(&pdata);
    pdata.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO;
    pdata.session_start_info = &ssi;
    uint8_t packed[256];
    size_t n = tensorboard__hparams__hparams_plugin_data__pack(&pdata, packed);

    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "_hparams_/session_start_info";
    sv.metadata = metadata("hparams", 0, packed, n);
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_HPARAMS);
    CHECK(v.has_tensor);          /* the empty DT_FLOAT [0] TensorBoard adds */
    CHECK_EQ(v.dtype, 1);
    CHECK_EQ(v.shape.rank, 1);
    CHECK_EQ(v.shape.dims[0], 0);
    cJSON *want = cJSON_Parse("{\"session_start_info\":{\"hparams\":{\"lr\":0.5,\"opt\":\"adam\","
                              "\"bn\":true},\"group_name\":\"g\"}}");
    cJSON *got = value_to_json(&v);
    CHECK(cJSON_Compare(want, got, 1));
    cJSON_Delete(want);
    cJSON_Delete(got);

    /* With data class TENSOR set, no tensor is added: no data point. */
    sv.metadata = metadata("hparams", 2, packed, n);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_EMPTY);
    CHECK(!v.has_tensor);
    value_done(&v);

    /* Enums by name, proto3 defaults omitted. */
    Tensorboard__Hparams__SessionEndInfo sei;
    tensorboard__hparams__session_end_info__init(&sei);
    sei.status = TENSORBOARD__HPARAMS__STATUS__STATUS_SUCCESS;
    pdata.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO;
    pdata.session_end_info = &sei;
    n = tensorboard__hparams__hparams_plugin_data__pack(&pdata, packed);
    cJSON *c = value_content_json("hparams", packed, n);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK(value_json_print(&b, c) == 0 && buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "{\"session_end_info\":{\"status\":\"STATUS_SUCCESS\"}}");
    buf_free(&b);
    cJSON_Delete(c);

    /* Garbage content. */
    static const uint8_t bad[] = {0x12, 0x7f};
    c = value_content_json("hparams", bad, sizeof bad);
    CHECK(cJSON_GetObjectItem(c, "undecodable_base64") != NULL);
    cJSON_Delete(c);
    c = value_content_json("someplugin", bad, sizeof bad);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "base64")), "En8=");
    cJSON_Delete(c);
}

static void test_text_and_generic_strings(void)
{
    ProtobufCBinaryData strs[2] = {{2, (uint8_t *)"ok"}, {3, (uint8_t *)"a\xff" "b"}};
    Tensorboard__TensorShapeProto__Dim d0, *dims[1] = {&d0};
    tensorboard__tensor_shape_proto__dim__init(&d0);
    d0.size = 2;
    Tensorboard__TensorShapeProto shape;
    tensorboard__tensor_shape_proto__init(&shape);
    shape.n_dim = 1;
    shape.dim = dims;
    Tensorboard__TensorProto t;
    tensorboard__tensor_proto__init(&t);
    t.dtype = TENSORBOARD__DATA_TYPE__DT_STRING;
    t.tensor_shape = &shape;
    t.n_string_val = 2;
    t.string_val = strs;
    Tensorboard__Summary__Value sv;
    tensorboard__summary__value__init(&sv);
    sv.tag = "t";
    sv.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    sv.tensor = &t;
    sv.metadata = metadata("text", 0, NULL, 0);
    struct decoded_value v;
    value_init(&v);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_TEXT);
    CHECK_EQ(v.meta.data_class, 2);
    char *s = json_text(&v);
    CHECK_STR(s, "[\"ok\",\"a\xef\xbf\xbd" "b\"]");   /* invalid byte -> U+FFFD */
    free(s);

    /* Unknown plugin: generic; invalid UTF-8 as digest and size. */
    sv.metadata = metadata("custom", 0, NULL, 0);
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_TENSOR);
    cJSON *j = value_to_json(&v);
    REQUIRE(cJSON_GetArraySize(j) == 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(j, 0)), "ok");
    CHECK_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1), "size")), 3);
    cJSON_Delete(j);

    /* Count not matching the shape: undecodable. */
    d0.size = 3;
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_INVALID);
    /* One value fills any shape ... up to the element limit. */
    t.n_string_val = 1;
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_TENSOR);
    CHECK_EQ(v.n_strings, 3);
    d0.size = (int64_t)VALUE_MAX_ELEMENTS + 1;
    REQUIRE(value_decode(&sv, NULL, NULL, &v) == 0);
    CHECK_EQ(v.kind, VALUE_INVALID);
    CHECK(v.strings == NULL);
    value_done(&v);
}

static void test_numbers_json(void)
{
    char buf[64];
    value_format_double(buf, sizeof buf, (double)0.1f);
    CHECK_STR(buf, "0.10000000149011612");
    value_format_double(buf, sizeof buf, 0.1);
    CHECK_STR(buf, "0.1");
    value_format_double(buf, sizeof buf, 1700000000.25);
    CHECK_STR(buf, "1700000000.25");
    value_format_double(buf, sizeof buf, -INFINITY);
    CHECK_STR(buf, "-Infinity");
    cJSON *n = value_json_number(NAN);
    CHECK_STR(cJSON_GetStringValue(n), "NaN");
    cJSON_Delete(n);
    /* cJSON's own printer would print 15 digits here; ours reads back. */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(0.10000000149011612));
    cJSON_AddItemToArray(a, cJSON_CreateString("q\"\n"));
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK(value_json_print(&b, a) == 0 && buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "[0.10000000149011612,\"q\\\"\\n\"]");
    buf_free(&b);
    cJSON_Delete(a);
}

/* The definition value_format_double() implements faster: the fewest of
 * 15..17 significant digits (as %.Ng prints them) that strtod reads back. */
static int reference_format(char *buf, size_t size, double d)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return n;
}

static void check_format(double d, unsigned *mismatches)
{
    char a[64], b[64];
    int na = value_format_double(a, sizeof a, d);
    int nb = reference_format(b, sizeof b, d);
    if (na != nb || strcmp(a, b) != 0) {
        if (++*mismatches <= 5)
            fprintf(stderr, "  %a: got %s, expected %s\n", d, a, b);
    }
}

static void test_format_double_matches_printf(void)
{
    unsigned bad = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t r = x * 2685821657736338717ull;
        double d;
        memcpy(&d, &r, sizeof d);
        if (isfinite(d))
            check_format(d, &bad);                      /* any bit pattern */
        float f;
        uint32_t r32 = (uint32_t)(r >> 32);
        memcpy(&f, &r32, sizeof f);
        if (isfinite(f))
            check_format((double)f, &bad);              /* widened floats */
        check_format((double)(int64_t)(r >> 11) * 1e-3, &bad);   /* wall times */
        check_format((double)(r % 100000) / 1000.0, &bad);        /* short decimals */
        check_format(1700000000.0 + (double)(r % 10000000) * 1e-6, &bad);
    }
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e-5, 1e-4, 9.9999999999999995e-5,
                                  1e15, 1e16, 1e17, 1e22, 1e23, 123456789012345678.0,
                                  999999999999999.9, 9999999999999998.0, 0.1, 0.3,
                                  5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                  4.35, 0.15, 2.675, 1.0000000000000002};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        check_format(edge[i], &bad);
    for (int e = -30; e <= 30; e++)
        for (int m = 1; m < 1000; m += 37)
            check_format((double)m * pow(10.0, e), &bad);
    CHECK_EQ(bad, 0);
}

TEST_MAIN(TEST(test_format_double_matches_printf), TEST(test_simple_value), TEST(test_scalar_needs_kept_metadata),
          TEST(test_legacy_histogram), TEST(test_legacy_image), TEST(test_audio_projection),
          TEST(test_hparams_without_tensor), TEST(test_text_and_generic_strings),
          TEST(test_numbers_json))
