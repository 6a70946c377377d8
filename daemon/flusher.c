#include "flusher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "conn.h"
#include "dispatch.h"
#include "exec.h"
#include "log.h"
#include "server.h"

/* Shortest timer period, whatever the configuration says. */
#define FLUSHER_MIN_INTERVAL_MS 10

/* A client's flush or close request: answered when every writer it waits
 * for is done. */
struct req {
    struct conn *c;
    struct reply_id id;
    uint64_t line_no;
    unsigned remaining;
    int err;
    char err_dir[256];
};

/* One writer a request waits for, up to record number target. */
struct wlink {
    struct req *req;
    uint64_t target;
    bool sync;
    struct wlink *next;
};

/* The flusher's state of one run writer. */
struct fw {
    struct flusher *f;
    run_writer *w;
    /* The run directory's shared state (logdir_runs.h), pinned until the
     * close completed: whichever logdirs hold it may be released meanwhile. */
    logdir_run *rs;
    char dir[256];              /* for messages after the writer is gone */
    uv_work_t work;
    bool busy;
    bool closing;               /* detached, close running or queued */
    bool close_requested;
    bool close_sync;
    bool sync_next;
    int result;
    uint64_t lost;              /* records accepted, never written (close) */
    /* Records dropped (too large for any file) while no flush waited:
     * the next flush of this run fails, so that the loss is answered to
     * someone even when a periodic write got there first. */
    uint64_t unreported_drops;
    uint64_t last_used;
    uint64_t opened;            /* loop time the writer was made (--upload-interval) */
    size_t counted_pending;
    struct run_writer_stats seen;   /* stats already added to the totals */
    struct run_writer_stats final;  /* filled by the close work */
    struct stats *ust;          /* its user's counters (--per-user-root) or NULL */
    char user[USERS_MAX_NAME + 1];  /* its logdir's user directory (same), or "" */
    struct wlink *waiters;
    struct fw *prev, *next;     /* most recently used first */
};

struct flusher {
    struct server *s;
    uv_timer_t timer;
    bool timer_closed;
    struct fw *head, *tail;
    unsigned n_open;            /* in the list and not closing */
    unsigned n_closing;         /* in the list and closing */
    unsigned n_busy;
    uint64_t pending_total;
    bool shutting_down;
    uint64_t last_sweep;        /* of the logdirs (--logdir-idle), loop ms */
    void (*done)(void *ctx);
    void *done_ctx;
};

static void kick(struct fw *fw);

/* ---- bookkeeping ------------------------------------------------------- */

static void list_remove(struct flusher *f, struct fw *fw)
{
    if (fw->prev)
        fw->prev->next = fw->next;
    else
        f->head = fw->next;
    if (fw->next)
        fw->next->prev = fw->prev;
    else
        f->tail = fw->prev;
    fw->prev = fw->next = NULL;
}

static void list_push_head(struct flusher *f, struct fw *fw)
{
    fw->prev = NULL;
    fw->next = f->head;
    if (f->head)
        f->head->prev = fw;
    f->head = fw;
    if (!f->tail)
        f->tail = fw;
}

/* Keep pending_total equal to the sum of the writers' pending bytes. */
static void account(struct fw *fw)
{
    size_t now = fw->w ? run_writer_pending_bytes(fw->w) : 0;
    fw->f->pending_total += now;
    fw->f->pending_total -= fw->counted_pending;
    fw->counted_pending = now;
}

static void add_stats_to(struct stats *s, const struct fw *fw, const struct run_writer_stats *st)
{
    s->writes += st->batches - fw->seen.batches;
    s->bytes_written += st->bytes_written - fw->seen.bytes_written;
    s->fsyncs += st->fsyncs - fw->seen.fsyncs;
    s->files_created += st->files - fw->seen.files;
    s->errors_write += st->write_errors - fw->seen.write_errors;
    s->records_lost += st->records_lost - fw->seen.records_lost;
}

static void add_stats(struct fw *fw, const struct run_writer_stats *st)
{
    add_stats_to(&fw->f->s->stats, fw, st);
    if (fw->ust)
        add_stats_to(fw->ust, fw, st);
    fw->seen = *st;
}

/* The user directory a run directory is under (--per-user-root): its
 * path's first component, copied into out. */
static void user_of_run(const logdir_run *rs, char out[USERS_MAX_NAME + 1])
{
    const char *name = logdir_run_path(rs);
    size_t n = strcspn(name, "/");
    if (n > USERS_MAX_NAME)
        n = USERS_MAX_NAME;   /* not a user directory: no counters match */
    memcpy(out, name, n);
    out[n] = '\0';
}

static void maybe_resume(struct flusher *f)
{
    struct server *s = f->s;
    if (s->reading_paused && f->pending_total <= s->cfg->max_pending / 2)
        server_pause_reading(s, false);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct flusher *f = h->data;
    f->timer_closed = true;
    if (f->done)
        f->done(f->done_ctx);
}

static void maybe_shutdown_done(struct flusher *f)
{
    if (!f->shutting_down || f->head || f->n_busy > 0 || uv_is_closing((uv_handle_t *)&f->timer))
        return;
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

/* ---- requests ---------------------------------------------------------- */

static void req_done(struct req *q, int err, const char *dir)
{
    if (err < 0 && q->err == 0) {
        q->err = err;
        snprintf(q->err_dir, sizeof q->err_dir, "%s", dir ? dir : "");
    }
    if (--q->remaining > 0)
        return;
    struct reply rp;
    reply_init(&rp, NULL);
    rp.id = q->id;
    rp.answer = q->id.has;
    if (q->err < 0) {
        exec_fail_write(&rp, q->err, q->err_dir);
        rp.line = q->line_no;
    }
    if (rp.answer)
        conn_reply(q->c, &rp);
    conn_undefer(q->c);
    free(q);
}

/* Answer the requests this writer satisfied (all of them, on error). */
static void check_waiters(struct fw *fw, int err, bool closed)
{
    struct wlink **pp = &fw->waiters;
    while (*pp) {
        struct wlink *l = *pp;
        bool done = closed || err < 0;
        if (!done && fw->w) {
            uint64_t have = l->sync ? run_writer_seq_synced(fw->w) : run_writer_seq_written(fw->w);
            done = have >= l->target;
        }
        if (!done) {
            if (l->sync)
                fw->sync_next = true;
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        req_done(l->req, err, fw->dir);
        free(l);
    }
}

/* ---- writing and closing on the thread pool ---------------------------- */

static void work_write(uv_work_t *req)
{
    struct fw *fw = req->data;
    fw->result = run_writer_write(fw->w);
}

static void after_write(uv_work_t *req, int status)
{
    struct fw *fw = req->data;
    struct flusher *f = fw->f;
    (void)status;
    fw->busy = false;
    f->n_busy--;
    int r = run_writer_complete(fw->w);
    account(fw);
    struct run_writer_stats st;
    run_writer_get_stats(fw->w, &st);
    uint64_t dropped = st.records_lost - fw->seen.records_lost;
    add_stats(fw, &st);
    if (r < 0)
        log_error("writing %s failed: %s (the data stays buffered and is retried)",
                  run_writer_file(fw->w) ? run_writer_file(fw->w) : fw->dir, strerror(-r));
    if (dropped > 0)
        log_error("%s: %llu records larger than the file-size limit allows in any file were "
                  "dropped and are lost", fw->dir, (unsigned long long)dropped);
    /* A flush that waited for a dropped record fails (the first failed
     * wait answers every waiter of this writer); with nobody waiting, the
     * next flush does. */
    if (dropped > 0 && !fw->waiters)
        fw->unreported_drops += dropped;
    check_waiters(fw, r < 0 ? r : dropped > 0 ? -EFBIG : 0, false);
    bool again = fw->close_requested ||
                 (r == 0 && (fw->waiters ||
                             run_writer_pending_bytes(fw->w) >= f->s->cfg->flush_bytes ||
                             (f->shutting_down && run_writer_pending_bytes(fw->w) > 0)));
    if (again)
        kick(fw);
    maybe_resume(f);
    maybe_shutdown_done(f);
}

static void work_close(uv_work_t *req)
{
    struct fw *fw = req->data;
    int r = 0;
    /* Write what is left (the writer is detached: nobody else touches
     * it), keep the final statistics, then close. */
    if (run_writer_pending_bytes(fw->w) > 0 || fw->close_sync)
        r = run_writer_flush(fw->w, fw->close_sync);
    run_writer_get_stats(fw->w, &fw->final);
    /* Records added but not in the file: lost unless the close (which
     * tries once more) succeeds. */
    uint64_t added = run_writer_seq_added(fw->w), written = run_writer_seq_written(fw->w);
    int r2 = run_writer_close(fw->w, false);
    fw->lost = r2 < 0 && added > written ? added - written : 0;
    fw->w = NULL;
    fw->result = r < 0 ? r : r2;
}

static void after_close(uv_work_t *req, int status)
{
    struct fw *fw = req->data;
    struct flusher *f = fw->f;
    (void)status;
    f->n_busy--;
    if (fw->final.records_lost > fw->seen.records_lost)
        log_error("%s: %llu records larger than the file-size limit allows in any file were "
                  "dropped and are lost", fw->dir,
                  (unsigned long long)(fw->final.records_lost - fw->seen.records_lost));
    uint64_t dropped = fw->final.records_lost - fw->seen.records_lost + fw->unreported_drops;
    add_stats(fw, &fw->final);
    f->s->stats.writers_closed++;
    f->s->stats.records_lost += fw->lost;
    if (fw->ust) {
        fw->ust->writers_closed++;
        fw->ust->records_lost += fw->lost;
    }
    if (fw->result < 0)
        log_error("closing %s failed: %s; %llu accepted records could not be written and "
                  "are lost", fw->dir, strerror(-fw->result), (unsigned long long)fw->lost);
    else
        log_debug("closed the writer of %s", fw->dir);
    check_waiters(fw, fw->result < 0 ? fw->result : dropped > 0 ? -EFBIG : 0, true);
    list_remove(f, fw);
    f->n_closing--;
    logdir_run_unpin(fw->rs);
    free(fw);
    maybe_resume(f);
    maybe_shutdown_done(f);
}

static void start_close(struct fw *fw)
{
    struct flusher *f = fw->f;
    if (logdir_run_writer(fw->rs) == fw->w)
        logdir_run_detach_writer(fw->rs);
    fw->closing = true;
    fw->busy = true;
    f->n_open--;
    f->n_closing++;
    f->n_busy++;
    f->pending_total -= fw->counted_pending;
    fw->counted_pending = 0;
    fw->work.data = fw;
    int r = uv_queue_work(f->s->loop, &fw->work, work_close, after_close);
    if (r < 0) {
        /* Cannot happen with a valid loop; close here rather than leak. */
        work_close(&fw->work);
        after_close(&fw->work, 0);
    }
}

static void kick(struct fw *fw)
{
    struct flusher *f = fw->f;
    if (fw->busy || fw->closing)
        return;
    if (fw->close_requested) {
        start_close(fw);
        return;
    }
    int r = run_writer_take(fw->w, fw->sync_next);
    if (r <= 0) {
        check_waiters(fw, 0, false);
        return;
    }
    fw->sync_next = false;
    fw->busy = true;
    f->n_busy++;
    f->pending_total -= fw->counted_pending;
    fw->counted_pending = 0;
    fw->work.data = fw;
    r = uv_queue_work(f->s->loop, &fw->work, work_write, after_write);
    if (r < 0) {
        work_write(&fw->work);
        after_write(&fw->work, 0);
    }
}

/* ---- the loop side ------------------------------------------------------ */

static void evict(struct flusher *f, struct fw *keep)
{
    for (struct fw *fw = f->tail; fw && f->n_open > f->s->cfg->max_writers; fw = fw->prev) {
        if (fw == keep || fw->busy || fw->closing || fw->close_requested)
            continue;
        log_debug("closing the writer of %s: %u open writers is the limit", fw->dir,
                  f->s->cfg->max_writers);
        fw->close_requested = true;
        fw->close_sync = f->s->cfg->fsync == FSYNC_ALWAYS;
        kick(fw);
        return;
    }
}

void flusher_writer_hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new)
{
    struct flusher *f = ctx;
    struct fw *fw;
    if (is_new) {
        fw = calloc(1, sizeof *fw);
        if (!fw) {
            /* Untracked writers are still flushed when their logdir is
             * freed at exit. */
            log_error("out of memory tracking the writer of %s", run_writer_dir(w));
            return;
        }
        fw->f = f;
        fw->w = w;
        fw->rs = rs;
        logdir_run_pin(rs);
        snprintf(fw->dir, sizeof fw->dir, "%s", run_writer_dir(w));
        run_writer_set_user(w, fw);
        list_push_head(f, fw);
        f->n_open++;
        f->s->stats.writers_opened++;
        if (f->s->ustats) {
            user_of_run(rs, fw->user);
            fw->ust = ustats_get(f->s->ustats, fw->user);
            if (fw->ust)
                fw->ust->writers_opened++;
        }
        fw->last_used = fw->opened = uv_now(f->s->loop);
        if (f->n_open > f->s->cfg->max_writers)
            evict(f, fw);
        return;
    }
    fw = run_writer_user(w);
    if (!fw)
        return;
    fw->last_used = uv_now(f->s->loop);
    if (f->head != fw) {
        list_remove(f, fw);
        list_push_head(f, fw);
    }
    account(fw);
    if (run_writer_pending_bytes(w) >= f->s->cfg->flush_bytes)
        kick(fw);
    if (f->pending_total > f->s->cfg->max_pending && !f->s->reading_paused) {
        f->s->stats.read_pauses++;
        log_warn("%llu bytes wait to be written: not reading from clients until half is "
                 "written",
                 (unsigned long long)f->pending_total);
        server_pause_reading(f->s, true);
    }
}

/* Every --logdir-idle, the logdirs unused since the sweep before are
 * released (logdir_set_sweep()): a logdir goes after one to two periods. */
static void sweep_logdirs(struct flusher *f, uint64_t now)
{
    double idle = f->s->cfg->logdir_idle;
    if (idle <= 0 || f->shutting_down || (double)(now - f->last_sweep) < idle * 1000.0)
        return;
    f->last_sweep = now;
    size_t n = logdir_set_sweep(f->s->logdirs);
    if (n > 0)
        log_debug("released %zu idle logdirs (%zu still open)", n,
                  logdir_set_count(f->s->logdirs));
}

static void on_timer(uv_timer_t *t)
{
    struct flusher *f = t->data;
    uint64_t now = uv_now(f->s->loop);
    sweep_logdirs(f, now);
    double idle = f->s->cfg->idle_timeout;
    double upload = f->s->cfg->upload_url[0] ? f->s->cfg->upload_interval : 0;
    struct fw *next;
    for (struct fw *fw = f->head; fw; fw = next) {
        next = fw->next;
        if (fw->busy || fw->closing)
            continue;
        if (idle > 0 && (double)(now - fw->last_used) >= idle * 1000.0 &&
            !fw->close_requested) {
            log_debug("closing the writer of %s: idle", fw->dir);
            fw->close_requested = true;
            fw->close_sync = f->s->cfg->fsync == FSYNC_ALWAYS;
        }
        /* --upload-interval: only a closed file is uploaded, so a writer
         * is closed this long after it was made; the run's next record
         * makes a new one, with a new file. */
        if (upload > 0 && (double)(now - fw->opened) >= upload * 1000.0 &&
            !fw->close_requested) {
            log_debug("closing the writer of %s for its upload", fw->dir);
            fw->close_requested = true;
            fw->close_sync = f->s->cfg->fsync == FSYNC_ALWAYS;
        }
        if (fw->close_requested || run_writer_pending_bytes(fw->w) > 0 || fw->waiters)
            kick(fw);
    }
}

struct flusher *flusher_new(struct server *s)
{
    struct flusher *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->s = s;
    f->last_sweep = uv_now(s->loop);
    uv_timer_init(s->loop, &f->timer);
    f->timer.data = f;
    uint64_t ms = (uint64_t)(s->cfg->flush_interval * 1000.0);
    /* Look at least four times per --upload-interval, so that a file is
     * closed at most a quarter late. */
    double up = s->cfg->upload_url[0] ? s->cfg->upload_interval * 250.0 : 0;
    if (up > 0 && up < (double)ms)
        ms = (uint64_t)up;
    if (ms < FLUSHER_MIN_INTERVAL_MS)
        ms = FLUSHER_MIN_INTERVAL_MS;
    uv_timer_start(&f->timer, on_timer, ms, ms);
    /* The timer alone must not keep the loop alive after shutdown. */
    return f;
}

void flusher_free(struct flusher *f)
{
    free(f);
}

void flusher_request(struct flusher *f, logdir *d, const char *user, bool sync, bool close,
                     struct conn *c,
                     const struct reply_id *id, uint64_t line_no)
{
    struct req *q = calloc(1, sizeof *q);
    if (!q) {
        struct reply rp;
        reply_init(&rp, NULL);
        rp.id = *id;
        reply_fail(&rp, -ENOMEM, "out of memory");
        rp.line = line_no;
        conn_reply(c, &rp);
        return;
    }
    q->c = c;
    q->line_no = line_no;
    q->id = *id;
    q->remaining = 1;   /* ours, until every writer is registered */
    conn_defer(c);
    for (struct fw *fw = f->head; fw; fw = fw->next) {
        if ((d && !logdir_run_held_by(fw->rs, d)) || (!d && user && strcmp(fw->user, user) != 0))
            continue;
        if (fw->unreported_drops > 0) {
            /* Dropped before this flush came; it cannot have been
             * written, so the flush fails now, and says so once. */
            fw->unreported_drops = 0;
            if (q->err == 0) {
                q->err = -EFBIG;
                snprintf(q->err_dir, sizeof q->err_dir, "%s", fw->dir);
            }
        }
        uint64_t target = UINT64_MAX;
        if (!fw->closing && !close) {
            target = run_writer_seq_added(fw->w);
            uint64_t have = sync ? run_writer_seq_synced(fw->w) : run_writer_seq_written(fw->w);
            if (have >= target)
                continue;
        }
        struct wlink *l = calloc(1, sizeof *l);
        if (!l) {
            q->err = -ENOMEM;
            continue;
        }
        l->req = q;
        l->target = target;
        l->sync = sync;
        l->next = fw->waiters;
        fw->waiters = l;
        q->remaining++;
        if (close && !fw->closing) {
            fw->close_requested = true;
            fw->close_sync = sync;
        } else if (sync) {
            fw->sync_next = true;
        }
    }
    /* Start the writes (kick may answer and free links, not q: we still
     * hold our count). */
    struct fw *next;
    for (struct fw *fw = f->head; fw; fw = next) {
        next = fw->next;
        if ((!d || logdir_run_held_by(fw->rs, d)) && fw->waiters)
            kick(fw);
    }
    req_done(q, 0, NULL);
}

void flusher_rotate_all(struct flusher *f)
{
    unsigned n = 0;
    for (struct fw *fw = f->head; fw; fw = fw->next) {
        if (!fw->closing) {
            run_writer_request_rotate(fw->w);
            n++;
        }
    }
    log_info("SIGHUP: %u event files will be rotated with their next record", n);
}

void flusher_shutdown(struct flusher *f, void (*done)(void *ctx), void *ctx)
{
    f->shutting_down = true;
    f->done = done;
    f->done_ctx = ctx;
    struct fw *next;
    for (struct fw *fw = f->head; fw; fw = next) {
        next = fw->next;
        if (fw->closing)
            continue;
        fw->close_requested = true;
        fw->close_sync = f->s->cfg->fsync != FSYNC_NEVER;
        kick(fw);
    }
    maybe_shutdown_done(f);
}

unsigned flusher_open_writers(const struct flusher *f)
{
    return f->n_open;
}

void flusher_gauges(const struct flusher *f, const char *user, struct stats_gauges *g)
{
    if (!user) {
        g->writers_open = f->n_open;
        g->writers_closing = f->n_closing;
        g->pending_bytes = f->pending_total;
        return;
    }
    g->writers_open = g->writers_closing = g->pending_bytes = 0;
    /* A walk of at most --max-writers and the ones closing. */
    for (const struct fw *fw = f->head; fw; fw = fw->next) {
        if (strcmp(fw->user, user) != 0)
            continue;
        if (fw->closing) {
            g->writers_closing++;
        } else {
            g->writers_open++;
            g->pending_bytes += fw->counted_pending;
        }
    }
}

uint64_t flusher_pending_bytes(const struct flusher *f)
{
    return f->pending_total;
}
