/* utf8: strict UTF-8 validation (and the replacement of invalid bytes).
 *
 * Protobuf string fields must hold valid UTF-8 (the Python runtime rejects
 * the whole record otherwise), so every tag, text and name we write passes
 * through here first. */
#ifndef TFEVENTS_UTF8_H
#define TFEVENTS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequences. NUL bytes are valid (U+0000). len 0 is valid; s may then be
 * NULL. */
bool utf8_valid(const void *s, size_t len);

/* Decode the code point at s[0..len); returns the bytes it takes (1..4) and
 * stores it in *ret_cp, or -EILSEQ when the sequence there is invalid. */
int utf8_decode(const void *s, size_t len, unsigned *ret_cp);

/* A NUL-terminated copy of s[0..len) with every maximal invalid subpart
 * replaced by U+FFFD (what Python's errors="replace" does, so text read
 * back matches what TensorBoard shows). Caller frees; NULL when out of
 * memory. */
char *utf8_replace(const void *s, size_t len);

#endif
