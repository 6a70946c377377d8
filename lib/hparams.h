/* hparams: the hparams plugin's content (HParamsPluginData) and
 * TensorBoard's default session group name.
 *
 * The three hparams summaries (experiment, session start, session end) carry
 * everything in SummaryMetadata.plugin_data.content; the value itself is an
 * empty DT_FLOAT [0] tensor (see summary_hparams_*() in summary.h). This
 * module builds the content with protobuf-c (not a hot path) and computes
 * group names. All strings are borrowed, NUL-terminated UTF-8; NULL means
 * "not set" (the empty string on the wire). Nothing here logs. */
#ifndef TFEVENTS_HPARAMS_H
#define TFEVENTS_HPARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Limits on what one client can put into one hparams summary. */
#define HPARAMS_MAX_HPARAMS 1024        /* hparams per session / experiment */
#define HPARAMS_MAX_METRICS 1024        /* metric infos per experiment */
#define HPARAMS_MAX_DOMAIN_VALUES 4096  /* values of one discrete domain */
#define HPARAMS_MAX_STRING (64u * 1024) /* bytes of any one string */

#define HPARAMS_TAG_EXPERIMENT "_hparams_/experiment"
#define HPARAMS_TAG_SESSION_START "_hparams_/session_start_info"
#define HPARAMS_TAG_SESSION_END "_hparams_/session_end_info"

/* A hyperparameter value. HPARAMS_INT is a number the user wrote as an
 * integer: it is stored as a double on the wire (number_value) like every
 * number, but prints as an integer in the group-name JSON, as Python's
 * json.dumps prints an int. Ints beyond +-2^53 lose precision on the wire
 * (protobuf Value has only doubles) but print exactly in the JSON. */
enum hparams_value_kind {
    HPARAMS_NUMBER = 0,   /* .number (a float; Python float) */
    HPARAMS_INT,          /* .integer (Python int) */
    HPARAMS_STRING,       /* .string, borrowed, NUL-terminated UTF-8 */
    HPARAMS_BOOL,         /* .boolean */
};

struct hparams_value {
    enum hparams_value_kind kind;
    double number;
    int64_t integer;
    const char *string;
    bool boolean;
};

/* Values mirror the proto enums (hparams.proto). */
enum hparams_type {
    HPARAMS_TYPE_UNSET = 0,
    HPARAMS_TYPE_STRING = 1,
    HPARAMS_TYPE_BOOL = 2,
    HPARAMS_TYPE_FLOAT64 = 3,
};

enum hparams_domain {
    HPARAMS_DOMAIN_NONE = 0,      /* any value of the type */
    HPARAMS_DOMAIN_DISCRETE,      /* values[0..n_values) (strings, numbers or bools) */
    HPARAMS_DOMAIN_INTERVAL,      /* [min_value, max_value], finite, min <= max */
};

enum hparams_dataset {
    HPARAMS_DATASET_UNKNOWN = 0,
    HPARAMS_DATASET_TRAINING = 1,
    HPARAMS_DATASET_VALIDATION = 2,
};

enum hparams_status {
    HPARAMS_STATUS_UNKNOWN = 0,
    HPARAMS_STATUS_SUCCESS = 1,
    HPARAMS_STATUS_FAILURE = 2,
    HPARAMS_STATUS_RUNNING = 3,
};

/* One hyperparameter of the experiment (HParamInfo). name is required. */
struct hparams_info {
    const char *name;
    const char *display_name;
    const char *description;
    enum hparams_type type;
    enum hparams_domain domain;
    const struct hparams_value *values;   /* DISCRETE: borrowed array */
    size_t n_values;
    double min_value, max_value;          /* INTERVAL */
};

/* One metric of the experiment (MetricInfo): values are the scalars of tag
 * `tag` in run "<session>/<group>" (group NULL or "": the session's run). */
struct hparams_metric {
    const char *group;
    const char *tag;                      /* required */
    const char *display_name;
    const char *description;
    enum hparams_dataset dataset_type;
};

struct hparams_experiment {
    const char *name;
    const char *description;
    const char *user;
    double time_created_secs;
    const struct hparams_info *hparams;   /* borrowed array */
    size_t n_hparams;
    const struct hparams_metric *metrics; /* borrowed array */
    size_t n_metrics;
};

/* One name = value pair of a session. Names must be distinct. */
struct hparams_kv {
    const char *name;
    struct hparams_value value;
};

struct hparams_session_start {
    const struct hparams_kv *hparams;     /* borrowed array */
    size_t n_hparams;
    const char *model_uri;
    const char *monitor_url;
    /* NULL: TensorBoard's default, hparams_group_name() of the hparams
     * ("" is kept as "": every session is then a group of its own). */
    const char *group_name;
    double start_time_secs;
};

/* Serialized HParamsPluginData{version 0, experiment} appended to out.
 * -EINVAL (missing name/tag, bad enum, non-finite or reversed interval,
 * discrete value not matching... any invalid field), -EILSEQ (a string is
 * not UTF-8), -EMSGSIZE (past a limit above or out's cap), -ENOMEM.
 * *ret_why (may be NULL) gets a static English reason on -EINVAL/-EILSEQ. */
int hparams_encode_experiment(struct buf *out, const struct hparams_experiment *e,
                              const char **ret_why);

/* Serialized HParamsPluginData{version 0, session_start_info}; errors as
 * above (also -EINVAL for duplicate names, non-finite numbers). */
int hparams_encode_session_start(struct buf *out, const struct hparams_session_start *s,
                                 const char **ret_why);

/* Serialized HParamsPluginData{version 0, session_end_info}. -EINVAL for a
 * status outside the enum. */
int hparams_encode_session_end(struct buf *out, enum hparams_status status,
                               double end_time_secs);

/* The JSON TensorBoard hashes for the default group name:
 * json.dumps(hparams, sort_keys=True, separators=(",", ":")) in Python,
 * appended to out (not NUL-terminated). Numbers print like Python's
 * float repr (shortest round-trip, "0.1", "1e-05", "1e+100", "2.0"),
 * integers like Python ints, strings escaped with ensure_ascii (\uXXXX,
 * surrogate pairs). -EINVAL for duplicate names or non-finite numbers,
 * -EILSEQ for invalid UTF-8, -EMSGSIZE, -ENOMEM. */
int hparams_json(struct buf *out, const struct hparams_kv *kv, size_t n);

/* Lowercase hex SHA-256 of hparams_json() into out (65 bytes with the NUL).
 * Errors as hparams_json(). */
int hparams_group_name(char out[65], const struct hparams_kv *kv, size_t n);

/* Python's repr() of a finite double into out (at least 32 bytes);
 * returns the length. Exposed for tests. */
size_t hparams_format_double(char *out, double d);

#endif
