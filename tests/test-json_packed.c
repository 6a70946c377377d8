/* json_packed: a packed array ({"f64": "<base64>"}) is another spelling
 * of the numbers of an array: for random data of every element type, in
 * every place an array of numbers is taken, the line with the packed form
 * and the line with the numbers as text must give the same values byte for
 * byte (tag, metadata, body) or the same refusal. Then the packed form's
 * own errors and its limit. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>

#include "b64.h"
#include "json_decode.h"
#include "json_packed.h"
#include "test.h"

static uint32_t seed = 2026;

static uint32_t xorshift(void)
{
    uint32_t x = seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return seed = x;
}

/* A growing string (test lines reach megabytes). */
struct str {
    char *p;
    size_t len, cap;
};

static void put(struct str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    REQUIRE(n >= 0);
    if (s->len + (size_t)n + 1 > s->cap) {
        s->cap = (s->len + (size_t)n + 1) * 2;
        s->p = realloc(s->p, s->cap);
        REQUIRE(s->p != NULL);
    }
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

enum elem { U8, I16, F32, F64 };
static const char *const elem_key[] = {"u8", "i16", "f32", "f64"};
static const size_t elem_size[] = {1, 2, 4, 8};

/* The values x[0..n) as a packed array of type e and as JSON numbers (each
 * x must be exactly representable in e). */
static void put_packed(struct str *s, enum elem e, const double *x, size_t n)
{
    size_t bytes = n * elem_size[e];
    uint8_t *raw = malloc(bytes + 1);
    char *text = malloc(b64_encoded_size(bytes) + 1);
    REQUIRE(raw && text);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = raw + i * elem_size[e];
        uint64_t u = 0;
        if (e == U8) {
            u = (uint8_t)x[i];
        } else if (e == I16) {
            u = (uint16_t)(int16_t)x[i];
        } else if (e == F32) {
            float f = (float)x[i];
            uint32_t w;
            memcpy(&w, &f, 4);
            u = w;
        } else {
            memcpy(&u, &x[i], 8);
        }
        for (size_t k = 0; k < elem_size[e]; k++)
            p[k] = (uint8_t)(u >> (8 * k));
    }
    size_t k = b64_encode(raw, bytes, text);
    text[k] = '\0';
    put(s, "{\"%s\":\"%s\"}", elem_key[e], text);
    free(raw);
    free(text);
}

static void put_numbers(struct str *s, const double *x, size_t n)
{
    put(s, "[");
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            put(s, "%sNaN", i ? "," : "");
        else if (isinf(x[i]))
            put(s, "%s%sInfinity", i ? "," : "", x[i] < 0 ? "-" : "");
        else
            put(s, "%s%.17g", i ? "," : "", x[i]);
    }
    put(s, "]");
}

/* A line whose typed value holds the array at "@" of tmpl (printf-free). */
static char *line_with(const char *tmpl, bool packed, enum elem e, const double *x, size_t n)
{
    struct str s = {0};
    const char *at = strchr(tmpl, '@');
    if (!at)
        abort();
    put(&s, "%.*s", (int)(at - tmpl), tmpl);
    if (packed)
        put_packed(&s, e, x, n);
    else
        put_numbers(&s, x, n);
    put(&s, "%s", at + 1);
    return s.p;
}

/* Both lines decode to the same result. */
static void same_result(const char *a, const char *b)
{
    struct request ma, mb;
    char ea[REQUEST_ERROR_SIZE], eb[REQUEST_ERROR_SIZE];
    request_init(&ma);
    request_init(&mb);
    int ra = jd_decode(&ma, a, strlen(a), ea, sizeof ea);
    int rb = jd_decode(&mb, b, strlen(b), eb, sizeof eb);
    CHECK_EQ(ra, rb);
    if (ra != rb)
        fprintf(stderr, "packed: %d %s\nnumbers: %d %s\nline %.200s\n", ra, ea, rb, eb, a);
    if (ra == 0 && rb == 0) {
        CHECK_EQ(ma.n_values, mb.n_values);
        for (size_t i = 0; i < ma.n_values && i < mb.n_values; i++) {
            const struct summary_value *va = &ma.values[i].value, *vb = &mb.values[i].value;
            CHECK(va->tag.len == vb->tag.len && !memcmp(va->tag.data, vb->tag.data, va->tag.len));
            CHECK(va->metadata.len == vb->metadata.len &&
                  !memcmp(va->metadata.data, vb->metadata.data, va->metadata.len));
            CHECK(va->body.len == vb->body.len &&
                  !memcmp(va->body.data, vb->body.data, va->body.len));
        }
    } else {
        CHECK_STR(ea, eb);
    }
    request_done(&ma);
    request_done(&mb);
}

/* One random value of type e (exactly representable in it); sometimes a
 * non-finite one for the floating types. */
static double random_of(enum elem e, double scale)
{
    uint32_t r = xorshift();
    switch (e) {
    case U8:
        return r & 255;
    case I16:
        return (int16_t)(r & 0xffff);
    case F32:
        if (r % 1000 == 0)
            return r & 1024 ? NAN : INFINITY;
        return (float)(((double)r / 4294967296.0 * 2 - 1) * scale);
    default:
        if (r % 1000 == 0)
            return r & 1024 ? -INFINITY : NAN;
        return ((double)r / 4294967296.0 * 2 - 1) * scale * (1 + (double)xorshift() / 1e10);
    }
}

static void packed_equals_numbers(void)
{
    /* Each template takes the array at '@'; shapes fit the counts below. */
    static const struct {
        const char *tmpl;
        size_t n;
        double scale;
    } places[] = {
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"h\":{\"$histogram\":{\"values\":@}}}}", 0, 5},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"h\":{\"$histogram\":{\"values\":@,"
         "\"bucket_count\":7}}}}", 0, 1e6},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"h\":{\"$histogram\":{\"edges\":[0,1,2,3],"
         "\"counts\":@}}}}", 3, 100},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"im\":{\"$image\":{\"pixels\":@,"
         "\"shape\":[4,5,3],\"dtype\":\"uint8\"}}}}", 60, 1},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"im\":{\"$image\":{\"pixels\":@,"
         "\"shape\":[2,3,4,1]}}}}", 24, 1.5},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"a\":{\"$audio\":{\"samples\":@,"
         "\"shape\":[50,2],\"sample_rate\":8000}}}}", 100, 1.2},
        {"{\"logdir\":\"e\",\"step\":1,\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\","
         "\"numbers\":@,\"shape\":[2,5],\"dtype\":\"double\"}}}}", 10, 1e3},
    };
    double *x = malloc(20000 * sizeof *x);
    REQUIRE(x != NULL);
    for (int round = 0; round < 24; round++) {
        for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
            for (int e = U8; e <= F64; e++) {
                size_t n = places[p].n ? places[p].n
                                       : (round < 4 ? (size_t)round : xorshift() % 20000);
                for (size_t i = 0; i < n; i++)
                    x[i] = random_of((enum elem)e, places[p].scale);
                char *a = line_with(places[p].tmpl, true, (enum elem)e, x, n);
                char *b = line_with(places[p].tmpl, false, (enum elem)e, x, n);
                same_result(a, b);
                free(a);
                free(b);
            }
        }
    }
    free(x);
}

/* The packed form's own refusals. */
static void refusals(void)
{
    static const struct {
        const char *packed;
        int err;
        const char *phrase;
    } bad[] = {
        {"{}", -EINVAL, "one key, \"u8\""},
        {"{\"f16\":\"AAAA\"}", -EINVAL, "one key"},
        {"{\"f64\":\"AAAAAAAAAAA=\",\"u8\":\"\"}", -EINVAL, "one key"},
        {"{\"f64\":[1,2]}", -EINVAL, "must be a base64 string"},
        {"{\"f64\":\"AAAA AAAAAAA=\"}", -EINVAL, "not valid base64"},
        {"{\"f64\":\"AAAAAAA=\"}", -EINVAL, "holds 5 bytes, not a whole number of 8-byte"},
        {"{\"i16\":\"AAA=\"}", -EINVAL, "holds 2 bytes"},   /* valid: control below */
        {"{\"f32\":\"AAAAAA==\"}", -EINVAL, "holds 4 bytes"},
    };
    char err[REQUEST_ERROR_SIZE];
    struct request m;
    request_init(&m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct str s = {0};
        put(&s, "{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"samples\":%s,"
                "\"sample_rate\":8000}}}}", bad[i].packed);
        int r = jd_decode(&m, s.p, s.len, err, sizeof err);
        bool want_ok = strstr(bad[i].phrase, "holds 2") || strstr(bad[i].phrase, "holds 4");
        if (want_ok) {
            CHECK_EQ(r, 0);   /* one i16, one f32: valid */
        } else if (r != bad[i].err || !strstr(err, bad[i].phrase)) {
            fprintf(stderr, "%s\n  want %d \"%s\", got %d \"%s\"\n", s.p, bad[i].err,
                    bad[i].phrase, r, err);
            test_failures_++;
        }
        free(s.p);
    }
    request_done(&m);
}

/* NaN in packed histogram data is refused with the number form's
 * sentence; in pixels it is clamped to 0 as a bare NaN is (covered by
 * packed_equals_numbers); here the sentence itself. */
static void nonfinite_histogram(void)
{
    double x[3] = {1, NAN, 2};
    char *a = line_with("{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":@}}}}",
                        true, F64, x, 3);
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    CHECK_EQ(jd_decode(&m, a, strlen(a), err, sizeof err), -EINVAL);
    CHECK(strstr(err, "NaN or Inf") != NULL);
    request_done(&m);
    free(a);
}

/* The bare-token scan skips strings with memchr when they hold no
 * backslash, byte by byte when they do: a quote escaped inside a string
 * must not end it there, with or without a long string before it. */
static void nonfinite_after_strings(void)
{
    struct str s = {0};
    put(&s, "{\"logdir\":\"e\",\"step\":1,\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\","
            "\"numbers\":{\"u8\":\"");
    for (int i = 0; i < 5000; i++)
        put(&s, "AAAA");
    put(&s, "\"}}},\"t\":\"a\\\"NaN, \\\\\",\"x\":NaN,\"u\":\"Infinity\\\"\",\"y\":-Infinity}}");
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    int r = jd_decode(&m, s.p, s.len, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ(r, 0);
    CHECK_EQ(m.n_values, 5);
    size_t scalars = 0;
    for (size_t i = 0; i < m.n_values; i++) {
        double d;
        if (summary_is_plain_scalar(&m.values[i].value, &d)) {
            scalars++;
            CHECK(m.values[i].value.tag.data[0] == 'x' ? isnan(d) : d == -INFINITY);
        }
    }
    CHECK_EQ(scalars, 2);
    request_done(&m);
    free(s.p);
}

/* JSON_PACKED_MAX_ELEMENTS over the whole message: one array past it,
 * and two arrays of which the second passes it, are refused before the
 * block is allocated; at the limit, accepted. */
static void limit(void)
{
    size_t n = JSON_PACKED_MAX_ELEMENTS;
    size_t chars = b64_encoded_size(n);
    struct str s = {0};
    char err[REQUEST_ERROR_SIZE];
    struct request m;
    request_init(&m);
    for (int t = 0; t < 3; t++) {
        s.len = 0;
        size_t first = t == 0 ? n : t == 1 ? n + 3 : n - 3;
        size_t c1 = first / 3 * 4;   /* whole groups of "AAAA", then the padded rest */
        put(&s, "{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\","
                "\"numbers\":{\"u8\":\"");
        if (s.cap < s.len + chars + 200) {
            s.cap = s.len + chars + 200;
            s.p = realloc(s.p, s.cap);
            REQUIRE(s.p != NULL);
        }
        memset(s.p + s.len, 'A', c1);
        s.len += c1;
        s.p[s.len] = '\0';
        put(&s, "%s\"}}}", first % 3 == 1 ? "AA==" : first % 3 == 2 ? "AAA=" : "");
        if (t == 2)
            put(&s, ",\"d\":{\"$custom\":{\"plugin\":\"p\",\"numbers\":{\"u8\":\"AAAAAAAA\"}}}");
        put(&s, "}}");
        int r = jd_decode(&m, s.p, s.len, err, sizeof err);
        if (t == 0) {
            CHECK_EQ(r, 0);
        } else {
            CHECK_EQ(r, -EMSGSIZE);
            CHECK(strstr(err, "packed elements in one message") != NULL);
        }
    }
    free(s.p);
    request_done(&m);
}

TEST_MAIN(TEST(packed_equals_numbers), TEST(refusals), TEST(nonfinite_histogram),
          TEST(nonfinite_after_strings), TEST(limit))
