#include "logdir_steps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbfields.h"

void logdir_steps_init(struct logdir_steps *s, unsigned max_tags, unsigned max_runs,
                       size_t max_key)
{
    strmap_init(&s->tags);
    strmap_init(&s->runs);
    strmap_init(&s->metas);
    buf_init(&s->key, max_key);
    s->max_tags = max_tags;
    s->max_runs = max_runs;
    s->n_kinds = 0;
}

void logdir_steps_done(struct logdir_steps *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_kinds; i++)
        free(s->kinds[i]);
    s->n_kinds = 0;
    strmap_done(&s->tags);
    strmap_done(&s->runs);
    strmap_done(&s->metas);
    buf_free(&s->key);
}

int logdir_steps_kind(struct logdir_steps *s, const void *name, size_t len)
{
    static const char scalars[] = "scalars";
    if (len == sizeof scalars - 1 && memcmp(name, scalars, len) == 0)
        return LOGDIR_KIND_SCALARS;
    for (unsigned i = 1; i <= s->n_kinds; i++)
        if (strlen(s->kinds[i - 1]) == len && memcmp(s->kinds[i - 1], name, len) == 0)
            return (int)i;
    /* Index LOGDIR_KIND_ANY is not a kind. */
    if (s->n_kinds + 1 >= LOGDIR_KIND_ANY)
        return -ENOSPC;
    char *k = strndup(name, len);
    if (!k)
        return -ENOMEM;
    s->kinds[s->n_kinds++] = k;
    return (int)s->n_kinds;
}

const char *logdir_steps_kind_name(const struct logdir_steps *s, unsigned k)
{
    if (k == LOGDIR_KIND_SCALARS)
        return "scalars";
    if (k == LOGDIR_KIND_ANY || k > s->n_kinds)
        return "any kind";
    return s->kinds[k - 1];
}

/* One length-delimited field of a protobuf message: field number want in
 * p[0..len), or NULL. Other fields are skipped by wire type. */
static const uint8_t *pb_find_len(const uint8_t *p, size_t len, unsigned want, size_t *ret_len)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t key = 0, n = 0;
        for (unsigned sh = 0; p < end && sh < 64; sh += 7) {
            key |= (uint64_t)(*p & 0x7f) << sh;
            if (!(*p++ & 0x80))
                break;
        }
        unsigned wt = key & 7;
        if (wt == 0) {
            while (p < end && (*p++ & 0x80))
                ;
            continue;
        }
        if (wt == 1 || wt == 5) {
            p += wt == 1 ? 8 : 4;
            continue;
        }
        if (wt != 2)
            return NULL;
        for (unsigned sh = 0; p < end && sh < 64; sh += 7) {
            n |= (uint64_t)(*p & 0x7f) << sh;
            if (!(*p++ & 0x80))
                break;
        }
        if (n > (uint64_t)(end - p))
            return NULL;
        if ((key >> 3) == want) {
            *ret_len = (size_t)n;
            return p;
        }
        p += n;
    }
    return NULL;
}

const char *logdir_plugin_name(const void *meta, size_t len, size_t *ret_len)
{
    size_t pd_len, name_len;
    *ret_len = 0;
    const uint8_t *pd = pb_find_len(meta, len, PBF_META_PLUGIN_DATA, &pd_len);
    const uint8_t *name = pd ? pb_find_len(pd, pd_len, PBF_PLUGIN_NAME, &name_len) : NULL;
    if (!name || name_len == 0)
        return NULL;
    *ret_len = name_len;
    return (const char *)name;
}

/* FNV-1a, 64 bits, continued from h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t fingerprint(const void *name, size_t name_len, const void *desc,
                            size_t desc_len)
{
    if (name_len == 0 && desc_len == 0)
        return 0;
    /* 0xff never occurs in UTF-8: the split between the two is kept. */
    static const uint8_t sep = 0xff;
    uint64_t h = fnv1a(UINT64_C(0xcbf29ce484222325), name, name_len);
    h = fnv1a(h, &sep, 1);
    return fnv1a(h, desc, desc_len) | 1;
}

uint64_t logdir_meta_fingerprint(const void *meta, size_t len)
{
    size_t nl = 0, dl = 0;
    const uint8_t *n = pb_find_len(meta, len, PBF_META_DISPLAY_NAME, &nl);
    const uint8_t *d = pb_find_len(meta, len, PBF_META_DESCRIPTION, &dl);
    return fingerprint(n, n ? nl : 0, d, d ? dl : 0);
}

uint64_t logdir_meta_fingerprint_of(const char *display_name, const char *description)
{
    return fingerprint(display_name, display_name ? strlen(display_name) : 0, description,
                       description ? strlen(description) : 0);
}

uint64_t logdir_steps_meta(struct logdir_steps *s, const char *run, const void *tag,
                           size_t tag_len)
{
    if (s->metas.count == 0 || logdir_steps_key(s, run, tag, tag_len) < 0)
        return 0;
    const struct strmap_entry *e = strmap_get(&s->metas, s->key.data, s->key.len);
    return e ? (uint64_t)e->val.i64 : 0;
}

int logdir_steps_set_meta(struct logdir_steps *s, const char *run, const void *tag,
                          size_t tag_len, uint64_t fp)
{
    if (fp == 0)
        return 0;
    int r = logdir_steps_key(s, run, tag, tag_len);
    struct strmap_entry *e = NULL;
    if (r == 0 && !(e = strmap_get(&s->metas, s->key.data, s->key.len)))
        r = strmap_put(&s->metas, s->key.data, s->key.len, &e);
    if (r < 0)
        return r;
    e->val.i64 = (int64_t)fp;
    return 0;
}

void logdir_steps_swap(struct logdir_steps *a, struct logdir_steps *b)
{
    struct logdir_steps t = *a;
    *a = *b;
    *b = t;
}

int logdir_steps_key(struct logdir_steps *s, const char *run, const void *tag, size_t tag_len)
{
    buf_reset(&s->key);
    int r = buf_append(&s->key, run, strlen(run) + 1);
    if (r == 0)
        r = buf_append(&s->key, tag, tag_len);
    return r;
}

int logdir_steps_tag_entry(struct logdir_steps *s, const char *run, const void *tag,
                           size_t tag_len, struct strmap_entry **ret)
{
    int r = logdir_steps_key(s, run, tag, tag_len);
    if (r < 0)
        return r;
    struct strmap_entry *e = strmap_get(&s->tags, s->key.data, s->key.len);
    if (!e) {
        if (s->tags.count >= s->max_tags)
            return -ENOSPC;
        r = strmap_put(&s->tags, s->key.data, s->key.len, &e);
        if (r < 0)
            return r;
        e->val.i64 = LOGDIR_STEP_NONE;
    }
    *ret = e;
    return 0;
}

int logdir_steps_note_tag(struct logdir_steps *s, const char *run, const void *tag,
                          size_t tag_len, int64_t step)
{
    struct strmap_entry *e;
    int r = logdir_steps_tag_entry(s, run, tag, tag_len, &e);
    if (r < 0)
        return r;
    if (e->val.i64 == LOGDIR_STEP_NONE || step > e->val.i64)
        e->val.i64 = step;
    return 0;
}

void logdir_steps_forget_unwritten(struct logdir_steps *s, const char *run, const void *tag,
                                   size_t tag_len)
{
    if (logdir_steps_key(s, run, tag, tag_len) < 0)
        return;
    struct strmap_entry *e = strmap_get(&s->tags, s->key.data, s->key.len);
    if (e && e->val.i64 == LOGDIR_STEP_NONE)
        strmap_remove(&s->tags, s->key.data, s->key.len);
}

void logdir_steps_lower_run(struct logdir_steps *s, const char *run, int64_t step)
{
    size_t rl = strlen(run) + 1;
    for (size_t i = 0; i < s->tags.cap; i++) {
        struct strmap_entry *e = &s->tags.slots[i];
        if (!e->key || e->key_len < rl || memcmp(e->key, run, rl) != 0)
            continue;
        if (e->val.i64 != LOGDIR_STEP_NONE && e->val.i64 >= step)
            e->val.i64 = step - 1;
    }
}

bool logdir_steps_others_written(const struct logdir_steps *s, const char *run)
{
    size_t rl = strlen(run) + 1;
    for (size_t i = 0; i < s->tags.cap; i++) {
        const struct strmap_entry *e = &s->tags.slots[i];
        if (!e->key || e->val.i64 == LOGDIR_STEP_NONE)
            continue;
        if (e->key_len < rl || memcmp(e->key, run, rl) != 0)
            return true;
    }
    return false;
}

int logdir_steps_run_entry(struct logdir_steps *s, const char *run, size_t run_len,
                           struct strmap_entry **ret)
{
    *ret = strmap_get(&s->runs, run, run_len);
    if (*ret)
        return 0;
    if (s->runs.count >= s->max_runs)
        return -ENOSPC;
    return strmap_put(&s->runs, run, run_len, ret);
}
