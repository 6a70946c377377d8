#include "utf8.h"

#include <errno.h>
#include <stdint.h>
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
