/* Strict base64 (b64.h). */
#include "b64.h"

#include <errno.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A character's 6 bits, or 0x80 for any byte outside the alphabet ('='
 * included: padding is handled apart from the groups). */
#define X 0x80
static const uint8_t value_of[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

int b64_decode(const char *s, size_t len, uint8_t *out, size_t *ret_len)
{
    const unsigned char *u = (const unsigned char *)s;
    /* Padding: one or two '=' that make the length a multiple of 4. */
    size_t pad = 0;
    if (len % 4 == 0 && len >= 4)
        pad = u[len - 1] != '=' ? 0 : u[len - 2] != '=' ? 1 : 2;
    size_t body = len - pad;
    size_t whole = body / 4 * 4;
    uint8_t *o = out;
    unsigned bad = 0;
    for (size_t i = 0; i < whole; i += 4) {
        unsigned a = value_of[u[i]], b = value_of[u[i + 1]];
        unsigned c = value_of[u[i + 2]], d = value_of[u[i + 3]];
        bad |= a | b | c | d;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        o[0] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[2] = (uint8_t)v;
        o += 3;
    }
    if (bad & 0x80)
        return -EINVAL;
    size_t rest = body - whole;   /* 0, 2 or 3 characters; 1 holds no byte */
    if (rest == 1)
        return -EINVAL;
    if (rest) {
        unsigned a = value_of[u[whole]], b = value_of[u[whole + 1]];
        unsigned c = rest == 3 ? value_of[u[whole + 2]] : 0;
        if ((a | b | c) & 0x80)
            return -EINVAL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        /* The bits past the last whole byte must be zero: "QQ==" is "A",
         * "QR==" is not another spelling of it. */
        if (v & (rest == 2 ? 0xffffu : 0xffu))
            return -EINVAL;
        *o++ = (uint8_t)(v >> 16);
        if (rest == 3)
            *o++ = (uint8_t)(v >> 8);
    }
    *ret_len = (size_t)(o - out);
    return 0;
}

size_t b64_encode(const uint8_t *p, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = alphabet[(v >> 6) & 63];
        o[3] = alphabet[v & 63];
        o += 4;
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    return (size_t)(o - out);
}
