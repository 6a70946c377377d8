#include "logdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "event.h"
#include "logdir_steps.h"
#include "strmap.h"

/* A (run, tag) never written: any step is accepted. */
#define STEP_NONE LOGDIR_STEP_NONE

/* Longest "run\0tag" key of the step bookkeeping. */
#define LOGDIR_MAX_KEY (LOGDIR_MAX_NAME + 1 + SUMMARY_MAX_TAG + 1)

/* (run, tag) entries kept at hand per logdir: a training loop logs a few
 * tags over and over. A power of two. */
#define LOGDIR_HOT_TAGS 8u

struct logdir {
    char *name;
    char *root;               /* the root's path (trusted) */
    char *path;               /* root/name, for messages */
    struct logdir_options opts;
    int64_t step;             /* the counter; -1 before the first step */
    /* Last steps per (run, tag), and the runs; the run_writers in
     * steps.runs' val.ptr are owned here (closed by logdir_close()). */
    struct logdir_steps steps;
    uint64_t generation;      /* of logdir_log() calls, to spot duplicates */
    uint64_t refused;
    /* The entries used last, kept while their map's gen says they have not
     * moved: one value after another usually goes to the same (run, tag)
     * and run, which then costs a compare instead of building a key and
     * hashing it. NULL: none. */
    struct hot_tag {
        struct strmap_entry *e;
        uint64_t gen;
    } hot_tags[LOGDIR_HOT_TAGS];   /* slot: strmap_quick_hash() of the tag */
    struct strmap_entry *hot_run;
    uint64_t hot_run_gen;
    struct logdir_scan scan;
    bool scanning;            /* its scan has not been applied yet */
};

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

int logdir_open_deferred(logdir **ret, const char *root, const char *name,
                         const struct logdir_options *opts, logdir_scanner **ret_scanner)
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
    d->name = strdup(name);
    d->root = strdup(root);
    if (strcmp(name, ".") == 0)
        d->path = strdup(root);
    else if (asprintf(&d->path, "%s/%s", root, name) < 0)
        d->path = NULL;
    if (opts)
        d->opts = *opts;
    unsigned max_runs = d->opts.max_runs && d->opts.max_runs < LOGDIR_MAX_RUNS
                            ? d->opts.max_runs
                            : LOGDIR_MAX_RUNS;
    unsigned max_tags = d->opts.max_tags && d->opts.max_tags < LOGDIR_MAX_TAGS
                            ? d->opts.max_tags
                            : LOGDIR_MAX_TAGS;
    logdir_steps_init(&d->steps, max_tags, max_runs, LOGDIR_MAX_KEY);
    d->step = -1;
    /* The directory exists: its files are scanned, by a scanner that
     * takes the descriptor (and closes it even when it cannot be made). */
    logdir_scanner *sc = NULL;
    bool scan = dir_fd >= 0;
    if (scan && d->path)
        sc = logdir_scanner_new(dir_fd, d->path, max_tags, max_runs, LOGDIR_MAX_KEY);
    else if (scan)
        close(dir_fd);
    if (!d->name || !d->root || !d->path || (scan && !sc)) {
        logdir_scanner_free(sc);
        logdir_close(d, false);
        return -ENOMEM;
    }
    d->scanning = sc != NULL;
    *ret = d;
    *ret_scanner = sc;
    return 0;
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
     * so its maps are empty: the scan's replace them whole. */
    logdir_scanner_take(sc, &d->steps, &d->step, &d->scan);
    memset(d->hot_tags, 0, sizeof d->hot_tags);
    d->hot_run = NULL;
    d->scanning = false;
    logdir_scanner_free(sc);
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

int logdir_close(logdir *d, bool sync)
{
    if (!d)
        return 0;
    int r = 0;
    for (size_t i = 0; i < d->steps.runs.cap; i++) {
        struct strmap_entry *e = &d->steps.runs.slots[i];
        if (e->key && e->val.ptr) {
            int k = run_writer_close(e->val.ptr, sync);
            if (r == 0)
                r = k;
        }
    }
    logdir_steps_done(&d->steps);
    free(d->name);
    free(d->root);
    free(d->path);
    free(d);
    return r;
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
    bool is_root = strcmp(d->name, ".") == 0, is_dot = strcmp(run, ".") == 0;
    int k = snprintf(rel, sizeof rel, "%s%s%s", is_root ? "" : d->name,
                     is_root || is_dot ? "" : "/", is_dot ? "" : run);
    if (k < 0 || (size_t)k >= sizeof rel)
        return -ENAMETOOLONG;
    int root_fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return -errno;
    int r = confine_open_dir(root_fd, rel, true, ret_fd);
    close(root_fd);
    return r;
}

/* The writer of run if it is the run used last and still open, else NULL
 * (then ask writer_for()). */
static inline run_writer *hot_writer_n(const logdir *d, const char *run, size_t rl)
{
    const struct strmap_entry *e = d->hot_run;
    if (!e || d->hot_run_gen != d->steps.runs.gen || !e->val.ptr)
        return NULL;
    return e->key_len == rl && strmap_bytes_equal(e->key, run, rl) ? e->val.ptr : NULL;
}

static inline run_writer *hot_writer(const logdir *d, const char *run)
{
    return hot_writer_n(d, run, strlen(run));
}

/* The writer of run, created (with its directory) when it has none.
 * Errors: -ENOSPC past max_runs, confine_open_dir()'s, -ENOMEM. */
static int writer_for(logdir *d, const char *run, run_writer **ret,
                      enum logdir_refusal_kind *ret_kind)
{
    size_t rl = strlen(run);
    struct strmap_entry *e;
    int made = logdir_steps_run_entry(&d->steps, run, rl, &e);
    if (made == -ENOSPC)
        *ret_kind = LOGDIR_REFUSED_RUNS;
    if (made < 0)
        return made;
    if (!e->val.ptr) {
        int dirfd;
        int r = open_run_dir(d, run, &dirfd);
        if (r < 0) {
            /* A run that could not be made does not count. */
            if (made)
                strmap_remove(&d->steps.runs, run, rl);
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
        e->val.ptr = w;
        if (d->opts.hook)
            d->opts.hook(d->opts.hook_ctx, d, e->key, w, true);
    }
    d->hot_run = e;
    d->hot_run_gen = d->steps.runs.gen;
    *ret = e->val.ptr;
    return 0;
}

static inline struct hot_tag *hot_slot(logdir *d, const void *tag, size_t tag_len)
{
    return &d->hot_tags[strmap_quick_hash(tag, tag_len) & (LOGDIR_HOT_TAGS - 1)];
}

/* The entry of (run, tag) if it is at hand in its slot and still in
 * place, else NULL (then look it up). run_len: strlen(run); tag_len > 0. */
static inline struct strmap_entry *hot_tag_n(logdir *d, const char *run, size_t run_len,
                                             const void *tag, size_t tag_len)
{
    const struct hot_tag *h = hot_slot(d, tag, tag_len);
    struct strmap_entry *e = h->e;
    if (!e || h->gen != d->steps.tags.gen)
        return NULL;
    size_t rl = run_len + 1;   /* with its NUL, as in the key */
    if (e->key_len != rl + tag_len || !strmap_bytes_equal(e->key, run, rl) ||
        !strmap_bytes_equal(e->key + rl, tag, tag_len))
        return NULL;
    return e;
}

static struct strmap_entry *hot_tag(logdir *d, const char *run, const void *tag,
                                    size_t tag_len)
{
    return hot_tag_n(d, run, strlen(run), tag, tag_len);
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
    struct strmap_entry *e = hot_tag_n(d, run, run_len, tag, tag_len);
    bool enforce = d->opts.policy == LOGDIR_POLICY_INCREASING;
    if (!e || e->val.i64 == STEP_NONE || (enforce && s <= e->val.i64))
        return LOGDIR_DECLINED;
    run_writer *w = hot_writer_n(d, run, run_len);
    if (!w) {
        /* Another run than the last: an open writer is used as found. */
        struct strmap_entry *re = strmap_get(&d->steps.runs, run, run_len);
        if (!re || !re->val.ptr)
            return LOGDIR_DECLINED;
        w = re->val.ptr;
        d->hot_run = re;
        d->hot_run_gen = d->steps.runs.gen;
    }
    int r = run_writer_add_scalar(w, wall_time, s, tag, tag_len, value);
    if (r == RUN_WRITER_DECLINED)
        return LOGDIR_DECLINED;
    if (r < 0)
        return r;
    /* What logdir_log() leaves behind for one value. The kind bits of aux
     * stay 0, "scalars": the writer's shortcut only takes a tag whose
     * last record was a scalar. */
    e->aux = ++d->generation;
    if (s > e->val.i64)
        e->val.i64 = s;
    if (d->opts.hook)
        d->opts.hook(d->opts.hook_ctx, d, run, w, false);
    advance_counter(d, mode, s);
    if (ret_step)
        *ret_step = s;
    return 0;
}

/* What one logdir_log() call carries from step to step. */
struct log_call {
    const struct logdir_item *items;
    size_t n;
    int64_t step;                 /* the step every value is logged at */
    size_t seen;                  /* items whose (run, tag) entry may be new */
    /* A message of one value (the common case) keeps its tag entry and
     * writer from the checks for the write: nothing puts into the tags map
     * in between, so the entry cannot move. NULL for longer messages. */
    struct strmap_entry *only_e;
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

/* The kind index of v (its plugin name; a value without one is a
 * scalar, as a legacy simple_value is). -ENOSPC past LOGDIR_MAX_KINDS. */
static int kind_of(logdir *d, const struct summary_value *v)
{
    size_t len;
    const char *name = logdir_plugin_name(v->metadata.data, v->metadata.len, &len);
    return name ? logdir_steps_kind(&d->steps, name, len) : (int)LOGDIR_KIND_SCALARS;
}

/* Refuse item i of c: its (run, tag), found at e, holds values of another
 * kind. -EMEDIUMTYPE. */
static int refuse_kind(logdir *d, const struct log_call *c, size_t i,
                       const struct strmap_entry *e, int kind, struct logdir_refusal *rf)
{
    const struct summary_value *v = c->items[i].summary;
    d->refused += c->n;
    if (rf) {
        refuse(rf, LOGDIR_REFUSED_KIND, c->items[i].run, v->tag.data, v->tag.len, 0);
        rf->step = c->step;
        rf->last_step = e->val.i64;
        const char *had = logdir_steps_kind_name(&d->steps, logdir_tag_kind(e));
        const char *now = logdir_steps_kind_name(&d->steps, (unsigned)kind);
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

/* Step 1: find (or make) the (run, tag) entry of every item and check its
 * step against the policy (enforce), before anything is written. Entries
 * made here are counted in c->seen, for log_forget(). */
static int log_check_steps(logdir *d, struct log_call *c, bool enforce,
                           struct logdir_refusal *rf)
{
    uint64_t gen = ++d->generation;
    for (size_t i = 0; i < c->n; i++) {
        const char *run = c->items[i].run;
        const struct summary_value *v = c->items[i].summary;
        if (v->tag.len == 0)
            return -EINVAL;
        struct strmap_entry *e = hot_tag(d, run, v->tag.data, v->tag.len);
        if (!e) {
            int r = logdir_steps_tag_entry(&d->steps, run, v->tag.data, v->tag.len, &e);
            if (r == -ENOSPC)
                refuse(rf, LOGDIR_REFUSED_TAGS, run, v->tag.data, v->tag.len,
                       (int)d->steps.max_tags);
            if (r < 0)
                return r;
        }
        c->seen = i + 1;
        struct hot_tag *h = hot_slot(d, v->tag.data, v->tag.len);
        h->e = e;
        h->gen = d->steps.tags.gen;
        if (c->n == 1)
            c->only_e = e;
        bool dup = (e->aux & LOGDIR_GEN_MASK) == gen;
        if (enforce && (dup || (e->val.i64 != STEP_NONE && c->step <= e->val.i64)))
            return refuse_step(d, c, i, e, dup, rf);
        /* A tag keeps the kind of its first value (the step policy or
         * not): TensorBoard cannot show a tag of mixed kinds. */
        int kind = kind_of(d, v);
        if (kind == -ENOSPC)
            refuse(rf, LOGDIR_REFUSED_KINDS, run, v->tag.data, v->tag.len,
                   (int)LOGDIR_MAX_KINDS - 1);
        if (kind < 0)
            return kind;
        unsigned had = logdir_tag_kind(e);
        if (e->val.i64 != STEP_NONE && had != LOGDIR_KIND_ANY && had != (unsigned)kind)
            return refuse_kind(d, c, i, e, kind, rf);
        /* TensorBoard keeps the display name and description of a tag's
         * first value and ignores any later: a later value may repeat
         * them (or carry none), never change them unseen. */
        uint64_t fp = logdir_meta_fingerprint(v->metadata.data, v->metadata.len);
        if (fp != 0 && e->val.i64 != STEP_NONE) {
            uint64_t first = logdir_steps_meta(&d->steps, run, v->tag.data, v->tag.len);
            if (first != fp)
                return refuse_meta(d, c, i, e, first != 0, rf);
        }
        e->aux = (e->aux & ~LOGDIR_GEN_MASK) | gen;
    }
    return 0;
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
    for (size_t i = 0; i < c->n; i++) {
        const char *run = c->items[i].run;
        if (i > 0 && strcmp(run, c->items[i - 1].run) == 0)
            continue;
        run_writer *w = hot_writer(d, run);
        enum logdir_refusal_kind kind = LOGDIR_REFUSED_DIR;
        int r = w ? 0 : writer_for(d, run, &w, &kind);
        if (r < 0) {
            if (r != -ENOMEM)
                refuse(rf, kind, run, NULL, 0, (int)d->steps.max_runs);
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
        const char *run = c->items[i].run;
        const struct summary_value *v = c->items[i].summary;
        run_writer *w = c->only_w ? c->only_w : hot_writer(d, run);
        enum logdir_refusal_kind kind;
        int r = w ? 0 : writer_for(d, run, &w, &kind);
        if (r == 0)
            r = run_writer_add_summary(w, wall_time, c->step, v);
        struct strmap_entry *e = c->only_e;
        if (r == 0 && !e)
            r = logdir_steps_tag_entry(&d->steps, run, v->tag.data, v->tag.len, &e);
        if (r < 0)
            return r;
        bool first = e->val.i64 == STEP_NONE;
        if (first || c->step > e->val.i64)
            e->val.i64 = c->step;
        /* Out of memory here only lets a later value change what the
         * first one set (a refusal missed, nothing lost). */
        if (first)
            (void)logdir_steps_set_meta(&d->steps, run, v->tag.data, v->tag.len,
                                        logdir_meta_fingerprint(v->metadata.data,
                                                                v->metadata.len));
        /* Checked (and interned) in log_check_steps(): cannot fail. */
        int k = kind_of(d, v);
        if (k >= 0)
            logdir_tag_set_kind(e, (unsigned)k);
        if (d->opts.hook)
            d->opts.hook(d->opts.hook_ctx, d, run, w, false);
    }
    return 0;
}

/* After a failure: forget the (run, tag) pairs the message introduced, so
 * that refused messages never use up the tag limit. */
static void log_forget(logdir *d, const struct log_call *c)
{
    for (size_t i = 0; i < c->seen; i++) {
        const struct summary_value *v = c->items[i].summary;
        logdir_steps_forget_unwritten(&d->steps, c->items[i].run, v->tag.data, v->tag.len);
    }
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

    /* Check every value, then set up every writer, before writing any: a
     * message is written whole or refused whole. */
    bool enforce = check_steps && d->opts.policy == LOGDIR_POLICY_INCREASING;
    if ((r = log_check_steps(d, &c, enforce, ret_refusal)) < 0 ||
        (r = log_prepare_writers(d, &c, ret_refusal)) < 0 ||
        (r = log_write(d, &c, wall_time)) < 0) {
        log_forget(d, &c);
        return r;
    }
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
    run_writer *w;
    enum logdir_refusal_kind kind;
    int r = writer_for(d, run, &w, &kind);
    if (r < 0)
        return r;
    struct strmap_entry *e = strmap_get(&d->steps.runs, run, strlen(run));
    if (!e)
        return -ENOENT;   /* cannot happen: writer_for() made it */
    int starts = e->aux & LOGDIR_RUN_STARTED ? 1 : 2;
    for (int i = 0; i < starts && r == 0; i++) {
        r = run_writer_add_session_log(w, wall_time, step,
                                       TENSORBOARD__SESSION_LOG__SESSION_STATUS__START);
        if (r == 0)
            e->aux |= LOGDIR_RUN_STARTED;
    }
    if (r < 0)
        return r;
    logdir_steps_lower_run(&d->steps, run, step);
    if (d->opts.hook)
        d->opts.hook(d->opts.hook_ctx, d, run, w, false);
    return 0;
}

int logdir_restart(logdir *d, const char *run, int64_t step, double wall_time)
{
    if (step < 0)
        return -EINVAL;
    if (d->scanning)
        return -EBUSY;
    int r;
    if (!run && d->steps.runs.count == 0)
        run = ".";
    if (run) {
        /* The counter is the logdir's, shared by every run: lowering it
         * for one run would send the other runs' next messages back below
         * their last steps, and refuse them. So it goes back only when no
         * other run holds a point; else it stays where it is, and the
         * restarted run's messages give their steps. */
        bool shared = logdir_steps_others_written(&d->steps, run);
        r = restart_run(d, run, step, wall_time);
        if (r < 0)
            return r;
        if (shared)
            return 0;
    } else {
        /* Collect the names first: writer_for() may not change the map
         * (every run is in it already) but a hook must see stable keys. */
        size_t n = 0;
        char **runs = calloc(d->steps.runs.count, sizeof *runs);
        if (!runs)
            return -ENOMEM;
        for (size_t i = 0; i < d->steps.runs.cap; i++)
            if (d->steps.runs.slots[i].key)
                runs[n++] = d->steps.runs.slots[i].key;
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
    if (logdir_steps_key(&d->steps, run, tag, tag_len) < 0)
        return STEP_NONE;
    const struct strmap_entry *e = strmap_get(&d->steps.tags, d->steps.key.data,
                                              d->steps.key.len);
    return e ? e->val.i64 : STEP_NONE;
}

run_writer *logdir_writer(const logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->steps.runs, run, strlen(run));
    return e ? e->val.ptr : NULL;
}

run_writer *logdir_detach_writer(logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->steps.runs, run, strlen(run));
    if (!e)
        return NULL;
    run_writer *w = e->val.ptr;
    e->val.ptr = NULL;
    return w;
}

void logdir_foreach_writer(logdir *d,
                           void (*fn)(void *ctx, logdir *d, const char *run, run_writer *w),
                           void *ctx)
{
    for (size_t i = 0; i < d->steps.runs.cap; i++) {
        struct strmap_entry *e = &d->steps.runs.slots[i];
        if (e->key && e->val.ptr)
            fn(ctx, d, e->key, e->val.ptr);
    }
}

size_t logdir_writer_count(const logdir *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->steps.runs.cap; i++)
        if (d->steps.runs.slots[i].key && d->steps.runs.slots[i].val.ptr)
            n++;
    return n;
}
