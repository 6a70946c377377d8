/* gen-corpus: write the seed corpus of every fuzz target with our own
 * encoders.
 *
 *   gen-corpus DIR      writes DIR/<target>/<name> (directories must exist)
 *
 * The committed corpus (fuzz/corpus/) was made with this program; run it
 * again after a format change and commit what changes. Crash reproducers
 * found by fuzzing are added by hand next to these seeds and are never
 * regenerated. Legacy Summary.Value kinds (simple_value, Image, Audio,
 * HistogramProto), which our builders never write but readers must decode,
 * are assembled with the pbwire primitives. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "buf.h"
#include "event.h"
#include "frame.h"
#include "pbwire.h"
#include "png.h"
#include "record.h"
#include "summary.h"
#include "wav.h"

static const char *out_dir;
static int failures;

static void check(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "gen-corpus: %s: %s\n", what, strerror(-r));
        failures++;
    }
}

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "gen-corpus: cannot write %s\n", path);
        failures++;
    }
}

static void put_buf(const char *target, const char *name, const struct buf *b)
{
    put(target, name, b->data, b->len);
}

/* fuzz-record's input: a mode byte (0: as is, 1: repair the CRCs), then
 * the file. */
static void put_record(const char *name, int mode, const void *data, size_t len)
{
    uint8_t *p = malloc(len + 1);
    if (!p)
        abort();
    p[0] = (uint8_t)mode;
    if (len)
        memcpy(p + 1, data, len);
    put("record", name, p, len + 1);
    free(p);
}

/* ---- seed blobs --------------------------------------------------------- */

static void make_png(struct buf *out, size_t w, size_t h, size_t ch)
{
    uint8_t px[4 * 8 * 8];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 37 + 11);
    check(png_encode(out, px, w, h, ch), "png_encode");
}

/* A JPEG header: SOI, APP0 (JFIF), fill bytes, SOF0 with the size, EOI. No
 * image data: the sniffer reads only markers. */
static void make_jpeg(struct buf *out, uint16_t w, uint16_t h)
{
    const uint8_t head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
                            0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                            0xFF, 0xFF, 0xC0, 0x00, 0x0B, 0x08};
    const uint8_t tail[] = {0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9};
    uint8_t dims[4] = {(uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(w >> 8), (uint8_t)w};
    check(buf_append(out, head, sizeof head), "jpeg");
    check(buf_append(out, dims, sizeof dims), "jpeg");
    check(buf_append(out, tail, sizeof tail), "jpeg");
}

static void make_wav(struct buf *out, size_t frames, size_t channels, uint32_t rate)
{
    double s[64];
    for (size_t i = 0; i < 64; i++)
        s[i] = sin((double)i * 0.3);
    check(wav_encode_doubles(out, s, frames, channels, rate), "wav_encode");
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, (uint16_t)v);
    le16(p + 2, (uint16_t)(v >> 16));
}

/* Variants of a WAV file the encoder never writes: IEEE float and
 * WAVE_FORMAT_EXTENSIBLE formats, an extra chunk before "data". */
static void make_wav_variant(struct buf *out, uint16_t format, uint16_t bits, bool extra_chunk)
{
    uint8_t h[80];
    size_t n = 0;
    size_t fmt_len = format == 0xFFFE ? 40 : 16;
    memcpy(h, "RIFF", 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    le32(h + 16, (uint32_t)fmt_len);
    le16(h + 20, format);
    le16(h + 22, 2);
    le32(h + 24, 8000);
    le32(h + 28, 8000u * 2 * bits / 8);
    le16(h + 32, (uint16_t)(2 * bits / 8));
    le16(h + 34, bits);
    n = 36;
    if (format == 0xFFFE) {
        memset(h + 36, 0, 24);
        le16(h + 36, 22);
        le16(h + 38, bits);
        le16(h + 44, 1);   /* sub-format GUID starts with PCM */
        n = 60;
    }
    check(buf_append(out, h, n), "wav");
    if (extra_chunk) {
        uint8_t c[8 + 4] = {'L', 'I', 'S', 'T'};
        le32(c + 4, 4);
        memcpy(c + 8, "INFO", 4);
        check(buf_append(out, c, sizeof c), "wav");
    }
    uint8_t d[8 + 32] = {'d', 'a', 't', 'a'};
    le32(d + 4, 32);
    for (size_t i = 8; i < sizeof d; i++)
        d[i] = (uint8_t)(i * 13);
    check(buf_append(out, d, sizeof d), "wav");
    le32(out->data + 4, (uint32_t)(out->len - 8));
}

/* ---- summary values ----------------------------------------------------- */

static const struct summary_meta some_meta = {"A display name", "A *description*."};

/* Append Summary.Value entries (summary_value_encode) of every kind to out. */
static void all_values(struct buf *out)
{
    struct summary_value v;
    summary_value_init(&v);
    struct buf blob;
    buf_init(&blob, BUF_NO_CAP);

    check(summary_scalar(&v, "loss", 0.25, NULL), "scalar");
    check(summary_value_encode(out, &v, true), "encode");
    check(summary_scalar(&v, "loss", NAN, NULL), "scalar");
    check(summary_value_encode(out, &v, false), "encode");
    check(summary_scalar(&v, "acc", -INFINITY, &some_meta), "scalar");
    check(summary_value_encode(out, &v, true), "encode");

    check(summary_text(&v, "notes", "# Title\nsome *text* \xc3\xa9", 23, NULL), "text");
    check(summary_value_encode(out, &v, true), "encode");
    struct summary_bytes cells[6] = {{"a", 1}, {"bb", 2}, {"", 0}, {"d", 1}, {"e", 1}, {"f", 1}};
    size_t dims2[2] = {2, 3};
    check(summary_text_array(&v, "table", cells, 2, dims2, NULL), "text_array");
    check(summary_value_encode(out, &v, true), "encode");

    double data[16];
    for (int i = 0; i < 16; i++)
        data[i] = (double)(i * i) - 7.5;
    check(summary_histogram(&v, "weights", data, 16, 4, NULL), "histogram");
    check(summary_value_encode(out, &v, true), "encode");
    double edges[3] = {-1, 0, 2}, counts[2] = {3, 0.5};
    check(summary_histogram_buckets(&v, "buckets", edges, counts, 2, NULL), "buckets");
    check(summary_value_encode(out, &v, true), "encode");

    uint8_t px[2 * 3 * 2 * 4];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 29);
    check(summary_image_u8(&v, "images", px, 2, 3, 2, 4, NULL), "image_u8");
    check(summary_value_encode(out, &v, true), "encode");
    buf_reset(&blob);
    make_jpeg(&blob, 640, 480);
    struct summary_bytes jb = {blob.data, blob.len};
    check(summary_image_encoded(&v, "photo", &jb, 1, 0, 0, NULL), "image_encoded");
    check(summary_value_encode(out, &v, true), "encode");

    double samples[2 * 5 * 2];
    for (size_t i = 0; i < 20; i++)
        samples[i] = sin((double)i);
    check(summary_audio_doubles(&v, "speech", samples, 2, 5, 2, 16000, NULL), "audio");
    check(summary_value_encode(out, &v, true), "encode");

    struct hparams_value lr = {.kind = HPARAMS_NUMBER, .number = 0.01};
    struct hparams_value opt[2] = {{.kind = HPARAMS_STRING, .string = "adam"},
                                   {.kind = HPARAMS_STRING, .string = "sgd"}};
    struct hparams_info infos[2] = {
        {.name = "lr", .type = HPARAMS_TYPE_FLOAT64, .domain = HPARAMS_DOMAIN_INTERVAL,
         .min_value = 1e-4, .max_value = 1},
        {.name = "optimizer", .type = HPARAMS_TYPE_STRING, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = opt, .n_values = 2},
    };
    struct hparams_metric metric = {.tag = "loss", .dataset_type = HPARAMS_DATASET_VALIDATION};
    struct hparams_experiment e = {.name = "exp", .hparams = infos, .n_hparams = 2,
                                   .metrics = &metric, .n_metrics = 1};
    check(summary_hparams_experiment(&v, &e), "hparams_experiment");
    check(summary_value_encode(out, &v, true), "encode");
    struct hparams_kv kv[3] = {{"lr", lr},
                               {"optimizer", opt[0]},
                               {"layers", {.kind = HPARAMS_INT, .integer = 3}}};
    struct hparams_session_start s = {.hparams = kv, .n_hparams = 3, .start_time_secs = 1e9};
    check(summary_hparams_session_start(&v, &s), "hparams_session_start");
    check(summary_value_encode(out, &v, true), "encode");
    check(summary_hparams_session_end(&v, HPARAMS_STATUS_SUCCESS, 1e9 + 60), "session_end");
    check(summary_value_encode(out, &v, true), "encode");

    double pr[6 * 3];
    for (int i = 0; i < 18; i++)
        pr[i] = i / 18.0;
    size_t prdims[2] = {6, 3};
    const uint8_t pr_content[] = {0x08, 0x03};   /* PrCurvePluginData{num_thresholds: 3} */
    check(summary_custom_numeric(&v, "pr", "pr_curves", pr_content, sizeof pr_content,
                                 TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, pr, 2, prdims,
                                 TENSORBOARD__DATA_TYPE__DT_FLOAT, NULL),
          "custom_numeric");
    check(summary_value_encode(out, &v, true), "encode");
    struct summary_bytes layout = {"\x0a\x00", 2};
    check(summary_custom_strings(&v, "layout", "custom_scalars", NULL, 0,
                                 TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, &layout, 0, NULL,
                                 NULL),
          "custom_strings");
    check(summary_value_encode(out, &v, true), "encode");
    /* TensorProto{dtype: DT_INT32, tensor_shape {dim {size 2}}, int_val: [7, -1]} */
    const uint8_t tp[] = {0x08, 0x03, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02,
                          0x38, 0x07, 0x38, 0xff, 0xff, 0xff, 0xff, 0x0f};
    check(summary_custom(&v, "ints", "my_plugin", "\x01\x02", 2,
                         TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, tp, sizeof tp, NULL),
          "custom");
    check(summary_value_encode(out, &v, true), "encode");

    buf_free(&blob);
    summary_value_done(&v);
}

/* Summary.Value entries of the legacy kinds. */
static void legacy_values(struct buf *out)
{
    struct buf val, sub, blob;
    buf_init(&val, BUF_NO_CAP);
    buf_init(&sub, BUF_NO_CAP);
    buf_init(&blob, BUF_NO_CAP);

    /* simple_value */
    check(pb_add_string(&val, 1, "legacy/scalar"), "pb");
    check(pb_add_float(&val, 2, 3.5f), "pb");
    check(pb_add_bytes(out, 1, val.data, val.len), "pb");

    /* Image {height, width, colorspace, encoded} */
    buf_reset(&val);
    make_png(&blob, 3, 2, 3);
    check(pb_add_varint(&sub, 1, 2), "pb");
    check(pb_add_varint(&sub, 2, 3), "pb");
    check(pb_add_varint(&sub, 3, 3), "pb");
    check(pb_add_bytes(&sub, 4, blob.data, blob.len), "pb");
    check(pb_add_string(&val, 1, "legacy/image"), "pb");
    check(pb_add_bytes(&val, 4, sub.data, sub.len), "pb");
    check(pb_add_bytes(out, 1, val.data, val.len), "pb");

    /* HistogramProto */
    buf_reset(&val);
    buf_reset(&sub);
    check(pb_add_double(&sub, 1, -1), "pb");
    check(pb_add_double(&sub, 2, 4), "pb");
    check(pb_add_double(&sub, 3, 5), "pb");
    double limits[3] = {0, 2, 1.7976931348623157e308}, bucket[3] = {1, 3, 1};
    for (int i = 0; i < 3; i++)
        check(pb_add_double(&sub, 6, limits[i]), "pb");
    for (int i = 0; i < 3; i++)
        check(pb_add_double(&sub, 7, bucket[i]), "pb");
    check(pb_add_string(&val, 1, "legacy/histo"), "pb");
    check(pb_add_bytes(&val, 5, sub.data, sub.len), "pb");
    check(pb_add_bytes(out, 1, val.data, val.len), "pb");

    /* Audio {sample_rate, num_channels, length_frames, encoded, content_type} */
    buf_reset(&val);
    buf_reset(&sub);
    buf_reset(&blob);
    make_wav(&blob, 4, 1, 22050);
    check(pb_add_float(&sub, 1, 22050), "pb");
    check(pb_add_varint(&sub, 2, 1), "pb");
    check(pb_add_varint(&sub, 3, 4), "pb");
    check(pb_add_bytes(&sub, 4, blob.data, blob.len), "pb");
    check(pb_add_string(&sub, 5, "audio/wav"), "pb");
    check(pb_add_string(&val, 1, "legacy/audio"), "pb");
    check(pb_add_bytes(&val, 6, sub.data, sub.len), "pb");
    check(pb_add_bytes(out, 1, val.data, val.len), "pb");

    buf_free(&val);
    buf_free(&sub);
    buf_free(&blob);
}

/* ---- targets ------------------------------------------------------------ */

static void gen_event(void)
{
    struct buf values, ev;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&ev, BUF_NO_CAP);

    check(event_encode_file_version(&ev, 1700000000.5, "brain.Event:2"), "file_version");
    put_buf("event", "file_version", &ev);
    buf_reset(&ev);
    check(event_encode_session_log(&ev, 1700000001, 3,
                                   TENSORBOARD__SESSION_LOG__SESSION_STATUS__START, "restart"),
          "session_log");
    put_buf("event", "session_log", &ev);

    all_values(&values);
    buf_reset(&ev);
    check(event_encode_summary(&ev, 1700000002.25, 42, values.data, values.len), "summary");
    put_buf("event", "summary_all_kinds", &ev);

    buf_reset(&values);
    legacy_values(&values);
    buf_reset(&ev);
    check(event_encode_summary(&ev, 1700000003, -1, values.data, values.len), "summary");
    put_buf("event", "summary_legacy", &ev);

    buf_free(&values);
    buf_free(&ev);
}

static void gen_record(void)
{
    struct buf file, ev, values;
    buf_init(&file, BUF_NO_CAP);
    buf_init(&ev, BUF_NO_CAP);
    buf_init(&values, BUF_NO_CAP);

    put_record("empty", 0, "", 0);
    check(event_encode_file_version(&ev, 1700000000, "brain.Event:2"), "file_version");
    check(record_frame(&file, ev.data, ev.len), "frame");
    struct summary_value v;
    summary_value_init(&v);
    for (int step = 0; step < 3; step++) {
        buf_reset(&values);
        buf_reset(&ev);
        check(summary_scalar(&v, "loss", 1.0 / (step + 1), NULL), "scalar");
        check(summary_value_encode(&values, &v, step == 0), "encode");
        check(event_encode_summary(&ev, 1700000000 + step, step, values.data, values.len),
              "summary");
        check(record_frame(&file, ev.data, ev.len), "frame");
    }
    summary_value_done(&v);
    put_record("scalars", 0, file.data, file.len);

    /* The writer died inside the last record. */
    put_record("truncated", 0, file.data, file.len - 7);
    /* A flipped payload bit: data CRC mismatch in the second record. */
    size_t second = RECORD_OVERHEAD + file.data[0];
    file.data[second + RECORD_HEADER_SIZE] ^= 0x10;
    put_record("data_crc", 0, file.data, file.len);
    put_record("data_crc_repaired", 1, file.data, file.len);
    file.data[second + RECORD_HEADER_SIZE] ^= 0x10;
    /* A flipped length bit: length CRC mismatch. */
    file.data[second] ^= 0x01;
    put_record("length_crc", 0, file.data, file.len);

    /* A valid record whose payload is not an Event (a bad wire type). */
    buf_reset(&file);
    const uint8_t junk[] = {0x0f, 0xff, 0xff};
    check(record_frame(&file, junk, sizeof junk), "frame");
    put_record("not_event", 0, file.data, file.len);

    buf_free(&file);
    buf_free(&ev);
    buf_free(&values);
}

static void gen_wav(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    make_wav(&b, 8, 2, 44100);
    put_buf("wav", "pcm16_stereo", &b);
    put("wav", "cut_short", b.data, b.len - 5);
    buf_reset(&b);
    make_wav(&b, 1, 1, 1);
    put_buf("wav", "one_frame", &b);
    buf_reset(&b);
    make_wav_variant(&b, 3, 32, false);
    put_buf("wav", "float32", &b);
    buf_reset(&b);
    make_wav_variant(&b, 0xFFFE, 24, true);
    put_buf("wav", "extensible_list", &b);
    buf_free(&b);
}

static void gen_png_dims(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    make_png(&b, 1, 1, 1);
    put_buf("png-dims", "gray_1x1.png", &b);
    buf_reset(&b);
    make_png(&b, 7, 5, 4);
    put_buf("png-dims", "rgba_7x5.png", &b);
    put("png-dims", "ihdr_only.png", b.data, 8 + 8 + 13 + 4);
    buf_reset(&b);
    make_jpeg(&b, 640, 480);
    put_buf("png-dims", "sof0.jpg", &b);
    buf_free(&b);
}

/* JSON lines; blobs are base64 of what our encoders make. */
static char *b64(const struct buf *b)
{
    struct base64_encode_ctx ctx;
    char *s = malloc(BASE64_ENCODE_LENGTH(b->len) + BASE64_ENCODE_FINAL_LENGTH + 1);
    if (!s)
        abort();
    base64_encode_init(&ctx);
    size_t n = base64_encode_update(&ctx, s, b->len, b->data);
    n += base64_encode_final(&ctx, s + n);
    s[n] = '\0';
    return s;
}

static void put_line(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put_line(const char *name, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    put("json", name, s, (size_t)n);
    /* fuzz-json_chain's input: the limits (depth, elements / 4), then the
     * line; the daemon's defaults here, tighter ones in gen_json_chain(). */
    char *c = malloc((size_t)n + 2);
    if (!c)
        abort();
    c[0] = 32;
    c[1] = (char)255;
    memcpy(c + 2, s, (size_t)n);
    put("json_chain", name, c, (size_t)n + 2);
    free(c);
    free(s);
}

/* Lines for fuzz-json_chain under tight limits: the fast path skipped
 * (depth 1), the guard refusing depth, elements and a NUL. */
static void gen_json_chain(void)
{
    static const struct {
        const char *name;
        uint8_t depth, elements;
        const char *line;
    } seeds[] = {
        {"depth1_fast_skipped", 1, 255, "{\"logdir\":\"e\",\"step\":1,\"values\":{\"a\":1}}"},
        {"depth2_fast", 2, 0, "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"a\":0.5,\"b\":2}}"},
        {"depth_refused", 2, 255, "{\"logdir\":\"e\",\"values\":{\"r\":{\"a\":1}},\"id\":5}"},
        {"elements_refused", 8, 0, "{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":"
                                   "{\"values\":[1,2]}}},\"id\":\"x\"}"},
        {"nul_refused", 8, 255, "{\"logdir\":\"e\",\"values\":{\"a\\u0000b\":1}}"},
        {"range_refused", 8, 255, "{\"logdir\":\"e\",\"values\":{\"a\":1e400},\"id\":7}"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t n = strlen(seeds[i].line);
        char buf[512];
        buf[0] = (char)seeds[i].depth;
        buf[1] = (char)seeds[i].elements;
        memcpy(buf + 2, seeds[i].line, n);
        put("json_chain", seeds[i].name, buf, n + 2);
    }
}

/* fuzz-linesplit's input: the --max-line byte, four read sizes, then what
 * a client sends. */
static void put_split(const char *name, uint8_t max, const char *reads, const void *in,
                      size_t len)
{
    uint8_t buf[512];
    buf[0] = max;
    memcpy(buf + 1, reads, 4);
    memcpy(buf + 5, in, len);
    put("linesplit", name, buf, len + 5);
}

static void gen_linesplit(void)
{
    static const char lines[] = "{\"op\":\"ping\"}\n\r\n\n{\"logdir\":\"e\",\"values\":"
                                "{\"a\":1}}\r\n{\"op\":\"stats\"}";
    put_split("lines", 200, "\x01\x07\x03\x10", lines, sizeof lines - 1);
    put_split("lines_too_long", 10, "\x02\x05\x0b\x01", lines, sizeof lines - 1);
    static const char frames[] = FRAME_MAGIC "\x03\x00\x00\x00\x01" "abc"
                                 "\x00\x00\x00\x00\x01" "\x04\x00\x00\x00\x01" "wxyz"
                                 "\x02\x00\x00\x00\x01" "p";
    put_split("frames", 200, "\x01\x02\x09\x04", frames, sizeof frames - 1);
    put_split("frame_too_long", 2, "\x03\x03\x03\x03", frames, sizeof frames - 1);
    static const char kind[] = FRAME_MAGIC "\x01\x00\x00\x00\x02" "a";
    put_split("frame_bad_kind", 200, "\x01\x01\x01\x01", kind, sizeof kind - 1);
    put_split("magic_prefix", 200, "\x01\x01\x01\x01", "TFEVB\n", 6);
}

static void gen_json(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    make_png(&b, 2, 2, 3);
    char *png = b64(&b);
    buf_reset(&b);
    make_wav(&b, 4, 1, 8000);
    char *wav = b64(&b);
    buf_free(&b);

    put_line("ping", "{\"op\":\"ping\",\"id\":1}");
    put_line("stats", "{\"v\":1,\"op\":\"stats\",\"id\":\"abc\"}");
    put_line("log_scalars", "{\"v\":1,\"op\":\"log\",\"id\":7,\"logdir\":\"exp1\",\"step\":3,"
                            "\"wall_time\":1700000000.25,\"values\":{\"loss\":0.5,"
                            "\"train\":{\"acc\":0.9,\"deep\":{\"x\":-1e300}}}}");
    put_line("log_text", "{\"op\":\"log\",\"logdir\":\"exp1\",\"values\":{\"note\":\"h\\u00e9llo\","
                         "\"t\":{\"$text\":{\"value\":[[\"a\",\"b\"],[\"c\",\"d\"]],"
                         "\"description\":\"a table\"}}}}");
    put_line("log_histogram", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":"
                              "{\"values\":[1,2,3,4.5,-2],\"bucket_count\":3}},\"b\":{"
                              "\"$histogram\":{\"edges\":[0,1,2],\"counts\":[5,0]}}}}");
    put_line("log_image_png", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"img\":{\"$image\":"
                              "{\"png\":\"%s\"}}}}", png);
    put_line("log_image_pixels", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"img\":{"
                                 "\"$image\":{\"pixels\":[[[0,0.5,1],[1,1,1]],[[0.2,0.2,0.2],"
                                 "[0,0,0]]]}}}}");
    put_line("log_audio_wav", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":"
                              "{\"wav\":[\"%s\"]}}}}", wav);
    put_line("log_audio_samples", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"a\":{"
                                  "\"$audio\":{\"samples\":[0,0.5,-0.5,1],"
                                  "\"sample_rate\":8000}}}}");
    put_line("log_custom", "{\"op\":\"log\",\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{"
                           "\"plugin\":\"p\",\"data_class\":\"tensor\",\"dtype\":\"float\","
                           "\"numbers\":[1,2,3,4,5,6],\"shape\":[2,3],\"content\":\"AQI=\"}}}}");
    put_line("log_scalar_typed", "{\"op\":\"log\",\"logdir\":\"e\",\"step\":5,\"values\":{\"s\":"
                                 "{\"$scalar\":{\"value\":2,\"display_name\":\"S\"}}}}");
    put_line("step_get", "{\"op\":\"step_get\",\"logdir\":\"e\"}");
    put_line("step_set", "{\"op\":\"step_set\",\"logdir\":\"e\",\"step\":100}");
    put_line("flush", "{\"op\":\"flush\",\"sync\":true}");
    put_line("close", "{\"op\":\"close\",\"logdir\":\"e\"}");
    put_line("restart", "{\"op\":\"restart\",\"logdir\":\"e\",\"run\":\"r1\",\"step\":0}");
    put_line("hparams_config", "{\"op\":\"hparams_config\",\"logdir\":\"e\",\"hparams\":["
                               "{\"name\":\"lr\",\"type\":\"float\",\"min\":0.0001,\"max\":1},"
                               "{\"name\":\"opt\",\"values\":[\"adam\",\"sgd\"]}],"
                               "\"metrics\":[{\"tag\":\"loss\",\"dataset_type\":\"validation\"}]}");
    put_line("hparams_start", "{\"op\":\"hparams_session_start\",\"logdir\":\"e\",\"run\":\"s1\","
                              "\"hparams\":{\"lr\":0.01,\"opt\":\"adam\",\"deep\":true}}");
    put_line("hparams_end", "{\"op\":\"hparams_session_end\",\"logdir\":\"e\",\"run\":\"s1\","
                            "\"status\":\"success\"}");
    put_line("log_nonfinite", "{\"logdir\": \"e\", \"step\": 4, \"values\": {\"loss\": NaN, "
                              "\"hi\": Infinity, \"r\": {\"lo\": -Infinity, \"s\": \"NaN\"}, "
                              "\"i\": {\"$image\": {\"pixels\": [[NaN, Infinity]]}}}}");
    put_line("bad_nonfinite", "{\"logdir\":\"e\",\"values\":{\"a\":-NaN,\"b\":Infinit}}");
    put_line("bad_json", "{\"op\":\"log\",\"values\":{");
    free(png);
    free(wav);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-corpus DIR\n");
        return 2;
    }
    out_dir = argv[1];
    gen_record();
    gen_event();
    gen_wav();
    gen_png_dims();
    gen_json();
    gen_json_chain();
    gen_linesplit();
    return failures ? 1 : 0;
}
