/* PNG encoder: every color type and odd sizes decoded back with libpng
 * (when available); PNG/JPEG size sniffing; the image summary builders. */
#include <errno.h>
#include <stdbool.h>

#include "png.h"
#include "summary.h"
#include "test.h"

/* Our lib/png.h shadows <png.h> on the include path, so libpng's header
 * is named by its versioned directory. */
#ifdef HAVE_LIBPNG
#if __has_include(<libpng16/png.h>)
#include <libpng16/png.h>
#elif __has_include(<libpng/png.h>)
#include <libpng/png.h>
#else
#undef HAVE_LIBPNG
#endif
#endif

/* A deterministic pattern with both smooth and noisy parts, so every
 * filter type gets chosen somewhere. GRAINY is a gradient with noise of
 * amplitude 24 (noisy enough to be deflated with runs only, not enough to
 * be stored); MIXED alternates smooth and grainy bands of 32 rows, so the
 * deflate strategy changes within the image. */
enum pattern { BANDS, NOISE, SMOOTH, GRAINY, MIXED };

static uint8_t *make_pattern(size_t w, size_t h, size_t c, uint32_t seed, enum pattern pat)
{
    size_t stride = w * c, n = h * stride;
    uint8_t *p = malloc(n);
    if (!p)
        abort();
    uint32_t x = seed;
    for (size_t k = 0; k < n; k++) {
        size_t y = k / stride, i = k % stride;
        x = x * 1103515245u + 12345u;
        uint8_t noise = (uint8_t)(x >> 24);
        uint8_t smooth = (uint8_t)(i + 3 * y);
        bool grainy = pat == GRAINY || (pat == MIXED && (y / 32) % 2);
        if (grainy)
            p[k] = (uint8_t)(smooth / 2 + noise % 24);
        else
            p[k] = pat == NOISE || (pat == BANDS && (y / 16) % 2) ? noise : smooth;
    }
    return p;
}

static uint8_t *make_pixels(size_t w, size_t h, size_t c, uint32_t seed)
{
    return make_pattern(w, h, c, seed, BANDS);
}

#ifdef HAVE_LIBPNG
/* Decode with libpng's simplified API in the file's own format. Returns
 * the pixels (caller frees) or NULL. */
static uint8_t *decode_png(const uint8_t *data, size_t len, size_t *w, size_t *h,
                           size_t *channels)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return NULL;
    *w = img.width;
    *h = img.height;
    *channels = PNG_IMAGE_PIXEL_CHANNELS(img.format);
    uint8_t *out = malloc(PNG_IMAGE_SIZE(img));
    if (!out || !png_image_finish_read(&img, NULL, out, 0, NULL)) {
        fprintf(stderr, "libpng: %s\n", img.message);
        free(out);
        png_image_free(&img);
        return NULL;
    }
    return out;
}
#endif

/* Encode and decode; returns the PNG size (0 on failure). */
static size_t roundtrip_pattern(size_t w, size_t h, size_t c, enum pattern pat)
{
#ifndef HAVE_LIBPNG
    (void)w;
    (void)h;
    (void)c;
    (void)pat;
    return 0;
#else
    static const uint8_t color_type[5] = {0, 0, 4, 2, 6};
    uint8_t *px = make_pattern(w, h, c, (uint32_t)(w * 31 + h * 7 + c), pat);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (png_encode(&out, px, w, h, c) != 0) {
        test_failures_++;
        free(px);
        return 0;
    }
    CHECK_EQ(out.data[25], color_type[c]);   /* IHDR color type byte */
    CHECK_EQ(out.data[24], 8);               /* bit depth */
    size_t dw = 0, dh = 0, dc = 0;
    uint8_t *dec = decode_png(out.data, out.len, &dw, &dh, &dc);
    CHECK(dec != NULL);
    if (dec) {
        CHECK_EQ(dw, w);
        CHECK_EQ(dh, h);
        CHECK_EQ(dc, c);
        CHECK(memcmp(dec, px, w * h * c) == 0);
    }
    uint32_t sw, sh;
    CHECK_EQ(png_sniff(out.data, out.len, &sw, &sh), PNG_FORMAT_PNG);
    CHECK_EQ(sw, w);
    CHECK_EQ(sh, h);
    free(dec);
    free(px);
    size_t size = out.len;
    buf_free(&out);
    return size;
#endif
}

static void roundtrip(size_t w, size_t h, size_t c)
{
    roundtrip_pattern(w, h, c, BANDS);
}

static void test_roundtrip_all_types(void)
{
#ifndef HAVE_LIBPNG
    TEST_SKIP("libpng not found at build time: PNG decoding not checked");
#else
    for (size_t c = 1; c <= 4; c++) {
        roundtrip(1, 1, c);
        roundtrip(1024, 300, c);
        roundtrip(300, 1024, c);
        roundtrip(257, 3, c);
        roundtrip(64, 64, c);
    }
    /* Noise is stored (zlib stored blocks, more than 64 KiB here so
     * several of them), smooth images are deflated. */
    size_t noise = roundtrip_pattern(200, 150, 3, NOISE);
    size_t raw = 150 * (200 * 3 + 1);
    CHECK_EQ(noise, 8 + 25 + 12 + (2 + 5 * (raw / 65535 + 1) + raw + 4) + 12);
    size_t smooth = roundtrip_pattern(200, 150, 3, SMOOTH);
    CHECK(smooth > 0 && smooth < 200 * 150 * 3 / 4);
#endif
}

/* Noisy bands are deflated with runs only, smooth ones with the match
 * search, switching within one stream; every row width around the SSE2
 * block of 16 bytes (and its scalar tail) for every pixel size. */
static void test_roundtrip_strategies_and_widths(void)
{
#ifndef HAVE_LIBPNG
    TEST_SKIP("libpng not found at build time: PNG decoding not checked");
#else
    for (size_t c = 1; c <= 4; c++) {
        size_t raw = 160 * (300 * c + 1);
        /* Deflated, not stored (which would be larger than raw). */
        size_t mixed = roundtrip_pattern(300, 160, c, MIXED);
        CHECK(mixed > 0 && mixed < raw * 9 / 10);
        size_t grainy = roundtrip_pattern(300, 160, c, GRAINY);
        CHECK(grainy > 0 && grainy < raw * 9 / 10);
        for (size_t w = 1; w <= 40; w++) {
            CHECK(roundtrip_pattern(w, 5, c, GRAINY) > 0);
            CHECK(roundtrip_pattern(w, 3, c, NOISE) > 0);
        }
    }
#endif
}

static void test_encode_rejects(void)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    uint8_t px[16] = {0};
    CHECK_EQ(png_encode(&out, px, 0, 1, 1), -EINVAL);
    CHECK_EQ(png_encode(&out, px, 1, 0, 1), -EINVAL);
    CHECK_EQ(png_encode(&out, px, 1, 1, 0), -EINVAL);
    CHECK_EQ(png_encode(&out, px, 1, 1, 5), -EINVAL);
    CHECK_EQ(png_encode(&out, px, PNG_MAX_DIM + 1, 1, 1), -EINVAL);
    CHECK_EQ(out.len, 0);
    /* A cap too small leaves out as it was. */
    struct buf small;
    buf_init(&small, 40);
    CHECK_EQ(png_encode(&small, px, 2, 2, 3), -EMSGSIZE);
    CHECK_EQ(small.len, 0);
    buf_free(&small);
    buf_free(&out);
}

static void test_sniff(void)
{
    uint32_t w = 0, h = 0;
    /* JFIF APP0, a DHT (0xC4 is not a frame header), then SOF2. */
    static const uint8_t jpeg[] = {
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xC4, 0x00, 0x05, 0x00, 0x01, 0x02,
        0xFF, 0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x04, 0x00, 0x03,
        1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    };
    CHECK_EQ(png_sniff(jpeg, sizeof jpeg, &w, &h), PNG_FORMAT_JPEG);
    CHECK_EQ(w, 1024);
    CHECK_EQ(h, 300);
    /* Cut before the frame header, or at a scan without one. */
    CHECK_EQ(png_sniff(jpeg, 30, &w, &h), -EINVAL);
    static const uint8_t sos_first[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};
    CHECK_EQ(png_sniff(sos_first, sizeof sos_first, &w, &h), -EINVAL);
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";
    CHECK_EQ(png_sniff(gif, sizeof gif - 1, &w, &h), -EINVAL);
    static const uint8_t bmp[] = "BM\x00\x00\x00\x00";
    CHECK_EQ(png_sniff(bmp, sizeof bmp - 1, &w, &h), -EINVAL);
    CHECK_EQ(png_sniff("", 0, &w, &h), -EINVAL);
    /* A PNG signature without an IHDR. */
    static const uint8_t bad_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n',
                                      0, 0, 0, 13, 'I', 'D', 'A', 'T'};
    CHECK_EQ(png_sniff(bad_png, sizeof bad_png, &w, &h), -EINVAL);
}

/* Decode a value's tensor: [width, height, blobs...]. */
static Tensorboard__Summary *decode_value(const struct summary_value *v)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (summary_value_encode(&out, v, true) < 0)
        return NULL;
    Tensorboard__Summary *s = tensorboard__summary__unpack(NULL, out.len, out.data);
    buf_free(&out);
    return s;
}

static void test_image_builders(void)
{
    struct summary_value v;
    summary_value_init(&v);
    /* 2 images of 3x2 RGB doubles; expected bytes computed independently of
     * the encoder: v*255+0.5 truncated, clamped, NaN -> 0. */
    double px[2 * 2 * 3 * 3];
    uint8_t want[2 * 2 * 3 * 3];
    static const double samples[] = {0.0, 1.0, 0.5, 0.25, -3.0, 7.0, 0.001, 0.999, 0.002};
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
        px[i] = samples[i % 9];
        want[i] = (uint8_t[]){0, 255, 128, 64, 0, 255, 0, 255, 1}[i % 9];
    }
    px[5] = NAN;
    want[5] = 0;
    struct summary_meta meta = {"Pictures", "two RGB images"};
    REQUIRE(summary_image_doubles(&v, "img", px, 2, 2, 3, 3, &meta) == 0);
    Tensorboard__Summary *s = decode_value(&v);
    REQUIRE(s && s->n_value == 1);
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK_STR(val->tag, "img");
    CHECK_STR(val->metadata->plugin_data->plugin_name, "images");
    CHECK_EQ(val->metadata->plugin_data->content.len, 0);
    CHECK_EQ(val->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE);
    CHECK_STR(val->metadata->display_name, "Pictures");
    CHECK_STR(val->metadata->summary_description, "two RGB images");
    Tensorboard__TensorProto *t = val->tensor;
    CHECK_EQ(t->dtype, TENSORBOARD__DATA_TYPE__DT_STRING);
    REQUIRE(t->tensor_shape->n_dim == 1 && t->tensor_shape->dim[0]->size == 4);
    REQUIRE(t->n_string_val == 4);
    CHECK(t->string_val[0].len == 1 && memcmp(t->string_val[0].data, "3", 1) == 0);
    CHECK(t->string_val[1].len == 1 && memcmp(t->string_val[1].data, "2", 1) == 0);
#ifdef HAVE_LIBPNG
    for (int i = 0; i < 2; i++) {
        size_t w, h, c;
        uint8_t *dec = decode_png(t->string_val[2 + i].data, t->string_val[2 + i].len, &w, &h, &c);
        REQUIRE(dec);
        CHECK(w == 3 && h == 2 && c == 3);
        CHECK(memcmp(dec, want + i * 18, 18) == 0);
        free(dec);
    }
#endif
    tensorboard__summary__free_unpacked(s, NULL);

    /* Floats, uint8 and a 300 px wide gray image: sizes as decimal ASCII. */
    float fpx[4] = {0.5f, 1.5f, -1.0f, 0.2f};
    CHECK_EQ(summary_image_floats(&v, "f", fpx, 1, 2, 2, 1, NULL), 0);
    uint8_t *big = make_pixels(300, 2, 2, 9);
    REQUIRE(summary_image_u8(&v, "u8", big, 1, 2, 300, 2, NULL) == 0);
    s = decode_value(&v);
    REQUIRE(s);
    t = s->value[0]->tensor;
    CHECK(t->string_val[0].len == 3 && memcmp(t->string_val[0].data, "300", 3) == 0);
    CHECK(t->string_val[1].len == 1 && memcmp(t->string_val[1].data, "2", 1) == 0);

    /* The encoded PNG passes back through summary_image_encoded, with the
     * size read from its IHDR. */
    struct summary_bytes blob = {t->string_val[2].data, t->string_val[2].len};
    struct summary_value v2;
    summary_value_init(&v2);
    CHECK_EQ(summary_image_encoded(&v2, "enc", &blob, 1, 0, 0, NULL), 0);
    Tensorboard__Summary *s2 = decode_value(&v2);
    REQUIRE(s2);
    Tensorboard__TensorProto *t2 = s2->value[0]->tensor;
    CHECK(t2->string_val[0].len == 3 && memcmp(t2->string_val[0].data, "300", 3) == 0);
    CHECK(t2->string_val[2].len == blob.len &&
          memcmp(t2->string_val[2].data, blob.data, blob.len) == 0);
    tensorboard__summary__free_unpacked(s2, NULL);
    CHECK_EQ(summary_image_encoded(&v2, "enc", &blob, 1, 300, 2, NULL), 0);
    CHECK_EQ(summary_image_encoded(&v2, "enc", &blob, 1, 2, 300, NULL), -EINVAL);
    CHECK_EQ(v2.body.len, 0);
    struct summary_bytes gif = {"GIF89a\x01\x00\x01\x00", 10};
    CHECK_EQ(summary_image_encoded(&v2, "enc", &gif, 1, 1, 1, NULL), -EINVAL);
    summary_value_done(&v2);
    tensorboard__summary__free_unpacked(s, NULL);
    free(big);

    CHECK_EQ(summary_image_u8(&v, "x", (const uint8_t *)fpx, 0, 1, 1, 1, NULL), -EINVAL);
    CHECK_EQ(summary_image_u8(&v, "x", (const uint8_t *)fpx, 1, 1, 1, 5, NULL), -EINVAL);
    CHECK_EQ(summary_image_u8(&v, "x", (const uint8_t *)fpx, 1, 0, 1, 1, NULL), -EINVAL);
    CHECK_EQ(summary_image_u8(&v, "x", (const uint8_t *)fpx, SUMMARY_MAX_IMAGES + 1, 1, 1, 1, NULL), -EINVAL);
    summary_value_done(&v);
}

TEST_MAIN(TEST(test_roundtrip_all_types), TEST(test_roundtrip_strategies_and_widths),
          TEST(test_encode_rejects), TEST(test_sniff),
          TEST(test_image_builders))
