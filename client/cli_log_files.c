/* cli_log_files: images, PR curves and meshes for `tfevents log` from
 * files (see cli_log_files.h). */
#include "cli_log_files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "graph.h"

int cli_log_read_file(const char *path, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0             ? -errno
            : !S_ISREG(st.st_mode)          ? -EINVAL
            : (uint64_t)st.st_size > CLI_LOG_MAX_FILE ? -EFBIG
                                            : 0;
    if (e < 0) {
        close(fd);
        return e;
    }
    size_t cap = (size_t)st.st_size, len = 0;
    char *data = malloc(cap + 1);
    if (!data) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t n;
    /* The size may change while we read: never past cap. */
    while (len < cap && (n = read(fd, data + len, cap - len)) != 0) {
        if (n < 0) {
            e = -errno;
            free(data);
            close(fd);
            return e;
        }
        len += (size_t)n;
    }
    close(fd);
    data[len] = '\0';
    *ret = data;
    *ret_len = len;
    return 0;
}

static int read_or_say(const char *path, char **ret, size_t *ret_len)
{
    int r = cli_log_read_file(path, ret, ret_len);
    if (r < 0)
        cli_error("log: %s: %s", path, r == -EFBIG ? "larger than 256 MiB"
                  : r == -EINVAL ? "not a regular file" : strerror(-r));
    return r;
}

int cli_log_image_file(tfevents_values *vs, const char *run, const char *tag,
                       const char *path)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    const void *blob = data;
    if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        r = tfevents_add_image_png(vs, run, tag, &blob, &len, 1);
    else if (len >= 3 && memcmp(data, "\xff\xd8\xff", 3) == 0)
        r = tfevents_add_image_jpeg(vs, run, tag, &blob, &len, 1);
    else if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
        r = tfevents_add_image_gif(vs, run, tag, &blob, &len, 1);
    else
        r = -EMEDIUMTYPE;
    if (r < 0)
        cli_error("log: %s: %s", path, r == -EMEDIUMTYPE ? "not a PNG, JPEG or GIF file"
                  : strerror(-r));
    free(data);
    return r;
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
 * not one. The line is cut at '#'. */
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

int cli_log_pr_curve_file(tfevents_values *vs, const char *run, const char *tag,
                          const char *path, unsigned num_thresholds)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    struct dvec labels = {0}, preds = {0}, weights = {0};
    size_t lineno = 0, width = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); !r && line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        double f[4];
        size_t n;
        int e = line_numbers(line, f, 4, &n);
        if (e == -EINVAL && labels.n == 0 && width == 0)
            continue;   /* a header */
        if (e < 0 || (n != 0 && n != 2 && n != 3) || (n && width && n != width)) {
            cli_error("log: %s:%zu: not LABEL PREDICTION [WEIGHT] (%s)", path, lineno,
                      e < 0 || n > 3 ? "numbers separated by spaces or commas"
                                     : "every row with the same columns");
            r = -EINVAL;
            break;
        }
        if (n == 0)
            continue;
        width = n;
        r = dvec_push(&labels, f[0]);
        if (!r) r = dvec_push(&preds, f[1]);
        if (!r && n == 3) r = dvec_push(&weights, f[2]);
    }
    if (!r && labels.n == 0) {
        cli_error("log: %s: no LABEL PREDICTION rows", path);
        r = -EINVAL;
    }
    float *p32 = !r ? malloc(preds.n * sizeof *p32) : NULL;
    if (!r && !p32)
        r = -ENOMEM;
    for (size_t i = 0; !r && i < preds.n; i++)
        p32[i] = (float)preds.v[i];
    if (!r) {
        r = tfevents_add_pr_curve(vs, run, tag, labels.v, p32, labels.n,
                                  weights.n ? weights.v : NULL, weights.n, num_thresholds);
        if (r < 0)
            cli_error("log: %s: %s", path, strerror(-r));
    }
    free(p32);
    free(labels.v);
    free(preds.v);
    free(weights.v);
    free(data);
    return r;
}

/* ---- meshes ------------------------------------------------------------- */

struct mesh {
    struct dvec xyz, rgb;      /* 3 per vertex; rgb empty or 3 per vertex */
    struct dvec faces;         /* 3 per triangle, 0-based */
};

/* Triangles of a polygon idx[0..n) (a fan from its first vertex). */
static int add_polygon(struct mesh *m, const double *idx, size_t n)
{
    int r = 0;
    for (size_t k = 1; !r && k + 1 < n; k++) {
        r = dvec_push(&m->faces, idx[0]);
        if (!r) r = dvec_push(&m->faces, idx[k]);
        if (!r) r = dvec_push(&m->faces, idx[k + 1]);
    }
    return r;
}

#define MESH_LINE_MAX_FIELDS 64

/* An ASCII PLY: header, then the vertex and face elements (others skipped). */
static int parse_ply(struct mesh *m, char *data, const char *path)
{
    char *save = NULL, *line;
    size_t lineno = 0, counts[8] = {0}, n_el = 0;
    int roles[8][16];          /* per element, per property: 0-2 xyz, 3-5 rgb, 6 list, -1 */
    size_t n_props[8] = {0};
    bool float_rgb = false, ascii = false;
    char kinds[8] = {0};       /* 'v' vertex, 'f' face, '?' other */
    while ((line = strtok_r(lineno ? NULL : data, "\n", &save))) {
        lineno++;
        char *w[6] = {0};
        size_t nw = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, " \t\r", &s2); t && nw < 6; t = strtok_r(NULL, " \t\r", &s2))
            w[nw++] = t;
        if (nw == 0 || strcmp(w[0], "comment") == 0 || strcmp(w[0], "obj_info") == 0 ||
            strcmp(w[0], "ply") == 0)
            continue;
        if (strcmp(w[0], "format") == 0) {
            ascii = nw > 1 && strcmp(w[1], "ascii") == 0;
        } else if (strcmp(w[0], "element") == 0 && nw == 3 && n_el < 8) {
            kinds[n_el] = strcmp(w[1], "vertex") == 0 ? 'v' : strcmp(w[1], "face") == 0 ? 'f' : '?';
            counts[n_el++] = strtoull(w[2], NULL, 10);
        } else if (strcmp(w[0], "property") == 0 && n_el > 0 && n_props[n_el - 1] < 16) {
            static const char *const names[6] = {"x", "y", "z", "red", "green", "blue"};
            const char *pname = w[nw - 1];
            int role = strcmp(w[1], "list") == 0 ? 6 : -1;
            for (int k = 0; role < 0 && k < 6; k++)
                if (strcmp(pname, names[k]) == 0)
                    role = k;
            if (role >= 3 && role < 6 && (strcmp(w[1], "float") == 0 || strcmp(w[1], "double") == 0))
                float_rgb = true;
            roles[n_el - 1][n_props[n_el - 1]++] = role;
        } else if (strcmp(w[0], "end_header") == 0) {
            break;
        } else {
            cli_error("log: %s:%zu: not a PLY header line", path, lineno);
            return -EINVAL;
        }
    }
    if (!line || !ascii) {
        cli_error("log: %s: %s", path, !ascii ? "only ASCII PLY files are read (format ascii 1.0)"
                                              : "no end_header");
        return -EINVAL;
    }
    int r = 0;
    for (size_t e = 0; !r && e < n_el; e++) {
        for (size_t i = 0; !r && i < counts[e]; i++) {
            if (!(line = strtok_r(NULL, "\n", &save))) {
                cli_error("log: %s: ends before its %zu elements", path, counts[e]);
                return -EINVAL;
            }
            lineno++;
            double f[MESH_LINE_MAX_FIELDS];
            size_t n;
            if (line_numbers(line, f, MESH_LINE_MAX_FIELDS, &n) < 0) {
                cli_error("log: %s:%zu: not numbers", path, lineno);
                return -EINVAL;
            }
            if (kinds[e] == 'f') {
                if (n < 1 || f[0] < 3 || (size_t)f[0] + 1 != n) {
                    cli_error("log: %s:%zu: not a polygon (COUNT INDEX...)", path, lineno);
                    return -EINVAL;
                }
                r = add_polygon(m, f + 1, n - 1);
            } else if (kinds[e] == 'v') {
                double v[6] = {0};
                bool rgb = false;
                for (size_t k = 0; k < n_props[e] && k < n; k++)
                    if (roles[e][k] >= 0 && roles[e][k] < 6) {
                        v[roles[e][k]] = f[k];
                        rgb |= roles[e][k] >= 3;
                    }
                for (int k = 0; !r && k < 3; k++)
                    r = dvec_push(&m->xyz, v[k]);
                for (int k = 3; !r && rgb && k < 6; k++)
                    r = dvec_push(&m->rgb, float_rgb ? v[k] * 255.0 : v[k]);
            }
        }
    }
    return r;
}

/* A Wavefront OBJ: v and f lines (others skipped). */
static int parse_obj(struct mesh *m, char *data, const char *path)
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
        if (line[0] == 'v' && (line[1] == ' ' || line[1] == '\t')) {
            if (line_numbers(line + 2, f, MESH_LINE_MAX_FIELDS, &n) < 0 || (n != 3 && n != 4 &&
                                                                            n != 6)) {
                cli_error("log: %s:%zu: not 'v X Y Z [R G B]'", path, lineno);
                return -EINVAL;
            }
            for (int k = 0; !r && k < 3; k++)
                r = dvec_push(&m->xyz, f[k]);
            /* Colours in OBJ (a common extension) are 0..1. */
            for (int k = 3; !r && n == 6 && k < 6; k++)
                r = dvec_push(&m->rgb, f[k] * 255.0);
        } else if (line[0] == 'f' && (line[1] == ' ' || line[1] == '\t')) {
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
            if (line_numbers(line + 2, f, MESH_LINE_MAX_FIELDS, &n) < 0 || n < 3) {
                cli_error("log: %s:%zu: not 'f V V V...'", path, lineno);
                return -EINVAL;
            }
            size_t nv = m->xyz.n / 3;
            for (size_t k = 0; k < n; k++)   /* 1-based; negative: from the end */
                f[k] = f[k] < 0 ? (double)nv + f[k] : f[k] - 1;
            r = add_polygon(m, f, n);
        }
    }
    return r;
}

int cli_log_mesh_file(tfevents_values *vs, const char *run, const char *name,
                      const char *path, const char *config)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    struct mesh m = {0};
    bool ply = strncmp(data, "ply", 3) == 0 && (data[3] == '\n' || data[3] == '\r');
    r = ply ? parse_ply(&m, data, path) : parse_obj(&m, data, path);
    size_t nv = m.xyz.n / 3, nf = m.faces.n / 3;
    if (!r && nv == 0) {
        cli_error("log: %s: no vertices (an ASCII PLY or an OBJ file)", path);
        r = -EINVAL;
    }
    if (!r && m.rgb.n && m.rgb.n != m.xyz.n) {
        cli_error("log: %s: colours for some vertices only", path);
        r = -EINVAL;
    }
    float *xyz = r ? NULL : malloc(m.xyz.n * sizeof *xyz);
    int32_t *faces = r || !nf ? NULL : malloc(m.faces.n * sizeof *faces);
    uint8_t *rgb = r || !m.rgb.n ? NULL : malloc(m.rgb.n);
    if (!r && (!xyz || (nf && !faces) || (m.rgb.n && !rgb)))
        r = -ENOMEM;
    for (size_t i = 0; !r && i < m.xyz.n; i++)
        xyz[i] = (float)m.xyz.v[i];
    for (size_t i = 0; !r && i < m.faces.n; i++) {
        if (!(m.faces.v[i] >= 0 && m.faces.v[i] < (double)nv)) {
            cli_error("log: %s: a face names vertex %.0f of %zu", path, m.faces.v[i] + 1, nv);
            r = -EINVAL;
        } else {
            faces[i] = (int32_t)m.faces.v[i];
        }
    }
    for (size_t i = 0; !r && i < m.rgb.n; i++) {
        double c = round(m.rgb.v[i]);
        rgb[i] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c);
    }
    if (!r) {
        r = tfevents_add_mesh(vs, run, name, xyz, nv, faces, nf, rgb, 1, config);
        if (r < 0)
            cli_error("log: %s: %s", path, strerror(-r));
    }
    free(xyz);
    free(faces);
    free(rgb);
    free(m.xyz.v);
    free(m.rgb.v);
    free(m.faces.v);
    free(data);
    return r;
}

/* ---- custom scalar layouts ---------------------------------------------- */

/* The arrays built from one layout file, freed together. */
struct layout_store {
    struct tfevents_layout_category *cats;
    struct tfevents_layout_chart **charts;     /* per category */
    const char ***regexes;                     /* per category * chart, flat */
    struct tfevents_layout_series **series;
    size_t n_cats, n_flat;
};

static void layout_store_free(struct layout_store *s)
{
    for (size_t i = 0; i < s->n_cats; i++)
        free(s->charts[i]);
    for (size_t i = 0; i < s->n_flat; i++) {
        free(s->regexes[i]);
        free(s->series[i]);
    }
    free(s->cats);
    free(s->charts);
    free(s->regexes);
    free(s->series);
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One chart of a layout file into ch (its arrays kept in s at slot). */
static int layout_chart_of(const cJSON *j, struct tfevents_layout_chart *ch,
                           struct layout_store *s, size_t slot, const char **why)
{
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(j, "multiline");
    const cJSON *mg = cJSON_GetObjectItemCaseSensitive(j, "margin");
    ch->title = str_of(j, "title");
    if (!cJSON_IsObject(j) || !ch->title || !cJSON_IsArray(ml) == !cJSON_IsArray(mg)) {
        *why = "a chart is {\"title\", \"multiline\": [regexes]} or {\"title\", \"margin\": "
               "[{\"value\", \"lower\", \"upper\"}]}";
        return -EINVAL;
    }
    size_t n = (size_t)cJSON_GetArraySize(ml ? ml : mg), k = 0;
    const cJSON *e;
    if (cJSON_IsArray(ml)) {
        const char **v = calloc(n ? n : 1, sizeof *v);
        if (!(s->regexes[slot] = v))
            return -ENOMEM;
        cJSON_ArrayForEach(e, ml) {
            if (!cJSON_IsString(e)) {
                *why = "\"multiline\" holds tag regexes (strings)";
                return -EINVAL;
            }
            v[k++] = e->valuestring;
        }
        ch->multiline = v;
        ch->n_multiline = n;
        return 0;
    }
    struct tfevents_layout_series *v = calloc(n ? n : 1, sizeof *v);
    if (!(s->series[slot] = v))
        return -ENOMEM;
    cJSON_ArrayForEach(e, mg) {
        v[k] = (struct tfevents_layout_series){str_of(e, "value"), str_of(e, "lower"),
                                               str_of(e, "upper")};
        if (!v[k].value || !v[k].lower || !v[k].upper) {
            *why = "a margin series is {\"value\", \"lower\", \"upper\"} (scalar tags)";
            return -EINVAL;
        }
        k++;
    }
    ch->margin = v;
    ch->n_margin = n;
    return 0;
}

static int layout_of(const cJSON *root, struct layout_store *s, const char **why)
{
    const cJSON *cats = cJSON_IsArray(root) ? root
                        : cJSON_GetObjectItemCaseSensitive(root, "categories");
    *why = "a layout is {\"categories\": [{\"title\", \"closed\"?, \"charts\": [...]}]}";
    if (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) == 0)
        return -EINVAL;
    size_t n = (size_t)cJSON_GetArraySize(cats), flat = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cats) {
        const cJSON *charts = cJSON_GetObjectItemCaseSensitive(c, "charts");
        if (!cJSON_IsArray(charts) || !str_of(c, "title"))
            return -EINVAL;
        flat += (size_t)cJSON_GetArraySize(charts);
    }
    s->cats = calloc(n, sizeof *s->cats);
    s->charts = calloc(n, sizeof *s->charts);
    s->regexes = calloc(flat ? flat : 1, sizeof *s->regexes);
    s->series = calloc(flat ? flat : 1, sizeof *s->series);
    if (!s->cats || !s->charts || !s->regexes || !s->series)
        return -ENOMEM;
    s->n_cats = n;
    s->n_flat = flat;
    size_t i = 0, slot = 0;
    int r = 0;
    cJSON_ArrayForEach(c, cats) {
        const cJSON *charts = cJSON_GetObjectItemCaseSensitive(c, "charts");
        size_t m = (size_t)cJSON_GetArraySize(charts), k = 0;
        struct tfevents_layout_category *cat = &s->cats[i];
        cat->title = str_of(c, "title");
        cat->closed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "closed"));
        if (!(s->charts[i] = calloc(m ? m : 1, sizeof **s->charts)))
            return -ENOMEM;
        const cJSON *ch;
        cJSON_ArrayForEach(ch, charts) {
            if ((r = layout_chart_of(ch, &s->charts[i][k++], s, slot++, why)) < 0)
                return r;
        }
        cat->charts = s->charts[i];
        cat->n_charts = m;
        i++;
    }
    return 0;
}

int cli_log_layout_file(tfevents_values *vs, const char *run, const char *path)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len + 1, NULL, 1);   /* all of it */
    struct layout_store s = {0};
    const char *why = "not JSON";
    r = root ? layout_of(root, &s, &why) : -EINVAL;
    if (r == -EINVAL)
        cli_error("log: %s: %s", path, why);
    if (!r && (r = tfevents_add_custom_scalars(vs, run, s.cats, s.n_cats)) < 0)
        cli_error("log: %s: %s", path, strerror(-r));
    layout_store_free(&s);
    cJSON_Delete(root);
    free(data);
    return r;
}

/* ---- graphs and run metadata -------------------------------------------- */

int cli_log_graph_file(const char *path, bool run_metadata, char **ret, size_t *ret_len)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    enum graph_kind kind = run_metadata ? GRAPH_RUN_METADATA : GRAPH_DEF;
    char why[256] = "";
    r = graph_check(kind, data, len, NULL, why, sizeof why);
    if (r == -EBADMSG)
        cli_error("log: %s does not parse as a %s: %s; TensorBoard's graphs dashboard would "
                  "fail on it, so nothing was logged", path, graph_kind_name(kind), why);
    else if (r == -EINVAL)
        cli_error("log: %s is empty (not a %s)", path, graph_kind_name(kind));
    else if (r == -EMSGSIZE)
        cli_error("log: %s is larger than %u MiB, the limit of a %s", path,
                  GRAPH_MAX_BYTES >> 20, graph_kind_name(kind));
    else if (r < 0)
        cli_error("log: %s: %s", path, strerror(-r));
    if (r < 0) {
        free(data);
        return r;
    }
    *ret = data;
    *ret_len = len;
    return 0;
}
