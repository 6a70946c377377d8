/* logdir_reader: runs, files, records, events and values of a logdir. */
#include "logdir_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event_scan.h"
#include "strmap.h"
#include "record_reader.h"

/* ------------------------------------------------------------------ arena
 *
 * Events are unpacked by protobuf-c into an arena that is reset for every
 * record: decoding millions of small events then costs no malloc/free per
 * message, which is most of the time of a protobuf-c unpack. */

#define ARENA_CHUNK (64u * 1024)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    max_align_t data[];
};

struct arena {
    struct arena_chunk *head;   /* the first chunk is kept across resets */
    bool failed;
};

static void *arena_alloc(void *opaque, size_t size)
{
    struct arena *a = opaque;
    size = (size + 15) & ~(size_t)15;
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        struct arena_chunk *n = malloc(sizeof *n + csize);
        if (!n) {
            a->failed = true;
            return NULL;
        }
        n->size = csize;
        n->used = 0;
        if (c && c->size - c->used >= ARENA_CHUNK / 4) {
            /* The current chunk still has room: put the big one behind it. */
            n->next = c->next;
            c->next = n;
            n->used = size;
            return n->data;
        }
        n->next = c;
        a->head = c = n;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

static void arena_free(void *opaque, void *p)
{
    (void)opaque;
    (void)p;
}

static void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;
    if (!c)
        return;
    /* Keep one ordinary chunk, drop the rest (big image payloads). */
    struct arena_chunk *keep = NULL;
    while (c) {
        struct arena_chunk *next = c->next;
        if (!keep && c->size == ARENA_CHUNK) {
            keep = c;
            keep->next = NULL;
            keep->used = 0;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    a->failed = false;
}

static void arena_done(struct arena *a)
{
    arena_reset(a);
    free(a->head);
    a->head = NULL;
}

/* ------------------------------------------------------------------ tags */

struct tag_entry {
    char *tag;            /* NULL: empty slot */
    size_t len;           /* strlen(tag) */
    uint64_t hash;
    uint64_t file_gen;    /* the run's file generation of `initial` */
    struct value_meta initial;   /* first value in that file: present,
                                    plugin and data_class_written */
    struct value_meta kept;      /* first metadata in the run */
};

struct tag_table {
    struct tag_entry *slots;
    size_t cap, n;
};

/* A word-at-a-time hash: tags are looked up once per summary value, so a
 * byte-at-a-time hash (a multiply per byte) showed in profiles. */
static uint64_t hash_tag(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t n = len;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        /* The tail in whole loads (overlapping bytes already hashed when
         * that is possible): a variable-length memcpy into a word stalls
         * on store forwarding. */
        uint64_t w;
        if (len >= 8) {
            memcpy(&w, s + n - 8, 8);
        } else if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, s, 4);
            memcpy(&b, s + n - 4, 4);
            w = (uint64_t)a << 32 | b;
        } else {
            w = (uint64_t)(uint8_t)s[0] << 16 | (uint64_t)(uint8_t)s[n / 2] << 8 |
                (uint8_t)s[n - 1];
        }
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

static void tag_table_done(struct tag_table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].tag) {
            free(t->slots[i].tag);
            value_meta_done(&t->slots[i].initial);
            value_meta_done(&t->slots[i].kept);
        }
    }
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int tag_table_grow(struct tag_table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    struct tag_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        struct tag_entry *e = &t->slots[i];
        if (!e->tag)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (ns[j].tag)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

/* The entry of tag, created when missing. NULL when the table is at its
 * limit or out of memory (*ret_err says which: 0 or -ENOMEM). */
static struct tag_entry *tag_table_get(struct tag_table *t, const char *tag, int *ret_err)
{
    *ret_err = 0;
    size_t len = strlen(tag);
    uint64_t h = hash_tag(tag, len);
    if (t->cap) {
        size_t j = h & (t->cap - 1);
        while (t->slots[j].tag) {
            if (t->slots[j].hash == h && t->slots[j].len == len &&
                memcmp(t->slots[j].tag, tag, len) == 0)
                return &t->slots[j];
            j = (j + 1) & (t->cap - 1);
        }
    }
    if (t->n >= LOGDIR_READER_MAX_TAGS)
        return NULL;
    if ((t->n + 1) * 10 > t->cap * 7) {
        if (tag_table_grow(t) < 0) {
            *ret_err = -ENOMEM;
            return NULL;
        }
    }
    size_t j = h & (t->cap - 1);
    while (t->slots[j].tag)
        j = (j + 1) & (t->cap - 1);
    char *copy = strdup(tag);
    if (!copy) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    struct tag_entry *e = &t->slots[j];
    memset(e, 0, sizeof *e);
    e->tag = copy;
    e->len = len;
    e->hash = h;
    e->file_gen = UINT64_MAX;
    t->n++;
    return e;
}

/* ------------------------------------------------------------------ runs */

struct run {
    char *name;            /* "." or relative path */
    char *dir;             /* full directory path */
    char **files;          /* sorted basenames */
    size_t n_files;
    char *cur_name;        /* file being read (NULL before the first) */
    char *cur_rel;         /* its path relative to the logdir */
    record_reader *rr;
    bool file_dead;        /* corruption found: never read this file again */
    uint64_t trunc_reported;   /* offset of the reported truncation + 1 */
    uint64_t file_gen;

    /* purge_orphaned_data state */
    bool have_file_version;
    double file_version;
    bool seen_start;
    int64_t most_recent_step;

    struct tag_table tags;
    struct strmap done;    /* late_files: names read to their end */
};

static void run_free(struct run *run)
{
    if (!run)
        return;
    free(run->name);
    free(run->dir);
    for (size_t i = 0; i < run->n_files; i++)
        free(run->files[i]);
    free(run->files);
    free(run->cur_name);
    free(run->cur_rel);
    record_reader_free(run->rr);
    tag_table_done(&run->tags);
    strmap_done(&run->done);
    free(run);
}

struct logdir_reader {
    struct logdir_reader_options opts;
    char *root;             /* logdir path, or the file's directory */
    char *single_file;      /* basename when opened on a file */
    struct run **runs;      /* sorted by name */
    size_t n_runs, cap_runs;
    bool in_poll;
    size_t run_i;

    struct arena arena;
    ProtobufCAllocator alloc;
    Tensorboard__Event *event;  /* in the arena */
    struct decoded_value *values;
    size_t n_values, cap_values;

    struct logdir_reader_stats stats;
};

void logdir_reader_options_init(struct logdir_reader_options *o)
{
    o->decode_values = true;
    o->purge = true;
    o->no_fast_path = false;
    o->late_files = false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run names sort with "." first, then as plain strings. */
static int run_name_cmp(const char *a, const char *b)
{
    bool da = strcmp(a, ".") == 0, db = strcmp(b, ".") == 0;
    if (da || db)
        return db - da;
    return strcmp(a, b);
}

static int cmp_run(const void *a, const void *b)
{
    return run_name_cmp((*(struct run *const *)a)->name, (*(struct run *const *)b)->name);
}

static struct run *find_run(logdir_reader *r, const char *name)
{
    size_t lo = 0, hi = r->n_runs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = run_name_cmp(r->runs[mid]->name, name);
        if (c == 0)
            return r->runs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ------------------------------------------------------------------ discovery */

struct found {
    char **files;
    size_t n, cap;
};

static void found_done(struct found *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->files[i]);
    free(f->files);
    memset(f, 0, sizeof *f);
}

static int found_add(struct found *f, const char *name)
{
    if (f->n >= LOGDIR_READER_MAX_FILES)
        return 0;
    if (f->n == f->cap) {
        size_t ncap = f->cap ? 2 * f->cap : 8;
        char **nf = realloc(f->files, ncap * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        f->files = nf;
        f->cap = ncap;
    }
    f->files[f->n] = strdup(name);
    if (!f->files[f->n])
        return -ENOMEM;
    f->n++;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Install the file list of run `name` (takes the strings of f). */
static int update_run(logdir_reader *r, const char *name, const char *dir, struct found *f)
{
    struct run *run = find_run(r, name);
    if (!run) {
        if (r->n_runs >= LOGDIR_READER_MAX_RUNS) {
            r->stats.runs_ignored++;
            found_done(f);
            return 0;
        }
        if (r->n_runs == r->cap_runs) {
            size_t ncap = r->cap_runs ? 2 * r->cap_runs : 16;
            struct run **nr = realloc(r->runs, ncap * sizeof *nr);
            if (!nr)
                return -ENOMEM;
            r->runs = nr;
            r->cap_runs = ncap;
        }
        run = calloc(1, sizeof *run);
        if (!run)
            return -ENOMEM;
        run->name = strdup(name);
        run->dir = strdup(dir);
        run->most_recent_step = -1;
        strmap_init(&run->done);
        if (!run->name || !run->dir) {
            run_free(run);
            return -ENOMEM;
        }
        r->runs[r->n_runs++] = run;
        qsort(r->runs, r->n_runs, sizeof *r->runs, cmp_run);
    }
    qsort(f->files, f->n, sizeof *f->files, cmp_str);
    for (size_t i = 0; i < run->n_files; i++)
        free(run->files[i]);
    free(run->files);
    run->files = f->files;
    run->n_files = f->n;
    memset(f, 0, sizeof *f);
    return 0;
}

/* List directory dirfd (takes ownership), at relative path rel. */
static int scan_dir(logdir_reader *r, int dirfd, const char *rel, unsigned depth)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return -errno;
    }
    struct found files = {0};
    struct found subdirs = {0};
    int err = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        unsigned char type = de->d_type;
        bool is_dir = false, is_file = false;
        if (type == DT_DIR) {
            is_dir = true;
        } else if (type == DT_REG) {
            is_file = true;
        } else if (type == DT_LNK || type == DT_UNKNOWN) {
            struct stat st;
            /* Links are read as files only; a link to a directory is never
             * entered (it could lead out of the logdir or loop). */
            if (type == DT_UNKNOWN && fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode))
                is_dir = true;
            else if (fstatat(dirfd, n, &st, 0) == 0 && S_ISREG(st.st_mode))
                is_file = true;
        }
        if (is_file && strstr(n, "tfevents") && !ends_with(n, ".profile-empty"))
            err = found_add(&files, n);
        else if (is_dir)
            err = found_add(&subdirs, n);
        if (err < 0)
            goto out;
    }
    if (files.n > 0) {
        char dir[LOGDIR_READER_MAX_PATH];
        int len = strcmp(rel, ".") == 0
                      ? snprintf(dir, sizeof dir, "%s", r->root)
                      : snprintf(dir, sizeof dir, "%s/%s", r->root, rel);
        if (len > 0 && (size_t)len < sizeof dir) {
            err = update_run(r, rel, dir, &files);
            if (err < 0)
                goto out;
        }
    }
    /* qsort's array may not be NULL, even for no elements. */
    if (subdirs.n > 1)
        qsort(subdirs.files, subdirs.n, sizeof *subdirs.files, cmp_str);
    for (size_t i = 0; i < subdirs.n; i++) {
        if (depth + 1 > LOGDIR_READER_MAX_DEPTH) {
            r->stats.dirs_too_deep++;
            continue;
        }
        char sub[LOGDIR_READER_MAX_PATH];
        int len = strcmp(rel, ".") == 0
                      ? snprintf(sub, sizeof sub, "%s", subdirs.files[i])
                      : snprintf(sub, sizeof sub, "%s/%s", rel, subdirs.files[i]);
        if (len < 0 || (size_t)len >= sizeof sub || strlen(r->root) + (size_t)len + 2 > sizeof sub)
            continue;
        int fd = openat(dirfd, subdirs.files[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;   /* vanished or unreadable: not a run we can read */
        err = scan_dir(r, fd, sub, depth + 1);
        if (err == -ENOMEM)
            goto out;
        err = 0;
    }
out:
    found_done(&files);
    found_done(&subdirs);
    closedir(d);
    return err;
}

static int scan(logdir_reader *r)
{
    if (r->single_file) {
        if (r->n_runs > 0)
            return 0;
        struct found f = {0};
        int err = found_add(&f, r->single_file);
        if (err == 0)
            err = update_run(r, ".", r->root, &f);
        found_done(&f);
        return err;
    }
    int fd = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return scan_dir(r, fd, ".", 0);
}

/* ------------------------------------------------------------------ open/free */

int logdir_reader_open(logdir_reader **ret, const char *path,
                       const struct logdir_reader_options *opts)
{
    struct stat st;
    if (strlen(path) >= LOGDIR_READER_MAX_PATH)
        return -ENAMETOOLONG;
    if (stat(path, &st) < 0)
        return -errno;
    logdir_reader *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (opts)
        r->opts = *opts;
    else
        logdir_reader_options_init(&r->opts);
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
            n--;
        r->root = strndup(path, n);
    } else {
        const char *slash = strrchr(path, '/');
        r->single_file = strdup(slash ? slash + 1 : path);
        r->root = slash ? strndup(path, (size_t)(slash - path) ? (size_t)(slash - path) : 1)
                        : strdup(".");
    }
    if (!r->root || (!S_ISDIR(st.st_mode) && !r->single_file)) {
        logdir_reader_free(r);
        return -ENOMEM;
    }
    r->alloc.alloc = arena_alloc;
    r->alloc.free = arena_free;
    r->alloc.allocator_data = &r->arena;
    *ret = r;
    return 0;
}

static void release_item(logdir_reader *r)
{
    for (size_t i = 0; i < r->n_values; i++)
        value_done(&r->values[i]);
    r->n_values = 0;
    r->event = NULL;
    arena_reset(&r->arena);
}

void logdir_reader_free(logdir_reader *r)
{
    if (!r)
        return;
    release_item(r);
    for (size_t i = 0; i < r->n_runs; i++)
        run_free(r->runs[i]);
    free(r->runs);
    free(r->values);
    arena_done(&r->arena);
    free(r->root);
    free(r->single_file);
    free(r);
}

size_t logdir_reader_run_count(const logdir_reader *r)
{
    return r->n_runs;
}

const char *logdir_reader_run_name(const logdir_reader *r, size_t i)
{
    return i < r->n_runs ? r->runs[i]->name : NULL;
}

void logdir_reader_stats(const logdir_reader *r, struct logdir_reader_stats *ret)
{
    *ret = r->stats;
    ret->runs = r->n_runs;
}

/* ------------------------------------------------------------------ reading */

static void close_file(struct run *run)
{
    record_reader_free(run->rr);
    run->rr = NULL;
    run->file_dead = false;
    run->trunc_reported = 0;
}

/* Position run->cur on the first file at or after cur_name (the list may
 * have changed); returns the index of the file to read next. */
static size_t current_index(const struct run *run, bool *ret_same)
{
    *ret_same = false;
    if (!run->cur_name)
        return 0;
    size_t lo = 0, hi = run->n_files;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(run->files[mid], run->cur_name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_same = lo < run->n_files && strcmp(run->files[lo], run->cur_name) == 0;
    return lo;
}

/* late_files: the first file of run (in name order) neither read to its
 * end nor the current one; run->n_files when there is none. */
static size_t next_unread(const struct run *run)
{
    for (size_t i = 0; i < run->n_files; i++) {
        const char *f = run->files[i];
        if (!(run->cur_name && strcmp(f, run->cur_name) == 0) &&
            !strmap_get(&run->done, f, strlen(f)))
            return i;
    }
    return run->n_files;
}

/* late_files: the current file is read to its end (or abandoned). */
static int mark_done(struct run *run)
{
    struct strmap_entry *e;
    int r = run->cur_name ? strmap_put(&run->done, run->cur_name, strlen(run->cur_name), &e) : 0;
    return r < 0 ? r : 0;
}

static int open_file(logdir_reader *r, struct run *run, size_t idx)
{
    char path[LOGDIR_READER_MAX_PATH];
    char rel[LOGDIR_READER_MAX_PATH];
    const char *name = run->files[idx];
    int n1 = snprintf(path, sizeof path, "%s/%s", run->dir, name);
    int n2 = strcmp(run->name, ".") == 0 ? snprintf(rel, sizeof rel, "%s", name)
                                         : snprintf(rel, sizeof rel, "%s/%s", run->name, name);
    if (n1 < 0 || (size_t)n1 >= sizeof path || n2 < 0 || (size_t)n2 >= sizeof rel)
        return -ENAMETOOLONG;
    char *cn = strdup(name), *cr = strdup(rel);
    if (!cn || !cr) {
        free(cn);
        free(cr);
        return -ENOMEM;
    }
    close_file(run);
    free(run->cur_name);
    free(run->cur_rel);
    run->cur_name = cn;
    run->cur_rel = cr;
    run->file_gen++;
    (void)r;
    return record_reader_open(&run->rr, path, 0);
}

static double parse_file_version(const char *s)
{
    const char *p = strstr(s, "brain.Event:");
    const char *last = NULL;
    while (p) {
        last = p;
        p = strstr(p + 1, "brain.Event:");
    }
    const char *num = last ? last + strlen("brain.Event:") : s;
    char *end;
    double v = strtod(num, &end);
    if (end == num)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    return *end ? -1 : v;
}

static void item_base(struct logdir_reader_item *item, const struct run *run,
                      enum logdir_reader_item_type type)
{
    size_t size = sizeof *item;
    __asm__("" : "+r"(size));   /* libc memset, not `rep stos`: see value_init() */
    memset(item, 0, size);
    item->type = type;
    item->run = run->name;
    item->file = run->cur_rel ? run->cur_rel : run->name;
}

static int reserve_values(logdir_reader *r, size_t n)
{
    if (n <= r->cap_values)
        return 0;
    size_t ncap = r->cap_values ? r->cap_values : 4;
    while (ncap < n)
        ncap *= 2;
    struct decoded_value *nv = realloc(r->values, ncap * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    /* Values point into themselves (inline storage); none are live here. */
    for (size_t i = r->cap_values; i < ncap; i++)
        value_init(&nv[i]);
    r->values = nv;
    r->cap_values = ncap;
    return 0;
}

static int decode_values(logdir_reader *r, struct run *run, const Tensorboard__Summary *s)
{
    int err = reserve_values(r, s->n_value);
    if (err < 0)
        return err;
    for (size_t i = 0; i < s->n_value; i++) {
        const Tensorboard__Summary__Value *sv = s->value[i];
        const char *tag = sv->tag && *sv->tag ? sv->tag : (sv->node_name ? sv->node_name : "");
        struct tag_entry *e = tag_table_get(&run->tags, tag, &err);
        if (err < 0)
            return err;
        bool first_in_file = !e || e->file_gen != run->file_gen;
        const struct value_meta *initial = first_in_file ? NULL : &e->initial;
        const struct value_meta *kept = e && e->kept.present ? &e->kept : NULL;
        struct decoded_value *v = &r->values[i];   /* initialised: see release_item() */
        r->n_values = i + 1;
        err = value_decode(sv, initial, kept, v);
        if (err < 0)
            return err;
        if (!e)
            continue;
        if (v->kind == VALUE_INVALID && !v->has_tensor && !v->meta.present)
            continue;   /* dropped by TensorBoard's migration: leaves no trace */
        if (first_in_file) {
            e->file_gen = run->file_gen;
            value_meta_done(&e->initial);
            if (v->meta.present) {
                e->initial.present = true;
                e->initial.plugin = strdup(v->meta.plugin);
                e->initial.data_class_written = v->meta.data_class_written;
                if (!e->initial.plugin)
                    return -ENOMEM;
            }
        }
        if (!kept && v->meta.present) {
            err = value_meta_copy(&e->kept, &v->meta);
            if (err < 0)
                return err;
        }
    }
    return 0;
}

/* purge_orphaned_data, as TensorBoard's Python loader does it. */
static void apply_purge_rules(logdir_reader *r, struct run *run, const Tensorboard__Event *ev,
                              struct logdir_reader_item *item)
{
    if (ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION) {
        run->have_file_version = true;
        run->file_version = parse_file_version(ev->file_version);
    }
    bool summary = ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY;
    if (run->have_file_version && run->file_version >= 2) {
        if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG &&
            ev->session_log->status == TENSORBOARD__SESSION_LOG__SESSION_STATUS__START) {
            if (!run->seen_start) {
                run->seen_start = true;
            } else {
                item->purge = true;
                item->purge_all_tags = true;
                item->purge_step = ev->step;
            }
        }
    } else if (summary && ev->step < run->most_recent_step) {
        item->purge = true;
        item->purge_all_tags = false;
        item->purge_step = ev->step;
    }
    if (summary)
        run->most_recent_step = ev->step;
    if (!r->opts.purge)
        item->purge = item->purge_all_tags = false;
}

/* One item from run: 1 filled, 0 the run has nothing more this poll. */
static int read_run(logdir_reader *r, struct run *run, struct logdir_reader_item *item)
{
    for (;;) {
        if (!run->rr) {
            bool same;
            size_t idx = current_index(run, &same);
            if (r->opts.late_files) {
                int err = mark_done(run);
                if (err < 0)
                    return err;
                idx = next_unread(run);
            } else if (run->cur_name && !same) {
                /* The file being read vanished: go on with the next. */
            } else if (run->cur_name && same) {
                idx++;   /* already done with it */
            }
            if (idx >= run->n_files)
                return 0;
            int err = open_file(r, run, idx);
            if (err == -ENOMEM)
                return err;
            if (err < 0) {
                item_base(item, run, LOGDIR_READER_ITEM_PROBLEM);
                item->error = err;
                r->stats.problems++;
                return 1;   /* rr stays NULL: the next file is tried next */
            }
        }
        if (run->file_dead) {
            bool same;
            size_t idx = current_index(run, &same);
            if (r->opts.late_files ? next_unread(run) < run->n_files
                                   : same && idx + 1 < run->n_files) {
                close_file(run);
                continue;
            }
            return 0;
        }
        const uint8_t *payload;
        size_t len;
        uint64_t off = record_reader_offset(run->rr);
        uint64_t index = record_reader_index(run->rr);
        int rc = record_reader_next(run->rr, &payload, &len);
        if (rc == 1) {
            item_base(item, run, LOGDIR_READER_ITEM_EVENT);
            item->offset = off;
            item->index = index;
            item->length = record_reader_offset(run->rr) - off;
            Tensorboard__Event *ev = NULL;
            int sr = r->opts.no_fast_path ? -ENOTSUP
                                          : event_scan_unpack(payload, len, &r->alloc, &ev);
            if (sr == -ENOMEM)
                return -ENOMEM;
            if (sr < 0) {
                /* Not a shape the scanner knows (or malformed): protobuf-c
                 * decides, starting from an empty arena. */
                arena_reset(&r->arena);
                ev = (Tensorboard__Event *)protobuf_c_message_unpack(
                    &tensorboard__event__descriptor, &r->alloc, len, payload);
            }
            if (!ev) {
                if (r->arena.failed)
                    return -ENOMEM;
                item->type = LOGDIR_READER_ITEM_PROBLEM;
                item->length = 0;
                item->fault = RECORD_FAULT_NOT_EVENT;
                run->file_dead = true;
                r->stats.problems++;
                return 1;
            }
            r->event = ev;
            item->event = ev;
            r->stats.records++;
            r->stats.bytes += item->length;
            apply_purge_rules(r, run, ev, item);
            if (r->opts.decode_values && ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY) {
                int err = decode_values(r, run, ev->summary);
                if (err < 0)
                    return err;
                item->values = r->values;
                item->n_values = r->n_values;
            }
            return 1;
        }
        if (rc == 0) {
            enum record_fault fault = record_reader_fault(run->rr);
            bool same;
            size_t idx = current_index(run, &same);
            bool newer = r->opts.late_files ? next_unread(run) < run->n_files
                                            : same && idx + 1 < run->n_files;
            if (fault == RECORD_FAULT_TRUNCATED && run->trunc_reported != off + 1) {
                run->trunc_reported = off + 1;
                item_base(item, run, LOGDIR_READER_ITEM_PROBLEM);
                item->offset = off;
                item->index = index;
                item->fault = fault;
                r->stats.problems++;
                return 1;
            }
            if (newer) {
                /* TensorBoard moves on to the newer file and never comes
                 * back to this one. */
                close_file(run);
                continue;
            }
            return 0;
        }
        /* Corruption or a read error: report once, abandon the file. */
        item_base(item, run, LOGDIR_READER_ITEM_PROBLEM);
        item->offset = off;
        item->index = index;
        if (rc == -EBADMSG) {
            item->offset = record_reader_offset(run->rr);
            item->fault = record_reader_fault(run->rr);
        } else {
            item->error = rc;
        }
        run->file_dead = true;
        r->stats.problems++;
        return 1;
    }
}

int logdir_reader_next(logdir_reader *r, struct logdir_reader_item *item)
{
    release_item(r);
    if (!r->in_poll) {
        int err = scan(r);
        if (err < 0)
            return err;
        /* A run whose current file vanished or changed position is
         * re-synchronised lazily in read_run(). */
        for (size_t i = 0; i < r->n_runs; i++) {
            struct run *run = r->runs[i];
            bool same;
            if (run->rr && run->cur_name) {
                current_index(run, &same);
                if (!same)
                    close_file(run);
            }
        }
        r->in_poll = true;
        r->run_i = 0;
    }
    while (r->run_i < r->n_runs) {
        int rc = read_run(r, r->runs[r->run_i], item);
        if (rc != 0)
            return rc;
        r->run_i++;
    }
    r->in_poll = false;
    return 0;
}
