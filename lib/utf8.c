#include "utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int utf8_decode(const void *s, size_t len, unsigned *ret_cp)
{
    const uint8_t *p = s;
    if (len == 0)
        return -EILSEQ;
    uint8_t c = p[0];
    if (c < 0x80) {
        *ret_cp = c;
        return 1;
    }
    /* The lead byte fixes the length and the smallest code point that may
     * use it (anything below is an overlong form). 0xC0, 0xC1 and 0xF5..0xFF
     * can never start a valid sequence. */
    size_t n;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return -EILSEQ;
    }
    if (len < n)
        return -EILSEQ;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -EILSEQ;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -EILSEQ;
    *ret_cp = cp;
    return (int)n;
}

bool utf8_valid(const void *s, size_t len)
{
    const uint8_t *p = s;
    size_t i = 0;
    while (i < len) {
        /* Skip ASCII eight bytes at a time: tags and most text are ASCII. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        unsigned cp;
        int n = utf8_decode(p + i, len - i, &cp);
        if (n < 0)
            return false;
        i += (size_t)n;
    }
    return true;
}

static size_t utf8_seq(const uint8_t *p, size_t n, size_t *ret_bad)
{
    uint8_t c = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;   /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *ret_bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        uint8_t lim_lo = i == 1 ? lo : 0x80, lim_hi = i == 1 ? hi : 0xBF;
        if (i >= n || p[i] < lim_lo || p[i] > lim_hi) {
            *ret_bad = i;
            return 0;
        }
    }
    return need + 1;
}

char *utf8_replace(const void *s, size_t n)
{
    const uint8_t *p = s;
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t i = 0, o = 0, bad;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i, &bad);
        if (k) {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += bad;
        }
    }
    out[o] = '\0';
    return out;
}
