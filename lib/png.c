#include "png.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Deflate level: images are mostly noisy float data, where higher levels
 * buy a few percent for several times the time. */
#define PNG_DEFLATE_LEVEL 3

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Append a whole chunk whose data is already in memory. */
static int put_chunk(struct buf *out, const char type[4], const uint8_t *data, uint32_t len)
{
    int r = buf_reserve(out, (size_t)len + 12);
    if (r < 0)
        return r;
    uint8_t *p = out->data + out->len;
    put_be32(p, len);
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, data, len);
    uLong crc = crc32(0L, p + 4, 4 + len);
    put_be32(p + 8 + len, (uint32_t)crc);
    out->len += (size_t)len + 12;
    return 0;
}

static unsigned paeth(unsigned a, unsigned b, unsigned c)
{
    int p = (int)a + (int)b - (int)c;
    int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

/* Filter one row with filter type ft into dst[0..n) (without the filter
 * byte); returns the sum of the filtered bytes taken as signed values, the
 * "minimum sum of absolute differences" heuristic of the PNG spec. prev is
 * NULL for the first row (then Up and Paeth see a row of zeros). */
static unsigned long filter_row(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                size_t n, size_t bpp, int ft)
{
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned a = i >= bpp ? row[i - bpp] : 0;
        unsigned b = prev ? prev[i] : 0;
        unsigned c = (prev && i >= bpp) ? prev[i - bpp] : 0;
        unsigned pred;
        switch (ft) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        default: pred = paeth(a, b, c); break;
        }
        uint8_t v = (uint8_t)(row[i] - pred);
        dst[i] = v;
        sum += v < 128 ? v : 256u - v;
    }
    return sum;
}

int png_encode(struct buf *out, const uint8_t *pixels, size_t width, size_t height,
               size_t channels)
{
    static const uint8_t color_type[5] = {0, 0, 4, 2, 6};
    if (channels < 1 || channels > 4 || width < 1 || height < 1 ||
        width > PNG_MAX_DIM || height > PNG_MAX_DIM || width * height > PNG_MAX_PIXELS)
        return -EINVAL;

    size_t stride = width * channels;
    size_t raw = height * (stride + 1);
    size_t start = out->len;
    int r;

    /* Signature and IHDR. */
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;
    ihdr[9] = color_type[channels];
    ihdr[10] = 0;   /* deflate */
    ihdr[11] = 0;   /* adaptive filtering */
    ihdr[12] = 0;   /* no interlace */
    r = buf_append(out, png_signature, sizeof png_signature);
    if (r < 0)
        return r;
    r = put_chunk(out, "IHDR", ihdr, sizeof ihdr);
    if (r < 0)
        goto fail;

    /* One IDAT: a window just big enough for the image makes deflateInit
     * allocate and clear far less for small images. */
    int wbits = 9;
    while (wbits < 15 && ((size_t)1 << wbits) < raw)
        wbits++;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, PNG_DEFLATE_LEVEL, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        r = -ENOMEM;
        goto fail;
    }
    uLong bound = deflateBound(&zs, (uLong)raw);
    if (bound > UINT32_MAX - 12 || (size_t)bound != bound) {
        deflateEnd(&zs);
        r = -EINVAL;
        goto fail;
    }
    r = buf_reserve(out, (size_t)bound + 24);
    if (r < 0) {
        deflateEnd(&zs);
        goto fail;
    }
    uint8_t *chunk = out->data + out->len;
    memcpy(chunk + 4, "IDAT", 4);
    zs.next_out = chunk + 8;
    zs.avail_out = (uInt)bound;

    uint8_t *rows = malloc(2 * (stride + 1));
    if (!rows) {
        deflateEnd(&zs);
        r = -ENOMEM;
        goto fail;
    }
    uint8_t *best = rows, *trial = rows + stride + 1;
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = pixels + y * stride;
        const uint8_t *prev = y ? row - stride : NULL;
        unsigned long best_sum = filter_row(best + 1, row, prev, stride, channels, 0);
        best[0] = 0;
        for (int ft = 1; ft <= 4; ft++) {
            if (!prev && (ft == 2 || ft == 4))
                continue;   /* same as None / Sub on the first row */
            unsigned long s = filter_row(trial + 1, row, prev, stride, channels, ft);
            if (s < best_sum) {
                uint8_t *t = best;
                best = trial;
                trial = t;
                best[0] = (uint8_t)ft;
                best_sum = s;
            }
        }
        zs.next_in = best;
        zs.avail_in = (uInt)(stride + 1);
        int zr = deflate(&zs, y + 1 == height ? Z_FINISH : Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            free(rows);
            deflateEnd(&zs);
            r = -ENOMEM;
            goto fail;
        }
    }
    free(rows);
    uint32_t zlen = (uint32_t)zs.total_out;
    deflateEnd(&zs);
    put_be32(chunk, zlen);
    put_be32(chunk + 8 + zlen, (uint32_t)crc32(0L, chunk + 4, 4 + zlen));
    out->len += (size_t)zlen + 12;

    r = put_chunk(out, "IEND", NULL, 0);
    if (r < 0)
        goto fail;
    return 0;

fail:
    out->len = start;
    return r;
}

static int sniff_jpeg(const uint8_t *p, size_t len, uint32_t *ret_w, uint32_t *ret_h)
{
    size_t i = 2;
    for (;;) {
        /* Markers may be preceded by any number of 0xFF fill bytes. */
        if (i >= len || p[i] != 0xFF)
            return -EINVAL;
        while (i < len && p[i] == 0xFF)
            i++;
        if (i >= len)
            return -EINVAL;
        uint8_t m = p[i++];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8))
            continue;   /* TEM, RSTn, SOI: no length */
        if (m == 0xD9 || m == 0xDA || m == 0x00)
            return -EINVAL;   /* EOI or scan data before any frame header */
        if (i + 2 > len)
            return -EINVAL;
        size_t seg = ((size_t)p[i] << 8) | p[i + 1];
        if (seg < 2 || i + seg > len)
            return -EINVAL;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (seg < 7)
                return -EINVAL;
            uint32_t h = ((uint32_t)p[i + 3] << 8) | p[i + 4];
            uint32_t w = ((uint32_t)p[i + 5] << 8) | p[i + 6];
            if (w == 0 || h == 0)
                return -EINVAL;   /* height from a DNL marker: not supported */
            *ret_w = w;
            *ret_h = h;
            return PNG_FORMAT_JPEG;
        }
        i += seg;
    }
}

int png_sniff(const void *data, size_t len, uint32_t *ret_width, uint32_t *ret_height)
{
    const uint8_t *p = data;
    if (len >= 8 && memcmp(p, png_signature, 8) == 0) {
        if (len < 8 + 8 + 13 || get_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
            return -EINVAL;
        uint32_t w = get_be32(p + 16), h = get_be32(p + 20);
        if (w == 0 || h == 0 || w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
            return -EINVAL;
        *ret_width = w;
        *ret_height = h;
        return PNG_FORMAT_PNG;
    }
    if (len >= 4 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return sniff_jpeg(p, len, ret_width, ret_height);
    return -EINVAL;
}
