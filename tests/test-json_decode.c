/* json_decode: table-driven tests of real protocol lines. must_parse gives
 * the message each line must produce; must_not_parse the error each line
 * must get (errno and a phrase of the reason a person reads). */
#include <errno.h>
#include <math.h>

#include "json_decode.h"
#include "test.h"

struct good {
    const char *line;
    enum request_op op;
    const char *logdir;           /* NULL: none */
    enum logdir_step_mode mode;
    int64_t step;
    size_t n_values;
    const char *run0, *tag0;      /* first value, NULL to skip */
    const char *runN, *tagN;      /* last value */
    const char *id;               /* JSON text or NULL */
};

static const struct good must_parse[] = {
    {"{\"logdir\":\"exp1\",\"values\":{\"loss\":0.5}}", REQUEST_LOG, "exp1", LOGDIR_STEP_NEXT, 0,
     1, ".", "loss", ".", "loss", NULL},
    {"{\"v\":1,\"op\":\"log\",\"id\":7,\"logdir\":\"exp1\",\"step\":3,\"wall_time\":1700000000.25,"
     "\"values\":{\"loss\":0.5,\"train\":{\"acc\":0.9}}}",
     REQUEST_LOG, "exp1", LOGDIR_STEP_AT, 3, 2, ".", "loss", "train", "acc", "7"},
    {"{\"logdir\":\"./a//b/../c/\",\"step\":\"current\",\"values\":{\"x\":\"some text\"}}",
     REQUEST_LOG, "a/c", LOGDIR_STEP_CURRENT, 0, 1, ".", "x", ".", "x", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"a/b\":1}}", REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".",
     "a/b", ".", "a/b", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"r1\":{\"r2\":{\"t\":1}}}}", REQUEST_LOG, "e",
     LOGDIR_STEP_NEXT, 0, 1, "r1/r2", "t", "r1/r2", "t", NULL},
    /* A run may be named like a typed value's fields: it never starts with '$'. */
    {"{\"logdir\":\"e\",\"values\":{\"r\":{\"values\":1,\"png\":2}}}", REQUEST_LOG, "e",
     LOGDIR_STEP_NEXT, 0, 2, "r", "values", "r", "png", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1,2,[3]],"
     "\"bucket_count\":3}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "h", ".", "h", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"edges\":[0,1,2],\"counts\":[1,2],"
     "\"display_name\":\"H\"}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "h", ".", "h", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[[0,1],[1,0]]}}}}", REQUEST_LOG,
     "e", LOGDIR_STEP_NEXT, 0, 1, ".", "i", ".", "i", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[0,1,2,3,4,5],\"shape\":[1,2,3],"
     "\"dtype\":\"uint8\"}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "i", ".", "i", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"samples\":[0,0.5,-0.5],"
     "\"sample_rate\":8000}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "a", ".", "a", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"t\":{\"$text\":{\"value\":[[\"a\",\"b\"],[\"c\",\"d\"]]}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "t", ".", "t", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"s\":{\"$scalar\":{\"value\":2,\"description\":\"d\"}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "s", ".", "s", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"mine\",\"content\":\"AAE=\","
     "\"strings\":[\"x\",\"y\"],\"data_class\":\"tensor\"}}}}",
     REQUEST_LOG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "c", ".", "c", NULL},
    {"{\"op\":\"step_get\",\"id\":\"q\",\"logdir\":\"e\"}", REQUEST_STEP_GET, "e",
     LOGDIR_STEP_NEXT, 0, 0, NULL, NULL, NULL, NULL, "\"q\""},
    {"{\"op\":\"step_set\",\"logdir\":\"e\",\"step\":41}", REQUEST_STEP_SET, "e", LOGDIR_STEP_AT,
     41, 0, NULL, NULL, NULL, NULL, NULL},
    {"{\"op\":\"flush\",\"sync\":true}", REQUEST_FLUSH, NULL, LOGDIR_STEP_NEXT, 0, 0, NULL, NULL,
     NULL, NULL, NULL},
    {"{\"op\":\"restart\",\"logdir\":\"e\",\"step\":10,\"run\":\"train\"}", REQUEST_RESTART, "e",
     LOGDIR_STEP_AT, 10, 0, NULL, NULL, NULL, NULL, NULL},
    {"{\"op\":\"hparams_config\",\"logdir\":\"e\",\"hparams\":[{\"name\":\"lr\",\"min\":0,"
     "\"max\":1},{\"name\":\"opt\",\"values\":[\"a\",\"b\"]}],\"metrics\":[{\"tag\":\"loss\"}]}",
     REQUEST_HPARAMS_CONFIG, "e", LOGDIR_STEP_NEXT, 0, 1, ".", "_hparams_/experiment", NULL, NULL,
     NULL},
    {"{\"op\":\"hparams_session_start\",\"logdir\":\"e\",\"run\":\"s1\",\"hparams\":{\"lr\":0.1,"
     "\"opt\":\"a\",\"bn\":true}}",
     REQUEST_HPARAMS_SESSION_START, "e", LOGDIR_STEP_NEXT, 0, 1, "s1",
     "_hparams_/session_start_info", NULL, NULL, NULL},
    {"{\"op\":\"hparams_session_end\",\"logdir\":\"e\",\"run\":\"s1\",\"status\":\"success\"}",
     REQUEST_HPARAMS_SESSION_END, "e", LOGDIR_STEP_NEXT, 0, 1, "s1", "_hparams_/session_end_info",
     NULL, NULL, NULL},
    {"  {\"op\":\"ping\"}  ", REQUEST_PING, NULL, LOGDIR_STEP_NEXT, 0, 0, NULL, NULL, NULL, NULL,
     NULL},
    {"{\"op\":\"stats\",\"id\":1.5}", REQUEST_STATS, NULL, LOGDIR_STEP_NEXT, 0, 0, NULL, NULL,
     NULL, NULL, "1.5"},
};

struct bad {
    const char *line;
    int err;
    const char *phrase;
    const char *id;   /* the id the error reply must carry, or NULL */
};

static const struct bad must_not_parse[] = {
    {"", -EBADMSG, "invalid JSON", NULL},
    {"{\"logdir\":\"e\",", -EBADMSG, "invalid JSON", NULL},
    {"[1,2]", -EBADMSG, "JSON object", NULL},
    {"{} {}", -EBADMSG, "extra data", NULL},
    {"{\"id\":3,\"op\":\"explode\"}", -EINVAL, "unknown op", "3"},
    {"{\"op\":7}", -EINVAL, "\"op\" must be a string", NULL},
    {"{\"v\":2,\"op\":\"ping\"}", -EINVAL, "protocol version", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":1},\"extra\":1}", -EINVAL, "unknown field \"extra\"",
     NULL},
    {"{\"logdir\":\"e\",\"logdir\":\"f\",\"values\":{\"x\":1}}", -EINVAL, "twice", NULL},
    {"{\"values\":{\"x\":1}}", -EINVAL, "needs \"logdir\"", NULL},
    {"{\"logdir\":\"e\"}", -EINVAL, "needs \"values\"", NULL},
    {"{\"op\":\"ping\",\"logdir\":\"e\"}", -EINVAL, "does not belong", NULL},
    {"{\"logdir\":5,\"values\":{\"x\":1}}", -EINVAL, "must be a string", NULL},
    {"{\"logdir\":\"/etc\",\"values\":{\"x\":1}}", -EINVAL, "absolute", NULL},
    {"{\"logdir\":\"a/../..\",\"values\":{\"x\":1}}", -EINVAL, "leave the root", NULL},
    {"{\"logdir\":\"$x\",\"values\":{\"x\":1}}", -EINVAL, "reserved", NULL},
    {"{\"logdir\":\"e\",\"values\":{}}", -EINVAL, "empty", NULL},
    {"{\"logdir\":\"e\",\"values\":[1]}", -EINVAL, "must be an object", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":true}}", -EINVAL, "true/false", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":null}}", -EINVAL, "null", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":[1,2]}}", -EINVAL, "array is not a value", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"$histogram\":{\"values\":[1]}}}", -EINVAL, "reserved",
     NULL},
    {"{\"logdir\":\"e\",\"values\":{\"r\":{}}}", -EINVAL, "holds no values", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"..\":{\"x\":1}}}", -EINVAL, "one directory name", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"a/b\":{\"x\":1}}}", -EINVAL, "one directory name", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":{\"$histogram\":{\"values\":[1]},\"y\":1}}}",
     -EINVAL, "exactly one key", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":{\"$mystery\":{}}}}", -EINVAL, "unknown type", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":{\"$scalar\":{\"value\":\"1\"}}}}", -EINVAL,
     "numeric \"value\"", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"x\":{\"$scalar\":{\"value\":1,\"colour\":1}}}}", -EINVAL,
     "unknown field \"colour\"", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{}}}}", -EINVAL, "needs either", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1,\"a\"]}}}}", -EINVAL,
     "must be numbers", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[[1,2],[3]]}}}}", -EINVAL,
     "rectangular", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"edges\":[0,1],\"counts\":[1,2]}}}}",
     -EINVAL, "k+1", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1],\"bucket_count\":-1}}}}",
     -EINVAL, "bucket_count", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"png\":\"not base64!\"}}}}", -EINVAL,
     "base64", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"png\":\"aGVsbG8=\"}}}}", -EINVAL,
     "image", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[1,2,3]}}}}", -EINVAL,
     "shape", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[1,2,3],\"shape\":[2,2]}}}}",
     -EINVAL, "shape holds 4", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[[300]],\"dtype\":\"uint8\"}}}}",
     -EINVAL, "0..255", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"samples\":[0.1]}}}}", -EINVAL,
     "sample_rate", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"wav\":\"aGVsbG8=\"}}}}", -EINVAL,
     "audio", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"numbers\":[1]}}}}", -EINVAL,
     "\"plugin\"", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\",\"numbers\":[1],"
     "\"data_class\":\"blob\"}}}}",
     -EINVAL, "data_class", NULL},
    {"{\"logdir\":\"e\",\"step\":-1,\"values\":{\"x\":1}}", -EINVAL, "\"step\" must be", NULL},
    {"{\"logdir\":\"e\",\"step\":1.5,\"values\":{\"x\":1}}", -EINVAL, "\"step\" must be", NULL},
    {"{\"logdir\":\"e\",\"step\":\"later\",\"values\":{\"x\":1}}", -EINVAL, "\"current\"", NULL},
    {"{\"logdir\":\"e\",\"wall_time\":\"now\",\"values\":{\"x\":1}}", -EINVAL, "wall_time",
     NULL},
    {"{\"id\":[1],\"op\":\"ping\"}", -EINVAL, "\"id\" must be", NULL},
    {"{\"op\":\"flush\",\"sync\":1}", -EINVAL, "true or false", NULL},
    {"{\"op\":\"step_set\",\"logdir\":\"e\"}", -EINVAL, "needs \"step\"", NULL},
    {"{\"op\":\"hparams_session_end\",\"logdir\":\"e\",\"status\":\"meh\"}", -EINVAL,
     "\"status\"", NULL},
    {"{\"op\":\"hparams_config\",\"logdir\":\"e\",\"hparams\":[{\"min\":0,\"max\":1}]}", -EINVAL,
     "needs a \"name\"", NULL},
    {"{\"op\":\"hparams_session_start\",\"logdir\":\"e\",\"hparams\":{\"x\":[1]}}", -EINVAL,
     "number, a string or a boolean", NULL},
    {"{\"logdir\":\"e\",\"values\":{\"t\":\"\xff\xfe\"}}", -EILSEQ, "UTF-8", NULL},
    {"{\"id\":\"abc\",\"logdir\":\"e\",\"values\":{\"x\":false}}", -EINVAL, "true/false",
     "\"abc\""},
};

static void test_must_parse(void)
{
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    for (size_t i = 0; i < sizeof must_parse / sizeof must_parse[0]; i++) {
        const struct good *g = &must_parse[i];
        int r = jd_decode(&m, g->line, strlen(g->line), err, sizeof err);
        if (r != 0) {
            fprintf(stderr, "must parse: %s\n  got %d: %s\n", g->line, r, err);
            test_failures_++;
            continue;
        }
        CHECK_EQ(m.op, g->op);
        CHECK_EQ(m.has_logdir, g->logdir != NULL);
        if (g->logdir)
            CHECK_STR(m.logdir, g->logdir);
        CHECK_EQ(m.n_values, g->n_values);
        if (g->op == REQUEST_LOG || g->op == REQUEST_STEP_SET || g->op == REQUEST_RESTART) {
            CHECK_EQ(m.step_mode, g->mode);
            if (g->mode == LOGDIR_STEP_AT)
                CHECK_EQ(m.step, g->step);
        }
        CHECK_EQ(m.has_id, g->id != NULL);
        if (g->id)
            CHECK_STR(m.id, g->id);
        if (g->run0 && m.n_values > 0) {
            CHECK_STR(m.values[0].run, g->run0);
            CHECK_EQ(m.values[0].value.tag.len, strlen(g->tag0));
            CHECK(memcmp(m.values[0].value.tag.data, g->tag0, strlen(g->tag0)) == 0);
            CHECK(m.values[0].value.metadata.len > 0);
            CHECK(m.values[0].value.body.len > 0);
        }
        if (g->runN && m.n_values > 0) {
            const struct request_value *v = &m.values[m.n_values - 1];
            CHECK_STR(v->run, g->runN);
            CHECK_EQ(v->value.tag.len, strlen(g->tagN));
            CHECK(memcmp(v->value.tag.data, g->tagN, strlen(g->tagN)) == 0);
        }
    }
    request_done(&m);
}

static void test_must_not_parse(void)
{
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    for (size_t i = 0; i < sizeof must_not_parse / sizeof must_not_parse[0]; i++) {
        const struct bad *b = &must_not_parse[i];
        int r = jd_decode(&m, b->line, strlen(b->line), err, sizeof err);
        if (r != b->err || !strstr(err, b->phrase)) {
            fprintf(stderr, "must not parse: %s\n  want %d \"...%s...\", got %d \"%s\"\n",
                    b->line, b->err, b->phrase, r, err);
            test_failures_++;
        }
        CHECK_EQ(m.has_id, b->id != NULL);
        if (b->id && m.has_id)
            CHECK_STR(m.id, b->id);
    }
    request_done(&m);
}

/* A typed value's content is what the summary builder makes of it: the
 * scalar typed form and the bare number give the same bytes. */
static void test_typed_equals_plain(void)
{
    struct request a, b;
    char err[REQUEST_ERROR_SIZE];
    request_init(&a);
    request_init(&b);
    const char *la = "{\"logdir\":\"e\",\"values\":{\"x\":0.25}}";
    const char *lb = "{\"logdir\":\"e\",\"values\":{\"x\":{\"$scalar\":{\"value\":0.25}}}}";
    REQUIRE(jd_decode(&a, la, strlen(la), err, sizeof err) == 0);
    REQUIRE(jd_decode(&b, lb, strlen(lb), err, sizeof err) == 0);
    CHECK_EQ(a.values[0].value.body.len, b.values[0].value.body.len);
    CHECK(memcmp(a.values[0].value.body.data, b.values[0].value.body.data,
                 a.values[0].value.body.len) == 0);
    request_done(&a);
    request_done(&b);
}

/* The value of the scalar named tag in m, or -1 when there is none. */
static double scalar_at(const struct request *m, const char *run, const char *tag, bool *found)
{
    *found = false;
    for (size_t i = 0; i < m->n_values; i++) {
        const struct request_value *v = &m->values[i];
        double d;
        if (strcmp(v->run, run) == 0 && v->value.tag.len == strlen(tag) &&
            memcmp(v->value.tag.data, tag, strlen(tag)) == 0 &&
            summary_is_plain_scalar(&v->value, &d)) {
            *found = true;
            return d;
        }
    }
    return -1;
}

/* Bare NaN, Infinity and -Infinity (the extension of JSON): the scalars
 * they stand for, wherever they are among other numbers, through the full
 * path and through jd_decode (fast path first). */
static void test_nonfinite_scalars(void)
{
    static const char *const lines[] = {
        "{\"logdir\":\"e\",\"step\":3,\"values\":{\"a\":NaN,\"b\":Infinity,"
        "\"c\":-Infinity,\"d\":1.5,\"NaN\":-2,\"r\":{\"e\":NaN,\"f\":4,"
        "\"g\":{\"$scalar\":{\"value\":-Infinity}}},\"s\":\"NaN, Infinity\"}}",
        "{ \"logdir\" : \"e\" , \"step\":3,\"values\" : {\"NaN\" : -2,\"a\":NaN ,\"b\":"
        "Infinity\t,\"c\":-Infinity,\"d\" :1.5,\"r\":{\"e\":NaN,\"g\":{\"$scalar\":{\"value\":"
        "\"-Infinity\"}},\"f\":4},\"s\":\"NaN, Infinity\"}}",
    };
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    for (size_t i = 0; i < 2 * sizeof lines / sizeof lines[0]; i++) {
        const char *line = lines[i / 2];
        int r = i % 2 ? jd_decode(&m, line, strlen(line), err, sizeof err)
                      : jd_decode_full(&m, line, strlen(line), err, sizeof err);
        if (r != 0)
            fprintf(stderr, "%s\n  -> %s\n", line, err);
        REQUIRE(r == 0);
        CHECK_EQ(m.n_values, 9);   /* and the text "s" */
        CHECK_EQ(m.step, 3);
        bool found;
        CHECK(isnan(scalar_at(&m, ".", "a", &found)) && found);
        CHECK(scalar_at(&m, ".", "b", &found) == INFINITY && found);
        CHECK(scalar_at(&m, ".", "c", &found) == -INFINITY && found);
        CHECK(scalar_at(&m, ".", "d", &found) == 1.5 && found);
        CHECK(scalar_at(&m, ".", "NaN", &found) == -2 && found);
        CHECK(isnan(scalar_at(&m, "r", "e", &found)) && found);
        CHECK(scalar_at(&m, "r", "f", &found) == 4 && found);
        CHECK(scalar_at(&m, "r", "g", &found) == -INFINITY && found);
    }
    request_done(&m);
}

/* Elsewhere the kind's own rule decides, as for the binary protocol's
 * doubles: histogram data with NaN or an infinity is refused (TensorBoard
 * cannot bucket it), a NaN pixel or sample is dark or silent (0, like
 * any value below the range), an infinite one clipped to the range. */
static void test_nonfinite_kinds(void)
{
    static const struct {
        const char *a, *b;   /* b: NULL, a must be refused; else a == b */
    } cases[] = {
        {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1,NaN,2]}}}}", NULL},
        {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1,-Infinity]}}}}",
         NULL},
        {"{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"edges\":[0,Infinity],"
         "\"counts\":[1]}}}}",
         NULL},
        {"{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[[NaN,Infinity],"
         "[-Infinity,0.5]]}}}}",
         "{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[[0,1],[0,0.5]]}}}}"},
        {"{\"logdir\":\"e\",\"values\":{\"s\":{\"$audio\":{\"samples\":[NaN,Infinity,"
         "-Infinity,0.5],\"sample_rate\":8000}}}}",
         "{\"logdir\":\"e\",\"values\":{\"s\":{\"$audio\":{\"samples\":[0,1,-1,0.5],"
         "\"sample_rate\":8000}}}}"},
    };
    struct request a, b;
    char err[REQUEST_ERROR_SIZE];
    request_init(&a);
    request_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = jd_decode(&a, cases[i].a, strlen(cases[i].a), err, sizeof err);
        if (!cases[i].b) {
            CHECK_EQ(r, -EINVAL);
            CHECK(strstr(err, "NaN or Inf") || strstr(err, "finite"));
            continue;
        }
        if (r != 0)
            fprintf(stderr, "%s\n  -> %s\n", cases[i].a, err);
        REQUIRE(r == 0);
        REQUIRE(jd_decode(&b, cases[i].b, strlen(cases[i].b), err, sizeof err) == 0);
        REQUIRE(a.n_values == 1 && b.n_values == 1);
        CHECK_EQ(a.values[0].value.body.len, b.values[0].value.body.len);
        CHECK(memcmp(a.values[0].value.body.data, b.values[0].value.body.data,
                     a.values[0].value.body.len) == 0);
    }
    request_done(&a);
    request_done(&b);
}

/* What is not one of the three tokens stays invalid JSON, and the byte an
 * error names is the byte of the line as sent (the masked copy has the
 * same length); fields that need integers or finite numbers refuse them. */
static void test_nonfinite_refused(void)
{
    static const struct {
        const char *line, *phrase;
    } cases[] = {
        {"{\"logdir\":\"e\",\"values\":{\"x\":nan}}", "invalid JSON (at byte 29)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":-NaN}}", "invalid JSON (at byte 29)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":+Infinity}}", "invalid JSON (at byte 29)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":Infinityy}}", "invalid JSON (at byte 29)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":NaN1}}", "invalid JSON (at byte 29)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":-Infinity,\"y\":Inf}}",
         "invalid JSON (at byte 43)"},
        {"{\"logdir\":\"e\",\"values\":{NaN:1}}", "invalid JSON (at byte 26)"},
        {"{\"logdir\":\"e\",\"values\":{\"x\":NaN NaN}}", "invalid JSON (at byte 33)"},
        {"{\"logdir\":\"e\",\"step\":NaN,\"values\":{\"x\":1}}", "\"step\" must be"},
        {"{\"logdir\":\"e\",\"step\":Infinity,\"values\":{\"x\":1}}", "\"step\" must be"},
        {"{\"logdir\":\"e\",\"wall_time\":-Infinity,\"values\":{\"x\":1}}", "wall_time"},
        {"{\"id\":NaN,\"logdir\":\"e\",\"values\":{\"x\":1}}", "\"id\" must be finite"},
        {"{\"v\":Infinity,\"op\":\"ping\"}", "protocol version"},
    };
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = jd_decode(&m, cases[i].line, strlen(cases[i].line), err, sizeof err);
        if (r >= 0 || !strstr(err, cases[i].phrase)) {
            fprintf(stderr, "%s\n  want \"%s\", got %d \"%s\"\n", cases[i].line,
                    cases[i].phrase, r, err);
            test_failures_++;
        }
    }
    request_done(&m);
}

/* Limits: more values than REQUEST_MAX_VALUES is refused before building them all. */
static void test_value_limit(void)
{
    struct buf line;
    buf_init(&line, BUF_NO_CAP);
    REQUIRE(buf_append_str(&line, "{\"logdir\":\"e\",\"values\":{") == 0);
    for (unsigned i = 0; i <= REQUEST_MAX_VALUES; i++)
        REQUIRE(buf_printf(&line, "%s\"t%u\":1", i ? "," : "", i) == 0);
    REQUIRE(buf_append_str(&line, "}}") == 0);
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    int r = jd_decode(&m, (const char *)line.data, line.len, err, sizeof err);
    CHECK_EQ(r, -EMSGSIZE);
    CHECK(strstr(err, "values in one message") != NULL);
    request_done(&m);
    buf_free(&line);
}

TEST_MAIN(TEST(test_must_parse), TEST(test_must_not_parse), TEST(test_typed_equals_plain),
          TEST(test_value_limit), TEST(test_nonfinite_scalars), TEST(test_nonfinite_kinds),
          TEST(test_nonfinite_refused))
