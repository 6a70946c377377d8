#include "wav.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* Reserve the whole file and write the 44-byte header; returns where the
 * samples go, or NULL with *ret_err set. */
static uint8_t *wav_begin(struct buf *out, size_t frames, size_t channels,
                          uint32_t rate, int *ret_err)
{
    if (frames == 0 || channels < 1 || channels > WAV_MAX_CHANNELS || rate < 1 ||
        rate > WAV_MAX_RATE || frames > WAV_MAX_SAMPLES / channels) {
        *ret_err = -EINVAL;
        return NULL;
    }
    size_t data_len = frames * channels * 2;
    int r = buf_reserve(out, WAV_HEADER_SIZE + data_len);
    if (r < 0) {
        *ret_err = r;
        return NULL;
    }
    uint8_t *h = out->data + out->len;
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, (uint32_t)(36 + data_len));
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);                                 /* fmt chunk size */
    put_le16(h + 20, 1);                                  /* PCM */
    put_le16(h + 22, (uint16_t)channels);
    put_le32(h + 24, rate);
    put_le32(h + 28, (uint32_t)(rate * channels * 2));    /* byte rate */
    put_le16(h + 32, (uint16_t)(channels * 2));           /* block align */
    put_le16(h + 34, 16);                                 /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, (uint32_t)data_len);
    out->len += WAV_HEADER_SIZE + data_len;
    return h + WAV_HEADER_SIZE;
}

/* Clip to [-1,1], NaN to 0, then scale by 32767 and round to nearest
 * (ties to even, lrint in the default rounding mode): symmetric, so 1.0
 * and -1.0 map to +-32767 and -32768 is never produced. */
static int16_t to_pcm16(double v)
{
    if (!(v == v))
        return 0;
    if (v > 1.0)
        v = 1.0;
    else if (v < -1.0)
        v = -1.0;
    return (int16_t)lrint(v * 32767.0);
}

int wav_encode_doubles(struct buf *out, const double *samples, size_t frames,
                       size_t channels, uint32_t sample_rate)
{
    int err = 0;
    uint8_t *p = wav_begin(out, frames, channels, sample_rate, &err);
    if (!p)
        return err;
    size_t n = frames * channels;
    for (size_t i = 0; i < n; i++)
        put_le16(p + 2 * i, (uint16_t)to_pcm16(samples[i]));
    return 0;
}

int wav_encode_floats(struct buf *out, const float *samples, size_t frames,
                      size_t channels, uint32_t sample_rate)
{
    int err = 0;
    uint8_t *p = wav_begin(out, frames, channels, sample_rate, &err);
    if (!p)
        return err;
    size_t n = frames * channels;
    for (size_t i = 0; i < n; i++)
        put_le16(p + 2 * i, (uint16_t)to_pcm16(samples[i]));
    return 0;
}

int wav_parse_header(const void *data, size_t len, struct wav_info *ret)
{
    const uint8_t *p = data;
    if (len < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WAVE", 4) != 0)
        return -EINVAL;
    struct wav_info info;
    memset(&info, 0, sizeof info);
    bool have_fmt = false;
    uint16_t block_align = 0;
    size_t i = 12;
    /* Walk the chunks; unknown ones (LIST, fact, ...) are skipped. Chunks
     * are padded to an even size. */
    while (i + 8 <= len) {
        uint32_t size = get_le32(p + i + 4);
        size_t body = i + 8;
        if (memcmp(p + i, "fmt ", 4) == 0) {
            if (size < 16 || body + size > len)
                return -EINVAL;
            info.format = get_le16(p + body);
            info.channels = get_le16(p + body + 2);
            info.sample_rate = get_le32(p + body + 4);
            block_align = get_le16(p + body + 12);
            info.bits_per_sample = get_le16(p + body + 14);
            if (info.format == 0xFFFE) {
                /* WAVE_FORMAT_EXTENSIBLE: the real format is the first two
                 * bytes of the sub-format GUID. */
                if (size < 40)
                    return -EINVAL;
                uint16_t sub = get_le16(p + body + 24);
                if (sub != 1 && sub != 3)
                    return -EINVAL;
            } else if (info.format != 1 && info.format != 3) {
                return -EINVAL;
            }
            uint16_t bits = info.bits_per_sample;
            if (info.channels == 0 || info.sample_rate == 0 || bits == 0 || bits % 8 ||
                bits > 64 || block_align != info.channels * (bits / 8))
                return -EINVAL;
            have_fmt = true;
        } else if (memcmp(p + i, "data", 4) == 0) {
            if (!have_fmt)
                return -EINVAL;
            size_t avail = len - body;
            info.data_offset = body;
            info.data_len = size < avail ? size : avail;
            info.frames = info.data_len / block_align;
            *ret = info;
            return 0;
        } else if (body + size > len) {
            return -EINVAL;
        }
        i = body + size + (size & 1);
    }
    return -EINVAL;
}
