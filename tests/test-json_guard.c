/* json_guard: the depth, element and \u0000 checks made before a line is
 * parsed. Table cases with known answers, then the scan against a plain
 * byte-at-a-time reference on random JSON-like lines and random limits
 * (the scan skips runs of uninteresting bytes; it must decide exactly as
 * the reference does). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_guard.h"
#include "test.h"

static int check(const char *line, unsigned depth, size_t elements, enum json_guard_what *what)
{
    struct json_guard_limits lim = {.max_depth = depth, .max_elements = elements};
    return json_guard_check(line, strlen(line), &lim, what);
}

static int expect_r(enum json_guard_what w)
{
    return w == JSON_GUARD_OK ? 0 : w == JSON_GUARD_RANGE ? -ERANGE : -EMSGSIZE;
}

static void table(void)
{
    static const struct {
        const char *line;
        unsigned depth;
        size_t elements;
        enum json_guard_what want;
    } cases[] = {
        {"{\"logdir\":\"d\",\"values\":{\"t\":1}}", 2, 0, JSON_GUARD_OK},
        {"{\"logdir\":\"d\",\"values\":{\"t\":1}}", 1, 0, JSON_GUARD_DEPTH},
        {"[[[1]]]", 3, 1, JSON_GUARD_OK},
        {"[[[1]]]", 2, 1, JSON_GUARD_DEPTH},
        {"[1,2,3]", 1, 3, JSON_GUARD_OK},
        {"[1,2,3]", 1, 2, JSON_GUARD_ELEMENTS},
        {"[ 1 , \"a\" , true ]", 1, 2, JSON_GUARD_ELEMENTS},
        {"[[1,2],[3]]", 2, 3, JSON_GUARD_OK},
        {"[[1,2],[3]]", 2, 2, JSON_GUARD_ELEMENTS},
        {"[]", 1, 0, JSON_GUARD_OK},
        {"[[],{}]", 2, 0, JSON_GUARD_OK},
        {"{\"a\":1,\"b\":2,\"c\":3}", 1, 0, JSON_GUARD_OK},
        {"{\"a\":[1],\"b\":2,\"c\":3}", 2, 1, JSON_GUARD_OK},
        {"[\"[\",\"]\",\"{\"]", 1, 3, JSON_GUARD_OK},
        {"[\"[\",\"]\",\"{\"]", 1, 2, JSON_GUARD_ELEMENTS},
        {"[\"a\\\"[[[\"]", 1, 1, JSON_GUARD_OK},
        {"{\"a\":\"x\\u0000\"}", 1, 0, JSON_GUARD_NUL},
        {"{\"a\":\"x\\\\u0000\"}", 1, 0, JSON_GUARD_OK},
        {"{\"a\":\"x\\u00001\"}", 1, 0, JSON_GUARD_NUL},
        {"{\"a\":\"x\\u000\"}", 1, 0, JSON_GUARD_OK},
        {"\"\\", 1, 0, JSON_GUARD_OK},
        {"[1,", 1, 1, JSON_GUARD_OK},
        {"[1,2", 1, 1, JSON_GUARD_ELEMENTS},
        {"]]]]{", 1, 0, JSON_GUARD_OK},
        /* Numbers a double cannot hold (cJSON would read +-Infinity). */
        {"{\"v\":1e400}", 1, 0, JSON_GUARD_RANGE},
        {"{\"v\":-1E+309}", 1, 0, JSON_GUARD_RANGE},
        {"{\"v\":0.0001e313}", 1, 0, JSON_GUARD_RANGE},
        {"{\"v\":0.0001e312}", 1, 0, JSON_GUARD_OK},
        {"{\"v\":1.7976931348623157e308}", 1, 0, JSON_GUARD_OK},   /* DBL_MAX */
        {"{\"v\":1.7976931348623158e308}", 1, 0, JSON_GUARD_OK},   /* rounds to it */
        {"{\"v\":1.7976931348623159e308}", 1, 0, JSON_GUARD_RANGE},
        {"{\"v\":179769313486231580e291}", 1, 0, JSON_GUARD_OK},
        {"{\"v\":179769313486231590e291}", 1, 0, JSON_GUARD_RANGE},
        {"{\"v\":1e-400}", 1, 0, JSON_GUARD_OK},                   /* underflow: 0 */
        {"{\"v\":0e999999}", 1, 0, JSON_GUARD_OK},
        {"{\"v\":1e308,\"w\":true,\"x\":false}", 1, 0, JSON_GUARD_OK},
        {"{\"v\":\"1e400\"}", 1, 0, JSON_GUARD_OK},               /* a string */
        {"[1,2,9e999]", 1, 2, JSON_GUARD_ELEMENTS},                 /* first come */
        {"[1,9e999,3]", 1, 2, JSON_GUARD_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum json_guard_what what = (enum json_guard_what)-1;
        int r = check(cases[i].line, cases[i].depth, cases[i].elements, &what);
        if (what != cases[i].want)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].line);
        CHECK_EQ(what, cases[i].want);
        CHECK_EQ(r, expect_r(cases[i].want));
    }
    CHECK_EQ(check("[[1]]", 1, 5, NULL), -EMSGSIZE);   /* ret_what may be NULL */
    /* Where the number is, for the error message. */
    const char *line = "{\"a\":[1, 2e5],\"b\": -12.5e9999 }";
    struct json_guard_limits lim = {.max_depth = 4, .max_elements = 10};
    enum json_guard_what what;
    size_t off = 0, n = 0;
    CHECK_EQ(json_guard_scan(line, strlen(line), &lim, &what, &off, &n), -ERANGE);
    CHECK_EQ(what, JSON_GUARD_RANGE);
    CHECK_EQ(n, 10);
    CHECK(n == 10 && memcmp(line + off, "-12.5e9999", 10) == 0);
}

/* The reference for numbers: what cJSON reads of a number token (its first
 * 63 bytes, strtod in the C locale) is an infinity. */
static bool ref_overflows(const char *tok, size_t n)
{
    char buf[64];
    if (n > 63)
        n = 63;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return false;
    return isinf(strtod(buf, NULL));
}

static bool ref_number_byte(char ch)
{
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
           ch == 'E';
}

/* The reference: every byte in turn, the rules written plainly. */
static enum json_guard_what reference(const char *line, size_t len, unsigned max_depth,
                                      size_t max_elements)
{
    bool is_array[5000] = {false};
    unsigned depth = 0;
    size_t elements = 0;
    bool expect_element = false;
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if (expect_element) {
            expect_element = false;
            if (ch != '[' && ch != '{' && ch != ']') {
                elements++;
                if (elements > max_elements)
                    return JSON_GUARD_ELEMENTS;
            }
        }
        if (ch == '"') {
            i++;
            while (i < len && line[i] != '"') {
                if (line[i] == '\\') {
                    i++;
                    if (i + 5 <= len && memcmp(line + i, "u0000", 5) == 0)
                        return JSON_GUARD_NUL;
                }
                i++;
            }
        } else if (ch == '[' || ch == '{') {
            if (depth >= max_depth)
                return JSON_GUARD_DEPTH;
            is_array[depth] = ch == '[';
            depth++;
            expect_element = ch == '[';
        } else if (ch == ']' || ch == '}') {
            if (depth > 0)
                depth--;
        } else if (ch == ',') {
            expect_element = depth > 0 && is_array[depth - 1];
        } else if ((ch == 'e' || ch == 'E') && ref_number_byte(ch)) {
            /* The first e of a token of number bytes, at most 64 bytes
             * after its start (cJSON would not see one further). */
            size_t a = i, b = i;
            while (a > 0 && ref_number_byte(line[a - 1]))
                a--;
            while (b < len && ref_number_byte(line[b]))
                b++;
            bool first_e = true;
            for (size_t k = a; k < i; k++)
                first_e = first_e && line[k] != 'e' && line[k] != 'E';
            if (first_e && i - a <= 64 && ref_overflows(line + a, b - a))
                return JSON_GUARD_RANGE;
            i = b - 1;
        }
    }
    return JSON_GUARD_OK;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void against_reference(void)
{
    /* Structural bytes often, so that depths and element counts vary. */
    static const char alphabet[] = "[[[]]]{{}},,,,\"\"\"\\\\u0000 \t\n1a:e-";
    char line[200];
    for (int n = 0; n < 500000; n++) {
        size_t len = (size_t)(next() % sizeof line);
        for (size_t i = 0; i < len; i++)
            line[i] = alphabet[next() % (sizeof alphabet - 1)];
        unsigned depth = (unsigned)(next() % 8);
        size_t elements = (size_t)(next() % 12);
        struct json_guard_limits lim = {.max_depth = depth, .max_elements = elements};
        enum json_guard_what got;
        int r = json_guard_check(line, len, &lim, &got);
        enum json_guard_what want = reference(line, len, depth, elements);
        if (got != want || r != expect_r(want)) {
            fprintf(stderr, "differs (%d, want %d) for depth %u, elements %zu: %.*s\n",
                    (int)got, (int)want, depth, elements, (int)len, line);
            CHECK(false);
            return;
        }
    }
}

/* Numbers near the largest double, and random number tokens, against
 * strtod: the guard refuses exactly what cJSON would read as infinite. */
static void numbers_against_strtod(void)
{
    char line[128], tok[96];
    struct json_guard_limits lim = {.max_depth = 4, .max_elements = 100};
    for (int n = 0; n < 200000; n++) {
        size_t k = 0;
        if (next() % 4 == 0)
            tok[k++] = '-';
        size_t nint = 1 + next() % 25, nfrac = next() % 3 ? next() % 25 : 0;
        for (size_t i = 0; i < nint; i++)
            tok[k++] = (char)('0' + (i == 0 && nint > 1 ? 1 + next() % 9 : next() % 10));
        if (nfrac) {
            tok[k++] = '.';
            for (size_t i = 0; i < nfrac; i++)
                tok[k++] = (char)('0' + next() % 10);
        }
        tok[k++] = next() % 2 ? 'e' : 'E';
        if (next() % 3 == 0)
            tok[k++] = next() % 2 ? '+' : '-';
        k += (size_t)snprintf(tok + k, sizeof tok - k, "%d",
                              (int)(next() % 40) + 270 - (int)nint);
        tok[k] = '\0';
        int len = snprintf(line, sizeof line, "{\"v\":[%s]}", tok);
        enum json_guard_what got;
        json_guard_check(line, (size_t)len, &lim, &got);
        bool want = ref_overflows(tok, k);
        if ((got == JSON_GUARD_RANGE) != want) {
            fprintf(stderr, "differs for %s: guard %d, strtod %g\n", tok, (int)got,
                    strtod(tok, NULL));
            CHECK(false);
            return;
        }
        CHECK(got == JSON_GUARD_OK || got == JSON_GUARD_RANGE);
    }
}

TEST_MAIN(TEST(table), TEST(against_reference), TEST(numbers_against_strtod))
