/* json_packed: packed arrays of the JSON protocol (docs/protocol.md,
 * "Packed arrays"): wherever a line takes an array of numbers (histogram
 * data, edges and counts, pixels, audio samples, custom numbers), it also
 * takes an object with one key naming the element type and a base64
 * string of the little-endian elements:
 *     {"f64": "<base64>"}   {"f32": ...}   {"i16": ...}   {"u8": ...}
 * The numbers are the same ones the array would hold (so every rule of
 * the number form applies to them, NaN and the infinities included), as a
 * flat array: a shape comes from the value's "shape" field. Formatting and
 * parsing 10,000 doubles as text costs milliseconds; packed, microseconds.
 * Pure; no logging. */
#ifndef TFEVENTS_JSON_PACKED_H
#define TFEVENTS_JSON_PACKED_H

#include "json_read.h"

/* Packed elements in one message, over all its packed arrays. Each
 * element is held as a double while the line is translated (8 bytes for
 * every 1.33 base64 characters of a u8 array), so this bounds what a line
 * within --max-line can make the daemon allocate: 64 MiB. Packed elements
 * are not JSON tokens and do not count against --max-elements, which
 * bounds cJSON's nodes (about 80 bytes each); like the binary protocol's
 * arrays they are bounded by this and by the line's length. */
#define JSON_PACKED_MAX_ELEMENTS (8u << 20)

/* Is it the packed form (an object), rather than an array? */
bool json_packed_is(const cJSON *it);

/* it ({"f64": "..."}) into a (flat, rank 1; a->v owned), counted in
 * c->packed. 0, or -EINVAL (unknown type, not one key, bad base64, a
 * length not a multiple of the element size) or -EMSGSIZE (past
 * JSON_PACKED_MAX_ELEMENTS) with the sentence in c->err. */
int json_packed_numbers(struct json_read *c, const cJSON *it, const char *where,
                        struct json_read_array *a);

#endif
