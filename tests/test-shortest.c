/* shortest: every number it formats is formatted exactly as the printf +
 * strtof/strtod loop it replaces (the first "%.Pg" that reads back), over
 * millions of random floats and doubles, dense ranges, ties and edges; and
 * the numbers it declines are the ones outside its documented range.
 * (Counts are kept small enough for the valgrind setup.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shortest.h"
#include "test.h"

static int ref_float(char *buf, size_t size, float f, int pmin, int pmax)
{
    int n = 0;
    for (int p = pmin; p <= pmax; p++) {
        n = snprintf(buf, size, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    return n;
}

static int ref_double(char *buf, size_t size, double d, int pmin, int pmax)
{
    int n = 0;
    for (int p = pmin; p <= pmax; p++) {
        n = snprintf(buf, size, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return n;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned long handled, mismatches;

static void one_float(float f, int pmin, int pmax)
{
    char a[64], b[64];
    int n = shortest_float(a, sizeof a, f, pmin, pmax);
    if (n < 0)
        return;
    handled++;
    int m = ref_float(b, sizeof b, f, pmin, pmax);
    if (n != m || strcmp(a, b) != 0) {
        if (mismatches++ < 10)
            fprintf(stderr, "float %a (%d..%d): %s, printf %s\n", (double)f, pmin, pmax, a, b);
    }
}

static void one_double(double d, int pmin, int pmax)
{
    char a[64], b[64];
    int n = shortest_double(a, sizeof a, d, pmin, pmax);
    if (n < 0)
        return;
    handled++;
    int m = ref_double(b, sizeof b, d, pmin, pmax);
    if (n != m || strcmp(a, b) != 0) {
        if (mismatches++ < 10)
            fprintf(stderr, "double %a (%d..%d): %s, printf %s\n", d, pmin, pmax, a, b);
    }
}

static float float_of(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static double double_of(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void test_floats(void)
{
    handled = mismatches = 0;
    for (int i = 0; i < 200000; i++)
        one_float(float_of((uint32_t)next()), 6, 9);
    CHECK(handled > 80000);
    /* Every float in [0.5, 2) and around 1e-6, 1e5, 1e7 (the %g switch). */
    for (uint32_t b = 0x3F000000u; b < 0x40000000u; b += 61)
        one_float(float_of(b), 6, 9);
    const float around[] = {1e-6f, 1e-5f, 1e-4f, 1e5f, 1e6f, 1e7f, 1e9f, 65504.f};
    for (size_t k = 0; k < sizeof around / sizeof around[0]; k++) {
        uint32_t c;
        memcpy(&c, &around[k], sizeof c);
        for (uint32_t b = c - 3000; b < c + 3000; b++) {
            one_float(float_of(b), 6, 9);
            one_float(-float_of(b), 6, 9);
        }
    }
    /* Ties and short values at every precision. */
    for (int p = 1; p <= 9; p++)
        for (int i = 0; i < 3000; i++) {
            one_float((float)i / 8.0f, p, p);
            one_float((float)i * 0.001f, p, 9);
        }
    CHECK_EQ(mismatches, 0);
}

static void test_doubles(void)
{
    handled = mismatches = 0;
    for (int i = 0; i < 200000; i++)
        one_double(double_of(next()), 15, 17);
    CHECK(handled > 4000);
    /* Wall times: seconds since the epoch with a fraction, and integers. */
    for (int i = 0; i < 100000; i++) {
        one_double(1.7e9 + (double)(next() % 1000000000) * 1e-6, 15, 17);
        one_double((double)(next() >> 12), 15, 17);
    }
    CHECK(handled > 200000);
    for (int p = 1; p <= 17; p++)
        for (int i = 1; i < 2000; i++)
            one_double(4194304.0 + (double)i / 1024.0, p, 17);
    CHECK_EQ(mismatches, 0);
}

static void test_declined(void)
{
    char buf[64] = "untouched";
    const float fs[] = {0.0f, -0.0f, 1e-30f, 1e-7f, 1.8e-6f, 1e37f, 1e38f};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        CHECK_EQ(shortest_float(buf, sizeof buf, fs[i], 6, 9), -1);
    CHECK_EQ(shortest_float(buf, sizeof buf, strtof("inf", NULL), 6, 9), -1);
    CHECK_EQ(shortest_float(buf, sizeof buf, strtof("nan", NULL), 6, 9), -1);
    CHECK_EQ(shortest_double(buf, sizeof buf, 0.1, 15, 17), -1);
    CHECK_EQ(shortest_double(buf, sizeof buf, 1e300, 15, 17), -1);
    CHECK_EQ(shortest_double(buf, sizeof buf, 8e6, 15, 17), -1);
    CHECK_STR(buf, "untouched");
    /* In range, a small buffer is cut as snprintf cuts. */
    CHECK_EQ(shortest_float(buf, 4, 0.125f, 6, 9), 5);
    CHECK_STR(buf, "0.1");
    CHECK_EQ(shortest_double(buf, sizeof buf, 1700000000.25, 15, 17), 13);
    CHECK_STR(buf, "1700000000.25");
    /* The edges of the range are taken. */
    CHECK(shortest_float(buf, sizeof buf, 2e-6f, 6, 9) > 0);
    CHECK(shortest_float(buf, sizeof buf, 5e36f, 6, 9) > 0);
    CHECK(shortest_double(buf, sizeof buf, 8.5e6, 15, 17) > 0);
}

TEST_MAIN(TEST(test_floats), TEST(test_doubles), TEST(test_declined))
