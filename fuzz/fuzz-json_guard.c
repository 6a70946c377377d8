/* fuzz-json_guard: the checks made on a JSON line before it is parsed
 * (protocol/json_guard).
 *
 * Input: two bytes of limits (depth 0..63, elements 0..1020 in steps of
 * 4), then the line. Invariants:
 *   - json_guard_check() answers exactly what the plain byte-at-a-time
 *     reference (tests/json_guard_ref.c) answers, returning 0, -ERANGE for
 *     a number out of range, -EMSGSIZE for the other refusals;
 *   - json_guard_scan() agrees, and a number it refuses lies inside the
 *     line and starts like a number;
 *   - what the guard lets through, cJSON parses into a tree within the
 *     limits: no deeper than max_depth, no more than max_elements scalars
 *     directly inside arrays, no infinite number. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "json_guard.h"
#include "json_guard_ref.h"

struct tree_count {
    unsigned max_depth;
    size_t elements;
    bool infinite;
};

static void walk(const cJSON *j, unsigned depth, struct tree_count *t)
{
    bool container = cJSON_IsArray(j) || cJSON_IsObject(j);
    if (container && depth + 1 > t->max_depth)
        t->max_depth = depth + 1;
    if (cJSON_IsNumber(j) && isinf(j->valuedouble))
        t->infinite = true;
    for (const cJSON *c = j->child; c; c = c->next) {
        if (cJSON_IsArray(j) && !cJSON_IsArray(c) && !cJSON_IsObject(c))
            t->elements++;
        walk(c, depth + (container ? 1 : 0), t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct json_guard_limits lim = {
        .max_depth = data[0] % 64u,
        .max_elements = (size_t)data[1] * 4u,
    };
    const char *line = (const char *)data + 2;
    size_t len = size - 2;

    enum json_guard_what what;
    int r = json_guard_check(line, len, &lim, &what);
    enum json_guard_what want = json_guard_reference(line, len, lim.max_depth, lim.max_elements);
    FUZZ_CHECK(what == want);
    FUZZ_CHECK(r == (want == JSON_GUARD_OK      ? 0
                     : want == JSON_GUARD_RANGE ? -ERANGE
                                                : -EMSGSIZE));

    enum json_guard_what what2;
    size_t off = 0, n = 0;
    int r2 = json_guard_scan(line, len, &lim, &what2, &off, &n);
    FUZZ_CHECK(what2 == what);
    if (what2 == JSON_GUARD_RANGE) {
        FUZZ_CHECK(r2 == -ERANGE);
        FUZZ_CHECK(n > 0 && off < len && n <= len - off);
        FUZZ_CHECK(line[off] == '-' || (line[off] >= '0' && line[off] <= '9'));
    } else {
        FUZZ_CHECK(r2 == r);
    }

    if (what == JSON_GUARD_OK) {
        cJSON *j = cJSON_ParseWithLength(line, len);
        if (j) {
            struct tree_count t = {0, 0, false};
            walk(j, 0, &t);
            FUZZ_CHECK(t.max_depth <= lim.max_depth);
            FUZZ_CHECK(t.elements <= lim.max_elements);
            FUZZ_CHECK(!t.infinite);
            cJSON_Delete(j);
        }
    }
    return 0;
}
