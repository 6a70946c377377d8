#include "lib_embedded.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "exec.h"
#include "frame_decode.h"
#include "json_decode.h"
#include "json_guard.h"
#include "logdir.h"
#include "pbwire.h"
#include "run_writer.h"
#include "strmap.h"
#include "utf8.h"

/* The direct route keeps its scratch between calls, so that logging a
 * scalar allocates nothing once the buffers have grown. */
struct direct {
    struct summary_value *vals;      /* built values, reused */
    bool *is_scalar;                 /* vals[i] holds summary_scalar(tag, x, NULL) */
    struct logdir_item *items;
    size_t cap;                      /* of vals (all initialised) */
    size_t items_cap;                /* of items and is_scalar */
    struct buf runs;                 /* normalised run names, NUL-separated */
    /* The last logdir name seen and its logdir (logdirs stay in the set
     * for its lifetime, so the pointer stays valid). */
    char logdir_name[LOGDIR_MAX_NAME + 1];
    logdir *logdir;
    /* The last run as given and its normalised name. */
    struct buf run_raw;
    bool has_run;
    char run_norm[LOGDIR_MAX_NAME + 1];
    size_t run_norm_len;
};

/* The write errors seen in the writer hook are kept for the next call. */
struct lib_embedded {
    logdir_set *set;
    struct request msg;
    uint64_t json_lines;   /* numbered as the daemon numbers a connection's */
    size_t batch_bytes;
    int write_error;
    struct direct direct;
};

static void writer_hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new)
{
    struct lib_embedded *e = ctx;
    (void)rs;
    (void)is_new;
    if (run_writer_pending_bytes(w) >= e->batch_bytes) {
        int r = run_writer_flush(w, false);
        if (r < 0 && e->write_error == 0)
            e->write_error = r;
    }
}

struct lib_embedded *lib_embedded_new(size_t batch_bytes, bool any_step)
{
    struct lib_embedded *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->batch_bytes = batch_bytes;
    request_init(&e->msg);
    buf_init(&e->direct.runs, BUF_NO_CAP);
    buf_init(&e->direct.run_raw, BUF_NO_CAP);
    struct logdir_options o = {
        .policy = any_step ? LOGDIR_POLICY_ANY : LOGDIR_POLICY_INCREASING,
        .writer = {.rotate_bytes = RUN_WRITER_DEFAULT_ROTATE_BYTES},
        .hook = writer_hook,
        .hook_ctx = e,
    };
    /* Logdir names are absolute paths without their leading '/'. */
    e->set = logdir_set_new("/", &o);
    if (!e->set) {
        free(e);
        return NULL;
    }
    return e;
}

int lib_embedded_free(struct lib_embedded *e)
{
    if (!e)
        return 0;
    int r = logdir_set_free(e->set, false);
    if (r == 0)
        r = e->write_error;
    request_done(&e->msg);
    for (size_t i = 0; i < e->direct.cap; i++)
        summary_value_done(&e->direct.vals[i]);
    free(e->direct.vals);
    free(e->direct.items);
    free(e->direct.is_scalar);
    buf_free(&e->direct.runs);
    buf_free(&e->direct.run_raw);
    free(e);
    return r;
}

struct flush_ctx {
    bool sync;
    bool close;
    int err;
    char **runs;   /* close: runs whose writers to detach */
    size_t n_runs, cap_runs;
};

static void flush_writer(void *ctx, logdir *d, const char *run, run_writer *w)
{
    struct flush_ctx *f = ctx;
    (void)d;
    if (f->close) {
        /* Detaching inside the walk is not allowed: collect the names. */
        if (f->n_runs == f->cap_runs) {
            size_t cap = f->cap_runs ? f->cap_runs * 2 : 8;
            char **p = realloc(f->runs, cap * sizeof *p);
            if (!p) {
                f->err = f->err ? f->err : -ENOMEM;
                return;
            }
            f->runs = p;
            f->cap_runs = cap;
        }
        f->runs[f->n_runs] = strdup(run);
        if (f->runs[f->n_runs])
            f->n_runs++;
        else if (!f->err)
            f->err = -ENOMEM;
        return;
    }
    int r = run_writer_flush(w, f->sync);
    if (r < 0 && !f->err)
        f->err = r;
}

static void flush_logdir(void *ctx, logdir *d)
{
    struct flush_ctx *f = ctx;
    logdir_foreach_writer(d, flush_writer, f);
    for (size_t i = 0; i < f->n_runs; i++) {
        run_writer *w = logdir_detach_writer(d, f->runs[i]);
        int r = run_writer_close(w, f->sync);
        if (r < 0 && !f->err)
            f->err = r;
        free(f->runs[i]);
    }
    f->n_runs = 0;
}

static int do_flush(struct lib_embedded *e, logdir *d, bool sync, bool close)
{
    struct flush_ctx f = {.sync = sync, .close = close};
    if (d)
        flush_logdir(&f, d);
    else
        logdir_set_foreach(e->set, flush_logdir, &f);
    free(f.runs);
    if (!f.err && e->write_error) {
        f.err = e->write_error;
        e->write_error = 0;
    }
    return f.err;
}

int lib_embedded_tick(struct lib_embedded *e)
{
    return do_flush(e, NULL, false, false);
}

/* The executor's reply as the library's. Returns 0 or the refusal's code. */
static int lib_reply_of(const struct reply *in, struct lib_reply *rp)
{
    rp->ok = in->ok;
    rp->has_step = in->ok && in->has_step;
    rp->step = in->step;
    rp->has_next = in->ok && in->has_next;
    rp->next = in->next;
    size_t n = in->ok ? 0 : strnlen(in->error, sizeof rp->error - 1);
    /* A longer sentence is cut, between whole UTF-8 characters. */
    while (n > 0 && in->error[n] != '\0' && ((unsigned char)in->error[n] & 0xC0) == 0x80)
        n--;
    memcpy(rp->error, in->error, n);
    rp->error[n] = '\0';
    return in->ok ? 0 : in->code;
}

/* A write that failed in the writer hook fails the call that follows. */
static void take_write_error(struct lib_embedded *e, struct reply *rp)
{
    if (rp->ok && e->write_error) {
        exec_fail_write(rp, e->write_error, NULL);
        e->write_error = 0;
    }
}

static int embedded_flush(void *ctx, const struct request *m, logdir *d, bool sync,
                          struct reply *rp)
{
    struct lib_embedded *e = ctx;
    int r = do_flush(e, d, sync, m->op == REQUEST_CLOSE);
    if (r < 0)
        exec_fail_write(rp, r, NULL);
    return 0;
}

static void host_init(struct lib_embedded *e, struct exec_host *h)
{
    *h = (struct exec_host){.logdirs = e->set, .root = "/", .flush = embedded_flush, .ctx = e};
}

/* ---- the direct route for scalars --------------------------------------- */

static int direct_reserve(struct direct *dr, size_t n)
{
    size_t cap = dr->cap ? dr->cap : 4;
    while (cap < n)
        cap *= 2;
    if (cap > dr->cap) {
        struct summary_value *v = realloc(dr->vals, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        dr->vals = v;
        /* New slots are initialised at once: free releases cap of them. */
        for (size_t i = dr->cap; i < cap; i++)
            summary_value_init(&v[i]);
        dr->cap = cap;
    }
    if (cap > dr->items_cap) {
        struct logdir_item *it = realloc(dr->items, cap * sizeof *it);
        if (!it)
            return -ENOMEM;
        dr->items = it;
        bool *sc = realloc(dr->is_scalar, cap * sizeof *sc);
        if (!sc)
            return -ENOMEM;
        dr->is_scalar = sc;
        for (size_t i = dr->items_cap; i < cap; i++)
            sc[i] = false;
        dr->items_cap = cap;
    }
    return 0;
}

/* The normalised name of run (NULL: "."), as frame_decode reads it:
 * valid UTF-8, then logdir_normalize(). NULL when that refuses it (the
 * general route then says why). The last run is remembered. */
static const char *direct_run(struct direct *dr, const char *run, size_t *ret_len)
{
    if (!run) {
        *ret_len = 1;
        return ".";
    }
    size_t len = strlen(run);
    *ret_len = dr->run_norm_len;
    if (dr->has_run && dr->run_raw.len == len && strmap_bytes_equal(dr->run_raw.data, run, len))
        return dr->run_norm;
    dr->has_run = false;
    if (!utf8_valid(run, len) ||
        logdir_normalize(run, len, dr->run_norm, sizeof dr->run_norm, NULL) < 0)
        return NULL;
    *ret_len = dr->run_norm_len = strlen(dr->run_norm);
    buf_reset(&dr->run_raw);
    if (buf_append(&dr->run_raw, run, len) < 0)
        return NULL;
    dr->has_run = true;
    return dr->run_norm;
}

/* vals[i] = summary_scalar(tag, value, NULL). When vals[i] already holds
 * a scalar of this tag, only the float in its body differs from what the
 * builder would make (summary.c lays it out at the end of the 12-byte
 * body), so that is all that is written. */
static bool direct_scalar(struct direct *dr, size_t i, const char *tag, double value)
{
    struct summary_value *v = &dr->vals[i];
    size_t len = strlen(tag);
    if (dr->is_scalar[i] && v->tag.len == len && v->body.len == 12 &&
        memcmp(v->tag.data, tag, len) == 0) {
        pb_put_float(v->body.data + 8, (float)value);
        return true;
    }
    dr->is_scalar[i] = summary_scalar(v, tag, value, NULL) == 0;
    return dr->is_scalar[i];
}

int lib_embedded_log_scalars(struct lib_embedded *e, const char *logdir_name,
                             enum logdir_step_mode mode, int64_t step, double wall_time,
                             const struct lib_scalar *sc, size_t n, struct lib_reply *rp)
{
    struct direct *dr = &e->direct;
    /* What frame_decode would refuse is left to it, for its sentence. */
    if (n == 0 || n > REQUEST_MAX_VALUES || !(wall_time >= 0 && wall_time < 1e10) ||
        (mode == LOGDIR_STEP_AT && (step < 0 || step > ((int64_t)1 << 53))))
        return LIB_EMBEDDED_DECLINED;
    if (direct_reserve(dr, n) < 0)
        return LIB_EMBEDDED_DECLINED;
    /* Runs first, into one buffer (it may move while growing), then the
     * pointers. */
    buf_reset(&dr->runs);
    for (size_t i = 0; i < n; i++) {
        const char *tag = sc[i].tag;
        if (!tag || !*tag || tag[0] == '$')
            return LIB_EMBEDDED_DECLINED;
        size_t run_len;
        const char *run = direct_run(dr, sc[i].run, &run_len);
        if (!run || buf_append(&dr->runs, run, run_len + 1) < 0)
            return LIB_EMBEDDED_DECLINED;
        if (!direct_scalar(dr, i, tag, sc[i].value))
            return LIB_EMBEDDED_DECLINED;
    }
    const char *run = (const char *)dr->runs.data;
    for (size_t i = 0; i < n; i++) {
        dr->items[i].run = run;
        dr->items[i].summary = &dr->vals[i];
        run += strlen(run) + 1;
    }
    logdir *d = dr->logdir;
    if (!d || strcmp(dr->logdir_name, logdir_name) != 0) {
        size_t len = strlen(logdir_name);
        char norm[LOGDIR_MAX_NAME + 1];
        if (len > LOGDIR_MAX_NAME || !utf8_valid(logdir_name, len) ||
            logdir_normalize(logdir_name, len, norm, sizeof norm, NULL) < 0 ||
            strcmp(norm, logdir_name) != 0)
            return LIB_EMBEDDED_DECLINED;
        struct reply rep;
        reply_init(&rep, NULL);
        int r = logdir_set_get(e->set, logdir_name, &d);
        if (r < 0) {
            struct exec_host h;
            host_init(e, &h);
            exec_fail_logdir(&h, logdir_name, r, &rep);
            return lib_reply_of(&rep, rp);
        }
        memcpy(dr->logdir_name, logdir_name, len + 1);
        dr->logdir = d;
    }
    struct reply rep;
    reply_init(&rep, NULL);
    exec_log_items(d, logdir_name, dr->items, n, mode, step, wall_time, true, &rep);
    take_write_error(e, &rep);
    return lib_reply_of(&rep, rp);
}

int lib_embedded_log_scalar(struct lib_embedded *e, const char *logdir_name, logdir **cache,
                            enum logdir_step_mode mode, int64_t step, double wall_time,
                            const char *run, const char *tag, double value,
                            struct lib_reply *rp)
{
    struct direct *dr = &e->direct;
    logdir *d = *cache;
    /* The checks of lib_embedded_log_scalars() that the logdir's shortcut
     * does not make itself: it knows the tag only if it was valid. */
    if (d && tag && tag[0] && tag[0] != '$' && wall_time >= 0 && wall_time < 1e10 &&
        (mode != LOGDIR_STEP_AT || (step >= 0 && step <= ((int64_t)1 << 53)))) {
        size_t run_len;
        const char *run_n = direct_run(dr, run, &run_len);
        int64_t used;
        int r = run_n ? logdir_log_scalar(d, mode, step, wall_time, run_n, run_len, tag,
                                          strlen(tag), value, &used)
                      : LOGDIR_DECLINED;
        if (r != LOGDIR_DECLINED) {
            struct reply rep;
            reply_init(&rep, NULL);
            if (r < 0) {
                reply_fail(&rep, r, "%s", exec_strerror(r));
            } else {
                rep.has_step = true;
                rep.step = used;
            }
            take_write_error(e, &rep);
            return lib_reply_of(&rep, rp);
        }
    }
    struct lib_scalar sc = {run, tag, value};
    int r = lib_embedded_log_scalars(e, logdir_name, mode, step, wall_time, &sc, 1, rp);
    if (!d && r != LIB_EMBEDDED_DECLINED && dr->logdir &&
        strcmp(dr->logdir_name, logdir_name) == 0)
        *cache = dr->logdir;
    return r;
}

int lib_embedded_exec(struct lib_embedded *e, const uint8_t *req, size_t len,
                      struct lib_reply *rp)
{
    memset(rp, 0, sizeof *rp);
    struct reply rep;
    reply_init(&rep, NULL);
    Tfevents__Request *rq = tfevents__request__unpack(NULL, len, req);
    if (!rq) {
        reply_fail(&rep, -EBADMSG, "the request does not encode (a library bug)");
        return lib_reply_of(&rep, rp);
    }
    struct request *m = &e->msg;
    int r = frame_decode_request(rq, m, rep.error, sizeof rep.error);
    tfevents__request__free_unpacked(rq, NULL);
    if (r < 0) {
        rep.ok = false;
        rep.code = r;
        return lib_reply_of(&rep, rp);
    }
    struct exec_host h;
    host_init(e, &h);
    exec_request(&h, m, &rep);
    take_write_error(e, &rep);
    return lib_reply_of(&rep, rp);
}

/* ---- JSON lines ------------------------------------------------------------- */

/* The daemon's default limits of a JSON line (tfeventsd --max-json-depth,
 * --max-elements). */
#define EMBEDDED_JSON_MAX_DEPTH 64u
#define EMBEDDED_JSON_MAX_ELEMENTS (4u << 20)

/* What the daemon says about a line its guard refuses (dispatch.c). */
static void guard_refusal(struct reply *rp, enum json_guard_what what, const char *line,
                          size_t off, size_t len)
{
    if (what == JSON_GUARD_DEPTH)
        reply_fail(rp, -EMSGSIZE, "JSON nested deeper than the limit of %u levels "
                   "(--max-json-depth)", EMBEDDED_JSON_MAX_DEPTH);
    else if (what == JSON_GUARD_RANGE)
        reply_fail(rp, -EINVAL, "number out of range: %.*s%s", len > 64 ? 64 : (int)len,
                   line + off, len > 64 ? "\xe2\x80\xa6" : "");
    else if (what == JSON_GUARD_NUL)
        reply_fail(rp, -EINVAL, "a string holds a NUL (\\u0000 or a raw 0 byte); names, "
                   "tags and texts cannot hold NUL");
    else
        reply_fail(rp, -EMSGSIZE, "more than %u array elements in one message "
                   "(--max-elements)", EMBEDDED_JSON_MAX_ELEMENTS);
}

int lib_embedded_exec_json(struct lib_embedded *e, const char *line, size_t len,
                           struct buf *out)
{
    struct request *m = &e->msg;
    struct reply rep;
    char err[REQUEST_ERROR_SIZE];
    const struct json_guard_limits gl = {.max_depth = EMBEDDED_JSON_MAX_DEPTH,
                                         .max_elements = EMBEDDED_JSON_MAX_ELEMENTS};
    enum json_guard_what what = JSON_GUARD_OK;
    size_t off = 0, num_len = 0;
    e->json_lines++;
    if (json_guard_scan(line, len, &gl, &what, &off, &num_len) < 0) {
        request_done(m);   /* no id of an earlier line in the reply */
        if (json_guard_find_id(line, len, m->id, sizeof m->id) > 0)
            m->has_id = true;
        reply_init(&rep, m);
        guard_refusal(&rep, what, line, off, num_len);
    } else {
        int r = jd_decode(m, line, len, err, sizeof err);
        if (r < 0 && !m->has_id && json_guard_find_id(line, len, m->id, sizeof m->id) > 0)
            m->has_id = true;
        reply_init(&rep, m);
        if (r < 0) {
            reply_fail(&rep, r, "%s", err);
        } else {
            struct exec_host h;
            host_init(e, &h);
            exec_request(&h, m, &rep);
            take_write_error(e, &rep);
        }
    }
    if (!rep.ok)
        rep.line = e->json_lines;
    int r = rep.answer ? reply_write_json(out, &rep) : 0;
    if (r < 0)
        return r;
    return rep.ok ? 0 : (rep.code < 0 ? rep.code : -EINVAL);
}
