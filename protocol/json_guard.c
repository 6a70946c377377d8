#include "json_guard.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Containers are tracked as bits of a word array, one bit per level (1:
 * array), so the depth limit costs no allocation. */
#define GUARD_STACK_WORDS 64u   /* 4096 levels, well past any sane limit */

/* Bytes the scan must look at: everything else (digits, letters, ':',
 * whitespace) is skipped in a tight loop, which is most of a line. */
enum { C_PLAIN = 0, C_QUOTE, C_OPEN, C_CLOSE, C_COMMA, C_EXP };
static const unsigned char guard_class[256] = {
    ['"'] = C_QUOTE, ['['] = C_OPEN, ['{'] = C_OPEN,
    [']'] = C_CLOSE, ['}'] = C_CLOSE, [','] = C_COMMA,
    ['e'] = C_EXP, ['E'] = C_EXP,
};

/* cJSON 1.7.15 as released reads at most this many bytes of a number (its
 * buffer of 64); later releases, and Debian's patched 1.7.15, read the
 * whole run of number bytes. The guard refuses a number that either
 * reading finds infinite, whichever cJSON the daemon is linked with. */
#define GUARD_NUMBER_MAX 63u

static bool number_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
           ch == 'E';
}

static bool digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Does strtod read the number bytes p[0..n) as an infinity? It reads the
 * longest prefix of the form [-]digits[.digits](e|E)[+|-]digits (a bare
 * "-.5" included); without an exponent the value is at most 10^n, which
 * needs n > 308 digits... and is then checked the same way. Decided from
 * the digit count and the exponent; only a value of magnitude 10^308 goes
 * through strtod, given its significant digits and the exponent alone
 * (digits and 'e': no decimal point, so no locale). */
static bool reads_infinite(const char *p, size_t n)
{
    size_t nd = 0, i = 0, first = 0;   /* significant digits from p[first] */
    long long exp = 0, e = 0;
    bool neg = i < n && p[i] == '-';
    if (neg)
        i++;
    /* cJSON hands "-.9e999" to strtod too (a value may start with '-'),
     * which reads it; a token starting with '.' is no value at all. */
    bool lead_dot = neg && i + 1 < n && p[i] == '.' && digit(p[i + 1]);
    if (i >= n || (!digit(p[i]) && !lead_dot))
        return false;
    for (; i < n && digit(p[i]); i++)
        if (nd > 0 || p[i] != '0') {
            if (nd++ == 0)
                first = i;
        }
    if (i < n && p[i] == '.')
        for (i++; i < n && digit(p[i]); i++, exp--)
            if (nd > 0 || p[i] != '0') {
                if (nd++ == 0)
                    first = i;
            }
    size_t mantissa_end = i;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = j < n && p[j] == '-';
        if (j < n && (p[j] == '-' || p[j] == '+'))
            j++;
        if (j < n && digit(p[j])) {   /* else strtod stops before the 'e' */
            for (; j < n && digit(p[j]); j++)
                if (e < 100000000)
                    e = e * 10 + (p[j] - '0');
            exp += eneg ? -e : e;
        }
    }
    if (nd == 0)
        return false;   /* zero, whatever the exponent */
    /* The value is d.ddd x 10^(nd + exp - 1); DBL_MAX is 1.8 x 10^308. */
    long long mag = (long long)nd + exp - 1;
    if (mag != 308)
        return mag > 308;
    char small[128];
    size_t cap = nd + 24;
    char *buf = cap <= sizeof small ? small : malloc(cap);
    if (!buf)
        return true;   /* cannot tell: refuse rather than let infinity in */
    size_t k = 0;
    for (size_t q = first; q < mantissa_end; q++)
        if (digit(p[q]))
            buf[k++] = p[q];
    snprintf(buf + k, cap - k, "e%lld", exp);
    bool inf = isinf(strtod(buf, NULL));
    if (buf != small)
        free(buf);
    return inf;
}

/* Does the number token p[0..n) (a whole run of number bytes) overflow a
 * double as cJSON reads it? */
static bool number_overflows(const char *p, size_t n)
{
    return reads_infinite(p, n) || (n > GUARD_NUMBER_MAX && reads_infinite(p, GUARD_NUMBER_MAX));
}

/* Shorter number tokens without an exponent are below 10^308. */
#define GUARD_LONG_NUMBER 309u

/* Number tokens without an exponent inside the plain bytes line[from..to)
 * (a token running on into an 'e' at `to` is the exponent case's). True,
 * with the what and where of JSON_GUARD_RANGE, for one that overflows. */
static bool long_number(const char *line, size_t len, size_t from, size_t to,
                        enum json_guard_what *what, size_t *ret_off, size_t *ret_len)
{
    const unsigned char *s = (const unsigned char *)line;
    for (size_t a = from; a < to;) {
        if (!number_byte(s[a])) {
            a++;
            continue;
        }
        size_t b = a;
        while (b < to && number_byte(s[b]))
            b++;
        bool to_exp = b == to && to < len && (s[to] == 'e' || s[to] == 'E');
        if (b - a >= GUARD_LONG_NUMBER && !to_exp && (a == 0 || !number_byte(s[a - 1])) &&
            number_overflows(line + a, b - a)) {
            *what = JSON_GUARD_RANGE;
            *ret_off = a;
            *ret_len = b - a;
            return true;
        }
        a = b;
    }
    return false;
}

int json_guard_check(const char *line, size_t len, const struct json_guard_limits *lim,
                     enum json_guard_what *ret_what)
{
    size_t off, n;
    return json_guard_scan(line, len, lim, ret_what, &off, &n);
}

int json_guard_scan(const char *line, size_t len, const struct json_guard_limits *lim,
                    enum json_guard_what *ret_what, size_t *ret_off, size_t *ret_len)
{
    uint64_t is_array[GUARD_STACK_WORDS] = {0};
    unsigned max_depth = lim->max_depth;
    if (max_depth > GUARD_STACK_WORDS * 64u)
        max_depth = GUARD_STACK_WORDS * 64u;
    unsigned depth = 0;
    size_t elements = 0;
    bool expect_element = false;   /* just after '[' or an array's ',' */
    enum json_guard_what what = JSON_GUARD_OK;
    const unsigned char *s = (const unsigned char *)line;

    size_t i = 0;
    while (i < len) {
        unsigned char ch = s[i];
        if (expect_element) {
            /* The first byte of an array element decides whether it
             * counts (a scalar) or not (a container, or the array's end). */
            if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                i++;
                continue;
            }
            expect_element = false;
            if (ch != '[' && ch != '{' && ch != ']' && ++elements > lim->max_elements) {
                what = JSON_GUARD_ELEMENTS;
                break;
            }
        }
        switch (guard_class[ch]) {
        case C_PLAIN: {
            size_t from = i;
            for (i++; i < len && guard_class[s[i]] == C_PLAIN; i++)
                ;
            /* A number without an exponent overflows only past 308
             * digits; a run of plain bytes that long is looked at. */
            if (i - from >= GUARD_LONG_NUMBER &&
                long_number(line, len, from, i, &what, ret_off, ret_len))
                goto out;
            continue;
        }
        case C_QUOTE:
            /* Skip the string; an escaped quote does not end it. */
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == 0) {   /* a raw NUL: cJSON would cut the string there too */
                    what = JSON_GUARD_NUL;
                    goto out;
                }
                if (s[i] != '\\')
                    continue;
                i++;
                if (len - i >= 5 && memcmp(line + i, "u0000", 5) == 0) {
                    what = JSON_GUARD_NUL;
                    goto out;
                }
            }
            break;
        case C_OPEN:
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
        case C_CLOSE:
            if (depth > 0)
                depth--;
            break;
        case C_EXP: {
            /* The first 'e' of a number (or of true/false): the whole
             * token is looked at once, then skipped. */
            size_t start = i, end = i + 1;
            while (start > 0 && number_byte(s[start - 1]))
                start--;
            while (end < len && number_byte(s[end]))
                end++;
            if ((start == 0 || !number_byte(s[start - 1])) &&
                number_overflows(line + start, end - start)) {
                what = JSON_GUARD_RANGE;
                *ret_off = start;
                *ret_len = end - start;
                goto out;
            }
            i = end;
            continue;
        }
        default: /* C_COMMA */
            expect_element = depth > 0 &&
                             (is_array[(depth - 1) / 64] >> ((depth - 1) % 64) & 1u);
            break;
        }
        i++;
    }
out:
    if (ret_what)
        *ret_what = what;
    if (what == JSON_GUARD_RANGE)
        return -ERANGE;
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

static size_t digits_end(const char *s, size_t len, size_t i)
{
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* The end of the JSON number starting at line[i] (RFC 8259:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?), or i when none starts
 * there: what is echoed as an id must be JSON ("+1", "1e", "-" are not). */
static size_t json_number_end(const char *line, size_t len, size_t i)
{
    size_t p = i;
    if (p < len && line[p] == '-')
        p++;
    if (p < len && line[p] == '0')
        p++;
    else if (p < len && line[p] >= '1' && line[p] <= '9')
        p = digits_end(line, len, p);
    else
        return i;
    if (p < len && line[p] == '.') {
        size_t q = digits_end(line, len, p + 1);
        if (q == p + 1)
            return i;
        p = q;
    }
    if (p < len && (line[p] == 'e' || line[p] == 'E')) {
        size_t q = p + 1;
        if (q < len && (line[q] == '+' || line[q] == '-'))
            q++;
        size_t r = digits_end(line, len, q);
        if (r == q)
            return i;
        p = r;
    }
    /* A number glued to more of a token ("12abc", "1.2.3") is not one. */
    if (p < len && (strchr("+-.eE", line[p]) || (line[p] >= 'a' && line[p] <= 'z') ||
                    (line[p] >= 'A' && line[p] <= 'Z') || (line[p] >= '0' && line[p] <= '9')))
        return i;
    return p;
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
                /* Printable ASCII without escapes: echoed as it is, it is
                 * a JSON string (an escape could be an invalid one). */
                for (size_t k = i + 1; k + 1 < end; k++)
                    ok = ok && line[k] >= 0x20 && line[k] < 0x7f && line[k] != '\\';
            } else {
                end = json_number_end(line, len, i);
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
