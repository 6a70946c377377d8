/* NaN, Infinity and -Infinity as bare JSON values (json_nonfinite.h). */
#include "json_nonfinite.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that make up one bare word outside strings: a number, a literal
 * (true, false, null) or one of the three tokens. In valid JSON a value
 * is always followed by whitespace, ',', ']' or '}', so every number is
 * exactly one word that starts with '-' or a digit. */
static bool word_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_' || ch == '.' || ch == '+' || ch == '-' || ch >= 0x80;
}

/* The value a word stands for, or 0 (not one of the tokens). */
static bool token_value(const char *w, size_t n, double *ret)
{
    if (n == 3 && memcmp(w, "NaN", 3) == 0)
        *ret = NAN;
    else if (n == 8 && memcmp(w, "Infinity", 8) == 0)
        *ret = INFINITY;
    else if (n == 9 && memcmp(w, "-Infinity", 9) == 0)
        *ret = -INFINITY;
    else
        return false;
    return true;
}

/* One pass over the line: the number of tokens; with text and at, the
 * masked copy written and the tokens' places noted too. */
static size_t scan(const char *line, size_t len, char *text, struct json_nonfinite_at *at)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t found = 0, numbers = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == '"') {
            /* A string, escapes included; an unterminated one runs to the
             * end (and the line does not parse). memchr finds its end when
             * no backslash comes before it (a packed array's 100 KB of
             * base64 is skipped at memory speed, not a byte at a time). */
            i++;
            const unsigned char *q = i < len ? memchr(s + i, '"', len - i) : NULL;
            if (q && !memchr(s + i, '\\', (size_t)(q - (s + i)))) {
                i = (size_t)(q - s) + 1;
                continue;
            }
            for (; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (!word_byte(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && word_byte(s[j]))
            j++;
        double v;
        if (token_value(line + i, j - i, &v)) {
            if (text) {
                text[i] = '0';
                memset(text + i + 1, ' ', j - i - 1);
                at[found] = (struct json_nonfinite_at){.index = numbers, .value = v};
            }
            found++;
            numbers++;
        } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
            numbers++;
        }
        i = j;
    }
    return found;
}

int json_nonfinite_mask(const char *line, size_t len, struct json_nonfinite *nf)
{
    *nf = (struct json_nonfinite){0};
    size_t n = scan(line, len, NULL, NULL);
    if (n == 0)
        return 0;
    nf->text = malloc(len + 1);
    nf->at = malloc(n * sizeof *nf->at);
    if (!nf->text || !nf->at) {
        json_nonfinite_free(nf);
        return -ENOMEM;
    }
    memcpy(nf->text, line, len);
    nf->text[len] = '\0';
    nf->n = scan(line, len, nf->text, nf->at);
    return 0;
}

/* Document order: a node, its children, then its next sibling. The
 * recursion goes into children only, so its depth is the nesting depth,
 * bounded by the guard and by cJSON's own nesting limit. */
static void walk(cJSON *node, const struct json_nonfinite *nf, size_t *numbers, size_t *next)
{
    for (; node && *next < nf->n; node = node->next) {
        if (cJSON_IsNumber(node)) {
            if (nf->at[*next].index == (*numbers)++) {
                node->valuedouble = nf->at[(*next)++].value;
                node->valueint = 0;   /* (int)NaN would be undefined */
            }
        } else if (node->child) {
            walk(node->child, nf, numbers, next);
        }
    }
}

void json_nonfinite_apply(const struct json_nonfinite *nf, cJSON *root)
{
    size_t numbers = 0, next = 0;
    if (nf->n > 0)
        walk(root, nf, &numbers, &next);
}

void json_nonfinite_free(struct json_nonfinite *nf)
{
    if (!nf)
        return;
    free(nf->text);
    free(nf->at);
    *nf = (struct json_nonfinite){0};
}
