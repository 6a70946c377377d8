/* The JSON decoder's fast path against its full (cJSON) path.
 *
 * jd_decode_fast() must accept a line only when jd_decode_full() accepts
 * it, and then fill the message identically (values byte for byte);
 * jd_decode() must answer exactly what jd_decode_full() answers, errors
 * included. Checked on a table of lines (each marked with the path it must
 * take, so the fast path cannot silently stop working), on numbers written
 * every way a client prints them, and on random mutations of typical
 * lines. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "json_decode.h"
#include "json_fast.h"
#include "test.h"

static bool buf_same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* The two messages say the same thing (what dispatch reads of them). */
static bool msg_same(const struct request *a, const struct request *b, const char *line,
                     size_t len)
{
    bool same = a->op == b->op && a->has_id == b->has_id && a->has_logdir == b->has_logdir &&
                a->has_run == b->has_run && a->step_mode == b->step_mode &&
                a->has_wall_time == b->has_wall_time && a->sync == b->sync &&
                a->n_values == b->n_values && strcmp(a->run, b->run) == 0;
    if (same && a->has_id)
        same = strcmp(a->id, b->id) == 0;
    if (same && a->has_logdir)
        same = strcmp(a->logdir, b->logdir) == 0;
    if (same && a->step_mode == LOGDIR_STEP_AT)
        same = a->step == b->step;
    if (same && a->has_wall_time)
        same = memcmp(&a->wall_time, &b->wall_time, sizeof a->wall_time) == 0;
    for (size_t i = 0; same && i < a->n_values; i++) {
        const struct request_value *x = &a->values[i], *y = &b->values[i];
        same = strcmp(x->run, y->run) == 0 && buf_same(&x->value.tag, &y->value.tag) &&
               buf_same(&x->value.metadata, &y->value.metadata) &&
               buf_same(&x->value.body, &y->value.body);
    }
    if (!same)
        fprintf(stderr, "messages differ for: %.*s\n", (int)len, line);
    return same;
}

/* Check the contract for one line; returns the fast path's answer (0
 * accepted, 1 declined) or -1 when the contract is broken. */
/* jd_decode() decodes into one message reused across every line, as the
 * daemon does, so that memory kept from earlier lines (n_kept) is
 * exercised by lines of every shape. */
static struct request both;

static int compare(const char *line, size_t len)
{
    struct request full, fast;
    char err_full[REQUEST_ERROR_SIZE], err_both[REQUEST_ERROR_SIZE];
    request_init(&full);
    request_init(&fast);
    int rf = jd_decode_full(&full, line, len, err_full, sizeof err_full);
    int rq = jd_decode_fast(&fast, line, len);
    int rb = jd_decode(&both, line, len, err_both, sizeof err_both);
    int verdict = rq;
    if (rq != 0 && rq != 1) {
        fprintf(stderr, "fast path returned %d for: %.*s\n", rq, (int)len, line);
        verdict = -1;
    } else if (rq == 0 && rf != 0) {
        fprintf(stderr, "fast path accepted what the full path refuses (%s): %.*s\n",
                err_full, (int)len, line);
        verdict = -1;
    } else if (rq == 0 && !msg_same(&fast, &full, line, len)) {
        verdict = -1;
    }
    if (rb != rf) {
        fprintf(stderr, "jd_decode %d, full path %d for: %.*s\n", rb, rf, (int)len, line);
        verdict = -1;
    } else if (rb < 0 && strcmp(err_both, err_full) != 0) {
        fprintf(stderr, "errors differ (\"%s\" / \"%s\") for: %.*s\n", err_both, err_full,
                (int)len, line);
        verdict = -1;
    } else if (rb < 0 && (both.has_id != full.has_id ||
                          (both.has_id && strcmp(both.id, full.id) != 0))) {
        fprintf(stderr, "error ids differ for: %.*s\n", (int)len, line);
        verdict = -1;
    } else if (rb == 0 && !msg_same(&both, &full, line, len)) {
        verdict = -1;
    }
    request_done(&full);
    request_done(&fast);
    return verdict;
}

static int compare_str(const char *line)
{
    return compare(line, strlen(line));
}

/* Lines the fast path must take. */
static const char *const fast_lines[] = {
    "{\"op\":\"log\",\"logdir\":\"exp1\",\"step\":3,\"values\":{\"loss\":0.5}}",
    "{\"logdir\":\"exp1\",\"values\":{\"loss\":0.5}}",
    ("{\"v\":1,\"op\":\"log\",\"id\":7,\"logdir\":\"a/b/../c\",\"step\":0,"
     "\"wall_time\":1700000000.25,\"values\":{\"loss\":0.5,\"acc\":0.9,\"lr\":1e-3}}"),
    "{\"values\":{\"x\":-0},\"logdir\":\"./x//y/\"}",
    "{\"values\":{\"x\":-0.0,\"y\":1E+2,\"z\":12345678901234567890},\"logdir\":\"d\"}",
    "  { \"logdir\" : \"d\" , \"values\" : { \"a b\" : 1 , \"c/d\" : 2 } }  \r",
    "{\"id\":\"req-42\",\"logdir\":\"d\",\"step\":\"current\",\"values\":{\"t\":3}}",
    "{\"id\":0,\"logdir\":\"d\",\"step\":999999999999999,\"values\":{\"t\":3}}",
    "{\"logdir\":\"d\",\"values\":{\"w\":4.9e-324,\"x\":1e-400,\"y\":1.7976931348623157e308}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":0.30000000000000004,\"u\":0.10000000149011612}}",
    "{\"logdir\":\"d\",\"values\":{\"same\":1,\"same\":2}}",
    "{\"logdir\":\"\xc3\xa9t\xc3\xa9\",\"values\":{\"\xe2\x82\xac\":1}}",
    "{\"v\":1.0,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"wall_time\":0,\"values\":{\"t\":1}}",
    /* the extension's bare NaN and infinities, as json.dumps writes them */
    "{\"logdir\":\"d\",\"values\":{\"t\":NaN}}",
    "{\"logdir\":\"d\",\"values\":{\"a\":Infinity,\"b\":-Infinity,\"c\":NaN,\"d\":1}}",
    "{\"logdir\": \"d\", \"values\": {\"loss\": NaN , \"x\": -Infinity }}",
};

/* Lines the fast path must decline (the full path decides). */
static const char *const slow_lines[] = {
    /* a number that overflows a double: refused by json_guard (the daemon
     * skips the guard for lines the fast path takes, so it must decline) */
    "{\"logdir\":\"d\",\"values\":{\"t\":1e400}}",
    "{\"logdir\":\"d\",\"values\":{\"u\":-1e400}}",
    /* valid, but another shape */
    "{\"logdir\":\"d\",\"values\":{\"run\":{\"t\":1}}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":\"some text\"}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":{\"$scalar\":{\"value\":1}}}}",
    "{\"logdir\":\"d\\u0041\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\\n\":1}}",
    "{\"op\":\"flush\",\"id\":1}",
    "{\"op\":\"ping\"}",
    "{\"logdir\":\"d\",\"step\":1e3,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"step\":1000000000000000,\"values\":{\"t\":1}}",
    "{\"id\":1.5,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"id\":-3,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"id\":\"caf\xc3\xa9\",\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "\n{\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":1.00000000000000000000000000000000000000000000000000000000000000001}}",
    /* errors */
    "",
    "{",
    "[]",
    "{}",
    "{\"logdir\":\"d\"}",
    "{\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"values\":{}}",
    "{\"logdir\":\"d\",\"values\":{\"\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"$t\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":true}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":null}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":[1]}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":01}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":+1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":.5}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":1.}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":1e}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":0x10}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":nan}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":-NaN}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":+Infinity}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":Inf}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":Infinit}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":NaNa}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":NaN1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":Infinity.5}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":-Infinity-1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":\"NaN\"}}",
    "{\"logdir\":\"d\",\"step\":NaN,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"step\":Infinity,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"wall_time\":NaN,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"wall_time\":Infinity,\"values\":{\"t\":1}}",
    "{\"id\":NaN,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"id\":-Infinity,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"v\":NaN,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":1,}}",
    "{\"logdir\":\"d\",\"values\":{\"t\":1}} x",
    "{\"logdir\":\"d\",\"values\":{\"t\":1}}}",
    "{\"logdir\":\"d\",\"logdir\":\"e\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"/abs\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"..\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"$x\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"\xff\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"values\":{\"\xc3\":1}}",
    "{\"logdir\":7,\"values\":{\"t\":1}}",
    "{\"v\":2,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"op\":\"lg\",\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"op\":\"log\",\"sync\":true,\"logdir\":\"d\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"step\":-1,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"step\":\"now\",\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"wall_time\":-1,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"wall_time\":1e10,\"values\":{\"t\":1}}",
    "{\"logdir\":\"d\",\"extra\":1,\"values\":{\"t\":1}}",
    ("{\"id\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"logdir\":\"d\",\"values\":{\"t\":1}}"),
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof fast_lines / sizeof fast_lines[0]; i++) {
        int r = compare_str(fast_lines[i]);
        if (r != 0)
            fprintf(stderr, "expected the fast path for: %s\n", fast_lines[i]);
        CHECK_EQ(r, 0);
    }
    for (size_t i = 0; i < sizeof slow_lines / sizeof slow_lines[0]; i++) {
        int r = compare_str(slow_lines[i]);
        if (r != 1)
            fprintf(stderr, "expected the full path for: %s\n", slow_lines[i]);
        CHECK_EQ(r, 1);
    }
}

/* Logdir names around the fast path's plain-name shortcut (one
 * printable ASCII component, copied as it is): the edges of its rules and
 * of logdir_normalize()'s. */
static void test_logdir_names(void)
{
    static const char *const names[] = {
        "a", "run-1_x", "a b", "~", "A.B", ".hid", "..", ".", "./a", "a/", "a//b", "$a",
        "a$", "a\\u007f", "x\\ty", "\\u00e9", "\xc3\xa9", "\xc3", "a\x7f", "\x7f",
    };
    char line[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(line, sizeof line, "{\"logdir\":\"%s\",\"values\":{\"t\":1}}", names[i]);
        CHECK(compare_str(line) >= 0);
    }
    /* 255 bytes is the longest component, 256 one too many. */
    for (size_t n = 250; n <= 260; n++) {
        char name[300];
        memset(name, 'n', n);
        name[n] = '\0';
        snprintf(line, sizeof line, "{\"logdir\":\"%s\",\"values\":{\"t\":1}}", name);
        int r = compare_str(line);
        CHECK_EQ(r, n <= 255 ? 0 : 1);
    }
}

/* A value printed with a tag's worth of variety survives the fast path's
 * own conversion exactly as cJSON's strtod reads it. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* d as clients print numbers: shortest round trip, float precision, fixed
 * and exponent notation. */
static void print_number(char *out, size_t size, int how, double d)
{
    switch (how % 9) {
    case 0: snprintf(out, size, "%.17g", d); break;
    case 1: snprintf(out, size, "%.16g", d); break;
    case 2: snprintf(out, size, "%.9g", d); break;
    case 3: snprintf(out, size, "%.7g", d); break;
    case 4: snprintf(out, size, "%g", d); break;
    case 5: snprintf(out, size, "%.3f", d); break;
    case 6: snprintf(out, size, "%.0f", d); break;
    case 7: snprintf(out, size, "%.12e", d); break;
    default: snprintf(out, size, "%.1e", d); break;
    }
}

static void test_numbers(void)
{
    int fast = 0, n = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next();
        double d;
        switch (i % 4) {
        case 0:   /* any finite double */
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d))
                d = 1.5;
            break;
        case 1:   /* a loss-like value */
            d = (double)(bits >> 11) / 9007199254740992.0 * pow(10, (int)(bits % 12) - 6);
            break;
        case 2:   /* a float32 widened */
            d = (double)(float)((double)(bits >> 11) / 9007199254740992.0);
            break;
        default:   /* an integer */
            d = (double)(int64_t)(bits >> (bits % 64));
            break;
        }
        char num[400];
        print_number(num, sizeof num, i, d);
        char line[1024];
        snprintf(line, sizeof line, "{\"logdir\":\"n\",\"values\":{\"x\":%s},\"wall_time\":%s}",
                 num, d >= 0 && d < 1e9 ? num : "1");
        int r = compare_str(line);
        CHECK(r >= 0);
        if (r < 0)
            return;
        /* cJSON reads at most 63 bytes of a number; longer ones (%.0f of
         * 1e300) are left to it, and so are numbers that overflow (%.1e of
         * 1.79e308 prints 1.8e+308), which the daemon's guard refuses. */
        if (strlen(num) <= 63 && isfinite(strtod(num, NULL))) {
            fast += r == 0;
            n++;
        }
    }
    /* Printed numbers are valid JSON: every such line takes the fast path. */
    CHECK(n > 100000);
    CHECK_EQ(fast, n);
}

/* A message kept across lines: a large value or many values, then small
 * ones; the kept memory stays bounded and never leaks into a result. */
static void test_reuse(void)
{
    static char line[200000];
    int k = snprintf(line, sizeof line, "{\"logdir\":\"r\",\"values\":{\"t\":{\"$text\":{\"value\":\"");
    memset(line + k, 'x', 100000);
    k += 100000;
    snprintf(line + k, sizeof line - (size_t)k, "\"}}}}");
    CHECK_EQ(compare_str(line), 1);
    CHECK(both.n_values == 1 && both.values[0].value.body.len > 100000);
    CHECK_EQ(compare_str("{\"logdir\":\"r\",\"values\":{\"t\":1}}"), 0);
    CHECK(both.values[0].value.body.cap <= REQUEST_KEEP_BYTES);
    k = snprintf(line, sizeof line, "{\"logdir\":\"r\",\"values\":{");
    for (int i = 0; i < 200; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, "%s\"t%d\":%d", i ? "," : "", i, i);
    snprintf(line + k, sizeof line - (size_t)k, "}}");
    CHECK_EQ(compare_str(line), 0);
    CHECK_EQ(both.n_values, 200);
    CHECK_EQ(compare_str("{\"logdir\":\"r\",\"values\":{\"u\":2,\"v\":3}}"), 0);
    CHECK(both.cap_values <= REQUEST_KEEP_VALUES && both.n_kept <= REQUEST_KEEP_VALUES);
    CHECK_EQ(compare_str("{\"logdir\":\"r\",\"values\":{\"a\":{\"b\":1},\"c\":2}}"), 1);
    CHECK_EQ(compare_str("{\"op\":\"flush\",\"id\":3}"), 1);
    CHECK_EQ(both.n_values, 0);
    CHECK(!both.has_logdir && both.has_id);
}

/* Random edits of typical lines: whatever the fast path accepts, the full
 * path accepts identically. */
static void test_mutations(void)
{
    static const char *const seeds[] = {
        ("{\"op\":\"log\",\"id\":12,\"logdir\":\"exp/run1\",\"step\":120,"
         "\"wall_time\":1700000000.5,\"values\":{\"loss\":0.125,\"acc\":0.75}}"),
        "{\"v\":1,\"id\":\"a\",\"logdir\":\"e\",\"step\":\"current\",\"values\":{\"t\":-1.5e-7}}",
        "{\"logdir\":\"x\",\"values\":{\"r\":{\"t\":1},\"u\":\"s\"}}",
        "{\"logdir\":\"x\",\"step\":7,\"values\":{\"a\":NaN,\"b\":-Infinity,\"c\":Infinity}}",
    };
    static const char alphabet[] =
        "{}[]:,\"\\ \t\r0123456789.-+eE$/ablogdirvstepvaluesx\xc3\xa9NInfy";
    int accepted = 0;
    for (int i = 0; i < 300000; i++) {
        char line[512];
        const char *seed = seeds[i % (int)(sizeof seeds / sizeof seeds[0])];
        size_t len = strlen(seed);
        memcpy(line, seed, len);
        int edits = 1 + (int)(next() % 3);
        for (int e = 0; e < edits && len > 0 && len < sizeof line - 2; e++) {
            size_t at = next() % len;
            char ch = alphabet[next() % (sizeof alphabet - 1)];
            switch (next() % 3) {
            case 0:   /* replace */
                line[at] = ch;
                break;
            case 1:   /* insert */
                memmove(line + at + 1, line + at, len - at);
                line[at] = ch;
                len++;
                break;
            default:   /* delete */
                memmove(line + at, line + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        int r = compare(line, len);
        CHECK(r >= 0);
        if (r < 0)
            return;
        accepted += r == 0;
    }
    /* Many mutants still are plain scalar lines (a changed digit or name). */
    CHECK(accepted > 1000);
}

static void test_release(void)
{
    request_done(&both);
    CHECK(both.values == NULL && both.n_kept == 0);
}

TEST_MAIN(TEST(test_table), TEST(test_logdir_names), TEST(test_reuse), TEST(test_numbers),
          TEST(test_mutations), TEST(test_release))
