/* cli_parse: the CLI's file parsers (client/cli_parse.c) on real lines --
 * meshes (PLY, OBJ), PR curve tables, embedding TSVs, layouts -- and
 * their limits, each reached exactly: MESH_LINE_MAX_FIELDS, and the
 * embedding limits made small (EMB_MAX_CELLS of a tensor needs a file of
 * 128 MiB; tests/test-cli-kinds.py reaches the others through the CLI).
 * Also the inputs the fuzzers (fuzz/fuzz-cli_*.c) and a review found:
 * a PLY "property" line alone (a NULL dereference), a NaN or huge
 * polygon count and a NaN colour (undefined casts), a NUL byte. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/cli_parse.h"
#include "test.h"

/* text in a writable, exactly sized copy (as cli_log_read_file gives). */
static char *dup_text(const char *s, size_t len)
{
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, s, len);
        t[len] = '\0';
    }
    return t;
}

static int mesh(const char *s, struct cli_mesh *m, struct cli_parse_err *err)
{
    char *t = dup_text(s, strlen(s));
    int r = t ? cli_parse_mesh(t, strlen(s), m, err) : -ENOMEM;
    free(t);
    return r;
}

/* "f 1 2 ... n" after n vertices. */
static char *obj_fan(size_t n)
{
    static char text[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "v %zu 0 %zu\n", i, i * i);
    k += (size_t)snprintf(text + k, sizeof text - k, "f");
    for (size_t i = 1; i <= n; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, " %zu", i);
    snprintf(text + k, sizeof text - k, "\n");
    return text;
}

static void test_obj(void)
{
    struct cli_mesh m;
    struct cli_parse_err err;
    CHECK_EQ(mesh("v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0 0 0.5\nvn 0 0 1\n"
                  "f 1/1/1 2//1 -1\n", &m, &err), 0);
    CHECK_EQ(m.n_vertices, 3);
    CHECK_EQ(m.n_faces, 1);
    REQUIRE(m.faces && m.rgb);
    CHECK(m.faces[0] == 0 && m.faces[1] == 1 && m.faces[2] == 2);
    CHECK(m.rgb[0] == 255 && m.rgb[4] == 255 && m.rgb[8] == 128);
    cli_parse_mesh_done(&m);
    /* MESH_LINE_MAX_FIELDS vertices in one polygon: a fan of 62 triangles;
     * one more is refused with the limit in the sentence. */
    CHECK_EQ(mesh(obj_fan(MESH_LINE_MAX_FIELDS), &m, &err), 0);
    CHECK_EQ(m.n_faces, MESH_LINE_MAX_FIELDS - 2);
    cli_parse_mesh_done(&m);
    CHECK_EQ(mesh(obj_fan(MESH_LINE_MAX_FIELDS + 1), &m, &err), -E2BIG);
    CHECK_EQ(err.line, MESH_LINE_MAX_FIELDS + 2);
    CHECK_STR(err.why, "more than 64 numbers on a line");
    CHECK(!m.xyz && !m.faces);
    /* Indices: 0, past the end, not whole. */
    CHECK_EQ(mesh("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "a face names vertex 0 of 3");
    CHECK_EQ(mesh("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "a face names vertex 4 of 3");
    CHECK_EQ(mesh("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 2.5\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "a face names vertex 2.5 of 3");
    CHECK_EQ(mesh("v 0 0 0\nv 1 0 0\nf 1 2 nan\n", &m, &err), -EINVAL);
    /* A face field cut after its '/' (once read past the line). */
    CHECK_EQ(mesh("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1/", &m, &err), -EINVAL);
    CHECK_EQ(err.line, 4);
    CHECK_EQ(mesh("# nothing\nvt 0 0\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "no vertices (an ASCII PLY or an OBJ file)");
    CHECK_EQ(mesh("v 0 0 0 1 1 1\nv 1 0 0\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "colours for some vertices only");
}

static const char ply_head[] =
    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
    "property float z\nproperty float red\nproperty float green\nproperty float blue\n"
    "element face 1\nproperty list uchar int vertex_indices\nend_header\n";

static int ply(const char *body, struct cli_mesh *m, struct cli_parse_err *err)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s", ply_head, body);
    return mesh(text, m, err);
}

static void test_ply(void)
{
    struct cli_mesh m;
    struct cli_parse_err err;
    CHECK_EQ(ply("0 0 0 1 0 0\n1 0 0 0 0.5 0\n0 1 0 0 0 1\n3 2 1 0\n", &m, &err), 0);
    CHECK_EQ(m.n_vertices, 3);
    CHECK_EQ(m.n_faces, 1);
    REQUIRE(m.rgb && m.faces);
    CHECK(m.rgb[0] == 255 && m.rgb[4] == 128 && m.faces[0] == 2);
    cli_parse_mesh_done(&m);
    /* A NaN colour is 0, not an undefined cast. */
    CHECK_EQ(ply("0 0 0 nan 2 -1\n1 0 0 0 0 0\n0 1 0 0 0 0\n3 0 1 2\n", &m, &err), 0);
    REQUIRE(m.rgb);
    CHECK(m.rgb[0] == 0 && m.rgb[1] == 255 && m.rgb[2] == 0);
    cli_parse_mesh_done(&m);
    /* Polygon counts that are no size: NaN, huge, not the count given. */
    const char *verts = "0 0 0 0 0 0\n1 0 0 0 0 0\n0 1 0 0 0 0\n";
    const char *faces[] = {"nan 0 1 2\n", "1e300 0 1 2\n", "-3 0 1 2\n", "4 0 1 2\n",
                           "2 0 1\n"};
    for (size_t i = 0; i < sizeof faces / sizeof *faces; i++) {
        char body[256];
        snprintf(body, sizeof body, "%s%s", verts, faces[i]);
        CHECK_EQ(ply(body, &m, &err), -EINVAL);
        CHECK_EQ(err.line, 16);
        CHECK_STR(err.why, "not a polygon (COUNT INDEX...)");
    }
    /* MESH_LINE_MAX_FIELDS numbers on an element line. */
    char body[4096];
    size_t k = (size_t)snprintf(body, sizeof body, "%s", verts);
    k += (size_t)snprintf(body + k, sizeof body - k, "%d", MESH_LINE_MAX_FIELDS);
    for (int i = 0; i < MESH_LINE_MAX_FIELDS; i++)
        k += (size_t)snprintf(body + k, sizeof body - k, " %d", i % 3);
    snprintf(body + k, sizeof body - k, "\n");
    CHECK_EQ(ply(body, &m, &err), -E2BIG);
    CHECK_STR(err.why, "more than 64 numbers on a line");
    /* A "property" line without a type and name (a NULL dereference once). */
    CHECK_EQ(mesh("ply\nformat ascii 1.0\nelement vertex 1\nproperty\nend_header\n0 0 0\n",
                  &m, &err), -EINVAL);
    CHECK_EQ(err.line, 4);
    CHECK_STR(err.why, "not a PLY header line");
    CHECK_EQ(mesh("ply\nformat binary_little_endian 1.0\nend_header\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "only ASCII PLY files are read (format ascii 1.0)");
    CHECK_EQ(ply("0 0 0 0 0 0\n", &m, &err), -EINVAL);
    CHECK_STR(err.why, "ends before its 3 elements");
}

static void test_nul(void)
{
    static const char text[] = "v 0 0 0\nv 1 0 0\nv 0 1\0 0\nf 1 2 3\n";
    char *t = dup_text(text, sizeof text - 1);
    REQUIRE(t);
    struct cli_mesh m;
    struct cli_parse_err err;
    CHECK_EQ(cli_parse_mesh(t, sizeof text - 1, &m, &err), -EINVAL);
    CHECK_EQ(err.line, 3);
    CHECK_STR(err.why, "a NUL byte (not a text file)");
    free(t);
}

static int pr(const char *s, struct cli_pr_table *t, struct cli_parse_err *err)
{
    char *x = dup_text(s, strlen(s));
    int r = x ? cli_parse_pr_table(x, strlen(s), t, err) : -ENOMEM;
    free(x);
    return r;
}

static void test_pr_table(void)
{
    struct cli_pr_table t;
    struct cli_parse_err err;
    CHECK_EQ(pr("label,prediction\n# a comment\ntrue, 0.75\nFALSE;0.25 # x\n\n1\t1\n", &t,
                &err), 0);
    CHECK_EQ(t.n, 3);
    CHECK(!t.weights);
    REQUIRE(t.labels && t.preds);
    CHECK(t.labels[0] == 1 && t.labels[1] == 0 && t.preds[1] == 0.25f && t.preds[2] == 1);
    cli_parse_pr_table_done(&t);
    CHECK_EQ(pr("1 0.5 2\n0 0.5 1\n", &t, &err), 0);
    REQUIRE(t.weights);
    CHECK(t.weights[0] == 2 && t.weights[1] == 1);
    cli_parse_pr_table_done(&t);
    CHECK_EQ(pr("1 0.5\n0 0.5 1\n", &t, &err), -EINVAL);
    CHECK_EQ(err.line, 2);
    CHECK_STR(err.why, "not LABEL PREDICTION [WEIGHT] (every row with the same columns)");
    CHECK_EQ(pr("1 0.5 1 1\n", &t, &err), -EINVAL);
    CHECK_EQ(pr("1 0.5 1 1 1\n", &t, &err), -EINVAL);
    CHECK_STR(err.why, "not LABEL PREDICTION [WEIGHT] (numbers separated by spaces or commas)");
    CHECK_EQ(pr("label prediction\n", &t, &err), -EINVAL);
    CHECK_STR(err.why, "no LABEL PREDICTION rows");
    CHECK(!t.labels && !t.preds);
}

static int tensor(const char *s, const struct cli_emb_limits *lim, float **v, size_t *rows,
                  size_t *cols, struct cli_parse_err *err)
{
    char *x = dup_text(s, strlen(s));
    int r = x ? cli_parse_emb_tensor(x, strlen(s), lim, v, rows, cols, err) : -ENOMEM;
    free(x);
    return r;
}

static void test_emb_tensor(void)
{
    float *v;
    size_t rows, cols;
    struct cli_parse_err err;
    CHECK_EQ(tensor("0.5\t-1\t2\n\n0.25 0,1e-3\r\n", NULL, &v, &rows, &cols, &err), 0);
    CHECK(rows == 2 && cols == 3);
    CHECK(v[0] == 0.5f && v[1] == -1 && v[5] == 1e-3f);
    free(v);
    CHECK_EQ(tensor("1\t2\n3\n", NULL, &v, &rows, &cols, &err), -EINVAL);
    CHECK_EQ(err.line, 2);
    CHECK_STR(err.why, "1 numbers, the first line has 2");
    CHECK_EQ(tensor("1\tx2\n", NULL, &v, &rows, &cols, &err), -EINVAL);
    CHECK_STR(err.why, "'x2' is not a number");
    CHECK_EQ(tensor("\n\n", NULL, &v, &rows, &cols, &err), -EINVAL);
    CHECK_STR(err.why, "no numbers");
    /* The limits, exactly: 3 lines and 6 cells pass, one more does not. */
    const struct cli_emb_limits lim = {3, 6};
    CHECK_EQ(tensor("1 2\n3 4\n5 6\n", &lim, &v, &rows, &cols, &err), 0);
    CHECK(rows == 3 && cols == 2);
    free(v);
    CHECK_EQ(tensor("1 2\n3 4\n5 6\n\n", &lim, &v, &rows, &cols, &err), -E2BIG);
    CHECK_STR(err.why, "more than 3 lines");
    CHECK_EQ(tensor("1 2 3\n4 5 6 7\n", &lim, &v, &rows, &cols, &err), -E2BIG);
    CHECK_EQ(err.line, 2);
    CHECK_STR(err.why, "more than 6 numbers");
    /* The defaults are the named limits. */
    CHECK_EQ(cli_emb_limits_default.max_lines, EMB_MAX_LINES);
    CHECK_EQ(cli_emb_limits_default.max_cells, EMB_MAX_CELLS);
}

static int metadata(const char *s, const struct cli_emb_limits *lim, struct cli_emb_metadata *m,
                    struct cli_parse_err *err, char **keep)
{
    *keep = dup_text(s, strlen(s));
    return *keep ? cli_parse_emb_metadata(*keep, strlen(s), lim, m, err) : -ENOMEM;
}

static void test_emb_metadata(void)
{
    struct cli_emb_metadata m;
    struct cli_parse_err err;
    char *text;
    CHECK_EQ(metadata("cat\ndog\n\nbird\n\n\n", NULL, &m, &err, &text), 0);
    CHECK(m.rows == 4 && m.n_header == 0 && !m.header && m.n_cells == 4);
    CHECK_STR(m.cells[2], "");
    CHECK_STR(m.cells[3], "bird");
    cli_parse_emb_metadata_done(&m);
    free(text);
    CHECK_EQ(metadata("name\tkind\nrex\tdog\r\ntom\tcat\n", NULL, &m, &err, &text), 0);
    CHECK(m.rows == 2 && m.n_header == 2 && m.n_cells == 4);
    CHECK_STR(m.header[1], "kind");
    CHECK_STR(m.cells[1], "dog");
    CHECK_STR(m.cells[2], "tom");
    cli_parse_emb_metadata_done(&m);
    free(text);
    CHECK_EQ(metadata("name\tkind\nrex\n", NULL, &m, &err, &text), -EINVAL);
    CHECK_EQ(err.line, 2);
    CHECK_STR(err.why, "1 columns, the first line has 2");
    cli_parse_emb_metadata_done(&m);
    free(text);
    /* Rows x columns is checked before the table is allocated. */
    const struct cli_emb_limits lim = {4, 6};
    CHECK_EQ(metadata("a\tb\tc\n1\t2\t3\n4\t5\t6\n", &lim, &m, &err, &text), 0);
    cli_parse_emb_metadata_done(&m);
    free(text);
    CHECK_EQ(metadata("a\tb\tc\n1\n2\n3\n", &lim, &m, &err, &text), -E2BIG);
    CHECK_STR(err.why, "3 rows of 3 columns: more than 6 cells");
    CHECK(!m.cells);
    cli_parse_emb_metadata_done(&m);
    free(text);
    CHECK_EQ(metadata("a\nb\nc\nd\ne\n", &lim, &m, &err, &text), -E2BIG);
    CHECK_STR(err.why, "more than 4 lines");
    cli_parse_emb_metadata_done(&m);
    free(text);
}

static void test_layout(void)
{
    const char *ok = "{\"categories\": [{\"title\": \"c\", \"closed\": true, \"charts\": ["
                     "{\"title\": \"m\", \"multiline\": [\"a.*\", \"b\"]},"
                     "{\"title\": \"g\", \"margin\": [{\"value\": \"v\", \"lower\": \"l\","
                     " \"upper\": \"u\"}]}]}]}";
    cJSON *root = cJSON_Parse(ok);
    REQUIRE(root);
    struct cli_layout l;
    struct cli_parse_err err;
    CHECK_EQ(cli_parse_layout(root, &l, &err), 0);
    REQUIRE(l.n_cats == 1 && l.cats[0].n_charts == 2);
    CHECK(l.cats[0].closed);
    CHECK_STR(l.cats[0].charts[0].multiline[1], "b");
    CHECK_STR(l.cats[0].charts[1].margin[0].upper, "u");
    cli_parse_layout_done(&l);
    cJSON_Delete(root);
    const char *bad[] = {
        "[]", "{\"categories\": {}}", "[{\"title\": \"c\"}]",
        "[{\"title\": \"c\", \"charts\": [{\"title\": \"x\"}]}]",
        "[{\"title\": \"c\", \"charts\": [{\"title\": \"x\", \"multiline\": [1]}]}]",
        "[{\"title\": \"c\", \"charts\": [{\"title\": \"x\", \"margin\": [{\"value\": \"v\"}]}]}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        root = cJSON_Parse(bad[i]);
        REQUIRE(root);
        CHECK_EQ(cli_parse_layout(root, &l, &err), -EINVAL);
        CHECK(err.why[0] != '\0');
        cli_parse_layout_done(&l);
        cJSON_Delete(root);
    }
}

TEST_MAIN(TEST(test_obj), TEST(test_ply), TEST(test_nul), TEST(test_pr_table),
          TEST(test_emb_tensor), TEST(test_emb_metadata), TEST(test_layout))
