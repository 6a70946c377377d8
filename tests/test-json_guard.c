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
#include "json_guard_ref.h"
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
        /* The extension's bare tokens are let through (and counted as
         * array elements); an overflowing number beside them is not. */
        {"{\"v\":NaN,\"w\":Infinity,\"x\":-Infinity}", 1, 0, JSON_GUARD_OK},
        {"[NaN,Infinity,-Infinity]", 1, 3, JSON_GUARD_OK},
        {"[NaN, Infinity, -Infinity]", 1, 2, JSON_GUARD_ELEMENTS},
        {"[NaN,-Infinity,1e400]", 1, 3, JSON_GUARD_RANGE},
        {"{\"v\":-Infinity,\"w\":-1e999}", 1, 0, JSON_GUARD_RANGE},
        /* Not JSON, but cJSON reads it (strtod after a '-'): found by
         * fuzz-json_guard. */
        {"{\"x\":-.9e99531}", 1, 0, JSON_GUARD_RANGE},
        {"{\"x\":-.9e99}", 1, 0, JSON_GUARD_OK},
        {"{\"x\":-.e999}", 1, 0, JSON_GUARD_OK},
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

    /* A raw NUL byte inside a string (cJSON would cut the string there);
     * outside strings it is cJSON's to refuse as not JSON. */
    {
        static const char nul_in[] = "{\"logdir\":\"nl\0x\"}";
        static const char nul_out[] = "{\"a\":1}\0";
        enum json_guard_what what = JSON_GUARD_OK;
        struct json_guard_limits lim = {.max_depth = 4, .max_elements = 4};
        CHECK_EQ(json_guard_check(nul_in, sizeof nul_in - 1, &lim, &what), -EMSGSIZE);
        CHECK_EQ(what, JSON_GUARD_NUL);
        CHECK_EQ(json_guard_reference(nul_in, sizeof nul_in - 1, 4, 4), JSON_GUARD_NUL);
        CHECK_EQ(json_guard_check(nul_out, sizeof nul_out - 1, &lim, &what), 0);
    }

    /* Long numbers: this cJSON reads the whole token (older releases its
     * first 63 bytes; either reading that overflows is refused). Found by
     * fuzz-json_guard. */
    struct {
        size_t int_digits, frac_digits;
        const char *exp;
        enum json_guard_what want;
    } longs[] = {
        {60, 0, "e300", JSON_GUARD_RANGE},     /* 60 digits, e within 63 bytes */
        {62, 0, "e250", JSON_GUARD_RANGE},     /* the exponent past byte 63 */
        {1, 70, "e308", JSON_GUARD_RANGE},     /* 9.99...e308 > DBL_MAX */
        {1, 70, "e307", JSON_GUARD_OK},
        {308, 0, "", JSON_GUARD_OK},           /* 10^308 > 999...9 (308 digits) */
        {309, 0, "", JSON_GUARD_RANGE},        /* 999...9 (309 digits) */
        {400, 0, "", JSON_GUARD_RANGE},
        {200, 200, "", JSON_GUARD_OK},
        {310, 0, "e-10", JSON_GUARD_OK},       /* 1e299 */
    };
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        char buf[1024];
        size_t k = (size_t)snprintf(buf, sizeof buf, "{\"v\":[1,");
        for (size_t d = 0; d < longs[i].int_digits; d++)
            buf[k++] = '9';
        if (longs[i].frac_digits) {
            buf[k++] = '.';
            for (size_t d = 0; d < longs[i].frac_digits; d++)
                buf[k++] = '9';
        }
        snprintf(buf + k, sizeof buf - k, "%s,2]}", longs[i].exp);
        enum json_guard_what what = (enum json_guard_what)-1;
        check(buf, 4, 10, &what);
        if (what != longs[i].want)
            fprintf(stderr, "long case %zu: %s\n", i, buf);
        CHECK_EQ(what, longs[i].want);
        CHECK_EQ(json_guard_reference(buf, strlen(buf), 4, 10), longs[i].want);
    }
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
        enum json_guard_what want = json_guard_reference(line, len, depth, elements);
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
        bool want = json_guard_ref_overflows(tok, k);
        if ((got == JSON_GUARD_RANGE) != want) {
            fprintf(stderr, "differs for %s: guard %d, strtod %g\n", tok, (int)got,
                    strtod(tok, NULL));
            CHECK(false);
            return;
        }
        CHECK(got == JSON_GUARD_OK || got == JSON_GUARD_RANGE);
    }
}

/* The id a refused line's error reply echoes is JSON text as it is: a
 * number by RFC 8259's grammar or an escape-free printable string; else
 * none (fuzz-json_chain found "+x" echoed). */
static void find_id(void)
{
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"{\"id\":7,\"x\":[[[", "7"},
        {"{\"a\":{\"id\":1},\"id\": -1.5e+3 }", "-1.5e+3"},
        {"{\"id\":\"abc\"", "\"abc\""},
        {"{\"id\":0}", "0"},
        {"{\"id\":+x\"}", ""},
        {"{\"id\":+1}", ""},
        {"{\"id\":1e}", ""},
        {"{\"id\":-}", ""},
        {"{\"id\":.5}", ""},
        {"{\"id\":01}", ""},
        {"{\"id\":1.}", ""},
        {"{\"id\":12abc}", ""},
        {"{\"id\":1.2.3}", ""},
        {"{\"id\":\"a\\qb\"}", ""},    /* an escape, maybe an invalid one */
        {"{\"id\":\"tab\there\"}", ""},
        {"{\"x\":{\"id\":5}}", ""},     /* not top level */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n = json_guard_find_id(cases[i].line, strlen(cases[i].line), out, sizeof out);
        if (n == 0)
            out[0] = '\0';
        CHECK_STR(out, cases[i].want);
        CHECK_EQ(n, strlen(cases[i].want));
    }
}

TEST_MAIN(TEST(table), TEST(against_reference), TEST(numbers_against_strtod), TEST(find_id))
