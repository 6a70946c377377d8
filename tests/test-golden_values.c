/* Read every golden fixture with logdir_reader + value and compare the
 * loaded view with what TensorBoard itself kept (the fixture's expected
 * "runs"): runs, tags, plugin, data class, names, plugin content, dtype and
 * shape, steps after purging, wall times and values, all compared exactly.
 * Edge cases must also report their truncation/corruption at the expected
 * file and offset, and nothing else of that kind. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>

#include "logdir_reader.h"
#include "test.h"
#include "value_json.h"

struct point {
    int64_t step;
    double wall;
    cJSON *value;
    int dtype;
    struct tensor_shape shape;
};

struct tagacc {
    char *run, *tag;
    struct value_meta kept;
    struct point *pts;
    size_t n, cap;
};

struct problem {
    char *file;
    uint64_t offset;
    enum record_fault fault;
};

struct acc {
    struct tagacc *tags;
    size_t n, cap;
    struct problem *probs;
    size_t n_probs;
    cJSON *runs;    /* run name -> {} */
};

static struct tagacc *acc_tag(struct acc *a, const char *run, const char *tag)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->tags[i].run, run) == 0 && strcmp(a->tags[i].tag, tag) == 0)
            return &a->tags[i];
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->tags = realloc(a->tags, a->cap * sizeof *a->tags);
        if (!a->tags)
            abort();
    }
    struct tagacc *t = &a->tags[a->n++];
    memset(t, 0, sizeof *t);
    t->run = strdup(run);
    t->tag = strdup(tag);
    return t;
}

static void acc_free(struct acc *a)
{
    for (size_t i = 0; i < a->n; i++) {
        struct tagacc *t = &a->tags[i];
        for (size_t k = 0; k < t->n; k++)
            cJSON_Delete(t->pts[k].value);
        free(t->pts);
        free(t->run);
        free(t->tag);
        value_meta_done(&t->kept);
    }
    free(a->tags);
    for (size_t i = 0; i < a->n_probs; i++)
        free(a->probs[i].file);
    free(a->probs);
    cJSON_Delete(a->runs);
    memset(a, 0, sizeof *a);
}

static void purge(struct acc *a, const struct logdir_reader_item *it)
{
    for (size_t i = 0; i < a->n; i++) {
        struct tagacc *t = &a->tags[i];
        if (strcmp(t->run, it->run) != 0)
            continue;
        if (!it->purge_all_tags) {
            bool in_event = false;
            for (size_t k = 0; k < it->n_values; k++) {
                const Tensorboard__Summary__Value *sv = it->event->summary->value[k];
                if (strcmp(sv->tag, t->tag) == 0)
                    in_event = true;
            }
            if (!in_event)
                continue;
        }
        size_t w = 0;
        for (size_t k = 0; k < t->n; k++) {
            if (t->pts[k].step >= it->purge_step)
                cJSON_Delete(t->pts[k].value);
            else
                t->pts[w++] = t->pts[k];
        }
        t->n = w;
    }
}

static void acc_event(struct acc *a, const struct logdir_reader_item *it)
{
    if (it->purge)
        purge(a, it);
    for (size_t i = 0; i < it->n_values; i++) {
        const struct decoded_value *v = &it->values[i];
        const Tensorboard__Summary__Value *sv = it->event->summary->value[i];
        if (v->kind == VALUE_INVALID && !v->has_tensor && !v->meta.present)
            continue;
        if (!v->meta.present && !v->has_tensor)
            continue;
        struct tagacc *t = acc_tag(a, it->run, sv->tag);
        if (v->meta.present && !t->kept.present)
            REQUIRE(value_meta_copy(&t->kept, &v->meta) == 0);
        if (!v->has_tensor)
            continue;
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 16;
            t->pts = realloc(t->pts, t->cap * sizeof *t->pts);
            REQUIRE(t->pts);
        }
        struct point *p = &t->pts[t->n++];
        p->step = it->event->step;
        p->wall = it->event->wall_time;
        p->value = value_to_json(v);
        p->dtype = v->dtype;
        p->shape = v->shape;
        CHECK(p->value != NULL);
    }
}

static cJSON *shape_json(const struct tensor_shape *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < s->rank; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->dims[i]));
    return a;
}

/* The loaded view in the expected files' layout. */
static cJSON *acc_view(struct acc *a)
{
    cJSON *runs = cJSON_Duplicate(a->runs, 1);
    for (size_t i = 0; i < a->n; i++) {
        struct tagacc *t = &a->tags[i];
        cJSON *run = cJSON_GetObjectItemCaseSensitive(runs, t->run);
        if (!run)
            run = cJSON_AddObjectToObject(runs, t->run);
        cJSON *o = cJSON_AddObjectToObject(run, t->tag);
        const struct value_meta *m = &t->kept;
        cJSON_AddStringToObject(o, "plugin", m->present ? m->plugin : "");
        cJSON_AddStringToObject(o, "data_class", value_data_class_name(m->present ? m->data_class : 0));
        cJSON_AddStringToObject(o, "display_name", m->present ? m->display_name : "");
        cJSON_AddStringToObject(o, "description", m->present ? m->description : "");
        cJSON_AddItemToObject(o, "content", value_content_json(m->present ? m->plugin : "",
                                                               m->content, m->content_len));
        if (t->n == 0) {
            cJSON_AddNullToObject(o, "dtype");
            cJSON_AddNullToObject(o, "shape");
        } else {
            cJSON_AddStringToObject(o, "dtype", tensor_dtype_name(t->pts[0].dtype));
            cJSON_AddItemToObject(o, "shape", shape_json(&t->pts[0].shape));
            bool dt_differ = false, sh_differ = false;
            for (size_t k = 1; k < t->n; k++) {
                if (t->pts[k].dtype != t->pts[0].dtype)
                    dt_differ = true;
                if (t->pts[k].shape.rank != t->pts[0].shape.rank ||
                    memcmp(t->pts[k].shape.dims, t->pts[0].shape.dims,
                           t->pts[0].shape.rank * sizeof(int64_t)) != 0)
                    sh_differ = true;
            }
            if (dt_differ) {
                cJSON *d = cJSON_AddArrayToObject(o, "dtypes");
                for (size_t k = 0; k < t->n; k++)
                    cJSON_AddItemToArray(d, cJSON_CreateString(tensor_dtype_name(t->pts[k].dtype)));
            }
            if (sh_differ) {
                cJSON *d = cJSON_AddArrayToObject(o, "shapes");
                for (size_t k = 0; k < t->n; k++)
                    cJSON_AddItemToArray(d, shape_json(&t->pts[k].shape));
            }
        }
        cJSON *steps = cJSON_AddArrayToObject(o, "steps");
        cJSON *walls = cJSON_AddArrayToObject(o, "wall_times");
        cJSON *vals = cJSON_AddArrayToObject(o, "values");
        for (size_t k = 0; k < t->n; k++) {
            cJSON_AddItemToArray(steps, cJSON_CreateNumber((double)t->pts[k].step));
            cJSON_AddItemToArray(walls, value_json_number(t->pts[k].wall));
            cJSON_AddItemToArray(vals, cJSON_Duplicate(t->pts[k].value, 1));
        }
    }
    return runs;
}

/* Exact structural comparison (numbers bit-for-bit as doubles, objects as
 * key sets). On a difference, path gets where. */
static bool json_equal(const cJSON *a, const cJSON *b, char *path, size_t cap)
{
    if (!a || !b)
        return a == b;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        if (na != nb) {
            snprintf(path + strlen(path), cap - strlen(path), "[len %d vs %d]", na, nb);
            return false;
        }
        const cJSON *x = a->child, *y = b->child;
        for (int i = 0; x; i++, x = x->next, y = y->next) {
            size_t at = strlen(path);
            snprintf(path + at, cap - at, "[%d]", i);
            if (!json_equal(x, y, path, cap))
                return false;
            path[at] = '\0';
        }
        return true;
    }
    if (cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
            const cJSON *x;
            cJSON_ArrayForEach(x, a) if (!cJSON_GetObjectItemCaseSensitive(b, x->string)) {
                snprintf(path + strlen(path), cap - strlen(path), ".%s (only in ours)", x->string);
                return false;
            }
            cJSON_ArrayForEach(x, b) if (!cJSON_GetObjectItemCaseSensitive(a, x->string)) {
                snprintf(path + strlen(path), cap - strlen(path), ".%s (only in expected)", x->string);
                return false;
            }
            return false;
        }
        const cJSON *x;
        cJSON_ArrayForEach(x, a) {
            size_t at = strlen(path);
            snprintf(path + at, cap - at, ".%s", x->string);
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !json_equal(x, y, path, cap))
                return false;
            path[at] = '\0';
        }
        return true;
    }
    return true;   /* null, true, false: same type */
}

static const char *fault_code(enum record_fault f)
{
    switch (f) {
    case RECORD_FAULT_TRUNCATED: return "truncated-record";
    case RECORD_FAULT_LENGTH_CRC: return "bad-length-crc";
    case RECORD_FAULT_DATA_CRC: return "bad-data-crc";
    case RECORD_FAULT_NOT_EVENT: return "not-an-event";
    case RECORD_FAULT_LENGTH: return "bad-length";
    default: return "?";
    }
}

static bool is_framing_code(const char *code)
{
    return strcmp(code, "truncated-record") == 0 || strcmp(code, "bad-length-crc") == 0 ||
           strcmp(code, "bad-data-crc") == 0 || strcmp(code, "not-an-event") == 0;
}

static int compare_fixture(const char *golden, const char *expected_path)
{
    size_t len;
    char *text = test_read_file(expected_path, &len);
    if (!text) {
        fprintf(stderr, "%s: cannot read\n", expected_path);
        return 1;
    }
    cJSON *exp = cJSON_ParseWithLength(text, len);
    free(text);
    if (!exp) {
        fprintf(stderr, "%s: bad JSON\n", expected_path);
        return 1;
    }
    int fails = 0;
    const cJSON *fixture = cJSON_GetObjectItemCaseSensitive(exp, "fixture");
    char logdir[4096];
    snprintf(logdir, sizeof logdir, "%s/%s", golden, cJSON_GetStringValue(fixture));

    struct acc a;
    memset(&a, 0, sizeof a);
    a.runs = cJSON_CreateObject();
    logdir_reader *r = NULL;
    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = true;
    if (logdir_reader_open(&r, logdir, &opts) < 0) {
        fprintf(stderr, "%s: cannot open\n", logdir);
        fails++;
        goto out;
    }
    struct logdir_reader_item it;
    int rc;
    while ((rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_EVENT) {
            acc_event(&a, &it);
        } else {
            a.probs = realloc(a.probs, (a.n_probs + 1) * sizeof *a.probs);
            a.probs[a.n_probs].file = strdup(it.file);
            a.probs[a.n_probs].offset = it.offset;
            a.probs[a.n_probs].fault = it.fault;
            a.n_probs++;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "%s: reader error %d\n", logdir, rc);
        fails++;
    }
    for (size_t i = 0; i < logdir_reader_run_count(r); i++)
        if (!cJSON_GetObjectItemCaseSensitive(a.runs, logdir_reader_run_name(r, i)))
            cJSON_AddObjectToObject(a.runs, logdir_reader_run_name(r, i));

    cJSON *ours = acc_view(&a);
    cJSON *want = cJSON_GetObjectItemCaseSensitive(exp, "runs");
    const cJSON *reload_error = cJSON_GetObjectItemCaseSensitive(exp, "reload_error");
    if (reload_error && !cJSON_IsNull(reload_error)) {
        /* TensorBoard aborted its reload: runs it had not loaded yet are
         * empty there, while we (rightly) read them. Compare the run names
         * and the runs TensorBoard did load. */
        const cJSON *w;
        cJSON_ArrayForEach(w, want) {
            if (cJSON_GetArraySize(w) == 0 && cJSON_GetObjectItemCaseSensitive(ours, w->string))
                cJSON_ReplaceItemInObjectCaseSensitive(ours, w->string, cJSON_CreateObject());
        }
    }
    char path[1024] = "runs";
    if (!json_equal(ours, want, path, sizeof path)) {
        fprintf(stderr, "%s: loaded view differs at %s\n", expected_path, path);
        char *s = cJSON_PrintUnformatted(ours);
        fprintf(stderr, "  ours: %.2000s\n", s);
        free(s);
        fails++;
    }
    cJSON_Delete(ours);

    /* Framing problems: every expected one reported, nothing else. */
    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(exp, "expected_problems");
    const cJSON *p;
    size_t expected_framing = 0;
    cJSON_ArrayForEach(p, probs) {
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "code"));
        if (!code || !is_framing_code(code))
            continue;
        expected_framing++;
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "file"));
        double off = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "offset"));
        bool found = false;
        for (size_t i = 0; i < a.n_probs; i++)
            if (strcmp(a.probs[i].file, file) == 0 && (double)a.probs[i].offset == off &&
                strcmp(fault_code(a.probs[i].fault), code) == 0)
                found = true;
        if (!found) {
            fprintf(stderr, "%s: expected problem %s at %s @%.0f not reported\n",
                    expected_path, code, file, off);
            fails++;
        }
    }
    if (a.n_probs != expected_framing) {
        fprintf(stderr, "%s: %zu problems reported, %zu expected\n", expected_path,
                a.n_probs, expected_framing);
        for (size_t i = 0; i < a.n_probs; i++)
            fprintf(stderr, "  %s @%llu %s\n", a.probs[i].file,
                    (unsigned long long)a.probs[i].offset, fault_code(a.probs[i].fault));
        fails++;
    }
out:
    logdir_reader_free(r);
    acc_free(&a);
    cJSON_Delete(exp);
    return fails;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending in suffix (or directories when suffix is
 * NULL). */
static size_t list_dir(const char *dir, const char *suffix, char ***ret)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        size_t l = strlen(de->d_name);
        if (suffix && (l < strlen(suffix) || strcmp(de->d_name + l - strlen(suffix), suffix)))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_name);
    *ret = names;
    return n;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void test_writer_fixtures(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("shared golden data absent (TFEVENTS_SHARED unset or missing)");
    char golden[1024], dir[2048], path[4096];
    snprintf(golden, sizeof golden, "%s/golden", shared);
    snprintf(dir, sizeof dir, "%s/expected", golden);
    char **names;
    size_t n = list_dir(dir, ".json", &names);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int f = compare_fixture(golden, path);
        if (f)
            fprintf(stderr, "FIXTURE %s: %d difference(s)\n", names[i], f);
        CHECK_EQ(f, 0);
    }
    free_list(names, n);
}

static void test_minimal(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("shared golden data absent (TFEVENTS_SHARED unset or missing)");
    char golden[1024], path[4096];
    snprintf(golden, sizeof golden, "%s/golden", shared);
    snprintf(path, sizeof path, "%s/minimal/expected.json", golden);
    CHECK_EQ(compare_fixture(golden, path), 0);
}

static void test_edge_cases(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("shared golden data absent (TFEVENTS_SHARED unset or missing)");
    char golden[1024], dir[2048], path[4096];
    snprintf(golden, sizeof golden, "%s/golden", shared);
    snprintf(dir, sizeof dir, "%s/edge", golden);
    char **names;
    size_t n = list_dir(dir, NULL, &names);
    CHECK(n >= 16);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/expected.json", dir, names[i]);
        int f = compare_fixture(golden, path);
        if (f)
            fprintf(stderr, "EDGE %s: %d difference(s)\n", names[i], f);
        CHECK_EQ(f, 0);
    }
    free_list(names, n);
}

TEST_MAIN(TEST(test_writer_fixtures), TEST(test_minimal), TEST(test_edge_cases))
