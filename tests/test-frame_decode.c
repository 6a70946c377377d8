/* frame_decode: table-driven tests of the binary protocol's decoder --
 * frame headers and the magic, Batch payloads given as raw bytes (bad wire
 * types, truncation, unknown fields at any depth), and requests built with
 * protobuf-c, each with the error code and the words of the reply expected. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "frame_decode.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "test.h"

/* ---- headers and magic ---------------------------------------------------- */

static void test_magic(void)
{
    CHECK_EQ(frame_magic_check("TFEVBIN\x01", 8), 1);
    CHECK_EQ(frame_magic_check("TFEVBIN\x01{\"op\"", 14), 1);
    CHECK_EQ(frame_magic_check("TFEV", 4), 0);
    CHECK_EQ(frame_magic_check("", 0), 0);
    CHECK_EQ(frame_magic_check("{\"op\":\"ping\"}", 13), -EPROTO);
    CHECK_EQ(frame_magic_check(" {", 2), -EPROTO);
    CHECK_EQ(frame_magic_check("TFEVBIN\x02", 8), -EPROTO);
    CHECK_EQ(frame_magic_check("TFEVBIn", 7), -EPROTO);
}

static void test_header(void)
{
    static const struct {
        const char *name;
        uint8_t bytes[8];
        size_t len;
        size_t max;
        int want;
        uint32_t want_len;
    } cases[] = {
        {"batch", {3, 0, 0, 0, 1}, 5, 100, 0, 3},
        {"empty payload", {0, 0, 0, 0, 1}, 5, 100, 0, 0},
        {"little endian", {0x01, 0x02, 0, 0, 1}, 5, 1 << 20, 0, 0x201},
        {"at the limit", {100, 0, 0, 0, 1}, 5, 100, 0, 100},
        {"above the limit", {101, 0, 0, 0, 1}, 5, 100, -EMSGSIZE, 0},
        {"lying length", {0xff, 0xff, 0xff, 0xff, 1}, 5, 16 << 20, -EMSGSIZE, 0},
        {"kind 0", {1, 0, 0, 0, 0}, 5, 100, -EPROTO, 0},
        {"kind 9", {1, 0, 0, 0, 9}, 5, 100, -EPROTO, 0},
        {"JSON text", {'{', '"', 'o', 'p', '"'}, 5, 100, -EPROTO, 0},
        {"short", {3, 0, 0, 0}, 4, 100, -EAGAIN, 0},
        {"nothing", {0}, 0, 100, -EAGAIN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t len = 0;
        uint8_t kind = 0;
        int r = frame_header_read(cases[i].bytes, cases[i].len, cases[i].max, &len, &kind);
        if (r != cases[i].want)
            fprintf(stderr, "header case '%s': %d, want %d\n", cases[i].name, r, cases[i].want);
        CHECK_EQ(r, cases[i].want);
        if (r == 0)
            CHECK_EQ(len, cases[i].want_len);
    }
    uint8_t h[FRAME_HEADER_LEN];
    frame_header_write(h, 0x01020304, FRAME_REPLY);
    CHECK(h[0] == 4 && h[1] == 3 && h[2] == 2 && h[3] == 1 && h[4] == 2);
}

/* ---- raw Batch payloads --------------------------------------------------- */

static void test_raw_batches(void)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
        int want;
        const char *want_err;   /* a substring of the error, or NULL */
        size_t want_requests;
    } cases[] = {
        {"empty batch", "", 0, 0, NULL, 0},
        {"one ping", "\x0a\x02\x5a\x00", 4, 0, NULL, 1},
        {"ping with id", "\x0a\x04\x08\x07\x5a\x00", 6, 0, NULL, 1},
        {"two pings", "\x0a\x02\x5a\x00\x0a\x02\x5a\x00", 8, 0, NULL, 2},
        {"garbage", "\xff\xff\xff", 3, -EBADMSG, "not a tfevents.Batch", 0},
        {"request as varint (wrong wire type)", "\x08\x01", 2, -EBADMSG, "wire type", 0},
        {"id as bytes (wrong wire type)", "\x0a\x03\x0a\x01\x07", 5, -EBADMSG, NULL, 0},
        {"truncated request", "\x0a\x05\x5a\x00", 4, -EBADMSG, "truncated", 0},
        {"length past the end", "\x0a\x7f", 2, -EBADMSG, NULL, 0},
        {"unknown top-level field", "\x10\x01", 2, -EINVAL, "unknown field 2 in tfevents.Batch", 0},
        {"unknown field in a request", "\x0a\x05\x5a\x00\xf8\x06\x01", 7, -EINVAL,
         "unknown field 111 in tfevents.Request", 0},
        {"unknown field in Empty", "\x0a\x04\x5a\x02\x08\x01", 6, -EINVAL,
         "unknown field 1 in tfevents.Empty", 0},
        /* Log{logdir "a", values: Value{tag "t", scalar, field 50}} */
        {"unknown field in a value",
         "\x0a\x16\x12\x14\x0a\x01\x61\x2a\x0f\x12\x01\x74\x51\x00\x00\x00\x00\x00\x00\xf0\x3f"
         "\x90\x03\x01",
         24, -EINVAL, "unknown field 50 in tfevents.Value", 0},
        {"log without its required logdir", "\x0a\x04\x12\x02\x2a\x00", 6, -EBADMSG, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Tfevents__Batch *b = NULL;
        char err[REQUEST_ERROR_SIZE];
        int r = frame_decode_batch((const uint8_t *)cases[i].bytes, cases[i].len, &b, err,
                                   sizeof err);
        /* Unknown fields inside a request are found per request. */
        struct request m;
        request_init(&m);
        for (size_t k = 0; r == 0 && k < b->n_requests; k++) {
            r = frame_decode_request(b->requests[k], &m, err, sizeof err);
            if (r < 0 && r != -EINVAL)
                r = 0;   /* other refusals are the request cases' business */
            if (r < 0) {
                frame_batch_free(b);
                b = NULL;
            }
        }
        request_done(&m);
        if (r != cases[i].want)
            fprintf(stderr, "batch case '%s': %d (%s), want %d\n", cases[i].name, r, err,
                    cases[i].want);
        CHECK_EQ(r, cases[i].want);
        if (r == 0) {
            CHECK(b != NULL);
            CHECK_EQ(b->n_requests, cases[i].want_requests);
        } else {
            CHECK(b == NULL);
            CHECK(err[0] != '\0');
            if (cases[i].want_err && cases[i].want != -EBADMSG && !strstr(err, cases[i].want_err)) {
                fprintf(stderr, "batch case '%s': error '%s' lacks '%s'\n", cases[i].name, err,
                        cases[i].want_err);
                CHECK(0);
            }
        }
        frame_batch_free(b);
    }
}

/* ---- requests --------------------------------------------------------------- */

/* Storage for one request built by a case. */
struct s {
    Tfevents__Request rq;
    Tfevents__Log log;
    Tfevents__Value val[2];
    Tfevents__Value *vals[2];
    Tfevents__Text text;
    char *strings[4];
    uint64_t shape[4];
    Tfevents__Histogram hist;
    double d[8];
    float f[8];
    Tfevents__Image image;
    ProtobufCBinaryData blob;
    uint8_t bytes[256];
    Tfevents__Audio audio;
    Tfevents__Custom custom;
    Tfevents__StepSet step_set;
    Tfevents__StepGet step_get;
    Tfevents__Flush flush;
    Tfevents__Restart restart;
    Tfevents__Empty empty;
    Tfevents__HparamsConfig hc;
    Tfevents__HparamInfo hi;
    Tfevents__HparamInfo *his[1];
    Tfevents__HparamsSessionEnd he;
};

static void init(struct s *s)
{
    memset(s, 0, sizeof *s);
    tfevents__request__init(&s->rq);
    tfevents__log__init(&s->log);
    for (int i = 0; i < 2; i++) {
        tfevents__value__init(&s->val[i]);
        s->vals[i] = &s->val[i];
    }
    tfevents__text__init(&s->text);
    tfevents__histogram__init(&s->hist);
    tfevents__image__init(&s->image);
    tfevents__audio__init(&s->audio);
    tfevents__custom__init(&s->custom);
    tfevents__step_set__init(&s->step_set);
    tfevents__step_get__init(&s->step_get);
    tfevents__flush__init(&s->flush);
    tfevents__restart__init(&s->restart);
    tfevents__empty__init(&s->empty);
    tfevents__hparams_config__init(&s->hc);
    tfevents__hparam_info__init(&s->hi);
    s->his[0] = &s->hi;
    tfevents__hparams_session_end__init(&s->he);
}

/* A log of one value in logdir "exp": the cases change what they need. */
static void log1(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_LOG;
    s->rq.log = &s->log;
    s->log.logdir = "exp";
    s->log.values = s->vals;
    s->log.n_values = 1;
    s->val[0].tag = "loss";
}

static void scalar(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_SCALAR;
    s->val[0].scalar = 0.5;
}

static void b_scalar(struct s *s) { scalar(s); }
static void b_scalar_id(struct s *s) { scalar(s); s->rq.has_id = true; s->rq.id = UINT64_MAX; }
static void b_step(struct s *s) { scalar(s); s->log.step_kind_case = TFEVENTS__LOG__STEP_KIND_STEP; s->log.step = 42; }
static void b_step_max(struct s *s) { b_step(s); s->log.step = (UINT64_C(1) << 53); }
static void b_step_big(struct s *s) { b_step(s); s->log.step = (UINT64_C(1) << 53) + 1; }
static void b_current(struct s *s) { scalar(s); s->log.step_kind_case = TFEVENTS__LOG__STEP_KIND_CURRENT; s->log.current = true; }
static void b_current_false(struct s *s) { b_current(s); s->log.current = false; }
static void b_no_values(struct s *s) { scalar(s); s->log.n_values = 0; }
static void b_abs_logdir(struct s *s) { scalar(s); s->log.logdir = "/etc"; }
static void b_up_logdir(struct s *s) { scalar(s); s->log.logdir = "a/../.."; }
static void b_dollar_logdir(struct s *s) { scalar(s); s->log.logdir = "$x"; }
static void b_messy_logdir(struct s *s) { scalar(s); s->log.logdir = "./a//b/"; }
static void b_bad_utf8_logdir(struct s *s) { scalar(s); s->log.logdir = "a\xff"; }
static void b_run(struct s *s) { scalar(s); s->val[0].run = "train/./eval/"; }
static void b_run_up(struct s *s) { scalar(s); s->val[0].run = "../x"; }
static void b_no_tag(struct s *s) { scalar(s); s->val[0].tag = NULL; }
static void b_empty_tag(struct s *s) { scalar(s); s->val[0].tag = ""; }
static void b_dollar_tag(struct s *s) { scalar(s); s->val[0].tag = "$scalar"; }
static void b_no_kind(struct s *s) { log1(s); }
static void b_wall_time(struct s *s) { scalar(s); s->log.has_wall_time = true; s->log.wall_time = 1700000000.25; }
static void b_wall_time_neg(struct s *s) { b_wall_time(s); s->log.wall_time = -1; }
static void b_wall_time_nan(struct s *s) { b_wall_time(s); s->log.wall_time = NAN; }
static void b_two_values(struct s *s)
{
    scalar(s);
    s->log.n_values = 2;
    s->val[1].tag = "acc";
    s->val[1].run = "train";
    s->val[1].kind_case = TFEVENTS__VALUE__KIND_SCALAR;
    s->val[1].scalar = 0.9;
}

static void text(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_TEXT;
    s->val[0].text = &s->text;
    s->text.strings = s->strings;
    s->strings[0] = "a";
    s->strings[1] = "b";
    s->strings[2] = "c";
    s->strings[3] = "d";
    s->text.shape = s->shape;
}
static void b_text(struct s *s) { text(s); s->text.n_strings = 1; }
static void b_text_two_no_shape(struct s *s) { text(s); s->text.n_strings = 2; }
static void b_text_table(struct s *s) { text(s); s->text.n_strings = 4; s->text.n_shape = 2; s->shape[0] = 2; s->shape[1] = 2; }
static void b_text_table_short(struct s *s) { b_text_table(s); s->text.n_strings = 3; }
static void b_text_rank3(struct s *s) { b_text_table(s); s->text.n_shape = 3; s->shape[2] = 1; }
static void b_text_utf8(struct s *s) { b_text(s); s->strings[0] = "\xc3\x28"; }
static void b_text_meta(struct s *s) { b_text(s); s->val[0].display_name = "Notes"; s->val[0].description = "what"; }

static void hist(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_HISTOGRAM;
    s->val[0].histogram = &s->hist;
    s->d[0] = 0.1, s->d[1] = 0.2, s->d[2] = 0.2, s->d[3] = 0.7;
}
static void b_hist(struct s *s) { hist(s); s->hist.values = s->d; s->hist.n_values = 4; }
static void b_hist_buckets(struct s *s)
{
    hist(s);
    s->hist.edges = s->d;
    s->hist.n_edges = 3;
    s->hist.counts = s->d + 4;
    s->d[4] = 1, s->d[5] = 2;
    s->hist.n_counts = 2;
}
static void b_hist_both(struct s *s) { b_hist_buckets(s); s->hist.values = s->d; s->hist.n_values = 4; }
static void b_hist_edges(struct s *s) { b_hist_buckets(s); s->hist.n_edges = 2; }
static void b_hist_nan(struct s *s) { b_hist(s); s->d[1] = NAN; }
static void b_hist_buckets_k(struct s *s) { b_hist(s); s->hist.has_bucket_count = true; s->hist.bucket_count = 1u << 30; }

static void image(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_IMAGE;
    s->val[0].image = &s->image;
    s->image.shape = s->shape;
}
static void b_image_u8(struct s *s)
{
    image(s);
    s->image.has_pixels_u8 = true;
    s->image.pixels_u8.data = s->bytes;
    s->image.pixels_u8.len = 2 * 3 * 3;
    s->image.n_shape = 3;
    s->shape[0] = 2, s->shape[1] = 3, s->shape[2] = 3;
}
static void b_image_u8_short(struct s *s) { b_image_u8(s); s->image.pixels_u8.len--; }
static void b_image_float(struct s *s)
{
    image(s);
    s->image.pixels_float = s->f;
    s->image.n_pixels_float = 4;
    s->image.n_shape = 2;
    s->shape[0] = 2, s->shape[1] = 2;
}
static void b_image_no_shape(struct s *s) { b_image_float(s); s->image.n_shape = 0; }
static void b_image_two_forms(struct s *s) { b_image_u8(s); s->image.pixels_float = s->f; s->image.n_pixels_float = 4; }
static void b_image_png_garbage(struct s *s)
{
    image(s);
    s->blob.data = s->bytes;
    s->blob.len = 10;
    s->image.png = &s->blob;
    s->image.n_png = 1;
}

static void audio(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_AUDIO;
    s->val[0].audio = &s->audio;
    s->audio.samples = s->f;
    s->audio.n_samples = 8;
}
static void b_audio(struct s *s) { audio(s); s->audio.has_sample_rate = true; s->audio.sample_rate = 8000; }
static void b_audio_no_rate(struct s *s) { audio(s); }
static void b_audio_shape(struct s *s) { b_audio(s); s->audio.shape = s->shape; s->audio.n_shape = 2; s->shape[0] = 4; s->shape[1] = 2; }
static void b_audio_bad_shape(struct s *s) { b_audio_shape(s); s->shape[1] = 3; }
static void b_audio_wav_garbage(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_AUDIO;
    s->val[0].audio = &s->audio;
    s->blob.data = s->bytes;
    s->blob.len = 44;
    s->audio.wav = &s->blob;
    s->audio.n_wav = 1;
}

static void custom(struct s *s)
{
    log1(s);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_CUSTOM;
    s->val[0].custom = &s->custom;
    s->custom.plugin = "pr_curves";
}
static void b_custom_numbers(struct s *s)
{
    custom(s);
    s->custom.numbers = s->d;
    s->custom.n_numbers = 6;
    s->custom.shape = s->shape;
    s->custom.n_shape = 2;
    s->shape[0] = 6, s->shape[1] = 1;
}
static void b_custom_bad_shape(struct s *s) { b_custom_numbers(s); s->shape[1] = 2; }
static void b_custom_no_plugin(struct s *s) { b_custom_numbers(s); s->custom.plugin = ""; }
static void b_custom_two_forms(struct s *s)
{
    b_custom_numbers(s);
    s->custom.strings = &s->blob;
    s->custom.n_strings = 1;
}
static void b_custom_strings_rank0(struct s *s)
{
    custom(s);
    s->blob.data = (uint8_t *)"layout";
    s->blob.len = 6;
    s->custom.strings = &s->blob;
    s->custom.n_strings = 1;
    s->custom.has_rank0 = true;
    s->custom.rank0 = true;
}
static void b_custom_data_class(struct s *s) { b_custom_numbers(s); s->custom.has_data_class = true; s->custom.data_class = 7; }
static void b_custom_tensor_garbage(struct s *s)
{
    custom(s);
    s->custom.has_tensor = true;
    s->custom.tensor.data = (uint8_t *)"\xff\xff";
    s->custom.tensor.len = 2;
}

/* A serialized Summary.Value built with protobuf-c into s->bytes. */
static void encoded(struct s *s, bool with_meta, bool count_ok)
{
    log1(s);
    s->val[0].tag = NULL;
    Tensorboard__TensorShapeProto__Dim dim = TENSORBOARD__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorboard__TensorShapeProto__Dim *dims[1] = {&dim};
    Tensorboard__TensorShapeProto shape = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    Tensorboard__TensorProto t = TENSORBOARD__TENSOR_PROTO__INIT;
    float fv[2] = {1.5f, 2.5f};
    dim.size = count_ok ? 2 : 3;
    shape.dim = dims;
    shape.n_dim = 1;
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.float_val = fv;
    t.n_float_val = 2;
    Tensorboard__SummaryMetadata__PluginData pd = TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = "my_plugin";
    Tensorboard__SummaryMetadata md = TENSORBOARD__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    md.data_class = TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR;
    Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = "enc";
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &t;
    if (with_meta)
        v.metadata = &md;
    size_t len = protobuf_c_message_get_packed_size(&v.base);
    REQUIRE(len <= sizeof s->bytes);
    protobuf_c_message_pack(&v.base, s->bytes);
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_ENCODED;
    s->val[0].encoded.data = s->bytes;
    s->val[0].encoded.len = len;
}
static void b_encoded(struct s *s) { encoded(s, true, true); }
static void b_encoded_no_meta(struct s *s) { encoded(s, false, true); }
static void b_encoded_bad_count(struct s *s) { encoded(s, true, false); }
static void b_encoded_with_tag(struct s *s) { encoded(s, true, true); s->val[0].tag = "x"; }
static void b_encoded_garbage(struct s *s)
{
    log1(s);
    s->val[0].tag = NULL;
    s->val[0].kind_case = TFEVENTS__VALUE__KIND_ENCODED;
    s->val[0].encoded.data = (uint8_t *)"\x0a\x7f";
    s->val[0].encoded.len = 2;
}

static void b_step_set(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_STEP_SET;
    s->rq.step_set = &s->step_set;
    s->step_set.logdir = "exp";
    s->step_set.step = -1;
}
static void b_step_set_low(struct s *s) { b_step_set(s); s->step_set.step = -2; }
static void b_step_get(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_STEP_GET;
    s->rq.step_get = &s->step_get;
    s->step_get.logdir = "exp";
}
static void b_flush(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_FLUSH;
    s->rq.flush = &s->flush;
    s->flush.has_sync = true;
    s->flush.sync = true;
}
static void b_close(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_CLOSE;
    s->rq.close = &s->flush;
    s->flush.logdir = "exp";
}
static void b_restart(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_RESTART;
    s->rq.restart = &s->restart;
    s->restart.logdir = "exp";
    s->restart.step = 10;
    s->restart.run = "train";
}
static void b_ping(struct s *s) { s->rq.op_case = TFEVENTS__REQUEST__OP_PING; s->rq.ping = &s->empty; }
static void b_stats(struct s *s) { s->rq.op_case = TFEVENTS__REQUEST__OP_STATS; s->rq.stats = &s->empty; }
static void b_no_op(struct s *s) { s->rq.has_id = true; s->rq.id = 3; }
static void b_hparams_interval(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_CONFIG;
    s->rq.hparams_config = &s->hc;
    s->hc.logdir = "exp";
    s->hc.hparams = s->his;
    s->hc.n_hparams = 1;
    s->hi.name = "lr";
    s->hi.has_min = s->hi.has_max = true;
    s->hi.min = 0.001;
    s->hi.max = 0.1;
}
static void b_hparams_half_interval(struct s *s) { b_hparams_interval(s); s->hi.has_max = false; }
static void b_hparams_reversed(struct s *s) { b_hparams_interval(s); s->hi.min = 1; s->hi.max = 0; }
static void b_session_end(struct s *s)
{
    s->rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END;
    s->rq.hparams_session_end = &s->he;
    s->he.logdir = "exp";
    s->he.status = TFEVENTS__SESSION_STATUS__STATUS_SUCCESS;
}
static void b_session_end_bad(struct s *s) { b_session_end(s); s->he.status = 9; }

static const struct rcase {
    const char *name;
    void (*build)(struct s *);
    int want;
    const char *want_err;   /* substring of the reason */
    enum request_op op;
    size_t n_values;
} rcases[] = {
    {"scalar", b_scalar, 0, NULL, REQUEST_LOG, 1},
    {"scalar with a 64-bit id", b_scalar_id, 0, NULL, REQUEST_LOG, 1},
    {"explicit step", b_step, 0, NULL, REQUEST_LOG, 1},
    {"step 2^53", b_step_max, 0, NULL, REQUEST_LOG, 1},
    {"step past 2^53", b_step_big, -EINVAL, "2^53", 0, 0},
    {"current step", b_current, 0, NULL, REQUEST_LOG, 1},
    {"current false", b_current_false, -EINVAL, "current", 0, 0},
    {"no values", b_no_values, -EINVAL, "empty", 0, 0},
    {"absolute logdir", b_abs_logdir, -EINVAL, "absolute", 0, 0},
    {"logdir above the root", b_up_logdir, -EINVAL, "logdir", 0, 0},
    {"reserved logdir", b_dollar_logdir, -EINVAL, "logdir", 0, 0},
    {"messy logdir", b_messy_logdir, 0, NULL, REQUEST_LOG, 1},
    {"logdir not UTF-8", b_bad_utf8_logdir, -EILSEQ, "UTF-8", 0, 0},
    {"run path", b_run, 0, NULL, REQUEST_LOG, 1},
    {"run above the logdir", b_run_up, -EINVAL, "run", 0, 0},
    {"no tag", b_no_tag, -EINVAL, "tag", 0, 0},
    {"empty tag", b_empty_tag, -EINVAL, "tag", 0, 0},
    {"reserved tag", b_dollar_tag, -EINVAL, "reserved", 0, 0},
    {"value without data", b_no_kind, -EINVAL, "no data", 0, 0},
    {"wall time", b_wall_time, 0, NULL, REQUEST_LOG, 1},
    {"negative wall time", b_wall_time_neg, -EINVAL, "wall_time", 0, 0},
    {"NaN wall time", b_wall_time_nan, -EINVAL, "wall_time", 0, 0},
    {"two values in two runs", b_two_values, 0, NULL, REQUEST_LOG, 2},
    {"text", b_text, 0, NULL, REQUEST_LOG, 1},
    {"two strings without a shape", b_text_two_no_shape, -EINVAL, "one string", 0, 0},
    {"text table", b_text_table, 0, NULL, REQUEST_LOG, 1},
    {"text table one short", b_text_table_short, -EINVAL, "shape holds 4", 0, 0},
    {"text rank 3", b_text_rank3, -EINVAL, "shape", 0, 0},
    {"text not UTF-8", b_text_utf8, -EILSEQ, "loss", 0, 0},
    {"text with display name", b_text_meta, 0, NULL, REQUEST_LOG, 1},
    {"histogram", b_hist, 0, NULL, REQUEST_LOG, 1},
    {"histogram buckets", b_hist_buckets, 0, NULL, REQUEST_LOG, 1},
    {"histogram data and buckets", b_hist_both, -EINVAL, "either", 0, 0},
    {"histogram edges miscounted", b_hist_edges, -EINVAL, "k+1", 0, 0},
    {"histogram NaN", b_hist_nan, -EINVAL, "histogram", 0, 0},
    {"histogram too many buckets", b_hist_buckets_k, -EINVAL, "bucket_count", 0, 0},
    {"image u8", b_image_u8, 0, NULL, REQUEST_LOG, 1},
    {"image u8 one byte short", b_image_u8_short, -EINVAL, "shape holds 18", 0, 0},
    {"image float", b_image_float, 0, NULL, REQUEST_LOG, 1},
    {"image without shape", b_image_no_shape, -EINVAL, "shape", 0, 0},
    {"image two forms", b_image_two_forms, -EINVAL, "exactly one", 0, 0},
    {"image png garbage", b_image_png_garbage, -EINVAL, "image", 0, 0},
    {"audio", b_audio, 0, NULL, REQUEST_LOG, 1},
    {"audio without a rate", b_audio_no_rate, -EINVAL, "sample_rate", 0, 0},
    {"audio [frames, channels]", b_audio_shape, 0, NULL, REQUEST_LOG, 1},
    {"audio shape mismatch", b_audio_bad_shape, -EINVAL, "shape holds", 0, 0},
    {"audio wav garbage", b_audio_wav_garbage, -EINVAL, "audio", 0, 0},
    {"custom numbers", b_custom_numbers, 0, NULL, REQUEST_LOG, 1},
    {"custom shape mismatch", b_custom_bad_shape, -EINVAL, "shape holds", 0, 0},
    {"custom without plugin", b_custom_no_plugin, -EINVAL, "plugin", 0, 0},
    {"custom numbers and strings", b_custom_two_forms, -EINVAL, "exactly one", 0, 0},
    {"custom rank-0 string", b_custom_strings_rank0, 0, NULL, REQUEST_LOG, 1},
    {"custom data class 7", b_custom_data_class, -EINVAL, "data_class", 0, 0},
    {"custom tensor garbage", b_custom_tensor_garbage, -EBADMSG, "custom", 0, 0},
    {"encoded value", b_encoded, 0, NULL, REQUEST_LOG, 1},
    {"encoded without metadata", b_encoded_no_meta, -EINVAL, "plugin", 0, 0},
    {"encoded with a short tensor", b_encoded_bad_count, -EINVAL, "cannot be decoded", 0, 0},
    {"encoded with an outer tag", b_encoded_with_tag, -EINVAL, "its own tag", 0, 0},
    {"encoded garbage", b_encoded_garbage, -EBADMSG, "Summary.Value", 0, 0},
    {"step_set -1", b_step_set, 0, NULL, REQUEST_STEP_SET, 0},
    {"step_set -2", b_step_set_low, -EINVAL, "-1", 0, 0},
    {"step_get", b_step_get, 0, NULL, REQUEST_STEP_GET, 0},
    {"flush sync", b_flush, 0, NULL, REQUEST_FLUSH, 0},
    {"close a logdir", b_close, 0, NULL, REQUEST_CLOSE, 0},
    {"restart", b_restart, 0, NULL, REQUEST_RESTART, 0},
    {"ping", b_ping, 0, NULL, REQUEST_PING, 0},
    {"stats", b_stats, 0, NULL, REQUEST_STATS, 0},
    {"no op", b_no_op, -EINVAL, "needs an op", 0, 0},
    {"hparams interval", b_hparams_interval, 0, NULL, REQUEST_HPARAMS_CONFIG, 1},
    {"hparams half interval", b_hparams_half_interval, -EINVAL, "both", 0, 0},
    {"hparams reversed interval", b_hparams_reversed, -EINVAL, "hparams", 0, 0},
    {"session end", b_session_end, 0, NULL, REQUEST_HPARAMS_SESSION_END, 1},
    {"session end bad status", b_session_end_bad, -EINVAL, "status", 0, 0},
};

/* Every case goes through the whole path: pack, frame_decode_batch,
 * frame_decode_request. */
static void test_requests(void)
{
    struct request m;
    request_init(&m);
    static struct s s;
    for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
        const struct rcase *c = &rcases[i];
        init(&s);
        c->build(&s);
        Tfevents__Request *rqs[1] = {&s.rq};
        Tfevents__Batch batch = TFEVENTS__BATCH__INIT;
        batch.requests = rqs;
        batch.n_requests = 1;
        size_t len = tfevents__batch__get_packed_size(&batch);
        uint8_t *bytes = malloc(len ? len : 1);
        REQUIRE(bytes);
        tfevents__batch__pack(&batch, bytes);
        Tfevents__Batch *b = NULL;
        char err[REQUEST_ERROR_SIZE];
        int r = frame_decode_batch(bytes, len, &b, err, sizeof err);
        free(bytes);
        CHECK_EQ(r, 0);
        if (r < 0) {
            fprintf(stderr, "case '%s': batch: %s\n", c->name, err);
            continue;
        }
        r = frame_decode_request(b->requests[0], &m, err, sizeof err);
        if (r != c->want)
            fprintf(stderr, "case '%s': %d (%s), want %d\n", c->name, r, err, c->want);
        CHECK_EQ(r, c->want);
        if (r == 0) {
            CHECK_EQ(m.op, c->op);
            CHECK_EQ(m.n_values, c->n_values);
        } else if (c->want_err && !strstr(err, c->want_err)) {
            fprintf(stderr, "case '%s': error '%s' lacks '%s'\n", c->name, err, c->want_err);
            CHECK(0);
        }
        /* The id travels even when the request is refused. */
        CHECK_EQ(m.has_id, s.rq.has_id);
        frame_batch_free(b);
    }
    request_done(&m);
}

/* What the decoded messages hold, beyond the code. */
static Tfevents__Batch *decode_one(void (*build)(struct s *), struct request *m, int *ret)
{
    static struct s s;
    init(&s);
    build(&s);
    Tfevents__Request *rqs[1] = {&s.rq};
    Tfevents__Batch batch = TFEVENTS__BATCH__INIT;
    batch.requests = rqs;
    batch.n_requests = 1;
    uint8_t bytes[4096];
    size_t len = tfevents__batch__get_packed_size(&batch);
    if (len > sizeof bytes)
        return NULL;
    tfevents__batch__pack(&batch, bytes);
    Tfevents__Batch *b = NULL;
    char err[REQUEST_ERROR_SIZE];
    if (frame_decode_batch(bytes, len, &b, err, sizeof err) < 0)
        return NULL;
    *ret = frame_decode_request(b->requests[0], m, err, sizeof err);
    return b;
}

static void test_fields(void)
{
    struct request m;
    request_init(&m);
    int r = -1;
    Tfevents__Batch *b = decode_one(b_scalar_id, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_STR(m.id, "\"18446744073709551615\"");
    CHECK_STR(m.logdir, "exp");
    CHECK_EQ(m.step_mode, LOGDIR_STEP_NEXT);
    CHECK(!m.has_wall_time);
    CHECK_STR(m.values[0].run, ".");
    CHECK(m.values[0].value.tag.len == 4 && memcmp(m.values[0].value.tag.data, "loss", 4) == 0);
    frame_batch_free(b);

    b = decode_one(b_step, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_EQ(m.step_mode, LOGDIR_STEP_AT);
    CHECK_EQ(m.step, 42);
    frame_batch_free(b);

    b = decode_one(b_current, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_EQ(m.step_mode, LOGDIR_STEP_CURRENT);
    frame_batch_free(b);

    b = decode_one(b_messy_logdir, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_STR(m.logdir, "a/b");
    frame_batch_free(b);

    b = decode_one(b_run, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_STR(m.values[0].run, "train/eval");
    frame_batch_free(b);

    b = decode_one(b_wall_time, &m, &r);
    REQUIRE(b && r == 0);
    CHECK(m.has_wall_time && m.wall_time == 1700000000.25);
    frame_batch_free(b);

    b = decode_one(b_restart, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_EQ(m.step, 10);
    CHECK(m.has_run);
    CHECK_STR(m.run, "train");
    frame_batch_free(b);

    b = decode_one(b_step_set, &m, &r);
    REQUIRE(b && r == 0);
    CHECK_EQ(m.step, -1);
    frame_batch_free(b);

    b = decode_one(b_flush, &m, &r);
    REQUIRE(b && r == 0);
    CHECK(m.sync);
    CHECK(!m.has_logdir);
    frame_batch_free(b);
    request_done(&m);
}

static void test_id_text(void)
{
    struct request m;
    request_init(&m);
    request_set_id_u64(&m, 0);
    CHECK_STR(m.id, "\"0\"");
    CHECK(m.has_id && m.id_is_u64 && m.id_u64 == 0);
    request_set_id_u64(&m, 18446744073709551615ULL);
    CHECK_STR(m.id, "\"18446744073709551615\"");
    CHECK(m.id_u64 == 18446744073709551615ULL);
    request_done(&m);
    CHECK(!m.has_id && !m.id_is_u64);
}

TEST_MAIN(TEST(test_magic), TEST(test_header), TEST(test_raw_batches), TEST(test_requests),
          TEST(test_fields), TEST(test_id_text))
