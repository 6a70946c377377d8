/* libtfevents through both transports: the same scenario, calling every
 * public function, runs once against the real tfeventsd (started on a
 * temporary socket and root) and once in embedded mode. The two logdirs are
 * then read back with the library's reader and must hold the same runs,
 * tags, steps and values; each must pass eventlint --strict when the shared
 * tools are present. Values are also checked against what the scenario
 * wrote, not only against each other. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "png.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "test.h"
#include "tfevents.h"
#include "wav.h"

static pid_t daemon_pid;
static char daemon_sock[100];
static char daemon_root[512];
static char *tmp;

static void stop_daemon(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        int st;
        waitpid(daemon_pid, &st, 0);
        daemon_pid = 0;
    }
}

/* Start tfeventsd ($TFEVENTSD) and wait until its socket answers. */
static int start_daemon(void)
{
    const char *exe = getenv("TFEVENTSD");
    if (!exe || access(exe, X_OK) != 0)
        return -ENOENT;
    snprintf(daemon_sock, sizeof daemon_sock, "%s/d.sock", tmp);
    snprintf(daemon_root, sizeof daemon_root, "%s/root", tmp);
    mkdir(daemon_root, 0755);
    char log[600];
    snprintf(log, sizeof log, "%s/daemon.log", tmp);
    pid_t p = fork();
    if (p < 0)
        return -errno;
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, exe, "--socket", daemon_sock, "--root", daemon_root, "--flush-interval",
              "0.2", "--log-level", "debug", (char *)NULL);
        _exit(127);
    }
    daemon_pid = p;
    for (int i = 0; i < 500; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", daemon_sock);
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    stop_daemon();
    return -ETIMEDOUT;
}

/* ---- the scenario ------------------------------------------------------------ */

static struct buf png_blob, wav_blob;
static uint8_t *encoded_scalar;
static size_t encoded_scalar_len;
static uint8_t *text_tensor;
static size_t text_tensor_len;

static void make_blobs(void)
{
    uint8_t px[4 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    buf_init(&png_blob, BUF_NO_CAP);
    png_encode(&png_blob, px, 5, 4, 3);
    float s[200];
    for (int i = 0; i < 200; i++)
        s[i] = (float)((i % 20) / 20.0 - 0.5);
    buf_init(&wav_blob, BUF_NO_CAP);
    wav_encode_floats(&wav_blob, s, 200, 1, 16000);

    /* A Summary.Value with its own metadata, as another writer would
     * encode it: a scalar 2.5 as a rank-0 DT_FLOAT tensor. */
    float f = 2.5f;
    Tensorboard__TensorShapeProto shape = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    Tensorboard__TensorProto t = TENSORBOARD__TENSOR_PROTO__INIT;
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.float_val = &f;
    t.n_float_val = 1;
    Tensorboard__SummaryMetadata__PluginData pd = TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = "scalars";
    Tensorboard__SummaryMetadata md = TENSORBOARD__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    md.data_class = TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR;
    md.display_name = "Encoded";
    Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = "encoded";
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &t;
    v.metadata = &md;
    encoded_scalar_len = protobuf_c_message_get_packed_size(&v.base);
    encoded_scalar = malloc(encoded_scalar_len);
    protobuf_c_message_pack(&v.base, encoded_scalar);

    /* A rank-0 DT_STRING TensorProto for a custom "text" value. */
    ProtobufCBinaryData sv = {5, (uint8_t *)"*hi*!"};
    Tensorboard__TensorProto ts = TENSORBOARD__TENSOR_PROTO__INIT;
    ts.dtype = TENSORBOARD__DATA_TYPE__DT_STRING;
    ts.tensor_shape = &shape;
    ts.string_val = &sv;
    ts.n_string_val = 1;
    text_tensor_len = tensorboard__tensor_proto__get_packed_size(&ts);
    text_tensor = malloc(text_tensor_len);
    tensorboard__tensor_proto__pack(&ts, text_tensor);
}

/* Every public writing function, on handle h whose default logdir is
 * logdir. daemon: the transport expected. */
static void scenario(tfevents *h, const char *logdir, bool daemon)
{
    char buf[4096], other[4096];
    int64_t step = -5;
    enum tfevents_mode want = daemon ? TFEVENTS_MODE_DAEMON : TFEVENTS_MODE_EMBEDDED;
    CHECK_EQ(tfevents_mode(h), want);

    /* Default logdir: set, push, pop. */
    CHECK_EQ(tfevents_set_logdir(h, logdir), 0);
    CHECK_EQ(tfevents_logdir_mode(h, NULL), want);
    CHECK_EQ(tfevents_get_logdir(h, buf, sizeof buf), (int)strlen(logdir));
    CHECK_STR(buf, logdir);
    CHECK_EQ(tfevents_get_logdir(h, buf, 3), -ERANGE);
    snprintf(other, sizeof other, "%s/../%s/./pushed", logdir, strrchr(logdir, '/') + 1);
    CHECK_EQ(tfevents_push_logdir(h, other), 0);
    CHECK(tfevents_get_logdir(h, buf, sizeof buf) > 0);
    snprintf(other, sizeof other, "%s/pushed", logdir);
    CHECK_STR(buf, other);   /* normalised */
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "in_pushed", 1, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_pop_logdir(h), 0);
    CHECK_EQ(tfevents_pop_logdir(h), -ENOENT);
    CHECK(tfevents_last_error(h, buf, sizeof buf) > 0);
    CHECK_EQ(tfevents_get_logdir(h, buf, sizeof buf), (int)strlen(logdir));
    CHECK_STR(buf, logdir);

    /* The counter starts at -1. */
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, -1);

    /* Many values in one message: one step for all. */
    tfevents_values *vs = tfevents_values_new();
    REQUIRE(vs);
    CHECK_EQ(tfevents_values_meta(vs, "x", NULL), -ENOENT);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, "loss", 0.5), 0);
    CHECK_EQ(tfevents_add_scalar(vs, "train", "acc", 0.75), 0);
    CHECK_EQ(tfevents_add_scalar(vs, "train/eval", "acc", 0.625), 0);
    CHECK_EQ(tfevents_add_text(vs, NULL, "notes", "hello *markdown*"), 0);
    CHECK_EQ(tfevents_values_meta(vs, "Notes", "free text"), 0);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, NULL, 1), -EINVAL);
    CHECK_EQ(tfevents_add_text(vs, NULL, "", "x"), -EINVAL);
    CHECK_EQ(tfevents_values_count(vs), 4);
    CHECK_EQ(tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, &step), 0);
    CHECK_EQ(step, 0);

    /* One scalar, then the counter. */
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "loss", 0.25, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, 1);
    CHECK_EQ(tfevents_set_step(h, NULL, 9), 0);
    CHECK_EQ(tfevents_set_step(h, NULL, -2), -EINVAL);
    tfevents_values_clear(vs);
    CHECK_EQ(tfevents_values_count(vs), 0);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, "loss", 0.125), 0);
    CHECK_EQ(tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, 1700000000.5, &step), 0);
    CHECK_EQ(step, 10);
    tfevents_values_clear(vs);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, "current", 3), 0);
    CHECK_EQ(tfevents_log(h, NULL, vs, TFEVENTS_STEP_CURRENT, TFEVENTS_NOW, &step), 0);
    CHECK_EQ(step, 10);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "explicit", 4, 20), 0);
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, 10);   /* an explicit step leaves the counter alone */
    CHECK_EQ(tfevents_log(h, NULL, vs, -7, TFEVENTS_NOW, NULL), -EINVAL);
    CHECK_EQ(tfevents_log(h, NULL, NULL, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, NULL), -EINVAL);

    /* A step that goes back is refused whole: directly in embedded mode,
     * at the next wait in daemon mode. */
    CHECK_EQ(tfevents_refused(h), 0);
    tfevents_values_clear(vs);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, "fresh", 1), 0);
    CHECK_EQ(tfevents_add_scalar(vs, NULL, "loss", 1), 0);
    int r = tfevents_log(h, NULL, vs, 5, TFEVENTS_NOW, NULL);
    if (daemon) {
        CHECK_EQ(r, 0);
        CHECK_EQ(tfevents_flush(h, false), -EREMOTEIO);
        CHECK_EQ(tfevents_refused(h), 1);
    } else {
        CHECK_EQ(r, -ERANGE);
        CHECK_EQ(tfevents_flush(h, false), 0);
    }
    tfevents_last_error(h, buf, sizeof buf);
    CHECK(strstr(buf, "not greater than its last step 10") != NULL);
    r = tfevents_log(h, NULL, vs, 5, TFEVENTS_NOW, &step);
    CHECK_EQ(r, daemon ? -EREMOTEIO : -ERANGE);

    /* Every kind at step 11. */
    tfevents_values_clear(vs);
    const char *cells[] = {"epoch", "lr", "1", "0.1"};
    CHECK_EQ(tfevents_add_text_table(vs, NULL, "table", cells, 2, 2), 0);
    CHECK_EQ(tfevents_add_text_table(vs, NULL, "list", cells, 3, 0), 0);
    double data[] = {0.1, 0.2, 0.2, 0.7, 1.5, -3};
    CHECK_EQ(tfevents_add_histogram(vs, NULL, "weights", data, 6, -1), 0);
    CHECK_EQ(tfevents_add_histogram(vs, "train", "weights", data, 6, 3), 0);
    double edges[] = {0, 1, 2}, counts[] = {3, 4};
    CHECK_EQ(tfevents_add_histogram_buckets(vs, NULL, "buckets", edges, counts, 2), 0);
    uint8_t px[2 * 3 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 13);
    CHECK_EQ(tfevents_add_image_u8(vs, NULL, "image_u8", px, 1, 2, 3, 3), 0);
    float fpx[2 * 2 * 2 * 1] = {0, 0.25f, 0.5f, 1, 1, 0.5f, 0.25f, 0};
    CHECK_EQ(tfevents_add_image_float(vs, NULL, "image_float", fpx, 2, 2, 2, 1), 0);
    const void *blobs[] = {png_blob.data};
    size_t lens[] = {png_blob.len};
    CHECK_EQ(tfevents_add_image_png(vs, NULL, "image_png", blobs, lens, 1), 0);
    float samples[3 * 2];
    for (int i = 0; i < 6; i++)
        samples[i] = (float)i / 6;
    CHECK_EQ(tfevents_add_audio_float(vs, NULL, "audio", samples, 1, 3, 2, 8000), 0);
    const void *wavs[] = {wav_blob.data};
    size_t wlens[] = {wav_blob.len};
    CHECK_EQ(tfevents_add_audio_wav(vs, NULL, "audio_wav", wavs, wlens, 1), 0);
    double pr[6 * 2] = {10, 5, 2, 1, 1, 2, 3, 4, 0.9, 0.5, 0.8, 0.6};
    size_t prdims[2] = {6, 2};
    CHECK_EQ(tfevents_add_custom_numbers(vs, NULL, "pr", "pr_curves", NULL, 0,
                                         TFEVENTS_DATA_CLASS_TENSOR, pr, 2, prdims,
                                         TFEVENTS_DTYPE_FLOAT),
             0);
    const void *strs[] = {"a", "bb"};
    size_t slens[] = {1, 2};
    size_t sdims[1] = {2};
    CHECK_EQ(tfevents_add_custom_strings(vs, NULL, "custom_text", "text", NULL, 0,
                                         TFEVENTS_DATA_CLASS_TENSOR, strs, slens, 1, sdims),
             0);
    CHECK_EQ(tfevents_add_custom_tensor(vs, NULL, "tensor_text", "text", NULL, 0,
                                        TFEVENTS_DATA_CLASS_TENSOR, text_tensor,
                                        text_tensor_len),
             0);
    CHECK_EQ(tfevents_add_encoded(vs, "train", encoded_scalar, encoded_scalar_len), 0);
    CHECK_EQ(tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, &step), 0);
    CHECK_EQ(step, 11);

    /* A value the library accepts but the builders refuse (a PNG that is
     * not one): refused at log time, directly or at the next wait. */
    tfevents_values_clear(vs);
    const void *bad[] = {"not a png"};
    size_t badlen[] = {9};
    CHECK_EQ(tfevents_add_image_png(vs, NULL, "bad", bad, badlen, 1), 0);
    r = tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, NULL);
    if (daemon)
        CHECK_EQ(r == 0 ? tfevents_flush(h, false) : r, -EREMOTEIO);
    else
        CHECK_EQ(r, -EINVAL);
    tfevents_values_free(vs);

    /* hparams: experiment, one session in run "train". */
    struct tfevents_hparam_value opt_values[] = {
        {.kind = TFEVENTS_HPARAM_STRING, .string = "adam"},
        {.kind = TFEVENTS_HPARAM_STRING, .string = "sgd"},
    };
    struct tfevents_hparam_info infos[] = {
        {.name = "lr", .has_interval = true, .min = 1e-4, .max = 1},
        {.name = "optimizer", .values = opt_values, .n_values = 2, .description = "which"},
        {.name = "layers", .type = TFEVENTS_HPARAM_TYPE_FLOAT},
    };
    struct tfevents_metric_info metrics[] = {
        {.tag = "loss", .display_name = "Loss", .dataset_type = TFEVENTS_DATASET_TRAINING},
    };
    CHECK_EQ(tfevents_hparams_config(h, NULL, NULL, infos, 3, metrics, 1), 0);
    struct tfevents_hparam hp[] = {
        {"lr", {.kind = TFEVENTS_HPARAM_NUMBER, .number = 0.01}},
        {"optimizer", {.kind = TFEVENTS_HPARAM_STRING, .string = "adam"}},
        {"layers", {.kind = TFEVENTS_HPARAM_INT, .integer = 3}},
    };
    CHECK_EQ(tfevents_hparams_session_start(h, NULL, "train", hp, 3, NULL), 0);
    CHECK_EQ(tfevents_hparams_session_end(h, NULL, "train", TFEVENTS_STATUS_SUCCESS), 0);
    CHECK_EQ(tfevents_hparams_session_end(h, NULL, "train", (enum tfevents_status)9), -EINVAL);

    /* Close the files: the next value starts a new file (with metadata). */
    CHECK_EQ(tfevents_close_files(h, NULL, true), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "loss", 0.0625, TFEVENTS_STEP_NEXT), 0);

    /* Restart at 40 (above every step written): the next step is 40. */
    CHECK_EQ(tfevents_restart(h, NULL, NULL, 40), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "loss", 0.03125, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, 40);
    CHECK_EQ(tfevents_flush(h, true), 0);
}

/* ---- reading back ------------------------------------------------------------- */

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per record (wall times left out), sorted. Hparams JSON holds
 * times, so only its tag is kept. */
static char *dump(const char *logdir, size_t *ret_records)
{
    tfevents_reader *rd;
    if (tfevents_reader_open(&rd, logdir) < 0)
        return NULL;
    size_t n = 0, cap = 64;
    char **lines = malloc(cap * sizeof *lines);
    const struct tfevents_record *rec;
    int r;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        struct buf b;
        buf_init(&b, BUF_NO_CAP);
        buf_printf(&b, "%s|%s|%lld|%d|%s|", rec->run, rec->tag, (long long)rec->step, rec->kind,
                   rec->plugin);
        switch (rec->kind) {
        case TFEVENTS_KIND_SCALAR:
            buf_printf(&b, "%.9g", rec->scalar);
            break;
        case TFEVENTS_KIND_TEXT:
        case TFEVENTS_KIND_TENSOR:
            for (size_t i = 0; i < rec->n_strings; i++)
                buf_printf(&b, "'%.*s'", (int)rec->strings[i].len,
                           (const char *)rec->strings[i].data);
            for (size_t i = 0; i < rec->n_numbers; i++)
                buf_printf(&b, "%.6g,", rec->numbers[i]);
            buf_printf(&b, " rank %zu", rec->rank);
            break;
        case TFEVENTS_KIND_HISTOGRAM:
            for (size_t i = 0; i < rec->n_numbers; i++)
                buf_printf(&b, "%.9g,", rec->numbers[i]);
            break;
        case TFEVENTS_KIND_IMAGE: {
            unsigned sum = 0;
            for (size_t i = 0; i < rec->n_blobs; i++)
                for (size_t k = 0; k < rec->blobs[i].len; k++)
                    sum = sum * 31 + ((const uint8_t *)rec->blobs[i].data)[k];
            buf_printf(&b, "%ux%u n=%zu sum=%u", rec->width, rec->height, rec->n_blobs, sum);
            break;
        }
        case TFEVENTS_KIND_AUDIO:
            for (size_t i = 0; i < rec->n_clips; i++)
                buf_printf(&b, "%u/%u/%llu ", rec->clips[i].sample_rate, rec->clips[i].channels,
                           (unsigned long long)rec->clips[i].frames);
            break;
        case TFEVENTS_KIND_SESSION_LOG:
            buf_printf(&b, "status %d", rec->status);
            break;
        default:
            break;
        }
        buf_printf(&b, "|%s|%s", rec->display_name, rec->description);
        if (n == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
        }
        buf_append(&b, "", 1);
        lines[n++] = (char *)b.data;
    }
    tfevents_reader_free(rd);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
        free(lines);
        return NULL;
    }
    qsort(lines, n, sizeof *lines, cmp_lines);
    struct buf all;
    buf_init(&all, BUF_NO_CAP);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&all, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    buf_append(&all, "", 1);
    *ret_records = n;
    return (char *)all.data;
}

static void check_content(const char *d)
{
    /* What the scenario wrote, independently of either transport. */
    static const char *const want[] = {
        ".|loss|0|1|scalars|0.5||",
        "train|acc|0|1|scalars|0.75||",
        "train/eval|acc|0|1|scalars|0.625||",
        ".|notes|0|2|text|'hello *markdown*' rank 0|Notes|free text",
        ".|loss|1|1|scalars|0.25||",
        ".|loss|10|1|scalars|0.125||",
        ".|current|10|1|scalars|3||",
        ".|explicit|20|1|scalars|4||",
        ".|table|11|2|text|'epoch''lr''1''0.1' rank 2||",
        ".|list|11|2|text|'epoch''lr''1' rank 1||",
        ".|buckets|11|3|histograms|0,1,3,1,2,4,||",
        ".|image_u8|11|4|images|3x2 n=1",
        ".|image_float|11|4|images|2x2 n=2",
        ".|image_png|11|4|images|5x4 n=1",
        ".|audio|11|5|audio|8000/2/3 |",
        ".|audio_wav|11|5|audio|16000/1/200 |",
        ".|pr|11|7|pr_curves|10,5,2,1,1,2,3,4,0.9,0.5,0.8,0.6, rank 2||",
        ".|custom_text|11|2|text|'a''bb' rank 1||",
        ".|tensor_text|11|2|text|'*hi*!' rank 0||",
        "train|encoded|11|1|scalars|2.5|Encoded|",
        ".|_hparams_/experiment|0|6|hparams|",
        "train|_hparams_/session_start_info|0|6|hparams|",
        "train|_hparams_/session_end_info|0|6|hparams|",
        ".|loss|12|1|scalars|0.0625||",
        ".||40|10||status 1||",
        ".|loss|40|1|scalars|0.03125||",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(d, want[i])) {
            fprintf(stderr, "missing: %s\n", want[i]);
            CHECK(0);
        }
    }
    /* Refused messages left nothing behind. */
    CHECK(strstr(d, "|fresh|") == NULL);
    CHECK(strstr(d, "|bad|") == NULL);
    /* Histogram from data: 30 buckets by default, 3 when asked. */
    const char *w = strstr(d, ".|weights|11|3|histograms|");
    CHECK(w != NULL);
    size_t commas = 0;
    for (const char *p = w; p && *p && *p != '\n'; p++)
        commas += *p == ',';
    CHECK_EQ(commas, 90);
}

static void eventlint(const char *logdir)
{
    const char *shared = test_shared_dir();
    if (!shared) {
        fprintf(stderr, "note: eventlint part skipped (TFEVENTS_SHARED absent)\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/eventlint' --strict -q '%s' 2>&1", shared,
             logdir);
    int st = -1;
    char *out = test_run_capture(cmd, &st);
    if (st != 0)
        fprintf(stderr, "eventlint %s:\n%s\n", logdir, out ? out : "");
    CHECK_EQ(st, 0);
    free(out);
}

/* ---- the tests ---------------------------------------------------------------- */

static char *embedded_dump, *daemon_dump;
static size_t embedded_n, daemon_n;

static void test_embedded(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char logdir[600], first[600];
    snprintf(logdir, sizeof logdir, "%s/emb", tmp);
    snprintf(first, sizeof first, "%s/emb-first", tmp);
    o.logdir = first;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    scenario(h, logdir, false);
    CHECK_EQ(tfevents_close(h), 0);
    embedded_dump = dump(logdir, &embedded_n);
    REQUIRE(embedded_dump);
    check_content(embedded_dump);
    eventlint(logdir);
}

static void test_daemon(void)
{
    if (start_daemon() < 0)
        TEST_SKIP("tfeventsd not found ($TFEVENTSD)");
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = daemon_sock;
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/dmn", daemon_root);
    tfevents *h;
    int r = tfevents_open(&h, &o);
    CHECK_EQ(r, 0);
    if (r == 0) {
        scenario(h, logdir, true);
        CHECK_EQ(tfevents_close(h), 0);
        daemon_dump = dump(logdir, &daemon_n);
        CHECK(daemon_dump != NULL);
        if (daemon_dump)
            check_content(daemon_dump);
        eventlint(logdir);
    }
}

/* Both transports wrote the same logdir. */
static void test_equivalent(void)
{
    if (!daemon_dump || !embedded_dump)
        TEST_SKIP("needs both transports");
    CHECK_EQ(daemon_n, embedded_n);
    if (strcmp(daemon_dump, embedded_dump) != 0) {
        fprintf(stderr, "daemon:\n%s\nembedded:\n%s\n", daemon_dump, embedded_dump);
        CHECK(0);
    }
}

/* tfevents_log_scalar() without a logdir goes where the default logdir is
 * now: after set, push and pop, and after the routes of more logdirs than
 * the handle keeps (LIB_ROUTES, 8) pushed the default's route out; in
 * both transports. Each logdir gets exactly its scalars. */
static void routes_follow(tfevents *h, const char *base)
{
    char a[700], b[700], c[700], d[700];
    snprintf(a, sizeof a, "%s/a", base);
    snprintf(b, sizeof b, "%s/b", base);
    snprintf(c, sizeof c, "%s/c", base);
    CHECK_EQ(tfevents_set_logdir(h, a), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 1, 0), 0);
    CHECK_EQ(tfevents_push_logdir(h, b), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 2, 0), 0);
    CHECK_EQ(tfevents_pop_logdir(h), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 3, 1), 0);
    /* Ten other logdirs by name: the handle forgets a's route. */
    for (int i = 0; i < 10; i++) {
        snprintf(d, sizeof d, "%s/other%d", base, i);
        CHECK_EQ(tfevents_log_scalar(h, d, NULL, "y", i, 0), 0);
    }
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 4, 2), 0);
    CHECK_EQ(tfevents_set_logdir(h, c), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 5, 0), 0);
    CHECK_EQ(tfevents_set_logdir(h, a), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 6, 3), 0);
    CHECK_EQ(tfevents_close(h), 0);
    /* dump() sorts the lines: each file's file_version record comes last. */
    static const struct {
        const char *dir, *want;
    } wants[] = {
        {"a", ".|x|0|1|scalars|1||\n.|x|1|1|scalars|3||\n.|x|2|1|scalars|4||\n"
              ".|x|3|1|scalars|6||\n.||0|11||||\n"},
        {"b", ".|x|0|1|scalars|2||\n.||0|11||||\n"},
        {"c", ".|x|0|1|scalars|5||\n.||0|11||||\n"},
        {"other9", ".|y|0|1|scalars|9||\n.||0|11||||\n"},
    };
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
        snprintf(d, sizeof d, "%s/%s", base, wants[i].dir);
        size_t n = 0;
        char *got = dump(d, &n);
        CHECK(got != NULL);
        if (got && strcmp(got, wants[i].want) != 0) {
            fprintf(stderr, "%s holds:\n%s", wants[i].dir, got);
            CHECK(0);
        }
        free(got);
    }
}

static void test_routes_follow(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char base[700];
    snprintf(base, sizeof base, "%s/routes-emb", tmp);
    o.logdir = base;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    routes_follow(h, base);
    if (daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = daemon_sock;
    snprintf(base, sizeof base, "%s/routes-dmn", daemon_root);
    o.logdir = base;
    REQUIRE(tfevents_open(&h, &o) == 0);
    routes_follow(h, base);
}

/* Mode selection: the option, $TFEVENTS_MODE, the fallback, -EXDEV. */
static void test_modes(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.socket_path = daemon_pid > 0 ? daemon_sock : "/nonexistent/tfevents.sock";
    o.flush_interval = 0;
    char outside[600];
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    o.logdir = outside;
    tfevents *h;
    if (daemon_pid > 0) {
        /* auto: the daemon, and a logdir outside its root in-process */
        REQUIRE(tfevents_open(&h, &o) == 0);
        CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_DAEMON);
        CHECK_EQ(tfevents_logdir_mode(h, NULL), TFEVENTS_MODE_EMBEDDED);
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 1, TFEVENTS_STEP_NEXT), 0);
        char inside[600];
        snprintf(inside, sizeof inside, "%s/auto", daemon_root);
        CHECK_EQ(tfevents_logdir_mode(h, inside), TFEVENTS_MODE_DAEMON);
        CHECK_EQ(tfevents_log_scalar(h, inside, NULL, "x", 1, TFEVENTS_STEP_NEXT), 0);
        CHECK_EQ(tfevents_close(h), 0);
        /* forced daemon: outside the root is an error */
        o.mode = TFEVENTS_MODE_DAEMON;
        REQUIRE(tfevents_open(&h, &o) == 0);
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 1, TFEVENTS_STEP_NEXT), -EXDEV);
        CHECK_EQ(tfevents_close(h), 0);
        /* $TFEVENTS_MODE=embedded wins over a reachable daemon in auto */
        o.mode = TFEVENTS_MODE_AUTO;
        setenv("TFEVENTS_MODE", "embedded", 1);
        REQUIRE(tfevents_open(&h, &o) == 0);
        CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_EMBEDDED);
        CHECK_EQ(tfevents_close(h), 0);
        unsetenv("TFEVENTS_MODE");
    }
    /* no daemon: auto falls back, forced daemon fails */
    o.socket_path = "/nonexistent/tfevents.sock";
    o.mode = TFEVENTS_MODE_AUTO;
    REQUIRE(tfevents_open(&h, &o) == 0);
    CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_EMBEDDED);
    CHECK_EQ(tfevents_close(h), 0);
    o.mode = TFEVENTS_MODE_DAEMON;
    h = NULL;
    CHECK(tfevents_open(&h, &o) < 0);
    CHECK(h == NULL);
    setenv("TFEVENTS_MODE", "sometimes", 1);
    o.mode = TFEVENTS_MODE_AUTO;
    CHECK_EQ(tfevents_open(&h, &o), -EINVAL);
    unsetenv("TFEVENTS_MODE");
    CHECK_EQ(tfevents_close(NULL), 0);
    CHECK(tfevents_version() && *tfevents_version());
}

/* The reader picks up appended records and new runs, from where it stopped. */
static void test_reader_incremental(void)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/incr", tmp);
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    o.logdir = logdir;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "a", 1, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_flush(h, false), 0);
    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec;
    int scalars = 0, r;
    while ((r = tfevents_reader_next(rd, &rec)) > 0)
        scalars += rec->kind == TFEVENTS_KIND_SCALAR;
    CHECK_EQ(r, 0);
    CHECK_EQ(scalars, 1);
    CHECK_EQ(tfevents_log_scalar(h, NULL, "new_run", "b", 2, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "a", 3, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_flush(h, false), 0);
    scalars = 0;
    double sum = 0;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        if (rec->kind == TFEVENTS_KIND_SCALAR) {
            scalars++;
            sum += rec->scalar;
            CHECK_EQ(rec->step, strcmp(rec->run, "new_run") == 0 ? 1 : 2);
        }
    }
    CHECK_EQ(scalars, 2);
    CHECK(sum == 5);
    tfevents_reader_free(rd);
    CHECK_EQ(tfevents_close(h), 0);
    CHECK(tfevents_reader_open(&rd, "/nonexistent/logdir") < 0);
}

/* ---- the ABI ------------------------------------------------------------------ */

/* The version macros, the library's string and meson's project version
 * (TFEVENTS_PROJECT_VERSION, from tests/meson.build) agree. */
static void test_version(void)
{
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", TFEVENTS_VERSION_MAJOR, TFEVENTS_VERSION_MINOR,
             TFEVENTS_VERSION_PATCH);
    CHECK_STR(v, TFEVENTS_PROJECT_VERSION);
    CHECK_STR(tfevents_version(), TFEVENTS_PROJECT_VERSION);
    CHECK_EQ(TFEVENTS_VERSION_NUMBER, (TFEVENTS_VERSION_MAJOR << 16) |
                                          (TFEVENTS_VERSION_MINOR << 8) | TFEVENTS_VERSION_PATCH);
    /* The number orders versions. */
    CHECK(TFEVENTS_VERSION_AT(0, 10, 0) > TFEVENTS_VERSION_AT(0, 9, 255));
    CHECK(TFEVENTS_VERSION_AT(1, 0, 0) > TFEVENTS_VERSION_AT(0, 255, 255));
    CHECK(TFEVENTS_VERSION_NUMBER >= TFEVENTS_VERSION_AT(0, 2, 0));
}

/* Options carry their size: the macro and the function agree, an
 * uninitialised or too small struct is refused, and a newer caller's
 * larger struct is read when its unknown tail is zero. */
static void test_options_size(void)
{
    REQUIRE(tmp);
    struct tfevents_options a = TFEVENTS_OPTIONS_INIT, b;
    memset(&b, 0x5a, sizeof b);
    tfevents_options_init(&b);
    CHECK_EQ(a.size, sizeof(struct tfevents_options));
    CHECK_EQ(b.size, a.size);
    CHECK_EQ(b.mode, a.mode);
    CHECK(b.socket_path == NULL && a.socket_path == NULL);
    CHECK(b.logdir == NULL && a.logdir == NULL);
    CHECK_EQ(b.batch_bytes, a.batch_bytes);
    CHECK(b.flush_interval == 1.0 && a.flush_interval == 1.0);
    CHECK(!a.any_step && !b.any_step);

    char dir[600], got[600];
    snprintf(dir, sizeof dir, "%s/opts", tmp);
    tfevents *h = (tfevents *)1;
    struct tfevents_options zero;
    memset(&zero, 0, sizeof zero);
    zero.mode = TFEVENTS_MODE_EMBEDDED;
    CHECK_EQ(tfevents_open(&h, &zero), -EINVAL);   /* size 0: not initialised */
    CHECK(h == NULL);
    a.mode = TFEVENTS_MODE_EMBEDDED;
    a.logdir = dir;
    a.size = offsetof(struct tfevents_options, any_step);
    CHECK_EQ(tfevents_open(&h, &a), -EINVAL);
    a.size = sizeof a;

    /* A caller built with a later header: one more field. */
    struct {
        struct tfevents_options o;
        uint64_t later_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.o = a;
    newer.o.size = sizeof newer;
    newer.later_field = 1;
    CHECK_EQ(tfevents_open(&h, &newer.o), -E2BIG);
    newer.later_field = 0;
    REQUIRE(tfevents_open(&h, &newer.o) == 0);
    CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_EMBEDDED);
    CHECK_EQ(tfevents_get_logdir(h, got, sizeof got), (int)strlen(dir));
    CHECK_STR(got, dir);
    CHECK_EQ(tfevents_close(h), 0);
}

/* tfevents_strerror(): the library's meaning of every error it documents,
 * strerror() for the others, whatever the sign. */
static void test_strerror(void)
{
    REQUIRE(tmp);
    static const struct {
        int err;
        const char *word;
    } ours[] = {
        {EINVAL, "invalid"},     {ENOMEM, "memory"},      {EMSGSIZE, "limit"},
        {EILSEQ, "UTF-8"},       {ERANGE, "step"},        {EXDEV, "root"},
        {EPIPE, "daemon"},       {ECONNRESET, "daemon"},  {ECONNREFUSED, "daemon"},
        {EREMOTEIO, "refused by the daemon"},             {EPROTO, "protocol"},
        {ETIMEDOUT, "daemon"},   {ECHILD, "fork"},        {E2BIG, "options"},
        {ENOSPC, "stack"},       {ENAMETOOLONG, "path"},  {ENOENT, "socket"},
    };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        const char *s = tfevents_strerror(-ours[i].err);
        CHECK(s && strstr(s, ours[i].word) != NULL);
        CHECK(s == tfevents_strerror(ours[i].err));
    }
    CHECK_STR(tfevents_strerror(-EBADF), strerror(EBADF));
    CHECK_STR(tfevents_strerror(-EACCES), strerror(EACCES));
    CHECK(tfevents_strerror(-100000) != NULL);
    CHECK(tfevents_strerror(0) != NULL);
    /* tfevents_last_error() falls back on the same sentences. */
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    o.flush_interval = 0;
    o.logdir = tmp;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    char big[TFEVENTS_MAX_PATH + 10], why[256];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ(tfevents_set_logdir(h, big), -ENAMETOOLONG);
    tfevents_last_error(h, why, sizeof why);
    CHECK(*why);
    CHECK_EQ(tfevents_close(h), 0);
}

/* The reader hands out its own record: one object, the same every call,
 * NULL when there is nothing. */
static void test_reader_record(void)
{
    REQUIRE(tmp);
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/rec", tmp);
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    o.logdir = logdir;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "a", 1.5, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "b", 2.5, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_close(h), 0);
    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec = NULL, *first = NULL;
    int r, n = 0;
    double sum = 0;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        REQUIRE(rec != NULL);
        if (!first)
            first = rec;
        CHECK(rec == first);
        n++;
        if (rec->kind == TFEVENTS_KIND_SCALAR)
            sum += rec->scalar;
        else
            CHECK_EQ(rec->kind, TFEVENTS_KIND_FILE_VERSION);
    }
    CHECK_EQ(r, 0);
    CHECK(rec == NULL);
    CHECK_EQ(n, 3);
    CHECK(sum == 4);
    tfevents_reader_free(rd);
}

/* ---- fork ------------------------------------------------------------------- */

/* What a child does with a handle of its parent (run in the child): every
 * call is refused, nothing is written or sent, close lets go of it; a new
 * handle works. Returns a bit per failed expectation (the exit status). */
static int child_of(tfevents *h, const struct tfevents_options *o, const char *child_logdir)
{
    alarm(20);   /* a deadlock fails the test instead of hanging it */
    int bad = 0;
    int64_t step;
    char why[256];
    enum tfevents_mode mode = tfevents_mode(h);
    bad |= (tfevents_log_scalar(h, NULL, NULL, "x", 99, TFEVENTS_STEP_NEXT) != -ECHILD) << 0;
    bad |= (tfevents_flush(h, false) != -ECHILD) << 1;
    bad |= (tfevents_get_step(h, NULL, &step) != -ECHILD) << 2;
    bad |= (tfevents_set_logdir(h, child_logdir) != -ECHILD) << 3;
    tfevents_last_error(h, why, sizeof why);
    bad |= (strstr(why, "parent") == NULL) << 4;
    bad |= (tfevents_close(h) != 0) << 5;
    struct tfevents_options c = *o;
    c.logdir = child_logdir;
    tfevents *hc;
    if (tfevents_open(&hc, &c) != 0)
        return bad | 1 << 6;
    bad |= (tfevents_mode(hc) != mode) << 7;
    bad |= (tfevents_log_scalar(hc, NULL, NULL, "child", 7, TFEVENTS_STEP_NEXT) != 0) << 8;
    bad |= (tfevents_close(hc) != 0) << 9;
    return bad;
}

static void check_dump(const char *logdir, const char *want)
{
    size_t n = 0;
    char *got = dump(logdir, &n);
    CHECK(got != NULL);
    if (got && strcmp(got, want) != 0) {
        fprintf(stderr, "%s holds:\n%swant:\n%s", logdir, got, want);
        CHECK(0);
    }
    free(got);
}

/* Values the parent logged before fork() and had not written or sent yet
 * reach the files once, from the parent, whatever the child does. */
static void fork_case(struct tfevents_options o, const char *base)
{
    char logdir[700], child_logdir[700];
    snprintf(logdir, sizeof logdir, "%s/parent", base);
    snprintf(child_logdir, sizeof child_logdir, "%s/child", base);
    o.logdir = logdir;
    o.flush_interval = 3600;   /* a thread that leaves the pending values alone */
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", i, TFEVENTS_STEP_NEXT), 0);
    fflush(NULL);
    pid_t p = fork();
    REQUIRE(p >= 0);
    if (p == 0)
        _exit(child_of(h, &o, child_logdir));
    int st = 0;
    CHECK_EQ(waitpid(p, &st, 0), p);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
    for (int i = 5; i < 10; i++)
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", i, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_close(h), 0);
    char want[1024];
    size_t len = 0;
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, ".|x|%d|1|scalars|%d||\n", i, i);
    snprintf(want + len, sizeof want - len, ".||0|11||||\n");
    check_dump(logdir, want);
    check_dump(child_logdir, ".|child|0|1|scalars|7||\n.||0|11||||\n");
    eventlint(logdir);
}

/* The busy thread's scalars: a fixed count (the files stay small), in
 * bursts of BUSY_BURST with a millisecond between bursts, so that it lasts
 * while the forks happen. */
#define BUSY_SCALARS 10000
#define BUSY_BURST 100

struct busy {
    tfevents *h;
    int logged, failed;
};

static void *busy_logger(void *arg)
{
    struct busy *b = arg;
    for (int i = 0; i < BUSY_SCALARS; i++) {
        if (tfevents_log_scalar(b->h, NULL, NULL, "t", b->logged, TFEVENTS_STEP_NEXT) == 0)
            b->logged++;
        else
            b->failed++;
        if (i % BUSY_BURST == BUSY_BURST - 1) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* fork() while another thread logs and the background thread flushes:
 * every child gets a usable (refusing) handle rather than a mutex locked
 * forever, and the parent's values all arrive, once. */
static void fork_busy(struct tfevents_options o, const char *logdir)
{
    o.logdir = logdir;
    o.flush_interval = 0.001;
    o.batch_bytes = 4096;
    struct busy b = {0};
    REQUIRE(tfevents_open(&b.h, &o) == 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, busy_logger, &b) == 0);
    int children_ok = 0;
    for (int i = 0; i < 20; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        fflush(NULL);
        pid_t p = fork();
        if (p == 0) {
            alarm(5);
            int bad = tfevents_log_scalar(b.h, NULL, NULL, "c", 1, TFEVENTS_STEP_NEXT) != -ECHILD;
            bad |= (tfevents_close(b.h) != 0) << 1;
            _exit(bad);
        }
        int st = 0;
        if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            children_ok++;
    }
    pthread_join(t, NULL);
    CHECK_EQ(children_ok, 20);
    CHECK_EQ(b.failed, 0);
    CHECK_EQ(b.logged, BUSY_SCALARS);
    CHECK_EQ(tfevents_close(b.h), 0);
    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec;
    int r, n = 0, in_order = 1;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        if (rec->kind != TFEVENTS_KIND_SCALAR)
            continue;
        CHECK_STR(rec->tag, "t");
        in_order &= rec->step == n && rec->scalar == n;
        n++;
    }
    CHECK_EQ(r, 0);
    CHECK_EQ(n, b.logged);
    CHECK(in_order);
    tfevents_reader_free(rd);
}

static void test_fork(void)
{
    REQUIRE(tmp);
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char base[700];
    snprintf(base, sizeof base, "%s/fork-emb", tmp);
    fork_case(o, base);
    snprintf(base, sizeof base, "%s/fork-busy-emb", tmp);
    fork_busy(o, base);
    if (daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = daemon_sock;
    snprintf(base, sizeof base, "%s/fork-dmn", daemon_root);
    fork_case(o, base);
    snprintf(base, sizeof base, "%s/fork-busy-dmn", daemon_root);
    fork_busy(o, base);
}

static void setup(void)
{
    tmp = test_tmpdir("libtfevents");
    make_blobs();
}

static void test_all(void)
{
    setup();
    REQUIRE(tmp);
}

static void teardown(void)
{
    stop_daemon();
    free(embedded_dump);
    free(daemon_dump);
    buf_free(&png_blob);
    buf_free(&wav_blob);
    free(encoded_scalar);
    free(text_tensor);
    if (tmp && !getenv("KEEP_TMP"))
        test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(TEST(test_all), TEST(test_embedded), TEST(test_daemon), TEST(test_equivalent),
          TEST(test_routes_follow), TEST(test_modes), TEST(test_reader_incremental), TEST(test_version),
          TEST(test_options_size), TEST(test_strerror), TEST(test_reader_record),
          TEST(test_fork), TEST(teardown))
