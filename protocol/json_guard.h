/* json_guard: a cheap look at a JSON line before it is parsed, for the two
 * sizes a parse would pay for before any field is checked: nesting depth
 * (cJSON recurses once per level) and array elements (cJSON allocates a
 * node of about 80 bytes for every number, so a 16 MiB line of "0," would
 * cost some 640 MiB before the decoder could refuse it). It also finds
 * the number literals that overflow a double (1e400), which cJSON would
 * silently read as an infinity, and a \u0000 in a string.
 *
 * One pass, no allocation. It is not a validator: malformed JSON passes
 * (the decoder rejects it with a better message), and it never rejects
 * something within the limits. Pure; no logging. */
#ifndef TFEVENTSD_JSON_GUARD_H
#define TFEVENTSD_JSON_GUARD_H

#include <stddef.h>

struct json_guard_limits {
    unsigned max_depth;     /* objects and arrays open at once */
    size_t max_elements;    /* scalar elements (numbers, strings, literals)
                               directly inside arrays, over the whole line */
};

enum json_guard_what {
    JSON_GUARD_OK = 0,
    JSON_GUARD_DEPTH,
    JSON_GUARD_ELEMENTS,
    JSON_GUARD_NUL,         /* a string holds \u0000 or a raw NUL byte:
                               cJSON would cut it there, silently changing
                               a name or tag */
    JSON_GUARD_RANGE,       /* a number literal overflows a double (1e400):
                               cJSON would read it as +-Infinity */
};

/* Scan line[0..len). Returns 0, or -EMSGSIZE with *ret_what saying which
 * limit was passed (ret_what may be NULL), or -ERANGE for
 * JSON_GUARD_RANGE. */
int json_guard_check(const char *line, size_t len, const struct json_guard_limits *lim,
                     enum json_guard_what *ret_what);

/* The same, and for JSON_GUARD_RANGE where the number is: line[*ret_off ..
 * *ret_off + *ret_len) (unset otherwise). */
int json_guard_scan(const char *line, size_t len, const struct json_guard_limits *lim,
                    enum json_guard_what *ret_what, size_t *ret_off, size_t *ret_len);

/* The JSON text of the top-level "id" member of line, so that a refused
 * line's error reply can carry it: a number, or a string of printable
 * ASCII, at most max bytes. Returns its length (copied to out, NUL-
 * terminated, out_size > max), or 0 when there is none usable. */
size_t json_guard_find_id(const char *line, size_t len, char *out, size_t out_size);

#endif
