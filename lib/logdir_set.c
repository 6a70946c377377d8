#include "logdir_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

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
