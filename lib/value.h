/* value: one Summary.Value decoded the way TensorBoard's loader sees it.
 *
 * TensorBoard does not look at a Summary.Value as written. When it loads a
 * file it first migrates legacy values (simple_value, Summary.Image,
 * Summary.Audio, HistogramProto) to tensors with plugin metadata, then infers
 * the data class from the plugin name of the tag's first value in that file,
 * projects audio [k,2] (clip, label) to [k] and gives hparams values without
 * a tensor an empty DT_FLOAT [0] one. Which dashboard reads a value is
 * decided by the metadata TensorBoard kept for the tag (the first one seen in
 * the run); later values usually carry none. value_decode() replays all of
 * that and turns the result into a plain value: a number, a string table, a
 * [k,3] histogram, images, audio clips with their WAV header facts, the
 * hparams plugin content, or a generic nested tensor.
 *
 * value_json.h renders a decoded value in the layout of the golden
 * "expected" files (see shared/golden/README.md), so it can be compared with
 * what TensorBoard itself served.
 *
 * Which value. A struct decoded_value (here) is a value read back from a
 * file; what we build to write is a struct summary_value (summary.h), and
 * a typed hparam is a struct hparams_value (hparams.h).
 *
 * Pure functions: nothing here logs or keeps global state; thread-safe. */
#ifndef TFEVENTS_VALUE_H
#define TFEVENTS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "summary.pb-c.h"
#include "tensor.h"

/* Largest element count of a tensor we decode into plain values. The count
 * comes from the shape a file claims (one value may "fill" a huge shape), so
 * it is checked before anything is allocated; bigger tensors decode as
 * VALUE_INVALID. */
#define VALUE_MAX_ELEMENTS (16u << 20)

/* Plugin contents (and so hparams JSON) nest google.protobuf.Value lists and
 * structs; deeper nesting than this is rendered as null rather than recursed
 * into without bound. */
#define VALUE_MAX_JSON_DEPTH 64

enum value_kind {
    VALUE_EMPTY = 0,   /* no data: a value that carries only metadata */
    VALUE_SCALAR,      /* plugin "scalars", exactly one number */
    VALUE_TEXT,        /* plugin "text", DT_STRING of rank 0..n */
    VALUE_HISTOGRAM,   /* plugin "histograms", numeric [k,3] */
    VALUE_IMAGE,       /* plugin "images", DT_STRING [w, h, img...] */
    VALUE_AUDIO,       /* plugin "audio", DT_STRING [k] of WAV files */
    VALUE_HPARAMS,     /* plugin "hparams": the content is the value */
    VALUE_TENSOR,      /* anything else: generic numbers or strings */
    VALUE_INVALID,     /* the tensor cannot be decoded (bad shape/count/dtype) */
};

/* SummaryMetadata as TensorBoard keeps it. All strings are owned and never
 * NULL ("" when absent). */
struct value_meta {
    bool present;          /* the value carried (or migration gave it) metadata */
    char *plugin;
    int data_class;        /* Tensorboard__DataClass, after inference */
    int data_class_written;/* as written (before inference) */
    char *display_name;
    char *description;
    uint8_t *content;      /* plugin_data.content; NULL when empty */
    size_t content_len;
};

/* A byte string borrowed from the decoded Summary.Value (or from the value
 * itself for migrated legacy width/height strings). */
struct value_bytes {
    const uint8_t *data;
    size_t len;
};

struct value_clip {
    bool is_wav;           /* a RIFF/WAVE file with fmt and data chunks */
    uint32_t sample_rate;
    uint32_t channels;
    uint64_t frames;       /* data chunk bytes / block align */
    struct value_bytes bytes;
};

/* A decoded value. Initialise with value_init(), release with value_done();
 * it points into itself, so never copy a struct decoded_value by assignment.
 * Byte strings are borrowed from the Summary.Value passed to value_decode():
 * keep it alive as long as the value is used. Everything else is owned. */
struct decoded_value {
    enum value_kind kind;
    struct value_meta meta;    /* this value's own metadata after migration
                                  and inference (meta.present false: none) */
    const char *plugin;        /* the plugin that decided the kind: the kept
                                  metadata's, else meta's; owned by `meta` or
                                  by the caller's kept metadata, see below */
    bool has_tensor;           /* false for VALUE_EMPTY */
    bool legacy;               /* migrated from a legacy oneof */
    int dtype;                 /* of the (migrated, projected) tensor */
    struct tensor_shape shape;

    double scalar;             /* VALUE_SCALAR */
    /* VALUE_HISTOGRAM: rows * 3 numbers (left, right, count);
     * VALUE_TENSOR with a numeric dtype: shape.count numbers. */
    double *numbers;
    size_t n_numbers;
    /* VALUE_TEXT, VALUE_TENSOR of DT_STRING: shape.count strings;
     * VALUE_IMAGE: width, height, then the image blobs. */
    struct value_bytes *strings;
    size_t n_strings;
    struct value_clip *clips;  /* VALUE_AUDIO */
    size_t n_clips;
    cJSON *hparams;            /* VALUE_HPARAMS: the plugin content as JSON */

    double inline_number;      /* storage behind numbers for one element */
    /* Storage for migrated legacy Summary.Image width/height strings and the
     * empty label of migrated audio. */
    char legacy_buf[2][24];
};

void value_init(struct decoded_value *v);
/* Free what v owns and leave it initialised. NULL-safe. */
void value_done(struct decoded_value *v);

void value_meta_init(struct value_meta *m);
void value_meta_done(struct value_meta *m);   /* NULL-safe */
/* Deep copy of src into *dst (dst need not be initialised). -ENOMEM. */
int value_meta_copy(struct value_meta *dst, const struct value_meta *src);

/* Decode one Summary.Value (borrowed; must outlive *ret).
 *
 *   file_initial  the metadata (as written, after legacy migration) of the
 *                 tag's first value in the same file, or NULL when v is that
 *                 first value (then v's own is used). Only its plugin and
 *                 data_class_written are read: they decide data-class
 *                 inference, the audio [k,2] projection and the empty hparams
 *                 tensor, exactly per file as TensorBoard does.
 *   kept          the metadata TensorBoard keeps for the tag in this run (the
 *                 first value's that carried any, post-inference), or NULL
 *                 when none was seen yet (then v's own, if any, decides).
 *                 Borrowed; ret->plugin may point into it, so it must
 *                 outlive *ret.
 *
 * *ret must be initialised; it is reset first. Returns 0, or -ENOMEM (then
 * *ret is left empty). A tensor that cannot be decoded is not an error: it
 * gives VALUE_INVALID. After a successful call with ret->meta.present and
 * kept == NULL, the caller should keep a copy of ret->meta (value_meta_copy)
 * as the tag's kept metadata. */
int value_decode(const Tensorboard__Summary__Value *v,
                 const struct value_meta *file_initial,
                 const struct value_meta *kept, struct decoded_value *ret);

/* Facts from a RIFF/WAVE header. Returns 0 and fills the clip fields
 * (bytes untouched) when data is a WAV with fmt and data chunks, -EBADMSG
 * otherwise. */
int value_wav_info(const uint8_t *data, size_t len, struct value_clip *ret);

/* "DATA_CLASS_SCALAR", ... ("DATA_CLASS_?" for unknown numbers). */
const char *value_data_class_name(int data_class);

/* "scalar", "text", ... */
const char *value_kind_name(enum value_kind kind);

#endif
