/* cli_export_kinds: file contents of PR curves, meshes and layouts for
 * export (see cli_export_kinds.h). */
#include "cli_export_kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_export_names.h"
#include "cli_filter.h"
#include "fdio.h"
#include "layout.pb-c.h"
#include "value_json.h"

int cli_export_pr_csv(struct buf *out, const struct decoded_value *v, bool full)
{
    size_t width, kept;
    if (!cli_pr_curve(v, &width, &kept))
        return -EINVAL;
    int r = 0;
    for (size_t c = 0; !r && c < CLI_PR_CELLS; c++)
        r = buf_printf(out, "%s%s", c ? "," : "", cli_pr_cell_names[c]);
    if (!r) r = buf_append(out, "\n", 1);
    for (size_t k = 0; !r && k < kept; k++) {
        char cells[CLI_PR_CELLS][48];
        cli_pr_cells(v, k, full, cells);
        for (size_t c = 0; !r && c < CLI_PR_CELLS; c++)
            r = buf_printf(out, "%s%s", c ? "," : "", cells[c]);
        if (!r) r = buf_append(out, "\n", 1);
    }
    return r;
}

/* s on one line: line breaks (which JSON allows only between tokens) as
 * spaces. */
static int one_line(struct buf *b, const char *s)
{
    size_t start = b->len;
    int r = buf_append_str(b, s);
    for (size_t i = start; !r && i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
    return r;
}

int cli_export_mesh_ply(struct buf *out, const struct cli_mesh *m, size_t k, const char *run,
                        int64_t step)
{
    size_t n = m->part[CLI_MESH_VERTEX].points;
    size_t f = m->part[CLI_MESH_FACE].v ? m->part[CLI_MESH_FACE].points : 0;
    const double *rgb = m->part[CLI_MESH_COLOR].points == n ? m->part[CLI_MESH_COLOR].v : NULL;
    int r = buf_append_str(out, "ply\nformat ascii 1.0\ncomment tfevents export: mesh ");
    if (!r) r = one_line(out, m->name);
    if (!r) r = buf_append_str(out, ", run ");
    if (!r) r = one_line(out, run);
    if (!r) r = buf_printf(out, ", step %" PRId64 ", sample %zu\n", step, k);
    if (!r && *m->config) {
        r = buf_append_str(out, "comment config ");
        if (!r) r = one_line(out, m->config);
        if (!r) r = buf_append(out, "\n", 1);
    }
    if (!r) r = buf_printf(out, "element vertex %zu\nproperty float x\nproperty float y\n"
                           "property float z\n", n);
    if (!r && rgb)
        r = buf_append_str(out, "property uchar red\nproperty uchar green\n"
                           "property uchar blue\n");
    if (!r && f)
        r = buf_printf(out, "element face %zu\nproperty list uchar int vertex_indices\n", f);
    if (!r) r = buf_append_str(out, "end_header\n");
    const double *xyz = m->part[CLI_MESH_VERTEX].v + k * n * 3;
    for (size_t i = 0; !r && i < n; i++) {
        char num[3][48];
        for (int c = 0; c < 3; c++)
            cli_format_scalar(num[c], sizeof num[c], xyz[i * 3 + c],
                              TENSORBOARD__DATA_TYPE__DT_FLOAT, false);
        r = buf_printf(out, "%s %s %s", num[0], num[1], num[2]);
        if (!r && rgb) {
            const double *c = rgb + (k * n + i) * 3;
            r = buf_printf(out, " %.0f %.0f %.0f", c[0], c[1], c[2]);
        }
        if (!r) r = buf_append(out, "\n", 1);
    }
    const double *idx = f ? m->part[CLI_MESH_FACE].v + k * f * 3 : NULL;
    for (size_t i = 0; !r && i < f; i++)
        r = buf_printf(out, "3 %.0f %.0f %.0f\n", idx[i * 3], idx[i * 3 + 1], idx[i * 3 + 2]);
    return r;
}

int cli_export_layout_json(struct buf *out, const struct decoded_value *v)
{
    if (!v->plugin || strcmp(v->plugin, "custom_scalars") != 0 || v->n_strings != 1 ||
        v->shape.rank != 0)
        return -EINVAL;
    bool bad = false;
    cJSON *j = value_message_json(&tensorboard__layout__descriptor, v->strings[0].data,
                                  v->strings[0].len, &bad);
    if (!j)
        return bad ? -EINVAL : -ENOMEM;
    int r = value_json_print(out, j);
    cJSON_Delete(j);
    return r ? r : buf_append(out, "\n", 1);
}

/* ---- projector ---------------------------------------------------------- */

/* Copy src (closed here) to a new file name in dfd. */
static int copy_to(int src, int dfd, const char *name)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = -errno;
        close(src);
        return e;
    }
    char chunk[1 << 16];
    ssize_t n;
    int r = 0;
    while (!r && (n = read(src, chunk, sizeof chunk)) != 0)
        r = n < 0 ? -errno : fdio_write_all(fd, chunk, (size_t)n);
    if (close(fd) < 0 && !r)
        r = -errno;
    close(src);
    return r;
}

/* The step of a tensor name "<tag>:<digits>" (how tfeventsd and
 * tensorboardX name them), else "". */
static void name_step(char out[24], const char *name)
{
    const char *colon = strrchr(name, ':');
    out[0] = '\0';
    if (!colon || !colon[1] || strlen(colon + 1) > 19 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return;
    snprintf(out, 24, "%lld", strtoll(colon + 1, NULL, 10));
}

/* One embedding's files into its directory edir (dfd); entry ne gets the
 * copies' paths (relative to the projector directory). */
static int copy_embedding(const struct projector_entry *e, int src_fd, int dfd,
                          const char *edir, const char *out_rel, struct projector_entry *ne,
                          cli_export_index_fn index, void *arg)
{
    const char *paths[3] = {e->tensor_path, e->metadata_path, e->sprite_path};
    static const char *const names[3] = {"tensors.tsv", "metadata.tsv", "sprite.png"};
    static const char *const kinds[3] = {"embedding", "embedding_metadata", "embedding_sprite"};
    char **dst[3] = {&ne->tensor_path, &ne->metadata_path, &ne->sprite_path};
    char step[24];
    name_step(step, e->tensor_name ? e->tensor_name : "");
    struct buf rel;
    buf_init(&rel, BUF_NO_CAP);
    int r = 0;
    for (int i = 0; !r && i < 3; i++) {
        if (!paths[i] || !*paths[i])
            continue;
        int src = cli_projector_open(src_fd, paths[i]);
        if (src < 0) {
            cli_error("%s: embedding %s: %s not copied: %s", out_rel, e->tensor_name,
                      paths[i], src == -EPERM ? "outside its run directory" : strerror(-src));
            continue;
        }
        if ((r = copy_to(src, dfd, names[i])) < 0)
            break;
        buf_reset(&rel);
        r = buf_printf(&rel, "%s/%s", edir, names[i]);
        if (!r && !(*dst[i] = strdup((char *)rel.data)))
            r = -ENOMEM;
        buf_reset(&rel);
        if (!r) r = buf_printf(&rel, "%s/projector/%s/%s", out_rel, edir, names[i]);
        if (!r) r = index(arg, e->tensor_name, step, kinds[i], (char *)rel.data);
    }
    buf_free(&rel);
    return r;
}

int cli_export_projector(struct export_names *names, const char *out_rel, int out_fd,
                         int src_fd, const struct projector_config *c,
                         const struct cli_filter *f, cli_export_index_fn index, void *arg,
                         uint64_t *count)
{
    struct projector_config out;
    memset(&out, 0, sizeof out);
    struct buf scope;
    buf_init(&scope, BUF_NO_CAP);
    int pfd = -1, r = buf_printf(&scope, "%s/projector", out_rel);
    for (size_t i = 0; !r && i < c->n; i++) {
        const struct projector_entry *e = &c->entries[i];
        if (!e->tensor_name || !cli_filter_tag(f, e->tensor_name))
            continue;
        if (pfd < 0) {
            if (mkdirat(out_fd, "projector", 0777) < 0 && errno != EEXIST)
                r = -errno;
            else if ((pfd = openat(out_fd, "projector", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                   O_CLOEXEC)) < 0)
                r = -errno;
            if (!r) r = export_names_reserve(names, (char *)scope.data, PROJECTOR_CONFIG_NAME);
            if (r)
                break;
        }
        const char *edir;
        if ((r = export_names_get(names, (char *)scope.data, e->tensor_name, NULL, &edir)) < 0)
            break;
        if (mkdirat(pfd, edir, 0777) < 0 && errno != EEXIST) {
            r = -errno;
            break;
        }
        int dfd = openat(pfd, edir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
            r = -errno;
            break;
        }
        struct projector_entry ne = {.tensor_name = e->tensor_name, .n_shape = e->n_shape,
                                     .n_sprite_dim = e->n_sprite_dim};
        memcpy(ne.shape, e->shape, sizeof ne.shape);
        memcpy(ne.sprite_dim, e->sprite_dim, sizeof ne.sprite_dim);
        r = copy_embedding(e, src_fd, dfd, edir, out_rel, &ne, index, arg);
        close(dfd);
        /* Only an embedding whose tensor was copied is listed (one read
         * from a checkpoint has no TSV to copy); an empty directory goes. */
        if (!r && !ne.tensor_path && !ne.metadata_path && !ne.sprite_path)
            unlinkat(pfd, edir, AT_REMOVEDIR);
        /* put() copies; ne's tensor name is borrowed from e. */
        if (!r && ne.tensor_path) {
            r = projector_config_put(&out, &ne);
            if (!r)
                (*count)++;
        }
        free(ne.tensor_path);
        free(ne.metadata_path);
        free(ne.sprite_path);
    }
    if (!r && pfd >= 0) {
        struct buf text;
        buf_init(&text, BUF_NO_CAP);
        r = projector_config_text(&text, &out);
        int fd = r ? -1 : openat(pfd, PROJECTOR_CONFIG_NAME, O_WRONLY | O_CREAT | O_EXCL |
                                 O_NOFOLLOW | O_CLOEXEC, 0666);
        if (!r && fd < 0)
            r = -errno;
        if (!r) r = fdio_write_all(fd, text.data, text.len);
        if (fd >= 0 && close(fd) < 0 && !r)
            r = -errno;
        buf_reset(&scope);
        if (!r) r = buf_printf(&scope, "%s/projector/%s", out_rel, PROJECTOR_CONFIG_NAME);
        if (!r) r = index(arg, "", "", "projector_config", (char *)scope.data);
        buf_free(&text);
    }
    if (pfd >= 0)
        close(pfd);
    buf_free(&scope);
    projector_config_done(&out);
    return r;
}
