#include "json_guard.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Containers are tracked as bits of a word array, one bit per level (1:
 * array), so the depth limit costs no allocation. */
#define GUARD_STACK_WORDS 64u   /* 4096 levels, well past any sane limit */

int json_guard_check(const char *line, size_t len, const struct json_guard_limits *lim,
                     enum json_guard_what *ret_what)
{
    uint64_t is_array[GUARD_STACK_WORDS] = {0};
    unsigned max_depth = lim->max_depth;
    if (max_depth > GUARD_STACK_WORDS * 64u)
        max_depth = GUARD_STACK_WORDS * 64u;
    unsigned depth = 0;
    size_t elements = 0;
    bool expect_element = false;   /* just after '[' or an array's ',' */
    enum json_guard_what what = JSON_GUARD_OK;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        bool in_array = depth > 0 &&
                        (is_array[(depth - 1) / 64] >> ((depth - 1) % 64) & 1u);
        if (expect_element) {
            expect_element = false;
            if (ch != '[' && ch != '{' && ch != ']' && ++elements > lim->max_elements) {
                what = JSON_GUARD_ELEMENTS;
                break;
            }
        }
        switch (ch) {
        case '"':
            /* Skip the string; an escaped quote does not end it. */
            for (i++; i < len && line[i] != '"'; i++) {
                if (line[i] != '\\')
                    continue;
                i++;
                if (len - i >= 5 && memcmp(line + i, "u0000", 5) == 0) {
                    what = JSON_GUARD_NUL;
                    goto out;
                }
            }
            break;
        case '[':
        case '{':
            if (depth >= max_depth) {
                what = JSON_GUARD_DEPTH;
                goto out;
            }
            if (ch == '[')
                is_array[depth / 64] |= (uint64_t)1 << (depth % 64);
            else
                is_array[depth / 64] &= ~((uint64_t)1 << (depth % 64));
            depth++;
            expect_element = ch == '[';
            break;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            break;
        case ',':
            expect_element = in_array;
            break;
        default:
            break;
        }
    }
out:
    if (ret_what)
        *ret_what = what;
    return what == JSON_GUARD_OK ? 0 : -EMSGSIZE;
}

/* End of the string starting at line[i] == '"': the index of its closing
 * quote, or len. */
static size_t string_end(const char *line, size_t len, size_t i)
{
    for (i++; i < len && line[i] != '"'; i++)
        if (line[i] == '\\')
            i++;
    return i < len ? i : len;
}

size_t json_guard_find_id(const char *line, size_t len, char *out, size_t out_size)
{
    size_t depth = 0;
    bool key_next = false;   /* at depth 1, after '{' or ',' */
    bool id_key = false;     /* the last key at depth 1 was "id" */
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ':')
            continue;
        if (depth == 1 && id_key) {
            /* The value of "id". */
            size_t end = i;
            bool ok = true;
            if (ch == '"') {
                end = string_end(line, len, i);
                if (end == len)
                    return 0;
                end++;
                for (size_t k = i + 1; k + 1 < end; k++)
                    ok = ok && line[k] >= 0x20 && line[k] < 0x7f;
            } else {
                while (end < len && strchr("-+.0123456789eE", line[end]) && line[end])
                    end++;
                ok = end > i;
            }
            size_t n = end - i;
            if (!ok || n + 1 > out_size)
                return 0;
            memcpy(out, line + i, n);
            out[n] = '\0';
            return n;
        }
        switch (ch) {
        case '"': {
            size_t end = string_end(line, len, i);
            if (depth == 1 && key_next)
                id_key = end - i == 3 && memcmp(line + i, "\"id", 3) == 0;
            key_next = false;
            i = end;
            break;
        }
        case '{':
        case '[':
            depth++;
            key_next = depth == 1 && ch == '{';
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            key_next = depth == 1;
            break;
        default:
            break;
        }
    }
    return 0;
}
