/* cli_export_hparams: the hparams table of an export (see the header). */
#include "cli_export_hparams.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "strmap.h"
#include "value.h"
#include "value_json.h"
#include "fdio.h"

struct export_hparams {
    struct strmap last;       /* run NUL tag -> val.i64: the double's bits */
    struct strmap sessions;   /* run -> val.ptr: cJSON {"start":..., "end":...} */
    cJSON *experiment;        /* the latest "experiment" content */
};

struct export_hparams *export_hparams_new(void)
{
    struct export_hparams *h = calloc(1, sizeof *h);
    if (h) {
        strmap_init(&h->last);
        strmap_init(&h->sessions);
    }
    return h;
}

void export_hparams_free(struct export_hparams *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->sessions.cap; i++)
        if (h->sessions.slots[i].key)
            cJSON_Delete(h->sessions.slots[i].val.ptr);
    strmap_done(&h->sessions);
    strmap_done(&h->last);
    cJSON_Delete(h->experiment);
    free(h);
}

static int run_tag_key(struct buf *b, const char *run, const char *tag)
{
    buf_reset(b);
    int r = buf_append(b, run, strlen(run) + 1);
    return r ? r : buf_append(b, tag, strlen(tag));
}

int export_hparams_scalar(struct export_hparams *h, const char *run, const char *tag,
                          double value)
{
    struct buf k;
    buf_init(&k, BUF_NO_CAP);
    struct strmap_entry *e;
    int r = run_tag_key(&k, run, tag);
    if (!r && (r = strmap_put(&h->last, k.data, k.len, &e)) >= 0) {
        memcpy(&e->val.i64, &value, sizeof value);
        r = 0;
    }
    buf_free(&k);
    return r;
}

/* Replace (or add) item name of obj with a copy of src. */
static int put_copy(cJSON *obj, const char *name, const cJSON *src)
{
    cJSON *c = cJSON_Duplicate(src, true);
    if (!c)
        return -ENOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    if (!cJSON_AddItemToObject(obj, name, c)) {
        cJSON_Delete(c);
        return -ENOMEM;
    }
    return 0;
}

int export_hparams_value(struct export_hparams *h, const char *run,
                         const struct decoded_value *v)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(v->hparams, "experiment");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(v->hparams, "session_start_info");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(v->hparams, "session_end_info");
    if (exp) {
        cJSON *c = cJSON_Duplicate(exp, true);
        if (!c)
            return -ENOMEM;
        cJSON_Delete(h->experiment);
        h->experiment = c;
    }
    if (!start && !end)
        return 0;
    struct strmap_entry *e;
    int r = strmap_put(&h->sessions, run, strlen(run), &e);
    if (r < 0)
        return r;
    if (r == 1 && !(e->val.ptr = cJSON_CreateObject())) {
        strmap_remove(&h->sessions, run, strlen(run));
        return -ENOMEM;
    }
    cJSON *s = e->val.ptr;
    r = start ? put_copy(s, "start", start) : 0;
    return r ? r : end ? put_copy(s, "end", end) : 0;
}

static int csv_field(struct buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return buf_append_str(b, s);
    int r = buf_append(b, "\"", 1);
    for (; *s && !r; s++)
        r = *s == '"' ? buf_append(b, "\"\"", 2) : buf_append(b, s, 1);
    return r ? r : buf_append(b, "\"", 1);
}

/* A JSON value as a cell: strings bare, numbers shortest, true/false. */
static int json_cell(struct buf *b, const cJSON *j)
{
    if (!j || cJSON_IsNull(j))
        return 0;
    if (cJSON_IsString(j))
        return csv_field(b, j->valuestring);
    if (cJSON_IsBool(j))
        return buf_append_str(b, cJSON_IsTrue(j) ? "true" : "false");
    if (cJSON_IsNumber(j)) {
        char num[64];
        value_format_double(num, sizeof num, j->valuedouble);
        return buf_append_str(b, num);
    }
    struct buf tmp;
    buf_init(&tmp, BUF_NO_CAP);
    int r = value_json_print(&tmp, j);
    if (!r) r = buf_append(&tmp, "", 1);
    if (!r) r = csv_field(b, (char *)tmp.data);
    buf_free(&tmp);
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
    const char **v;
    size_t n, cap;
    struct strmap seen;
};

/* Add name once (borrowed: it lives in the JSON). -ENOMEM. */
static int names_add(struct names *nm, const char *name)
{
    struct strmap_entry *e;
    if (!name)
        return 0;
    int r = strmap_put(&nm->seen, name, strlen(name), &e);
    if (r <= 0)
        return r;
    if (nm->n == nm->cap) {
        size_t cap = nm->cap ? nm->cap * 2 : 16;
        const char **v = realloc(nm->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        nm->v = v;
        nm->cap = cap;
    }
    nm->v[nm->n++] = name;
    return 0;
}

/* The hparam names: the experiment's, then the sessions' others, sorted. */
static int hparam_names(const struct export_hparams *h, struct names *nm)
{
    const cJSON *it;
    int r = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->experiment, "hparam_infos"))
        if ((r = names_add(nm, cJSON_GetStringValue(
                 cJSON_GetObjectItemCaseSensitive(it, "name")))) < 0)
            return r;
    size_t from_exp = nm->n;
    for (size_t i = 0; i < h->sessions.cap; i++) {
        if (!h->sessions.slots[i].key)
            continue;
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(h->sessions.slots[i].val.ptr,
                                                              "start");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(start, "hparams"))
            if ((r = names_add(nm, it->string)) < 0)
                return r;
    }
    if (nm->n - from_exp > 1)
        qsort(nm->v + from_exp, nm->n - from_exp, sizeof *nm->v, cmp_str);
    return 0;
}

/* The metric of the experiment's metric_infos item m as a column name
 * ("group/tag" when it names a group) and the run its scalars are in. */
static int metric_of(const cJSON *m, const char *run, struct buf *col, struct buf *in_run)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const char *tag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(name, "tag"));
    const char *group = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(name, "group"));
    buf_reset(col);
    buf_reset(in_run);
    int r = group && *group ? buf_printf(col, "%s/%s", group, tag ? tag : "")
                            : buf_printf(col, "%s", tag ? tag : "");
    if (!r && run)
        r = group && *group ? strcmp(run, ".") == 0 ? buf_printf(in_run, "%s", group)
                                                   : buf_printf(in_run, "%s/%s", run, group)
                            : buf_printf(in_run, "%s", run);
    return r;
}

/* One session's row. */
static int session_row(const struct export_hparams *h, struct buf *b, const char *run,
                       const cJSON *s, const struct names *nm, struct buf *col,
                       struct buf *in_run)
{
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(s, "start");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
    int r = csv_field(b, run);
    const char *fixed[][2] = {{"start", "group_name"}, {"end", "status"},
                              {"start", "start_time_secs"}, {"end", "end_time_secs"}};
    for (size_t i = 0; i < 4 && !r; i++) {
        r = buf_append(b, ",", 1);
        const cJSON *from = fixed[i][0][0] == 's' ? start : end;
        if (!r) r = json_cell(b, cJSON_GetObjectItemCaseSensitive(from, fixed[i][1]));
    }
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(start, "hparams");
    for (size_t i = 0; i < nm->n && !r; i++) {
        r = buf_append(b, ",", 1);
        if (!r) r = json_cell(b, cJSON_GetObjectItemCaseSensitive(hp, nm->v[i]));
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(h->experiment, "metric_infos")) {
        if (r || (r = buf_append(b, ",", 1)) || (r = metric_of(m, run, col, in_run)))
            break;
        /* The key of the last scalars: "run\0tag". */
        if ((r = buf_append(in_run, "", 1)))
            break;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        const char *tag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(name, "tag"));
        if (!tag || (r = buf_append_str(in_run, tag)))
            continue;
        const struct strmap_entry *e = strmap_get(&h->last, in_run->data, in_run->len);
        if (e) {
            double d;
            memcpy(&d, &e->val.i64, sizeof d);
            char num[64];
            value_format_double(num, sizeof num, d);
            r = buf_append_str(b, num);
        }
    }
    return r ? r : buf_append(b, "\n", 1);
}

int export_hparams_write(struct export_hparams *h, int out_fd)
{
    if (h->sessions.count == 0)
        return 0;
    struct names nm = {0};
    strmap_init(&nm.seen);
    struct buf b, col, in_run;
    buf_init(&b, BUF_NO_CAP);
    buf_init(&col, BUF_NO_CAP);
    buf_init(&in_run, BUF_NO_CAP);
    const char **runs = calloc(h->sessions.count, sizeof *runs);
    int r = runs ? hparam_names(h, &nm) : -ENOMEM;
    if (!r) r = buf_append_str(&b, "run,group,status,start_time,end_time");
    for (size_t i = 0; i < nm.n && !r; i++) {
        r = buf_append(&b, ",", 1);
        if (!r) r = csv_field(&b, nm.v[i]);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(h->experiment, "metric_infos")) {
        if (r || (r = buf_append(&b, ",", 1)) || (r = metric_of(m, NULL, &col, &in_run)) ||
            (r = buf_append(&col, "", 1)))
            break;
        r = csv_field(&b, (char *)col.data);
    }
    if (!r) r = buf_append(&b, "\n", 1);
    size_t n = 0;
    for (size_t i = 0; i < h->sessions.cap && runs; i++)
        if (h->sessions.slots[i].key)
            runs[n++] = h->sessions.slots[i].key;
    if (runs && n > 1)
        qsort(runs, n, sizeof *runs, cmp_str);
    for (size_t i = 0; i < n && !r; i++)
        r = session_row(h, &b, runs[i], strmap_get(&h->sessions, runs[i],
                        strlen(runs[i]))->val.ptr, &nm, &col, &in_run);
    if (!r) {
        int fd = openat(out_fd, "hparams.csv", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                        O_CLOEXEC, 0666);
        r = fd < 0 ? -errno : fdio_write_all(fd, b.data, b.len);
        if (fd >= 0 && close(fd) < 0 && !r)
            r = -errno;
    }
    free(runs);
    free(nm.v);
    strmap_done(&nm.seen);
    buf_free(&b);
    buf_free(&col);
    buf_free(&in_run);
    return r;
}
