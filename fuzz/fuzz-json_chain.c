/* fuzz-json_chain: a JSON line through the chain the daemon runs
 * (daemon/dispatch.c, exec_line()): the fast path (protocol/json_fast.c)
 * when --max-json-depth is at least 2, else or when it declines the guard
 * (json_guard.c), then the full decoder (json_decode.c); into one request
 * reused from line to line, as the daemon reuses its own.
 *
 * Input: two bytes of limits (max_json_depth 0..63, max_elements 0..1020
 * in steps of 4), then the line. Invariants:
 *   - the fast path answers 0 or 1, and what it accepts the guard accepts
 *     under any limits the fast path runs with (so dispatch may skip the
 *     guard's scan), and the full decoder accepts too, filling a fresh
 *     request exactly the same way;
 *   - for a line the guard refuses, the id dispatch finds for the error
 *     reply is a JSON number or a string of printable ASCII that parses as
 *     one (the full decoder is not run: it relies on the guard for NULs,
 *     which cJSON would cut a string at, so only the chain is held to
 *     refusing them, and fuzz-json_guard holds the guard to its reference);
 *   - past the guard, the chain's answer (code, error sentence, request)
 *     is jd_decode_full()'s on a fresh request: the reused request keeps
 *     nothing of earlier lines;
 *   - an accepted request is well formed: a known op, a NUL-terminated id,
 *     values with a run and a tag that encode as Summary.Values. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fuzz.h"
#include "json_decode.h"
#include "json_fast.h"
#include "json_guard.h"
#include "summary.h"

static bool buf_same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* What dispatch and the executor read of a request. */
static bool same_request(const struct request *a, const struct request *b)
{
    bool same = a->op == b->op && a->has_id == b->has_id && a->has_logdir == b->has_logdir &&
                a->has_run == b->has_run && a->step_mode == b->step_mode &&
                a->has_wall_time == b->has_wall_time && a->sync == b->sync &&
                a->n_values == b->n_values;
    if (same && a->has_run)
        same = strcmp(a->run, b->run) == 0;
    if (same && a->has_id)
        same = strcmp(a->id, b->id) == 0;
    if (same && a->has_logdir)
        same = strcmp(a->logdir, b->logdir) == 0;
    if (same && a->step_mode == LOGDIR_STEP_AT)
        same = a->step == b->step;
    if (same && (a->op == REQUEST_STEP_SET || a->op == REQUEST_RESTART))
        same = a->step == b->step;
    if (same && a->has_wall_time)
        same = memcmp(&a->wall_time, &b->wall_time, sizeof a->wall_time) == 0;
    for (size_t i = 0; same && i < a->n_values; i++) {
        const struct request_value *x = &a->values[i], *y = &b->values[i];
        same = strcmp(x->run, y->run) == 0 && buf_same(&x->value.tag, &y->value.tag) &&
               buf_same(&x->value.metadata, &y->value.metadata) &&
               buf_same(&x->value.body, &y->value.body);
    }
    return same;
}

static void check_accepted(const struct request *m)
{
    FUZZ_CHECK(request_op_name(m->op)[0] != '?');
    if (m->has_id)
        FUZZ_CHECK(memchr(m->id, '\0', sizeof m->id) != NULL);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    for (size_t i = 0; i < m->n_values; i++) {
        FUZZ_CHECK(m->values[i].run != NULL);
        FUZZ_CHECK(m->values[i].value.tag.len > 0);
        FUZZ_CHECK(summary_value_encode(&out, &m->values[i].value, true) == 0);
    }
    buf_free(&out);
}

/* The id a refused line's reply carries (json_guard_find_id()). */
static void check_found_id(const char *line, size_t len)
{
    char id[REQUEST_MAX_ID + 1];
    size_t n = json_guard_find_id(line, len, id, sizeof id);
    if (n == 0)
        return;
    FUZZ_CHECK(n <= REQUEST_MAX_ID && id[n] == '\0' && strlen(id) == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(id[i] >= 0x20 && id[i] < 0x7f);
    cJSON *j = cJSON_ParseWithLength(id, n);
    FUZZ_CHECK(j && (cJSON_IsNumber(j) || cJSON_IsString(j)));
    cJSON_Delete(j);
}

/* The daemon's one request, reused across lines. */
static struct request reused;
static bool reused_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!reused_ready) {
        request_init(&reused);
        reused_ready = true;
    }
    struct json_guard_limits lim = {
        .max_depth = data[0] % 64u,
        .max_elements = (size_t)data[1] * 4u,
    };
    const char *line = (const char *)data + 2;
    size_t len = size - 2;
    char err[REQUEST_ERROR_SIZE], err_full[REQUEST_ERROR_SIZE];

    struct request full;
    request_init(&full);
    int rf = jd_decode_full(&full, line, len, err_full, sizeof err_full);
    FUZZ_CHECK(rf == 0 || rf == -EBADMSG || rf == -EINVAL || rf == -EILSEQ ||
               rf == -EMSGSIZE || rf == -ENOMEM);

    /* 1. The fast path, as dispatch runs it. */
    int rq = lim.max_depth >= 2 ? jd_decode_fast(&reused, line, len) : 1;
    FUZZ_CHECK(rq == 0 || rq == 1);
    enum json_guard_what what;
    size_t off, n;
    if (rq == 0) {
        FUZZ_CHECK(json_guard_scan(line, len, &lim, &what, &off, &n) == 0);
        FUZZ_CHECK(rf == 0);
        FUZZ_CHECK(same_request(&reused, &full));
        check_accepted(&reused);
        request_done(&full);
        return 0;
    }

    /* 2. The guard. */
    int rg = json_guard_scan(line, len, &lim, &what, &off, &n);
    if (rg < 0) {
        FUZZ_CHECK(what != JSON_GUARD_OK);
        request_done(&reused);   /* as dispatch does before looking for the id */
        check_found_id(line, len);
        request_done(&full);
        return 0;
    }

    /* 3. The full decoder, into the reused request the fast path left. */
    int r = jd_decode_full(&reused, line, len, err, sizeof err);
    FUZZ_CHECK(r == rf);
    if (r < 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        FUZZ_CHECK(strcmp(err, err_full) == 0);
        FUZZ_CHECK(reused.has_id == full.has_id);
        if (!reused.has_id)
            check_found_id(line, len);
    } else {
        FUZZ_CHECK(same_request(&reused, &full));
        check_accepted(&reused);
    }
    request_done(&full);
    return 0;
}
