/* PR curves and custom scalar layouts from a Request Value (frame_kinds.h). */
#include "frame_kinds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gif.h"
#include "graph.h"
#include "layout.h"
#include "mesh.h"
#include "pr_curve.h"
#include "request.h"
#include "utf8.h"

#define FAIL_AT(code, ...) request_error_at(err, err_size, (code), "value", tag, __VA_ARGS__)

/* A builder's failure in the words of frame_decode's ("<kind> value 'x':
 * <reason>"). */
static int fail_builder(int r, const char *kind, const char *tag, char *err, size_t err_size)
{
    const char *why = summary_last_error();
    char what[32];
    if (r == -ENOMEM)
        return request_error(err, err_size, r, "out of memory");
    if (!why || !*why)
        why = r == -EILSEQ ? "invalid UTF-8" : r == -EMSGSIZE ? "too large" : "invalid";
    snprintf(what, sizeof what, "%s value", kind);
    return request_error_at(err, err_size, r, what, tag, "%s", why);
}

static int pr_curve_raw(const Tfevents__PrCurve *pc, const char *tag, struct summary_value *v,
                        const struct summary_meta *meta, char *err, size_t err_size)
{
    const size_t n[6] = {pc->n_true_positives,  pc->n_false_positives, pc->n_true_negatives,
                         pc->n_false_negatives, pc->n_precision,       pc->n_recall};
    const double *const rows[6] = {pc->true_positives,  pc->false_positives, pc->true_negatives,
                                   pc->false_negatives, pc->precision,       pc->recall};
    if (pc->n_labels || pc->n_predictions || pc->n_predictions_double || pc->n_weights)
        return FAIL_AT(-EINVAL, "pr_curve takes labels and predictions or the six raw rows, "
                                "not both");
    for (size_t i = 1; i < 6; i++) {
        if (n[i] != n[0])
            return FAIL_AT(-EINVAL, "pr_curve raw rows (true_positives, false_positives, "
                                    "true_negatives, false_negatives, precision, recall) must "
                                    "all be given, of equal length");
    }
    if (pc->has_num_thresholds && pc->num_thresholds != n[0])
        return FAIL_AT(-EINVAL, "pr_curve \"num_thresholds\" differs from the rows' length %zu",
                       n[0]);
    if (n[0] > PR_CURVE_MAX_THRESHOLDS)
        return FAIL_AT(-EMSGSIZE, "pr_curve rows longer than %u", PR_CURVE_MAX_THRESHOLDS);
    int r = summary_pr_curve_raw(v, tag, rows, (uint32_t)n[0], meta);
    return r < 0 ? fail_builder(r, "pr_curve", tag, err, err_size) : 0;
}

int frame_kinds_pr_curve(const Tfevents__PrCurve *pc, const char *tag, struct summary_value *v,
                         const struct summary_meta *meta, char *err, size_t err_size)
{
    if (pc->n_true_positives || pc->n_false_positives || pc->n_true_negatives ||
        pc->n_false_negatives || pc->n_precision || pc->n_recall)
        return pr_curve_raw(pc, tag, v, meta, err, err_size);
    size_t np = pc->n_predictions + pc->n_predictions_double;
    if (pc->n_labels == 0 || (pc->n_predictions && pc->n_predictions_double) ||
        np != pc->n_labels)
        return FAIL_AT(-EINVAL, "pr_curve needs \"labels\" and as many \"predictions\" "
                                "(float32 or double), or the six raw rows");
    struct pr_curve_input in = {
        .labels = pc->labels,
        .predictions_f32 = pc->n_predictions ? pc->predictions : NULL,
        .predictions_f64 = pc->n_predictions_double ? pc->predictions_double : NULL,
        .n = pc->n_labels,
        .weights = pc->weights,
        .n_weights = pc->n_weights,
        .num_thresholds = pc->has_num_thresholds ? pc->num_thresholds : 0,
    };
    if (pc->has_num_thresholds && pc->num_thresholds == 0)
        return FAIL_AT(-EINVAL, "num_thresholds must be 2 to %u", PR_CURVE_MAX_THRESHOLDS);
    int r = summary_pr_curve(v, tag, &in, meta);
    return r < 0 ? fail_builder(r, "pr_curve", tag, err, err_size) : 0;
}

/* The Request's layout as the struct layout_category tree (borrowed
 * strings) and build it. */
int frame_kinds_layout(const Tfevents__Layout *l, const char *tag, struct summary_value *v,
                       const struct summary_meta *meta, char *err, size_t err_size)
{
    if (strcmp(tag, LAYOUT_TAG) != 0)
        return FAIL_AT(-EINVAL, "a custom scalars layout goes in tag \"" LAYOUT_TAG
                                "\", where TensorBoard looks for it");
    if (l->n_categories == 0 || l->n_categories > LAYOUT_MAX_CATEGORIES)
        return FAIL_AT(l->n_categories ? -EMSGSIZE : -EINVAL,
                       "a layout needs 1 to %u categories", LAYOUT_MAX_CATEGORIES);
    size_t n_charts = 0;
    for (size_t i = 0; i < l->n_categories; i++) {
        if (l->categories[i]->n_charts > LAYOUT_MAX_CHARTS)
            return FAIL_AT(-EMSGSIZE, "more than %u charts in a layout category",
                           LAYOUT_MAX_CHARTS);
        n_charts += l->categories[i]->n_charts;
    }
    struct layout_category *cats = calloc(l->n_categories, sizeof *cats);
    struct layout_chart *charts = calloc(n_charts ? n_charts : 1, sizeof *charts);
    if (!cats || !charts) {
        free(cats);
        free(charts);
        return request_error(err, err_size, -ENOMEM, "out of memory");
    }
    int r = 0;
    struct layout_chart *ch = charts;
    for (size_t i = 0; r == 0 && i < l->n_categories; i++) {
        const Tfevents__LayoutCategory *c = l->categories[i];
        cats[i] = (struct layout_category){c->title, c->has_closed && c->closed, ch,
                                           c->n_charts};
        for (size_t j = 0; j < c->n_charts; j++, ch++) {
            const Tfevents__LayoutChart *w = c->charts[j];
            ch->title = w->title;
            ch->multiline = (const char *const *)w->multiline;
            ch->n_multiline = w->n_multiline;
            ch->n_margin = w->n_margin;
            /* The series are messages with the same three strings. */
            if (w->n_margin) {
                struct layout_series *s = calloc(w->n_margin, sizeof *s);
                if (!s) {
                    r = request_error(err, err_size, -ENOMEM, "out of memory");
                    ch->n_margin = 0;
                    break;
                }
                for (size_t k = 0; k < w->n_margin; k++)
                    s[k] = (struct layout_series){w->margin[k]->value, w->margin[k]->lower,
                                                  w->margin[k]->upper};
                ch->margin = s;
            }
        }
    }
    if (r == 0) {
        r = summary_custom_scalars(v, cats, l->n_categories, meta);
        if (r < 0)
            r = fail_builder(r, "layout", tag, err, err_size);
    }
    for (size_t i = 0; i < n_charts; i++)
        free((void *)charts[i].margin);
    free(cats);
    free(charts);
    return r;
}

/* Default frame rate of an animation: tensorboardX's add_video. */
#define ANIMATION_DEFAULT_FPS 4.0

int frame_kinds_animation(const Tfevents__Image *im, const char *tag, struct summary_value *v,
                          const struct summary_meta *meta, char *err, size_t err_size)
{
    if (im->has_width || im->has_height)
        return FAIL_AT(-EINVAL, "with pixels the size comes from the shape");
    if (im->n_shape != 4)
        return FAIL_AT(-EINVAL, "an animation needs pixels of \"shape\" [frames,h,w,c]");
    uint64_t count = 1;
    for (size_t i = 0; i < 4; i++) {
        if (im->shape[i] == 0 || im->shape[i] > GIF_MAX_PIXELS || count > GIF_MAX_PIXELS * 4)
            return FAIL_AT(-EMSGSIZE, "animation shape too large or empty");
        count *= im->shape[i];
    }
    size_t given = im->has_pixels_u8 ? im->pixels_u8.len : im->n_pixels_float;
    if (count != given)
        return FAIL_AT(-EINVAL, "image shape holds %llu values but %zu were given",
                       (unsigned long long)count, given);
    double fps = im->has_fps ? im->fps : ANIMATION_DEFAULT_FPS;
    const uint8_t *px = im->has_pixels_u8 ? im->pixels_u8.data : NULL;
    uint8_t *conv = NULL;
    if (!px) {
        if (!(conv = malloc(given)))
            return request_error(err, err_size, -ENOMEM, "out of memory");
        for (size_t i = 0; i < given; i++)
            conv[i] = summary_unit_to_byte(im->pixels_float[i]);
        px = conv;
    }
    int r = summary_image_animation(v, tag, px, (size_t)im->shape[0], (size_t)im->shape[1],
                                    (size_t)im->shape[2], (size_t)im->shape[3], fps, meta);
    free(conv);
    return r < 0 ? fail_builder(r, "image", tag, err, err_size) : 0;
}

int frame_kinds_mesh(const Tfevents__Mesh *me, const char *tag, struct summary_value *v,
                     struct request *m, const char *run, const struct summary_meta *meta,
                     char *err, size_t err_size)
{
    size_t samples = me->has_samples ? me->samples : 1;
    if (samples == 0 || me->n_vertices == 0 || me->n_vertices % (3 * samples) != 0)
        return FAIL_AT(-EINVAL, "mesh \"vertices\" must hold samples x n x 3 numbers (n >= 1)");
    size_t n = me->n_vertices / (3 * samples);
    if (me->n_faces % (3 * samples) != 0)
        return FAIL_AT(-EINVAL, "mesh \"faces\" must hold samples x f x 3 vertex indices");
    if (me->has_colors && me->colors.len != me->n_vertices)
        return FAIL_AT(-EINVAL, "mesh \"colors\" must hold one RGB per vertex (%zu bytes)",
                       me->n_vertices);
    struct mesh_input in = {
        .name = tag, .samples = samples, .vertices = me->vertices, .n_vertices = n,
        .faces = me->faces, .n_faces = me->n_faces / (3 * samples),
        .colors = me->has_colors ? me->colors.data : NULL, .json_config = me->config,
    };
    int r = summary_mesh_part(v, &in, MESH_VERTEX, meta);
    for (int part = MESH_FACE; r == 0 && part <= MESH_COLOR; part++) {
        if ((part == MESH_FACE && !in.n_faces) || (part == MESH_COLOR && !in.colors))
            continue;
        struct summary_value *more;
        r = request_add_value(m, run, &more);
        if (r == -EMSGSIZE)
            return request_error(err, err_size, r, "more than %u values in one message",
                                 REQUEST_MAX_VALUES);
        if (r < 0)
            return request_error(err, err_size, r, "out of memory");
        r = summary_mesh_part(more, &in, (enum mesh_part)part, meta);
    }
    return r < 0 ? fail_builder(r, "mesh", tag, err, err_size) : 0;
}

/* ---- embeddings ------------------------------------------------------- */

static int copy_strv(char ***dst, size_t *n, char *const *src, size_t count)
{
    if (count == 0)
        return 0;
    if (!(*dst = calloc(count, sizeof **dst)))
        return -ENOMEM;
    for (*n = 0; *n < count; (*n)++)
        if (!((*dst)[*n] = strdup(src[*n] ? src[*n] : "")))
            return -ENOMEM;
    return 0;
}

static int embedding_copy(const Tfevents__Embedding *q, struct projector_embedding *e)
{
    if (!(e->tag = strdup(q->tag)) ||
        !(e->tensor = malloc(q->n_tensor * sizeof *e->tensor)))
        return -ENOMEM;
    memcpy(e->tensor, q->tensor, q->n_tensor * sizeof *e->tensor);
    int r = copy_strv(&e->header, &e->n_header, q->metadata_header, q->n_metadata_header);
    if (r == 0)
        r = copy_strv(&e->cells, &e->n_cells, q->metadata, q->n_metadata);
    if (r == 0 && q->has_sprite_png) {
        if (!(e->sprite = malloc(q->sprite_png.len ? q->sprite_png.len : 1)))
            return -ENOMEM;
        memcpy(e->sprite, q->sprite_png.data, q->sprite_png.len);
        e->sprite_len = q->sprite_png.len;
    }
    return r;
}

#define FAIL_EMB(code, ...) \
    request_error_at(err, err_size, (code), "embedding", tag, __VA_ARGS__)

int frame_kinds_embedding(const Tfevents__Embedding *q, struct projector_embedding *e,
                          char *err, size_t err_size)
{
    const char *tag = q->tag;
    if (q->step > (uint64_t)PROJECTOR_MAX_STEP)
        return FAIL_EMB(-EINVAL, "\"step\" must be 0..%lld",
                       (long long)PROJECTOR_MAX_STEP);
    if (q->rows == 0 || q->cols == 0 || q->cols > PROJECTOR_MAX_DIMS ||
        q->rows > PROJECTOR_MAX_VALUES / q->cols)
        return FAIL_EMB(-EMSGSIZE,
                       "tensor shape [%u, %u]: N and D must be at least 1, D at "
                       "most %u and N*D at most %zu",
                       q->rows, q->cols, PROJECTOR_MAX_DIMS, PROJECTOR_MAX_VALUES);
    if (q->n_tensor != (size_t)q->rows * q->cols)
        return FAIL_EMB(-EINVAL, "tensor has %zu numbers; shape [%u, %u] needs %zu",
                       q->n_tensor, q->rows, q->cols, (size_t)q->rows * q->cols);
    if (q->n_metadata_header > PROJECTOR_MAX_COLUMNS ||
        q->n_metadata > PROJECTOR_MAX_VALUES)
        return FAIL_EMB(-EMSGSIZE, "metadata has too many columns or cells");
    if (q->has_sprite_png != (q->n_single_image_dim != 0))
        return FAIL_EMB(-EINVAL, "a sprite needs \"single_image_dim\" [width, height], and "
                                "\"single_image_dim\" a sprite");
    if (q->has_sprite_png && q->n_single_image_dim != 2)
        return FAIL_EMB(-EINVAL, "\"single_image_dim\" must be [width, height]");
    if (q->has_sprite_png && q->sprite_png.len > PROJECTOR_MAX_SPRITE)
        return FAIL_EMB(-EMSGSIZE, "sprite is %zu bytes; the limit is %zu",
                       q->sprite_png.len, PROJECTOR_MAX_SPRITE);
    projector_embedding_done(e);
    e->step = (int64_t)q->step;
    e->rows = q->rows;
    e->cols = q->cols;
    if (q->has_sprite_png) {
        e->sprite_dim[0] = q->single_image_dim[0];
        e->sprite_dim[1] = q->single_image_dim[1];
    }
    if (embedding_copy(q, e) < 0)
        return request_error(err, err_size, -ENOMEM, "out of memory");
    char why[REQUEST_ERROR_SIZE];
    int r = projector_check(e, why, sizeof why);
    if (r < 0)
        return FAIL_EMB(r, "%s", why);
    return 0;
}

/* ---- graphs ----------------------------------------------------------- */

int frame_kinds_graph(const Tfevents__Graph *q, struct request *m, char *err, size_t err_size)
{
    bool is_def = q->has_graph_def;
    if (is_def && q->has_run_metadata)
        return request_error(err, err_size, -EINVAL,
                             "graph takes \"graph_def\" or \"run_metadata\", not both");
    if (!is_def && !q->has_run_metadata)
        return request_error(err, err_size, -EINVAL,
                             "graph needs \"graph_def\" (a serialized GraphDef) or "
                             "\"run_metadata\" (a serialized RunMetadata) with a \"tag\"");
    const char *field = is_def ? "graph_def" : "run_metadata";
    if (is_def && q->tag)
        return request_error(err, err_size, -EINVAL,
                             "\"tag\" goes with \"run_metadata\" only (TensorBoard names a "
                             "run's graph %s)", GRAPH_RUN_GRAPH_TAG);
    if (!is_def) {
        const char *tag = q->tag ? q->tag : "";
        size_t n = strlen(tag);
        if (n == 0)
            return request_error(err, err_size, -EINVAL,
                                 "\"run_metadata\" needs a \"tag\" (e.g. \"step_100\")");
        if (n > SUMMARY_MAX_TAG || !utf8_valid(tag, n) || strcmp(tag, GRAPH_RUN_GRAPH_TAG) == 0)
            return request_error_at(err, err_size, n > SUMMARY_MAX_TAG ? -EMSGSIZE : -EINVAL,
                                    "run_metadata tag", tag,
                                    "must be valid UTF-8 of at most %u bytes, other than %s",
                                    SUMMARY_MAX_TAG, GRAPH_RUN_GRAPH_TAG);
    }
    const ProtobufCBinaryData *b = is_def ? &q->graph_def : &q->run_metadata;
    enum graph_kind kind = is_def ? GRAPH_DEF : GRAPH_RUN_METADATA;
    char why[160];
    int r = graph_check(kind, b->data, b->len, &m->graph_info, why, sizeof why);
    if (r == -EBADMSG)
        return request_error(err, err_size, r,
                             "\"%s\" does not parse as a %s: %s; TensorBoard's graphs "
                             "dashboard would answer HTTP 500 for it, so nothing was written",
                             field, graph_kind_name(kind), why);
    if (r < 0)
        return request_error(err, err_size, r, "\"%s\": %s (a serialized %s%s)", field, why,
                             graph_kind_name(kind),
                             r == -EMSGSIZE ? ", GRAPH_MAX_BYTES" : "");
    if (!(m->graph_data = malloc(b->len)) ||
        (!is_def && !(m->graph_tag = strdup(q->tag))))
        return request_error(err, err_size, -ENOMEM, "out of memory");
    memcpy(m->graph_data, b->data, b->len);
    m->graph_len = b->len;
    return 0;
}
