#include "png.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Deflate level: higher levels buy a few percent for several times the
 * time. */
#define PNG_DEFLATE_LEVEL 3
/* Mean |filtered byte| (as a signed value) from which an image counts as
 * noise and is stored uncompressed: uniform noise gives about 64, smooth
 * images a few units; from 32 on (an entropy near 7.4 bits per byte)
 * deflate saves under 8% at twice the encoding time. */
#define PNG_NOISE_COST 32

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

/* Paeth predictor without branches on the data (the compiler turns the
 * selects into conditional moves). */
static inline uint8_t paeth(int a, int b, int c)
{
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    int ab = pb < pa ? b : a;
    int pab = pb < pa ? pb : pa;
    return (uint8_t)(pc < pab ? c : ab);
}

static inline unsigned cost(uint8_t v)
{
    return (unsigned)abs((int8_t)v);
}

/* The cost of each filter type on one row: the sum of the filtered bytes
 * taken as signed values, the "minimum sum of absolute differences"
 * heuristic of the PNG spec. One pass computes all five (each byte's
 * neighbours are loaded once); prev is a row of zeros for the first row.
 * This loop is most of the encoder's time. */
static void filter_costs(const uint8_t *restrict row, const uint8_t *restrict prev, size_t n,
                         size_t bpp, unsigned long costs[5])
{
    unsigned long s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    size_t i;
    for (i = 0; i < bpp && i < n; i++) {
        unsigned x = row[i], b = prev[i];
        s0 += cost((uint8_t)x);
        s1 += cost((uint8_t)x);
        s2 += cost((uint8_t)(x - b));
        s3 += cost((uint8_t)(x - (b >> 1)));
        s4 += cost((uint8_t)(x - b));
    }
    for (; i < n; i++) {
        unsigned x = row[i], a = row[i - bpp], b = prev[i], c = prev[i - bpp];
        s0 += cost((uint8_t)x);
        s1 += cost((uint8_t)(x - a));
        s2 += cost((uint8_t)(x - b));
        s3 += cost((uint8_t)(x - ((a + b) >> 1)));
        s4 += cost((uint8_t)(x - paeth((int)a, (int)b, (int)c)));
    }
    costs[0] = s0;
    costs[1] = s1;
    costs[2] = s2;
    costs[3] = s3;
    costs[4] = s4;
}

/* Write row filtered with type ft into dst[0..n). */
static void filter_row(uint8_t *restrict dst, const uint8_t *restrict row,
                       const uint8_t *restrict prev, size_t n, size_t bpp, int ft)
{
    size_t i;
    size_t head = bpp < n ? bpp : n;
    switch (ft) {
    case 0:
        memcpy(dst, row, n);
        break;
    case 1:
        memcpy(dst, row, head);
        for (i = head; i < n; i++)
            dst[i] = (uint8_t)(row[i] - row[i - bpp]);
        break;
    case 2:
        for (i = 0; i < n; i++)
            dst[i] = (uint8_t)(row[i] - prev[i]);
        break;
    case 3:
        for (i = 0; i < head; i++)
            dst[i] = (uint8_t)(row[i] - (prev[i] >> 1));
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - ((row[i - bpp] + prev[i]) >> 1));
        break;
    default:
        for (i = 0; i < head; i++)
            dst[i] = (uint8_t)(row[i] - prev[i]);   /* Paeth(0, b, 0) = b */
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - paeth(row[i - bpp], prev[i], prev[i - bpp]));
        break;
    }
}

/* IDAT holding a zlib stream of stored (uncompressed) deflate blocks:
 * no compressor state to allocate and clear, just copies and an Adler-32. */
static int put_idat_stored(struct buf *out, const uint8_t *data, size_t len)
{
    size_t blocks = len / 65535 + 1;
    size_t zlen = 2 + blocks * 5 + len + 4;
    if (zlen > 0x7FFFFFFFu)
        return -EINVAL;
    int r = buf_reserve(out, zlen + 12);
    if (r < 0)
        return r;
    uint8_t *chunk = out->data + out->len;
    uint8_t *p = chunk + 8;
    put_be32(chunk, (uint32_t)zlen);
    memcpy(chunk + 4, "IDAT", 4);
    *p++ = 0x78;   /* deflate, 32K window */
    *p++ = 0x01;   /* no preset dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
    size_t off = 0;
    for (size_t b = 0; b < blocks; b++) {
        size_t n = len - off < 65535 ? len - off : 65535;
        *p++ = b + 1 == blocks ? 1 : 0;   /* BFINAL, BTYPE 00 */
        p[0] = (uint8_t)n;
        p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)~n;
        p[3] = (uint8_t)(~n >> 8);
        p += 4;
        memcpy(p, data + off, n);
        p += n;
        off += n;
    }
    uLong adler = adler32(1L, Z_NULL, 0);
    for (size_t done = 0; done < len;) {
        uInt n = len - done > 0x40000000u ? 0x40000000u : (uInt)(len - done);
        adler = adler32(adler, data + done, n);
        done += n;
    }
    put_be32(p, (uint32_t)adler);
    put_be32(p + 4, (uint32_t)crc32(0L, chunk + 4, (uInt)(4 + zlen)));
    out->len += zlen + 12;
    return 0;
}

/* IDAT holding data deflated in one call. A window just big enough for
 * the image, and a hash table and symbol buffer scaled to it (memLevel
 * wbits - 8), keep deflate's state near 6 * 2^wbits bytes: for small
 * images that is small enough that malloc does not grow and trim the heap
 * on every call, which cost more than the compression itself. */
static int put_idat_deflate(struct buf *out, const uint8_t *data, size_t len)
{
    int wbits = 9;
    while (wbits < 15 && ((size_t)1 << wbits) < len)
        wbits++;
    int mem_level = wbits - 8 < 1 ? 1 : wbits - 8;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, PNG_DEFLATE_LEVEL, Z_DEFLATED, wbits, mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong bound = deflateBound(&zs, (uLong)len);
    int r = 0;
    if (bound > 0x7FFFFFFFu || len > UINT32_MAX) {
        r = -EINVAL;
        goto out;
    }
    r = buf_reserve(out, (size_t)bound + 12);
    if (r < 0)
        goto out;
    uint8_t *chunk = out->data + out->len;
    memcpy(chunk + 4, "IDAT", 4);
    zs.next_out = chunk + 8;
    zs.avail_out = (uInt)bound;
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        r = -ENOMEM;
        goto out;
    }
    uint32_t zlen = (uint32_t)zs.total_out;
    put_be32(chunk, zlen);
    put_be32(chunk + 8 + zlen, (uint32_t)crc32(0L, chunk + 4, 4 + zlen));
    out->len += (size_t)zlen + 12;
out:
    deflateEnd(&zs);
    return r;
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

    /* Filter every row first: the filtered bytes tell how compressible the
     * image is before deflate spends time on it. */
    uint8_t *filtered = malloc(raw + stride + 1);
    if (!filtered) {
        r = -ENOMEM;
        goto fail;
    }
    uint8_t *zeros = filtered + raw;
    memset(zeros, 0, stride + 1);
    unsigned long long total_cost = 0;
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = pixels + y * stride;
        const uint8_t *prev = y ? row - stride : zeros;
        uint8_t *dst = filtered + y * (stride + 1);
        unsigned long costs[5];
        filter_costs(row, prev, stride, channels, costs);
        /* Ties go to the simpler filter. On the first row Up and Paeth
         * equal None and Sub. */
        int best = 0;
        for (int ft = 1; ft <= 4; ft++)
            if (costs[ft] < costs[best])
                best = ft;
        dst[0] = (uint8_t)best;
        filter_row(dst + 1, row, prev, stride, channels, best);
        total_cost += costs[best];
    }

    /* Noise (random weights, untrained activations) stays noise after
     * filtering, and deflate would spend most of the encoding time to save
     * a few percent: such images are stored. */
    bool noise = total_cost >= PNG_NOISE_COST * (unsigned long long)(height * stride);
    r = noise ? put_idat_stored(out, filtered, raw) : put_idat_deflate(out, filtered, raw);
    free(filtered);
    if (r < 0)
        goto fail;

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
