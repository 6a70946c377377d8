/* libtfevents through both transports: the same scenario, calling every
 * public function, runs once against the real tfeventsd (started on a
 * temporary socket and root) and once in embedded mode. The two logdirs are
 * then read back with the library's reader and must hold the same runs,
 * tags, steps and values; each must pass eventlint --strict when the shared
 * tools are present. Values are also checked against what the scenario
 * wrote, not only against each other. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "client_util.h"
#include "png.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "test.h"
#include "tfevents.h"
#include "wav.h"

static char *tmp;

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

    /* The counter starts at -1. Asked before the nested logdir below logs:
     * a logdir opened later resumes after the largest step of the runs
     * under its directory, that one's included. */
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, -1);

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
    CHECK_EQ(tfevents_get_step(h, NULL, &step), 0);
    CHECK_EQ(step, -1);   /* the nested logdir has its own counter */

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
    /* No daemon went away (test-reconnect.py makes them go). */
    CHECK_EQ(tfevents_lost(h), 0);
    CHECK_EQ(tfevents_reconnects(h), 0);
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
    /* A PR curve at 3 thresholds: buckets floor(p * 2) = 1, 0, 1, 1. */
    double labels[] = {1, 0, 1, 0};
    float preds[] = {0.9f, 0.1f, 0.6f, 0.7f};
    CHECK_EQ(tfevents_add_pr_curve(vs, NULL, "pr_made", labels, preds, 4, NULL, 0, 3), 0);
    CHECK_EQ(tfevents_add_pr_curve(vs, NULL, "pr_made", labels, NULL, 4, NULL, 0, 3), -EINVAL);
    double dpreds[] = {0.9, 0.1, 0.6, 0.7}, wts[] = {2};
    CHECK_EQ(tfevents_add_pr_curve_double(vs, "train", "pr_double", labels, dpreds, 4, wts, 1,
                                          3),
             0);
    const double *rows[6] = {pr, pr + 2, pr + 4, pr + 6, pr + 8, pr + 10};
    CHECK_EQ(tfevents_add_pr_curve_raw(vs, "train", "pr_raw", rows, 2), 0);
    const char *regexes[] = {"loss/.*"};
    struct tfevents_layout_series series = {"acc", "acc/lo", "acc/hi"};
    struct tfevents_layout_chart charts[] = {
        {.title = "losses", .multiline = regexes, .n_multiline = 1},
        {.title = "acc", .margin = &series, .n_margin = 1},
    };
    struct tfevents_layout_category cat = {"main", true, charts, 2};
    CHECK_EQ(tfevents_add_custom_scalars(vs, NULL, &cat, 1), 0);
    /* Two 3x2 gray frames as a GIF at 2 frames per second. */
    uint8_t anim[2 * 2 * 3] = {0, 40, 80, 120, 160, 200, 200, 160, 120, 80, 40, 0};
    CHECK_EQ(tfevents_add_animation_u8(vs, NULL, "anim", anim, 2, 2, 3, 1, 2.0), 0);
    float tri[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    int32_t face[3] = {0, 1, 2};
    uint8_t rgb[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    CHECK_EQ(tfevents_add_mesh(vs, NULL, "tri", tri, 3, face, 1, rgb, 1, NULL), 0);
    CHECK_EQ(tfevents_add_custom_scalars(vs, NULL, NULL, 0), -EINVAL);
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

    /* An embedding: the projector's files beside the run's event files. */
    {
        const float vec[] = {1, 2, 3, 4.5f};
        const char *const hdr[] = {"word", "n"}, *const md[] = {"a", "1", "b", "2"};
        struct tfevents_embedding e = {.tag = "vecs", .rows = 2, .cols = 2, .tensor = vec,
                                       .metadata_header = hdr, .n_header = 2, .metadata = md};
        CHECK_EQ(tfevents_add_embedding(h, NULL, "train", 2, &e), 0);
        char path[4200], text[256];
        snprintf(path, sizeof path, "%s/train/00002/vecs/tensors.tsv", logdir);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        if (f) {
            size_t k = fread(text, 1, sizeof text - 1, f);
            text[k] = '\0';
            fclose(f);
            CHECK_STR(text, "1\t2\n3\t4.5\n");
        }
        snprintf(path, sizeof path, "%s/train/projector_config.pbtxt", logdir);
        CHECK(access(path, F_OK) == 0);
        e.tag = "../x";   /* refused where it is executed: -EREMOTEIO from the daemon */
        CHECK_EQ(tfevents_add_embedding(h, NULL, "train", 3, &e), daemon ? -EREMOTEIO : -EINVAL);
        e.tag = "vecs";
        e.tensor = NULL;
        CHECK_EQ(tfevents_add_embedding(h, NULL, "train", 3, &e), -EINVAL);
    }

    /* A graph and a traced step's run metadata in run "train"; bytes that
     * do not parse are refused with nothing written. */
    {
        static const char graph[] = "\x0a\x10\x0a\x01x\x12\x0bPlaceholder";
        static const char md[] = "\x0a\x0d\x0a\x0b\x0a\x04/cpu\x12\x03\x0a\x01x";
        CHECK_EQ(tfevents_add_graph(h, NULL, "train", 2, graph, sizeof graph - 1), 0);
        CHECK_EQ(tfevents_add_run_metadata(h, NULL, "train", 2, "step_2", md, sizeof md - 1),
                 0);
        CHECK_EQ(tfevents_add_graph(h, NULL, "train", 3, graph, sizeof graph - 2),
                 daemon ? -EREMOTEIO : -EBADMSG);
        char why[512];
        tfevents_last_error(h, why, sizeof why);
        CHECK(strstr(why, "does not parse as a GraphDef") != NULL);
        CHECK_EQ(tfevents_add_run_metadata(h, NULL, "train", 3, "__run_graph__", md,
                                           sizeof md - 1),
                 daemon ? -EREMOTEIO : -EINVAL);
        CHECK_EQ(tfevents_add_run_metadata(h, NULL, "train", 3, NULL, md, sizeof md - 1),
                 -EINVAL);
        CHECK_EQ(tfevents_add_graph(h, NULL, "train", -1, graph, sizeof graph - 1), -EINVAL);
    }

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
        ".|pr_made|11|7|pr_curves|2,2,0,2,1,0,0,1,2,0,0,2,0.5,0.666667,0,1,1,0, rank 2||",
        "train|pr_double|11|7|pr_curves|4,4,0,4,2,0,0,2,4,0,0,4,0.5,0.666667,0,1,1,0, rank 2||",
        "train|pr_raw|11|7|pr_curves|10,5,2,1,1,2,3,4,0.9,0.5,0.8,0.6, rank 2||",
        ".|custom_scalars__config__|11|7|custom_scalars|'\x12",
        ".|anim|11|4|images|3x2 n=1",
        ".|tri_VERTEX|11|7|mesh|0,0,0,1,0,0,0,1,0, rank 3||",
        ".|tri_FACE|11|7|mesh|0,1,2, rank 3||",
        ".|tri_COLOR|11|7|mesh|255,0,0,0,255,0,0,0,255, rank 3||",
        ".|_hparams_/experiment|0|6|hparams|",
        "train|_hparams_/session_start_info|0|6|hparams|",
        "train|_hparams_/session_end_info|0|6|hparams|",
        "train|__run_graph__|2|14|graphs|len=18 ||",
        "train|step_2|2|14|graph_tagged_run_metadata|len=15 ||",
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

/* Embedded mode, one process: logdir m run n and logdir m/n are one run
 * directory, with one file and one step table (the repro). */
static void test_nested_embedded(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char m[600], mn[700];
    snprintf(m, sizeof m, "%s/nest-emb/m", tmp);
    snprintf(mn, sizeof mn, "%s/n", m);
    o.logdir = m;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tfevents_log_scalar(h, mn, NULL, "acc", i / 10.0, i), 0);
    CHECK_EQ(tfevents_flush(h, false), 0);
    CHECK_EQ(tfevents_log_scalar(h, m, NULL, "config", 1, TFEVENTS_STEP_NEXT), 0);
    for (int i = 5; i < 20; i++)
        CHECK_EQ(tfevents_log_scalar(h, mn, NULL, "acc", i / 10.0, i), 0);
    CHECK_EQ(tfevents_log_scalar(h, m, "n", "acc", -1, 10), -ERANGE);
    CHECK_EQ(tfevents_log_scalar(h, m, "n", "acc", 2, 20), 0);
    CHECK_EQ(tfevents_log_scalar(h, mn, NULL, "acc", -1, 20), -ERANGE);
    CHECK_EQ(tfevents_close(h), 0);
    /* One writer: one file in m/n. */
    DIR *dp = opendir(mn);
    REQUIRE(dp);
    int files = 0;
    for (struct dirent *de; (de = readdir(dp));)
        files += strstr(de->d_name, "tfevents") != NULL;
    closedir(dp);
    CHECK_EQ(files, 1);
    client_util_eventlint(m);
}

/* tfevents_exec_json: JSON lines executed in process as the daemon would,
 * with its replies and refusals. */
static void test_exec_json(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    char line[900], reply[512], logdir[700];
    size_t n = 1;
    snprintf(logdir, sizeof logdir, "%s/json", tmp);
    snprintf(line, sizeof line, "{\"logdir\":\"%s\",\"values\":{\"loss\":0.5,"
             "\"w\":{\"$histogram\":{\"values\":{\"f64\":\"AAAAAAAA8D8AAAAAAAAAQA==\"}}}}}",
             logdir + 1);
    CHECK_EQ(tfevents_exec_json(h, line, strlen(line), reply, sizeof reply, &n), 0);
    CHECK_EQ(n, 0);   /* fire and forget: no reply */
    CHECK(strcmp(reply, "") == 0);
    snprintf(line, sizeof line, "{\"id\":7,\"op\":\"step_get\",\"logdir\":\"%s\"}", logdir + 1);
    CHECK_EQ(tfevents_exec_json(h, line, strlen(line), reply, sizeof reply, &n), 0);
    CHECK(strcmp(reply, "{\"id\":7,\"ok\":true,\"step\":0,\"next\":1}") == 0);
    CHECK_EQ(n, strlen(reply));
    /* The step policy refuses, with the daemon's sentence and line number. */
    snprintf(line, sizeof line, "{\"logdir\":\"%s\",\"step\":0,\"values\":{\"loss\":1}}",
             logdir + 1);
    CHECK(tfevents_exec_json(h, line, strlen(line), reply, sizeof reply, NULL) < 0);
    CHECK(strstr(reply, "\"ok\":false,\"line\":3,") && strstr(reply, "not greater"));
    /* Not JSON, and past the depth limit: refused, the id kept. */
    CHECK(tfevents_exec_json(h, "{\"id\":9,", 8, reply, sizeof reply, NULL) < 0);
    CHECK(strstr(reply, "\"id\":9,\"ok\":false"));
    char deep[200];
    memset(deep, '[', 100);
    strcpy(deep + 100, "1");
    CHECK_EQ(tfevents_exec_json(h, deep, strlen(deep), reply, sizeof reply, NULL), -EMSGSIZE);
    CHECK(strstr(reply, "--max-json-depth"));
    /* A short buffer gets a cut, NUL-terminated reply and the full length. */
    snprintf(line, sizeof line, "{\"id\":\"abc\",\"op\":\"ping\"}");
    CHECK_EQ(tfevents_exec_json(h, line, strlen(line), reply, 8, &n), 0);
    CHECK(strcmp(reply, "{\"id\":\"") == 0 && n > 8);
    CHECK_EQ(tfevents_close(h), 0);
    client_util_eventlint(logdir);
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
    embedded_dump = client_util_dump(logdir, &embedded_n);
    REQUIRE(embedded_dump);
    check_content(embedded_dump);
    client_util_eventlint(logdir);
}

static void test_daemon(void)
{
    if (client_util_start_daemon(tmp) < 0)
        TEST_SKIP("tfeventsd not found ($TFEVENTSD)");
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = client_util_daemon_sock;
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/dmn", client_util_daemon_root);
    tfevents *h;
    int r = tfevents_open(&h, &o);
    CHECK_EQ(r, 0);
    if (r == 0) {
        scenario(h, logdir, true);
        CHECK_EQ(tfevents_close(h), 0);
        daemon_dump = client_util_dump(logdir, &daemon_n);
        CHECK(daemon_dump != NULL);
        if (daemon_dump)
            check_content(daemon_dump);
        client_util_eventlint(logdir);
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
    /* client_util_dump() sorts the lines: each file's file_version record comes last. */
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
        char *got = client_util_dump(d, &n);
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
    if (client_util_daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = client_util_daemon_sock;
    snprintf(base, sizeof base, "%s/routes-dmn", client_util_daemon_root);
    o.logdir = base;
    REQUIRE(tfevents_open(&h, &o) == 0);
    routes_follow(h, base);
}

/* Log one scalar of tag "m" at step with display name and description
 * (either NULL); -EEXIST (embedded) or -EREMOTEIO (daemon) when refused. */
static int log_meta(tfevents *h, int64_t step, const char *name, const char *desc)
{
    tfevents_values *vs = tfevents_values_new();
    int64_t got = -1;
    int r = tfevents_add_scalar(vs, NULL, "m", (double)step);
    if (r == 0 && (name || desc))
        r = tfevents_values_meta(vs, name, desc);
    if (r == 0)
        r = tfevents_log(h, NULL, vs, step, TFEVENTS_NOW, &got);
    tfevents_values_free(vs);
    return r;
}

/* A tag's display name and description are its first value's (TensorBoard
 * shows no later ones): a later value may repeat them or carry none;
 * others are refused, with the reason in tfevents_last_error(). */
static void metadata_first(tfevents *h, int refused)
{
    char err[1024];
    CHECK_EQ(log_meta(h, 0, "Metric", "what it is"), 0);
    CHECK_EQ(log_meta(h, 1, "Metric", "what it is"), 0);
    CHECK_EQ(log_meta(h, 2, NULL, NULL), 0);
    CHECK_EQ(log_meta(h, 3, "Metric (renamed)", "what it is"), refused);
    CHECK(tfevents_last_error(h, err, sizeof err) > 0);
    CHECK(strstr(err, "tag 'm' in run '.'") != NULL);
    CHECK(strstr(err, "only the display name and description of a tag's first value") != NULL);
    CHECK_EQ(log_meta(h, 3, NULL, "what it was"), refused);
    CHECK_EQ(log_meta(h, 3, "Metric", "what it is"), 0);
    CHECK_EQ(tfevents_flush(h, false), 0);
}

static void test_metadata_first(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char logdir[700];
    snprintf(logdir, sizeof logdir, "%s/meta-emb", tmp);
    o.logdir = logdir;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    metadata_first(h, -EEXIST);
    CHECK_EQ(tfevents_close(h), 0);
    /* Learned from the files by a new handle. */
    REQUIRE(tfevents_open(&h, &o) == 0);
    CHECK_EQ(log_meta(h, 4, "Other", NULL), -EEXIST);
    CHECK_EQ(log_meta(h, 4, "Metric", "what it is"), 0);
    CHECK_EQ(tfevents_close(h), 0);
    client_util_eventlint(logdir);
    if (client_util_daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = client_util_daemon_sock;
    snprintf(logdir, sizeof logdir, "%s/meta-dmn", client_util_daemon_root);
    REQUIRE(tfevents_open(&h, &o) == 0);
    metadata_first(h, -EREMOTEIO);
    CHECK_EQ(tfevents_close(h), 0);
    client_util_eventlint(logdir);
}

/* Mode selection: the option, $TFEVENTS_MODE, the fallback, -EXDEV. */
static void test_modes(void)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.socket_path = client_util_daemon_pid > 0 ? client_util_daemon_sock : "/nonexistent/tfevents.sock";
    o.flush_interval = 0;
    char outside[600];
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    o.logdir = outside;
    tfevents *h;
    if (client_util_daemon_pid > 0) {
        /* auto: the daemon, and a logdir outside its root in-process */
        REQUIRE(tfevents_open(&h, &o) == 0);
        CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_DAEMON);
        CHECK_EQ(tfevents_logdir_mode(h, NULL), TFEVENTS_MODE_EMBEDDED);
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", 1, TFEVENTS_STEP_NEXT), 0);
        char inside[600];
        snprintf(inside, sizeof inside, "%s/auto", client_util_daemon_root);
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
    client_util_stop_daemon();
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
          TEST(test_routes_follow), TEST(test_metadata_first), TEST(test_modes),
          TEST(test_reader_incremental), TEST(test_nested_embedded), TEST(test_exec_json),
          TEST(teardown))
