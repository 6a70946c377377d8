/* Integration: one logdir with every summary kind, written with the record
 * writer, checked by the shared eventlint (--strict must pass) and compared
 * with what eventlint says TensorBoard loads (--json). */
#include <errno.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <nettle/sha2.h>

#include "event.h"
#include "record_writer.h"
#include "summary.h"
#include "test.h"

#define T0 1700000000.0
#define MAX_TAGS 64

struct run {
    record_writer *w;
    const char *tags[MAX_TAGS];   /* tags already written to this file */
    size_t n_tags;
};

static int run_open(struct run *r, const char *logdir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", logdir, name);
    mkdir(path, 0755);
    memset(r, 0, sizeof *r);
    struct record_writer_options opts = {.wall_time = T0};
    return record_writer_open(&r->w, path, &opts);
}

/* Write one value as its own event; metadata only on the first value of a
 * tag in this file, as the writers must. */
static int put(struct run *r, const struct summary_value *v, const char *tag, int64_t step)
{
    bool first = true;
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i], tag) == 0)
            first = false;
    if (first) {
        if (r->n_tags == MAX_TAGS)
            return -ENOSPC;
        r->tags[r->n_tags++] = tag;
    }
    struct buf values, ev;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&ev, BUF_NO_CAP);
    int rc = summary_value_encode(&values, v, first);
    if (rc == 0)
        rc = event_encode_summary(&ev, T0 + (double)step, step, values.data, values.len);
    if (rc == 0)
        rc = record_writer_append(r->w, ev.data, ev.len);
    buf_free(&values);
    buf_free(&ev);
    return rc;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* The blobs (string_val[first..]) of the tensor a value carries. */
static Tensorboard__TensorProto *value_tensor(const struct summary_value *v,
                                              Tensorboard__Summary **keep)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    summary_value_encode(&b, v, false);
    *keep = tensorboard__summary__unpack(NULL, b.len, b.data);
    buf_free(&b);
    return *keep ? (*keep)->value[0]->tensor : NULL;
}

/* ---- checks on the eventlint view ---- */

static const cJSON *tag_of(const cJSON *runs, const char *run, const char *tag)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(runs, run);
    const cJSON *t = r ? cJSON_GetObjectItemCaseSensitive(r, tag) : NULL;
    if (!t) {
        fprintf(stderr, "eventlint view lacks run %s tag %s\n", run, tag);
        test_failures_++;
    }
    return t;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(x) ? x->valuestring : "(missing)";
}

static void check_head(const cJSON *t, const char *plugin, const char *dc, const int64_t *steps,
                       size_t n_steps)
{
    if (!t)
        return;
    CHECK_STR(jstr(t, "plugin"), plugin);
    CHECK_STR(jstr(t, "data_class"), dc);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "steps");
    CHECK_EQ(cJSON_GetArraySize(s), n_steps);
    for (size_t i = 0; i < n_steps && i < (size_t)cJSON_GetArraySize(s); i++)
        CHECK_EQ(cJSON_GetArrayItem(s, (int)i)->valuedouble, steps[i]);
}

static const cJSON *value_at(const cJSON *t, int i)
{
    return t ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t, "values"), i) : NULL;
}

/* A number in the view equals f (as float, like DT_FLOAT stores it). */
static bool num_is(const cJSON *x, double want)
{
    if (isnan(want))
        return cJSON_IsString(x) && strcmp(x->valuestring, "NaN") == 0;
    if (isinf(want))
        return cJSON_IsString(x) &&
               strcmp(x->valuestring, want > 0 ? "Infinity" : "-Infinity") == 0;
    return cJSON_IsNumber(x) && x->valuedouble == want;
}

static void check_blob_value(const cJSON *val, const char *key, const Tensorboard__TensorProto *t,
                             size_t first)
{
    const cJSON *shas = cJSON_GetObjectItemCaseSensitive(val, key);
    REQUIRE(shas);
    CHECK_EQ(cJSON_GetArraySize(shas), t->n_string_val - first);
    for (size_t i = first; i < t->n_string_val; i++) {
        char hex[65];
        sha256_hex(t->string_val[i].data, t->string_val[i].len, hex);
        const cJSON *s = cJSON_GetArrayItem(shas, (int)(i - first));
        CHECK_STR(cJSON_IsString(s) ? s->valuestring : "", hex);
    }
}

static void test_every_kind(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or absent: eventlint not available");
    char *logdir = test_tmpdir("tfev-summary-lint");
    struct summary_value v;
    summary_value_init(&v);
    struct run root, sa, sav, sb, sbv;
    REQUIRE(run_open(&root, logdir, ".") == 0);
    REQUIRE(run_open(&sa, logdir, "session_a") == 0);
    REQUIRE(run_open(&sav, logdir, "session_a/validation") == 0);
    REQUIRE(run_open(&sb, logdir, "session_b") == 0);
    REQUIRE(run_open(&sbv, logdir, "session_b/validation") == 0);

    /* Scalars, non-finite ones included. */
    static const double loss[] = {1.0, 0.5, NAN, INFINITY, -INFINITY, 0.1};
    struct summary_meta loss_meta = {"Training loss", "cross-entropy, per batch"};
    for (int i = 0; i < 6; i++) {
        REQUIRE(summary_scalar(&v, "loss", loss[i], &loss_meta) == 0);
        REQUIRE(put(&root, &v, "loss", i) == 0);
    }

    /* Text of rank 0, 1, 2. */
    const char *md = "**bold** caf\xc3\xa9 \xf0\x9f\x98\x80";
    REQUIRE(summary_text(&v, "note", md, strlen(md), NULL) == 0);
    REQUIRE(put(&root, &v, "note", 0) == 0);
    struct summary_bytes list[3] = {{"x", 1}, {"", 0}, {"z", 1}};
    size_t d1[1] = {3};
    REQUIRE(summary_text_array(&v, "list", list, 1, d1, NULL) == 0);
    REQUIRE(put(&root, &v, "list", 0) == 0);
    struct summary_bytes cells[6] = {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}, {"f", 1}};
    size_t d2[2] = {2, 3};
    REQUIRE(summary_text_array(&v, "table", cells, 2, d2, NULL) == 0);
    REQUIRE(put(&root, &v, "table", 1) == 0);

    /* Histograms: data whose buckets are known by hand, constant data,
     * empty data, precomputed buckets. */
    double hdata[4] = {0, 1, 2, 3};
    REQUIRE(summary_histogram(&v, "hist", hdata, 4, 2, NULL) == 0);
    REQUIRE(put(&root, &v, "hist", 0) == 0);
    double hconst[3] = {5, 5, 5};
    REQUIRE(summary_histogram(&v, "hist", hconst, 3, 2, NULL) == 0);
    REQUIRE(put(&root, &v, "hist", 1) == 0);
    REQUIRE(summary_histogram(&v, "hist", NULL, 0, 2, NULL) == 0);
    REQUIRE(put(&root, &v, "hist", 2) == 0);
    double edges[4] = {-1, 0, 0.5, 2};
    double counts[3] = {4, 0, 7};
    REQUIRE(summary_histogram_buckets(&v, "prebucketed", edges, counts, 3, NULL) == 0);
    REQUIRE(put(&root, &v, "prebucketed", 0) == 0);

    /* Images: gray, 2 RGB, a 300 x 1024 RGBA (width 300, height 1024), and
     * an already-encoded PNG. */
    Tensorboard__Summary *keep[6] = {0};
    Tensorboard__TensorProto *img_t[4];
    double gray[5 * 7];
    for (int i = 0; i < 35; i++)
        gray[i] = i / 34.0;
    REQUIRE(summary_image_doubles(&v, "img/gray", gray, 1, 5, 7, 1, NULL) == 0);
    REQUIRE(put(&root, &v, "img/gray", 0) == 0);
    img_t[0] = value_tensor(&v, &keep[0]);
    float *rgb = malloc(2 * 16 * 8 * 3 * sizeof *rgb);
    REQUIRE(rgb);
    for (int i = 0; i < 2 * 16 * 8 * 3; i++)
        rgb[i] = (float)((i * 37) % 101) / 100.0f;
    REQUIRE(summary_image_floats(&v, "img/rgb", rgb, 2, 16, 8, 3, NULL) == 0);
    REQUIRE(put(&root, &v, "img/rgb", 0) == 0);
    img_t[1] = value_tensor(&v, &keep[1]);
    free(rgb);
    uint8_t *rgba = malloc(1024 * 300 * 4);
    REQUIRE(rgba);
    for (int i = 0; i < 1024 * 300 * 4; i++)
        rgba[i] = (uint8_t)(i * 7 + i / 1200);
    REQUIRE(summary_image_u8(&v, "img/rgba", rgba, 1, 1024, 300, 4, NULL) == 0);
    REQUIRE(put(&root, &v, "img/rgba", 0) == 0);
    img_t[2] = value_tensor(&v, &keep[2]);
    free(rgba);
    struct summary_bytes enc = {img_t[0]->string_val[2].data, img_t[0]->string_val[2].len};
    REQUIRE(summary_image_encoded(&v, "img/encoded", &enc, 1, 0, 0, NULL) == 0);
    REQUIRE(put(&root, &v, "img/encoded", 3) == 0);

    /* Audio: mono 16 kHz, two stereo clips at 44.1 kHz. */
    double *mono = malloc(1600 * sizeof *mono);
    REQUIRE(mono);
    for (int i = 0; i < 1600; i++)
        mono[i] = 0.5 * sin(i * 0.1);
    REQUIRE(summary_audio_doubles(&v, "audio/mono", mono, 1, 1600, 1, 16000, NULL) == 0);
    REQUIRE(put(&root, &v, "audio/mono", 0) == 0);
    img_t[3] = value_tensor(&v, &keep[3]);
    free(mono);
    float stereo[2 * 441 * 2];
    for (int i = 0; i < 2 * 441 * 2; i++)
        stereo[i] = (float)sin(i * 0.05);
    REQUIRE(summary_audio_floats(&v, "audio/stereo", stereo, 2, 441, 2, 44100, NULL) == 0);
    REQUIRE(put(&root, &v, "audio/stereo", 0) == 0);

    /* A custom plugin: pr_curves [6, 4] with its content. */
    static const uint8_t pr_content[] = {0x10, 0x04};
    double pr[24];
    for (int i = 0; i < 24; i++)
        pr[i] = i < 12 ? 10 - i % 4 : 0.25 * (i % 4);
    size_t prd[2] = {6, 4};
    REQUIRE(summary_custom_numeric(&v, "pr", "pr_curves", pr_content, 2,
                                   TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, pr, 2, prd,
                                   TENSORBOARD__DATA_TYPE__DT_FLOAT, NULL) == 0);
    REQUIRE(put(&root, &v, "pr", 0) == 0);

    /* hparams: the experiment in the root run, two sessions. */
    struct hparams_value opts[2] = {{.kind = HPARAMS_STRING, .string = "adam"},
                                    {.kind = HPARAMS_STRING, .string = "sgd"}};
    struct hparams_value units[2] = {{.kind = HPARAMS_INT, .integer = 32},
                                     {.kind = HPARAMS_INT, .integer = 64}};
    struct hparams_value bools[2] = {{.kind = HPARAMS_BOOL, .boolean = false},
                                     {.kind = HPARAMS_BOOL, .boolean = true}};
    struct hparams_info infos[5] = {
        {.name = "lr", .description = "learning rate", .type = HPARAMS_TYPE_FLOAT64,
         .domain = HPARAMS_DOMAIN_INTERVAL, .min_value = 1e-4, .max_value = 0.1},
        {.name = "optimizer", .type = HPARAMS_TYPE_STRING, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = opts, .n_values = 2},
        {.name = "units", .type = HPARAMS_TYPE_FLOAT64, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = units, .n_values = 2},
        {.name = "bn", .display_name = "Batch norm", .type = HPARAMS_TYPE_BOOL,
         .domain = HPARAMS_DOMAIN_DISCRETE, .values = bools, .n_values = 2},
        {.name = "note", .type = HPARAMS_TYPE_STRING},
    };
    struct hparams_metric metrics[2] = {
        {.tag = "loss", .display_name = "Loss", .dataset_type = HPARAMS_DATASET_TRAINING},
        {.group = "validation", .tag = "accuracy", .display_name = "Val acc",
         .dataset_type = HPARAMS_DATASET_VALIDATION},
    };
    struct hparams_experiment ex = {.name = "sweep", .time_created_secs = T0,
                                    .hparams = infos, .n_hparams = 5,
                                    .metrics = metrics, .n_metrics = 2};
    REQUIRE(summary_hparams_experiment(&v, &ex) == 0);
    REQUIRE(put(&root, &v, HPARAMS_TAG_EXPERIMENT, 0) == 0);

    struct hparams_kv kva[5] = {
        {"lr", {.kind = HPARAMS_NUMBER, .number = 0.01}},
        {"optimizer", {.kind = HPARAMS_STRING, .string = "adam"}},
        {"units", {.kind = HPARAMS_INT, .integer = 32}},
        {"bn", {.kind = HPARAMS_BOOL, .boolean = true}},
        {"note", {.kind = HPARAMS_STRING, .string = "first"}},
    };
    struct hparams_kv kvb[5];
    memcpy(kvb, kva, sizeof kva);
    kvb[0].value.number = 0.001;
    kvb[1].value.string = "sgd";
    kvb[2].value.integer = 64;
    kvb[3].value.boolean = false;
    kvb[4].value.string = "second";
    struct run *sess[2] = {&sa, &sb}, *val[2] = {&sav, &sbv};
    struct hparams_kv *kvs[2] = {kva, kvb};
    char groups[2][65];
    for (int s = 0; s < 2; s++) {
        struct hparams_session_start ss = {.hparams = kvs[s], .n_hparams = 5,
                                           .start_time_secs = T0 + s};
        REQUIRE(hparams_group_name(groups[s], kvs[s], 5) == 0);
        REQUIRE(summary_hparams_session_start(&v, &ss) == 0);
        REQUIRE(put(sess[s], &v, HPARAMS_TAG_SESSION_START, 0) == 0);
        for (int step = 0; step < 3; step++) {
            REQUIRE(summary_scalar(&v, "loss", 1.0 / (step + 1 + s), NULL) == 0);
            REQUIRE(put(sess[s], &v, "loss", step) == 0);
            REQUIRE(summary_scalar(&v, "accuracy", 0.5 + 0.1 * step + 0.01 * s, NULL) == 0);
            REQUIRE(put(val[s], &v, "accuracy", step) == 0);
        }
        REQUIRE(summary_hparams_session_end(&v, s ? HPARAMS_STATUS_FAILURE
                                                  : HPARAMS_STATUS_SUCCESS,
                                            T0 + 100 + s) == 0);
        REQUIRE(put(sess[s], &v, HPARAMS_TAG_SESSION_END, 3) == 0);
    }
    CHECK_EQ(record_writer_close(root.w), 0);
    CHECK_EQ(record_writer_close(sa.w), 0);
    CHECK_EQ(record_writer_close(sav.w), 0);
    CHECK_EQ(record_writer_close(sb.w), 0);
    CHECK_EQ(record_writer_close(sbv.w), 0);

    /* eventlint --strict: nothing to report. */
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd, "'%s/tools/eventlint' --strict '%s' 2>&1", shared, logdir);
    char *report = test_run_capture(cmd, &st);
    if (st != 0)
        fprintf(stderr, "eventlint --strict exit %d:\n%s\n", st, report ? report : "");
    CHECK_EQ(st, 0);
    free(report);

    snprintf(cmd, sizeof cmd, "'%s/tools/eventlint' --json '%s'", shared, logdir);
    char *json = test_run_capture(cmd, &st);
    REQUIRE(json);
    cJSON *root_j = cJSON_Parse(json);
    REQUIRE(root_j);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root_j, "runs");
    CHECK_EQ(cJSON_GetArraySize(runs), 5);
    CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root_j, "problems")), 0);
    CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(runs, ".")), 14);

    /* Scalars. */
    static const int64_t steps6[] = {0, 1, 2, 3, 4, 5}, steps3[] = {0, 1, 2};
    static const int64_t step0[] = {0}, step1[] = {1}, step3[] = {3};
    const cJSON *t = tag_of(runs, ".", "loss");
    check_head(t, "scalars", "DATA_CLASS_SCALAR", steps6, 6);
    CHECK_STR(jstr(t, "display_name"), "Training loss");
    CHECK_STR(jstr(t, "description"), "cross-entropy, per batch");
    CHECK_STR(jstr(t, "dtype"), "DT_FLOAT");
    for (int i = 0; i < 6; i++)
        CHECK(num_is(value_at(t, i), (double)(float)loss[i]));

    /* Text. */
    t = tag_of(runs, ".", "note");
    check_head(t, "text", "DATA_CLASS_TENSOR", step0, 1);
    CHECK_STR(cJSON_GetStringValue(value_at(t, 0)), md);
    t = tag_of(runs, ".", "list");
    check_head(t, "text", "DATA_CLASS_TENSOR", step0, 1);
    const cJSON *x = value_at(t, 0);
    CHECK_EQ(cJSON_GetArraySize(x), 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(x, 0)), "x");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(x, 1)), "");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(x, 2)), "z");
    t = tag_of(runs, ".", "table");
    check_head(t, "text", "DATA_CLASS_TENSOR", step1, 1);
    x = value_at(t, 0);
    CHECK_EQ(cJSON_GetArraySize(x), 2);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            CHECK(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetArrayItem(x, r), c))[0] ==
                  "abcdef"[3 * r + c]);

    /* Histograms, expected rows by hand. */
    static const double h0[2][3] = {{0, 1.5, 2}, {1.5, 3, 2}};
    static const double h1[2][3] = {{5, 5, 0}, {5, 5, 3}};
    static const double h2[2][3] = {{0, 0, 0}, {0, 0, 0}};
    static const double hp[3][3] = {{-1, 0, 4}, {0, 0.5, 0}, {0.5, 2, 7}};
    const double (*hwant[3])[3] = {h0, h1, h2};
    t = tag_of(runs, ".", "hist");
    check_head(t, "histograms", "DATA_CLASS_TENSOR", steps3, 3);
    CHECK_STR(jstr(t, "dtype"), "DT_DOUBLE");
    for (int s = 0; s < 3; s++)
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++)
                CHECK(num_is(cJSON_GetArrayItem(cJSON_GetArrayItem(value_at(t, s), r), c),
                             hwant[s][r][c]));
    t = tag_of(runs, ".", "prebucketed");
    check_head(t, "histograms", "DATA_CLASS_TENSOR", step0, 1);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            CHECK(num_is(cJSON_GetArrayItem(cJSON_GetArrayItem(value_at(t, 0), r), c), hp[r][c]));

    /* Images. */
    static const struct {
        const char *tag;
        int w, h, count, idx;
        const int64_t *steps;
    } imgs[] = {
        {"img/gray", 7, 5, 1, 0, step0},
        {"img/rgb", 8, 16, 2, 1, step0},
        {"img/rgba", 300, 1024, 1, 2, step0},
        {"img/encoded", 7, 5, 1, 0, step3},
    };
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++) {
        t = tag_of(runs, ".", imgs[i].tag);
        check_head(t, "images", "DATA_CLASS_BLOB_SEQUENCE", imgs[i].steps, 1);
        x = value_at(t, 0);
        CHECK_EQ(cJSON_GetObjectItem(x, "width")->valuedouble, imgs[i].w);
        CHECK_EQ(cJSON_GetObjectItem(x, "height")->valuedouble, imgs[i].h);
        CHECK_EQ(cJSON_GetObjectItem(x, "count")->valuedouble, imgs[i].count);
        check_blob_value(x, "sha256", img_t[imgs[i].idx], 2);
    }

    /* Audio. */
    t = tag_of(runs, ".", "audio/mono");
    check_head(t, "audio", "DATA_CLASS_BLOB_SEQUENCE", step0, 1);
    x = value_at(t, 0);
    CHECK_EQ(cJSON_GetObjectItem(x, "count")->valuedouble, 1);
    const cJSON *clip = cJSON_GetArrayItem(cJSON_GetObjectItem(x, "clips"), 0);
    CHECK_EQ(cJSON_GetObjectItem(clip, "sample_rate")->valuedouble, 16000);
    CHECK_EQ(cJSON_GetObjectItem(clip, "channels")->valuedouble, 1);
    CHECK_EQ(cJSON_GetObjectItem(clip, "frames")->valuedouble, 1600);
    char hex[65];
    sha256_hex(img_t[3]->string_val[0].data, img_t[3]->string_val[0].len, hex);
    CHECK_STR(jstr(clip, "sha256"), hex);
    t = tag_of(runs, ".", "audio/stereo");
    check_head(t, "audio", "DATA_CLASS_BLOB_SEQUENCE", step0, 1);
    x = value_at(t, 0);
    CHECK_EQ(cJSON_GetObjectItem(x, "count")->valuedouble, 2);
    for (int i = 0; i < 2; i++) {
        clip = cJSON_GetArrayItem(cJSON_GetObjectItem(x, "clips"), i);
        CHECK_EQ(cJSON_GetObjectItem(clip, "sample_rate")->valuedouble, 44100);
        CHECK_EQ(cJSON_GetObjectItem(clip, "channels")->valuedouble, 2);
        CHECK_EQ(cJSON_GetObjectItem(clip, "frames")->valuedouble, 441);
    }
    CHECK_STR(jstr(cJSON_GetObjectItem(t, "content"), "encoding"), "WAV");

    /* The custom plugin. */
    t = tag_of(runs, ".", "pr");
    check_head(t, "pr_curves", "DATA_CLASS_TENSOR", step0, 1);
    x = value_at(t, 0);
    CHECK_EQ(cJSON_GetArraySize(x), 6);
    for (int r = 0; r < 6; r++)
        for (int c = 0; c < 4; c++)
            CHECK(num_is(cJSON_GetArrayItem(cJSON_GetArrayItem(x, r), c), pr[r * 4 + c]));

    /* hparams content, field by field. */
    t = tag_of(runs, ".", HPARAMS_TAG_EXPERIMENT);
    check_head(t, "hparams", "DATA_CLASS_TENSOR", step0, 1);
    const cJSON *e = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "content"), "experiment");
    REQUIRE(e);
    CHECK_STR(jstr(e, "name"), "sweep");
    CHECK_EQ(cJSON_GetObjectItem(e, "time_created_secs")->valuedouble, T0);
    const cJSON *hi = cJSON_GetObjectItem(e, "hparam_infos");
    REQUIRE(cJSON_GetArraySize(hi) == 5);
    const cJSON *h = cJSON_GetArrayItem(hi, 0);
    CHECK_STR(jstr(h, "name"), "lr");
    CHECK_STR(jstr(h, "description"), "learning rate");
    CHECK_STR(jstr(h, "type"), "DATA_TYPE_FLOAT64");
    CHECK_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "domain_interval"), "min_value")
                     ->valuedouble * 1e4, 1);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "domain_interval"), "max_value")
              ->valuedouble == 0.1);
    h = cJSON_GetArrayItem(hi, 1);
    CHECK_STR(jstr(h, "type"), "DATA_TYPE_STRING");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(h, "domain_discrete"), 1)),
              "sgd");
    h = cJSON_GetArrayItem(hi, 2);
    CHECK_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(h, "domain_discrete"), 1)->valuedouble, 64);
    h = cJSON_GetArrayItem(hi, 3);
    CHECK_STR(jstr(h, "display_name"), "Batch norm");
    CHECK_STR(jstr(h, "type"), "DATA_TYPE_BOOL");
    CHECK(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(h, "domain_discrete"), 1)));
    h = cJSON_GetArrayItem(hi, 4);
    CHECK_STR(jstr(h, "name"), "note");
    CHECK(!cJSON_GetObjectItem(h, "domain_discrete") && !cJSON_GetObjectItem(h, "domain_interval"));
    const cJSON *mi = cJSON_GetObjectItem(e, "metric_infos");
    REQUIRE(cJSON_GetArraySize(mi) == 2);
    CHECK_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(mi, 0), "name"), "tag"), "loss");
    CHECK_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(mi, 1), "name"), "group"),
              "validation");
    CHECK_STR(jstr(cJSON_GetArrayItem(mi, 1), "display_name"), "Val acc");
    CHECK_STR(jstr(cJSON_GetArrayItem(mi, 1), "dataset_type"), "DATASET_VALIDATION");

    const char *sess_names[2] = {"session_a", "session_b"};
    const char *sess_status[2] = {"STATUS_SUCCESS", "STATUS_FAILURE"};
    for (int s = 0; s < 2; s++) {
        t = tag_of(runs, sess_names[s], HPARAMS_TAG_SESSION_START);
        check_head(t, "hparams", "DATA_CLASS_TENSOR", step0, 1);
        const cJSON *si =
            cJSON_GetObjectItem(cJSON_GetObjectItem(t, "content"), "session_start_info");
        REQUIRE(si);
        CHECK_STR(jstr(si, "group_name"), groups[s]);
        CHECK_EQ(cJSON_GetObjectItem(si, "start_time_secs")->valuedouble, T0 + s);
        const cJSON *hp_j = cJSON_GetObjectItem(si, "hparams");
        CHECK_EQ(cJSON_GetArraySize(hp_j), 5);
        CHECK(cJSON_GetObjectItem(hp_j, "lr")->valuedouble == kvs[s][0].value.number);
        CHECK_STR(jstr(hp_j, "optimizer"), kvs[s][1].value.string);
        CHECK_EQ(cJSON_GetObjectItem(hp_j, "units")->valuedouble, kvs[s][2].value.integer);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(hp_j, "bn")) == kvs[s][3].value.boolean);
        CHECK_STR(jstr(hp_j, "note"), kvs[s][4].value.string);

        t = tag_of(runs, sess_names[s], HPARAMS_TAG_SESSION_END);
        check_head(t, "hparams", "DATA_CLASS_TENSOR", step3, 1);
        const cJSON *se = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "content"), "session_end_info");
        CHECK_STR(jstr(se, "status"), sess_status[s]);
        CHECK_EQ(cJSON_GetObjectItem(se, "end_time_secs")->valuedouble, T0 + 100 + s);

        t = tag_of(runs, sess_names[s], "loss");
        check_head(t, "scalars", "DATA_CLASS_SCALAR", steps3, 3);
        for (int step = 0; step < 3; step++)
            CHECK(num_is(value_at(t, step), (double)(float)(1.0 / (step + 1 + s))));
        char vrun[64];
        snprintf(vrun, sizeof vrun, "%s/validation", sess_names[s]);
        t = tag_of(runs, vrun, "accuracy");
        check_head(t, "scalars", "DATA_CLASS_SCALAR", steps3, 3);
        for (int step = 0; step < 3; step++)
            CHECK(num_is(value_at(t, step), (double)(float)(0.5 + 0.1 * step + 0.01 * s)));
    }

    cJSON_Delete(root_j);
    free(json);
    for (int i = 0; i < 6; i++)
        if (keep[i])
            tensorboard__summary__free_unpacked(keep[i], NULL);
    summary_value_done(&v);
    if (test_failures_ == 0)
        test_rmtree(logdir);
    else
        fprintf(stderr, "logdir kept: %s\n", logdir);
    free(logdir);
}

TEST_MAIN(TEST(test_every_kind))
