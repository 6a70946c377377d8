/* json_fast: the commonest JSON line decoded without cJSON.
 *
 * Nearly every line a training loop sends is one shape:
 *   {"op":"log","logdir":"exp","step":12,"values":{"loss":0.25,"acc":0.9}}
 * Building a cJSON tree for it (a node and a string per member), looking
 * every field up by name and freeing the tree costs several times what the
 * rest of the daemon spends on the line, so this module reads that shape
 * directly from the bytes. It is a strict subset of jd_decode_full()
 * (json_decode.h): it accepts a line only when the full decoder would
 * accept it and fill the request the same way, and declines anything else
 * -- escapes, control bytes, nested runs, typed or text values, other ops,
 * unusual numbers or whitespace, duplicate or unknown fields, and
 * everything the full decoder would refuse -- which then goes the full
 * way, whose error sentences are the only ones. tests/test-json_fastpath.c
 * holds the two to the same results. Pure; no logging. */
#ifndef TFEVENTS_JSON_FAST_H
#define TFEVENTS_JSON_FAST_H

#include <stddef.h>

#include "request.h"

/* Decode line[0..len) into m (recycled first, request_recycle()): 0 with m
 * filled exactly as jd_decode_full() would fill it, or 1 ("not mine"),
 * leaving m to be reset by the full decoder. */
int jd_decode_fast(struct request *m, const char *line, size_t len);

#endif
