/* png: a small PNG encoder (8-bit gray, gray+alpha, RGB, RGBA) on zlib, and
 * size sniffing for PNG and JPEG blobs.
 *
 * Output: signature, IHDR, one IDAT, IEND; chunk CRCs with zlib's crc32
 * (PNG's CRC is the same ISO 3309 polynomial). Each row gets the filter
 * (None, Sub, Up, Average or Paeth) with the smallest sum of absolute
 * values, the usual heuristic (SSE2 where available). Deflate runs at a
 * fast level; bands of rows that still look noisy after filtering are
 * deflated with runs only (Z_RLE), images that are noise throughout are
 * stored. Reentrant: no state outside the call. */
#ifndef TFEVENTS_PNG_H
#define TFEVENTS_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Largest width or height we encode (what fits a browser canvas). */
#define PNG_MAX_DIM 32768u
/* Largest width * height of one image (64 Mi pixels, up to 256 MiB RGBA). */
#define PNG_MAX_PIXELS ((size_t)1 << 26)

/* Encode a height x width image of channels (1..4) interleaved 8-bit
 * samples per pixel, rows top to bottom, appending the PNG to out.
 * -EINVAL for bad dimensions or channels (limits above), -EMSGSIZE past
 * out's cap, -ENOMEM. */
int png_encode(struct buf *out, const uint8_t *pixels, size_t width, size_t height,
               size_t channels);

enum png_format { PNG_FORMAT_UNKNOWN = 0, PNG_FORMAT_PNG, PNG_FORMAT_JPEG };

/* Sniff an encoded image: PNG (signature + IHDR) or JPEG (SOI, then the
 * first SOFn marker). On success returns the format and stores the size;
 * -EINVAL when the blob is neither or its header is malformed. */
int png_sniff(const void *data, size_t len, uint32_t *ret_width, uint32_t *ret_height);

#endif
