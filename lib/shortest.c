/* shortest: exact shortest-digit formatting (see shortest.h). */
#include "shortest.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* Bits N = m * 5^k (or m * 2^e) may use: 4 * N and the rounded value
 * times 4 must stay below 2^128. */
#define SHORTEST_MAX_BITS 122

/* 5^k and 10^k for k <= 27 and 19, in 64 bits; larger ones are products. */
static const uint64_t pow5_64[28] = {
    1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull, 78125ull, 390625ull,
    1953125ull, 9765625ull, 48828125ull, 244140625ull, 1220703125ull, 6103515625ull,
    30517578125ull, 152587890625ull, 762939453125ull, 3814697265625ull,
    19073486328125ull, 95367431640625ull, 476837158203125ull, 2384185791015625ull,
    11920928955078125ull, 59604644775390625ull, 298023223876953125ull,
    1490116119384765625ull, 7450580596923828125ull,
};
static const uint64_t pow10_64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

/* Bits of n (0 for 0). */
static int u128_bits(u128 n)
{
    uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
    return hi ? 128 - __builtin_clzll(hi) : lo ? 64 - __builtin_clzll(lo) : 0;
}

/* "00" .. "99". */
static const char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Exactly 8 digits of x < 10^8: two independent halves, so the divisions
 * overlap instead of waiting on each other. */
static void u32_8digits(uint32_t x, char *out)
{
    uint32_t a = x / 10000, b = x % 10000;
    memcpy(out, two_digits + 2 * (a / 100), 2);
    memcpy(out + 2, two_digits + 2 * (a % 100), 2);
    memcpy(out + 4, two_digits + 2 * (b / 100), 2);
    memcpy(out + 6, two_digits + 2 * (b % 100), 2);
}

/* The width (<= 20) decimal digits of v (leading zeros kept) into out. */
static void u64_digits(uint64_t v, char *out, int width)
{
    char tmp[24];
    /* All 24 places, then the last width of them. */
    u32_8digits((uint32_t)(v % 100000000), tmp + 16);
    v /= 100000000;
    u32_8digits((uint32_t)(v % 100000000), tmp + 8);
    u32_8digits((uint32_t)(v / 100000000), tmp);
    memcpy(out, tmp + 24 - width, (size_t)width);
}

/* 10^i for i <= 38. */
static u128 pow10_128(int i)
{
    return i <= 19 ? (u128)pow10_64[i] : (u128)pow10_64[19] * pow10_64[i - 19];
}

/* The number of decimal digits of n (n > 0, n < 2^122). */
static int u128_len(u128 n)
{
    /* bits * log10(2), from below, then up to the exact count. */
    int d = (u128_bits(n) * 1233 >> 12) - 1;
    if (d < 1)
        d = 1;
    while (d < 38 && n >= pow10_128(d))
        d++;
    return d;
}

/* The first keep (<= 18) decimal digits of n, which has len digits
 * (len >= keep), as a number; *sticky: whether any digit after them is
 * not zero. One 128-bit division drops the rest. */
static uint64_t u128_top(u128 n, int len, int keep, bool *sticky)
{
    *sticky = false;
    if (len > keep) {
        u128 p = pow10_128(len - keep);
        *sticky = n % p != 0;
        n /= p;
    }
    return (uint64_t)n;
}

/* p digits q (with decimal exponent x of the first) laid out as %.{p}g:
 * trailing zeros dropped, exponent form when x < -4 or x >= p. */
static int layout_g(char *out, bool neg, const char *q, int p, int x)
{
    int nd = p, n = 0;
    while (nd > 1 && q[nd - 1] == '0')
        nd--;
    if (neg)
        out[n++] = '-';
    if (x < -4 || x >= p) {
        out[n++] = q[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, q + 1, (size_t)nd - 1);
            n += nd - 1;
        }
        out[n++] = 'e';
        out[n++] = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 100)
            out[n++] = (char)('0' + ax / 100);
        out[n++] = (char)('0' + ax / 10 % 10);
        out[n++] = (char)('0' + ax % 10);
    } else if (x >= 0) {
        memcpy(out + n, q, (size_t)x + 1);
        n += x + 1;
        if (nd > x + 1) {
            out[n++] = '.';
            memcpy(out + n, q + x + 1, (size_t)(nd - x - 1));
            n += nd - x - 1;
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -x - 1; i++)
            out[n++] = '0';
        memcpy(out + n, q, (size_t)nd);
        n += nd;
    }
    return n;
}

/* The value m * 2^e (m normalised: its top bit is bit mbits-1). */
static int shortest(char *buf, size_t size, bool neg, uint64_t m, int e, int mbits,
                    int pmin, int pmax)
{
    if (pmin < 1 || pmax > 17 || pmin > pmax)
        return -1;
    /* value = N * 10^-k, with the scale S = 2^e or 5^k such that N = m*S. */
    u128 s = 1;
    int k = 0;
    if (e >= 0) {
        if (mbits + e > SHORTEST_MAX_BITS)
            return -1;
        s = (u128)1 << e;
    } else {
        k = -e;
        /* 5^54 has 126 bits: past that it cannot fit anyway. */
        if (k > 54)
            return -1;
        s = k <= 27 ? (u128)pow5_64[k] : (u128)pow5_64[27] * pow5_64[k - 27];
        if (u128_bits(s) > SHORTEST_MAX_BITS - mbits)
            return -1;
    }
    u128 n = (u128)m * s;
    /* The digits up to one past the longest candidate, and whether any
     * after those is not zero (a 5 there is then more than a tie). */
    int d = u128_len(n), keep = d < pmax + 1 ? d : pmax + 1;
    bool sticky;
    uint64_t top = u128_top(n, d, keep, &sticky);
    /* Four times the midpoints to the neighbours, in units of 10^-k; the
     * one below is nearer when m is the smallest mantissa of its binade. */
    u128 hi4 = 2 * (u128)(2 * m + 1) * s;
    u128 lo4 = m == (uint64_t)1 << (mbits - 1) ? (u128)(4 * m - 1) * s
                                                : 2 * (u128)(2 * m - 1) * s;
    bool even = (m & 1) == 0;   /* a tie reads back as the even mantissa */
    char q[40], out[64];
    for (int p = pmin; p <= pmax; p++) {
        int x = d - 1 - k, cut = d - p;
        bool ok = true;
        if (cut <= 0) {
            /* Exact in p digits: n's own, then zeros. */
            u64_digits(top, q, d);
            memset(q + d, '0', (size_t)(p - d));
        } else {
            /* Round top's first p digits to nearest, a tie to even; what
             * follows top (sticky) makes a 5 more than a tie. */
            uint64_t div = pow10_64[keep - p], rest = top % div, half = div / 2;
            uint64_t qv = top / div;
            if (rest > half || (rest == half && (sticky || (qv & 1))))
                qv++;
            /* cut <= 39 - p, and 10^cut * qv < 2^125 (qv ~ n / 10^cut). */
            u128 r4 = 4 * (u128)qv * (cut <= 19 ? pow10_64[cut] : pow10_64[19]);
            if (cut > 19)
                r4 *= pow10_64[cut - 19];
            ok = (r4 > lo4 && r4 < hi4) || ((r4 == lo4 || r4 == hi4) && even);
            if (qv == pow10_64[p]) {
                qv /= 10;   /* 99..9 rounded up: one decade up */
                x++;
            }
            if (ok || p == pmax)
                u64_digits(qv, q, p);
        }
        if (ok || p == pmax) {
            int len = layout_g(out, neg, q, p, x);
            if (size > 0) {
                size_t c = (size_t)len < size ? (size_t)len : size - 1;
                memcpy(buf, out, c);
                buf[c] = '\0';
            }
            return len;
        }
    }
    return -1;   /* not reached */
}

int shortest_float(char *buf, size_t size, float f, int pmin, int pmax)
{
    if (!isfinite(f) || f == 0)
        return -1;
    int ex;
    float fr = frexpf(fabsf(f), &ex);   /* |f| = fr * 2^ex, fr in [0.5, 1) */
    uint64_t m = (uint64_t)ldexpf(fr, 24);
    if (ex - 24 < -149 || !(m >> 23))
        return -1;   /* subnormal */
    return shortest(buf, size, f < 0, m, ex - 24, 24, pmin, pmax);
}

int shortest_double(char *buf, size_t size, double d, int pmin, int pmax)
{
    if (!isfinite(d) || d == 0)
        return -1;
    int ex;
    double fr = frexp(fabs(d), &ex);
    uint64_t m = (uint64_t)ldexp(fr, 53);
    if (ex - 53 < -1074 || !(m >> 52))
        return -1;
    return shortest(buf, size, d < 0, m, ex - 53, 53, pmin, pmax);
}
