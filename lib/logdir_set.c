#include "logdir_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

struct logdir_set {
    char *root;
    struct logdir_options opts;
    struct logdir_runs *runs;   /* the runs' state, shared by the logdirs */
    /* name -> logdir; aux: the use tick of its last find (LRU). */
    struct strmap dirs;
    /* The entry found last, while dirs.gen says it has not moved: messages
     * mostly name the logdir of the one before. */
    struct strmap_entry *last;
    uint64_t last_gen;
    uint64_t tick;              /* uses so far */
    uint64_t sweep_mark;        /* tick at the sweep before */
    bool releasing;
};

static logdir_set *set_new(const char *root, const struct logdir_options *opts, bool rel)
{
    logdir_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->root = strdup(root);
    s->runs = logdir_runs_new();
    if (!s->root || !s->runs) {
        free(s->root);
        logdir_runs_free(s->runs, false);
        free(s);
        return NULL;
    }
    if (opts)
        s->opts = *opts;
    s->releasing = rel;
    strmap_init(&s->dirs);
    return s;
}

logdir_set *logdir_set_new(const char *root, const struct logdir_options *opts)
{
    return set_new(root, opts, false);
}

logdir_set *logdir_set_new_releasing(const char *root, const struct logdir_options *opts)
{
    return set_new(root, opts, true);
}

int logdir_set_free(logdir_set *s, bool sync)
{
    if (!s)
        return 0;
    int r = 0;
    for (size_t i = 0; i < s->dirs.cap; i++) {
        struct strmap_entry *e = &s->dirs.slots[i];
        if (e->key) {
            int k = logdir_close(e->val.ptr, sync);
            if (r == 0)
                r = k;
        }
    }
    /* Runs no logdir holds any more whose writer is still open. */
    int k = logdir_runs_free(s->runs, sync);
    if (r == 0)
        r = k;
    strmap_done(&s->dirs);
    free(s->root);
    free(s);
    return r;
}

logdir *logdir_set_find(logdir_set *s, const char *name)
{
    size_t len = strlen(name);
    struct strmap_entry *e = s->last;
    if (!(e && s->last_gen == s->dirs.gen && e->key_len == len &&
          strmap_bytes_equal(e->key, name, len))) {
        e = strmap_get(&s->dirs, name, len);
        if (!e)
            return NULL;
        s->last = e;
        s->last_gen = s->dirs.gen;
    }
    e->aux = ++s->tick;
    return e->val.ptr;
}

/* ---- release ------------------------------------------------------------ */

struct handover {
    logdir_set *s;
    logdir *d;
    int err;
};

/* The deepest open logdir other than not whose directory holds path (the
 * path itself, then its parents, then the root "."), or NULL. */
static logdir *open_above(logdir_set *s, const char *path, size_t len, const logdir *not)
{
    for (;;) {
        struct strmap_entry *e = strmap_get(&s->dirs, path, len);
        if (e && e->val.ptr != not)
            return e->val.ptr;
        if (len == 1 && path[0] == '.')
            return NULL;
        while (len > 0 && path[len - 1] != '/')
            len--;
        if (len == 0) {
            path = ".";
            len = 1;
        } else {
            len--;   /* the '/' */
        }
    }
}

/* A run only the released logdir holds, but under another open logdir:
 * that one takes it over, or it could be made again from the files while
 * its steps written since that logdir's scan are only in memory. */
static void hand_over(void *ctx, const char *run, logdir_run *rs)
{
    struct handover *h = ctx;
    (void)run;
    if (h->err || rs->n_holders != 1)
        return;
    logdir *to = open_above(h->s, rs->path, rs->path_len, h->d);
    if (to && logdir_adopt(to, rs) < 0)
        h->err = -EBUSY;
}

static void unwritten(void *ctx, const char *run, logdir_run *rs)
{
    bool *busy = ctx;
    run_writer *w = logdir_run_writer(rs);
    (void)run;
    if (w && run_writer_seq_written(w) != run_writer_seq_added(w))
        *busy = true;
}

/* In use: scanning, or a run it holds has records not yet in its file. */
static bool in_use(logdir *d)
{
    bool busy = logdir_scanning(d);
    if (!busy)
        logdir_foreach_run(d, unwritten, &busy);
    return busy;
}

int logdir_set_release(logdir_set *s, logdir *d)
{
    if (in_use(d))
        return -EBUSY;
    struct handover h = {s, d, 0};
    logdir_foreach_run(d, hand_over, &h);
    if (h.err)
        return h.err;   /* runs handed over so far are held twice: harmless */
    const char *name = logdir_name(d);
    strmap_remove(&s->dirs, name, strlen(name));
    logdir_release(d);
    return 0;
}

static int cmp_use(const void *a, const void *b)
{
    uint64_t x = (*(struct strmap_entry *const *)a)->aux;
    uint64_t y = (*(struct strmap_entry *const *)b)->aux;
    return x < y ? -1 : x > y;
}

/* Release the least recently used logdirs, at most `want` of them, among
 * those used last at or before tick `until`. Returns how many. */
static size_t release_lru(logdir_set *s, size_t want, uint64_t until)
{
    size_t n = 0, done = 0;
    struct strmap_entry **c = malloc((s->dirs.count + 1) * sizeof *c);
    if (!c)
        return 0;
    for (size_t i = 0; i < s->dirs.cap; i++) {
        struct strmap_entry *e = &s->dirs.slots[i];
        if (e->key && e->aux <= until && !in_use(e->val.ptr))
            c[n++] = e;
    }
    qsort(c, n, sizeof *c, cmp_use);
    /* Releasing removes from the map, which moves entries: take the
     * logdirs out first. */
    for (size_t i = 0; i < n; i++)
        c[i] = (struct strmap_entry *)c[i]->val.ptr;
    for (size_t i = 0; i < n && done < want; i++)
        if (logdir_set_release(s, (logdir *)c[i]) == 0)
            done++;
    free(c);
    return done;
}

size_t logdir_set_sweep(logdir_set *s)
{
    if (!s->releasing)
        return 0;
    size_t n = s->sweep_mark ? release_lru(s, SIZE_MAX, s->sweep_mark) : 0;
    s->sweep_mark = s->tick ? s->tick : 1;
    return n;
}

/* ---- opening -------------------------------------------------------------- */

int logdir_set_get_deferred(logdir_set *s, const char *name, logdir **ret,
                            logdir_scanner **ret_scanner)
{
    *ret_scanner = NULL;
    logdir *d = logdir_set_find(s, name);
    if (d) {
        *ret = d;
        return 0;
    }
    unsigned max = s->opts.max_logdirs && s->opts.max_logdirs < LOGDIR_MAX_LOGDIRS
                       ? s->opts.max_logdirs
                       : LOGDIR_MAX_LOGDIRS;
    if (s->dirs.count >= max && !(s->releasing && release_lru(s, 1, UINT64_MAX) == 1))
        return -ENOSPC;
    logdir_scanner *sc;
    int r = logdir_open_shared(&d, s->root, name, &s->opts, s->runs, &sc);
    if (r < 0)
        return r;
    struct strmap_entry *e;
    r = strmap_put(&s->dirs, name, strlen(name), &e);
    if (r < 0) {
        logdir_scanner_free(sc);
        logdir_close(d, false);
        return r;
    }
    e->val.ptr = d;
    e->aux = ++s->tick;
    *ret = d;
    *ret_scanner = sc;
    return 0;
}

int logdir_set_get(logdir_set *s, const char *name, logdir **ret)
{
    logdir_scanner *sc;
    int r = logdir_set_get_deferred(s, name, ret, &sc);
    if (r == 0)
        logdir_scan_finish(*ret, sc);
    return r;
}

void logdir_set_foreach(logdir_set *s, void (*fn)(void *ctx, logdir *d), void *ctx)
{
    for (size_t i = 0; i < s->dirs.cap; i++)
        if (s->dirs.slots[i].key)
            fn(ctx, s->dirs.slots[i].val.ptr);
}

size_t logdir_set_count(const logdir_set *s)
{
    return s->dirs.count;
}

size_t logdir_set_run_count(const logdir_set *s)
{
    return s->runs->map.count;
}

size_t logdir_set_tag_count(const logdir_set *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->runs->map.cap; i++)
        if (s->runs->map.slots[i].key)
            n += ((logdir_run *)s->runs->map.slots[i].val.ptr)->tags.count;
    return n;
}
