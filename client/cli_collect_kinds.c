/* cli_collect_kinds: collect's rows of PR curves, meshes, layouts and
 * projector embeddings (see cli_collect_kinds.h). */
#include "cli_collect_kinds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cli_filter.h"
#include "cli_kinds.h"
#include "value_json.h"

static const char *const pr_names[] = {
    "run", "tag", "step", "wall_time", "threshold", "precision", "recall",
    "true_positives", "false_positives", "true_negatives", "false_negatives"};
const struct cli_kind_cols cli_kind_pr_curve_cols = {pr_names, 11, 0x7FCu, 0};

static const char *const mesh_names[] = {"run", "name", "step", "wall_time", "samples",
                                         "vertices", "faces", "colors", "config"};
const struct cli_kind_cols cli_kind_mesh_cols = {mesh_names, 9, 0xFCu, 0};

static const char *const layout_names[] = {"run", "step", "wall_time", "category",
                                           "closed", "chart", "kind", "tags"};
const struct cli_kind_cols cli_kind_layout_cols = {layout_names, 8, 0x6u, 0x90u};

static const char *const projector_names[] = {
    "run", "tensor_name", "shape", "tensor_path", "metadata_path", "metadata_columns",
    "sprite_path", "sprite_size"};
const struct cli_kind_cols cli_kind_projector_cols = {projector_names, 8, 0, 0x4u};

/* The run, step and wall_time cells of it. */
struct head {
    char step[24], wall[48];
};

static void head_of(struct head *h, const struct logdir_reader_item *it)
{
    snprintf(h->step, sizeof h->step, "%" PRId64, it->event->step);
    value_format_double(h->wall, sizeof h->wall, it->event->wall_time);
}

static const char *tag_of(const struct logdir_reader_item *it, size_t i)
{
    const char *t = it->event->summary->value[i]->tag;
    return t ? t : "";
}

int cli_kind_pr_curve_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it)
{
    struct head h;
    head_of(&h, it);
    int r = 0;
    for (size_t i = 0; r >= 0 && i < it->n_values; i++) {
        size_t width, kept;
        const char *tag = tag_of(it, i);
        if (!cli_pr_curve(&it->values[i], &width, &kept) || !cli_filter_tag(o->f, tag))
            continue;
        for (size_t k = 0; r >= 0 && k < kept; k++) {
            char num[CLI_PR_CELLS][48];
            cli_pr_cells(&it->values[i], k, o->full, num);
            char *cells[11] = {(char *)it->run, (char *)tag, h.step, h.wall};
            for (size_t c = 0; c < CLI_PR_CELLS; c++)
                cells[4 + c] = num[c];
            r = o->row(o->arg, tag, it->event->step, cells);
        }
    }
    return r;
}

int cli_kind_mesh_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it,
                       struct cli_mesh_acc *acc)
{
    int r = 0;
    if (cli_mesh_acc_other(acc, it))
        r = cli_kind_mesh_flush(o, acc);
    for (size_t i = 0; r >= 0 && i < it->n_values; i++)
        if (cli_filter_tag(o->f, tag_of(it, i)))
            r = cli_mesh_acc_add(acc, it, i);
    return r < 0 ? r : 0;
}

int cli_kind_mesh_flush(const struct cli_kind_out *o, struct cli_mesh_acc *acc)
{
    char step[24], wall[48];
    snprintf(step, sizeof step, "%" PRId64, acc->step);
    value_format_double(wall, sizeof wall, acc->wall_time);
    int r = 0;
    for (size_t k = 0; r >= 0 && k < acc->n; k++) {
        const struct cli_mesh *m = &acc->m[k];
        char n[4][24];
        snprintf(n[0], sizeof n[0], "%zu", m->samples);
        for (int p = 1; p <= 3; p++)
            snprintf(n[p], sizeof n[p], "%zu", m->part[p].points);
        char *cells[9] = {acc->run, m->name, step, wall, n[0], n[1], n[2], n[3], m->config};
        r = o->row(o->arg, m->tag, acc->step, cells);
    }
    cli_mesh_acc_reset(acc);
    return r;
}

int cli_kind_layout_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it)
{
    struct head h;
    head_of(&h, it);
    struct buf tags;
    buf_init(&tags, BUF_NO_CAP);
    int r = 0;
    for (size_t i = 0; r >= 0 && i < it->n_values; i++) {
        const char *tag = tag_of(it, i);
        if (!cli_filter_tag(o->f, tag))
            continue;
        Tensorboard__Layout *l = cli_layout(&it->values[i]);
        for (size_t c = 0; l && r >= 0 && c < l->n_category; c++) {
            const Tensorboard__Category *cat = l->category[c];
            for (size_t k = 0; r >= 0 && k < cat->n_chart; k++) {
                buf_reset(&tags);
                r = cli_layout_chart_tags(&tags, cat->chart[k]);
                if (r >= 0) r = buf_append(&tags, "", 1);
                if (r < 0)
                    break;
                char *cells[8] = {(char *)it->run, h.step, h.wall, cat->title,
                                  cat->closed ? "true" : "false", cat->chart[k]->title,
                                  (char *)cli_layout_chart_kind(cat->chart[k]),
                                  (char *)tags.data};
                r = o->row(o->arg, tag, it->event->step, cells);
            }
        }
        if (l)
            tensorboard__layout__free_unpacked(l, NULL);
    }
    buf_free(&tags);
    return r;
}

struct proj_walk {
    const struct cli_kind_out *o;
    bool *bad;
};

static int projector_row(void *arg, const char *run, int run_fd,
                         const struct projector_config *c, int err)
{
    struct proj_walk *w = arg;
    if (!c) {
        cli_error("%s/%s: %s", run, PROJECTOR_CONFIG_NAME,
                  err == -EPROTO ? "a field this tfevents does not know"
                  : err == -EBADMSG ? "not a projector config (text format)" : strerror(-err));
        *w->bad = true;
        return 0;
    }
    struct buf cols;
    buf_init(&cols, BUF_NO_CAP);
    int r = 0;
    for (size_t i = 0; r >= 0 && i < c->n; i++) {
        const struct projector_entry *e = &c->entries[i];
        const char *name = e->tensor_name ? e->tensor_name : "";
        if (!cli_filter_tag(w->o->f, name))
            continue;
        uint64_t shape[2];
        char sh[48] = "null", size[32] = "";
        if (cli_projector_shape(run_fd, e, shape) == 0 && shape[0] && shape[1])
            snprintf(sh, sizeof sh, "[%" PRIu64 ",%" PRIu64 "]", shape[0], shape[1]);
        buf_reset(&cols);
        cli_projector_columns(run_fd, e, &cols);   /* unreadable: no names */
        if ((r = buf_append(&cols, "", 1)) < 0)
            break;
        if (e->n_sprite_dim == 2)
            snprintf(size, sizeof size, "%" PRIu32 "x%" PRIu32, e->sprite_dim[0],
                     e->sprite_dim[1]);
        char *cells[8] = {(char *)run, (char *)name, sh,
                          e->tensor_path ? e->tensor_path : "",
                          e->metadata_path ? e->metadata_path : "", (char *)cols.data,
                          e->sprite_path ? e->sprite_path : "", size};
        r = w->o->row(w->o->arg, name, 0, cells);
    }
    buf_free(&cols);
    return r;
}

int cli_kind_projector_rows(const struct cli_kind_out *o, const char *logdir, bool *bad)
{
    struct proj_walk w = {o, bad};
    return cli_projector_each(logdir, o->f, projector_row, &w);
}
