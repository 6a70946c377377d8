/* cli_parse: PR curve tables, meshes, layouts and embedding TSVs taken
 * apart from a buffer (see cli_parse.h). */
#include "cli_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct cli_emb_limits cli_emb_limits_default = {EMB_MAX_LINES, EMB_MAX_CELLS};

/* Always returns r, so that a refusal is one line: return fail(...). */
__attribute__((format(printf, 4, 5)))
static int fail(struct cli_parse_err *err, int r, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->why, sizeof err->why, fmt, ap);
    va_end(ap);
    err->line = line;
    return r;
}

/* A NUL byte would end the text where strtok and strchr look: refused,
 * with its line. */
static int no_nul(const char *text, size_t len, struct cli_parse_err *err)
{
    const char *z = memchr(text, '\0', len);
    if (!z)
        return 0;
    size_t line = 1;
    for (const char *p = text; p < z; p++)
        line += *p == '\n';
    return fail(err, -EINVAL, line, "a NUL byte (not a text file)");
}

/* ---- numbers ------------------------------------------------------------ */

struct dvec {
    double *v;
    size_t n, cap;
};

static int dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        double *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return 0;
}

/* The numbers of one line (at most max) into out; -EINVAL when a field is
 * not one, -E2BIG past max. The line is cut at '#'. */
static int line_numbers(char *line, double *out, size_t max, size_t *ret_n)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    size_t n = 0;
    char *save = NULL;
    for (char *f = strtok_r(line, " \t,;\r", &save); f; f = strtok_r(NULL, " \t,;\r", &save)) {
        if (n == max)
            return -E2BIG;
        char *end;
        if (strcasecmp(f, "true") == 0)
            out[n] = 1;
        else if (strcasecmp(f, "false") == 0)
            out[n] = 0;
        else if ((out[n] = strtod(f, &end)), *end || end == f)
            return -EINVAL;
        n++;
    }
    *ret_n = n;
    return 0;
}

/* ---- PR curves ---------------------------------------------------------- */

void cli_parse_pr_table_done(struct cli_pr_table *t)
{
    if (!t)
        return;
    free(t->labels);
    free(t->preds);
    free(t->weights);
    *t = (struct cli_pr_table){0};
}

int cli_parse_pr_table(char *text, size_t len, struct cli_pr_table *t,
                       struct cli_parse_err *err)
{
    *t = (struct cli_pr_table){0};
    int r = no_nul(text, len, err);
    if (r < 0)
        return r;
    struct dvec labels = {0}, preds = {0}, weights = {0};
    size_t lineno = 0, width = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); !r && line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        double f[4];
        size_t n;
        int e = line_numbers(line, f, 4, &n);
        if (e == -EINVAL && labels.n == 0 && width == 0)
            continue;   /* a header */
        if (e < 0 || (n != 0 && n != 2 && n != 3) || (n && width && n != width)) {
            r = fail(err, -EINVAL, lineno, "not LABEL PREDICTION [WEIGHT] (%s)",
                     e < 0 || n > 3 ? "numbers separated by spaces or commas"
                                    : "every row with the same columns");
            break;
        }
        if (n == 0)
            continue;
        width = n;
        r = dvec_push(&labels, f[0]);
        if (!r) r = dvec_push(&preds, f[1]);
        if (!r && n == 3) r = dvec_push(&weights, f[2]);
    }
    if (r == -ENOMEM)
        fail(err, r, 0, "out of memory");
    if (!r && labels.n == 0)
        r = fail(err, -EINVAL, 0, "no LABEL PREDICTION rows");
    float *p32 = !r ? malloc(preds.n * sizeof *p32) : NULL;
    if (!r && !p32)
        r = fail(err, -ENOMEM, 0, "out of memory");
    for (size_t i = 0; !r && i < preds.n; i++)
        p32[i] = (float)preds.v[i];
    free(preds.v);
    if (r) {
        free(p32);
        free(labels.v);
        free(weights.v);
        return r;
    }
    *t = (struct cli_pr_table){labels.v, p32, weights.v, labels.n};
    return 0;
}

/* ---- meshes ------------------------------------------------------------- */

struct mesh_parts {
    struct dvec xyz, rgb;      /* 3 per vertex; rgb empty or 3 per vertex */
    struct dvec faces;         /* 3 per triangle, 0-based, not yet checked */
};

/* Triangles of a polygon idx[0..n) (a fan from its first vertex). */
static int add_polygon(struct mesh_parts *m, const double *idx, size_t n)
{
    int r = 0;
    for (size_t k = 1; !r && k + 1 < n; k++) {
        r = dvec_push(&m->faces, idx[0]);
        if (!r) r = dvec_push(&m->faces, idx[k]);
        if (!r) r = dvec_push(&m->faces, idx[k + 1]);
    }
    return r;
}

/* PLY header: elements (at most PLY_MAX_ELEMENTS, each of at most
 * PLY_MAX_PROPS properties) and what each property of an element is. */
#define PLY_MAX_ELEMENTS 8
#define PLY_MAX_PROPS 16

struct ply_header {
    size_t n_el, counts[PLY_MAX_ELEMENTS], n_props[PLY_MAX_ELEMENTS];
    int roles[PLY_MAX_ELEMENTS][PLY_MAX_PROPS];  /* 0-2 xyz, 3-5 rgb, 6 list, -1 */
    char kinds[PLY_MAX_ELEMENTS];                /* 'v' vertex, 'f' face, '?' other */
    bool float_rgb, ascii;
};

/* One header line's words w[0..nw) (nw > 0) into h: 1 at end_header, 0
 * for more, -EINVAL. */
static int ply_header_line(struct ply_header *h, char **w, size_t nw)
{
    if (strcmp(w[0], "comment") == 0 || strcmp(w[0], "obj_info") == 0 ||
        strcmp(w[0], "ply") == 0)
        return 0;
    if (strcmp(w[0], "format") == 0) {
        h->ascii = nw > 1 && strcmp(w[1], "ascii") == 0;
    } else if (strcmp(w[0], "element") == 0 && nw == 3 && h->n_el < PLY_MAX_ELEMENTS) {
        h->kinds[h->n_el] = strcmp(w[1], "vertex") == 0 ? 'v'
                            : strcmp(w[1], "face") == 0 ? 'f' : '?';
        h->counts[h->n_el++] = strtoull(w[2], NULL, 10);
    } else if (strcmp(w[0], "property") == 0 && nw >= 3 && h->n_el > 0 &&
               h->n_props[h->n_el - 1] < PLY_MAX_PROPS) {
        static const char *const names[6] = {"x", "y", "z", "red", "green", "blue"};
        const char *pname = w[nw - 1];
        int role = strcmp(w[1], "list") == 0 ? 6 : -1;
        for (int k = 0; role < 0 && k < 6; k++)
            if (strcmp(pname, names[k]) == 0)
                role = k;
        if (role >= 3 && role < 6 && (strcmp(w[1], "float") == 0 || strcmp(w[1], "double") == 0))
            h->float_rgb = true;
        size_t e = h->n_el - 1;
        h->roles[e][h->n_props[e]++] = role;
    } else if (strcmp(w[0], "end_header") == 0) {
        return 1;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* One element line's numbers f[0..n) of element e. */
static int ply_element_line(struct mesh_parts *m, const struct ply_header *h, size_t e,
                            const double *f, size_t n, size_t lineno, struct cli_parse_err *err)
{
    if (h->kinds[e] == 'f') {
        /* The count compared as a double: a huge or NaN one has no size_t. */
        if (n < 1 || !(f[0] >= 3) || f[0] != (double)(n - 1))
            return fail(err, -EINVAL, lineno, "not a polygon (COUNT INDEX...)");
        return add_polygon(m, f + 1, n - 1);
    }
    if (h->kinds[e] != 'v')
        return 0;
    double v[6] = {0};
    bool rgb = false;
    for (size_t k = 0; k < h->n_props[e] && k < n; k++)
        if (h->roles[e][k] >= 0 && h->roles[e][k] < 6) {
            v[h->roles[e][k]] = f[k];
            rgb |= h->roles[e][k] >= 3;
        }
    int r = 0;
    for (int k = 0; !r && k < 3; k++)
        r = dvec_push(&m->xyz, v[k]);
    for (int k = 3; !r && rgb && k < 6; k++)
        r = dvec_push(&m->rgb, h->float_rgb ? v[k] * 255.0 : v[k]);
    return r;
}

/* An ASCII PLY: header, then the vertex and face elements (others skipped). */
static int parse_ply(struct mesh_parts *m, char *data, struct cli_parse_err *err)
{
    char *save = NULL, *line;
    size_t lineno = 0;
    struct ply_header h = {0};
    int r = 0;
    while ((line = strtok_r(lineno ? NULL : data, "\n", &save))) {
        lineno++;
        char *w[6] = {0};
        size_t nw = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, " \t\r", &s2); t && nw < 6; t = strtok_r(NULL, " \t\r", &s2))
            w[nw++] = t;
        if (nw == 0)
            continue;
        if ((r = ply_header_line(&h, w, nw)) < 0)
            return fail(err, r, lineno, "not a PLY header line");
        if (r == 1)
            break;
    }
    if (!line || !h.ascii)
        return fail(err, -EINVAL, 0, "%s", !h.ascii ? "only ASCII PLY files are read "
                    "(format ascii 1.0)" : "no end_header");
    r = 0;
    for (size_t e = 0; !r && e < h.n_el; e++) {
        for (size_t i = 0; !r && i < h.counts[e]; i++) {
            if (!(line = strtok_r(NULL, "\n", &save)))
                return fail(err, -EINVAL, 0, "ends before its %zu elements", h.counts[e]);
            lineno++;
            double f[MESH_LINE_MAX_FIELDS];
            size_t n;
            if ((r = line_numbers(line, f, MESH_LINE_MAX_FIELDS, &n)) == -E2BIG)
                return fail(err, r, lineno, "more than %d numbers on a line",
                            MESH_LINE_MAX_FIELDS);
            if (r < 0)
                return fail(err, r, lineno, "not numbers");
            r = ply_element_line(m, &h, e, f, n, lineno, err);
        }
    }
    return r;
}

/* A Wavefront OBJ: v and f lines (others skipped). */
static int parse_obj(struct mesh_parts *m, char *data, struct cli_parse_err *err)
{
    char *save = NULL;
    size_t lineno = 0;
    int r = 0;
    for (char *line = strtok_r(data, "\n", &save); !r && line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        double f[MESH_LINE_MAX_FIELDS];
        size_t n;
        bool vertex = line[0] == 'v' && (line[1] == ' ' || line[1] == '\t');
        bool face = line[0] == 'f' && (line[1] == ' ' || line[1] == '\t');
        if (face) {
            /* Each field is V, V/T, V//N or V/T/N: the vertex is first. */
            bool blank = false;
            for (char *p = line + 2; *p; p++) {
                if (*p == '/')
                    blank = true;
                else if (*p == ' ' || *p == '\t')
                    blank = false;
                if (blank)
                    *p = ' ';
            }
        }
        if (!vertex && !face)
            continue;
        int e = line_numbers(line + 2, f, MESH_LINE_MAX_FIELDS, &n);
        if (e == -E2BIG)
            return fail(err, e, lineno, "more than %d numbers on a line", MESH_LINE_MAX_FIELDS);
        if (vertex) {
            if (e < 0 || (n != 3 && n != 4 && n != 6))
                return fail(err, -EINVAL, lineno, "not 'v X Y Z [R G B]'");
            for (int k = 0; !r && k < 3; k++)
                r = dvec_push(&m->xyz, f[k]);
            /* Colours in OBJ (a common extension) are 0..1. */
            for (int k = 3; !r && n == 6 && k < 6; k++)
                r = dvec_push(&m->rgb, f[k] * 255.0);
        } else {
            if (e < 0 || n < 3)
                return fail(err, -EINVAL, lineno, "not 'f V V V...'");
            size_t nv = m->xyz.n / 3;
            for (size_t k = 0; k < n; k++)   /* 1-based; negative: from the end */
                f[k] = f[k] < 0 ? (double)nv + f[k] : f[k] - 1;
            r = add_polygon(m, f, n);
        }
    }
    return r;
}

void cli_parse_mesh_done(struct cli_mesh *m)
{
    if (!m)
        return;
    free(m->xyz);
    free(m->faces);
    free(m->rgb);
    *m = (struct cli_mesh){0};
}

/* parts into the arrays of out, checking faces and colours. */
static int mesh_arrays(const struct mesh_parts *p, struct cli_mesh *out,
                       struct cli_parse_err *err)
{
    size_t nv = p->xyz.n / 3, nf = p->faces.n / 3;
    if (nv == 0)
        return fail(err, -EINVAL, 0, "no vertices (an ASCII PLY or an OBJ file)");
    if (p->rgb.n && p->rgb.n != p->xyz.n)
        return fail(err, -EINVAL, 0, "colours for some vertices only");
    out->xyz = malloc(p->xyz.n * sizeof *out->xyz);
    out->faces = nf ? malloc(p->faces.n * sizeof *out->faces) : NULL;
    out->rgb = p->rgb.n ? malloc(p->rgb.n) : NULL;
    if (!out->xyz || (nf && !out->faces) || (p->rgb.n && !out->rgb))
        return fail(err, -ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < p->xyz.n; i++)
        out->xyz[i] = (float)p->xyz.v[i];
    for (size_t i = 0; i < p->faces.n; i++) {
        double x = p->faces.v[i];
        /* Whole and in range (so that the cast is defined). */
        if (!(x >= 0 && x < (double)nv) || x != floor(x))
            return fail(err, -EINVAL, 0, "a face names vertex %.17g of %zu", x + 1, nv);
        out->faces[i] = (int32_t)x;
    }
    for (size_t i = 0; i < p->rgb.n; i++) {
        double c = round(p->rgb.v[i]);
        /* NaN goes to 0 with the negatives: a NaN cast is undefined. */
        out->rgb[i] = (uint8_t)(!(c >= 0) ? 0 : c > 255 ? 255 : c);
    }
    out->n_vertices = nv;
    out->n_faces = nf;
    return 0;
}

int cli_parse_mesh(char *text, size_t len, struct cli_mesh *m, struct cli_parse_err *err)
{
    *m = (struct cli_mesh){0};
    int r = no_nul(text, len, err);
    if (r < 0)
        return r;
    struct mesh_parts p = {0};
    bool ply = len >= 4 && memcmp(text, "ply", 3) == 0 && (text[3] == '\n' || text[3] == '\r');
    r = ply ? parse_ply(&p, text, err) : parse_obj(&p, text, err);
    if (r == -ENOMEM)
        fail(err, r, 0, "out of memory");
    if (!r)
        r = mesh_arrays(&p, m, err);
    if (r)
        cli_parse_mesh_done(m);
    free(p.xyz.v);
    free(p.rgb.v);
    free(p.faces.v);
    return r;
}

/* ---- custom scalar layouts ---------------------------------------------- */

void cli_parse_layout_done(struct cli_layout *l)
{
    if (!l)
        return;
    for (size_t i = 0; l->charts && i < l->n_cats; i++)
        free(l->charts[i]);
    for (size_t i = 0; i < l->n_flat; i++) {
        free(l->regexes[i]);
        free(l->series[i]);
    }
    free(l->cats);
    free(l->charts);
    free(l->regexes);
    free(l->series);
    *l = (struct cli_layout){0};
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One chart of a layout into ch (its arrays kept in l at slot). */
static int layout_chart_of(const cJSON *j, struct tfevents_layout_chart *ch,
                           struct cli_layout *l, size_t slot, struct cli_parse_err *err)
{
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(j, "multiline");
    const cJSON *mg = cJSON_GetObjectItemCaseSensitive(j, "margin");
    ch->title = str_of(j, "title");
    if (!cJSON_IsObject(j) || !ch->title || !cJSON_IsArray(ml) == !cJSON_IsArray(mg))
        return fail(err, -EINVAL, 0, "a chart is {\"title\", \"multiline\": [regexes]} or "
                    "{\"title\", \"margin\": [{\"value\", \"lower\", \"upper\"}]}");
    const cJSON *arr = cJSON_IsArray(ml) ? ml : mg;
    size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
    const cJSON *e;
    if (arr == ml) {
        const char **v = calloc(n ? n : 1, sizeof *v);
        if (!(l->regexes[slot] = v))
            return -ENOMEM;
        cJSON_ArrayForEach(e, ml) {
            if (!cJSON_IsString(e))
                return fail(err, -EINVAL, 0, "\"multiline\" holds tag regexes (strings)");
            v[k++] = e->valuestring;
        }
        ch->multiline = v;
        ch->n_multiline = n;
        return 0;
    }
    struct tfevents_layout_series *v = calloc(n ? n : 1, sizeof *v);
    if (!(l->series[slot] = v))
        return -ENOMEM;
    cJSON_ArrayForEach(e, mg) {
        v[k] = (struct tfevents_layout_series){str_of(e, "value"), str_of(e, "lower"),
                                               str_of(e, "upper")};
        if (!v[k].value || !v[k].lower || !v[k].upper)
            return fail(err, -EINVAL, 0, "a margin series is {\"value\", \"lower\", "
                        "\"upper\"} (scalar tags)");
        k++;
    }
    ch->margin = v;
    ch->n_margin = n;
    return 0;
}

int cli_parse_layout(const cJSON *root, struct cli_layout *l, struct cli_parse_err *err)
{
    *l = (struct cli_layout){0};
    const cJSON *cats = cJSON_IsArray(root) ? root
                        : cJSON_GetObjectItemCaseSensitive(root, "categories");
    const char *shape = "a layout is {\"categories\": [{\"title\", \"closed\"?, "
                        "\"charts\": [...]}]}";
    if (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) == 0)
        return fail(err, -EINVAL, 0, "%s", shape);
    size_t n = (size_t)cJSON_GetArraySize(cats), flat = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cats) {
        const cJSON *charts = cJSON_GetObjectItemCaseSensitive(c, "charts");
        if (!cJSON_IsArray(charts) || !str_of(c, "title"))
            return fail(err, -EINVAL, 0, "%s", shape);
        flat += (size_t)cJSON_GetArraySize(charts);
    }
    l->cats = calloc(n, sizeof *l->cats);
    l->charts = calloc(n, sizeof *l->charts);
    l->regexes = calloc(flat ? flat : 1, sizeof *l->regexes);
    l->series = calloc(flat ? flat : 1, sizeof *l->series);
    if (!l->cats || !l->charts || !l->regexes || !l->series)
        return fail(err, -ENOMEM, 0, "out of memory");
    l->n_cats = n;
    l->n_flat = flat;
    size_t i = 0, slot = 0;
    int r;
    cJSON_ArrayForEach(c, cats) {
        const cJSON *charts = cJSON_GetObjectItemCaseSensitive(c, "charts");
        size_t m = (size_t)cJSON_GetArraySize(charts), k = 0;
        struct tfevents_layout_category *cat = &l->cats[i];
        cat->title = str_of(c, "title");
        cat->closed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "closed"));
        if (!(l->charts[i] = calloc(m ? m : 1, sizeof **l->charts)))
            return fail(err, -ENOMEM, 0, "out of memory");
        const cJSON *ch;
        cJSON_ArrayForEach(ch, charts) {
            if ((r = layout_chart_of(ch, &l->charts[i][k++], l, slot++, err)) < 0)
                return r == -ENOMEM ? fail(err, r, 0, "out of memory") : r;
        }
        cat->charts = l->charts[i];
        cat->n_charts = m;
        i++;
    }
    return 0;
}

/* ---- embedding TSVs ------------------------------------------------------- */

/* Lines of text (cut in place; a final line without '\n' counts, a
 * trailing '\r' is dropped); at most max. */
static int split_lines(char *text, size_t max, char ***ret, size_t *ret_n,
                       struct cli_parse_err *err)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (char *p = text, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (n == max) {
            free(v);
            return fail(err, -E2BIG, 0, "more than %zu lines", max);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            if (cap > max)
                cap = max;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                return fail(err, -ENOMEM, 0, "out of memory");
            }
            v = nv;
        }
        v[n++] = p;
        if (!nl)
            break;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The numbers of one tensor line appended to *v (*nv of *cap used). */
static int tensor_row(char *line, size_t lineno, const struct cli_emb_limits *lim, float **v,
                      size_t *nv, size_t *cap, size_t *ret_cells, struct cli_parse_err *err)
{
    size_t cells = 0;
    char *save = NULL;
    for (char *f = strtok_r(line, "\t ,", &save); f; f = strtok_r(NULL, "\t ,", &save)) {
        char *end;
        float x = strtof(f, &end);
        if (*end || end == f)
            return fail(err, -EINVAL, lineno, "'%.40s' is not a number", f);
        if (*nv == lim->max_cells)
            return fail(err, -E2BIG, lineno, "more than %zu numbers", lim->max_cells);
        if (*nv == *cap) {
            size_t c = *cap ? *cap * 2 : 1024;
            if (c > lim->max_cells)
                c = lim->max_cells;
            float *p = realloc(*v, c * sizeof *p);
            if (!p)
                return fail(err, -ENOMEM, 0, "out of memory");
            *v = p;
            *cap = c;
        }
        (*v)[(*nv)++] = x;
        cells++;
    }
    *ret_cells = cells;
    return 0;
}

int cli_parse_emb_tensor(char *text, size_t len, const struct cli_emb_limits *lim,
                         float **ret, size_t *ret_rows, size_t *ret_cols,
                         struct cli_parse_err *err)
{
    if (!lim)
        lim = &cli_emb_limits_default;
    char **lines = NULL;
    size_t n;
    int r = no_nul(text, len, err);
    if (r < 0 || (r = split_lines(text, lim->max_lines, &lines, &n, err)) < 0)
        return r;
    float *v = NULL;
    size_t nv = 0, cap = 0, w = 0, rows = 0;
    for (size_t i = 0; !r && i < n; i++) {
        size_t cells = 0;
        if ((r = tensor_row(lines[i], i + 1, lim, &v, &nv, &cap, &cells, err)) < 0)
            break;
        if (cells == 0)
            continue;   /* blank lines are skipped */
        if (w && cells != w)
            r = fail(err, -EINVAL, i + 1, "%zu numbers, the first line has %zu", cells, w);
        w = cells;
        rows++;
    }
    free(lines);
    if (!r && rows == 0)
        r = fail(err, -EINVAL, 0, "no numbers");
    if (r) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_rows = rows;
    *ret_cols = w;
    return 0;
}

void cli_parse_emb_metadata_done(struct cli_emb_metadata *m)
{
    if (!m)
        return;
    free(m->lines);
    free(m->header);
    free(m->cells);
    *m = (struct cli_emb_metadata){0};
}

int cli_parse_emb_metadata(char *text, size_t len, const struct cli_emb_limits *lim,
                           struct cli_emb_metadata *m, struct cli_parse_err *err)
{
    if (!lim)
        lim = &cli_emb_limits_default;
    *m = (struct cli_emb_metadata){0};
    size_t n;
    int r = no_nul(text, len, err);
    if (r < 0 || (r = split_lines(text, lim->max_lines, &m->lines, &n, err)) < 0)
        return r;
    while (n > 0 && !*m->lines[n - 1])
        n--;   /* trailing blank lines */
    size_t cols = 1;
    for (const char *p = n ? m->lines[0] : ""; *p; p++)
        cols += *p == '\t';
    size_t first = cols > 1 ? 1 : 0;
    if (n <= first)
        return fail(err, -EINVAL, 0, "no labels");
    size_t rows = n - first;
    /* Checked before the table is allocated: a long first line of tabs
     * and many short lines would ask for rows x columns pointers. */
    if (cols > lim->max_cells / rows)
        return fail(err, -E2BIG, 0, "%zu rows of %zu columns: more than %zu cells", rows, cols,
                    lim->max_cells);
    m->header = cols > 1 ? calloc(cols, sizeof *m->header) : NULL;
    m->cells = calloc(rows * cols, sizeof *m->cells);
    if ((cols > 1 && !m->header) || !m->cells)
        return fail(err, -ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (char *p = m->lines[i], *tab;; p = tab + 1) {
            tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            if (c < cols) {
                if (i < first)
                    m->header[c] = p;
                else
                    m->cells[(i - first) * cols + c] = p;
            }
            c++;
            if (!tab)
                break;
        }
        if (c != cols)
            return fail(err, -EINVAL, i + 1, "%zu columns, the first line has %zu", c, cols);
    }
    m->rows = rows;
    m->n_header = cols > 1 ? cols : 0;
    m->n_cells = rows * cols;
    return 0;
}
