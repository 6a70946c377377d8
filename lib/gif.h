/* gif: animated GIF89a images, as TensorBoard's image dashboard plays them
 * (tensorboardX's add_video writes one), and the size of a GIF read from
 * its header.
 *
 * The encoder takes frames of 8-bit pixels, [frames, height, width,
 * channels] row-major (channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha
 * is dropped: TensorBoard shows frames on white anyway), and writes one
 * looping GIF89a: a global colour table, a NETSCAPE2.0 loop extension, and
 * per frame a graphic control extension with its delay and the frame
 * LZW-compressed. Colours: when all frames together use at most 256
 * colours the palette holds exactly them (lossless); otherwise every
 * channel is rounded to the nearest of 6 levels (a 216-colour cube).
 *
 * Pure functions: no I/O, no logging, no global state. */
#ifndef TFEVENTS_GIF_H
#define TFEVENTS_GIF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A GIF's width and height are 16-bit. */
#define GIF_MAX_DIM 65535u
/* Frames of one animation, and all their pixels together. */
#define GIF_MAX_FRAMES 4096u
#define GIF_MAX_PIXELS ((size_t)1 << 26)
/* Frame delays are hundredths of a second (at least 1, at most 65535). */
#define GIF_MAX_FPS 100.0

/* Append the GIF of frames to out. fps: frames per second (> 0, at most
 * GIF_MAX_FPS; the delay is rounded to hundredths, at least 1). -EINVAL
 * (with *why) for bad sizes or fps, -EMSGSIZE past a limit, -ENOMEM. */
int gif_encode(struct buf *out, const uint8_t *frames, size_t n_frames, size_t height,
               size_t width, size_t channels, double fps, const char **why);

/* A GIF87a/GIF89a header: 0 and its logical screen size, or -EINVAL. */
int gif_sniff(const void *data, size_t len, uint32_t *ret_width, uint32_t *ret_height);

#endif
