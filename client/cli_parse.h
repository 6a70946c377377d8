/* cli_parse: the text files the tfevents CLI takes apart -- PR curve
 * tables and meshes (PLY, OBJ) of `tfevents log`, custom scalar layouts
 * (JSON), the tensor and metadata TSVs of `tfevents embedding`.
 *
 * Pure: each parser works on a buffer the caller read (cli_log_files.c
 * reads the files, prints the sentence and logs the values), never logs,
 * and says why it refused in a struct cli_parse_err, so that the same
 * code runs under the fuzzers (fuzz/fuzz-cli_*.c). Every text buffer is
 * text[0..len) with text[len] == '\0'; the parsers cut it in place. A NUL
 * byte inside a file is refused (it would silently end the text). */
#ifndef TFEVENTS_CLI_PARSE_H
#define TFEVENTS_CLI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tfevents.h"

/* Numbers on one line of a PLY or OBJ file (a polygon of up to 63
 * vertices in PLY, 64 in OBJ). */
#define MESH_LINE_MAX_FIELDS 64
/* Lines and cells of an embedding TSV we take apart (the library checks
 * the real limits: points x dimensions, metadata bytes, columns). */
#define EMB_MAX_LINES ((size_t)1 << 24)
#define EMB_MAX_CELLS ((size_t)1 << 26)

/* Why a parser refused: a sentence, and the 1-based line it is about (0:
 * the file as a whole). */
struct cli_parse_err {
    size_t line;
    char why[192];
};

/* ---- PR curves ---------------------------------------------------------- */

/* Rows "LABEL PREDICTION [WEIGHT]" (numbers separated by spaces, tabs,
 * commas or semicolons; labels may be true/false; a first line that is
 * not numbers is a header; '#' starts a comment). */
struct cli_pr_table {
    double *labels;
    float *preds;
    double *weights;      /* NULL, or n of them */
    size_t n;
};

void cli_parse_pr_table_done(struct cli_pr_table *t);

/* 0 and at least one row in *t (caller owns; done frees it), -EINVAL or
 * -ENOMEM. */
int cli_parse_pr_table(char *text, size_t len, struct cli_pr_table *t,
                       struct cli_parse_err *err);

/* ---- meshes ------------------------------------------------------------- */

/* An ASCII PLY (vertex x y z [red green blue], face vertex_indices) or an
 * OBJ (v x y z [r g b], f with 1-based or negative indices); polygons are
 * split into triangles (a fan). Colours: 0..255 (PLY float colours and
 * OBJ colours are 0..1). */
struct cli_mesh {
    float *xyz;           /* 3 per vertex */
    size_t n_vertices;
    int32_t *faces;       /* 3 per triangle, each < n_vertices; NULL when none */
    size_t n_faces;
    uint8_t *rgb;         /* NULL, or 3 per vertex */
};

void cli_parse_mesh_done(struct cli_mesh *m);

/* 0 and at least one vertex in *m (caller owns), -EINVAL, -E2BIG (more
 * than MESH_LINE_MAX_FIELDS numbers on a line) or -ENOMEM. A PLY when the
 * text starts with a "ply" line, else OBJ. */
int cli_parse_mesh(char *text, size_t len, struct cli_mesh *m, struct cli_parse_err *err);

/* ---- custom scalar layouts ---------------------------------------------- */

/* The arrays behind the categories of one layout (strings borrowed from
 * the cJSON tree it was built from), freed together. */
struct cli_layout {
    struct tfevents_layout_category *cats;
    size_t n_cats;
    struct tfevents_layout_chart **charts;     /* per category */
    const char ***regexes;                     /* per chart, flat */
    struct tfevents_layout_series **series;
    size_t n_flat;
};

void cli_parse_layout_done(struct cli_layout *l);

/* {"categories": [{"title", "closed"?, "charts": [{"title", "multiline":
 * [regexes]} | {"title", "margin": [{"value", "lower", "upper"}]}]}]} or
 * the categories array alone, from a parsed root (borrowed; it must
 * outlive l). 0, -EINVAL or -ENOMEM; l must be done either way. */
int cli_parse_layout(const cJSON *root, struct cli_layout *l, struct cli_parse_err *err);

/* ---- embedding TSVs ------------------------------------------------------- */

/* The limits a TSV is held to (tests and fuzzers make them small). */
struct cli_emb_limits {
    size_t max_lines, max_cells;
};

/* EMB_MAX_LINES, EMB_MAX_CELLS. */
extern const struct cli_emb_limits cli_emb_limits_default;

/* The tensor: rows of numbers separated by tabs, spaces or commas, every
 * row as long as the first; blank lines skipped. 0 and *ret (caller owns,
 * rows x cols floats), -EINVAL, -E2BIG (past a limit) or -ENOMEM. */
int cli_parse_emb_tensor(char *text, size_t len, const struct cli_emb_limits *lim,
                         float **ret, size_t *ret_rows, size_t *ret_cols,
                         struct cli_parse_err *err);

/* The metadata: with tabs in its first line, a header and that many
 * columns on every line; else one column, a line per point. Trailing
 * blank lines are dropped. The strings point into text (borrowed). */
struct cli_emb_metadata {
    char **lines;
    const char **header;   /* n_header names, or NULL */
    const char **cells;    /* rows x (n_header, or 1) */
    size_t n_header, n_cells, rows;
};

void cli_parse_emb_metadata_done(struct cli_emb_metadata *m);

/* 0, -EINVAL, -E2BIG (past a limit) or -ENOMEM; m must be done either
 * way. */
int cli_parse_emb_metadata(char *text, size_t len, const struct cli_emb_limits *lim,
                           struct cli_emb_metadata *m, struct cli_parse_err *err);

#endif
