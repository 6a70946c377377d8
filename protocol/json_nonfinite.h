/* json_nonfinite: the bare tokens NaN, Infinity and -Infinity, an
 * extension of JSON (docs/protocol.md, "Numbers").
 *
 * Python's json.dumps, and other ordinary encoders, write a NaN or an
 * infinite float as these bare words; cJSON cannot parse them. Before
 * parsing, json_nonfinite_mask() copies the line with each such token
 * (outside strings, standing alone as a value) replaced by the number 0
 * padded with spaces to the token's length, so that byte offsets in error
 * sentences stay those of the original line, and remembers which number
 * tokens of the line they were, in document order. After cJSON has parsed
 * the copy, json_nonfinite_apply() walks the tree's numbers in the same
 * order and gives those the value they stand for.
 *
 * Why not a sentinel number: every number a client may write is a value it
 * may mean, and cJSON keeps no text of a number to tell a sentinel from
 * the same digits sent on purpose; the position among the number tokens
 * is exact whenever the copy parses, because cJSON makes exactly one
 * number node per number token, in the order of the text.
 * Pure; no logging. */
#ifndef TFEVENTS_JSON_NONFINITE_H
#define TFEVENTS_JSON_NONFINITE_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct json_nonfinite_at {
    size_t index;   /* among the line's number tokens, from 0 */
    double value;   /* NAN, INFINITY or -INFINITY */
};

struct json_nonfinite {
    char *text;                    /* the masked copy (len bytes + NUL), or NULL: none */
    struct json_nonfinite_at *at;  /* n of them, increasing index */
    size_t n;
};

/* Look for the tokens in line[0..len): 0 with nf->text NULL when there is
 * none (parse the line itself), 0 with the masked copy in nf->text, or
 * -ENOMEM. nf is always safe to pass to json_nonfinite_free(). */
int json_nonfinite_mask(const char *line, size_t len, struct json_nonfinite *nf);

/* Give the remembered number nodes of root (parsed from nf->text) their
 * values. */
void json_nonfinite_apply(const struct json_nonfinite *nf, cJSON *root);

void json_nonfinite_free(struct json_nonfinite *nf);

#endif
