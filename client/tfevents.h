/* tfevents.h -- libtfevents, the C library of tfevents: write TensorBoard
 * event files through the tfeventsd daemon or in-process, and read them back.
 *
 * The model is the one of the R package tfevents:
 *   - a default logdir (tfevents_set_logdir(), or a scoped override with
 *     tfevents_push_logdir() / tfevents_pop_logdir());
 *   - one global step counter per logdir, starting at -1: every
 *     tfevents_log() without an explicit step pre-increments it once (the
 *     first call logs at step 0) however many values it carries;
 *     tfevents_set_step(n) makes the next step n+1;
 *   - values are named by a run (a path relative to the logdir: "train",
 *     "train/eval"; NULL or "." is the logdir itself) and a tag; each value
 *     becomes its own Event in the run's event file.
 *
 * Steps never go back per (run, tag): a message with a step not greater than
 * the last step written for one of its tags is refused whole (TensorBoard
 * would delete the newer points); tfevents_restart() is the way back.
 *
 * Transports. A handle talks to tfeventsd over its binary protocol (socket:
 * the option, else $TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock,
 * else /run/tfevents.sock as root, else ./tfevents.sock) when one answers there, and otherwise writes the
 * files itself ("embedded" mode, the same code as the daemon: same names,
 * counters, step policy and metadata rules). $TFEVENTS_MODE=daemon|embedded|
 * auto or the mode option forces the choice; tfevents_mode() tells it.
 *   - Daemon mode: requests are batched in memory and sent when a batch is
 *     full (batch_bytes), on tfevents_flush(), every flush_interval seconds
 *     and on tfevents_close(). A logdir must lie under the daemon's root
 *     directory; in auto mode a logdir outside it is written in-process
 *     instead (tfevents_logdir_mode()), in daemon mode it is -EXDEV.
 *     Values are checked by the daemon: a refused log is reported by the
 *     next call that waits for the daemon (tfevents_flush(), tfevents_close(),
 *     tfevents_get_step(), a tfevents_log() asking for its step) as
 *     -EREMOTEIO, with the daemon's sentence in tfevents_last_error().
 *   - Embedded mode: values are encoded at once (errors are returned by the
 *     call itself) and written synchronously by the calling thread when a
 *     run's pending data reaches batch_bytes, on tfevents_flush(), on
 *     tfevents_close(), and by a small background thread every
 *     flush_interval seconds.
 *
 * Conventions. Functions that can fail return 0 (or a count) on success and
 * a negative errno on failure (-EINVAL bad argument, -ENOMEM, -EMSGSIZE past
 * a limit, -EILSEQ invalid UTF-8, -ERANGE step refused, -EXDEV logdir outside
 * the daemon's root, -EPIPE/-ECONNRESET daemon gone (or requests lost to
 * a broken connection: tfevents_lost()), -EREMOTEIO daemon
 * refused an earlier request, -ECHILD handle opened by the parent process,
 * -E2BIG options newer than the library, or an I/O errno);
 * tfevents_strerror() says what each means here. Constructors returning a
 * pointer return NULL only when out of memory. Every pointer argument is
 * borrowed for the duration of the call: the library copies what it keeps.
 * Nothing here prints, aborts or exits. Handles are thread-safe (one mutex
 * per handle); a tfevents_values or tfevents_reader object is used by one
 * thread at a time. SIGPIPE is never raised (MSG_NOSIGNAL).
 *
 * fork(). A handle belongs to the process that opened it. fork() waits
 * for calls in progress on the parent's handles (pthread_atfork), so the
 * child gets them in a consistent state, but without the background
 * thread and sharing the parent's socket and files: in the child every
 * function taking such a handle returns -ECHILD (nothing is sent or
 * written, so the parent's stream and files stay intact), except
 * tfevents_mode(), tfevents_last_error(), tfevents_refused() and
 * tfevents_close(), which in the child releases the handle without
 * flushing (what the parent had batched stays the parent's to write). Open
 * a new handle in the child to log from it. Readers and value sets are
 * plain memory and work in the child.
 *
 * ABI. Structs the caller fills (tfevents_options) start with their size;
 * structs the library hands out (tfevents_record) are the library's memory:
 * fields are only ever added at their end. The soname changes when the ABI
 * changes incompatibly (libtfevents.so.1 since 0.2.0: see libtfevents(3),
 * VERSIONS).
 *
 * Link with `pkg-config --cflags --libs tfevents`. */
#ifndef TFEVENTS_H
#define TFEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header, the project's version (meson.build); the
 * library's build fails when they differ. TFEVENTS_VERSION_NUMBER orders
 * versions: #if TFEVENTS_VERSION_NUMBER >= TFEVENTS_VERSION_AT(0, 2, 0). */
#define TFEVENTS_VERSION_MAJOR 0
#define TFEVENTS_VERSION_MINOR 5
#define TFEVENTS_VERSION_PATCH 0
#define TFEVENTS_VERSION_AT(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define TFEVENTS_VERSION_NUMBER                                                               \
    TFEVENTS_VERSION_AT(TFEVENTS_VERSION_MAJOR, TFEVENTS_VERSION_MINOR, TFEVENTS_VERSION_PATCH)

/* The version of the library linked at run time, as "0.2.0" (static
 * string), which may be newer than the header a program was built with. */
const char *tfevents_version(void);

/* What err (a negative errno returned by this library; the sign is
 * ignored) means here: a static sentence for the errors libtfevents
 * documents (-EREMOTEIO "refused by the daemon"...), strerror()'s text for
 * any other. Never NULL; thread-safe. */
const char *tfevents_strerror(int err);

/* ---- handles ----------------------------------------------------------- */

typedef struct tfevents tfevents;

enum tfevents_mode {
    TFEVENTS_MODE_AUTO = 0,      /* daemon when reachable, else embedded */
    TFEVENTS_MODE_DAEMON = 1,
    TFEVENTS_MODE_EMBEDDED = 2,
};

/* Options of tfevents_open(). Start from TFEVENTS_OPTIONS_INIT or
 * tfevents_options_init(), which set .size, then change fields by name.
 *
 * Why a leading size rather than an opaque object with setters: the
 * options stay one plain struct, set with designated initialisers and
 * passed in one call (no allocation, no error to check per option), and
 * it can still grow: the library reads only the .size bytes the caller's
 * struct has, gives later fields their defaults, and refuses (-E2BIG) a
 * newer caller's larger struct whose fields it does not know unless they
 * are zero. Every field added later has 0 as its default. */
struct tfevents_options {
    /* sizeof(struct tfevents_options) as the caller was built. */
    size_t size;
    /* AUTO: $TFEVENTS_MODE if set, else daemon when its socket answers. */
    enum tfevents_mode mode;
    /* NULL: $TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock, else
     * /run/tfevents.sock as root, else ./tfevents.sock. */
    const char *socket_path;
    /* The initial default logdir; NULL: "logs". */
    const char *logdir;
    /* Daemon: bytes of requests batched before a frame is sent; embedded:
     * encoded bytes pending per run before they are written. 0: 256 KiB. */
    size_t batch_bytes;
    /* Seconds between background flushes; 0 disables the thread (data is
     * then written only when a batch fills, on flush and on close).
     * Default 1.0. */
    double flush_interval;
    /* Embedded mode: false (default) refuses steps that do not increase
     * per tag, true writes whatever comes (the daemon's --step-policy). */
    bool any_step;
    /* Daemon mode (since 0.3.0): seconds to keep trying to connect again
     * when the connection to the daemon breaks (a restart, a crash),
     * pausing 20 ms, doubling up to 1 s between attempts. 0: 30 s; < 0:
     * never (every later call then fails, as before 0.3.0, and nothing
     * sent is kept for sending again). */
    double reconnect_timeout;
};

/* The defaults above, for C (C++ before C++20: tfevents_options_init()):
 *   struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
 *   o.logdir = "runs"; */
#define TFEVENTS_OPTIONS_INIT                                                                 \
    {                                                                                         \
        .size = sizeof(struct tfevents_options), .mode = TFEVENTS_MODE_AUTO,                  \
        .socket_path = NULL, .logdir = NULL, .batch_bytes = 0, .flush_interval = 1.0,         \
        .any_step = false, .reconnect_timeout = 0,                                            \
    }

/* Fill o with the defaults above (TFEVENTS_OPTIONS_INIT), size included. */
void tfevents_options_init(struct tfevents_options *o);

/* Open a handle (*ret, caller owns; release with tfevents_close()).
 * opts may be NULL for the defaults. -ECONNREFUSED/-ENOENT... when daemon
 * mode is forced and no daemon answers, -EPROTO when the socket does not
 * speak the protocol, -EINVAL for a bad option, a .size smaller than the
 * first version's options (not initialised) or $TFEVENTS_MODE, -E2BIG when
 * opts is larger than this library's options and sets a field it does not
 * know, -ENOMEM. */
int tfevents_open(tfevents **ret, const struct tfevents_options *opts);

/* Send or write everything, close the files and free h. Returns the first
 * error (including -EREMOTEIO for a refused batched request); h is freed
 * whatever happens. NULL-safe (returns 0). */
int tfevents_close(tfevents *h);

/* The transport in use: TFEVENTS_MODE_DAEMON or TFEVENTS_MODE_EMBEDDED. */
enum tfevents_mode tfevents_mode(tfevents *h);

/* The transport used for logdir (NULL: the default logdir): embedded for
 * a logdir outside the daemon's root in auto mode. Negative errno for an
 * invalid logdir. */
int tfevents_logdir_mode(tfevents *h, const char *logdir);

/* Copy the sentence explaining the last error of h into out (always
 * NUL-terminated; "" when none). Returns its full length. */
size_t tfevents_last_error(tfevents *h, char *out, size_t size);

/* Requests the daemon refused so far (batched requests whose error came
 * back later); 0 in embedded mode, where calls fail directly. */
uint64_t tfevents_refused(tfevents *h);

/* Daemon mode, since 0.3.0 (0 in embedded mode). When the connection to
 * the daemon breaks (the daemon restarts or dies), the library connects
 * again by itself (reconnect_timeout) and sends again what the daemon
 * had not acknowledged -- acknowledged means written: the answer to a
 * tfevents_flush(), to a flush the library sends by itself every
 * flush_interval and every 1 MiB sent, or the daemon's goodbye when it
 * stops gracefully (SIGTERM, systemctl restart), which says how much of
 * what it read it wrote. After a graceful stop nothing is lost. After a
 * crash or kill -9, requests at explicit steps are sent again (the
 * daemon skips the values it had written), and so are restarts and
 * hparams; requests at the counter's step (TFEVENTS_STEP_NEXT/_CURRENT)
 * and step changes are not, since the daemon may have carried them out
 * (they would be logged twice): they are counted here as lost, and so is
 * everything unacknowledged when the daemon does not come back in time.
 * The next call that waits for the daemon (tfevents_flush(), ...)
 * returns -ECONNRESET once, with the sentence in tfevents_last_error().
 * tfevents_lost(): requests counted so; tfevents_reconnects(): the
 * connections made again. */
uint64_t tfevents_lost(tfevents *h);
uint64_t tfevents_reconnects(tfevents *h);

/* ---- the default logdir -------------------------------------------------
 * A relative logdir is resolved against the working directory when it is
 * set (or, for a logdir argument, when the call is made); "logs", "./logs"
 * and its absolute path are one logdir with one step counter. */

/* Longest logdir path. */
#define TFEVENTS_MAX_PATH 4096
/* Depth of the push/pop stack. */
#define TFEVENTS_MAX_LOGDIR_STACK 64

int tfevents_set_logdir(tfevents *h, const char *logdir);

/* Copy the default logdir (absolute) into out. Returns its length, or
 * -ERANGE when size is too small (out then holds "" ). */
int tfevents_get_logdir(tfevents *h, char *out, size_t size);

/* Make logdir the default until the matching pop. -ENOSPC past
 * TFEVENTS_MAX_LOGDIR_STACK. */
int tfevents_push_logdir(tfevents *h, const char *logdir);
/* -ENOENT when nothing was pushed. */
int tfevents_pop_logdir(tfevents *h);

/* ---- the global step ----------------------------------------------------
 * logdir NULL: the default logdir. */

/* *ret_step gets the counter: the step of the last tfevents_log() without
 * an explicit step, -1 before the first (resumed from the files already in
 * the logdir when it is first used). Sends pending requests first. */
int tfevents_get_step(tfevents *h, const char *logdir, int64_t *ret_step);
/* The next tfevents_log() without a step logs at step+1 (-1: start over at
 * 0). step: -1 .. 2^53. */
int tfevents_set_step(tfevents *h, const char *logdir, int64_t step);

/* ---- values -------------------------------------------------------------
 * A tfevents_values collects the values of one tfevents_log() call. run is
 * NULL or "." for the logdir itself, or a relative path ("train/eval");
 * tag must be non-empty UTF-8 not starting with '$'. The data are copied.
 * Errors: -EINVAL (NULL where data is needed, a bad size), -ENOMEM,
 * -EMSGSIZE (more than TFEVENTS_MAX_VALUES values, or a value too large for
 * a frame). Kind-specific checks (UTF-8, pixel ranges, WAV headers...) are
 * made when the values are logged. */

/* Values in one tfevents_values. */
#define TFEVENTS_MAX_VALUES 65536u

typedef struct tfevents_values tfevents_values;

tfevents_values *tfevents_values_new(void);
void tfevents_values_free(tfevents_values *vs);    /* NULL-safe */
/* Forget the values (keep the memory). */
void tfevents_values_clear(tfevents_values *vs);
size_t tfevents_values_count(const tfevents_values *vs);

/* Display name and description (either may be NULL) of the value added
 * last. -ENOENT when there is none. TensorBoard shows those of a tag's
 * first value only: logging a later value of the tag with others is
 * refused (-EEXIST embedded, -EREMOTEIO through the daemon); the same
 * ones, or none, pass. */
int tfevents_values_meta(tfevents_values *vs, const char *display_name,
                         const char *description);

/* A scalar (rank-0 float, plugin "scalars"). */
int tfevents_add_scalar(tfevents_values *vs, const char *run, const char *tag, double value);

/* Text rendered as Markdown. */
int tfevents_add_text(tfevents_values *vs, const char *run, const char *tag, const char *text);
/* A table of rows x cols NUL-terminated cells, row-major; cols 0 makes a
 * list of rows strings. */
int tfevents_add_text_table(tfevents_values *vs, const char *run, const char *tag,
                            const char *const *cells, size_t rows, size_t cols);

/* A histogram of n values with TensorBoard's own bucketing; bucket_count < 0
 * means the default (30). */
int tfevents_add_histogram(tfevents_values *vs, const char *run, const char *tag,
                           const double *data, size_t n, int bucket_count);
/* A histogram from k buckets: k+1 non-decreasing edges, k counts >= 0. */
int tfevents_add_histogram_buckets(tfevents_values *vs, const char *run, const char *tag,
                                   const double *edges, const double *counts, size_t k);

/* Images from pixels [n][height][width][channels] row-major, channels 1
 * (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA); floats in [0,1]. */
int tfevents_add_image_u8(tfevents_values *vs, const char *run, const char *tag,
                          const uint8_t *pixels, size_t n, size_t height, size_t width,
                          size_t channels);
int tfevents_add_image_float(tfevents_values *vs, const char *run, const char *tag,
                             const float *pixels, size_t n, size_t height, size_t width,
                             size_t channels);
/* n already-encoded images of one size: PNG or JPEG files (not mixed). */
int tfevents_add_image_png(tfevents_values *vs, const char *run, const char *tag,
                           const void *const *blobs, const size_t *lens, size_t n);
int tfevents_add_image_jpeg(tfevents_values *vs, const char *run, const char *tag,
                            const void *const *blobs, const size_t *lens, size_t n);
/* GIF files, animated or not (TensorBoard's image dashboard plays them). */
int tfevents_add_image_gif(tfevents_values *vs, const char *run, const char *tag,
                           const void *const *blobs, const size_t *lens, size_t n);
/* An animation: frames [n_frames][height][width][channels] of bytes
 * (channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha dropped) encoded as
 * one looping GIF at fps frames per second (0: 4; at most 100). Up to 256
 * colours exactly, more rounded to a 216-colour cube. What tensorboardX's
 * add_video writes. */
int tfevents_add_animation_u8(tfevents_values *vs, const char *run, const char *tag,
                              const uint8_t *frames, size_t n_frames, size_t height,
                              size_t width, size_t channels, double fps);

/* Audio clips from samples [clips][frames][channels] in [-1,1], written as
 * 16-bit PCM WAV at sample_rate. */
int tfevents_add_audio_float(tfevents_values *vs, const char *run, const char *tag,
                             const float *samples, size_t clips, size_t frames,
                             size_t channels, uint32_t sample_rate);
/* n WAV files as they are (the rate comes from each file). */
int tfevents_add_audio_wav(tfevents_values *vs, const char *run, const char *tag,
                           const void *const *wavs, const size_t *lens, size_t n);

/* Data classes and dtypes of custom values (TensorBoard's numbers). */
enum tfevents_data_class {
    TFEVENTS_DATA_CLASS_UNKNOWN = 0,
    TFEVENTS_DATA_CLASS_SCALAR = 1,
    TFEVENTS_DATA_CLASS_TENSOR = 2,
    TFEVENTS_DATA_CLASS_BLOB_SEQUENCE = 3,
};
enum tfevents_dtype { TFEVENTS_DTYPE_FLOAT = 1, TFEVENTS_DTYPE_DOUBLE = 2 };

/* Any plugin: plugin name, plugin content bytes (content may be NULL when
 * content_len is 0), a data class, and a tensor of shape dims[0..rank)
 * (rank 0: one element; rank <= 8). */
int tfevents_add_custom_numbers(tfevents_values *vs, const char *run, const char *tag,
                                const char *plugin, const void *content, size_t content_len,
                                enum tfevents_data_class data_class, const double *values,
                                size_t rank, const size_t *dims, enum tfevents_dtype dtype);
int tfevents_add_custom_strings(tfevents_values *vs, const char *run, const char *tag,
                                const char *plugin, const void *content, size_t content_len,
                                enum tfevents_data_class data_class,
                                const void *const *strings, const size_t *lens, size_t rank,
                                const size_t *dims);
/* tensor_proto: a serialized tensorboard.TensorProto, checked on logging. */
int tfevents_add_custom_tensor(tfevents_values *vs, const char *run, const char *tag,
                               const char *plugin, const void *content, size_t content_len,
                               enum tfevents_data_class data_class, const void *tensor_proto,
                               size_t tensor_len);

/* A precision-recall curve (plugin pr_curves, a float [6, thresholds]
 * tensor of TP, FP, TN, FN, precision, recall), computed from n labels (1
 * positive, 0 negative; TensorBoard multiplies by them, so fractions count
 * partly on both sides) and n float32 predictions in [0, 1] exactly as
 * TensorBoard's pr_curve summary computes it. weights: NULL (n_weights 0),
 * one for all, or n. num_thresholds 0: 127; else 2..65536. */
int tfevents_add_pr_curve(tfevents_values *vs, const char *run, const char *tag,
                          const double *labels, const float *predictions, size_t n,
                          const double *weights, size_t n_weights, unsigned num_thresholds);
/* The same with double predictions: the bucket product is then taken in
 * double, as TensorBoard does for a float64 array. */
int tfevents_add_pr_curve_double(tfevents_values *vs, const char *run, const char *tag,
                                 const double *labels, const double *predictions, size_t n,
                                 const double *weights, size_t n_weights,
                                 unsigned num_thresholds);
/* From counts already computed: rows[0..5] = TP, FP, TN, FN, precision,
 * recall, each num_thresholds (2..65536) numbers. */
int tfevents_add_pr_curve_raw(tfevents_values *vs, const char *run, const char *tag,
                              const double *const rows[6], size_t num_thresholds);

/* A custom scalars layout (plugin custom_scalars), written in tag
 * "custom_scalars__config__" of the run, where TensorBoard looks for it.
 * Every chart holds either multiline tag regexes or margin series (value,
 * lower and upper scalar tags); titles and tags are UTF-8. */
struct tfevents_layout_series {
    const char *value, *lower, *upper;
};
struct tfevents_layout_chart {
    const char *title;
    const char *const *multiline;   /* tag regexes ... */
    size_t n_multiline;
    const struct tfevents_layout_series *margin;   /* ... or margin series */
    size_t n_margin;
};
struct tfevents_layout_category {
    const char *title;
    bool closed;                    /* shown collapsed */
    const struct tfevents_layout_chart *charts;
    size_t n_charts;
};
int tfevents_add_custom_scalars(tfevents_values *vs, const char *run,
                                const struct tfevents_layout_category *categories, size_t n);

/* A 3D mesh or point cloud (plugin mesh) named name: samples x n_vertices
 * xyz vertices, optionally samples x n_faces vertex-index triangles and
 * samples x n_vertices RGB colours, and a three.js JSON config (NULL: "{}").
 * Written as the values <name>_VERTEX, <name>_FACE, <name>_COLOR. */
int tfevents_add_mesh(tfevents_values *vs, const char *run, const char *name,
                      const float *vertices, size_t n_vertices, const int32_t *faces,
                      size_t n_faces, const uint8_t *colors, size_t samples,
                      const char *config);

/* A serialized tensorboard.Summary.Value with its own tag and metadata
 * (naming a plugin) and a tensor or simple_value: checked and written. */
int tfevents_add_encoded(tfevents_values *vs, const char *run, const void *summary_value,
                         size_t len);

/* ---- logging ------------------------------------------------------------ */

/* Steps for tfevents_log(): the counter's next step, or its current one. */
#define TFEVENTS_STEP_NEXT (-1)
#define TFEVENTS_STEP_CURRENT (-2)
/* wall_time for "now" (any negative number does). */
#define TFEVENTS_NOW (-1.0)

/* Log every value of vs (at least one) at one step and wall time, each as
 * its own Event, all or none. step: TFEVENTS_STEP_NEXT (advances the
 * counter), TFEVENTS_STEP_CURRENT (the counter's step, not advancing) or
 * 0 .. 2^53 (the counter is left alone). wall_time: seconds since 1970 or
 * TFEVENTS_NOW. ret_step may be NULL; in daemon mode a non-NULL ret_step
 * makes the call wait for the daemon's answer (so refusals are returned
 * directly), otherwise the request is batched. -ERANGE: refused by the
 * step policy (embedded, or daemon with ret_step: -EREMOTEIO). */
int tfevents_log(tfevents *h, const char *logdir, const tfevents_values *vs, int64_t step,
                 double wall_time, int64_t *ret_step);

/* One scalar: tfevents_log() of a single value, at step (TFEVENTS_STEP_NEXT
 * ...) and now. */
int tfevents_log_scalar(tfevents *h, const char *logdir, const char *run, const char *tag,
                        double value, int64_t step);

/* SessionLog START at step in run (NULL: every known run of the logdir):
 * TensorBoard drops the run's points from step on; the next step without
 * an explicit step is `step`. */
int tfevents_restart(tfevents *h, const char *logdir, const char *run, int64_t step);

/* Send (daemon) or write (embedded) everything logged so far, in every
 * logdir, and wait until it is in the files; sync: fsync them too. */
int tfevents_flush(tfevents *h, bool sync);

/* Flush, then close the event files of logdir (NULL: the default logdir);
 * the next value opens a new file. Counters are kept. */
int tfevents_close_files(tfevents *h, const char *logdir, bool sync);

/* ---- hparams ------------------------------------------------------------ */

enum tfevents_hparam_kind {
    TFEVENTS_HPARAM_NUMBER = 0,   /* .number */
    TFEVENTS_HPARAM_INT,          /* .integer (grouped like a Python int) */
    TFEVENTS_HPARAM_STRING,       /* .string (UTF-8) */
    TFEVENTS_HPARAM_BOOL,         /* .boolean */
};

struct tfevents_hparam_value {
    enum tfevents_hparam_kind kind;
    double number;
    int64_t integer;
    const char *string;
    bool boolean;
};

enum tfevents_hparam_type {
    TFEVENTS_HPARAM_TYPE_UNSET = 0,   /* from the domain */
    TFEVENTS_HPARAM_TYPE_STRING = 1,
    TFEVENTS_HPARAM_TYPE_BOOL = 2,
    TFEVENTS_HPARAM_TYPE_FLOAT = 3,
};

/* One hyperparameter of the experiment: a discrete domain (values), an
 * interval (has_interval, min, max) or neither. */
struct tfevents_hparam_info {
    const char *name;                   /* required */
    const char *display_name;           /* may be NULL */
    const char *description;
    enum tfevents_hparam_type type;
    const struct tfevents_hparam_value *values;
    size_t n_values;
    bool has_interval;
    double min, max;
};

enum tfevents_dataset { TFEVENTS_DATASET_UNKNOWN = 0, TFEVENTS_DATASET_TRAINING = 1,
                        TFEVENTS_DATASET_VALIDATION = 2 };

/* A metric: the scalars of tag `tag` in run "<session run>/<group>". */
struct tfevents_metric_info {
    const char *tag;                    /* required */
    const char *group;                  /* may be NULL */
    const char *display_name;
    const char *description;
    enum tfevents_dataset dataset_type;
};

/* The experiment (tag _hparams_/experiment) in run (NULL: the logdir
 * itself), at step 0. */
int tfevents_hparams_config(tfevents *h, const char *logdir, const char *run,
                            const struct tfevents_hparam_info *hparams, size_t n_hparams,
                            const struct tfevents_metric_info *metrics, size_t n_metrics);

struct tfevents_hparam {
    const char *name;
    struct tfevents_hparam_value value;
};

/* A session in run: its hparams (distinct names); group_name NULL gives
 * TensorBoard's default (SHA-256 of the hparams). */
int tfevents_hparams_session_start(tfevents *h, const char *logdir, const char *run,
                                   const struct tfevents_hparam *hparams, size_t n,
                                   const char *group_name);

enum tfevents_status { TFEVENTS_STATUS_UNKNOWN = 0, TFEVENTS_STATUS_SUCCESS = 1,
                       TFEVENTS_STATUS_FAILURE = 2, TFEVENTS_STATUS_RUNNING = 3 };

int tfevents_hparams_session_end(tfevents *h, const char *logdir, const char *run,
                                 enum tfevents_status status);

/* ---- the embedding projector (since 0.4.0) ------------------------------ */

/* An embedding for TensorBoard's projector: rows points of cols floats
 * (row-major, finite), optional labels (metadata: rows x columns strings,
 * row-major, where columns is n_header, or 1 when n_header is 0 or 1; no
 * tab or line break), an optional sprite PNG holding a square grid of one
 * sprite_width x sprite_height image per point. */
struct tfevents_embedding {
    const char *tag;                      /* one directory name */
    size_t rows, cols;
    const float *tensor;
    const char *const *metadata_header;   /* n_header names, or NULL */
    size_t n_header;
    const char *const *metadata;          /* NULL: no labels */
    const void *sprite_png;               /* NULL: no sprite */
    size_t sprite_len;
    uint32_t sprite_width, sprite_height;
};

/* Write e's files beside the event files of run (NULL: ".") of logdir:
 * <step %05d>/<tag>/tensors.tsv, metadata.tsv, sprite.png, and merge the
 * entry "<tag>:<step %05d>" into projector_config.pbtxt (docs/protocol.md,
 * "Embeddings"). step 0 .. 2^31-1. Synchronous: returns once the files are
 * written (0) or refused (negative errno, tfevents_last_error()). */
int tfevents_add_embedding(tfevents *h, const char *logdir, const char *run, int64_t step,
                           const struct tfevents_embedding *e);

/* ---- JSON lines (since 0.5.0) --------------------------------------------- */

/* Embedded mode: execute one line of the daemon's JSON protocol
 * (docs/protocol.md; line[0..len), no newline) in this process, as the
 * daemon would with its default limits: for languages that can build the
 * protocol's JSON but cannot call the typed API (the R client). Logdir
 * names are paths without their leading "/" (the root is "/"). The reply
 * line the daemon would send -- none for a fire-and-forget line that
 * succeeded, else {"id":..,"ok":..,...} -- is copied into reply (always
 * NUL-terminated when size > 0; "" for none), and its full length
 * returned in *ret_len (may be NULL). Returns 0, the negative errno of a
 * refusal (the sentence is in the reply and tfevents_last_error()),
 * -ENOTSUP in daemon mode (send the line to the daemon instead). */
int tfevents_exec_json(tfevents *h, const char *line, size_t len, char *reply, size_t size,
                       size_t *ret_len);

/* ---- graphs (since 0.5.0) ------------------------------------------------ */

/* A model graph for TensorBoard's graphs dashboard: graph_def[0..len) is a
 * serialized GraphDef (TensorFlow's tf.Graph.as_graph_def(), or any
 * writer's), written as it is into Event.graph_def of run (NULL: ".") at
 * step (0 .. 2^53; under the step policy as the tag "__run_graph__": a
 * second graph at a step not greater is refused, -ERANGE). The bytes are
 * parsed first: ones TensorBoard could not parse are refused (-EBADMSG
 * embedded, -EREMOTEIO from the daemon; tfevents_last_error() says where),
 * as are more than 64 MiB (-EMSGSIZE; through the daemon, its --max-line
 * comes first). Synchronous: returns once written to the run's writer (0)
 * or refused. */
int tfevents_add_graph(tfevents *h, const char *logdir, const char *run, int64_t step,
                       const void *graph_def, size_t len);

/* The metadata of one traced step (a serialized RunMetadata: per-device
 * node timings and memory) under tag (e.g. "step_100"; not
 * "__run_graph__"), as Event.tagged_run_metadata; checked and answered
 * like tfevents_add_graph(). */
int tfevents_add_run_metadata(tfevents *h, const char *logdir, const char *run, int64_t step,
                              const char *tag, const void *run_metadata, size_t len);

/* ---- reading -------------------------------------------------------------
 * An incremental reader of a logdir: every run (directory holding event
 * files, "." for the logdir itself), files in name order, each from where
 * the last call stopped; appended records, new files and new runs are
 * picked up by later calls; a truncated last record is retried; corruption
 * ends that file (reported once as a TFEVENTS_KIND_PROBLEM record). */

typedef struct tfevents_reader tfevents_reader;

enum tfevents_kind {
    TFEVENTS_KIND_SCALAR = 1,    /* .scalar */
    TFEVENTS_KIND_TEXT,          /* .strings (rank/dims) */
    TFEVENTS_KIND_HISTOGRAM,     /* .numbers: n_numbers/3 rows (left, right, count) */
    TFEVENTS_KIND_IMAGE,         /* .width, .height, .blobs (PNG/JPEG files) */
    TFEVENTS_KIND_AUDIO,         /* .clips */
    TFEVENTS_KIND_HPARAMS,       /* .json: the plugin content as JSON text */
    TFEVENTS_KIND_TENSOR,        /* .numbers or .strings (rank/dims) */
    TFEVENTS_KIND_EMPTY,         /* a value with metadata only */
    TFEVENTS_KIND_INVALID,       /* a value whose tensor does not decode */
    TFEVENTS_KIND_SESSION_LOG,   /* .status (1 START, 2 STOP, 3 CHECKPOINT) */
    TFEVENTS_KIND_FILE_VERSION,  /* the first record of a file */
    TFEVENTS_KIND_OTHER,         /* any other event */
    TFEVENTS_KIND_PROBLEM,       /* .problem says what; .truncated */
    /* (since 0.5.0) a graph: .tag "__run_graph__" and .plugin "graphs", or
     * a tagged run metadata: .tag its tag and .plugin
     * "graph_tagged_run_metadata"; .blobs[0] the serialized GraphDef or
     * RunMetadata (.n_blobs 1). Before 0.5.0 these were KIND_OTHER. */
    TFEVENTS_KIND_GRAPH,
};

struct tfevents_blob {
    const void *data;
    size_t len;
};

struct tfevents_clip {
    uint32_t sample_rate;        /* 0 when not a readable WAV */
    uint32_t channels;
    uint64_t frames;
    struct tfevents_blob wav;
};

/* One summary value (or one non-summary event, or a problem), owned by
 * the reader: tfevents_reader_next() hands out a pointer to it, and it and
 * every pointer in it are valid until the next tfevents_reader_next() or
 * tfevents_reader_free(). Programs never allocate one, so fields can be
 * added at its end without breaking them. */
struct tfevents_record {
    enum tfevents_kind kind;
    const char *run;             /* "." or "a/b" */
    const char *file;            /* relative to the logdir */
    uint64_t offset;             /* of the record in the file */
    int64_t step;
    double wall_time;
    const char *tag;             /* "" for non-summary records */
    const char *plugin;          /* the plugin TensorBoard uses, "" if none */
    const char *display_name;
    const char *description;
    double scalar;
    const double *numbers;
    size_t n_numbers;
    const struct tfevents_blob *strings;   /* text cells, tensor strings */
    size_t n_strings;
    size_t rank;
    const int64_t *dims;
    uint32_t width, height;                /* images */
    const struct tfevents_blob *blobs;     /* images */
    size_t n_blobs;
    const struct tfevents_clip *clips;     /* audio */
    size_t n_clips;
    const char *json;                      /* hparams */
    int status;                            /* session log */
    const char *problem;                   /* TFEVENTS_KIND_PROBLEM */
    bool truncated;                        /* a truncated tail (retried) */
};

/* Open a reader on a logdir (or one event file). *ret: caller owns.
 * -ENOENT/-ENOTDIR/-EACCES..., -ENOMEM.
 * The logdir may be "s3://BUCKET/PREFIX": its event files are copied into
 * a temporary directory (removed by tfevents_reader_free), listed and
 * downloaded here (-EINVAL bad URL or no credentials, -ENOENT no bucket,
 * -EACCES, -ECONNREFUSED, -ETIMEDOUT, -EIO, -EAGAIN) and again at the
 * start of every later poll (new keys only; a failure is handed out as a
 * TFEVENTS_KIND_PROBLEM record with file ""). Credentials and endpoint
 * from the AWS environment (libtfevents(3)); -EPROTONOSUPPORT when built
 * with -Dreader_s3=false. */
int tfevents_reader_open(tfevents_reader **ret, const char *logdir);
void tfevents_reader_free(tfevents_reader *r);    /* NULL-safe */

/* 1: *ret_rec points to the next record (borrowed, see above); 0: nothing
 * more for now (call again later for appended data); negative errno:
 * -ENOMEM, or the logdir cannot be read. *ret_rec is NULL unless 1. */
int tfevents_reader_next(tfevents_reader *r, const struct tfevents_record **ret_rec);

#ifdef __cplusplus
}
#endif

#endif
