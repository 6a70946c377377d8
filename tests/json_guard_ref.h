/* json_guard_ref: json_guard's rules written plainly, one byte at a time,
 * for the unit test and the fuzzer to hold the real scan (which skips runs
 * of uninteresting bytes with a table) to. Test code: not in the daemon. */
#ifndef TFEVENTS_JSON_GUARD_REF_H
#define TFEVENTS_JSON_GUARD_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "json_guard.h"

/* Deepest nesting the reference follows; a larger max_depth is taken as
 * this (callers stay below it). */
#define JSON_GUARD_REF_MAX_DEPTH 4096u

/* What json_guard_check() must answer for line[0..len) under these
 * limits. */
enum json_guard_what json_guard_reference(const char *line, size_t len, unsigned max_depth,
                                          size_t max_elements);

/* What cJSON reads of the number token tok[0..n) (a whole run of number
 * bytes starting with '-' or a digit: strtod in the C locale of all of it,
 * or of its first 63 bytes as cJSON 1.7.15 as released did) is an
 * infinity. */
bool json_guard_ref_overflows(const char *tok, size_t n);

#endif
