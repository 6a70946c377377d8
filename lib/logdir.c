#include "logdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "confine.h"
#include "event.h"
#include "record_reader.h"
#include "strmap.h"

/* A (run, tag) never written: any step is accepted. */
#define STEP_NONE INT64_MIN

/* (run, tag) entries kept at hand per logdir: a training loop logs a few
 * tags over and over. A power of two. */
#define LOGDIR_HOT_TAGS 8u

struct logdir {
    char *name;
    char *root;               /* the root's path (trusted) */
    char *path;               /* root/name, for messages */
    unsigned max_runs, max_tags;
    struct logdir_options opts;
    int64_t step;             /* the counter; -1 before the first step */
    struct strmap tags;       /* "run\0tag" -> val.i64 last step, aux generation */
    struct strmap runs;       /* run -> val.ptr run_writer or NULL */
    uint64_t generation;      /* of logdir_log() calls, to spot duplicates */
    uint64_t refused;
    struct buf key;
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

/* The step bookkeeping of a logdir, or of a scan that builds it off the
 * loop thread to be moved into its logdir afterwards: the same maps, so
 * that the scan and the writes learn steps by the same rules. */
struct book {
    struct strmap *tags;      /* "run\0tag" -> val.i64 last step, aux generation */
    struct strmap *runs;      /* run -> val.ptr run_writer or NULL, aux RUN_* flags */
    struct buf *key;
    unsigned max_tags, max_runs;
};

/* Run flag (runs map, aux): the run's files hold a SessionLog START
 * (learned by the scan, or written by logdir_restart()). */
#define RUN_STARTED 1u

static int book_key(struct book *b, const char *run, const void *tag, size_t tag_len)
{
    buf_reset(b->key);
    int r = buf_append(b->key, run, strlen(run) + 1);
    if (r == 0)
        r = buf_append(b->key, tag, tag_len);
    return r;
}

/* Remember that (run, tag) was written at step (the maximum wins). */
static int book_note_tag(struct book *b, const char *run, const void *tag, size_t tag_len,
                         int64_t step)
{
    int r = book_key(b, run, tag, tag_len);
    if (r < 0)
        return r;
    struct strmap_entry *e = strmap_get(b->tags, b->key->data, b->key->len);
    if (!e) {
        if (b->tags->count >= b->max_tags)
            return -ENOSPC;
        r = strmap_put(b->tags, b->key->data, b->key->len, &e);
        if (r < 0)
            return r;
        e->val.i64 = STEP_NONE;
    }
    if (e->val.i64 == STEP_NONE || step > e->val.i64)
        e->val.i64 = step;
    return 0;
}

/* After a START at step: no tag of run has a last step at or above it. */
static void book_lower_run(struct book *b, const char *run, int64_t step)
{
    size_t rl = strlen(run) + 1;
    for (size_t i = 0; i < b->tags->cap; i++) {
        struct strmap_entry *e = &b->tags->slots[i];
        if (!e->key || e->key_len < rl || memcmp(e->key, run, rl) != 0)
            continue;
        if (e->val.i64 != STEP_NONE && e->val.i64 >= step)
            e->val.i64 = step - 1;
    }
}

/* The run's entry, made when new; NULL past max_runs or without memory. */
static struct strmap_entry *book_note_run(struct book *b, const char *run)
{
    struct strmap_entry *e = strmap_get(b->runs, run, strlen(run));
    if (e)
        return e;
    if (b->runs->count >= b->max_runs)
        return NULL;
    return strmap_put(b->runs, run, strlen(run), &e) < 0 ? NULL : e;
}

static struct book logdir_book(logdir *d)
{
    struct book b = {&d->tags, &d->runs, &d->key, d->max_tags, d->max_runs};
    return b;
}

static int make_key(logdir *d, const char *run, const void *tag, size_t tag_len)
{
    struct book b = logdir_book(d);
    return book_key(&b, run, tag, tag_len);
}

static int note_tag(logdir *d, const char *run, const void *tag, size_t tag_len,
                    int64_t step)
{
    struct book b = logdir_book(d);
    return book_note_tag(&b, run, tag, tag_len, step);
}

static void lower_run(logdir *d, const char *run, int64_t step)
{
    struct book b = logdir_book(d);
    book_lower_run(&b, run, step);
}

/* ---- scanning existing files ------------------------------------------ */

/* A scan of a logdir's existing files. It owns everything it touches (the
 * directory descriptor, its own maps), so that it can run on any thread
 * while its logdir stays on the loop's. */
struct logdir_scanner {
    int dir_fd;               /* the logdir's directory, taken; -1 once scanned */
    char *path;               /* for reading through a path when /proc is absent */
    struct strmap tags, runs;
    struct buf key;
    struct book book;
    int64_t max_step;
    bool done;
    struct logdir_scan scan;
};

/* Read the file name in dirfd, which was seen as a regular file. It is
 * opened without following a link and read through /proc/self/fd, so a
 * link swapped in after the directory was listed is not followed either;
 * without /proc, through its path (display). */
static void scan_file(logdir_scanner *sc, int dirfd, const char *name, const char *display,
                      const char *run, struct strmap_entry *run_e)
{
    record_reader *rr;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        sc->scan.unreadable++;
        return;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int r = record_reader_open(&rr, proc, 0);
    if (r == -ENOENT)
        r = record_reader_open(&rr, display, 0);
    close(fd);
    if (r < 0) {
        sc->scan.unreadable++;
        return;
    }
    sc->scan.files++;
    for (;;) {
        Tensorboard__Event *ev = NULL;
        r = record_reader_next_event(rr, &ev);
        if (r == 0) {
            if (record_reader_fault(rr) == RECORD_FAULT_TRUNCATED)
                sc->scan.truncated++;
            break;
        }
        if (r < 0) {
            sc->scan.corrupt++;
            break;
        }
        sc->scan.records++;
        if (ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY && ev->summary) {
            for (size_t i = 0; i < ev->summary->n_value; i++) {
                const char *tag = ev->summary->value[i]->tag;
                if (tag && *tag)
                    book_note_tag(&sc->book, run, tag, strlen(tag), ev->step);
            }
            if (ev->summary->n_value > 0 && ev->step > sc->max_step)
                sc->max_step = ev->step;
        } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG &&
                   ev->session_log &&
                   ev->session_log->status == TENSORBOARD__SESSION_LOG__SESSION_STATUS__START) {
            book_lower_run(&sc->book, run, ev->step);
            if (run_e)
                run_e->aux |= RUN_STARTED;
            if (ev->step - 1 > sc->max_step)
                sc->max_step = ev->step - 1;
        }
        event_free(ev);
    }
    record_reader_free(rr);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk the directory open as dirfd (taken: closed here), the run named
 * run, and its subdirectories, never following a link. Files of one run
 * are read in name order, like TensorBoard does. */
static void scan_dir(logdir_scanner *sc, int dirfd, const char *display, const char *run,
                     unsigned depth)
{
    DIR *dp = fdopendir(dirfd);
    if (!dp) {
        close(dirfd);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = nc;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_str);

    bool is_run = false;
    for (size_t i = 0; i < n; i++) {
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s", display, names[i]) < 0)
            continue;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISREG(st.st_mode) && strstr(names[i], "tfevents")) {
                if (!is_run) {
                    book_note_run(&sc->book, run);
                    is_run = true;
                }
                /* Looked up per file: the tags map may grow, the runs map
                 * does not change while this run's files are read. */
                scan_file(sc, dirfd, names[i], path, run,
                          strmap_get(&sc->runs, run, strlen(run)));
            } else if (S_ISDIR(st.st_mode) && depth < LOGDIR_MAX_DEPTH &&
                       names[i][0] != '$') {
                char sub[LOGDIR_MAX_NAME + 1];
                int k = strcmp(run, ".") == 0
                            ? snprintf(sub, sizeof sub, "%s", names[i])
                            : snprintf(sub, sizeof sub, "%s/%s", run, names[i]);
                int subfd = openat(dirfd, names[i],
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (subfd >= 0 && k > 0 && (size_t)k < sizeof sub)
                    scan_dir(sc, subfd, path, sub, depth + 1);
                else if (subfd >= 0)
                    close(subfd);
            }
        }
        free(path);
    }
    closedir(dp);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void logdir_scanner_run(logdir_scanner *sc)
{
    if (sc->done)
        return;
    int fd = sc->dir_fd;
    sc->dir_fd = -1;
    sc->done = true;
    scan_dir(sc, fd, sc->path, ".", 0);
}

void logdir_scanner_free(logdir_scanner *sc)
{
    if (!sc)
        return;
    if (sc->dir_fd >= 0)
        close(sc->dir_fd);
    strmap_done(&sc->tags);
    strmap_done(&sc->runs);
    buf_free(&sc->key);
    free(sc->path);
    free(sc);
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
    logdir_scanner *sc = dir_fd >= 0 ? calloc(1, sizeof *sc) : NULL;
    if (!d || (dir_fd >= 0 && !sc)) {
        if (dir_fd >= 0)
            close(dir_fd);
        free(d);
        free(sc);
        return -ENOMEM;
    }
    d->name = strdup(name);
    d->root = strdup(root);
    if (strcmp(name, ".") == 0)
        d->path = strdup(root);
    else if (asprintf(&d->path, "%s/%s", root, name) < 0)
        d->path = NULL;
    if (sc) {
        sc->dir_fd = dir_fd;
        sc->path = d->path ? strdup(d->path) : NULL;
    }
    if (!d->name || !d->root || !d->path || (sc && !sc->path)) {
        if (sc)
            logdir_scanner_free(sc);
        else if (dir_fd >= 0)
            close(dir_fd);
        free(d->name);
        free(d->root);
        free(d->path);
        free(d);
        return -ENOMEM;
    }
    if (opts)
        d->opts = *opts;
    d->max_runs = d->opts.max_runs && d->opts.max_runs < LOGDIR_MAX_RUNS ? d->opts.max_runs
                                                                         : LOGDIR_MAX_RUNS;
    d->max_tags = d->opts.max_tags && d->opts.max_tags < LOGDIR_MAX_TAGS ? d->opts.max_tags
                                                                         : LOGDIR_MAX_TAGS;
    d->step = -1;
    strmap_init(&d->tags);
    strmap_init(&d->runs);
    buf_init(&d->key, LOGDIR_MAX_NAME + 1 + SUMMARY_MAX_TAG + 1);
    if (sc) {
        strmap_init(&sc->tags);
        strmap_init(&sc->runs);
        buf_init(&sc->key, LOGDIR_MAX_NAME + 1 + SUMMARY_MAX_TAG + 1);
        sc->book = (struct book){&sc->tags, &sc->runs, &sc->key, d->max_tags, d->max_runs};
        sc->max_step = -1;
        d->scanning = true;
    }
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
    logdir_scanner_run(sc);
    struct strmap t = d->tags, r = d->runs;
    d->tags = sc->tags;
    d->runs = sc->runs;
    sc->tags = t;
    sc->runs = r;
    memset(d->hot_tags, 0, sizeof d->hot_tags);
    d->hot_run = NULL;
    d->step = sc->max_step;
    d->scan = sc->scan;
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
    for (size_t i = 0; i < d->runs.cap; i++) {
        struct strmap_entry *e = &d->runs.slots[i];
        if (e->key && e->val.ptr) {
            int k = run_writer_close(e->val.ptr, sync);
            if (r == 0)
                r = k;
        }
    }
    strmap_done(&d->tags);
    strmap_done(&d->runs);
    buf_free(&d->key);
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

void logdir_set_step(logdir *d, int64_t step)
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
    if (!e || d->hot_run_gen != d->runs.gen || !e->val.ptr)
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
    struct strmap_entry *e = strmap_get(&d->runs, run, rl);
    bool made = false;
    if (!e) {
        if (d->runs.count >= d->max_runs) {
            *ret_kind = LOGDIR_REFUSED_RUNS;
            return -ENOSPC;
        }
        int r = strmap_put(&d->runs, run, strlen(run), &e);
        if (r < 0)
            return r;
        made = true;
    }
    if (!e->val.ptr) {
        int dirfd;
        int r = open_run_dir(d, run, &dirfd);
        if (r < 0) {
            /* A run that could not be made does not count. */
            if (made)
                strmap_remove(&d->runs, run, strlen(run));
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
    d->hot_run_gen = d->runs.gen;
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
    if (!e || h->gen != d->tags.gen)
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

/* The step a message logs at: -ERANGE past the counter's end, -EINVAL. */
static inline int step_of(const logdir *d, enum logdir_step_mode mode, int64_t step,
                          int64_t *ret)
{
    switch (mode) {
    case LOGDIR_STEP_NEXT:
        if (d->step == INT64_MAX)
            return -ERANGE;
        *ret = d->step + 1;
        return 0;
    case LOGDIR_STEP_CURRENT:
        *ret = d->step < 0 ? 0 : d->step;
        return 0;
    case LOGDIR_STEP_AT:
        if (step < 0)
            return -EINVAL;
        *ret = step;
        return 0;
    default:
        return -EINVAL;
    }
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
        struct strmap_entry *re = strmap_get(&d->runs, run, run_len);
        if (!re || !re->val.ptr)
            return LOGDIR_DECLINED;
        w = re->val.ptr;
        d->hot_run = re;
        d->hot_run_gen = d->runs.gen;
    }
    int r = run_writer_add_scalar(w, wall_time, s, tag, tag_len, value);
    if (r == RUN_WRITER_DECLINED)
        return LOGDIR_DECLINED;
    if (r < 0)
        return r;
    /* What logdir_log() leaves behind for one value. */
    e->aux = ++d->generation;
    if (s > e->val.i64)
        e->val.i64 = s;
    if (d->opts.hook)
        d->opts.hook(d->opts.hook_ctx, d, run, w, false);
    if (mode == LOGDIR_STEP_NEXT || (mode == LOGDIR_STEP_CURRENT && d->step < 0))
        d->step = s;
    if (ret_step)
        *ret_step = s;
    return 0;
}

int logdir_log(logdir *d, enum logdir_step_mode mode, int64_t step, double wall_time,
               const struct logdir_item *items, size_t n, bool check_steps,
               int64_t *ret_step, struct logdir_refusal *ret_refusal)
{
    int64_t s;
    int r;

    if (n == 0)
        return -EINVAL;
    /* One plain scalar (most messages): the shortcut, when it applies. */
    double x;
    if (n == 1 && check_steps && items[0].value->tag.len > 0 &&
        summary_is_plain_scalar(items[0].value, &x)) {
        const struct summary_value *v = items[0].value;
        r = logdir_log_scalar(d, mode, step, wall_time, items[0].run, strlen(items[0].run),
                              (const char *)v->tag.data, v->tag.len, x, ret_step);
        if (r != LOGDIR_DECLINED)
            return r;
    }
    if (d->scanning)
        return -EBUSY;
    if ((r = step_of(d, mode, step, &s)) < 0)
        return r;

    /* Check every value before writing any: a message is written whole or
     * refused whole. */
    bool enforce = check_steps && d->opts.policy == LOGDIR_POLICY_INCREASING;
    uint64_t gen = ++d->generation;
    size_t seen = 0;   /* items whose (run, tag) entry may have been made here */
    /* A message of one value (the common case) keeps its tag entry and
     * writer from the checks for the write: nothing puts into d->tags in
     * between, so the entry cannot move. */
    struct strmap_entry *only_e = NULL;
    run_writer *only_w = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct summary_value *v = items[i].value;
        if (v->tag.len == 0) {
            r = -EINVAL;
            goto fail;
        }
        struct strmap_entry *e = hot_tag(d, items[i].run, v->tag.data, v->tag.len);
        if (!e) {
            r = make_key(d, items[i].run, v->tag.data, v->tag.len);
            if (r < 0)
                goto fail;
            e = strmap_get(&d->tags, d->key.data, d->key.len);
        }
        if (!e) {
            if (d->tags.count >= d->max_tags) {
                refuse(ret_refusal, LOGDIR_REFUSED_TAGS, items[i].run, v->tag.data, v->tag.len,
                       (int)d->max_tags);
                r = -ENOSPC;
                goto fail;
            }
            r = strmap_put(&d->tags, d->key.data, d->key.len, &e);
            if (r < 0)
                goto fail;
            e->val.i64 = STEP_NONE;
        }
        seen = i + 1;
        struct hot_tag *h = hot_slot(d, v->tag.data, v->tag.len);
        h->e = e;
        h->gen = d->tags.gen;
        if (n == 1)
            only_e = e;
        bool dup = e->aux == gen;
        if (enforce && (dup || (e->val.i64 != STEP_NONE && s <= e->val.i64))) {
            d->refused += n;
            if (ret_refusal) {
                refuse(ret_refusal, dup ? LOGDIR_REFUSED_DUPLICATE : LOGDIR_REFUSED_STEP,
                       items[i].run, v->tag.data, v->tag.len, 0);
                ret_refusal->step = s;
                ret_refusal->last_step = e->val.i64 == STEP_NONE ? s : e->val.i64;
                ret_refusal->duplicate = dup;
            }
            r = -ERANGE;
            goto fail;
        }
        e->aux = gen;
    }

    /* Every run's writer (and directory) before any record: a refused or
     * unmakeable run directory refuses the whole message, and so does a
     * writer without room for all of it (its pending cap; rare: the
     * daemon stops reading long before). Items of one run are usually
     * adjacent, so look back one to skip repeats cheaply. */
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += run_writer_record_bound(items[i].value);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(items[i].run, items[i - 1].run) == 0)
            continue;
        run_writer *w = hot_writer(d, items[i].run);
        enum logdir_refusal_kind kind = LOGDIR_REFUSED_DIR;
        r = w ? 0 : writer_for(d, items[i].run, &w, &kind);
        if (r < 0) {
            if (r != -ENOMEM)
                refuse(ret_refusal, kind, items[i].run, NULL, 0, (int)d->max_runs);
            goto fail;
        }
        if (run_writer_room(w) < need) {
            r = -ENOBUFS;
            goto fail;
        }
        if (n == 1)
            only_w = w;
    }

    for (size_t i = 0; i < n; i++) {
        run_writer *w = only_w ? only_w : hot_writer(d, items[i].run);
        enum logdir_refusal_kind kind;
        r = w ? 0 : writer_for(d, items[i].run, &w, &kind);
        if (r == 0)
            r = run_writer_add_summary(w, wall_time, s, items[i].value);
        if (r == 0 && only_e) {
            if (only_e->val.i64 == STEP_NONE || s > only_e->val.i64)
                only_e->val.i64 = s;
        } else if (r == 0) {
            r = note_tag(d, items[i].run, items[i].value->tag.data, items[i].value->tag.len,
                         s);
        }
        if (r < 0)
            goto fail;
        if (d->opts.hook)
            d->opts.hook(d->opts.hook_ctx, d, items[i].run, w, false);
    }

    if (mode == LOGDIR_STEP_NEXT || (mode == LOGDIR_STEP_CURRENT && d->step < 0))
        d->step = s;
    if (ret_step)
        *ret_step = s;
    return 0;

fail:
    /* Forget the (run, tag) pairs this refused message introduced, so that
     * refused messages never use up the tag limit. */
    for (size_t i = 0; i < seen; i++) {
        const struct summary_value *v = items[i].value;
        if (make_key(d, items[i].run, v->tag.data, v->tag.len) < 0)
            continue;
        struct strmap_entry *e = strmap_get(&d->tags, d->key.data, d->key.len);
        if (e && e->val.i64 == STEP_NONE)
            strmap_remove(&d->tags, d->key.data, d->key.len);
    }
    return r;
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
    struct strmap_entry *e = strmap_get(&d->runs, run, strlen(run));
    if (!e)
        return -ENOENT;   /* cannot happen: writer_for() made it */
    int starts = e->aux & RUN_STARTED ? 1 : 2;
    for (int i = 0; i < starts && r == 0; i++) {
        r = run_writer_add_session_log(w, wall_time, step,
                                       TENSORBOARD__SESSION_LOG__SESSION_STATUS__START);
        if (r == 0)
            e->aux |= RUN_STARTED;
    }
    if (r < 0)
        return r;
    lower_run(d, run, step);
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
    if (!run && d->runs.count == 0)
        run = ".";
    if (run) {
        r = restart_run(d, run, step, wall_time);
        if (r < 0)
            return r;
    } else {
        /* Collect the names first: writer_for() may not change the map
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

run_writer *logdir_writer(const logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, strlen(run));
    return e ? e->val.ptr : NULL;
}

run_writer *logdir_detach_writer(logdir *d, const char *run)
{
    struct strmap_entry *e = strmap_get(&d->runs, run, strlen(run));
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
    for (size_t i = 0; i < d->runs.cap; i++) {
        struct strmap_entry *e = &d->runs.slots[i];
        if (e->key && e->val.ptr)
            fn(ctx, d, e->key, e->val.ptr);
    }
}

size_t logdir_writer_count(const logdir *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->runs.cap; i++)
        if (d->runs.slots[i].key && d->runs.slots[i].val.ptr)
            n++;
    return n;
}

/* ---- the set ----------------------------------------------------------- */

struct logdir_set {
    char *root;
    struct logdir_options opts;
    struct strmap dirs;   /* name -> logdir */
    /* The entry found last, while dirs.gen says it has not moved: messages
     * mostly name the logdir of the one before. */
    struct strmap_entry *last;
    uint64_t last_gen;
};

logdir_set *logdir_set_new(const char *root, const struct logdir_options *opts)
{
    logdir_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->root = strdup(root);
    if (!s->root) {
        free(s);
        return NULL;
    }
    if (opts)
        s->opts = *opts;
    strmap_init(&s->dirs);
    return s;
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
    strmap_done(&s->dirs);
    free(s->root);
    free(s);
    return r;
}

logdir *logdir_set_find(logdir_set *s, const char *name)
{
    size_t len = strlen(name);
    struct strmap_entry *e = s->last;
    if (e && s->last_gen == s->dirs.gen && e->key_len == len &&
        strmap_bytes_equal(e->key, name, len))
        return e->val.ptr;
    e = strmap_get(&s->dirs, name, len);
    if (!e)
        return NULL;
    s->last = e;
    s->last_gen = s->dirs.gen;
    return e->val.ptr;
}

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
    if (s->dirs.count >= max)
        return -ENOSPC;
    logdir_scanner *sc;
    int r = logdir_open_deferred(&d, s->root, name, &s->opts, &sc);
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
