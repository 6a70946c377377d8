#include "logdir_steps.h"

#include <errno.h>
#include <string.h>

void logdir_steps_init(struct logdir_steps *s, unsigned max_tags, unsigned max_runs,
                       size_t max_key)
{
    strmap_init(&s->tags);
    strmap_init(&s->runs);
    buf_init(&s->key, max_key);
    s->max_tags = max_tags;
    s->max_runs = max_runs;
}

void logdir_steps_done(struct logdir_steps *s)
{
    if (!s)
        return;
    strmap_done(&s->tags);
    strmap_done(&s->runs);
    buf_free(&s->key);
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
