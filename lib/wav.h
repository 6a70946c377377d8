/* wav: 16-bit PCM WAV encoding and WAV header parsing.
 *
 * TensorBoard's audio dashboard hands the WAV bytes to the browser, which
 * plays 16-bit PCM everywhere; sample rate and channel count come only from
 * the header. */
#ifndef TFEVENTS_WAV_H
#define TFEVENTS_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WAV_HEADER_SIZE 44u
/* Limits on one clip a client may send. */
#define WAV_MAX_CHANNELS 64u
#define WAV_MAX_RATE 768000u
/* frames * channels of one clip (64 MiB of 16-bit samples). */
#define WAV_MAX_SAMPLES ((size_t)1 << 25)

struct wav_info {
    uint32_t sample_rate;
    uint16_t channels;
    uint16_t bits_per_sample;
    uint16_t format;          /* 1 PCM, 3 IEEE float, 0xFFFE extensible */
    uint64_t frames;          /* data bytes / block align */
    size_t data_offset;       /* where the samples start in the blob */
    size_t data_len;          /* sample bytes present (may be less than the
                                 header says if the blob is cut short) */
};

/* Append a 16-bit PCM WAV of frames x channels interleaved samples in
 * [-1,1] (clipped; NaN -> 0; sample = lrint(v * 32767)). -EINVAL for
 * frames == 0, channels or rate outside 1..WAV_MAX_*, frames * channels >
 * WAV_MAX_SAMPLES; -EMSGSIZE past out's cap; -ENOMEM. */
int wav_encode_doubles(struct buf *out, const double *samples, size_t frames,
                       size_t channels, uint32_t sample_rate);
int wav_encode_floats(struct buf *out, const float *samples, size_t frames,
                      size_t channels, uint32_t sample_rate);

/* Parse a RIFF/WAVE blob: walk the chunks to "fmt " and "data". Accepts PCM
 * (8/16/24/32 bit), IEEE float (32/64) and WAVE_FORMAT_EXTENSIBLE. -EINVAL
 * when it is not RIFF/WAVE, a chunk runs past the end, fmt is missing or
 * comes after data, or a field is zero/inconsistent (block align !=
 * channels * bits / 8). The data chunk may be cut short (data_len says what
 * is there); frames counts the whole frames present. */
int wav_parse_header(const void *data, size_t len, struct wav_info *ret);

#endif
