#include "lib_embedded.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "frame_decode.h"
#include "logdir.h"
#include "run_writer.h"

/* The write errors seen in the writer hook are kept for the next call. */
struct lib_embedded {
    logdir_set *set;
    struct jd_msg msg;
    size_t batch_bytes;
    int write_error;
};

static void writer_hook(void *ctx, logdir *d, const char *run, run_writer *w, bool is_new)
{
    struct lib_embedded *e = ctx;
    (void)d;
    (void)run;
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
    jd_msg_init(&e->msg);
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
    jd_msg_done(&e->msg);
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

static int failed(struct lib_reply *rp, int r, const char *why)
{
    rp->ok = false;
    snprintf(rp->error, sizeof rp->error, "%s", why);
    return r;
}

static const char *logdir_error(int r)
{
    switch (r) {
    case -ENOSPC:
        return "too many logdirs, runs or tags";
    case -ENOBUFS:
        return "too much data waiting to be written";
    case -ENOMEM:
        return "out of memory";
    default:
        return strerror(-r);
    }
}

/* The message's values at its step (dispatch.c's do_log, without replies). */
static int do_log(struct lib_embedded *e, logdir *d, struct lib_reply *rp, bool check_steps)
{
    struct jd_msg *m = &e->msg;
    struct logdir_item small[16];
    struct logdir_item *items = small;
    if (m->n_values > 16 && !(items = malloc(m->n_values * sizeof *items)))
        return failed(rp, -ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_values; i++) {
        items[i].run = m->values[i].run;
        items[i].value = &m->values[i].value;
    }
    double wall_time = m->has_wall_time ? m->wall_time : event_now();
    struct logdir_refusal rf;
    int64_t step = 0;
    int r = logdir_log(d, check_steps ? m->step_mode : LOGDIR_STEP_AT,
                       check_steps ? m->step : 0, wall_time, items, m->n_values, check_steps,
                       &step, &rf);
    if (items != small)
        free(items);
    if (r == -ERANGE) {
        if (rf.duplicate)
            snprintf(rp->error, sizeof rp->error,
                     "tag '%s' appears twice in run '%.200s' in one message (one value per tag "
                     "and step); nothing of this message was written",
                     rf.tag, rf.run);
        else
            snprintf(rp->error, sizeof rp->error,
                     "step %" PRId64 " of tag '%s' in run '%.200s' is not greater than its last "
                     "step %" PRId64 " (TensorBoard would delete the newer points); nothing "
                     "of this message was written. Use restart to go back to an earlier step",
                     rf.step, rf.tag, rf.run, rf.last_step);
        rp->ok = false;
        return r;
    }
    if (r < 0)
        return failed(rp, r, logdir_error(r));
    if (e->write_error) {
        r = e->write_error;
        e->write_error = 0;
        return failed(rp, r, strerror(-r));
    }
    rp->ok = true;
    rp->has_step = true;
    rp->step = step;
    return 0;
}

int lib_embedded_exec(struct lib_embedded *e, const uint8_t *req, size_t len,
                      struct lib_reply *rp)
{
    memset(rp, 0, sizeof *rp);
    Tfevents__Request *rq = tfevents__request__unpack(NULL, len, req);
    if (!rq)
        return failed(rp, -EBADMSG, "the request does not encode (a library bug)");
    struct jd_msg *m = &e->msg;
    int r = frame_decode_request(rq, m, rp->error, sizeof rp->error);
    tfevents__request__free_unpacked(rq, NULL);
    if (r < 0) {
        rp->ok = false;
        return r;
    }
    logdir *d = NULL;
    if (m->op != JD_OP_FLUSH && m->op != JD_OP_CLOSE && m->op != JD_OP_PING &&
        m->op != JD_OP_STATS) {
        r = logdir_set_get(e->set, m->logdir, &d);
        if (r < 0)
            return failed(rp, r, logdir_error(r));
    }
    switch (m->op) {
    case JD_OP_LOG:
        return do_log(e, d, rp, true);
    case JD_OP_HPARAMS_CONFIG:
    case JD_OP_HPARAMS_SESSION_START:
    case JD_OP_HPARAMS_SESSION_END:
        /* Step 0 and outside the step policy, as in the daemon. */
        return do_log(e, d, rp, false);
    case JD_OP_STEP_GET:
        rp->has_step = rp->has_next = true;
        rp->step = logdir_step(d);
        rp->next = rp->step + 1;
        break;
    case JD_OP_STEP_SET:
        logdir_set_step(d, m->step);
        rp->has_step = rp->has_next = true;
        rp->step = m->step;
        rp->next = m->step + 1;
        break;
    case JD_OP_RESTART:
        r = logdir_restart(d, m->has_run ? m->run : NULL, m->step,
                           m->has_wall_time ? m->wall_time : event_now());
        if (r < 0)
            return failed(rp, r, logdir_error(r));
        rp->has_step = true;
        rp->step = m->step;
        break;
    case JD_OP_FLUSH:
    case JD_OP_CLOSE:
        if (m->has_logdir && !(d = logdir_set_find(e->set, m->logdir)))
            break;   /* nothing was ever logged there */
        r = do_flush(e, d, m->sync, m->op == JD_OP_CLOSE);
        if (r < 0)
            return failed(rp, r, strerror(-r));
        break;
    case JD_OP_PING:
    case JD_OP_STATS:
        break;
    }
    rp->ok = true;
    return 0;
}
