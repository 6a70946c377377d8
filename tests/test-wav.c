/* WAV: 16-bit PCM encoding read back sample by sample, header parsing of
 * our own and foreign layouts, and the audio summary builders. */
#include <errno.h>

#include "plugins.pb-c.h"
#include "summary.h"
#include "test.h"
#include "wav.h"

static int16_t sample_at(const uint8_t *wav, const struct wav_info *info, size_t i)
{
    const uint8_t *p = wav + info->data_offset + 2 * i;
    return (int16_t)(uint16_t)(p[0] | (p[1] << 8));
}

static void test_rounding_and_clipping(void)
{
    /* Expected values by hand: round(v * 32767), ties to even. */
    static const double in[] = {0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 0.25, 1.0 / 32767, -0.0};
    static const int16_t want[] = {0, 16384, -16384, 32767, -32767, 32767, -32767, 8192, 1, 0};
    size_t n = sizeof in / sizeof in[0];
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    REQUIRE(wav_encode_doubles(&out, in, n, 1, 8000) == 0);
    CHECK_EQ(out.len, WAV_HEADER_SIZE + 2 * n);
    struct wav_info info;
    REQUIRE(wav_parse_header(out.data, out.len, &info) == 0);
    CHECK_EQ(info.sample_rate, 8000);
    CHECK_EQ(info.channels, 1);
    CHECK_EQ(info.bits_per_sample, 16);
    CHECK_EQ(info.format, 1);
    CHECK_EQ(info.frames, n);
    CHECK_EQ(info.data_offset, 44);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(sample_at(out.data, &info, i), want[i]);

    /* Floats, NaN included. */
    buf_reset(&out);
    float fin[3] = {NAN, 0.5f, -INFINITY};
    REQUIRE(wav_encode_floats(&out, fin, 3, 1, 8000) == 0);
    REQUIRE(wav_parse_header(out.data, out.len, &info) == 0);
    CHECK_EQ(sample_at(out.data, &info, 0), 0);
    CHECK_EQ(sample_at(out.data, &info, 1), 16384);
    CHECK_EQ(sample_at(out.data, &info, 2), -32767);
    buf_free(&out);
}

static void roundtrip(size_t channels, uint32_t rate, size_t frames)
{
    double *x = malloc(frames * channels * sizeof *x);
    REQUIRE(x);
    for (size_t f = 0; f < frames; f++)
        for (size_t c = 0; c < channels; c++)
            x[f * channels + c] = sin((double)f * 0.01 * (double)(c + 1)) * (c ? 0.3 : 0.9);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    REQUIRE(wav_encode_doubles(&out, x, frames, channels, rate) == 0);
    struct wav_info info;
    REQUIRE(wav_parse_header(out.data, out.len, &info) == 0);
    CHECK_EQ(info.sample_rate, rate);
    CHECK_EQ(info.channels, channels);
    CHECK_EQ(info.frames, frames);
    /* RIFF size and the byte rate follow from the rest. */
    const uint8_t *h = out.data;
    CHECK_EQ(h[4] | (h[5] << 8) | (h[6] << 16) | ((uint32_t)h[7] << 24), out.len - 8);
    CHECK_EQ(h[28] | (h[29] << 8) | (h[30] << 16) | ((uint32_t)h[31] << 24),
             rate * channels * 2);
    for (size_t i = 0; i < frames * channels; i++) {
        double back = sample_at(out.data, &info, i) / 32767.0;
        if (fabs(back - x[i]) > 0.5 / 32767 + 1e-12) {
            fprintf(stderr, "sample %zu: %f vs %f\n", i, back, x[i]);
            test_failures_++;
            break;
        }
    }
    free(x);
    buf_free(&out);
}

static void test_mono_stereo(void)
{
    roundtrip(1, 16000, 16000);
    roundtrip(2, 44100, 1000);
    roundtrip(1, 8000, 1);
    roundtrip(6, 48000, 333);
}

static void test_encode_rejects(void)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    double x[4] = {0};
    CHECK_EQ(wav_encode_doubles(&out, x, 0, 1, 8000), -EINVAL);
    CHECK_EQ(wav_encode_doubles(&out, x, 1, 0, 8000), -EINVAL);
    CHECK_EQ(wav_encode_doubles(&out, x, 1, WAV_MAX_CHANNELS + 1, 8000), -EINVAL);
    CHECK_EQ(wav_encode_doubles(&out, x, 1, 1, 0), -EINVAL);
    CHECK_EQ(wav_encode_doubles(&out, x, 1, 1, WAV_MAX_RATE + 1), -EINVAL);
    CHECK_EQ(wav_encode_doubles(&out, x, WAV_MAX_SAMPLES + 1, 1, 8000), -EINVAL);
    CHECK_EQ(out.len, 0);
    buf_free(&out);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_parse_foreign(void)
{
    struct wav_info info;
    /* A float WAV (what the R package writes) with a LIST chunk of odd size
     * (padded) before fmt, and a data chunk cut short. */
    uint8_t w[12 + 8 + 5 + 1 + 8 + 16 + 8 + 8];
    size_t i = 0;
    memcpy(w, "RIFF", 4);
    put32(w + 4, 9999);
    memcpy(w + 8, "WAVE", 4);
    i = 12;
    memcpy(w + i, "LIST", 4);
    put32(w + i + 4, 5);
    memset(w + i + 8, 'x', 6);
    i += 14;
    memcpy(w + i, "fmt ", 4);
    put32(w + i + 4, 16);
    uint8_t fmt[16] = {3, 0, 2, 0, 0x44, 0xAC, 0, 0, 0, 0, 0, 0, 8, 0, 32, 0};
    memcpy(w + i + 8, fmt, 16);
    i += 24;
    memcpy(w + i, "data", 4);
    put32(w + i + 4, 800);   /* more than present */
    memset(w + i + 8, 0, 8);
    i += 16;
    REQUIRE(i == sizeof w);
    REQUIRE(wav_parse_header(w, sizeof w, &info) == 0);
    CHECK_EQ(info.format, 3);
    CHECK_EQ(info.channels, 2);
    CHECK_EQ(info.sample_rate, 44100);
    CHECK_EQ(info.bits_per_sample, 32);
    CHECK_EQ(info.frames, 1);
    CHECK_EQ(info.data_len, 8);

    /* Broken variants. */
    uint8_t b[sizeof w];
    memcpy(b, w, sizeof w);
    memcpy(b + 8, "AVI ", 4);
    CHECK_EQ(wav_parse_header(b, sizeof b, &info), -EINVAL);
    memcpy(b, w, sizeof w);
    b[26 + 8 + 12] = 7;   /* block align != channels * bits / 8 */
    CHECK_EQ(wav_parse_header(b, sizeof b, &info), -EINVAL);
    memcpy(b, w, sizeof w);
    b[26 + 8] = 2;        /* ADPCM */
    CHECK_EQ(wav_parse_header(b, sizeof b, &info), -EINVAL);
    memcpy(b, w, sizeof w);
    b[26 + 8 + 2] = 0;    /* no channels */
    CHECK_EQ(wav_parse_header(b, sizeof b, &info), -EINVAL);
    memcpy(b, w, sizeof w);
    put32(b + 16, 5000);  /* LIST runs past the end */
    CHECK_EQ(wav_parse_header(b, sizeof b, &info), -EINVAL);
    CHECK_EQ(wav_parse_header(w, 30, &info), -EINVAL);   /* no fmt, no data */
    CHECK_EQ(wav_parse_header("RIFF", 4, &info), -EINVAL);
    /* data before fmt */
    uint8_t d[12 + 8 + 2 + 24];
    memcpy(d, "RIFF", 4);
    memcpy(d + 8, "WAVE", 4);
    memcpy(d + 12, "data", 4);
    put32(d + 16, 2);
    memcpy(d + 22, w + 26, 24);
    CHECK_EQ(wav_parse_header(d, sizeof d, &info), -EINVAL);
}

static void test_audio_builders(void)
{
    struct summary_value v;
    summary_value_init(&v);
    /* Two stereo clips of 5 frames. */
    float x[2 * 5 * 2];
    for (size_t i = 0; i < 20; i++)
        x[i] = (float)i / 20.0f - 0.5f;
    REQUIRE(summary_audio_floats(&v, "voice", x, 2, 5, 2, 22050, NULL) == 0);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    REQUIRE(summary_value_encode(&out, &v, true) == 0);
    Tensorboard__Summary *s = tensorboard__summary__unpack(NULL, out.len, out.data);
    REQUIRE(s && s->n_value == 1);
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK_STR(val->tag, "voice");
    CHECK_STR(val->metadata->plugin_data->plugin_name, "audio");
    CHECK_EQ(val->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE);
    Tensorboard__AudioPluginData *apd = tensorboard__audio_plugin_data__unpack(
        NULL, val->metadata->plugin_data->content.len, val->metadata->plugin_data->content.data);
    REQUIRE(apd);
    CHECK_EQ(apd->version, 0);
    CHECK_EQ(apd->encoding, TENSORBOARD__AUDIO_PLUGIN_DATA__ENCODING__WAV);
    tensorboard__audio_plugin_data__free_unpacked(apd, NULL);
    Tensorboard__TensorProto *t = val->tensor;
    CHECK_EQ(t->dtype, TENSORBOARD__DATA_TYPE__DT_STRING);
    REQUIRE(t->tensor_shape->n_dim == 1 && t->tensor_shape->dim[0]->size == 2);
    REQUIRE(t->n_string_val == 2);
    for (size_t c = 0; c < 2; c++) {
        struct wav_info info;
        REQUIRE(wav_parse_header(t->string_val[c].data, t->string_val[c].len, &info) == 0);
        CHECK_EQ(info.sample_rate, 22050);
        CHECK_EQ(info.channels, 2);
        CHECK_EQ(info.frames, 5);
        for (size_t i = 0; i < 10; i++)
            CHECK_EQ(sample_at(t->string_val[c].data, &info, i),
                     lrint((double)x[c * 10 + i] * 32767.0));
    }
    /* The same WAVs pass through summary_audio_wav unchanged. */
    struct summary_bytes wavs[2] = {{t->string_val[0].data, t->string_val[0].len},
                                    {t->string_val[1].data, t->string_val[1].len}};
    struct summary_value v2;
    summary_value_init(&v2);
    CHECK_EQ(summary_audio_wav(&v2, "voice", wavs, 2, NULL), 0);
    CHECK(v2.body.len == v.body.len && memcmp(v2.body.data, v.body.data, v.body.len) == 0);
    struct summary_bytes junk = {"RIFFxxxxAVI ", 12};
    CHECK_EQ(summary_audio_wav(&v2, "voice", &junk, 1, NULL), -EINVAL);
    summary_value_done(&v2);
    tensorboard__summary__free_unpacked(s, NULL);
    buf_free(&out);

    /* Zero-length audio and bad shapes are refused. */
    double d[2] = {0, 0};
    CHECK_EQ(summary_audio_doubles(&v, "a", d, 1, 0, 1, 16000, NULL), -EINVAL);
    CHECK(strstr(summary_last_error(), "zero-length") != NULL);
    CHECK_EQ(v.body.len, 0);
    CHECK_EQ(v.tag.len, 0);
    CHECK_EQ(summary_audio_doubles(&v, "a", d, 0, 1, 1, 16000, NULL), -EINVAL);
    CHECK_EQ(summary_audio_doubles(&v, "a", d, 1, 1, 1, 0, NULL), -EINVAL);
    CHECK_EQ(summary_audio_doubles(&v, "a", d, 1, 2, 1, 16000, NULL), 0);
    summary_value_done(&v);
}

TEST_MAIN(TEST(test_rounding_and_clipping), TEST(test_mono_stereo), TEST(test_encode_rejects),
          TEST(test_parse_foreign), TEST(test_audio_builders))
