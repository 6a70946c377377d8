/* Animated GIF89a encoding (gif.h). */
#include "gif.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* LZW codes are at most 12 bits: 4096 table entries. */
#define LZW_MAX_CODES 4096u
/* Data sub-blocks hold at most 255 bytes. */
#define GIF_BLOCK 255u

int gif_sniff(const void *data, size_t len, uint32_t *ret_width, uint32_t *ret_height)
{
    const uint8_t *p = data;
    if (!p || len < 13 || (memcmp(p, "GIF87a", 6) != 0 && memcmp(p, "GIF89a", 6) != 0))
        return -EINVAL;
    uint32_t w = p[6] | (uint32_t)p[7] << 8, h = p[8] | (uint32_t)p[9] << 8;
    if (w == 0 || h == 0)
        return -EINVAL;
    *ret_width = w;
    *ret_height = h;
    return 0;
}

/* ---- palette ------------------------------------------------------------- */

struct palette {
    uint32_t rgb[256];
    size_t n;
    bool cube;            /* the 6x6x6 cube instead of exact colours */
    uint32_t *slots;      /* open addressing: colour + 1, 0 empty */
    uint8_t *index;       /* slot -> palette index */
    size_t cap;           /* power of two */
};

static uint32_t rgb_at(const uint8_t *px, size_t channels)
{
    if (channels <= 2)
        return (uint32_t)px[0] << 16 | (uint32_t)px[0] << 8 | px[0];
    return (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
}

static size_t slot_of(const struct palette *p, uint32_t c)
{
    size_t i = (c * 2654435761u) & (p->cap - 1);
    while (p->slots[i] && p->slots[i] != c + 1)
        i = (i + 1) & (p->cap - 1);
    return i;
}

/* The exact colours of all frames, or the cube when there are more than
 * 256 of them. */
static int palette_build(struct palette *p, const uint8_t *px, size_t n_px, size_t channels)
{
    memset(p, 0, sizeof *p);
    p->cap = 1024;
    p->slots = calloc(p->cap, sizeof *p->slots);
    p->index = calloc(p->cap, 1);
    if (!p->slots || !p->index)
        return -ENOMEM;
    for (size_t i = 0; i < n_px; i++) {
        uint32_t c = rgb_at(px + i * channels, channels);
        size_t s = slot_of(p, c);
        if (p->slots[s])
            continue;
        if (p->n == 256) {
            p->cube = true;
            break;
        }
        p->slots[s] = c + 1;
        p->index[s] = (uint8_t)p->n;
        p->rgb[p->n++] = c;
    }
    if (p->cube) {
        static const uint8_t level[6] = {0, 51, 102, 153, 204, 255};
        p->n = 216;
        for (size_t i = 0; i < 216; i++)
            p->rgb[i] = (uint32_t)level[i / 36] << 16 | (uint32_t)level[i / 6 % 6] << 8 |
                        level[i % 6];
    }
    return 0;
}

static uint8_t palette_index(const struct palette *p, const uint8_t *px, size_t channels)
{
    uint32_t c = rgb_at(px, channels);
    if (!p->cube)
        return p->index[slot_of(p, c)];
    /* Nearest of the 6 levels (multiples of 51) per channel. */
    unsigned r = ((c >> 16 & 255) + 25) / 51, g = ((c >> 8 & 255) + 25) / 51,
             b = ((c & 255) + 25) / 51;
    return (uint8_t)(r * 36 + g * 6 + b);
}

static void palette_done(struct palette *p)
{
    free(p->slots);
    free(p->index);
}

/* ---- LZW ----------------------------------------------------------------- */

struct bits {
    struct buf *out;
    uint8_t block[GIF_BLOCK];
    size_t n;            /* bytes in block */
    uint32_t acc;        /* pending bits, least significant first */
    unsigned n_acc;
    int r;
};

static void flush_block(struct bits *b)
{
    uint8_t len = (uint8_t)b->n;
    if (b->r == 0 && b->n)
        b->r = buf_append(b->out, &len, 1);
    if (b->r == 0 && b->n)
        b->r = buf_append(b->out, b->block, b->n);
    b->n = 0;
}

static void put_code(struct bits *b, unsigned code, unsigned size)
{
    b->acc |= (uint32_t)code << b->n_acc;
    b->n_acc += size;
    while (b->n_acc >= 8) {
        b->block[b->n++] = (uint8_t)b->acc;
        b->acc >>= 8;
        b->n_acc -= 8;
        if (b->n == GIF_BLOCK)
            flush_block(b);
    }
}

/* The table maps (prefix code, next index) to a code: 4096 x 256 entries
 * of 16 bits, 0 meaning absent (code 0 is a root, never a new entry). */
static int lzw_encode(struct buf *out, const uint8_t *idx, size_t n, unsigned min_size,
                      uint16_t *table)
{
    const unsigned clear = 1u << min_size, eoi = clear + 1;
    unsigned size = min_size + 1, next = clear + 2;
    struct bits b = {.out = out};
    uint8_t m = (uint8_t)min_size;
    b.r = buf_append(out, &m, 1);
    memset(table, 0, (size_t)LZW_MAX_CODES * 256 * sizeof *table);
    put_code(&b, clear, size);
    unsigned prefix = idx[0];
    for (size_t i = 1; i < n; i++) {
        uint16_t *e = &table[(size_t)prefix * 256 + idx[i]];
        if (*e) {
            prefix = *e;
            continue;
        }
        put_code(&b, prefix, size);
        /* The decoder adds this entry one code later: it reads the next
         * code with one bit more once its table reaches 1 << size. */
        *e = (uint16_t)next++;
        if (next - 1 == 1u << size && size < 12)
            size++;
        if (next == LZW_MAX_CODES) {
            put_code(&b, clear, size);
            memset(table, 0, (size_t)LZW_MAX_CODES * 256 * sizeof *table);
            size = min_size + 1;
            next = clear + 2;
        }
        prefix = idx[i];
    }
    put_code(&b, prefix, size);
    if (next == 1u << size && size < 12)
        size++;
    put_code(&b, eoi, size);
    if (b.n_acc)
        put_code(&b, 0, 8 - b.n_acc);
    flush_block(&b);
    uint8_t end = 0;
    if (b.r == 0)
        b.r = buf_append(out, &end, 1);
    return b.r;
}

/* ---- the file ------------------------------------------------------------ */

static int put_u16(struct buf *out, size_t v)
{
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return buf_append(out, le, 2);
}

static int header(struct buf *out, size_t width, size_t height, const struct palette *p,
                  unsigned table_bits)
{
    int r = buf_append(out, "GIF89a", 6);
    if (r == 0)
        r = put_u16(out, width);
    if (r == 0)
        r = put_u16(out, height);
    /* Global table, 8-bit colour resolution, 2^table_bits entries. */
    uint8_t lsd[3] = {(uint8_t)(0xF0 | (table_bits - 1)), 0, 0};
    if (r == 0)
        r = buf_append(out, lsd, 3);
    for (size_t i = 0; r == 0 && i < (1u << table_bits); i++) {
        uint32_t c = i < p->n ? p->rgb[i] : 0;
        uint8_t rgb[3] = {(uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
        r = buf_append(out, rgb, 3);
    }
    /* Loop forever: NETSCAPE2.0 application extension, count 0. */
    static const uint8_t loop[19] = {0x21, 0xFF, 11, 'N', 'E', 'T', 'S', 'C', 'A', 'P',
                                     'E', '2', '.', '0', 3, 1, 0, 0, 0};
    if (r == 0)
        r = buf_append(out, loop, sizeof loop);
    return r;
}

static int frame(struct buf *out, const uint8_t *idx, size_t width, size_t height,
                 unsigned delay, unsigned min_size, uint16_t *table)
{
    /* Graphic control: disposal 1 (leave the frame), no transparency. */
    uint8_t gce[8] = {0x21, 0xF9, 4, 0x04, (uint8_t)delay, (uint8_t)(delay >> 8), 0, 0};
    uint8_t sep = 0x2C, packed = 0;
    int r = buf_append(out, gce, sizeof gce);
    if (r == 0)
        r = buf_append(out, &sep, 1);
    if (r == 0)
        r = put_u16(out, 0);
    if (r == 0)
        r = put_u16(out, 0);
    if (r == 0)
        r = put_u16(out, width);
    if (r == 0)
        r = put_u16(out, height);
    if (r == 0)
        r = buf_append(out, &packed, 1);
    return r == 0 ? lzw_encode(out, idx, width * height, min_size, table) : r;
}

static int check_args(const uint8_t *frames, size_t n_frames, size_t height, size_t width,
                      size_t channels, double fps, const char **why)
{
    if (!frames || n_frames == 0 || channels < 1 || channels > 4) {
        *why = "animation needs 1 or more frames of 1 to 4 channels";
        return -EINVAL;
    }
    if (width == 0 || height == 0 || width > GIF_MAX_DIM || height > GIF_MAX_DIM) {
        *why = "animation frame size outside 1..65535";
        return -EINVAL;
    }
    if (n_frames > GIF_MAX_FRAMES || width * height > GIF_MAX_PIXELS / n_frames) {
        *why = "animation larger than GIF_MAX_FRAMES or GIF_MAX_PIXELS";
        return -EMSGSIZE;
    }
    if (!(fps > 0 && fps <= GIF_MAX_FPS)) {
        *why = "animation fps must be above 0 and at most 100";
        return -EINVAL;
    }
    return 0;
}

int gif_encode(struct buf *out, const uint8_t *frames, size_t n_frames, size_t height,
               size_t width, size_t channels, double fps, const char **why)
{
    int r = check_args(frames, n_frames, height, width, channels, fps, why);
    if (r < 0)
        return r;
    long d = lround(100.0 / fps);
    unsigned delay = d < 1 ? 1 : d > 65535 ? 65535 : (unsigned)d;
    size_t px = width * height;
    struct palette p;
    uint8_t *idx = malloc(px);
    uint16_t *table = malloc((size_t)LZW_MAX_CODES * 256 * sizeof *table);
    r = idx && table ? palette_build(&p, frames, px * n_frames, channels) : -ENOMEM;
    unsigned bits = 1;
    while (r == 0 && (1u << bits) < p.n)
        bits++;
    if (r == 0)
        r = header(out, width, height, &p, bits);
    /* LZW codes start one bit above the palette's (2 at least). */
    unsigned min_size = bits < 2 ? 2 : bits;
    for (size_t f = 0; r == 0 && f < n_frames; f++) {
        const uint8_t *src = frames + f * px * channels;
        for (size_t i = 0; i < px; i++)
            idx[i] = palette_index(&p, src + i * channels, channels);
        r = frame(out, idx, width, height, delay, min_size, table);
    }
    uint8_t trailer = 0x3B;
    if (r == 0)
        r = buf_append(out, &trailer, 1);
    if (idx && table)
        palette_done(&p);
    free(idx);
    free(table);
    if (r == -ENOMEM)
        *why = NULL;
    return r;
}
