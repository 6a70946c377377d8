#include "logdir_runs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logdir_steps.h"

struct logdir_runs *logdir_runs_new(void)
{
    struct logdir_runs *t = calloc(1, sizeof *t);
    if (t)
        strmap_init(&t->map);
    return t;
}

static int run_free(logdir_run *rs, bool sync)
{
    int r = rs->w ? run_writer_close(rs->w, sync) : 0;
    for (unsigned i = 0; i < rs->n_kinds; i++)
        free(rs->kinds[i]);
    free(rs->kinds);
    free(rs->holders);
    strmap_done(&rs->tags);
    strmap_done(&rs->metas);
    free(rs->path);
    free(rs);
    return r;
}

int logdir_runs_free(struct logdir_runs *t, bool sync)
{
    if (!t)
        return 0;
    int r = 0;
    for (size_t i = 0; i < t->map.cap; i++) {
        if (!t->map.slots[i].key)
            continue;
        int k = run_free(t->map.slots[i].val.ptr, sync);
        if (r == 0)
            r = k;
    }
    strmap_done(&t->map);
    free(t);
    return r;
}

logdir_run *logdir_runs_get(struct logdir_runs *t, const char *path, size_t len)
{
    struct strmap_entry *e = strmap_get(&t->map, path, len);
    return e ? e->val.ptr : NULL;
}

int logdir_runs_make(struct logdir_runs *t, const char *path, size_t len, logdir_run **ret)
{
    logdir_run *rs = logdir_runs_get(t, path, len);
    if (rs) {
        *ret = rs;
        return 0;
    }
    rs = calloc(1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    rs->path = strndup(path, len);
    if (!rs->path) {
        free(rs);
        return -ENOMEM;
    }
    rs->path_len = len;
    rs->table = t;
    strmap_init(&rs->tags);
    strmap_init(&rs->metas);
    struct strmap_entry *e;
    int r = strmap_put(&t->map, path, len, &e);
    if (r < 0) {
        run_free(rs, false);
        return r;
    }
    e->val.ptr = rs;
    *ret = rs;
    return 1;
}

static bool kept(const logdir_run *rs)
{
    return rs->n_holders > 0 || rs->w || rs->pins > 0 || rs->table->scans > 0;
}

void logdir_runs_maybe_free(logdir_run *rs)
{
    if (!rs || kept(rs))
        return;
    strmap_remove(&rs->table->map, rs->path, rs->path_len);
    run_free(rs, false);
}

void logdir_runs_scan_begin(struct logdir_runs *t)
{
    t->scans++;
}

void logdir_runs_scan_end(struct logdir_runs *t)
{
    if (t->scans > 0)
        t->scans--;
    if (t->scans > 0)
        return;
    /* Runs let go of while scans ran: the map cannot change while it is
     * walked, so collect first. */
    size_t n = 0;
    for (size_t i = 0; i < t->map.cap; i++)
        if (t->map.slots[i].key && !kept(t->map.slots[i].val.ptr))
            n++;
    if (n == 0)
        return;
    logdir_run **gone = malloc(n * sizeof *gone);
    if (!gone)
        return;   /* kept until the next scan ends: nothing is wrong, only held */
    n = 0;
    for (size_t i = 0; i < t->map.cap; i++)
        if (t->map.slots[i].key && !kept(t->map.slots[i].val.ptr))
            gone[n++] = t->map.slots[i].val.ptr;
    for (size_t i = 0; i < n; i++)
        logdir_runs_maybe_free(gone[i]);
    free(gone);
}

int logdir_run_add_holder(logdir_run *rs, struct logdir *d)
{
    if (logdir_run_held_by(rs, d))
        return 0;
    if (rs->n_holders == rs->cap_holders) {
        unsigned cap = rs->cap_holders ? rs->cap_holders * 2 : 2;
        struct logdir **h = realloc(rs->holders, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        rs->holders = h;
        rs->cap_holders = cap;
    }
    rs->holders[rs->n_holders++] = d;
    return 0;
}

void logdir_run_remove_holder(logdir_run *rs, struct logdir *d)
{
    for (unsigned i = 0; i < rs->n_holders; i++) {
        if (rs->holders[i] == d) {
            rs->holders[i] = rs->holders[--rs->n_holders];
            break;
        }
    }
    logdir_runs_maybe_free(rs);
}

bool logdir_run_held_by(const logdir_run *rs, const struct logdir *d)
{
    for (unsigned i = 0; i < rs->n_holders; i++)
        if (rs->holders[i] == d)
            return true;
    return false;
}

void logdir_run_pin(logdir_run *rs)
{
    rs->pins++;
}

void logdir_run_unpin(logdir_run *rs)
{
    if (rs->pins > 0)
        rs->pins--;
    logdir_runs_maybe_free(rs);
}

const char *logdir_run_path(const logdir_run *rs)
{
    return rs->path;
}

run_writer *logdir_run_writer(const logdir_run *rs)
{
    return rs->w;
}

run_writer *logdir_run_detach_writer(logdir_run *rs)
{
    run_writer *w = rs->w;
    rs->w = NULL;
    logdir_runs_maybe_free(rs);   /* kept only for its writer */
    return w;
}

int logdir_run_kind(logdir_run *rs, const void *name, size_t len)
{
    static const char scalars[] = "scalars";
    if (len == sizeof scalars - 1 && memcmp(name, scalars, len) == 0)
        return LOGDIR_KIND_SCALARS;
    for (unsigned i = 0; i < rs->n_kinds; i++)
        if (strlen(rs->kinds[i]) == len && memcmp(rs->kinds[i], name, len) == 0)
            return (int)i + 1;
    if (rs->n_kinds >= LOGDIR_RUN_MAX_KINDS)
        return -ENOSPC;
    if (rs->n_kinds == rs->cap_kinds) {
        unsigned cap = rs->cap_kinds ? rs->cap_kinds * 2 : 2;
        char **k = realloc(rs->kinds, cap * sizeof *k);
        if (!k)
            return -ENOMEM;
        rs->kinds = k;
        rs->cap_kinds = cap;
    }
    char *k = strndup(name, len);
    if (!k)
        return -ENOMEM;
    rs->kinds[rs->n_kinds++] = k;
    return (int)rs->n_kinds;
}

const char *logdir_run_kind_name(const logdir_run *rs, unsigned k)
{
    if (k == LOGDIR_KIND_SCALARS)
        return "scalars";
    if (k == LOGDIR_KIND_ANY || k > rs->n_kinds)
        return "any kind";
    return rs->kinds[k - 1];
}

void logdir_run_lower(logdir_run *rs, int64_t step)
{
    for (size_t i = 0; i < rs->tags.cap; i++) {
        struct strmap_entry *e = &rs->tags.slots[i];
        if (e->key && e->val.i64 != LOGDIR_STEP_NONE && e->val.i64 >= step)
            e->val.i64 = step - 1;
    }
}

bool logdir_run_written(const logdir_run *rs)
{
    for (size_t i = 0; i < rs->tags.cap; i++)
        if (rs->tags.slots[i].key && rs->tags.slots[i].val.i64 != LOGDIR_STEP_NONE)
            return true;
    return false;
}

int logdir_run_join(const char *logdir, const char *run, size_t run_len, char *out,
                    size_t out_size)
{
    bool ld_dot = logdir[0] == '.' && logdir[1] == '\0';
    bool run_dot = run_len == 1 && run[0] == '.';
    size_t ll = ld_dot ? 0 : strlen(logdir);
    size_t n;
    if (ld_dot && run_dot)
        n = 1;
    else if (ld_dot)
        n = run_len;
    else if (run_dot)
        n = ll;
    else
        n = ll + 1 + run_len;
    if (n + 1 > out_size)
        return -ENAMETOOLONG;
    if (ld_dot && run_dot) {
        out[0] = '.';
    } else if (ld_dot) {
        memcpy(out, run, run_len);
    } else if (run_dot) {
        memcpy(out, logdir, ll);
    } else {
        memcpy(out, logdir, ll);
        out[ll] = '/';
        memcpy(out + ll + 1, run, run_len);
    }
    out[n] = '\0';
    return (int)n;
}

uint64_t logdir_run_meta(const logdir_run *rs, const void *tag, size_t tag_len)
{
    if (rs->metas.count == 0)
        return 0;
    const struct strmap_entry *e = strmap_get((struct strmap *)&rs->metas, tag, tag_len);
    return e ? (uint64_t)e->val.i64 : 0;
}

int logdir_run_set_meta(logdir_run *rs, const void *tag, size_t tag_len, uint64_t fp)
{
    if (fp == 0)
        return 0;
    struct strmap_entry *e = strmap_get(&rs->metas, tag, tag_len);
    if (!e) {
        int r = strmap_put(&rs->metas, tag, tag_len, &e);
        if (r < 0)
            return r;
    }
    e->val.i64 = (int64_t)fp;
    return 0;
}
