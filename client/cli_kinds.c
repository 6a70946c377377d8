/* cli_kinds: PR curves, meshes, layouts and projector configs for collect
 * and export (see cli_kinds.h). */
#include "cli_kinds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_filter.h"
#include "plugins.pb-c.h"
#include "value_json.h"

/* ---- PR curves ---------------------------------------------------------- */

const char *const cli_pr_cell_names[CLI_PR_CELLS] = {
    "threshold",      "precision",      "recall",         "true_positives",
    "false_positives", "true_negatives", "false_negatives",
};

bool cli_pr_curve(const struct decoded_value *v, size_t *ret_width, size_t *ret_kept)
{
    if (v->kind != VALUE_TENSOR || !v->plugin || strcmp(v->plugin, "pr_curves") != 0 ||
        v->shape.rank != 2 || v->shape.dims[0] != 6 || v->shape.dims[1] < 1 || !v->numbers ||
        v->n_numbers != 6 * (size_t)v->shape.dims[1])
        return false;
    size_t k = (size_t)v->shape.dims[1];
    /* TensorBoard: positives = TP.astype(int) + FP.astype(int), cut while
     * the last is 0 and more than one is left. Counts are >= 0, so a
     * truncated sum is 0 exactly when both are below 1 (NaN: not below). */
    size_t end = k - 1;
    while (end > 0 && v->numbers[end] < 1 && v->numbers[k + end] < 1 &&
           v->numbers[end] > -1 && v->numbers[k + end] > -1)
        end--;
    *ret_width = k;
    *ret_kept = end + 1;
    return true;
}

double cli_pr_threshold(size_t i, size_t width)
{
    if (width < 2)
        return 0.0;
    if (i + 1 == width)
        return 1.0;
    return (double)i * (1.0 / (double)(width - 1));
}

void cli_pr_cells(const struct decoded_value *v, size_t i, bool full,
                  char cells[CLI_PR_CELLS][48])
{
    size_t k = (size_t)v->shape.dims[1];
    value_format_double(cells[0], 48, cli_pr_threshold(i, k));
    /* Stored rows: TP 0, FP 1, TN 2, FN 3, precision 4, recall 5. */
    static const int row[CLI_PR_CELLS - 1] = {4, 5, 0, 1, 2, 3};
    for (size_t c = 1; c < CLI_PR_CELLS; c++)
        cli_format_scalar(cells[c], 48, v->numbers[(size_t)row[c - 1] * k + i], v->dtype, full);
}

/* ---- meshes ------------------------------------------------------------- */

void cli_mesh_part_done(struct cli_mesh_part *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->config);
    memset(p, 0, sizeof *p);
}

int cli_mesh_part(const struct decoded_value *v, const char *tag, struct cli_mesh_part *ret)
{
    static const char *const suffix[4] = {"", "_VERTEX", "_FACE", "_COLOR"};
    memset(ret, 0, sizeof *ret);
    if (v->kind != VALUE_TENSOR || !v->plugin || strcmp(v->plugin, "mesh") != 0 ||
        v->shape.rank != 3 || v->shape.dims[2] != 3 || !v->numbers)
        return 0;
    Tensorboard__MeshPluginData *m = NULL;
    if (v->meta.content && v->meta.content_len)
        m = tensorboard__mesh_plugin_data__unpack(NULL, v->meta.content_len, v->meta.content);
    size_t tl = strlen(tag);
    int part = m ? m->content_type : 0;
    for (int p = 1; part == 0 && p <= 3; p++) {
        size_t sl = strlen(suffix[p]);
        if (tl > sl && strcmp(tag + tl - sl, suffix[p]) == 0)
            part = p;
    }
    if (part < 1 || part > 3) {
        tensorboard__mesh_plugin_data__free_unpacked(m, NULL);
        return 0;
    }
    size_t sl = strlen(suffix[part]);
    bool named = m && m->name && *m->name;
    ret->part = part;
    ret->name = named ? strdup(m->name)
                      : strndup(tag, tl > sl && strcmp(tag + tl - sl, suffix[part]) == 0
                                         ? tl - sl : tl);
    ret->config = strdup(m && m->json_config ? m->json_config : "");
    ret->samples = (size_t)v->shape.dims[0];
    ret->points = (size_t)v->shape.dims[1];
    tensorboard__mesh_plugin_data__free_unpacked(m, NULL);
    if (!ret->name || !ret->config) {
        cli_mesh_part_done(ret);
        return -ENOMEM;
    }
    return 1;
}

bool cli_mesh_acc_other(const struct cli_mesh_acc *acc, const struct logdir_reader_item *it)
{
    return acc->run && (strcmp(acc->run, it->run) != 0 || acc->step != it->event->step);
}

void cli_mesh_acc_reset(struct cli_mesh_acc *acc)
{
    if (!acc)
        return;
    for (size_t i = 0; i < acc->n; i++) {
        struct cli_mesh *m = &acc->m[i];
        free(m->name);
        free(m->config);
        free(m->tag);
        for (int p = 0; p < 4; p++)
            free(m->part[p].v);
    }
    free(acc->m);
    free(acc->run);
    bool numbers = acc->numbers;
    memset(acc, 0, sizeof *acc);
    acc->numbers = numbers;
}

int cli_mesh_acc_add(struct cli_mesh_acc *acc, const struct logdir_reader_item *it, size_t i)
{
    const char *tag = it->event->summary->value[i]->tag;
    struct cli_mesh_part p;
    int r = cli_mesh_part(&it->values[i], tag ? tag : "", &p);
    if (r <= 0)
        return r;
    if (!acc->run) {
        if (!(acc->run = strdup(it->run))) {
            cli_mesh_part_done(&p);
            return -ENOMEM;
        }
        acc->step = it->event->step;
        acc->wall_time = it->event->wall_time;
    }
    /* The latest mesh of this name (and sample count) without this part. */
    struct cli_mesh *m = NULL;
    for (size_t k = acc->n; !m && k-- > 0;)
        if (strcmp(acc->m[k].name, p.name) == 0 && acc->m[k].samples == p.samples &&
            !acc->m[k].part[p.part].points)
            m = &acc->m[k];
    if (!m && acc->n < CLI_MESH_MAX_PENDING) {
        struct cli_mesh *nm = realloc(acc->m, (acc->n + 1) * sizeof *nm);
        if (!nm) {
            cli_mesh_part_done(&p);
            return -ENOMEM;
        }
        acc->m = nm;
        m = &acc->m[acc->n++];
        memset(m, 0, sizeof *m);
        m->name = p.name;
        m->config = p.config;
        m->tag = strdup(tag ? tag : "");
        m->samples = p.samples;
        p.name = p.config = NULL;
        if (!m->tag) {
            cli_mesh_part_done(&p);
            return -ENOMEM;
        }
    }
    r = 1;
    if (m) {
        m->part[p.part].points = p.points;
        size_t n = it->values[i].n_numbers;
        if (acc->numbers && n && (m->part[p.part].v = malloc(n * sizeof(double))))
            memcpy(m->part[p.part].v, it->values[i].numbers, n * sizeof(double));
        else if (acc->numbers && n)
            r = -ENOMEM;
    }
    cli_mesh_part_done(&p);
    return r;
}

/* ---- custom scalar layouts ---------------------------------------------- */

Tensorboard__Layout *cli_layout(const struct decoded_value *v)
{
    if (!v->plugin || strcmp(v->plugin, "custom_scalars") != 0 || v->n_strings != 1 ||
        v->shape.rank != 0)
        return NULL;
    return tensorboard__layout__unpack(NULL, v->strings[0].len, v->strings[0].data);
}

const char *cli_layout_chart_kind(const Tensorboard__Chart *c)
{
    switch (c->content_case) {
    case TENSORBOARD__CHART__CONTENT_MULTILINE: return "multiline";
    case TENSORBOARD__CHART__CONTENT_MARGIN: return "margin";
    default: return "";
    }
}

int cli_layout_chart_tags(struct buf *b, const Tensorboard__Chart *c)
{
    cJSON *a = cJSON_CreateArray();
    bool ok = a != NULL;
    if (ok && c->content_case == TENSORBOARD__CHART__CONTENT_MULTILINE && c->multiline) {
        for (size_t i = 0; ok && i < c->multiline->n_tag; i++)
            ok = cJSON_AddItemToArray(a, cJSON_CreateString(c->multiline->tag[i]));
    } else if (ok && c->content_case == TENSORBOARD__CHART__CONTENT_MARGIN && c->margin) {
        for (size_t i = 0; ok && i < c->margin->n_series; i++) {
            const Tensorboard__MarginChartContent__Series *s = c->margin->series[i];
            cJSON *o = cJSON_CreateObject();
            ok = o && cJSON_AddStringToObject(o, "value", s->value) &&
                 cJSON_AddStringToObject(o, "lower", s->lower) &&
                 cJSON_AddStringToObject(o, "upper", s->upper);
            if (!ok || !cJSON_AddItemToArray(a, o)) {
                cJSON_Delete(o);
                ok = false;
            }
        }
    }
    int r = ok ? value_json_print(b, a) : -ENOMEM;
    cJSON_Delete(a);
    return r;
}

/* ---- the embedding projector -------------------------------------------- */

int cli_projector_open(int dir_fd, const char *path)
{
    if (!path || !*path || path[0] == '/')
        return -EPERM;
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    int fd = dup(dir_fd);
    char *save = NULL, *next;
    char *comp = strtok_r(copy, "/", &save);
    while (fd >= 0 && comp) {
        next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, "..") == 0) {
            close(fd);
            fd = -1;
            errno = EPERM;
            break;
        }
        int nfd = openat(fd, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : 0));
        int e = errno;
        close(fd);
        fd = nfd;
        errno = e;
        comp = next;
    }
    int r = fd >= 0 ? fd : errno == ELOOP ? -EPERM : -errno;
    free(copy);
    return r;
}

int cli_projector_shape(int dir_fd, const struct projector_entry *e, uint64_t shape[2])
{
    shape[0] = shape[1] = 0;
    if (e->n_shape == 2) {
        shape[0] = e->shape[0];
        shape[1] = e->shape[1];
        return 0;
    }
    int fd = cli_projector_open(dir_fd, e->tensor_path);
    if (fd < 0)
        return fd;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    char chunk[1 << 16];
    size_t n;
    bool first = true, in_line = false;
    uint64_t tabs = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] == '\n') {
                if (in_line)
                    shape[0]++;
                if (in_line && first) {
                    shape[1] = tabs + 1;
                    first = false;
                }
                in_line = false;
            } else if (chunk[i] != '\r') {
                in_line = true;
                tabs += first && chunk[i] == '\t';
            }
        }
    }
    if (in_line) {
        shape[0]++;
        if (first)
            shape[1] = tabs + 1;
    }
    fclose(f);
    return 0;
}

int cli_projector_columns(int dir_fd, const struct projector_entry *e, struct buf *out)
{
    if (!e->metadata_path || !*e->metadata_path)
        return 0;
    int fd = cli_projector_open(dir_fd, e->metadata_path);
    if (fd < 0)
        return fd;
    char *line = malloc(CLI_PROJECTOR_MAX_HEADER + 1);
    ssize_t n = line ? read(fd, line, CLI_PROJECTOR_MAX_HEADER) : -1;
    int err = n < 0 ? (line ? -errno : -ENOMEM) : 0;
    close(fd);
    if (err) {
        free(line);
        return err;
    }
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    /* One column: no header row (TensorBoard's rule), nothing to name. */
    int r = 0;
    if (strchr(line, '\t')) {
        for (char *p = line; *p; p++)
            if (*p == '\t')
                *p = ',';
        r = buf_append_str(out, line);
    }
    free(line);
    return r;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted subdirectory names of dir_fd (no links); *ret owned. */
static int subdirs(int dir_fd, char ***ret, size_t *ret_n)
{
    int fd = dup(dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    rewinddir(d);
    char **v = NULL;
    size_t n = 0, cap = 0;
    int err = 0;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                err = -ENOMEM;
                break;
            }
            v = nv;
        }
        if (!(v[n] = strdup(de->d_name)))
            err = -ENOMEM;
        else
            n++;
    }
    closedir(d);
    if (err) {
        while (n > 0)
            free(v[--n]);
        free(v);
        return err;
    }
    if (n)
        qsort(v, n, sizeof *v, name_cmp);
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The config of one directory, when it has one. */
static int visit(int fd, const char *run, const struct cli_filter *f, cli_projector_fn fn,
                 void *arg)
{
    if (f && !cli_filter_run(f, run))
        return 0;
    int cfd = openat(fd, PROJECTOR_CONFIG_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd < 0)
        return errno == ENOENT ? 0 : fn(arg, run, fd, NULL, -errno);
    struct buf text;
    buf_init(&text, PROJECTOR_MAX_CONFIG);
    char chunk[1 << 14];
    ssize_t n;
    int err = 0;
    while (!err && (n = read(cfd, chunk, sizeof chunk)) != 0)
        err = n < 0 ? -errno : buf_append(&text, chunk, (size_t)n);
    close(cfd);
    struct projector_config c;
    memset(&c, 0, sizeof c);
    if (!err)
        err = projector_config_parse(&c, text.len ? (char *)text.data : "", text.len);
    buf_free(&text);
    int r = fn(arg, run, fd, err ? NULL : &c, err);
    projector_config_done(&c);
    return r;
}

static int walk(int fd, const char *run, unsigned depth, const struct cli_filter *f,
                cli_projector_fn fn, void *arg)
{
    int r = visit(fd, run, f, fn, arg);
    if (r < 0 || depth >= CLI_PROJECTOR_MAX_DEPTH)
        return r;
    char **names = NULL;
    size_t n = 0;
    if (subdirs(fd, &names, &n) < 0)
        return 0;   /* an unreadable directory holds no config we can show */
    for (size_t i = 0; i < n && r >= 0; i++) {
        int sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        char *child = strcmp(run, ".") == 0 ? strdup(names[i]) : NULL;
        if (!child && strcmp(run, ".") != 0) {
            size_t len = strlen(run) + strlen(names[i]) + 2;
            if ((child = malloc(len)))
                snprintf(child, len, "%s/%s", run, names[i]);
        }
        r = child ? walk(sub, child, depth + 1, f, fn, arg) : -ENOMEM;
        free(child);
        close(sub);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

int cli_projector_each(const char *logdir, const struct cli_filter *f, cli_projector_fn fn,
                       void *arg)
{
    int fd = open(logdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = walk(fd, ".", 0, f, fn, arg);
    close(fd);
    return r;
}
