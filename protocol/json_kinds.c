/* $pr_curve and $layout (json_kinds.h). */
#include "json_kinds.h"
#include "mesh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A flat array of numbers, or of booleans (labels: false 0, true 1). */
static int numbers_or_booleans(struct json_read *c, const cJSON *it, const char *where,
                               double **ret, size_t *ret_n)
{
    if (cJSON_IsArray(it) && it->child && cJSON_IsBool(it->child)) {
        size_t n = (size_t)cJSON_GetArraySize(it), i = 0;
        if (n > REQUEST_MAX_ARRAY)
            return FAIL(-EMSGSIZE, "%s holds more than %u elements", where, REQUEST_MAX_ARRAY);
        double *v = json_read_alloc(c, n, sizeof *v);
        if (!v)
            return FAIL(-ENOMEM, "out of memory");
        for (const cJSON *e = it->child; e; e = e->next, i++) {
            if (!cJSON_IsBool(e))
                return FAIL(-EINVAL, "%s must be all booleans or all numbers", where);
            v[i] = cJSON_IsTrue(e) ? 1.0 : 0.0;
        }
        *ret = v;
        *ret_n = n;
        return 0;
    }
    struct json_read_array a;
    int r = json_read_numbers(c, it, where, &a);
    if (r == 0 && a.rank > 1)
        r = FAIL(-EINVAL, "%s must be a flat array", where);
    *ret = a.v;
    *ret_n = a.n;
    return r;
}

/* The six raw rows of a curve. */
static int pr_rows(struct json_read *c, const cJSON *o, Tfevents__PrCurve *pc)
{
    static const char *const names[6] = {"true_positives",  "false_positives",
                                         "true_negatives",  "false_negatives",
                                         "precision",       "recall"};
    double **rows[6] = {&pc->true_positives,  &pc->false_positives, &pc->true_negatives,
                        &pc->false_negatives, &pc->precision,       &pc->recall};
    size_t *ns[6] = {&pc->n_true_positives,  &pc->n_false_positives, &pc->n_true_negatives,
                     &pc->n_false_negatives, &pc->n_precision,       &pc->n_recall};
    for (size_t i = 0; i < 6; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        char where[48];
        snprintf(where, sizeof where, "$pr_curve \"%s\"", names[i]);
        int r = it ? numbers_or_booleans(c, it, where, rows[i], ns[i]) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}

int json_kinds_pr_curve(struct json_read *c, const cJSON *o, const char *tag,
                        Tfevents__Value *v)
{
    static const char *const keys[] = {
        "labels", "predictions", "dtype", "weights", "num_thresholds", "true_positives",
        "false_positives", "true_negatives", "false_negatives", "precision", "recall",
        "display_name", "description", NULL};
    static const Tfevents__PrCurve init = TFEVENTS__PR_CURVE__INIT;
    int r = json_read_keys(c, o, "$pr_curve", keys);
    if (r < 0)
        return r;
    Tfevents__PrCurve *pc = NEW(c, Tfevents__PrCurve, init);
    if (!pc)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_PR_CURVE;
    v->pr_curve = pc;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(o, "predictions");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weights");
    char *dtype = NULL;
    if ((r = json_read_u32(c, o, "num_thresholds", "$pr_curve", 0, &pc->has_num_thresholds,
                           &pc->num_thresholds)) < 0 ||
        (r = json_read_string(c, o, "dtype", "$pr_curve", &dtype)) < 0 || (r = pr_rows(c, o, pc)) < 0)
        return r;
    if (labels && (r = numbers_or_booleans(c, labels, "$pr_curve \"labels\"", &pc->labels,
                                           &pc->n_labels)) < 0)
        return r;
    if (dtype && strcmp(dtype, "float") != 0 && strcmp(dtype, "double") != 0)
        return FAIL_AT(-EINVAL, "value", tag, "$pr_curve \"dtype\" must be \"float\" or \"double\"");
    if (pred) {
        double *p;
        size_t n;
        if ((r = numbers_or_booleans(c, pred, "$pr_curve \"predictions\"", &p, &n)) < 0)
            return r;
        if (dtype && strcmp(dtype, "double") == 0) {
            pc->predictions_double = p;
            pc->n_predictions_double = n;
        } else {
            if (n && !(pc->predictions = json_read_alloc(c, n, sizeof *pc->predictions)))
                return FAIL(-ENOMEM, "out of memory");
            for (size_t i = 0; i < n; i++)
                pc->predictions[i] = (float)p[i];
            pc->n_predictions = n;
        }
    } else if (dtype) {
        return FAIL_AT(-EINVAL, "value", tag, "$pr_curve \"dtype\" goes with \"predictions\"");
    }
    if (cJSON_IsNumber(w)) {
        if (!(pc->weights = json_read_alloc(c, 1, sizeof *pc->weights)))
            return FAIL(-ENOMEM, "out of memory");
        pc->weights[0] = w->valuedouble;
        pc->n_weights = 1;
    } else if (w) {
        r = numbers_or_booleans(c, w, "$pr_curve \"weights\"", &pc->weights, &pc->n_weights);
    }
    return r;
}

/* ---- $layout -------------------------------------------------------------- */

static int layout_strings(struct json_read *c, const cJSON *it, const char *where,
                          char ***ret, size_t *ret_n)
{
    size_t n = (size_t)cJSON_GetArraySize(it), i = 0;
    if (!cJSON_IsArray(it) || n == 0)
        return FAIL(-EINVAL, "%s must be a non-empty array of strings", where);
    char **s = json_read_alloc(c, n, sizeof *s);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e))
            return FAIL(-EINVAL, "%s must be a non-empty array of strings", where);
        s[i] = e->valuestring;
    }
    *ret = s;
    *ret_n = n;
    return 0;
}

static int layout_series(struct json_read *c, const cJSON *it, Tfevents__MarginSeries **ret)
{
    static const char *const keys[] = {"value", "lower", "upper", NULL};
    static const Tfevents__MarginSeries init = TFEVENTS__MARGIN_SERIES__INIT;
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "$layout margin series must be objects");
    Tfevents__MarginSeries *s = NEW(c, Tfevents__MarginSeries, init);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    int r = json_read_keys(c, it, "$layout margin series", keys);
    if (r == 0)
        r = json_read_string(c, it, "value", "$layout margin series", &s->value);
    if (r == 0)
        r = json_read_string(c, it, "lower", "$layout margin series", &s->lower);
    if (r == 0)
        r = json_read_string(c, it, "upper", "$layout margin series", &s->upper);
    if (r == 0 && (!s->value || !s->lower || !s->upper))
        r = FAIL(-EINVAL, "a $layout margin series needs \"value\", \"lower\" and \"upper\"");
    *ret = s;
    return r;
}

static int layout_chart(struct json_read *c, const cJSON *it, Tfevents__LayoutChart **ret)
{
    static const char *const keys[] = {"title", "multiline", "margin", NULL};
    static const Tfevents__LayoutChart init = TFEVENTS__LAYOUT_CHART__INIT;
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "$layout charts must be objects");
    Tfevents__LayoutChart *ch = NEW(c, Tfevents__LayoutChart, init);
    if (!ch)
        return FAIL(-ENOMEM, "out of memory");
    *ret = ch;
    int r = json_read_keys(c, it, "$layout chart", keys);
    if (r == 0)
        r = json_read_string(c, it, "title", "$layout chart", &ch->title);
    if (r < 0)
        return r;
    if (!ch->title)
        ch->title = "";
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(it, "multiline");
    const cJSON *mg = cJSON_GetObjectItemCaseSensitive(it, "margin");
    if (!ml == !mg)
        return FAIL(-EINVAL, "a $layout chart needs \"multiline\" (tag regexes) or \"margin\" "
                             "(series), not both");
    if (ml)
        return layout_strings(c, ml, "$layout \"multiline\"", &ch->multiline, &ch->n_multiline);
    size_t n = (size_t)cJSON_GetArraySize(mg), i = 0;
    if (!cJSON_IsArray(mg) || n == 0)
        return FAIL(-EINVAL, "$layout \"margin\" must be a non-empty array of series");
    if (!(ch->margin = json_read_alloc(c, n, sizeof *ch->margin)))
        return FAIL(-ENOMEM, "out of memory");
    ch->n_margin = n;
    for (const cJSON *e = mg->child; r == 0 && e; e = e->next, i++)
        r = layout_series(c, e, &ch->margin[i]);
    return r;
}

static int layout_category(struct json_read *c, const cJSON *it, Tfevents__LayoutCategory **ret)
{
    static const char *const keys[] = {"title", "closed", "charts", NULL};
    static const Tfevents__LayoutCategory init = TFEVENTS__LAYOUT_CATEGORY__INIT;
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "$layout categories must be objects");
    Tfevents__LayoutCategory *cat = NEW(c, Tfevents__LayoutCategory, init);
    if (!cat)
        return FAIL(-ENOMEM, "out of memory");
    *ret = cat;
    int r = json_read_keys(c, it, "$layout category", keys);
    if (r == 0)
        r = json_read_string(c, it, "title", "$layout category", &cat->title);
    if (r < 0)
        return r;
    if (!cat->title)
        return FAIL(-EINVAL, "a $layout category needs a \"title\"");
    const cJSON *closed = cJSON_GetObjectItemCaseSensitive(it, "closed");
    if (closed && !cJSON_IsBool(closed))
        return FAIL(-EINVAL, "$layout category \"closed\" must be true or false");
    cat->has_closed = closed != NULL;
    cat->closed = cJSON_IsTrue(closed);
    const cJSON *charts = cJSON_GetObjectItemCaseSensitive(it, "charts");
    size_t n = (size_t)cJSON_GetArraySize(charts), i = 0;
    if (charts && !cJSON_IsArray(charts))
        return FAIL(-EINVAL, "$layout category \"charts\" must be an array");
    if (n && !(cat->charts = json_read_alloc(c, n, sizeof *cat->charts)))
        return FAIL(-ENOMEM, "out of memory");
    cat->n_charts = n;
    for (const cJSON *e = charts ? charts->child : NULL; r == 0 && e; e = e->next, i++)
        r = layout_chart(c, e, &cat->charts[i]);
    return r;
}

int json_kinds_layout(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"categories", "display_name", "description", NULL};
    static const Tfevents__Layout init = TFEVENTS__LAYOUT__INIT;
    int r = json_read_keys(c, o, "$layout", keys);
    if (r < 0)
        return r;
    Tfevents__Layout *l = NEW(c, Tfevents__Layout, init);
    if (!l)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_LAYOUT;
    v->layout = l;
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(o, "categories");
    size_t n = (size_t)cJSON_GetArraySize(cats), i = 0;
    if (!cJSON_IsArray(cats) || n == 0)
        return FAIL_AT(-EINVAL, "value", tag, "$layout needs \"categories\": a non-empty array");
    if (!(l->categories = json_read_alloc(c, n, sizeof *l->categories)))
        return FAIL(-ENOMEM, "out of memory");
    l->n_categories = n;
    for (const cJSON *e = cats->child; r == 0 && e; e = e->next, i++)
        r = layout_category(c, e, &l->categories[i]);
    return r;
}

/* ---- $mesh ---------------------------------------------------------------- */

/* "samples" of flat parts: each sample holds at least one point. */
#define MESH_MAX_FLAT_SAMPLES MESH_MAX_ELEMENTS

/* A part [samples][n][3] or [n][3] (samples 1): its numbers and samples.
 * A flat part (a packed array, or a flat array: bulk data travels packed)
 * is read row-major with the message's "samples" (default 1); flat_samples
 * is 0 when none was given. */
static int mesh_part(struct json_read *c, const cJSON *it, const char *where, const char *tag,
                     uint32_t flat_samples, struct json_read_array *a, size_t *ret_samples)
{
    int r = json_read_numbers(c, it, where, a);
    if (r < 0)
        return r;
    if (a->rank == 1) {
        size_t s = flat_samples ? flat_samples : 1;
        if (a->n % (3 * s) != 0)
            return FAIL_AT(-EINVAL, "value", tag,
                           "%s: flat, it holds %zu numbers, not samples (%zu) x n x 3", where,
                           a->n, s);
        a->rank = 3;
        a->dims[0] = s;
        a->dims[1] = a->n / (3 * s);
        a->dims[2] = 3;
    } else if (flat_samples) {
        return FAIL_AT(-EINVAL, "value", tag, "$mesh \"samples\" goes with flat parts only");
    }
    if (!((a->rank == 2 || a->rank == 3) && a->dims[a->rank - 1] == 3))
        return FAIL_AT(-EINVAL, "value", tag, "%s must be [n][3] or [samples][n][3]", where);
    *ret_samples = a->rank == 3 ? a->dims[0] : 1;
    return 0;
}

int json_kinds_mesh(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v)
{
    static const char *const keys[] = {"vertices", "faces", "colors", "config", "samples",
                                       "display_name", "description", NULL};
    static const Tfevents__Mesh init = TFEVENTS__MESH__INIT;
    int r = json_read_keys(c, o, "$mesh", keys);
    if (r < 0)
        return r;
    Tfevents__Mesh *me = NEW(c, Tfevents__Mesh, init);
    if (!me)
        return FAIL(-ENOMEM, "out of memory");
    v->kind_case = TFEVENTS__VALUE__KIND_MESH;
    v->mesh = me;
    const cJSON *vert = cJSON_GetObjectItemCaseSensitive(o, "vertices");
    const cJSON *faces = cJSON_GetObjectItemCaseSensitive(o, "faces");
    const cJSON *colors = cJSON_GetObjectItemCaseSensitive(o, "colors");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(o, "config");
    struct json_read_array a;
    size_t samples, s2;
    protobuf_c_boolean has_flat = 0;
    uint32_t flat = 0;
    if (!vert)
        return FAIL_AT(-EINVAL, "value", tag, "$mesh needs \"vertices\"");
    if ((r = json_read_u32(c, o, "samples", "$mesh", 0, &has_flat, &flat)) < 0)
        return r;
    if (has_flat && (flat < 1 || flat > MESH_MAX_FLAT_SAMPLES))
        return FAIL_AT(-EINVAL, "value", tag, "$mesh \"samples\" must be 1..%u",
                       MESH_MAX_FLAT_SAMPLES);
    if ((r = mesh_part(c, vert, "$mesh \"vertices\"", tag, flat, &a, &samples)) < 0)
        return r;
    if (!(me->vertices = json_read_alloc(c, a.n, sizeof *me->vertices)))
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < a.n; i++)
        me->vertices[i] = (float)a.v[i];
    me->n_vertices = a.n;
    me->has_samples = true;
    me->samples = (uint32_t)samples;
    if (faces) {
        if ((r = mesh_part(c, faces, "$mesh \"faces\"", tag, flat, &a, &s2)) < 0)
            return r;
        if (s2 != samples)
            return FAIL_AT(-EINVAL, "value", tag, "$mesh parts differ in samples");
        if (!(me->faces = json_read_alloc(c, a.n, sizeof *me->faces)))
            return FAIL(-ENOMEM, "out of memory");
        for (size_t i = 0; i < a.n; i++) {
            if (!(a.v[i] >= 0 && a.v[i] < 2147483648.0 && a.v[i] == (double)(int32_t)a.v[i]))
                return FAIL_AT(-EINVAL, "value", tag, "$mesh faces must be vertex indices");
            me->faces[i] = (int32_t)a.v[i];
        }
        me->n_faces = a.n;
    }
    if (colors) {
        if ((r = mesh_part(c, colors, "$mesh \"colors\"", tag, flat, &a, &s2)) < 0)
            return r;
        if (s2 != samples)
            return FAIL_AT(-EINVAL, "value", tag, "$mesh parts differ in samples");
        uint8_t *px = json_read_alloc(c, a.n ? a.n : 1, 1);
        if (!px)
            return FAIL(-ENOMEM, "out of memory");
        for (size_t i = 0; i < a.n; i++) {
            if (!(a.v[i] >= 0 && a.v[i] <= 255 && a.v[i] == (double)(int)a.v[i]))
                return FAIL_AT(-EINVAL, "value", tag, "$mesh colors must be integers 0..255");
            px[i] = (uint8_t)a.v[i];
        }
        me->has_colors = true;
        me->colors.data = px;
        me->colors.len = a.n;
    }
    if (cJSON_IsString(config)) {
        me->config = config->valuestring;
    } else if (cJSON_IsObject(config)) {
        char *text = cJSON_PrintUnformatted(config);
        size_t len = text ? strlen(text) : 0;
        me->config = text ? json_read_alloc(c, len + 1, 1) : NULL;
        if (me->config)
            memcpy(me->config, text, len + 1);
        cJSON_free(text);
        if (!me->config)
            return FAIL(-ENOMEM, "out of memory");
    } else if (config) {
        return FAIL_AT(-EINVAL, "value", tag, "$mesh \"config\" must be an object or JSON text");
    }
    return 0;
}

/* ---- op "embedding" --------------------------------------------------- */

/* A metadata cell: a string as it is, a number as its shortest text. */
static int embedding_cell(struct json_read *c, const cJSON *it, char **ret)
{
    if (cJSON_IsString(it)) {
        *ret = it->valuestring;
        return 0;
    }
    if (!cJSON_IsNumber(it))
        return FAIL(-EINVAL, "embedding: metadata cells must be strings or numbers");
    char *s = json_read_alloc(c, 32, 1);
    if (!s)
        return FAIL(-ENOMEM, "out of memory");
    double x = it->valuedouble;
    /* Whole numbers in full ("10", as a label is written, not "1e+01");
     * others as the shortest text that reads back as the same double. */
    if (x > -1e15 && x < 1e15 && x == (double)(long long)x) {
        snprintf(s, 32, "%lld", (long long)x);
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(s, 32, "%.*g", prec, x);
            if (strtod(s, NULL) == x)
                break;
        }
    }
    *ret = s;
    return 0;
}

/* cells of one array into out[*n ..), at most room. */
static int embedding_cells(struct json_read *c, const cJSON *arr, char **out, size_t *n,
                           size_t room)
{
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (*n >= room)
            return FAIL(-EMSGSIZE, "embedding: too many metadata cells");
        int r = embedding_cell(c, it, &out[(*n)++]);
        if (r < 0)
            return r;
    }
    return 0;
}

/* "metadata": ["a", "b"] (one column) or {"header": [...], "rows": [[...]]}. */
static int embedding_metadata(struct json_read *c, const cJSON *md, Tfevents__Embedding *q)
{
    static const char *const keys[] = {"header", "rows", NULL};
    const cJSON *header = NULL, *rows = md;
    int r;
    if (cJSON_IsObject(md)) {
        if ((r = json_read_keys(c, md, "embedding \"metadata\"", keys)) < 0)
            return r;
        header = cJSON_GetObjectItemCaseSensitive(md, "header");
        rows = cJSON_GetObjectItemCaseSensitive(md, "rows");
        if (!cJSON_IsArray(header) || !cJSON_IsArray(rows))
            return FAIL(-EINVAL, "embedding: \"metadata\" needs \"header\" (column names) "
                                 "and \"rows\" (one array of cells per point)");
    } else if (!cJSON_IsArray(md)) {
        return FAIL(-EINVAL, "embedding: \"metadata\" must be an array of labels or "
                             "{\"header\", \"rows\"}");
    }
    size_t cols = header ? (size_t)cJSON_GetArraySize(header) : 1;
    size_t nrows = (size_t)cJSON_GetArraySize(rows);
    if (cols == 0 || cols > PROJECTOR_MAX_COLUMNS || nrows > PROJECTOR_MAX_VALUES)
        return FAIL(-EMSGSIZE, "embedding: metadata must have 1 to %u columns and at most "
                               "%zu rows", PROJECTOR_MAX_COLUMNS, PROJECTOR_MAX_VALUES);
    size_t room = nrows * cols;
    if (header) {
        q->metadata_header = json_read_alloc(c, cols, sizeof *q->metadata_header);
        if (!q->metadata_header)
            return FAIL(-ENOMEM, "out of memory");
        if ((r = embedding_cells(c, header, q->metadata_header, &q->n_metadata_header,
                                 cols)) < 0)
            return r;
    }
    if (!(q->metadata = json_read_alloc(c, room ? room : 1, sizeof *q->metadata)))
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *row = rows->child; row; row = row->next) {
        size_t before = q->n_metadata;
        if (!header)
            r = embedding_cell(c, row, &q->metadata[q->n_metadata++]);
        else if (!cJSON_IsArray(row))
            r = FAIL(-EINVAL, "embedding: each metadata row must be an array of cells");
        else if ((r = embedding_cells(c, row, q->metadata, &q->n_metadata, room)) == 0 &&
                 q->n_metadata - before != cols)
            r = FAIL(-EINVAL, "embedding: metadata row %zu has %zu cells; the header has %zu",
                     before / cols, q->n_metadata - before, cols);
        if (r < 0)
            return r;
    }
    return 0;
}

static int embedding_sprite(struct json_read *c, const cJSON *sp, Tfevents__Embedding *q)
{
    static const char *const keys[] = {"png", "single_image_dim", NULL};
    int r = cJSON_IsObject(sp) ? json_read_keys(c, sp, "embedding \"sprite\"", keys)
                               : FAIL(-EINVAL, "embedding: \"sprite\" must be an object");
    if (r < 0)
        return r;
    const cJSON *png = cJSON_GetObjectItemCaseSensitive(sp, "png");
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(sp, "single_image_dim");
    if (!png || !cJSON_IsArray(dim) || cJSON_GetArraySize(dim) != 2 ||
        !cJSON_IsNumber(dim->child) || !cJSON_IsNumber(dim->child->next) ||
        !json_read_is_integer(dim->child->valuedouble, UINT32_MAX) ||
        !json_read_is_integer(dim->child->next->valuedouble, UINT32_MAX))
        return FAIL(-EINVAL, "embedding: \"sprite\" needs \"png\" (base64) and "
                             "\"single_image_dim\" [width, height]");
    if ((r = json_read_base64(c, png, "embedding: sprite \"png\"", &q->sprite_png)) < 0)
        return r;
    q->has_sprite_png = true;
    if (!(q->single_image_dim = json_read_alloc(c, 2, sizeof *q->single_image_dim)))
        return FAIL(-ENOMEM, "out of memory");
    q->single_image_dim[0] = (uint32_t)dim->child->valuedouble;
    q->single_image_dim[1] = (uint32_t)dim->child->next->valuedouble;
    q->n_single_image_dim = 2;
    return 0;
}

int json_kinds_embedding(struct json_read *c, const cJSON *o, Tfevents__Embedding *q)
{
    static const char *const keys[] = {"tag", "tensor", "shape", "metadata", "sprite", NULL};
    int r = cJSON_IsObject(o) ? json_read_keys(c, o, "\"embedding\"", keys)
                              : FAIL(-EINVAL, "\"embedding\" must be an object");
    if (r < 0 || (r = json_read_string(c, o, "tag", "embedding", &q->tag)) < 0)
        return r;
    if (!q->tag)
        return FAIL(-EINVAL, "embedding needs a \"tag\"");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "tensor");
    if (!t)
        return FAIL(-EINVAL, "embedding needs a \"tensor\" [N][D]");
    struct json_read_array a;
    uint64_t *shape;
    size_t rank;
    if ((r = json_read_numbers(c, t, "embedding \"tensor\"", &a)) < 0 ||
        (r = json_read_shape(c, o, &a, "embedding", &shape, &rank)) < 0)
        return r;
    if (rank != 2 || shape[0] > UINT32_MAX || shape[1] > UINT32_MAX)
        return FAIL(-EINVAL, "embedding \"tensor\" must be [N][D] (or packed with "
                             "\"shape\": [N, D])");
    q->rows = (uint32_t)shape[0];
    q->cols = (uint32_t)shape[1];
    if (!(q->tensor = json_read_alloc(c, a.n ? a.n : 1, sizeof *q->tensor)))
        return FAIL(-ENOMEM, "out of memory");
    for (size_t i = 0; i < a.n; i++)
        q->tensor[i] = (float)a.v[i];
    q->n_tensor = a.n;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    if (md && !cJSON_IsNull(md) && (r = embedding_metadata(c, md, q)) < 0)
        return r;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "sprite");
    if (sp && !cJSON_IsNull(sp) && (r = embedding_sprite(c, sp, q)) < 0)
        return r;
    return 0;
}
