/* hparams: plugin content decoded back with protobuf-c field by field, and
 * the default group name / JSON / float formatting checked against what
 * python3 computes (skipped when python3 is absent). */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "hparams.h"
#include "hparams.pb-c.h"
#include "summary.h"
#include "test.h"

static bool have_python(void)
{
    int st;
    char *out = test_run_capture("python3 -c 'print(1)' 2>/dev/null", &st);
    bool ok = out && st == 0 && strcmp(out, "1\n") == 0;
    free(out);
    return ok;
}

/* Run a python3 script (written to a temp file) with one argument; return
 * its stdout. */
static char *run_python(const char *script, const char *arg)
{
    char *dir = test_tmpdir("tfev-hparams-py");
    char path[4096], cmd[8192];
    snprintf(path, sizeof path, "%s/s.py", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", path, arg);
    int st;
    char *out = test_run_capture(cmd, &st);
    test_rmtree(dir);
    free(dir);
    if (st != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s;
}

static void test_format_double_vs_python(void)
{
    if (!have_python())
        TEST_SKIP("python3 not available: float repr not compared");
    enum { N = 4000 };
    static double vals[N];
    size_t n = 0;
    static const double fixed[] = {
        0.1, 0.2, 0.3, 1e-05, 1e-4, 0.0001234, 1e+100, 1e16, 1e15, 9999999999999998.0,
        123456789.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 2.0,
        0.5, 100.0, 1e22, 1e23, 3.14159, -2.5, -0.0, 0.0, 1.5e-7, 123.456, 4.35, 0.3e-3,
        9007199254740993.0, 1e-323, 2e-323,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        vals[n++] = fixed[i];
    /* Every power of two: the binade edges where the shortest digits are
     * not always the correctly rounded ones. */
    for (int e = -1074; e <= 1023 && n < N; e += 1)
        vals[n++] = ldexp(1.0, e);
    uint64_t s = 42;
    while (n < N) {
        uint64_t bits = lcg(&s);
        double d;
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            continue;
        /* Mix random bit patterns with short decimals like users type. */
        if (n % 3 == 0)
            d = (double)(lcg(&s) % 100000) / 1000.0;
        vals[n++] = d;
    }
    char *dir = test_tmpdir("tfev-hparams-num");
    char path[4096];
    snprintf(path, sizeof path, "%s/nums", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &vals[i], 8);
        fprintf(f, "%016" PRIx64 "\n", bits);
    }
    fclose(f);
    char *out = run_python("import struct, sys\n"
                           "for line in open(sys.argv[1]):\n"
                           "    print(repr(struct.unpack('<d', int(line, 16).to_bytes(8, 'little'))[0]))\n",
                           path);
    test_rmtree(dir);
    free(dir);
    REQUIRE(out);
    char *line = out;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        REQUIRE(nl);
        *nl = '\0';
        char mine[64];
        hparams_format_double(mine, vals[i]);
        if (strcmp(mine, line) != 0 && bad++ < 10)
            fprintf(stderr, "repr %.17g: python %s, ours %s\n", vals[i], line, mine);
        line = nl + 1;
    }
    CHECK_EQ(bad, 0);
    free(out);
}

/* A python script that rebuilds the hparams dict from our description and
 * prints TensorBoard's JSON and its SHA-256. Lines: name_hex kind value,
 * kind n (float bits hex), i (int), s (utf-8 hex), b (0/1). */
static const char *group_script =
    "import sys, json, hashlib, struct\n"
    "h = {}\n"
    "for line in open(sys.argv[1]):\n"
    "    name, kind, val = line.split()\n"
    "    name = bytes.fromhex(name).decode('utf-8')\n"
    "    if kind == 'n': v = struct.unpack('<d', int(val, 16).to_bytes(8, 'little'))[0]\n"
    "    elif kind == 'i': v = int(val)\n"
    "    elif kind == 's': v = bytes.fromhex(val).decode('utf-8') if val != '-' else ''\n"
    "    else: v = val == '1'\n"
    "    h[name] = v\n"
    "j = json.dumps(h, sort_keys=True, separators=(',', ':'))\n"
    "print(j)\n"
    "print(hashlib.sha256(j.encode('utf-8')).hexdigest())\n";

static void hex_of(FILE *f, const char *s)
{
    if (!*s)
        fputc('-', f);
    for (; *s; s++)
        fprintf(f, "%02x", (unsigned char)*s);
}

static void check_group_vs_python(const struct hparams_kv *kv, size_t n)
{
    char *dir = test_tmpdir("tfev-hparams-grp");
    char path[4096];
    snprintf(path, sizeof path, "%s/kv", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    for (size_t i = 0; i < n; i++) {
        hex_of(f, kv[i].name);
        const struct hparams_value *v = &kv[i].value;
        uint64_t bits;
        switch (v->kind) {
        case HPARAMS_NUMBER:
            memcpy(&bits, &v->number, 8);
            fprintf(f, " n %016" PRIx64 "\n", bits);
            break;
        case HPARAMS_INT:
            fprintf(f, " i %" PRId64 "\n", v->integer);
            break;
        case HPARAMS_STRING:
            fputs(" s ", f);
            hex_of(f, v->string);
            fputc('\n', f);
            break;
        case HPARAMS_BOOL:
            fprintf(f, " b %d\n", v->boolean ? 1 : 0);
            break;
        }
    }
    fclose(f);
    char *out = run_python(group_script, path);
    test_rmtree(dir);
    free(dir);
    REQUIRE(out);
    char *nl = strchr(out, '\n');
    REQUIRE(nl);
    *nl = '\0';
    const char *py_json = out, *py_sha = nl + 1;
    char *nl2 = strchr(py_sha, '\n');
    REQUIRE(nl2);
    *nl2 = '\0';

    struct buf json;
    buf_init(&json, BUF_NO_CAP);
    REQUIRE(hparams_json(&json, kv, n) == 0);
    REQUIRE(buf_append(&json, "", 1) == 0);
    CHECK_STR((char *)json.data, py_json);
    char group[65];
    REQUIRE(hparams_group_name(group, kv, n) == 0);
    CHECK_STR(group, py_sha);
    buf_free(&json);
    free(out);
}

static void test_group_name_vs_python(void)
{
    if (!have_python())
        TEST_SKIP("python3 not available: group names not compared");
    struct hparams_kv kv[] = {
        {"lr", {.kind = HPARAMS_NUMBER, .number = 0.001}},
        {"units", {.kind = HPARAMS_INT, .integer = 128}},
        {"optimizer", {.kind = HPARAMS_STRING, .string = "adam"}},
        {"dropout", {.kind = HPARAMS_NUMBER, .number = 0.1}},
        {"use_bn", {.kind = HPARAMS_BOOL, .boolean = true}},
        {"big", {.kind = HPARAMS_NUMBER, .number = 1e100}},
        {"tiny", {.kind = HPARAMS_NUMBER, .number = 1e-05}},
        {"whole", {.kind = HPARAMS_NUMBER, .number = 2.0}},
        {"neg", {.kind = HPARAMS_INT, .integer = -9007199254740993}},
        {"off", {.kind = HPARAMS_BOOL, .boolean = false}},
    };
    check_group_vs_python(kv, sizeof kv / sizeof kv[0]);

    /* Escapes: quotes, backslash, controls, DEL, non-ASCII, astral plane;
     * keys that sort differently as bytes than as UTF-16 would. */
    struct hparams_kv esc[] = {
        {"q\"uote", {.kind = HPARAMS_STRING, .string = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f"}},
        {"\xc3\xa9t\xc3\xa9", {.kind = HPARAMS_STRING, .string = "caf\xc3\xa9 \xe2\x82\xac"}},
        {"\xf0\x9f\x98\x80", {.kind = HPARAMS_STRING, .string = "\xf0\x9f\x98\x80!"}},
        {"\xef\xbd\xa1", {.kind = HPARAMS_NUMBER, .number = -0.0}},
        {"A", {.kind = HPARAMS_STRING, .string = ""}},
        {"a b", {.kind = HPARAMS_NUMBER, .number = 1e16}},
    };
    check_group_vs_python(esc, sizeof esc / sizeof esc[0]);
    check_group_vs_python(NULL, 0);
}

static void test_json_rejects(void)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    struct hparams_kv dup[] = {
        {"a", {.kind = HPARAMS_INT, .integer = 1}},
        {"a", {.kind = HPARAMS_INT, .integer = 2}},
    };
    CHECK_EQ(hparams_json(&out, dup, 2), -EINVAL);
    struct hparams_kv nan[] = {{"a", {.kind = HPARAMS_NUMBER, .number = NAN}}};
    CHECK_EQ(hparams_json(&out, nan, 1), -EINVAL);
    struct hparams_kv bad[] = {{"a", {.kind = HPARAMS_STRING, .string = "\xc0\x80"}}};
    CHECK_EQ(hparams_json(&out, bad, 1), -EILSEQ);
    struct hparams_kv noname[] = {{"", {.kind = HPARAMS_BOOL}}};
    CHECK_EQ(hparams_json(&out, noname, 1), -EINVAL);
    CHECK_EQ(out.len, 0);
    buf_free(&out);
}

static Tensorboard__Hparams__HParamsPluginData *decode_content(const struct summary_value *v,
                                                               const char *want_tag)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (summary_value_encode(&out, v, true) < 0)
        return NULL;
    Tensorboard__Summary *s = tensorboard__summary__unpack(NULL, out.len, out.data);
    buf_free(&out);
    if (!s || s->n_value != 1)
        return NULL;
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK_STR(val->tag, want_tag);
    CHECK_STR(val->metadata->plugin_data->plugin_name, "hparams");
    CHECK_EQ(val->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR);
    /* The empty DT_FLOAT [0] tensor TensorBoard needs. */
    CHECK(val->value_case == TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR);
    CHECK_EQ(val->tensor->dtype, TENSORBOARD__DATA_TYPE__DT_FLOAT);
    CHECK(val->tensor->tensor_shape && val->tensor->tensor_shape->n_dim == 1 &&
          val->tensor->tensor_shape->dim[0]->size == 0);
    CHECK_EQ(val->tensor->n_float_val, 0);
    CHECK_EQ(val->tensor->tensor_content.len, 0);
    Tensorboard__Hparams__HParamsPluginData *pd = tensorboard__hparams__hparams_plugin_data__unpack(
        NULL, val->metadata->plugin_data->content.len, val->metadata->plugin_data->content.data);
    tensorboard__summary__free_unpacked(s, NULL);
    if (pd)
        CHECK_EQ(pd->version, 0);
    return pd;
}

static void test_experiment(void)
{
    struct hparams_value opts[] = {
        {.kind = HPARAMS_STRING, .string = "adam"},
        {.kind = HPARAMS_STRING, .string = "sgd"},
    };
    struct hparams_value nums[] = {
        {.kind = HPARAMS_INT, .integer = 32},
        {.kind = HPARAMS_NUMBER, .number = 64.5},
    };
    struct hparams_value bools[] = {
        {.kind = HPARAMS_BOOL, .boolean = true},
        {.kind = HPARAMS_BOOL, .boolean = false},
    };
    struct hparams_info infos[] = {
        {.name = "optimizer", .display_name = "Optimizer", .description = "which one",
         .type = HPARAMS_TYPE_STRING, .domain = HPARAMS_DOMAIN_DISCRETE, .values = opts,
         .n_values = 2},
        {.name = "batch", .type = HPARAMS_TYPE_FLOAT64, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = nums, .n_values = 2},
        {.name = "bn", .type = HPARAMS_TYPE_BOOL, .domain = HPARAMS_DOMAIN_DISCRETE,
         .values = bools, .n_values = 2},
        {.name = "lr", .type = HPARAMS_TYPE_FLOAT64, .domain = HPARAMS_DOMAIN_INTERVAL,
         .min_value = 1e-4, .max_value = 0.1},
        {.name = "notes", .type = HPARAMS_TYPE_STRING},
        {.name = "free"},
    };
    struct hparams_metric metrics[] = {
        {.group = "validation", .tag = "loss", .display_name = "Val loss",
         .description = "lower is better", .dataset_type = HPARAMS_DATASET_VALIDATION},
        {.tag = "accuracy", .dataset_type = HPARAMS_DATASET_TRAINING},
    };
    struct hparams_experiment e = {
        .name = "exp", .description = "an experiment", .user = "me",
        .time_created_secs = 1700000000.25, .hparams = infos, .n_hparams = 6,
        .metrics = metrics, .n_metrics = 2,
    };
    struct summary_value v;
    summary_value_init(&v);
    REQUIRE(summary_hparams_experiment(&v, &e) == 0);
    Tensorboard__Hparams__HParamsPluginData *pd = decode_content(&v, "_hparams_/experiment");
    REQUIRE(pd);
    REQUIRE(pd->data_case == TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT);
    Tensorboard__Hparams__Experiment *x = pd->experiment;
    CHECK_STR(x->name, "exp");
    CHECK_STR(x->description, "an experiment");
    CHECK_STR(x->user, "me");
    CHECK(x->time_created_secs == 1700000000.25);
    REQUIRE(x->n_hparam_infos == 6 && x->n_metric_infos == 2);

    Tensorboard__Hparams__HParamInfo **h = x->hparam_infos;
    CHECK_STR(h[0]->name, "optimizer");
    CHECK_STR(h[0]->display_name, "Optimizer");
    CHECK_STR(h[0]->description, "which one");
    CHECK_EQ(h[0]->type, TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_STRING);
    REQUIRE(h[0]->domain_case == TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE);
    REQUIRE(h[0]->domain_discrete->n_values == 2);
    CHECK_EQ(h[0]->domain_discrete->values[0]->kind_case,
             GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
    CHECK_STR(h[0]->domain_discrete->values[0]->string_value, "adam");
    CHECK_STR(h[0]->domain_discrete->values[1]->string_value, "sgd");

    CHECK_EQ(h[1]->type, TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64);
    REQUIRE(h[1]->domain_case == TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE);
    REQUIRE(h[1]->domain_discrete->n_values == 2);
    CHECK_EQ(h[1]->domain_discrete->values[0]->kind_case,
             GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
    CHECK(h[1]->domain_discrete->values[0]->number_value == 32);
    CHECK(h[1]->domain_discrete->values[1]->number_value == 64.5);

    CHECK_EQ(h[2]->type, TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_BOOL);
    REQUIRE(h[2]->domain_case == TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE);
    CHECK_EQ(h[2]->domain_discrete->values[0]->kind_case,
             GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
    CHECK(h[2]->domain_discrete->values[0]->bool_value);
    CHECK(!h[2]->domain_discrete->values[1]->bool_value);

    REQUIRE(h[3]->domain_case == TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL);
    CHECK(h[3]->domain_interval->min_value == 1e-4);
    CHECK(h[3]->domain_interval->max_value == 0.1);

    CHECK_STR(h[4]->name, "notes");
    CHECK_EQ(h[4]->type, TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_STRING);
    CHECK_EQ(h[4]->domain_case, TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN__NOT_SET);
    CHECK_STR(h[5]->name, "free");
    CHECK_EQ(h[5]->type, TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_UNSET);
    CHECK_STR(h[5]->display_name, "");

    Tensorboard__Hparams__MetricInfo **m = x->metric_infos;
    CHECK_STR(m[0]->name->group, "validation");
    CHECK_STR(m[0]->name->tag, "loss");
    CHECK_STR(m[0]->display_name, "Val loss");
    CHECK_STR(m[0]->description, "lower is better");
    CHECK_EQ(m[0]->dataset_type, TENSORBOARD__HPARAMS__DATASET_TYPE__DATASET_VALIDATION);
    CHECK_STR(m[1]->name->group, "");
    CHECK_STR(m[1]->name->tag, "accuracy");
    CHECK_EQ(m[1]->dataset_type, TENSORBOARD__HPARAMS__DATASET_TYPE__DATASET_TRAINING);
    tensorboard__hparams__hparams_plugin_data__free_unpacked(pd, NULL);

    /* Invalid experiments. */
    struct hparams_info bad = infos[0];
    bad.type = HPARAMS_TYPE_FLOAT64;   /* string values in a float domain */
    struct hparams_experiment be = {.hparams = &bad, .n_hparams = 1};
    CHECK_EQ(summary_hparams_experiment(&v, &be), -EINVAL);
    CHECK(strstr(summary_last_error(), "type") != NULL);
    bad = infos[3];
    bad.min_value = 1;
    bad.max_value = 0;
    CHECK_EQ(summary_hparams_experiment(&v, &be), -EINVAL);
    bad.min_value = -INFINITY;
    CHECK_EQ(summary_hparams_experiment(&v, &be), -EINVAL);
    bad = infos[4];
    bad.name = NULL;
    CHECK_EQ(summary_hparams_experiment(&v, &be), -EINVAL);
    bad.name = "x\xed\xa0\x80";   /* a surrogate */
    CHECK_EQ(summary_hparams_experiment(&v, &be), -EILSEQ);
    struct hparams_info two[2] = {infos[4], infos[4]};
    struct hparams_experiment de = {.hparams = two, .n_hparams = 2};
    CHECK_EQ(summary_hparams_experiment(&v, &de), -EINVAL);
    struct hparams_metric nometric = {.group = "g"};
    struct hparams_experiment me = {.metrics = &nometric, .n_metrics = 1};
    CHECK_EQ(summary_hparams_experiment(&v, &me), -EINVAL);
    CHECK_EQ(v.metadata.len, 0);
    summary_value_done(&v);
}

static void test_session_start(void)
{
    struct hparams_kv kv[] = {
        {"optimizer", {.kind = HPARAMS_STRING, .string = "adam"}},
        {"lr", {.kind = HPARAMS_NUMBER, .number = 0.01}},
        {"batch", {.kind = HPARAMS_INT, .integer = 32}},
        {"bn", {.kind = HPARAMS_BOOL, .boolean = true}},
    };
    struct hparams_session_start s = {
        .hparams = kv, .n_hparams = 4, .model_uri = "file:///m", .monitor_url = "http://x",
        .start_time_secs = 1700000001.5,
    };
    char want_group[65];
    REQUIRE(hparams_group_name(want_group, kv, 4) == 0);
    CHECK_EQ(strlen(want_group), 64);
    struct summary_value v;
    summary_value_init(&v);
    REQUIRE(summary_hparams_session_start(&v, &s) == 0);
    Tensorboard__Hparams__HParamsPluginData *pd =
        decode_content(&v, "_hparams_/session_start_info");
    REQUIRE(pd);
    REQUIRE(pd->data_case == TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO);
    Tensorboard__Hparams__SessionStartInfo *si = pd->session_start_info;
    CHECK_STR(si->model_uri, "file:///m");
    CHECK_STR(si->monitor_url, "http://x");
    CHECK_STR(si->group_name, want_group);
    CHECK(si->start_time_secs == 1700000001.5);
    REQUIRE(si->n_hparams == 4);
    /* Entries come sorted by name. */
    CHECK_STR(si->hparams[0]->key, "batch");
    CHECK(si->hparams[0]->value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE &&
          si->hparams[0]->value->number_value == 32);
    CHECK_STR(si->hparams[1]->key, "bn");
    CHECK(si->hparams[1]->value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE &&
          si->hparams[1]->value->bool_value);
    CHECK_STR(si->hparams[2]->key, "lr");
    CHECK(si->hparams[2]->value->number_value == 0.01);
    CHECK_STR(si->hparams[3]->key, "optimizer");
    CHECK(si->hparams[3]->value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
    CHECK_STR(si->hparams[3]->value->string_value, "adam");
    tensorboard__hparams__hparams_plugin_data__free_unpacked(pd, NULL);

    /* A given group name is kept, "" included. */
    s.group_name = "";
    REQUIRE(summary_hparams_session_start(&v, &s) == 0);
    pd = decode_content(&v, "_hparams_/session_start_info");
    REQUIRE(pd);
    CHECK_STR(pd->session_start_info->group_name, "");
    tensorboard__hparams__hparams_plugin_data__free_unpacked(pd, NULL);
    s.group_name = "grp";
    REQUIRE(summary_hparams_session_start(&v, &s) == 0);
    pd = decode_content(&v, "_hparams_/session_start_info");
    REQUIRE(pd);
    CHECK_STR(pd->session_start_info->group_name, "grp");
    tensorboard__hparams__hparams_plugin_data__free_unpacked(pd, NULL);

    kv[1].value.number = NAN;
    CHECK_EQ(summary_hparams_session_start(&v, &s), -EINVAL);
    summary_value_done(&v);
}

static void test_session_end(void)
{
    struct summary_value v;
    summary_value_init(&v);
    REQUIRE(summary_hparams_session_end(&v, HPARAMS_STATUS_SUCCESS, 1700000100.0) == 0);
    Tensorboard__Hparams__HParamsPluginData *pd = decode_content(&v, "_hparams_/session_end_info");
    REQUIRE(pd);
    REQUIRE(pd->data_case == TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO);
    CHECK_EQ(pd->session_end_info->status, TENSORBOARD__HPARAMS__STATUS__STATUS_SUCCESS);
    CHECK(pd->session_end_info->end_time_secs == 1700000100.0);
    tensorboard__hparams__hparams_plugin_data__free_unpacked(pd, NULL);
    CHECK_EQ(summary_hparams_session_end(&v, (enum hparams_status)7, 0), -EINVAL);
    CHECK_EQ(summary_hparams_session_end(&v, HPARAMS_STATUS_FAILURE, NAN), -EINVAL);
    summary_value_done(&v);
}

TEST_MAIN(TEST(test_format_double_vs_python), TEST(test_group_name_vs_python),
          TEST(test_json_rejects), TEST(test_experiment), TEST(test_session_start),
          TEST(test_session_end))
