#include "logdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "event.h"
#include "logdir_hold.h"
#include "logdir_steps.h"
#include "strmap.h"

/* A (run, tag) never written: any step is accepted. */
#define STEP_NONE LOGDIR_STEP_NONE

int logdir_normalize(const char *name, size_t len, char *out, size_t out_size,
                     const char **ret_why)
{
    const char *why = NULL;
    int r = 0;
    size_t starts[LOGDIR_MAX_DEPTH];
    size_t depth = 0, o = 0;

    if (out_size < 2) {
        why = "no room";
        r = -ENAMETOOLONG;
        goto out;
    }
    if (len > 0 && name[0] == '/') {
        why = "absolute paths are not allowed (names are relative to the root)";
        r = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && name[j] != '/')
            j++;
        const char *c = name + i;
        size_t clen = j - i;
        i = j + 1;
        if (clen == 0 || (clen == 1 && c[0] == '.'))
            continue;
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            if (depth == 0) {
                why = "\"..\" would leave the root";
                r = -EINVAL;
                goto out;
            }
            o = starts[--depth];
            continue;
        }
        for (size_t k = 0; k < clen; k++) {
            unsigned char ch = (unsigned char)c[k];
            if (ch < 0x20 || ch == 0x7f) {
                why = "control characters are not allowed in names";
                r = -EINVAL;
                goto out;
            }
        }
        if (c[0] == '$') {
            why = "names starting with '$' are reserved";
            r = -EINVAL;
            goto out;
        }
        if (clen > LOGDIR_MAX_COMPONENT) {
            why = "a path component is longer than 255 bytes";
            r = -ENAMETOOLONG;
            goto out;
        }
        if (depth == LOGDIR_MAX_DEPTH) {
            why = "too many path components";
            r = -ENAMETOOLONG;
            goto out;
        }
        size_t need = o + (depth > 0) + clen;
        if (need > LOGDIR_MAX_NAME || need + 1 > out_size) {
            why = "name too long";
            r = -ENAMETOOLONG;
            goto out;
        }
        starts[depth++] = o;
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, c, clen);
        o += clen;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
out:
    if (ret_why)
        *ret_why = why;
    return r;
}

/* ---- one logdir -------------------------------------------------------- */

int logdir_open_shared(logdir **ret, const char *root, const char *name,
                       const struct logdir_options *opts, struct logdir_runs *table,
                       logdir_scanner **ret_scanner)
{
    char norm[LOGDIR_MAX_NAME + 1];
    *ret_scanner = NULL;
    if (logdir_normalize(name, strlen(name), norm, sizeof norm, NULL) < 0 ||
        strcmp(norm, name) != 0)
        return -EINVAL;
    /* The logdir's own directory, if it exists, confined like the runs:
     * a link planted as (or above) the logdir is refused now. */
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return -errno;
    int dir_fd = -1;
    int r = confine_open_dir(root_fd, name, false, &dir_fd);
    close(root_fd);
    if (r < 0 && r != -ENOENT)
        return r;
    logdir *d = calloc(1, sizeof *d);
    if (!d) {
        if (dir_fd >= 0)
            close(dir_fd);
        return -ENOMEM;
    }
    strmap_init(&d->runs);
    d->name = strdup(name);
    d->root = strdup(root);
    if (strcmp(name, ".") == 0)
        d->path = strdup(root);
    else if (asprintf(&d->path, "%s/%s", root, name) < 0)
        d->path = NULL;
    if (opts)
        d->opts = *opts;
    d->table = table;
    if (!table) {
        d->table = logdir_runs_new();
        d->own_table = true;
    }
    d->max_runs = d->opts.max_runs && d->opts.max_runs < LOGDIR_MAX_RUNS ? d->opts.max_runs
                                                                         : LOGDIR_MAX_RUNS;
    d->max_tags = d->opts.max_tags && d->opts.max_tags < LOGDIR_MAX_TAGS ? d->opts.max_tags
                                                                         : LOGDIR_MAX_TAGS;
    d->step = -1;
    /* The directory exists: its files are scanned, by a scanner that
     * takes the descriptor (and closes it even when it cannot be made). */
    logdir_scanner *sc = NULL;
    bool scan = dir_fd >= 0;
    if (scan && d->path)
        sc = logdir_scanner_new(dir_fd, d->path, d->max_tags, d->max_runs, LOGDIR_MAX_KEY);
    else if (scan)
        close(dir_fd);
    if (!d->name || !d->root || !d->path || !d->table || (scan && !sc)) {
        logdir_scanner_free(sc);
        logdir_close(d, false);
        return -ENOMEM;
    }
    d->scanning = sc != NULL;
    if (sc)
        logdir_runs_scan_begin(d->table);
    *ret = d;
    *ret_scanner = sc;
    return 0;
}

int logdir_open_deferred(logdir **ret, const char *root, const char *name,
                         const struct logdir_options *opts, logdir_scanner **ret_scanner)
{
    return logdir_open_shared(ret, root, name, opts, NULL, ret_scanner);
}

bool logdir_scanning(const logdir *d)
{
    return d->scanning;
}

void logdir_scan_finish(logdir *d, logdir_scanner *sc)
{
    if (!sc)
        return;
    /* Nothing used the logdir while it was scanned (logdir_scanning()),
     * so it holds no run yet. */
    struct logdir_steps steps;
    int64_t max_step;
    logdir_steps_init(&steps, 0, 0, 0);
    logdir_scanner_take(sc, &steps, &max_step, &d->scan);
    logdir_hold_merge_scan(d, &steps, max_step);
    logdir_steps_done(&steps);
    logdir_hold_forget_hot(d);
    d->scanning = false;
    logdir_scanner_free(sc);
    logdir_runs_scan_end(d->table);
}

int logdir_open(logdir **ret, const char *root, const char *name,
                const struct logdir_options *opts)
{
    logdir_scanner *sc;
    int r = logdir_open_deferred(ret, root, name, opts, &sc);
    if (r == 0)
        logdir_scan_finish(*ret, sc);
    return r;
}

static void free_logdir(logdir *d)
{
    strmap_done(&d->runs);
    free(d->name);
    free(d->root);
    free(d->path);
    free(d);
}

int logdir_close(logdir *d, bool sync)
{
    if (!d)
        return 0;
    int r = d->table ? logdir_hold_release_all(d, true, sync) : 0;
    if (d->scanning && d->table)
        logdir_runs_scan_end(d->table);
    if (d->own_table) {
        int k = logdir_runs_free(d->table, sync);
        if (r == 0)
            r = k;
    }
    free_logdir(d);
    return r;
}

void logdir_release(logdir *d)
{
    if (!d)
        return;
    logdir_hold_release_all(d, false, false);
    if (d->scanning)
        logdir_runs_scan_end(d->table);
    if (d->own_table)
        logdir_runs_free(d->table, false);
    free_logdir(d);
}

const char *logdir_name(const logdir *d)
{
    return d->name;
}

const struct logdir_scan *logdir_scan_result(const logdir *d)
{
    return &d->scan;
}

int64_t logdir_step(const logdir *d)
{
    return d->step;
}

void logdir_step_set(logdir *d, int64_t step)
{
    d->step = step;
}

uint64_t logdir_refused(const logdir *d)
{
    return d->refused;
}

static void copy_cut(char *out, size_t out_size, const void *src, size_t len)
{
    if (len >= out_size) {
        len = out_size - 1;
        /* Do not cut a UTF-8 sequence in two: the text goes into JSON. */
        while (len > 0 && (((const unsigned char *)src)[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, src, len);
    out[len] = '\0';
}

/* Open (making it if needed) the directory of run, confined under the
 * root. *ret_fd is the caller's. */
static int open_run_dir(logdir *d, const char *run, int *ret_fd)
{
    char rel[CONFINE_MAX_PATH + 1];
    if (logdir_run_join(d->name, run, strlen(run), rel, sizeof rel) < 0)
        return -ENAMETOOLONG;
    int root_fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return -errno;
    int r = confine_open_dir(root_fd, rel, true, ret_fd);
    close(root_fd);
    return r;
}

/* The run used last if it is run[0..rl), else NULL (then ask run_for()). */
static inline logdir_run *hot_run_n(const logdir *d, const char *run, size_t rl)
{
    const struct strmap_entry *e = d->hot_run;
    if (!e || d->hot_run_gen != d->runs.gen)
        return NULL;
    return e->key_len == rl && strmap_bytes_equal(e->key, run, rl) ? e->val.ptr : NULL;
}

/* The state of run (held by d): the one d holds, else the one another
 * logdir made for the same directory (held now), else a new one.
 * *ret_new: this call began to hold it. -ENOSPC past max_runs (*ret_kind
 * LOGDIR_REFUSED_RUNS), -ENAMETOOLONG, -ENOMEM. */
static int run_for(logdir *d, const char *run, logdir_run **ret, bool *ret_new,
                   enum logdir_refusal_kind *ret_kind)
{
    size_t rl = strlen(run);
    *ret_new = false;
    logdir_run *rs = hot_run_n(d, run, rl);
    struct strmap_entry *e = rs ? d->hot_run : strmap_get(&d->runs, run, rl);
    if (!e) {
        char path[LOGDIR_MAX_PATH + 1];
        int n = logdir_run_join(d->name, run, rl, path, sizeof path);
        if (n < 0)
            return n;
        if (d->runs.count >= d->max_runs) {
            *ret_kind = LOGDIR_REFUSED_RUNS;
            return -ENOSPC;
        }
        int made = logdir_runs_make(d->table, path, (size_t)n, &rs);
        if (made < 0)
            return made;
        int r = logdir_hold_run(d, run, rl, rs, &e);
        if (r < 0) {
            logdir_runs_maybe_free(rs);
            return r;
        }
        *ret_new = true;
    }
    d->hot_run = e;
    d->hot_run_gen = d->runs.gen;
    *ret = e->val.ptr;
    return 0;
}

/* The writer of rs (run of d), created (with its directory) when it has
 * none. Errors: confine_open_dir()'s (*ret_kind LOGDIR_REFUSED_DIR),
 * -ENOMEM. */
static int writer_for(logdir *d, const char *run, logdir_run *rs, run_writer **ret,
                      enum logdir_refusal_kind *ret_kind)
{
    if (!rs->w) {
        int dirfd;
        int r = open_run_dir(d, run, &dirfd);
        if (r < 0) {
            *ret_kind = LOGDIR_REFUSED_DIR;
            return r;
        }
        char *dir = NULL;
        int k = strcmp(run, ".") == 0 ? asprintf(&dir, "%s", d->path)
                                      : asprintf(&dir, "%s/%s", d->path, run);
        if (k < 0) {
            close(dirfd);
            return -ENOMEM;
        }
        run_writer *w = run_writer_new_at(dirfd, dir, &d->opts.writer);
        free(dir);
        if (!w)
            return -ENOMEM;
        rs->w = w;
        if (d->opts.hook)
            d->opts.hook(d->opts.hook_ctx, rs, w, true);
    }
    *ret = rs->w;
    return 0;
}

static inline struct hot_tag *hot_slot(logdir *d, const void *tag, size_t tag_len)
{
    return &d->hot_tags[strmap_quick_hash(tag, tag_len) & (LOGDIR_HOT_TAGS - 1)];
}

/* The hot slot of (run, tag) if it holds that pair and is still in place,
 * else NULL (then look it up). run_len: strlen(run); tag_len > 0. */
static inline struct hot_tag *hot_tag_n(logdir *d, const char *run, size_t run_len,
                                        const void *tag, size_t tag_len)
{
    struct hot_tag *h = hot_slot(d, tag, tag_len);
    struct strmap_entry *e = h->e;
    if (!e || h->gen != h->rs->tags.gen)
        return NULL;
    if (h->run_len != run_len || !strmap_bytes_equal(h->run, run, run_len) ||
        e->key_len != tag_len || !strmap_bytes_equal(e->key, tag, tag_len))
        return NULL;
    return h;
}

static void refuse(struct logdir_refusal *rf, enum logdir_refusal_kind kind, const char *run,
                   const void *tag, size_t tag_len, int limit)
{
    if (!rf)
        return;
    memset(rf, 0, sizeof *rf);
    rf->kind = kind;
    copy_cut(rf->run, sizeof rf->run, run, strlen(run));
    if (tag)
        copy_cut(rf->tag, sizeof rf->tag, tag, tag_len);
    rf->limit = limit;
}

/* The step a message logs at: -EOVERFLOW past LOGDIR_MAX_STEP, -EINVAL. */
static inline int step_of(const logdir *d, enum logdir_step_mode mode, int64_t step,
                          int64_t *ret)
{
    switch (mode) {
    case LOGDIR_STEP_NEXT:
        if (d->step >= LOGDIR_MAX_STEP)
            return -EOVERFLOW;
        *ret = d->step + 1;
        return 0;
    case LOGDIR_STEP_CURRENT:
        if (d->step > LOGDIR_MAX_STEP)
            return -EOVERFLOW;
        *ret = d->step < 0 ? 0 : d->step;
        return 0;
    case LOGDIR_STEP_AT:
        if (step < 0 || step > LOGDIR_MAX_STEP)
            return -EINVAL;
        *ret = step;
        return 0;
    default:
        return -EINVAL;
    }
}

/* The counter after a message logged at step s. */
static inline void advance_counter(logdir *d, enum logdir_step_mode mode, int64_t s)
{
    if (mode == LOGDIR_STEP_NEXT || (mode == LOGDIR_STEP_CURRENT && d->step < 0))
        d->step = s;
}

int logdir_log_scalar(logdir *d, enum logdir_step_mode mode, int64_t step, double wall_time,
                      const char *run, size_t run_len, const char *tag, size_t tag_len,
                      double value, int64_t *ret_step)
{
    int64_t s;
    if (d->scanning || tag_len == 0 || step_of(d, mode, step, &s) < 0)
        return LOGDIR_DECLINED;
    struct hot_tag *h = hot_tag_n(d, run, run_len, tag, tag_len);
    struct strmap_entry *e = h ? h->e : NULL;
    bool enforce = d->opts.policy == LOGDIR_POLICY_INCREASING;
    if (!e || e->val.i64 == STEP_NONE || (enforce && s <= e->val.i64))
        return LOGDIR_DECLINED;
    run_writer *w = h->rs->w;
    if (!w)
        return LOGDIR_DECLINED;
    int r = run_writer_add_scalar(w, wall_time, s, tag, tag_len, value);
    if (r == RUN_WRITER_DECLINED)
        return LOGDIR_DECLINED;
    if (r < 0)
        return r;
    /* What logdir_log() leaves behind for one value. The kind bits of aux
     * stay 0, "scalars": the writer's shortcut only takes a tag whose
     * last record was a scalar. */
    e->aux = ++d->table->generation;
    if (s > e->val.i64)
        e->val.i64 = s;
    if (d->opts.hook)
        d->opts.hook(d->opts.hook_ctx, h->rs, w, false);
    advance_counter(d, mode, s);
    if (ret_step)
        *ret_step = s;
    return 0;
}

struct log_graph {
    const char *tag;   /* NULL: Event.graph_def; else the run metadata's tag */
    size_t tag_len;
    const void *data;
    size_t len;
};

/* What one logdir_log() call carries from step to step. */
struct log_call {
    const struct logdir_item *items;
    size_t n;
    /* logdir_log_graph(): the one item stands for this graph (its tag and
     * kind), whose Event is written instead of a summary. NULL: none. */
    const struct log_graph *graph;
    int64_t step;                 /* the step every value is logged at */
    size_t seen;                  /* items whose (run, tag) entry may be new */
    /* A message of one value (the common case) keeps its tag entry, run
     * and writer from the checks for the write: nothing puts into the
     * tags map in between, so the entry cannot move. NULL for longer
     * messages. */
    struct strmap_entry *only_e;
    logdir_run *only_rs;
    run_writer *only_w;
};

/* Refuse item i of c, found at e, under the step policy: a duplicate in the
 * message, or a step not above its last. -ERANGE. */
static int refuse_step(logdir *d, const struct log_call *c, size_t i,
                       const struct strmap_entry *e, bool dup, struct logdir_refusal *rf)
{
    const struct summary_value *v = c->items[i].summary;
    d->refused += c->n;
    if (rf) {
        refuse(rf, dup ? LOGDIR_REFUSED_DUPLICATE : LOGDIR_REFUSED_STEP, c->items[i].run,
               v->tag.data, v->tag.len, 0);
        rf->step = c->step;
        rf->last_step = e->val.i64 == STEP_NONE ? c->step : e->val.i64;
        rf->duplicate = dup;
    }
    return -ERANGE;
}

/* The kind index of v in rs (its plugin name; a value without one is a
 * scalar, as a legacy simple_value is). -ENOSPC past the kinds limit. */
static int kind_of(logdir_run *rs, const struct summary_value *v)
{
    size_t len;
    const char *name = logdir_plugin_name(v->metadata.data, v->metadata.len, &len);
    return name ? logdir_run_kind(rs, name, len) : (int)LOGDIR_KIND_SCALARS;
}

/* Refuse item i of c: its (run, tag), found at e in rs, holds values of
 * another kind. -EMEDIUMTYPE. */
static int refuse_kind(logdir *d, const struct log_call *c, size_t i, const logdir_run *rs,
                       const struct strmap_entry *e, int kind, struct logdir_refusal *rf)
{
    const struct summary_value *v = c->items[i].summary;
    d->refused += c->n;
    if (rf) {
        refuse(rf, LOGDIR_REFUSED_KIND, c->items[i].run, v->tag.data, v->tag.len, 0);
        rf->step = c->step;
        rf->last_step = e->val.i64;
        const char *had = logdir_run_kind_name(rs, logdir_tag_kind(e));
        const char *now = logdir_run_kind_name(rs, (unsigned)kind);
        copy_cut(rf->kind_had, sizeof rf->kind_had, had, strlen(had));
        copy_cut(rf->kind_new, sizeof rf->kind_new, now, strlen(now));
    }
    return -EMEDIUMTYPE;
}

/* Refuse item i of c: it carries a display name or description, and its
 * (run, tag), found at e, was written with others (or none). -EEXIST. */
static int refuse_meta(logdir *d, const struct log_call *c, size_t i,
                       const struct strmap_entry *e, bool had, struct logdir_refusal *rf)
{
    const struct summary_value *v = c->items[i].summary;
    d->refused += c->n;
    if (rf) {
        refuse(rf, LOGDIR_REFUSED_META, c->items[i].run, v->tag.data, v->tag.len, 0);
        rf->step = c->step;
        rf->last_step = e->val.i64;
        rf->meta_had = had;
    }
    return -EEXIST;
}

/* The entry of tag in rs, made (last step STEP_NONE) when new: a new
 * (run, tag) counts for every logdir holding the run, and is refused
 * (-ENOSPC, *ret_limit the limit) when one of them is at its max_tags. */
static int tag_entry(logdir_run *rs, const void *tag, size_t tag_len,
                     struct strmap_entry **ret, unsigned *ret_limit)
{
    struct strmap_entry *e = strmap_get(&rs->tags, tag, tag_len);
    if (!e) {
        for (unsigned i = 0; i < rs->n_holders; i++) {
            if (rs->holders[i]->n_tags >= rs->holders[i]->max_tags) {
                *ret_limit = rs->holders[i]->max_tags;
                return -ENOSPC;
            }
        }
        int r = strmap_put(&rs->tags, tag, tag_len, &e);
        if (r < 0)
            return r;
        e->val.i64 = STEP_NONE;
        logdir_hold_add_tags(rs, 1);
    }
    *ret = e;
    return 0;
}

/* Step 1: find (or make) the run and the (run, tag) entry of every item
 * and check its step against the policy (enforce), before anything is
 * written. Entries made here are counted in c->seen, for log_forget(). */
static int log_check_steps(logdir *d, struct log_call *c, bool enforce,
                           struct logdir_refusal *rf)
{
    uint64_t gen = ++d->table->generation;
    for (size_t i = 0; i < c->n; i++) {
        const char *run = c->items[i].run;
        const struct summary_value *v = c->items[i].summary;
        if (v->tag.len == 0)
            return -EINVAL;
        size_t run_len = strlen(run);
        struct hot_tag *h = hot_tag_n(d, run, run_len, v->tag.data, v->tag.len);
        struct strmap_entry *e = h ? h->e : NULL;
        logdir_run *rs = h ? h->rs : NULL;
        c->seen = i + 1;
        if (!e) {
            bool is_new;
            enum logdir_refusal_kind kind = LOGDIR_REFUSED_RUNS;
            int r = run_for(d, run, &rs, &is_new, &kind);
            if (r == -ENOSPC)
                refuse(rf, kind, run, NULL, 0, (int)d->max_runs);
            if (r < 0)
                return r;
            unsigned limit = 0;
            r = tag_entry(rs, v->tag.data, v->tag.len, &e, &limit);
            if (r == -ENOSPC)
                refuse(rf, LOGDIR_REFUSED_TAGS, run, v->tag.data, v->tag.len, (int)limit);
            if (r < 0)
                return r;
            h = hot_slot(d, v->tag.data, v->tag.len);
            *h = (struct hot_tag){e, rs, rs->tags.gen, d->hot_run->key, run_len};
        }
        if (c->n == 1) {
            c->only_e = e;
            c->only_rs = rs;
        }
        bool dup = (e->aux & LOGDIR_GEN_MASK) == gen;
        if (enforce && (dup || (e->val.i64 != STEP_NONE && c->step <= e->val.i64)))
            return refuse_step(d, c, i, e, dup, rf);
        /* A tag keeps the kind of its first value (the step policy or
         * not): TensorBoard cannot show a tag of mixed kinds. */
        int kind = kind_of(rs, v);
        if (kind == -ENOSPC)
            refuse(rf, LOGDIR_REFUSED_KINDS, run, v->tag.data, v->tag.len,
                   (int)LOGDIR_RUN_MAX_KINDS);
        if (kind < 0)
            return kind;
        unsigned had = logdir_tag_kind(e);
        if (e->val.i64 != STEP_NONE && had != LOGDIR_KIND_ANY && had != (unsigned)kind)
            return refuse_kind(d, c, i, rs, e, kind, rf);
        /* TensorBoard keeps the display name and description of a tag's
         * first value and ignores any later: a later value may repeat
         * them (or carry none), never change them unseen. */
        uint64_t fp = logdir_meta_fingerprint(v->metadata.data, v->metadata.len);
        if (fp != 0 && e->val.i64 != STEP_NONE) {
            uint64_t first = logdir_run_meta(rs, v->tag.data, v->tag.len);
            if (first != fp)
                return refuse_meta(d, c, i, e, first != 0, rf);
        }
        e->aux = (e->aux & ~LOGDIR_GEN_MASK) | gen;
    }
    return 0;
}

/* The run of item i (made by log_check_steps()). */
static logdir_run *item_run(logdir *d, const struct log_call *c, size_t i)
{
    if (c->only_rs)
        return c->only_rs;
    const char *run = c->items[i].run;
    size_t rl = strlen(run);
    logdir_run *rs = hot_run_n(d, run, rl);
    if (rs)
        return rs;
    struct strmap_entry *e = strmap_get(&d->runs, run, rl);
    if (!e)
        return NULL;
    d->hot_run = e;
    d->hot_run_gen = d->runs.gen;
    return e->val.ptr;
}

/* Step 2: every run's writer (and directory) before any record: a refused
 * or unmakeable run directory refuses the whole message, and so does a
 * writer without room for all of it (its pending cap; rare: the daemon
 * stops reading long before). Items of one run are usually adjacent, so
 * look back one to skip repeats cheaply. */
static int log_prepare_writers(logdir *d, struct log_call *c, struct logdir_refusal *rf)
{
    size_t need = 0;
    for (size_t i = 0; i < c->n; i++)
        need += run_writer_record_bound(c->items[i].summary);
    if (c->graph)
        need += c->graph->len;
    for (size_t i = 0; i < c->n; i++) {
        const char *run = c->items[i].run;
        if (i > 0 && strcmp(run, c->items[i - 1].run) == 0)
            continue;
        logdir_run *rs = item_run(d, c, i);
        if (!rs)
            return -ENOMEM;   /* cannot happen: checked first */
        run_writer *w;
        enum logdir_refusal_kind kind = LOGDIR_REFUSED_DIR;
        int r = writer_for(d, run, rs, &w, &kind);
        if (r < 0) {
            if (r != -ENOMEM)
                refuse(rf, kind, run, NULL, 0, (int)d->max_runs);
            return r;
        }
        if (run_writer_room(w) < need)
            return -ENOBUFS;
        if (c->n == 1)
            c->only_w = w;
    }
    return 0;
}

/* Step 3: one Event per item, and its (run, tag)'s last step. */
static int log_write(logdir *d, const struct log_call *c, double wall_time)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct summary_value *v = c->items[i].summary;
        logdir_run *rs = item_run(d, c, i);
        if (!rs)
            return -ENOMEM;   /* cannot happen: made in the checks */
        /* The writer prepared may be gone already: a hook may close the
         * least recently used writers when new ones are made (the
         * daemon's --max-writers), a message's own included. */
        run_writer *w = c->only_w ? c->only_w : rs->w;
        enum logdir_refusal_kind kind;
        int r = w ? 0 : writer_for(d, c->items[i].run, rs, &w, &kind);
        if (r == 0 && c->graph)
            r = run_writer_add_graph(w, wall_time, c->step, c->graph->tag, c->graph->tag_len,
                                     c->graph->data, c->graph->len);
        else if (r == 0)
            r = run_writer_add_summary(w, wall_time, c->step, v);
        if (r < 0)
            return r;
        struct strmap_entry *e = c->only_e;
        if (!e)
            e = strmap_get(&rs->tags, v->tag.data, v->tag.len);
        if (!e)
            return -ENOMEM;   /* cannot happen: made in the checks */
        bool first = e->val.i64 == STEP_NONE;
        if (first || c->step > e->val.i64)
            e->val.i64 = c->step;
        /* Out of memory here only lets a later value change what the
         * first one set (a refusal missed, nothing lost). */
        if (first)
            (void)logdir_run_set_meta(rs, v->tag.data, v->tag.len,
                                      logdir_meta_fingerprint(v->metadata.data,
                                                              v->metadata.len));
        /* Checked (and interned) in log_check_steps(): cannot fail. */
        int k = kind_of(rs, v);
        if (k >= 0)
            logdir_tag_set_kind(e, (unsigned)k);
        if (d->opts.hook)
            d->opts.hook(d->opts.hook_ctx, rs, w, false);
    }
    return 0;
}

/* After a failure: forget the (run, tag) pairs the message introduced, and
 * the runs it began to hold that stayed empty, so that refused messages
 * never use up the tag and run limits. */
static void log_forget(logdir *d, const struct log_call *c)
{
    for (size_t i = 0; i < c->seen; i++) {
        const char *run = c->items[i].run;
        const struct summary_value *v = c->items[i].summary;
        struct strmap_entry *re = strmap_get(&d->runs, run, strlen(run));
        if (!re)
            continue;
        logdir_run *rs = re->val.ptr;
        struct strmap_entry *e = strmap_get(&rs->tags, v->tag.data, v->tag.len);
        if (e && e->val.i64 == STEP_NONE) {
            logdir_hold_forget_hot(d);
            strmap_remove(&rs->tags, v->tag.data, v->tag.len);
            logdir_hold_add_tags(rs, -1);
        }
        if (rs->tags.count == 0 && !rs->w && !(rs->flags & LOGDIR_RUN_STARTED))
            logdir_hold_drop(d, run, strlen(run));
    }
}

/* Check every value, then set up every writer, before writing any: a
 * message is written whole or refused whole. */
static int log_call_run(logdir *d, struct log_call *c, double wall_time, bool check_steps,
                        struct logdir_refusal *rf)
{
    bool enforce = check_steps && d->opts.policy == LOGDIR_POLICY_INCREASING;
    int r;
    if ((r = log_check_steps(d, c, enforce, rf)) < 0 ||
        (r = log_prepare_writers(d, c, rf)) < 0 || (r = log_write(d, c, wall_time)) < 0) {
        log_forget(d, c);
        return r;
    }
    return 0;
}

int logdir_log_graph(logdir *d, const char *run, int64_t step, double wall_time,
                     const char *tag, const void *data, size_t len,
                     struct logdir_refusal *ret_refusal)
{
    if (step < 0 || step > LOGDIR_MAX_STEP)
        return -EINVAL;
    if (d->scanning)
        return -EBUSY;
    /* The value TensorBoard makes of it, for the tag's steps and kind:
     * SummaryMetadata {plugin_data {plugin_name}}. */
    const char *plugin = tag ? LOGDIR_GRAPH_METADATA_PLUGIN : LOGDIR_GRAPH_PLUGIN;
    const char *vtag = tag ? tag : LOGDIR_GRAPH_TAG;
    size_t pl = strlen(plugin);
    uint8_t md[64] = {0x0a, (uint8_t)(pl + 2), 0x0a, (uint8_t)pl};
    memcpy(md + 4, plugin, pl);
    struct summary_value v;
    summary_value_init(&v);
    int r = buf_append(&v.tag, vtag, strlen(vtag));
    if (r == 0)
        r = buf_append(&v.metadata, md, pl + 4);
    struct logdir_item item = {run, &v};
    struct log_graph g = {tag, tag ? strlen(tag) : 0, data, len};
    struct log_call c = {.items = &item, .n = 1, .graph = &g, .step = step};
    if (r == 0)
        r = log_call_run(d, &c, wall_time, true, ret_refusal);
    summary_value_done(&v);
    return r;
}

int logdir_log(logdir *d, enum logdir_step_mode mode, int64_t step, double wall_time,
               const struct logdir_item *items, size_t n, bool check_steps,
               int64_t *ret_step, struct logdir_refusal *ret_refusal)
{
    int r;
    if (n == 0)
        return -EINVAL;
    /* One plain scalar (most messages): the shortcut, when it applies. */
    double x;
    if (n == 1 && check_steps && items[0].summary->tag.len > 0 &&
        summary_is_plain_scalar(items[0].summary, &x)) {
        const struct summary_value *v = items[0].summary;
        r = logdir_log_scalar(d, mode, step, wall_time, items[0].run, strlen(items[0].run),
                              (const char *)v->tag.data, v->tag.len, x, ret_step);
        if (r != LOGDIR_DECLINED)
            return r;
    }
    if (d->scanning)
        return -EBUSY;
    struct log_call c = {.items = items, .n = n};
    if ((r = step_of(d, mode, step, &c.step)) < 0)
        return r;

    if ((r = log_call_run(d, &c, wall_time, check_steps, ret_refusal)) < 0)
        return r;
    advance_counter(d, mode, c.step);
    if (ret_step)
        *ret_step = c.step;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SessionLog START at step in run. TensorBoard's Python loader ignores
 * the first START of a run and purges at every later one; so a run whose
 * files hold no START yet gets two at step: the first is the one ignored,
 * the second purges the points at step and above. A loader that purged at
 * every START would purge the same points twice, so the result is the
 * same whichever rule a loader follows. */
static int restart_run(logdir *d, const char *run, int64_t step, double wall_time)
{
    logdir_run *rs;
    run_writer *w;
    bool is_new;
    enum logdir_refusal_kind kind;
    int r = run_for(d, run, &rs, &is_new, &kind);
    if (r < 0)
        return r;
    r = writer_for(d, run, rs, &w, &kind);
    if (r < 0) {
        if (is_new && rs->tags.count == 0 && !(rs->flags & LOGDIR_RUN_STARTED))
            logdir_hold_drop(d, run, strlen(run));
        return r;
    }
    int starts = rs->flags & LOGDIR_RUN_STARTED ? 1 : 2;
    for (int i = 0; i < starts && r == 0; i++) {
        r = run_writer_add_session_log(w, wall_time, step,
                                       TENSORBOARD__SESSION_LOG__SESSION_STATUS__START);
        if (r == 0)
            rs->flags |= LOGDIR_RUN_STARTED;
    }
    if (r < 0)
        return r;
    logdir_run_lower(rs, step);
    if (d->opts.hook)
        d->opts.hook(d->opts.hook_ctx, rs, w, false);
    return 0;
}

/* True when a run of d other than run has a point written. */
static bool others_written(const logdir *d, const char *run)
{
    size_t rl = strlen(run);
    for (size_t i = 0; i < d->runs.cap; i++) {
        const struct strmap_entry *e = &d->runs.slots[i];
        if (!e->key || (e->key_len == rl && memcmp(e->key, run, rl) == 0))
            continue;
        if (logdir_run_written(e->val.ptr))
            return true;
    }
    return false;
}

int logdir_restart(logdir *d, const char *run, int64_t step, double wall_time)
{
    if (step < 0)
        return -EINVAL;
    if (d->scanning)
        return -EBUSY;
    int r;
    if (!run && d->runs.count == 0)
        run = ".";
    if (run) {
        /* The counter is the logdir's, shared by every run: lowering it
         * for one run would send the other runs' next messages back below
         * their last steps, and refuse them. So it goes back only when no
         * other run holds a point; else it stays where it is, and the
         * restarted run's messages give their steps. */
        bool shared = others_written(d, run);
        r = restart_run(d, run, step, wall_time);
        if (r < 0)
            return r;
        if (shared)
            return 0;
    } else {
        /* Collect the names first: run_for() does not change the map
         * (every run is in it already) but a hook must see stable keys. */
        size_t n = 0;
        char **runs = calloc(d->runs.count, sizeof *runs);
        if (!runs)
            return -ENOMEM;
        for (size_t i = 0; i < d->runs.cap; i++)
            if (d->runs.slots[i].key)
                runs[n++] = d->runs.slots[i].key;
        qsort(runs, n, sizeof *runs, cmp_str);
        r = 0;
        for (size_t i = 0; i < n && r == 0; i++)
            r = restart_run(d, runs[i], step, wall_time);
        free(runs);
        if (r < 0)
            return r;
    }
    d->step = step - 1;
    return 0;
}

int64_t logdir_tag_last_step(logdir *d, const char *run, const void *tag, size_t tag_len)
{
    const struct strmap_entry *r = strmap_get(&d->runs, run, strlen(run));
    if (!r)
        return STEP_NONE;
    const logdir_run *rs = r->val.ptr;
    const struct strmap_entry *e = strmap_get(&rs->tags, tag, tag_len);
    return e ? e->val.i64 : STEP_NONE;
}

run_writer *logdir_writer(const logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, strlen(run));
    return e ? logdir_run_writer(e->val.ptr) : NULL;
}

run_writer *logdir_detach_writer(logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, strlen(run));
    return e ? logdir_run_detach_writer(e->val.ptr) : NULL;
}

void logdir_foreach_writer(logdir *d,
                           void (*fn)(void *ctx, logdir *d, const char *run, run_writer *w),
                           void *ctx)
{
    for (size_t i = 0; i < d->runs.cap; i++) {
        struct strmap_entry *e = &d->runs.slots[i];
        run_writer *w = e->key ? logdir_run_writer(e->val.ptr) : NULL;
        if (w)
            fn(ctx, d, e->key, w);
    }
}

size_t logdir_writer_count(const logdir *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->runs.cap; i++)
        if (d->runs.slots[i].key && logdir_run_writer(d->runs.slots[i].val.ptr))
            n++;
    return n;
}
