#include "png.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Deflate level: higher levels buy a few percent for several times the
 * time. */
#define PNG_DEFLATE_LEVEL 3
/* Mean |filtered byte| (as a signed value) from which an image counts as
 * noise and is stored uncompressed: uniform noise gives about 64, smooth
 * images a few units; from 32 on (an entropy near 7.4 bits per byte)
 * deflate saves under 8% at several times the encoding time. */
#define PNG_NOISE_COST 32
/* Mean |filtered byte| from which a band of rows is deflated with
 * Z_RLE (runs only, no search for matches): with noise of amplitude 12
 * or more on a smooth image (a mean of 4 and up), searching for matches
 * takes most of deflate's time and finds so few that the result is 5 to
 * 15% larger than Huffman coding with runs. Below it the search pays off. */
#define PNG_RLE_COST 4
/* Rows are given a deflate strategy in bands of about this many bytes. */
#define PNG_BAND_BYTES 8192

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

/* One byte of all five filters: its filtered values go to f[k][i] and
 * their costs are added to s[k]. a, b, c are the left, up and up-left
 * neighbours (0 outside the image). */
static inline void filter_byte(uint8_t *const f[5], size_t i, unsigned x, unsigned a,
                               unsigned b, unsigned c, unsigned long s[5])
{
    uint8_t v[5] = {(uint8_t)x, (uint8_t)(x - a), (uint8_t)(x - b),
                    (uint8_t)(x - ((a + b) >> 1)),
                    (uint8_t)(x - paeth((int)a, (int)b, (int)c))};
    for (int k = 0; k < 5; k++) {
        f[k][i] = v[k];
        s[k] += cost(v[k]);
    }
}

#ifdef __SSE2__
/* Bytes [i, i + 16) of all five filters, as filter_byte, 16 at a time;
 * needs i >= bpp. The costs (|byte| as int8: min(v, -v) as unsigned) are
 * summed by psadbw into the two 64-bit halves of sums[k]. Paeth needs 9
 * bits, so it runs on 16-bit lanes, 8 at a time. */
static inline void filter_16(uint8_t *const f[5], size_t i, const uint8_t *row,
                             const uint8_t *prev, size_t bpp, __m128i sums[5])
{
    const __m128i zero = _mm_setzero_si128();
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(row + i));
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(row + i - bpp));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(prev + i));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(prev + i - bpp));

    /* Average: floor((a + b) / 2) = pavgb's rounded-up mean minus the odd bit. */
    __m128i avg = _mm_sub_epi8(_mm_avg_epu8(a, b),
                               _mm_and_si128(_mm_xor_si128(a, b), _mm_set1_epi8(1)));

    __m128i pred[2];
    for (int h = 0; h < 2; h++) {
        __m128i a16 = h ? _mm_unpackhi_epi8(a, zero) : _mm_unpacklo_epi8(a, zero);
        __m128i b16 = h ? _mm_unpackhi_epi8(b, zero) : _mm_unpacklo_epi8(b, zero);
        __m128i c16 = h ? _mm_unpackhi_epi8(c, zero) : _mm_unpacklo_epi8(c, zero);
        __m128i db = _mm_sub_epi16(b16, c16), da = _mm_sub_epi16(a16, c16);
        __m128i dab = _mm_add_epi16(da, db);
        __m128i pa = _mm_max_epi16(db, _mm_sub_epi16(zero, db));
        __m128i pb = _mm_max_epi16(da, _mm_sub_epi16(zero, da));
        __m128i pc = _mm_max_epi16(dab, _mm_sub_epi16(zero, dab));
        __m128i b_wins = _mm_cmpgt_epi16(pa, pb);   /* pb < pa */
        __m128i ab = _mm_or_si128(_mm_and_si128(b_wins, b16), _mm_andnot_si128(b_wins, a16));
        __m128i pab = _mm_min_epi16(pa, pb);
        __m128i c_wins = _mm_cmpgt_epi16(pab, pc);   /* pc < min(pa, pb) */
        pred[h] = _mm_or_si128(_mm_and_si128(c_wins, c16), _mm_andnot_si128(c_wins, ab));
    }
    __m128i paeth16 = _mm_packus_epi16(pred[0], pred[1]);

    __m128i v[5] = {x, _mm_sub_epi8(x, a), _mm_sub_epi8(x, b), _mm_sub_epi8(x, avg),
                    _mm_sub_epi8(x, paeth16)};
    for (int k = 0; k < 5; k++) {
        _mm_storeu_si128((__m128i *)(void *)(f[k] + i), v[k]);
        __m128i mag = _mm_min_epu8(v[k], _mm_sub_epi8(zero, v[k]));
        sums[k] = _mm_add_epi64(sums[k], _mm_sad_epu8(mag, zero));
    }
}
#endif

/* Filter one row of n bytes with each of the five filter types into
 * f[0..4] and return the cost of each: the sum of the filtered bytes taken
 * as signed values, the "minimum sum of absolute differences" heuristic of
 * the PNG spec. One pass does all five (each byte's neighbours are loaded
 * once) and keeps their output, so the chosen row is a copy; prev is a row
 * of zeros for the first row. This loop is most of the filtering time. */
static void filter_all(uint8_t *const f[5], const uint8_t *restrict row,
                       const uint8_t *restrict prev, size_t n, size_t bpp,
                       unsigned long costs[5])
{
    unsigned long s[5] = {0, 0, 0, 0, 0};
    size_t i;
    for (i = 0; i < bpp && i < n; i++)
        filter_byte(f, i, row[i], 0, prev[i], 0, s);
#ifdef __SSE2__
    __m128i sums[5];
    for (int k = 0; k < 5; k++)
        sums[k] = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16)
        filter_16(f, i, row, prev, bpp, sums);
    for (int k = 0; k < 5; k++) {
        uint64_t halves[2];
        _mm_storeu_si128((__m128i *)(void *)halves, sums[k]);
        s[k] += (unsigned long)(halves[0] + halves[1]);
    }
#endif
    for (; i < n; i++)
        filter_byte(f, i, row[i], row[i - bpp], prev[i], prev[i - bpp], s);
    for (int k = 0; k < 5; k++)
        costs[k] = s[k];
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

/* IDAT holding data deflated in one call. The data is in bands of
 * band_len bytes (the last may be shorter), band k with strategy
 * strategies[k]: changing the strategy ends a deflate block, so that
 * smooth and noisy parts of one image each get their own.
 *
 * The window covers half the data (image matches are mostly a row or a
 * few pixels back) and the hash table and symbol buffer are scaled to it
 * (memLevel wbits - 7, so a 12 KiB image makes blocks of 8 Ki symbols): a
 * 64x64 RGB image then needs 64 KiB of deflate state, and with the
 * filtered copy its temporary memory stays under glibc's default trim
 * threshold (128 KiB). Above it every call would grow the heap with brk()
 * and shrink it again on free, page faults and TLB flushes that cost more
 * than the compression. */
static int put_idat_deflate(struct buf *out, const uint8_t *data, size_t len,
                            const uint8_t *strategies, size_t band_len)
{
    int wbits = 9;
    while (wbits < 15 && ((size_t)2 << wbits) < len)
        wbits++;
    int mem_level = wbits - 7 > 8 ? 8 : wbits - 7;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, PNG_DEFLATE_LEVEL, Z_DEFLATED, wbits, mem_level, strategies[0]) !=
        Z_OK)
        return -ENOMEM;
    /* With our window size deflateBound is the conservative bound (an
     * eighth more than the data, and more), room enough for the extra
     * block ends of strategy changes. */
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
    for (size_t k = 0, off = 0; off < len; k++, off += band_len) {
        if (k > 0 && strategies[k] != strategies[k - 1] &&
            deflateParams(&zs, PNG_DEFLATE_LEVEL, strategies[k]) != Z_OK) {
            r = -ENOMEM;   /* cannot happen with the output room we gave */
            goto out;
        }
        bool last = len - off <= band_len;
        zs.next_in = (Bytef *)(uintptr_t)(data + off);
        zs.avail_in = (uInt)(last ? len - off : band_len);
        int zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
        if (last ? zr != Z_STREAM_END : (zr != Z_OK || zs.avail_in != 0)) {
            r = -ENOMEM;
            goto out;
        }
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
     * image is before deflate spends time on it. Behind the filtered image
     * come a row of zeros (the row above the first), five scratch rows, one
     * per filter type, and the deflate strategy of each band of rows. */
    size_t band_rows = (PNG_BAND_BYTES + stride) / (stride + 1);
    size_t bands = (height + band_rows - 1) / band_rows;
    uint8_t *filtered = malloc(raw + 6 * stride + bands);
    if (!filtered) {
        r = -ENOMEM;
        goto fail;
    }
    uint8_t *zeros = filtered + raw;
    memset(zeros, 0, stride);
    uint8_t *const trial[5] = {zeros + stride, zeros + 2 * stride, zeros + 3 * stride,
                               zeros + 4 * stride, zeros + 5 * stride};
    uint8_t *strategies = zeros + 6 * stride;
    unsigned long long total_cost = 0, band_cost = 0;
    for (size_t y = 0; y < height; y++) {
        const uint8_t *row = pixels + y * stride;
        const uint8_t *prev = y ? row - stride : zeros;
        uint8_t *dst = filtered + y * (stride + 1);
        unsigned long costs[5];
        filter_all(trial, row, prev, stride, channels, costs);
        /* Ties go to the simpler filter. On the first row Up and Paeth
         * equal None and Sub. */
        int best = 0;
        for (int ft = 1; ft <= 4; ft++)
            if (costs[ft] < costs[best])
                best = ft;
        dst[0] = (uint8_t)best;
        memcpy(dst + 1, trial[best], stride);
        total_cost += costs[best];
        band_cost += costs[best];
        /* A noisy band: matches are rare and short, and searching for
         * them is most of deflate's time; runs (flat areas) remain. */
        if ((y + 1) % band_rows == 0 || y + 1 == height) {
            size_t n = ((y % band_rows) + 1) * stride;
            strategies[y / band_rows] =
                band_cost >= PNG_RLE_COST * (unsigned long long)n ? Z_RLE : Z_DEFAULT_STRATEGY;
            band_cost = 0;
        }
    }

    /* Noise (random weights, untrained activations) stays noise after
     * filtering, and deflate would spend most of the encoding time to save
     * a few percent: such images are stored. */
    bool noise = total_cost >= PNG_NOISE_COST * (unsigned long long)(height * stride);
    r = noise ? put_idat_stored(out, filtered, raw)
              : put_idat_deflate(out, filtered, raw, strategies, band_rows * (stride + 1));
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
