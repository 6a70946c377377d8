/* Reads every writer fixture under golden/writers/ with our reader and
 * compares what it finds with TensorBoard's own view in golden/expected/:
 * the same runs and tags, the same steps (and wall times) in order, the
 * scalar values, the text strings, and the dtype and shape of the first
 * tensor of each tag (after TensorBoard's read-time migrations). The
 * per-plugin values of images, audio, histograms and hparams are another
 * module's business. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "event.h"
#include "record_reader.h"
#include "tensor.h"
#include "test.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cJSON *tag_entry(cJSON *run, const char *tag)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(run, tag);
    if (!t) {
        t = cJSON_AddObjectToObject(run, tag);
        cJSON_AddArrayToObject(t, "steps");
        cJSON_AddArrayToObject(t, "wall_times");
        cJSON_AddArrayToObject(t, "scalars");
        cJSON_AddArrayToObject(t, "strings");
    }
    return t;
}

static cJSON *shape_json(const size_t *dims, size_t rank)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < rank; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)dims[i]));
    return a;
}

/* Record dtype and shape of the tag's first data point. */
static void set_type(cJSON *t, const char *dtype, const size_t *dims, size_t rank)
{
    if (cJSON_GetObjectItem(t, "dtype"))
        return;
    cJSON_AddStringToObject(t, "dtype", dtype);
    cJSON_AddItemToObject(t, "shape", shape_json(dims, rank));
}

static void add_value(cJSON *run, const Tensorboard__Summary__Value *v, int64_t step,
                      double wall_time)
{
    cJSON *t = tag_entry(run, v->tag);
    const Tensorboard__SummaryMetadata *md = v->metadata;
    if (md && md->plugin_data && md->plugin_data->plugin_name &&
        *md->plugin_data->plugin_name && !cJSON_GetObjectItem(t, "plugin")) {
        cJSON_AddStringToObject(t, "plugin", md->plugin_data->plugin_name);
        cJSON_AddNumberToObject(t, "data_class", md->data_class);
    }
    const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItem(t, "plugin"));
    int data_class = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "data_class"));
    bool hparams = plugin && strcmp(plugin, "hparams") == 0;
    double scalar = NAN;
    bool have_scalar = false;
    cJSON *strings = NULL;

    switch (v->value_case) {
    case TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE:
        set_type(t, "DT_FLOAT", NULL, 0);
        scalar = v->simple_value;
        have_scalar = true;
        break;
    case TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE:
        set_type(t, "DT_STRING", (size_t[]){3}, 1);
        break;
    case TENSORBOARD__SUMMARY__VALUE__VALUE_AUDIO:
        set_type(t, "DT_STRING", (size_t[]){1}, 1);
        break;
    case TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO:
        /* Migrated to [k,3] with empty edge buckets dropped: the histogram
         * decoder's test checks k. */
        cJSON_AddBoolToObject(t, "legacy_histo", true);
        break;
    case TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR: {
        const Tensorboard__TensorProto *tp = v->tensor;
        struct tensor_shape sh;
        if (tensor_get_shape(tp, &sh) < 0) {
            fprintf(stderr, "tag %s: bad shape\n", v->tag);
            CHECK(0);
            return;
        }
        size_t dims[TENSOR_MAX_RANK];
        for (size_t i = 0; i < sh.rank; i++)
            dims[i] = (size_t)sh.dims[i];
        /* TensorBoard projects audio [k,2] (clip, label) to [k] when the
         * data class is unset. */
        if (plugin && strcmp(plugin, "audio") == 0 && sh.rank == 2 && dims[1] == 2 &&
            data_class == 0)
            sh.rank = 1;
        set_type(t, tensor_dtype_name(tp->dtype), dims, sh.rank);
        if (tp->dtype == TENSORBOARD__DATA_TYPE__DT_STRING) {
            const ProtobufCBinaryData *s;
            size_t n;
            if (tensor_strings(tp, &s, &n) == 0) {
                strings = cJSON_CreateArray();
                for (size_t i = 0; i < n; i++) {
                    char *c = s[i].len ? strndup((const char *)s[i].data, s[i].len) : strdup("");
                    cJSON_AddItemToArray(strings, cJSON_CreateString(c));
                    free(c);
                }
            }
        } else {
            double *d;
            size_t n;
            if (tensor_to_doubles(tp, &d, &n) == 0) {
                if (n == 1) {
                    scalar = d[0];
                    have_scalar = true;
                }
                free(d);
            }
        }
        break;
    }
    default:
        /* No data. hparams values get an empty DT_FLOAT [0] tensor from
         * TensorBoard unless their data class is already set. */
        if (hparams && (!md || md->data_class == 0)) {
            set_type(t, "DT_FLOAT", (size_t[]){0}, 1);
            break;
        }
        return;
    }
    cJSON_AddItemToArray(cJSON_GetObjectItem(t, "steps"), cJSON_CreateNumber((double)step));
    cJSON_AddItemToArray(cJSON_GetObjectItem(t, "wall_times"), cJSON_CreateNumber(wall_time));
    cJSON_AddItemToArray(cJSON_GetObjectItem(t, "scalars"),
                         have_scalar ? cJSON_CreateNumber(scalar) : cJSON_CreateNull());
    cJSON_AddItemToArray(cJSON_GetObjectItem(t, "strings"),
                         strings ? strings : cJSON_CreateNull());
}

static void read_file(const char *path, cJSON *run)
{
    record_reader *r;
    int rc = record_reader_open(&r, path, 0);
    if (rc < 0) {
        fprintf(stderr, "%s: open: %s\n", path, strerror(-rc));
        CHECK(0);
        return;
    }
    Tensorboard__Event *ev;
    int records = 0;
    while ((rc = record_reader_next_event(r, &ev)) == 1) {
        if (records == 0)
            CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION);
        if (ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY) {
            for (size_t i = 0; i < ev->summary->n_value; i++)
                add_value(run, ev->summary->value[i], ev->step, ev->wall_time);
        }
        records++;
        event_free(ev);
    }
    if (rc != 0 || record_reader_fault(r) != RECORD_FAULT_NONE) {
        fprintf(stderr, "%s: stopped at %" PRIu64 ": rc %d, %s\n", path,
                record_reader_offset(r), rc, record_fault_str(record_reader_fault(r)));
        CHECK(0);
    }
    CHECK(records > 0);
    record_reader_free(r);
}

/* Every directory holding a file whose name contains "tfevents" is a run,
 * named by its path under root ("." for root); files in name order. */
static void scan(const char *root, const char *rel, cJSON *runs)
{
    char dir[4096];
    if (strcmp(rel, ".") == 0)
        snprintf(dir, sizeof dir, "%s", root);
    else
        snprintf(dir, sizeof dir, "%s/%s", root, rel);
    DIR *d = opendir(dir);
    if (!d) {
        CHECK(0);
        return;
    }
    char *files[256], *subdirs[256];
    size_t nf = 0, nd = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && nd < 256)
            subdirs[nd++] = strdup(de->d_name);
        else if (S_ISREG(st.st_mode) && strstr(de->d_name, "tfevents") && nf < 256)
            files[nf++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(files, nf, sizeof files[0], cmp_str);
    qsort(subdirs, nd, sizeof subdirs[0], cmp_str);
    if (nf > 0) {
        cJSON *run = cJSON_AddObjectToObject(runs, rel);
        for (size_t i = 0; i < nf; i++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            read_file(path, run);
        }
    }
    for (size_t i = 0; i < nd; i++) {
        char sub[4096];
        if (strcmp(rel, ".") == 0)
            snprintf(sub, sizeof sub, "%s", subdirs[i]);
        else
            snprintf(sub, sizeof sub, "%s/%s", rel, subdirs[i]);
        scan(root, sub, runs);
    }
    for (size_t i = 0; i < nf; i++)
        free(files[i]);
    for (size_t i = 0; i < nd; i++)
        free(subdirs[i]);
}

static void flatten_strings(const cJSON *j, cJSON *out)
{
    if (cJSON_IsString(j)) {
        cJSON_AddItemToArray(out, cJSON_CreateString(j->valuestring));
    } else if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) flatten_strings(e, out);
    } else {
        /* Non-UTF-8 text appears as {"sha256", "size"}: not in fixtures. */
        cJSON_AddItemToArray(out, cJSON_CreateNull());
    }
}

static bool same_numbers(const cJSON *a, const cJSON *b)
{
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    for (int i = 0; i < cJSON_GetArraySize(a); i++)
        if (cJSON_GetNumberValue(cJSON_GetArrayItem(a, i)) !=
            cJSON_GetNumberValue(cJSON_GetArrayItem(b, i)))
            return false;
    return true;
}

static void compare_tag(const char *what, const char *run, const char *tag,
                        const cJSON *want, const cJSON *got)
{
    char *ws, *gs;
    const cJSON *wsteps = cJSON_GetObjectItem(want, "steps");
    if (!cJSON_Compare(wsteps, cJSON_GetObjectItem(got, "steps"), true)) {
        ws = cJSON_PrintUnformatted(wsteps);
        gs = cJSON_PrintUnformatted(cJSON_GetObjectItem(got, "steps"));
        fprintf(stderr, "%s run %s tag %s: steps %s, want %s\n", what, run, tag, gs, ws);
        free(ws);
        free(gs);
        CHECK(0);
        return;
    }
    if (!same_numbers(cJSON_GetObjectItem(want, "wall_times"),
                      cJSON_GetObjectItem(got, "wall_times"))) {
        fprintf(stderr, "%s run %s tag %s: wall times differ\n", what, run, tag);
        CHECK(0);
    }
    const char *wplugin = cJSON_GetStringValue(cJSON_GetObjectItem(want, "plugin"));
    const char *gplugin = cJSON_GetStringValue(cJSON_GetObjectItem(got, "plugin"));
    if (gplugin && (!wplugin || strcmp(wplugin, gplugin) != 0)) {
        fprintf(stderr, "%s run %s tag %s: plugin %s, want %s\n", what, run, tag, gplugin,
                wplugin ? wplugin : "(none)");
        CHECK(0);
    }
    /* dtype and shape of the first tensor (legacy histograms excepted). */
    if (cJSON_GetArraySize(wsteps) > 0 && !cJSON_GetObjectItem(got, "legacy_histo")) {
        const cJSON *wshape = cJSON_GetObjectItem(want, "shape");
        const cJSON *wshapes = cJSON_GetObjectItem(want, "shapes");
        if (wshapes)
            wshape = cJSON_GetArrayItem(wshapes, 0);
        const char *wd = cJSON_GetStringValue(cJSON_GetObjectItem(want, "dtype"));
        const char *gd = cJSON_GetStringValue(cJSON_GetObjectItem(got, "dtype"));
        if (!wd || !gd || strcmp(wd, gd) != 0 ||
            !cJSON_Compare(wshape, cJSON_GetObjectItem(got, "shape"), true)) {
            gs = cJSON_PrintUnformatted(cJSON_GetObjectItem(got, "shape"));
            ws = cJSON_PrintUnformatted(wshape);
            fprintf(stderr, "%s run %s tag %s: %s %s, want %s %s\n", what, run, tag,
                    gd ? gd : "?", gs, wd ? wd : "?", ws);
            free(ws);
            free(gs);
            CHECK(0);
        }
    }
    const cJSON *wvalues = cJSON_GetObjectItem(want, "values");
    if (wplugin && strcmp(wplugin, "scalars") == 0) {
        const cJSON *gvalues = cJSON_GetObjectItem(got, "scalars");
        for (int i = 0; i < cJSON_GetArraySize(wvalues); i++) {
            const cJSON *wv = cJSON_GetArrayItem(wvalues, i);
            const cJSON *gv = cJSON_GetArrayItem(gvalues, i);
            if (!cJSON_IsNumber(gv) || !cJSON_IsNumber(wv) ||
                wv->valuedouble != gv->valuedouble) {
                fprintf(stderr, "%s run %s tag %s: scalar %d differs (%.17g vs %.17g)\n",
                        what, run, tag, i, cJSON_GetNumberValue(gv), cJSON_GetNumberValue(wv));
                CHECK(0);
            }
        }
    }
    if (wplugin && strcmp(wplugin, "text") == 0) {
        const cJSON *gvalues = cJSON_GetObjectItem(got, "strings");
        for (int i = 0; i < cJSON_GetArraySize(wvalues); i++) {
            cJSON *flat = cJSON_CreateArray();
            flatten_strings(cJSON_GetArrayItem(wvalues, i), flat);
            if (!cJSON_Compare(flat, cJSON_GetArrayItem(gvalues, i), true)) {
                fprintf(stderr, "%s run %s tag %s: text %d differs\n", what, run, tag, i);
                CHECK(0);
            }
            cJSON_Delete(flat);
        }
    }
}

static void compare_runs(const char *what, const cJSON *want, const cJSON *got)
{
    const cJSON *run, *tag;
    cJSON_ArrayForEach(run, got) {
        if (!cJSON_GetObjectItemCaseSensitive(want, run->string)) {
            fprintf(stderr, "%s: run %s is not expected\n", what, run->string);
            CHECK(0);
        }
    }
    cJSON_ArrayForEach(run, want) {
        const cJSON *grun = cJSON_GetObjectItemCaseSensitive(got, run->string);
        if (!grun) {
            fprintf(stderr, "%s: run %s missing\n", what, run->string);
            CHECK(0);
            continue;
        }
        cJSON_ArrayForEach(tag, grun) {
            if (!cJSON_GetObjectItemCaseSensitive(run, tag->string)) {
                fprintf(stderr, "%s run %s: tag %s is not expected\n", what, run->string,
                        tag->string);
                CHECK(0);
            }
        }
        cJSON_ArrayForEach(tag, run) {
            const cJSON *gtag = cJSON_GetObjectItemCaseSensitive(grun, tag->string);
            if (!gtag) {
                fprintf(stderr, "%s run %s: tag %s missing\n", what, run->string, tag->string);
                CHECK(0);
                continue;
            }
            compare_tag(what, run->string, tag->string, tag, gtag);
        }
    }
}

static void check_fixture(const char *shared, const char *writer, const char *kind)
{
    char path[4096], root[4096];
    snprintf(path, sizeof path, "%s/golden/expected/%s-%s.json", shared, writer, kind);
    snprintf(root, sizeof root, "%s/golden/writers/%s/%s", shared, writer, kind);
    size_t len;
    char *text = test_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "no %s\n", path);
        CHECK(0);
        return;
    }
    cJSON *expected = cJSON_ParseWithLength(text, len);
    free(text);
    REQUIRE(expected);
    cJSON *runs = cJSON_CreateObject();
    scan(root, ".", runs);
    char what[256];
    snprintf(what, sizeof what, "%s/%s", writer, kind);
    compare_runs(what, cJSON_GetObjectItem(expected, "runs"), runs);
    cJSON_Delete(runs);
    cJSON_Delete(expected);
}

static void writer_fixtures(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: writer fixtures not read");
    static const char *const writers[] = {"tensorboard", "tensorboardX", "tfevents-r"};
    int fixtures = 0;
    for (size_t w = 0; w < 3; w++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/golden/writers/%s", shared, writers[w]);
        DIR *d = opendir(dir);
        REQUIRE(d);
        char *kinds[64];
        size_t nk = 0;
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.' && nk < 64)
                kinds[nk++] = strdup(de->d_name);
        closedir(d);
        qsort(kinds, nk, sizeof kinds[0], cmp_str);
        for (size_t k = 0; k < nk; k++) {
            int before = test_failures_;
            check_fixture(shared, writers[w], kinds[k]);
            printf("  %s/%s: %s\n", writers[w], kinds[k],
                   test_failures_ == before ? "ok" : "FAIL");
            fixtures++;
            free(kinds[k]);
        }
    }
    CHECK_EQ(fixtures, 20);
}

TEST_MAIN(TEST(writer_fixtures))
