/* Allocation failure ("torture") tests, after curl's and libuv's.
 *
 * This program replaces malloc, calloc, realloc and free for the whole
 * process (the executable's definitions win over libc's for every library,
 * protobuf-c, cJSON and zlib included) and forwards them to the next
 * definitions (libc's, or a sanitizer's). While armed, it counts allocation
 * calls and fails exactly the Nth one. Each scenario below is a complete
 * use of a part of the library (build, encode, decode, free); it runs for
 * N = 1, 2, ... until a run makes fewer than N allocations. Every run in
 * which an allocation failed must return -ENOMEM (not another error, and
 * not success with a result silently missing something), and must leave
 * no allocation of its own behind: the wrapper keeps the set of live
 * pointers it handed out while armed.
 *
 * Builds with sanitizers whose runtime is linked statically (clang's)
 * cannot replace malloc in the executable; meson skips this test there. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "hparams.h"
#include "pbwire.h"
#include "png.h"
#include "record.h"
#include "record_reader.h"
#include "summary.h"
#include "test.h"
#include "value_json.h"
#include "wav.h"

/* ---- the allocator ------------------------------------------------------ */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym() may allocate while we look the real functions up; those few
 * early requests are served from here and never freed. */
static _Alignas(16) uint8_t boot_arena[16384];
static size_t boot_used;
static bool resolving;

static struct {
    bool armed;
    unsigned long calls;     /* allocation calls since arming */
    unsigned long fail_at;   /* the call that fails (1-based) */
    bool failed;             /* it happened */
} oom;

/* Live pointers handed out while armed: an open-addressing set (linear
 * probing, deletion by backward shift). Far more than any scenario keeps
 * live at once. */
#define LIVE_SLOTS ((size_t)1 << 17)
static uintptr_t live[LIVE_SLOTS];
static size_t n_live;

static size_t slot_of(uintptr_t p)
{
    return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull) & (LIVE_SLOTS - 1);
}

static void live_add(void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    if (n_live + 1 >= LIVE_SLOTS / 2)
        abort();   /* a scenario far bigger than this test is meant for */
    size_t i = slot_of(p);
    while (live[i] && live[i] != p)
        i = (i + 1) & (LIVE_SLOTS - 1);
    if (!live[i])
        n_live++;
    live[i] = p;
}

static void live_remove(void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    if (!p || n_live == 0)
        return;
    size_t i = slot_of(p);
    while (live[i] && live[i] != p)
        i = (i + 1) & (LIVE_SLOTS - 1);
    if (!live[i])
        return;   /* allocated while disarmed, or by someone else */
    live[i] = 0;
    n_live--;
    /* Shift later members of the cluster back into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & (LIVE_SLOTS - 1); live[j]; j = (j + 1) & (LIVE_SLOTS - 1)) {
        size_t home = slot_of(live[j]);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            live[hole] = live[j];
            live[j] = 0;
            hole = j;
        }
    }
}

static void live_clear(void)
{
    memset(live, 0, sizeof live);
    n_live = 0;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof boot_arena - boot_used)
        return NULL;
    void *p = boot_arena + boot_used;
    boot_used += n;
    return p;
}

static bool in_boot(const void *p)
{
    return (const uint8_t *)p >= boot_arena && (const uint8_t *)p < boot_arena + sizeof boot_arena;
}

static void resolve(void)
{
    if (real_free || resolving)
        return;
    resolving = true;
    /* POSIX's way to store dlsym()'s object pointer in a function pointer. */
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    resolving = false;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free)
        abort();
}

/* True when this allocation call is the one to fail. */
static bool inject(void)
{
    if (!oom.armed)
        return false;
    if (++oom.calls != oom.fail_at)
        return false;
    oom.failed = true;
    errno = ENOMEM;
    return true;
}

void *malloc(size_t n)
{
    resolve();
    if (!real_malloc)
        return boot_alloc(n);
    if (inject())
        return NULL;
    void *p = real_malloc(n);
    if (p && oom.armed)
        live_add(p);
    return p;
}

void *calloc(size_t n, size_t size)
{
    resolve();
    if (!real_calloc) {
        if (size && n > SIZE_MAX / size)
            return NULL;
        return boot_alloc(n * size);   /* the arena is zeroed and never reused */
    }
    if (inject())
        return NULL;
    void *p = real_calloc(n, size);
    if (p && oom.armed)
        live_add(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    resolve();
    if (in_boot(old)) {
        size_t room = (size_t)(boot_arena + sizeof boot_arena - (uint8_t *)old);
        void *p = malloc(n);
        if (p)
            memcpy(p, old, n < room ? n : room);
        return p;
    }
    if (!real_realloc)
        return boot_alloc(n);
    if (inject())
        return NULL;   /* old stays valid, as realloc promises */
    void *p = real_realloc(old, n);
    if (p) {
        live_remove(old);
        if (oom.armed)
            live_add(p);
    }
    return p;
}

void free(void *p)
{
    if (!p || in_boot(p))
        return;
    resolve();
    live_remove(p);
    real_free(p);
}

/* ---- the driver --------------------------------------------------------- */

/* Runs fn with the Nth allocation failing, for N = 1, 2, ... Returns the
 * number of allocations of a full run (for the log). */
static unsigned long torture(const char *name, int (*fn)(void))
{
    for (unsigned long n = 1;; n++) {
        live_clear();
        oom.calls = 0;
        oom.fail_at = n;
        oom.failed = false;
        oom.armed = true;
        int r = fn();
        oom.armed = false;
        size_t leaked = n_live;
        live_clear();
        if (leaked) {
            fprintf(stderr, "%s: allocation %lu failed: %zu allocations leaked (r = %d)\n",
                    name, n, leaked, r);
            test_failures_++;
        }
        if (!oom.failed) {
            if (r != 0) {
                fprintf(stderr, "%s: without failures returns %d\n", name, r);
                test_failures_++;
            }
            return n - 1;
        }
        if (r != -ENOMEM) {
            fprintf(stderr, "%s: allocation %lu failed: returns %d, not -ENOMEM\n", name, n,
                    r);
            test_failures_++;
            return n;
        }
        if (n > 100000) {
            fprintf(stderr, "%s: does not converge\n", name);
            test_failures_++;
            return n;
        }
    }
}

#define TORTURE(fn)                                                            \
    do {                                                                       \
        unsigned long n_ = torture(#fn, fn);                                   \
        printf("  %-28s %lu allocations\n", #fn, n_);                          \
    } while (0)

/* ---- fixtures made before arming ---------------------------------------- */

static struct buf png_blob, wav_blob, event_payload;
static char *record_path;
static char *tmp_dir;

/* ---- buf ---------------------------------------------------------------- */

static int s_buf(void)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    int r = 0;
    for (int i = 0; i < 40 && r == 0; i++)
        r = buf_append(&b, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    if (r == 0)
        r = buf_printf(&b, "%d %s %.3f", 42, "words", 2.5);
    if (r == 0)
        r = buf_append_str(&b, "tail");
    if (r == 0)
        r = buf_reserve(&b, 100000);
    uint8_t *data;
    size_t len;
    buf_take(&b, &data, &len);
    free(data);
    buf_free(&b);
    return r;
}

/* ---- summary builders --------------------------------------------------- */

/* A failed builder leaves the value reset; a good one must encode. */
static int finish(struct summary_value *v, int r)
{
    if (r < 0 && (v->tag.len || v->metadata.len || v->body.len)) {
        fprintf(stderr, "builder failed with %d but left a half-built value\n", r);
        test_failures_++;
    }
    if (r == 0) {
        struct buf out;
        buf_init(&out, BUF_NO_CAP);
        r = summary_value_encode(&out, v, true);
        buf_free(&out);
    }
    summary_value_done(v);
    return r;
}

static const struct summary_meta meta = {"Display", "Description"};

static int s_scalar(void)
{
    struct summary_value v;
    summary_value_init(&v);
    int r = summary_scalar(&v, "loss", 0.5, NULL);
    if (r == 0)
        r = summary_scalar(&v, "loss/with_meta", 0.25, &meta);
    return finish(&v, r);
}

static int s_text(void)
{
    struct summary_value v;
    summary_value_init(&v);
    int r = summary_text(&v, "notes", "some **markdown**", 17, &meta);
    return finish(&v, r);
}

static int s_text_array(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct summary_bytes s[4] = {{"a", 1}, {"b", 1}, {"", 0}, {"d", 1}};
    size_t dims[2] = {2, 2};
    int r = summary_text_array(&v, "table", s, 2, dims, NULL);
    return finish(&v, r);
}

static int s_histogram(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double data[100];
    for (int i = 0; i < 100; i++)
        data[i] = i * 0.37 - 10;
    int r = summary_histogram(&v, "weights", data, 100, 30, &meta);
    return finish(&v, r);
}

static int s_histogram_buckets(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double edges[4] = {0, 1, 2, 4}, counts[3] = {1, 0, 7};
    int r = summary_histogram_buckets(&v, "buckets", edges, counts, 3, NULL);
    return finish(&v, r);
}

static int s_image_u8(void)
{
    struct summary_value v;
    summary_value_init(&v);
    uint8_t px[2 * 4 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    int r = summary_image_u8(&v, "images", px, 2, 4, 5, 3, &meta);
    return finish(&v, r);
}

static int s_image_doubles(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double px[3 * 3];
    for (size_t i = 0; i < 9; i++)
        px[i] = (double)i / 8;
    int r = summary_image_doubles(&v, "gray", px, 1, 3, 3, 1, NULL);
    return finish(&v, r);
}

static int s_image_floats(void)
{
    struct summary_value v;
    summary_value_init(&v);
    float px[2 * 2 * 4];
    for (size_t i = 0; i < 16; i++)
        px[i] = (float)i / 15;
    int r = summary_image_floats(&v, "rgba", px, 1, 2, 2, 4, NULL);
    return finish(&v, r);
}

static int s_image_encoded(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct summary_bytes b[2] = {{png_blob.data, png_blob.len}, {png_blob.data, png_blob.len}};
    int r = summary_image_encoded(&v, "encoded", b, 2, 0, 0, NULL);
    return finish(&v, r);
}

static int s_audio_doubles(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double s[2 * 10];
    for (int i = 0; i < 20; i++)
        s[i] = (i % 5) * 0.2 - 0.4;
    int r = summary_audio_doubles(&v, "audio", s, 2, 5, 2, 8000, &meta);
    return finish(&v, r);
}

static int s_audio_floats(void)
{
    struct summary_value v;
    summary_value_init(&v);
    float s[8] = {0, 0.5f, -0.5f, 1, -1, 0.25f, 0, 0};
    int r = summary_audio_floats(&v, "audio", s, 1, 8, 1, 44100, NULL);
    return finish(&v, r);
}

static int s_audio_wav(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct summary_bytes w = {wav_blob.data, wav_blob.len};
    int r = summary_audio_wav(&v, "wav", &w, 1, NULL);
    return finish(&v, r);
}

static const struct hparams_value optimizers[2] = {
    {.kind = HPARAMS_STRING, .string = "adam"},
    {.kind = HPARAMS_STRING, .string = "sgd"},
};

static int s_hparams_experiment(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct hparams_info infos[2] = {
        {.name = "lr", .type = HPARAMS_TYPE_FLOAT64, .domain = HPARAMS_DOMAIN_INTERVAL,
         .min_value = 1e-4, .max_value = 1, .description = "learning rate"},
        {.name = "optimizer", .type = HPARAMS_TYPE_STRING, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = optimizers, .n_values = 2},
    };
    struct hparams_metric metrics[2] = {{.tag = "loss"},
                                        {.tag = "acc", .group = "validation",
                                         .dataset_type = HPARAMS_DATASET_VALIDATION}};
    struct hparams_experiment e = {.name = "exp", .user = "me", .hparams = infos,
                                   .n_hparams = 2, .metrics = metrics, .n_metrics = 2};
    int r = summary_hparams_experiment(&v, &e);
    return finish(&v, r);
}

static int s_hparams_session_start(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct hparams_kv kv[3] = {
        {"lr", {.kind = HPARAMS_NUMBER, .number = 0.01}},
        {"optimizer", optimizers[0]},
        {"layers", {.kind = HPARAMS_INT, .integer = 4}},
    };
    struct hparams_session_start s = {.hparams = kv, .n_hparams = 3, .start_time_secs = 1e9};
    int r = summary_hparams_session_start(&v, &s);
    return finish(&v, r);
}

static int s_hparams_session_end(void)
{
    struct summary_value v;
    summary_value_init(&v);
    int r = summary_hparams_session_end(&v, HPARAMS_STATUS_SUCCESS, 1e9 + 5);
    return finish(&v, r);
}

static int s_hparams_group_name(void)
{
    struct hparams_kv kv[2] = {
        {"b", {.kind = HPARAMS_STRING, .string = "\xc3\xa9t\xc3\xa9"}},
        {"a", {.kind = HPARAMS_BOOL, .boolean = true}},
    };
    char name[65];
    return hparams_group_name(name, kv, 2);
}

/* TensorProto{dtype: DT_INT32, tensor_shape {dim {size 2}}, int_val: [7, 1]} */
static const uint8_t int_tensor[] = {0x08, 0x03, 0x12, 0x04, 0x12, 0x02,
                                     0x08, 0x02, 0x38, 0x07, 0x38, 0x01};

static int s_custom(void)
{
    struct summary_value v;
    summary_value_init(&v);
    int r = summary_custom(&v, "c", "my_plugin", "\x01\x02", 2,
                           TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, int_tensor,
                           sizeof int_tensor, &meta);
    return finish(&v, r);
}

static int s_custom_numeric(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double x[6] = {1, 2, 3, 4, 5, 6};
    size_t dims[2] = {2, 3};
    int r = summary_custom_numeric(&v, "n", "pr_curves", NULL, 0,
                                   TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, x, 2, dims,
                                   TENSORBOARD__DATA_TYPE__DT_DOUBLE, NULL);
    return finish(&v, r);
}

static int s_custom_strings(void)
{
    struct summary_value v;
    summary_value_init(&v);
    struct summary_bytes s[2] = {{"x", 1}, {"\xff\xfe", 2}};
    size_t dims[1] = {2};
    int r = summary_custom_strings(&v, "s", "blobs", "c", 1,
                                   TENSORBOARD__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE, s, 1,
                                   dims, NULL);
    return finish(&v, r);
}

static int s_png_wav_encode(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    uint8_t px[6 * 5 * 2];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 3);
    int r = png_encode(&b, px, 6, 5, 2);
    double s[4] = {0, 1, -1, 0.5};
    if (r == 0)
        r = wav_encode_doubles(&b, s, 2, 2, 16000);
    buf_free(&b);
    return r;
}

/* ---- reading ------------------------------------------------------------ */

/* Summary.Value entries of several kinds, legacy ones included. */
static int make_values(struct buf *out)
{
    struct summary_value v;
    summary_value_init(&v);
    int r = summary_scalar(&v, "loss", 0.5, &meta);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    if (r == 0)
        r = summary_scalar(&v, "loss", 0.25, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, false);
    double data[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    if (r == 0)
        r = summary_histogram(&v, "h", data, 10, 3, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    struct summary_bytes s[2] = {{"a", 1}, {"b", 1}};
    size_t dims[1] = {2};
    if (r == 0)
        r = summary_text_array(&v, "t", s, 1, dims, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    struct summary_bytes img = {png_blob.data, png_blob.len};
    if (r == 0)
        r = summary_image_encoded(&v, "i", &img, 1, 0, 0, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    struct summary_bytes wav = {wav_blob.data, wav_blob.len};
    if (r == 0)
        r = summary_audio_wav(&v, "a", &wav, 1, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    struct hparams_kv kv = {"lr", {.kind = HPARAMS_NUMBER, .number = 0.1}};
    struct hparams_session_start ss = {.hparams = &kv, .n_hparams = 1};
    if (r == 0)
        r = summary_hparams_session_start(&v, &ss);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    if (r == 0)
        r = summary_custom(&v, "c", "my_plugin", "\x01", 1,
                           TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, int_tensor,
                           sizeof int_tensor, NULL);
    if (r == 0)
        r = summary_value_encode(out, &v, true);
    summary_value_done(&v);
    if (r < 0)
        return r;

    /* Legacy simple_value and HistogramProto, as old writers made them. */
    struct buf val, histo;
    buf_init(&val, BUF_NO_CAP);
    buf_init(&histo, BUF_NO_CAP);
    r = pb_add_string(&val, 1, "legacy");
    if (r == 0)
        r = pb_add_float(&val, 2, 1.5f);
    if (r == 0)
        r = pb_add_bytes(out, 1, val.data, val.len);
    buf_reset(&val);
    if (r == 0)
        r = pb_add_double(&histo, 1, 0);
    if (r == 0)
        r = pb_add_double(&histo, 6, 1);
    if (r == 0)
        r = pb_add_double(&histo, 6, 2);
    if (r == 0)
        r = pb_add_double(&histo, 7, 3);
    if (r == 0)
        r = pb_add_double(&histo, 7, 4);
    if (r == 0)
        r = pb_add_string(&val, 1, "legacy_histo");
    if (r == 0)
        r = pb_add_bytes(&val, 5, histo.data, histo.len);
    if (r == 0)
        r = pb_add_bytes(out, 1, val.data, val.len);
    buf_free(&val);
    buf_free(&histo);
    return r;
}

static int s_event_decode(void)
{
    Tensorboard__Event *ev = NULL;
    int r = event_unpack(event_payload.data, event_payload.len, &ev);
    event_free(ev);
    return r;
}

static int s_record_reader(void)
{
    record_reader *rr;
    int r = record_reader_open(&rr, record_path, 0);
    if (r < 0)
        return r;
    unsigned n = 0;
    int first_error = 0;
    for (;;) {
        Tensorboard__Event *ev;
        r = record_reader_next_event(rr, &ev);
        if (r == -ENOMEM && !first_error) {
            /* Out of memory is not corruption: with memory back, the same
             * reader goes on from where it was and misses nothing. */
            first_error = r;
            oom.armed = false;
            continue;
        }
        if (r <= 0)
            break;
        event_free(ev);
        n++;
    }
    if (r == 0 && n != 4) {
        fprintf(stderr, "record_reader: %u events, not 4 (after %d)\n", n, first_error);
        test_failures_++;
    }
    record_reader_free(rr);
    return first_error ? first_error : r;
}

/* Everything a reader does with the values of one event: decode with the
 * kept metadata of the first value of each tag, render, copy metadata. */
static int s_value_decode(void)
{
    Tensorboard__Event *ev = NULL;
    int r = event_unpack(event_payload.data, event_payload.len, &ev);
    if (r < 0)
        return r;
    struct value_meta kept;
    value_meta_init(&kept);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    for (size_t i = 0; i < ev->summary->n_value && r == 0; i++) {
        struct decoded_value v;
        value_init(&v);
        /* values 0 and 1 share the tag "loss" */
        r = value_decode(ev->summary->value[i], i == 1 ? &kept : NULL,
                         i == 1 ? &kept : NULL, &v);
        if (r == 0 && v.kind == VALUE_INVALID) {
            fprintf(stderr, "value %zu decodes as invalid\n", i);
            test_failures_++;
        }
        if (r == 0 && i == 0)
            r = value_meta_copy(&kept, &v.meta);
        if (r == 0) {
            cJSON *j = value_to_json(&v);
            r = j ? value_json_print(&out, j) : -ENOMEM;
            cJSON_Delete(j);
        }
        if (r == 0 && v.meta.present) {
            cJSON *j = value_content_json(v.meta.plugin, v.meta.content, v.meta.content_len);
            r = j ? value_json_print(&out, j) : -ENOMEM;
            cJSON_Delete(j);
        }
        value_done(&v);
    }
    buf_free(&out);
    value_meta_done(&kept);
    event_free(ev);
    return r;
}

/* ---- tests -------------------------------------------------------------- */

static int setup(void)
{
    buf_init(&png_blob, BUF_NO_CAP);
    buf_init(&wav_blob, BUF_NO_CAP);
    buf_init(&event_payload, BUF_NO_CAP);
    uint8_t px[3 * 2 * 3] = {0, 50, 100, 150, 200, 250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double s[6] = {0, 0.5, -0.5, 1, -1, 0};
    int r = png_encode(&png_blob, px, 3, 2, 3);
    if (r == 0)
        r = wav_encode_doubles(&wav_blob, s, 3, 2, 8000);
    struct buf values;
    buf_init(&values, BUF_NO_CAP);
    if (r == 0)
        r = make_values(&values);
    if (r == 0)
        r = event_encode_summary(&event_payload, 1700000000.5, 7, values.data, values.len);
    buf_free(&values);
    if (r < 0)
        return r;

    /* An event file: file version and three copies of the summary event. */
    tmp_dir = test_tmpdir("tfevents-oom");
    if (!tmp_dir)
        return -ENOMEM;
    if (asprintf(&record_path, "%s/events.out.tfevents.1.oom", tmp_dir) < 0)
        return -ENOMEM;
    struct buf file, ev;
    buf_init(&file, BUF_NO_CAP);
    buf_init(&ev, BUF_NO_CAP);
    r = event_encode_file_version(&ev, 1700000000, "brain.Event:2");
    if (r == 0)
        r = record_frame(&file, ev.data, ev.len);
    for (int i = 0; i < 3 && r == 0; i++)
        r = record_frame(&file, event_payload.data, event_payload.len);
    FILE *f = r == 0 ? fopen(record_path, "wb") : NULL;
    if (r == 0 && (!f || fwrite(file.data, 1, file.len, f) != file.len))
        r = -EIO;
    if (f && fclose(f) != 0)
        r = -EIO;
    buf_free(&file);
    buf_free(&ev);
    return r;
}

static void teardown(void)
{
    buf_free(&png_blob);
    buf_free(&wav_blob);
    buf_free(&event_payload);
    if (tmp_dir)
        test_rmtree(tmp_dir);
    free(tmp_dir);
    free(record_path);
    tmp_dir = record_path = NULL;
}

/* The wrapper must see allocations and inject failures, or every other
 * test here passes without testing anything. */
static void test_wrapper_works(void)
{
    live_clear();
    oom.calls = 0;
    oom.fail_at = 2;
    oom.failed = false;
    oom.armed = true;
    void *a = malloc(10);
    cJSON *b = cJSON_CreateObject();
    void *c = calloc(3, 4);
    oom.armed = false;
    if (oom.calls == 0)
        fprintf(stderr, "this program's malloc is not called: replaced by a tool? (valgrind "
                        "needs --soname-synonyms=somalloc=nouserintercepts)\n");
    CHECK(a != NULL);
    CHECK(b == NULL);   /* the second allocation, made inside libcjson */
    CHECK(c != NULL);
    CHECK(oom.failed);
    CHECK_EQ(oom.calls, 3);
    CHECK_EQ(n_live, 2);
    free(a);
    free(c);
    CHECK_EQ(n_live, 0);
}

static void test_buf(void)
{
    TORTURE(s_buf);
}

static void test_summary_builders(void)
{
    REQUIRE(setup() == 0);
    TORTURE(s_scalar);
    TORTURE(s_text);
    TORTURE(s_text_array);
    TORTURE(s_histogram);
    TORTURE(s_histogram_buckets);
    TORTURE(s_image_u8);
    TORTURE(s_image_doubles);
    TORTURE(s_image_floats);
    TORTURE(s_image_encoded);
    TORTURE(s_audio_doubles);
    TORTURE(s_audio_floats);
    TORTURE(s_audio_wav);
    TORTURE(s_hparams_experiment);
    TORTURE(s_hparams_session_start);
    TORTURE(s_hparams_session_end);
    TORTURE(s_hparams_group_name);
    TORTURE(s_custom);
    TORTURE(s_custom_numeric);
    TORTURE(s_custom_strings);
    TORTURE(s_png_wav_encode);
    teardown();
}

static void test_reading(void)
{
    REQUIRE(setup() == 0);
    TORTURE(s_event_decode);
    TORTURE(s_record_reader);
    TORTURE(s_value_decode);
    teardown();
}

TEST_MAIN(TEST(test_wrapper_works), TEST(test_buf), TEST(test_summary_builders),
          TEST(test_reading))
