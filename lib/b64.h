/* b64: base64 (RFC 4648, standard alphabet) for the packed arrays of the
 * JSON protocol (docs/protocol.md, "Packed arrays"), where a histogram's
 * 10,000 doubles travel as 107 KB of base64: decoding is one table load
 * per character and one check per 4 characters.
 *
 * Strict, so that one byte string has one spelling: no whitespace, no
 * other alphabet, the final '=' padding optional but correct when given,
 * and the unused low bits of the last character zero. (nettle's decoder,
 * which json_read_base64() uses for images and plugin data, is lenient
 * about these; bulk arrays are new and can be strict from the start.)
 * Pure; no allocation, no logging. */
#ifndef TFEVENTS_B64_H
#define TFEVENTS_B64_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes len characters decode to (a buffer for b64_decode()). */
static inline size_t b64_decoded_max(size_t len)
{
    return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

/* Characters b64_encode() writes for n bytes, with padding, without NUL. */
static inline size_t b64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Decode s[0..len) into out (room for b64_decoded_max(len) bytes). 0 with
 * *ret_len the bytes written, or -EINVAL (nothing meaningful in out):
 * a character outside the alphabet, misplaced or wrong padding, a last
 * group of one character, non-zero unused bits. */
int b64_decode(const char *s, size_t len, uint8_t *out, size_t *ret_len);

/* Encode p[0..n) into out (room for b64_encoded_size(n) characters),
 * padded; no NUL is written. Returns the characters written. */
size_t b64_encode(const uint8_t *p, size_t n, char *out);

#endif
