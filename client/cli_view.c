/* cli_view: TensorBoard's view of a logdir's rows (see cli_view.h). */
#include "cli_view.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

struct vrow {
    char *data;
    size_t len;
    int64_t step;
    bool dropped;
};

/* The rows of one (run, tag), as indices into the view's rows. */
struct vtag {
    size_t *idx;
    size_t n, cap;
    int64_t last_step;
    bool has_last;
};

struct vrun {
    struct vtag **tags;
    size_t n, cap;
};

struct cli_view {
    struct vrow *rows;
    size_t n_rows, cap_rows;
    struct strmap runs;          /* run -> struct vrun * */
    struct strmap tags;          /* run NUL tag -> struct vtag * */
};

struct cli_view *cli_view_new(void)
{
    struct cli_view *v = calloc(1, sizeof *v);
    if (v) {
        strmap_init(&v->runs);
        strmap_init(&v->tags);
    }
    return v;
}

void cli_view_free(struct cli_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_rows; i++)
        free(v->rows[i].data);
    free(v->rows);
    for (size_t i = 0; i < v->tags.cap; i++)
        if (v->tags.slots[i].key) {
            struct vtag *t = v->tags.slots[i].val.ptr;
            free(t->idx);
            free(t);
        }
    for (size_t i = 0; i < v->runs.cap; i++)
        if (v->runs.slots[i].key) {
            struct vrun *r = v->runs.slots[i].val.ptr;
            free(r->tags);
            free(r);
        }
    strmap_done(&v->runs);
    strmap_done(&v->tags);
    free(v);
}

/* Grow *p (of *cap elements of size sz) to hold n+1. */
static int grow(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*(void **)p, c * sz);
    if (!q)
        return -ENOMEM;
    *(void **)p = q;
    *cap = c;
    return 0;
}

static struct vrun *find_run(struct cli_view *v, const char *run, bool create)
{
    struct strmap_entry *e = strmap_get(&v->runs, run, strlen(run));
    if (e || !create)
        return e ? e->val.ptr : NULL;
    struct vrun *r = calloc(1, sizeof *r);
    if (!r || strmap_put(&v->runs, run, strlen(run), &e) < 0) {
        free(r);
        return NULL;
    }
    e->val.ptr = r;
    return r;
}

static struct vtag *find_tag(struct cli_view *v, const char *run, const char *tag, bool create)
{
    size_t rl = strlen(run), tl = strlen(tag);
    char stackkey[512];
    char *key = rl + tl + 1 <= sizeof stackkey ? stackkey : malloc(rl + tl + 1);
    if (!key)
        return NULL;
    memcpy(key, run, rl);
    key[rl] = '\0';
    memcpy(key + rl + 1, tag, tl);
    struct strmap_entry *e = strmap_get(&v->tags, key, rl + tl + 1);
    struct vtag *t = e ? e->val.ptr : NULL;
    if (!t && create) {
        struct vrun *r = find_run(v, run, true);
        t = calloc(1, sizeof *t);
        if (!r || !t || grow(&r->tags, &r->cap, r->n, sizeof *r->tags) < 0 ||
            strmap_put(&v->tags, key, rl + tl + 1, &e) < 0) {
            free(t);
            t = NULL;
        } else {
            e->val.ptr = t;
            r->tags[r->n++] = t;
        }
    }
    if (key != stackkey)
        free(key);
    return t;
}

/* Drop t's rows with step >= step. */
static void purge_tag(struct cli_view *v, struct vtag *t, int64_t step)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct vrow *row = &v->rows[t->idx[i]];
        if (row->step >= step) {
            row->dropped = true;
            free(row->data);
            row->data = NULL;
        } else {
            t->idx[k++] = t->idx[i];
        }
    }
    t->n = k;
}

int cli_view_event(struct cli_view *v, const struct logdir_reader_item *it)
{
    const Tensorboard__Event *ev = it->event;
    if (it->purge && it->purge_all_tags) {
        struct vrun *r = find_run(v, it->run, false);
        for (size_t i = 0; r && i < r->n; i++)
            purge_tag(v, r->tags[i], it->purge_step);
    }
    if (ev->what_case != TENSORBOARD__EVENT__WHAT_SUMMARY || !ev->summary)
        return 0;
    for (size_t i = 0; i < ev->summary->n_value; i++) {
        const char *tag = ev->summary->value[i]->tag;
        struct vtag *t = find_tag(v, it->run, tag ? tag : "", false);
        if (!t)
            continue;
        if (it->purge && !it->purge_all_tags)
            purge_tag(v, t, it->purge_step);
        /* The Rust loader's per-tag rule: a step below the tag's last. */
        if (t->has_last && ev->step < t->last_step)
            purge_tag(v, t, ev->step);
    }
    return 0;
}

int cli_view_add(struct cli_view *v, const char *run, const char *tag, int64_t step,
                 const void *data, size_t len)
{
    if (v->n_rows >= CLI_VIEW_MAX_ROWS)
        return -E2BIG;
    struct vtag *t = find_tag(v, run, tag, true);
    if (!t || grow(&v->rows, &v->cap_rows, v->n_rows, sizeof *v->rows) < 0 ||
        grow(&t->idx, &t->cap, t->n, sizeof *t->idx) < 0)
        return -ENOMEM;
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, data, len);
    copy[len] = '\0';
    v->rows[v->n_rows] = (struct vrow){.data = copy, .len = len, .step = step};
    t->idx[t->n++] = v->n_rows++;
    t->last_step = step;
    t->has_last = true;
    return 0;
}

int cli_view_each(struct cli_view *v, int (*fn)(void *arg, const char *data, size_t len),
                  void *arg)
{
    for (size_t i = 0; i < v->n_rows; i++) {
        if (v->rows[i].dropped)
            continue;
        int r = fn(arg, v->rows[i].data, v->rows[i].len);
        if (r < 0)
            return r;
    }
    return 0;
}
