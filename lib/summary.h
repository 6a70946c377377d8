/* summary: encoders for every kind of TensorBoard summary value.
 *
 * A builder fills a struct summary_value: the tag, the serialized
 * SummaryMetadata and the serialized value body, kept apart so that whoever
 * writes the file can attach the metadata to the first value of each tag in
 * every file (TensorBoard lists a tag only if that one has it) and leave it
 * off later values. summary_value_encode() then emits the Summary.Value.
 *
 * Builders return 0 or a negative errno: -EINVAL for bad arguments (with
 * summary_last_error() saying why), -EILSEQ for invalid UTF-8 (tag, text,
 * names), -EMSGSIZE past a limit, -ENOMEM. They never log. All pointer
 * arguments are borrowed for the duration of the call only; the value owns
 * copies of everything it needs. Builders are reentrant: one summary_value
 * per thread. On failure the value is left reset (empty), never half-built.
 *
 * Every tag must be non-empty, valid UTF-8 and at most SUMMARY_MAX_TAG
 * bytes. */
#ifndef TFEVENTS_SUMMARY_H
#define TFEVENTS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hparams.h"
#include "histogram.h"
#include "png.h"
#include "wav.h"
#include "summary.pb-c.h"

/* Limits on what a client can make one value hold. */
#define SUMMARY_MAX_TAG 4096u                 /* bytes of a tag */
#define SUMMARY_MAX_META_STRING (64u * 1024)  /* display name, description, plugin name */
#define SUMMARY_MAX_CONTENT (16u << 20)       /* plugin_data.content bytes */
#define SUMMARY_MAX_BODY (128u << 20)         /* serialized body (cap of v->body);
                                                 half of RECORD_MAX_PAYLOAD */
#define SUMMARY_MAX_STRINGS (1u << 20)        /* strings in a text / custom tensor */
#define SUMMARY_MAX_IMAGES 1024u              /* images in one value */
#define SUMMARY_MAX_AUDIO_CLIPS 1024u         /* audio clips in one value */
#define SUMMARY_MAX_RANK 8u                   /* rank of a custom tensor */

/* One encoded value. Initialise with summary_value_init(), release with
 * summary_value_done(); a builder may be called on a used value (it resets
 * it first). */
struct summary_value {
    struct buf tag;        /* the tag's UTF-8 bytes (not NUL-terminated) */
    struct buf metadata;   /* serialized SummaryMetadata */
    struct buf body;       /* the Summary.Value oneof field, with its field
                              key and length (tensor = field 8, or legacy
                              simple_value = field 2), ready to copy */
};

void summary_value_init(struct summary_value *v);
void summary_value_done(struct summary_value *v);   /* NULL-safe */

/* Append the value as one Summary.value entry (field 1 of Summary: key,
 * length, then Value {tag, body, metadata if with_metadata}) to out. The
 * concatenation of such entries is what event_encode_summary() takes. */
int summary_value_encode(struct buf *out, const struct summary_value *v,
                         bool with_metadata);

/* Display name and description, optional for every kind (NULL = none). */
struct summary_meta {
    const char *display_name;
    const char *description;
};

/* A borrowed byte string (not NUL-terminated). */
struct summary_bytes {
    const void *data;
    size_t len;
};

/* Why the last builder call on this thread failed: a static English
 * sentence fragment ("histogram data holds NaN or Inf"), or "" after a
 * success. Thread-local; valid until the next builder call. */
const char *summary_last_error(void);

/* For builders in other modules (pr_curve.c, layout.c, gif.c): reset v,
 * make why (static; NULL: a sentence for r) the one summary_last_error()
 * answers, and return r. A builder ending in success sets "" through
 * summary_clear_error(). */
int summary_fail(struct summary_value *v, int r, const char *why);
void summary_clear_error(void);

/* The body summary_scalar() makes: Value.tensor = TensorProto {dtype:
 * DT_FLOAT, tensor_shape: {}, float_val: [x]} (packed), i.e. these 8 bytes
 * and the float's 4, little-endian. */
#define SUMMARY_SCALAR_BODY_LEN 12u
extern const uint8_t summary_scalar_body_head[8];
/* The length of its metadata without display name and description
 * (plugin "scalars", DATA_CLASS_SCALAR). */
#define SUMMARY_SCALAR_METADATA_LEN 13u

/* True when v holds exactly what summary_scalar(tag, x, NULL) makes of
 * its tag (body and metadata); *ret_value gets x as stored (a float). */
bool summary_is_plain_scalar(const struct summary_value *v, double *ret_value);

/* ---- scalars ------------------------------------------------------------
 * A rank-0 DT_FLOAT tensor (float_val), data_class SCALAR, plugin "scalars".
 * value is rounded to float; NaN and +-Inf are kept. Integers go through
 * the double. meta may be NULL. Without meta, the metadata bytes are a
 * precomputed constant, so the call only copies bytes into v's buffers
 * (no allocation once they have grown): the hot path. */
int summary_scalar(struct summary_value *v, const char *tag, double value,
                   const struct summary_meta *meta);

/* ---- text ---------------------------------------------------------------
 * DT_STRING, data_class TENSOR, plugin "text". Strings must be valid UTF-8
 * (-EILSEQ); they may be empty. */

/* One string: a rank-0 tensor (TensorBoard renders it as Markdown). */
int summary_text(struct summary_value *v, const char *tag, const char *text,
                 size_t len, const struct summary_meta *meta);

/* rank 1 (dims[0] strings) or rank 2 (dims[0] rows x dims[1] columns,
 * row-major): a table. rank 0 takes one string. dims[i] may be 0 (an
 * empty table); the product is at most SUMMARY_MAX_STRINGS. */
int summary_text_array(struct summary_value *v, const char *tag,
                       const struct summary_bytes *strings, size_t rank,
                       const size_t *dims, const struct summary_meta *meta);

/* ---- histograms ---------------------------------------------------------
 * DT_DOUBLE [k,3] rows (left, right, count), data_class TENSOR, plugin
 * "histograms". See histogram.h for the bucketing, which is TensorBoard's
 * own; bucket_count: HISTOGRAM_DEFAULT_BUCKETS when the user gave none. */

/* From n values (flattened). -EINVAL for NaN/Inf in data, a range that
 * overflows a double, or bucket_count < 0 / > HISTOGRAM_MAX_BUCKETS;
 * -EMSGSIZE for n > HISTOGRAM_MAX_ELEMENTS. */
int summary_histogram(struct summary_value *v, const char *tag,
                      const double *data, size_t n, int bucket_count,
                      const struct summary_meta *meta);

/* From precomputed buckets: k+1 edges (finite, non-decreasing) and k counts
 * (finite, >= 0). k may be 0. -EINVAL otherwise. */
int summary_histogram_buckets(struct summary_value *v, const char *tag,
                              const double *edges, const double *counts,
                              size_t k, const struct summary_meta *meta);

/* ---- images -------------------------------------------------------------
 * Rank-1 DT_STRING [width, height, png_0 ... png_n-1] (width/height as
 * decimal ASCII), data_class BLOB_SEQUENCE, plugin "images". Pixels are
 * [batch, height, width, channels] row-major; channels 1 gray, 2 gray+alpha,
 * 3 RGB, 4 RGBA; batch 1..SUMMARY_MAX_IMAGES; width, height 1..PNG_MAX_DIM
 * and width*height <= PNG_MAX_PIXELS (png.h). -EINVAL otherwise. */

/* Values in [0,1]: clamped, NaN -> 0, byte = (uint8)(v * 255 + 0.5), as
 * summary_unit_to_byte() converts one (for callers that hold doubles but
 * pass bytes on, such as the JSON decoder). */
uint8_t summary_unit_to_byte(double x);
int summary_image_doubles(struct summary_value *v, const char *tag,
                          const double *pixels, size_t batch, size_t height,
                          size_t width, size_t channels,
                          const struct summary_meta *meta);
int summary_image_floats(struct summary_value *v, const char *tag,
                         const float *pixels, size_t batch, size_t height,
                         size_t width, size_t channels,
                         const struct summary_meta *meta);
/* Bytes 0..255 as they are. */
int summary_image_u8(struct summary_value *v, const char *tag,
                     const uint8_t *pixels, size_t batch, size_t height,
                     size_t width, size_t channels,
                     const struct summary_meta *meta);

/* Already-encoded images: n (1..SUMMARY_MAX_IMAGES) blobs, each a PNG,
 * JPEG or GIF (animated or not) whose size can be read from its PNG IHDR /
 * JPEG SOFn / GIF logical screen (anything else, BMP included, is -EINVAL). width and height 0: taken from the
 * blobs, which must all have the same size; given: every blob must have
 * that size (-EINVAL otherwise), since TensorBoard shows the tensor's size,
 * not the image's. */
int summary_image_encoded(struct summary_value *v, const char *tag,
                          const struct summary_bytes *blobs, size_t n,
                          uint32_t width, uint32_t height,
                          const struct summary_meta *meta);

/* An animation: n_frames frames of bytes [n_frames, height, width,
 * channels] encoded as one looping GIF (gif.h) at fps frames per second,
 * one image of the value (what tensorboardX's add_video writes; the image
 * dashboard plays it). */
int summary_image_animation(struct summary_value *v, const char *tag, const uint8_t *frames,
                            size_t n_frames, size_t height, size_t width, size_t channels,
                            double fps, const struct summary_meta *meta);

/* ---- audio --------------------------------------------------------------
 * DT_STRING [k] of 16-bit PCM WAV files, data_class BLOB_SEQUENCE, plugin
 * "audio", content AudioPluginData{version 0, encoding WAV}. Samples are
 * [batch, frames, channels] row-major in [-1,1]: clipped, NaN -> 0,
 * sample = lrint(v * 32767). batch 1..SUMMARY_MAX_AUDIO_CLIPS, frames >= 1
 * (zero-length audio is -EINVAL), channels 1..WAV_MAX_CHANNELS, sample_rate
 * 1..WAV_MAX_RATE, frames * channels <= WAV_MAX_SAMPLES (wav.h). */
int summary_audio_doubles(struct summary_value *v, const char *tag,
                          const double *samples, size_t batch, size_t frames,
                          size_t channels, uint32_t sample_rate,
                          const struct summary_meta *meta);
int summary_audio_floats(struct summary_value *v, const char *tag,
                         const float *samples, size_t batch, size_t frames,
                         size_t channels, uint32_t sample_rate,
                         const struct summary_meta *meta);

/* Already-encoded WAV files: each must pass wav_parse_header() (-EINVAL). */
int summary_audio_wav(struct summary_value *v, const char *tag,
                      const struct summary_bytes *wavs, size_t n,
                      const struct summary_meta *meta);

/* ---- hparams ------------------------------------------------------------
 * Plugin "hparams", data_class TENSOR, content HParamsPluginData (see
 * hparams.h), body an empty DT_FLOAT [0] tensor (without a tensor
 * TensorBoard's hparams tab fails with HTTP 500). The tag is fixed:
 * HPARAMS_TAG_EXPERIMENT / _SESSION_START / _SESSION_END. Write the
 * experiment in the root run, the session start and end in each session's
 * run, at step 0. */
int summary_hparams_experiment(struct summary_value *v,
                               const struct hparams_experiment *e);
int summary_hparams_session_start(struct summary_value *v,
                                  const struct hparams_session_start *s);
int summary_hparams_session_end(struct summary_value *v,
                                enum hparams_status status, double end_time_secs);

/* ---- custom plugins -----------------------------------------------------
 * Any plugin: plugin_name (required, UTF-8), content bytes (may be empty,
 * at most SUMMARY_MAX_CONTENT), a data class (Tensorboard__DataClass value
 * 0..3) and a tensor. */

/* tensor_proto: a serialized TensorProto, passed through after checking
 * that it decodes (-EBADMSG otherwise: a record TensorBoard cannot decode
 * kills its reload thread). */
int summary_custom(struct summary_value *v, const char *tag,
                   const char *plugin_name, const void *content,
                   size_t content_len, int data_class,
                   const void *tensor_proto, size_t tensor_len,
                   const struct summary_meta *meta);

/* A numeric tensor of shape dims[0..rank) (rank <= SUMMARY_MAX_RANK; rank 0
 * is one value) from row-major doubles, stored as dtype DT_FLOAT or
 * DT_DOUBLE (Tensorboard__DataType), e.g. pr_curves [6, thresholds]. */
int summary_custom_numeric(struct summary_value *v, const char *tag,
                           const char *plugin_name, const void *content,
                           size_t content_len, int data_class,
                           const double *values, size_t rank, const size_t *dims,
                           int dtype, const struct summary_meta *meta);

/* A DT_STRING tensor of shape dims[0..rank) (strings are bytes: no UTF-8
 * check), e.g. a custom_scalars layout in a rank-0 string. */
int summary_custom_strings(struct summary_value *v, const char *tag,
                           const char *plugin_name, const void *content,
                           size_t content_len, int data_class,
                           const struct summary_bytes *strings, size_t rank,
                           const size_t *dims, const struct summary_meta *meta);

#endif
