#include "logdir_hold.h"

#include <errno.h>
#include <string.h>

#include "run_writer.h"

void logdir_hold_forget_hot(logdir *d)
{
    memset(d->hot_tags, 0, sizeof d->hot_tags);
    d->hot_run = NULL;
}

/* The holders of rs count its tags against their limit. */
void logdir_hold_add_tags(logdir_run *rs, long n)
{
    for (unsigned i = 0; i < rs->n_holders; i++)
        rs->holders[i]->n_tags += (size_t)n;
}

int logdir_hold_run(logdir *d, const char *run, size_t len, logdir_run *rs,
                    struct strmap_entry **ret)
{
    struct strmap_entry *e;
    int r = strmap_put(&d->runs, run, len, &e);
    if (r < 0)
        return r;
    if (r == 0) {   /* held already */
        if (ret)
            *ret = e;
        return 0;
    }
    r = logdir_run_add_holder(rs, d);
    if (r < 0) {
        strmap_remove(&d->runs, run, len);
        return r;
    }
    e->val.ptr = rs;
    d->n_tags += rs->tags.count;
    if (ret)
        *ret = e;
    return 1;
}

void logdir_hold_drop(logdir *d, const char *run, size_t len)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, len);
    if (!e)
        return;
    logdir_run *rs = e->val.ptr;
    logdir_hold_forget_hot(d);
    strmap_remove(&d->runs, run, len);
    d->n_tags -= rs->tags.count;
    logdir_run_remove_holder(rs, d);
}

/* The run name of physical path p under d, or NULL when p is not under
 * d's directory. */
static const char *relative_of(const logdir *d, const char *p, size_t plen, size_t *ret_len)
{
    if (strcmp(d->name, ".") == 0) {
        *ret_len = plen;
        return p;
    }
    size_t nl = strlen(d->name);
    if (plen < nl || memcmp(p, d->name, nl) != 0)
        return NULL;
    if (plen == nl) {
        *ret_len = 1;
        return ".";
    }
    if (p[nl] != '/')
        return NULL;
    *ret_len = plen - nl - 1;
    return p + nl + 1;
}

/* The state of run run[0..len) of the scan, made from the scan's when no
 * logdir knows it (*ret_fresh), else the one known (its state covers
 * everything in the files, and more). NULL when out of memory. */
static logdir_run *scan_run(logdir *d, const char *run, size_t len, bool *ret_fresh)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, len);
    char path[LOGDIR_MAX_PATH + 1];
    logdir_run *rs;
    *ret_fresh = false;
    if (e) {
        rs = e->val.ptr;
        *ret_fresh = (rs->flags & LOGDIR_RUN_FRESH) != 0;
        return rs;
    }
    int n = logdir_run_join(d->name, run, len, path, sizeof path);
    if (n < 0)
        return NULL;
    int made = logdir_runs_make(d->table, path, (size_t)n, &rs);
    if (made < 0)
        return NULL;
    if (made)
        rs->flags |= LOGDIR_RUN_FRESH;
    if (logdir_hold_run(d, run, len, rs, NULL) < 0) {
        logdir_runs_maybe_free(rs);
        return NULL;
    }
    *ret_fresh = made;
    return rs;
}

/* Apply what the scan found (steps, from files) to the shared table: a
 * run no logdir knows takes the scan's tags and kinds; a run known (held
 * by another logdir, or with a writer still open) keeps its state, which
 * already holds everything its files do. Then every run of the table
 * under d is held, and the counter resumes after the largest step of them
 * all. Best effort when out of memory: a run left out is made on use. */
void logdir_hold_merge_scan(logdir *d, struct logdir_steps *steps, int64_t max_step)
{
    for (size_t i = 0; i < steps->runs.cap; i++) {
        const struct strmap_entry *e = &steps->runs.slots[i];
        bool fresh;
        logdir_run *rs = e->key ? scan_run(d, e->key, e->key_len, &fresh) : NULL;
        if (rs && fresh)
            rs->flags |= (unsigned)e->aux & LOGDIR_RUN_STARTED;
    }
    for (size_t i = 0; i < steps->tags.cap; i++) {
        const struct strmap_entry *e = &steps->tags.slots[i];
        if (!e->key)
            continue;
        size_t rl = strlen(e->key);
        bool fresh;
        logdir_run *rs = scan_run(d, e->key, rl, &fresh);
        if (!rs || !fresh)
            continue;
        struct strmap_entry *t;
        const char *tag = e->key + rl + 1;
        if (strmap_put(&rs->tags, tag, e->key_len - rl - 1, &t) != 1)
            continue;
        t->val.i64 = e->val.i64;
        unsigned k = logdir_tag_kind(e);
        if (k != LOGDIR_KIND_ANY && k != LOGDIR_KIND_SCALARS) {
            const char *name = logdir_steps_kind_name(steps, k);
            int kk = logdir_run_kind(rs, name, strlen(name));
            k = kk < 0 ? LOGDIR_KIND_ANY : (unsigned)kk;
        }
        logdir_tag_set_kind(t, k);
        logdir_hold_add_tags(rs, 1);
    }
    /* The display names and descriptions of the tags' first values
     * ("run\0tag" keys), for the runs made from the scan. */
    for (size_t i = 0; i < steps->metas.cap; i++) {
        const struct strmap_entry *e = &steps->metas.slots[i];
        if (!e->key)
            continue;
        size_t rl = strlen(e->key);
        struct strmap_entry *r = strmap_get(&d->runs, e->key, rl);
        logdir_run *rs = r ? r->val.ptr : NULL;
        if (rs && (rs->flags & LOGDIR_RUN_FRESH))
            (void)logdir_run_set_meta(rs, e->key + rl + 1, e->key_len - rl - 1,
                                      (uint64_t)e->val.i64);
    }
    /* Runs of the table under d that the scan did not see (no files yet,
     * written through another logdir): held too, so that d steps by them. */
    struct logdir_runs *tb = d->table;
    for (size_t i = 0; i < tb->map.cap; i++) {
        const struct strmap_entry *e = &tb->map.slots[i];
        size_t rl;
        const char *run = e->key ? relative_of(d, e->key, e->key_len, &rl) : NULL;
        if (run && !strmap_get(&d->runs, run, rl))
            logdir_hold_run(d, run, rl, e->val.ptr, NULL);
    }
    d->step = max_step;
    for (size_t i = 0; i < d->runs.cap; i++) {
        logdir_run *rs = d->runs.slots[i].key ? d->runs.slots[i].val.ptr : NULL;
        if (!rs)
            continue;
        rs->flags &= ~LOGDIR_RUN_FRESH;
        for (size_t j = 0; j < rs->tags.cap; j++)
            if (rs->tags.slots[j].key && rs->tags.slots[j].val.i64 > d->step)
                d->step = rs->tags.slots[j].val.i64;
    }
}

/* Let go of every run; close_writers: close the writers of the runs no
 * other logdir holds (first error returned). */
int logdir_hold_release_all(logdir *d, bool close_writers, bool sync)
{
    int r = 0;
    logdir_hold_forget_hot(d);
    for (size_t i = 0; i < d->runs.cap; i++) {
        struct strmap_entry *e = &d->runs.slots[i];
        if (!e->key)
            continue;
        logdir_run *rs = e->val.ptr;
        if (close_writers && rs->n_holders == 1 && rs->w) {
            int k = run_writer_close(logdir_run_detach_writer(rs), sync);
            if (r == 0)
                r = k;
        }
        logdir_run_remove_holder(rs, d);
    }
    strmap_clear(&d->runs);
    d->n_tags = 0;
    return r;
}

int logdir_adopt(logdir *d, logdir_run *rs)
{
    size_t rl;
    const char *run = relative_of(d, rs->path, rs->path_len, &rl);
    if (!run)
        return -EINVAL;
    if (strmap_get(&d->runs, run, rl))
        return 0;
    if (d->runs.count >= d->max_runs || d->n_tags + rs->tags.count > d->max_tags)
        return -ENOSPC;
    int r = logdir_hold_run(d, run, rl, rs, NULL);
    return r < 0 ? r : 0;
}

void logdir_foreach_run(logdir *d, void (*fn)(void *ctx, const char *run, logdir_run *rs),
                        void *ctx)
{
    for (size_t i = 0; i < d->runs.cap; i++)
        if (d->runs.slots[i].key)
            fn(ctx, d->runs.slots[i].key, d->runs.slots[i].val.ptr);
}

size_t logdir_run_count(const logdir *d)
{
    return d->runs.count;
}

size_t logdir_tag_count(const logdir *d)
{
    return d->n_tags;
}
