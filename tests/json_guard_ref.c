/* json_guard_ref: the plain reference of json_guard's rules (see
 * json_guard_ref.h). */
#include "json_guard_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* strtod (C locale) reads an infinity from tok[0..n). */
static bool strtod_infinite(const char *tok, size_t n)
{
    char *buf = malloc(n + 1);
    if (!buf)
        abort();
    memcpy(buf, tok, n);
    buf[n] = '\0';
    bool inf = isinf(strtod(buf, NULL));
    free(buf);
    return inf;
}

bool json_guard_ref_overflows(const char *tok, size_t n)
{
    if (n == 0 || !(tok[0] == '-' || (tok[0] >= '0' && tok[0] <= '9')))
        return false;
    return strtod_infinite(tok, n) || (n > 63 && strtod_infinite(tok, 63));
}

static bool ref_number_byte(char ch)
{
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
           ch == 'E';
}

enum json_guard_what json_guard_reference(const char *line, size_t len, unsigned max_depth,
                                          size_t max_elements)
{
    bool is_array[JSON_GUARD_REF_MAX_DEPTH] = {false};
    if (max_depth > JSON_GUARD_REF_MAX_DEPTH)
        max_depth = JSON_GUARD_REF_MAX_DEPTH;
    unsigned depth = 0;
    size_t elements = 0;
    bool expect_element = false;
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if (expect_element) {
            expect_element = false;
            if (ch != '[' && ch != '{' && ch != ']') {
                elements++;
                if (elements > max_elements)
                    return JSON_GUARD_ELEMENTS;
            }
        }
        if (ch == '"') {
            i++;
            while (i < len && line[i] != '"') {
                if (line[i] == '\0')
                    return JSON_GUARD_NUL;
                if (line[i] == '\\') {
                    i++;
                    if (i + 5 <= len && memcmp(line + i, "u0000", 5) == 0)
                        return JSON_GUARD_NUL;
                }
                i++;
            }
        } else if (ch == '[' || ch == '{') {
            if (depth >= max_depth)
                return JSON_GUARD_DEPTH;
            is_array[depth] = ch == '[';
            depth++;
            expect_element = ch == '[';
        } else if (ch == ']' || ch == '}') {
            if (depth > 0)
                depth--;
        } else if (ch == ',') {
            expect_element = depth > 0 && is_array[depth - 1];
        } else if (ref_number_byte(ch) && (i == 0 || !ref_number_byte(line[i - 1]))) {
            /* A token of number bytes, as cJSON reads it (all of it, or
             * its first 63 bytes in older releases). */
            size_t b = i;
            while (b < len && ref_number_byte(line[b]))
                b++;
            if (json_guard_ref_overflows(line + i, b - i))
                return JSON_GUARD_RANGE;
            i = b - 1;
        }
    }
    return JSON_GUARD_OK;
}
