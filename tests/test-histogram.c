/* Histogram bucketing: TensorBoard's own algorithm, checked by hand on small
 * inputs and against every case of golden/histogram/cases.json. */
#include <errno.h>

#include <cjson/cJSON.h>

#include "histogram.h"
#include "summary.h"
#include "test.h"

static void check_rows(const double *got, const double (*want)[3], size_t k)
{
    for (size_t i = 0; i < k; i++) {
        for (int j = 0; j < 3; j++) {
            if (got[3 * i + j] != want[i][j]) {
                fprintf(stderr, "row %zu col %d: got %.17g want %.17g\n", i, j,
                        got[3 * i + j], want[i][j]);
                test_failures_++;
            }
        }
    }
}

static void test_empty(void)
{
    double rows[3 * 30];
    for (size_t i = 0; i < 90; i++)
        rows[i] = 42;
    CHECK_EQ(histogram_compute(NULL, 0, 30, rows), 0);
    for (size_t i = 0; i < 90; i++)
        CHECK(rows[i] == 0);
    /* k = 0: nothing written, with or without data. */
    double data[3] = {1, 2, 3};
    rows[0] = 42;
    CHECK_EQ(histogram_compute(data, 3, 0, rows), 0);
    CHECK(rows[0] == 42);
}

static void test_constant(void)
{
    double data[4] = {2, 2, 2, 2};
    double rows[15];
    CHECK_EQ(histogram_compute(data, 4, 5, rows), 0);
    static const double want[5][3] = {{2, 2, 0}, {2, 2, 0}, {2, 2, 0}, {2, 2, 0}, {2, 2, 4}};
    check_rows(rows, want, 5);

    double one = -3.5;
    double rows1[3];
    CHECK_EQ(histogram_compute(&one, 1, 1, rows1), 0);
    static const double want1[1][3] = {{-3.5, -3.5, 1}};
    check_rows(rows1, want1, 1);
}

static void test_hand_cases(void)
{
    /* Width 0.5: the max lands in the last bucket (clamped index). */
    double a[5] = {0, 0.5, 1, 1, 2};
    double rows[12];
    CHECK_EQ(histogram_compute(a, 5, 4, rows), 0);
    static const double wa[4][3] = {{0, 0.5, 1}, {0.5, 1, 1}, {1, 1.5, 2}, {1.5, 2, 1}};
    check_rows(rows, wa, 4);

    /* Negative range, width 1. */
    double b[5] = {-5, -4.5, -3, -1, -1};
    CHECK_EQ(histogram_compute(b, 5, 4, rows), 0);
    static const double wb[4][3] = {{-5, -4, 2}, {-4, -3, 0}, {-3, -2, 1}, {-2, -1, 2}};
    check_rows(rows, wb, 4);

    /* k = 1 holds everything between min and max. */
    double c[3] = {3, 1, 2};
    CHECK_EQ(histogram_compute(c, 3, 1, rows), 0);
    static const double wc[1][3] = {{1, 3, 3}};
    check_rows(rows, wc, 1);

    /* Counts always add up to n. */
    double d[1000];
    for (int i = 0; i < 1000; i++)
        d[i] = sin(i * 0.37) * 1e3;
    double r30[90];
    CHECK_EQ(histogram_compute(d, 1000, 30, r30), 0);
    double total = 0;
    for (int i = 0; i < 30; i++) {
        total += r30[3 * i + 2];
        CHECK(r30[3 * i] <= r30[3 * i + 1]);
        if (i)
            CHECK(r30[3 * i] == r30[3 * i - 2]);
    }
    CHECK(total == 1000);
}

static void test_rejects(void)
{
    double rows[9];
    double nan_data[3] = {1, NAN, 3};
    double inf_data[3] = {1, 2, INFINITY};
    double ninf_data[3] = {-INFINITY, 1, 2};
    double overflow[2] = {-1e308, 1e308};
    double ok[2] = {1, 2};
    CHECK_EQ(histogram_compute(nan_data, 3, 3, rows), -EINVAL);
    CHECK_EQ(histogram_compute(inf_data, 3, 3, rows), -EINVAL);
    CHECK_EQ(histogram_compute(ninf_data, 3, 3, rows), -EINVAL);
    CHECK_EQ(histogram_compute(overflow, 2, 2, rows), -EINVAL);
    CHECK_EQ(histogram_compute(ok, 2, -1, rows), -EINVAL);
    CHECK_EQ(histogram_compute(NULL, 0, -1, rows), -EINVAL);
    CHECK_EQ(histogram_compute(ok, 2, HISTOGRAM_MAX_BUCKETS + 1, rows), -EINVAL);
    CHECK_EQ(histogram_compute(ok, HISTOGRAM_MAX_ELEMENTS + 1, 3, rows), -EMSGSIZE);

    struct summary_value v;
    summary_value_init(&v);
    CHECK_EQ(summary_histogram(&v, "h", nan_data, 3, 3, NULL), -EINVAL);
    CHECK(strlen(summary_last_error()) > 0);
    CHECK_EQ(v.body.len, 0);
    CHECK_EQ(summary_histogram(&v, "h", ok, 2, -1, NULL), -EINVAL);
    summary_value_done(&v);
}

static void test_check_buckets(void)
{
    double edges[4] = {0, 1, 1, 3};
    double counts[3] = {2, 0, 5};
    CHECK_EQ(histogram_check_buckets(edges, counts, 3), 0);
    CHECK_EQ(histogram_check_buckets(edges, counts, 0), 0);
    double bad_edges[4] = {0, 2, 1, 3};
    CHECK_EQ(histogram_check_buckets(bad_edges, counts, 3), -EINVAL);
    double inf_edges[4] = {0, 1, 2, INFINITY};
    CHECK_EQ(histogram_check_buckets(inf_edges, counts, 3), -EINVAL);
    double neg_counts[3] = {2, -1, 5};
    CHECK_EQ(histogram_check_buckets(edges, neg_counts, 3), -EINVAL);
    double nan_counts[3] = {2, NAN, 5};
    CHECK_EQ(histogram_check_buckets(edges, nan_counts, 3), -EINVAL);
}

/* Decode what the builder wrote and compare the [k,3] rows. */
static void check_summary_rows(const struct summary_value *v, const double *rows, size_t k)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    REQUIRE(summary_value_encode(&out, v, true) == 0);
    Tensorboard__Summary *s = tensorboard__summary__unpack(NULL, out.len, out.data);
    REQUIRE(s && s->n_value == 1);
    Tensorboard__Summary__Value *val = s->value[0];
    CHECK(val->value_case == TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR);
    CHECK_STR(val->metadata->plugin_data->plugin_name, "histograms");
    CHECK_EQ(val->metadata->data_class, TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR);
    Tensorboard__TensorProto *t = val->tensor;
    CHECK_EQ(t->dtype, TENSORBOARD__DATA_TYPE__DT_DOUBLE);
    REQUIRE(t->tensor_shape && t->tensor_shape->n_dim == 2);
    CHECK_EQ(t->tensor_shape->dim[0]->size, (long long)k);
    CHECK_EQ(t->tensor_shape->dim[1]->size, 3);
    REQUIRE(t->n_double_val == 3 * k);
    for (size_t i = 0; i < 3 * k; i++)
        CHECK(t->double_val[i] == rows[i]);
    tensorboard__summary__free_unpacked(s, NULL);
    buf_free(&out);
}

static void test_summary_builders(void)
{
    struct summary_value v;
    summary_value_init(&v);
    double data[6] = {1, 2, 3, 4, 5, 6};
    double rows[9];
    REQUIRE(histogram_compute(data, 6, 3, rows) == 0);
    CHECK_EQ(summary_histogram(&v, "w", data, 6, 3, NULL), 0);
    check_summary_rows(&v, rows, 3);

    /* Default bucket count and more than the builder's stack rows. */
    double *big = malloc(5000 * sizeof *big);
    double *brows = malloc(3 * 100 * sizeof *brows);
    REQUIRE(big && brows);
    for (int i = 0; i < 5000; i++)
        big[i] = cos(i) * i;
    REQUIRE(histogram_compute(big, 5000, 100, brows) == 0);
    CHECK_EQ(summary_histogram(&v, "w", big, 5000, 100, NULL), 0);
    check_summary_rows(&v, brows, 100);
    free(big);
    free(brows);

    double zeros[3 * 30] = {0};
    CHECK_EQ(summary_histogram(&v, "w", NULL, 0, HISTOGRAM_DEFAULT_BUCKETS, NULL), 0);
    check_summary_rows(&v, zeros, 30);
    CHECK_EQ(summary_histogram(&v, "w", NULL, 0, 0, NULL), 0);
    check_summary_rows(&v, zeros, 0);

    double edges[3] = {-1, 0, 2.5};
    double counts[2] = {3, 4};
    double want[6] = {-1, 0, 3, 0, 2.5, 4};
    CHECK_EQ(summary_histogram_buckets(&v, "pre", edges, counts, 2, NULL), 0);
    check_summary_rows(&v, want, 2);
    double bad[3] = {0, -1, 2};
    CHECK_EQ(summary_histogram_buckets(&v, "pre", bad, counts, 2, NULL), -EINVAL);
    summary_value_done(&v);
}

static double json_double(const cJSON *j, bool *ok)
{
    if (cJSON_IsNumber(j))
        return j->valuedouble;
    if (cJSON_IsString(j)) {
        if (strcmp(j->valuestring, "NaN") == 0)
            return NAN;
        if (strcmp(j->valuestring, "Infinity") == 0)
            return INFINITY;
        if (strcmp(j->valuestring, "-Infinity") == 0)
            return -INFINITY;
    }
    *ok = false;
    return 0;
}

/* Flatten nested arrays of numbers (2-D input) into out. */
static void flatten(const cJSON *j, double *out, size_t *n, bool *ok)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j)
            flatten(e, out, n, ok);
        return;
    }
    out[(*n)++] = json_double(j, ok);
}

static size_t count_leaves(const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return 1;
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j)
        n += count_leaves(e);
    return n;
}

static void test_golden_cases(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or absent: golden histogram cases not run");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/histogram/cases.json", shared);
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    cJSON *root = cJSON_ParseWithLength(text, len);
    REQUIRE(root);
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    REQUIRE(cJSON_IsArray(cases));
    int n_cases = 0, n_exact = 0, n_rejected = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        n_cases++;
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const cJSON *bc = cJSON_GetObjectItem(c, "bucket_count");
        int k = cJSON_IsNull(bc) ? HISTOGRAM_DEFAULT_BUCKETS : bc->valueint;
        const cJSON *jdata = cJSON_GetObjectItem(c, "data");
        size_t cap = count_leaves(jdata) + 1, n = 0;
        double *data = malloc(cap * sizeof *data);
        REQUIRE(data);
        bool ok = true;
        if (cJSON_GetArraySize(jdata) > 0)
            flatten(jdata, data, &n, &ok);
        CHECK(ok);
        bool finite = true;
        for (size_t i = 0; i < n; i++)
            finite = finite && isfinite(data[i]);

        const cJSON *tb = cJSON_GetObjectItem(c, "tensorboard");
        const cJSON *out = cJSON_GetObjectItem(tb, "output");
        /* TensorBoard fails (negative k) or writes non-finite rows: we must
         * reject. Otherwise the rows must be identical, bit for bit. */
        bool tb_garbage = !out || cJSON_GetObjectItem(tb, "error");
        bool out_finite = true;
        const cJSON *row;
        if (out) {
            cJSON_ArrayForEach(row, out) {
                const cJSON *x;
                cJSON_ArrayForEach(x, row) {
                    bool xok = true;
                    out_finite = out_finite && isfinite(json_double(x, &xok));
                }
            }
        }
        size_t kk = k > 0 ? (size_t)k : 0;
        double *rows = malloc((3 * kk + 1) * sizeof *rows);
        REQUIRE(rows);
        int r = histogram_compute(data, n, k, rows);
        if (tb_garbage || !out_finite || !finite) {
            if (r != -EINVAL)
                fprintf(stderr, "case %s: expected -EINVAL, got %d\n", name, r);
            CHECK_EQ(r, -EINVAL);
            n_rejected++;
        } else {
            if (r != 0)
                fprintf(stderr, "case %s: got %d\n", name, r);
            CHECK_EQ(r, 0);
            const cJSON *shape = cJSON_GetObjectItem(tb, "shape");
            CHECK_EQ(cJSON_GetArrayItem(shape, 0)->valueint, k);
            CHECK_EQ(cJSON_GetArraySize(out), k);
            size_t i = 0;
            int before = test_failures_;
            cJSON_ArrayForEach(row, out) {
                for (int j = 0; j < 3; j++) {
                    bool xok = true;
                    double want = json_double(cJSON_GetArrayItem(row, j), &xok);
                    if (r == 0 && i < kk && rows[3 * i + j] != want) {
                        fprintf(stderr, "case %s row %zu col %d: got %.17g want %.17g\n",
                                name, i, j, rows[3 * i + j], want);
                        test_failures_++;
                    }
                }
                i++;
            }
            if (test_failures_ == before)
                n_exact++;
        }
        free(rows);
        free(data);
    }
    printf("  histogram cases: %d, identical %d, rejected (NaN/Inf/overflow/k<0) %d\n",
           n_cases, n_exact, n_rejected);
    CHECK_EQ(n_cases, 31);
    CHECK_EQ(n_exact + n_rejected, n_cases);
    cJSON_Delete(root);
    free(text);
}

TEST_MAIN(TEST(test_empty), TEST(test_constant), TEST(test_hand_cases), TEST(test_rejects),
          TEST(test_check_buckets), TEST(test_summary_builders), TEST(test_golden_cases))
