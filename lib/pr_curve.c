/* PR curves computed as TensorBoard's pr_curve summary does (pr_curve.h). */
#include "pr_curve.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "pbwire.h"
#include "summary.pb-c.h"
#include "types.pb-c.h"

/* TensorBoard's floor for the denominators of precision and recall. */
#define PR_CURVE_MIN_COUNT 1e-7
/* numpy's histogram adds weights up in blocks of this many elements. */
#define PR_CURVE_BLOCK 65536u

static int check_input(const struct pr_curve_input *in, uint32_t *ret_n, const char **why)
{
    uint32_t k = in->num_thresholds ? in->num_thresholds : PR_CURVE_DEFAULT_THRESHOLDS;
    if (k < PR_CURVE_MIN_THRESHOLDS || k > PR_CURVE_MAX_THRESHOLDS) {
        *why = "num_thresholds must be 2 to 65536";
        return -EINVAL;
    }
    if (in->n > PR_CURVE_MAX_ELEMENTS) {
        *why = "more labels than PR_CURVE_MAX_ELEMENTS";
        return -EMSGSIZE;
    }
    if (!in->predictions_f32 == !in->predictions_f64) {
        *why = "PR curve needs predictions (one array)";
        return -EINVAL;
    }
    if (in->n && (!in->labels || (in->n_weights && !in->weights))) {
        *why = "PR curve labels or weights are NULL";
        return -EINVAL;
    }
    if (in->n_weights > 1 && in->n_weights != in->n) {
        *why = "PR curve needs one weight, or one per label";
        return -EINVAL;
    }
    for (size_t i = 0; i < in->n; i++) {
        double p = in->predictions_f32 ? in->predictions_f32[i] : in->predictions_f64[i];
        if (!(p >= 0 && p <= 1)) {
            *why = "PR curve predictions must be in [0, 1]";
            return -EINVAL;
        }
        if (!isfinite(in->labels[i])) {
            *why = "PR curve labels must be finite numbers";
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < in->n_weights; i++) {
        if (!isfinite(in->weights[i])) {
            *why = "PR curve weights must be finite numbers";
            return -EINVAL;
        }
    }
    *ret_n = k;
    return 0;
}

/* The bucket of prediction i: the product in the predictions' precision
 * (numpy keeps float32 * int in float32), floored. p <= 1 keeps it below
 * k. */
static size_t bucket_of(const struct pr_curve_input *in, size_t i, uint32_t k)
{
    if (in->predictions_f32) {
        float prod = in->predictions_f32[i] * (float)(k - 1);
        return (size_t)floorf(prod);
    }
    return (size_t)floor(in->predictions_f64[i] * (double)(k - 1));
}

int pr_curve_compute(const struct pr_curve_input *in, double *out, uint32_t *ret_thresholds,
                     const char **why)
{
    uint32_t k;
    int r = check_input(in, &k, why);
    if (r < 0 || !out) {
        if (r == 0)
            *ret_thresholds = k;
        return r;
    }
    double *tp = out, *fp = out + k, *tn = out + 2 * (size_t)k, *fn = out + 3 * (size_t)k;
    double *precision = out + 4 * (size_t)k, *recall = out + 5 * (size_t)k;
    for (size_t i = 0; i < 6 * (size_t)k; i++)
        out[i] = 0;
    /* Per-bucket sums first, as numpy's weighted histogram makes them:
     * in input order within blocks of PR_CURVE_BLOCK elements, each block
     * summed from zero and then added to the totals, so that the double
     * rounding is the same. The TN and FN rows hold a block's sums until
     * they are computed. */
    for (size_t start = 0; start < in->n; start += PR_CURVE_BLOCK) {
        size_t end = in->n - start > PR_CURVE_BLOCK ? start + PR_CURVE_BLOCK : in->n;
        for (size_t i = 0; i < k; i++)
            tn[i] = fn[i] = 0;
        for (size_t i = start; i < end; i++) {
            double w = in->n_weights == 0 ? 1.0 : in->weights[in->n_weights == 1 ? 0 : i];
            size_t b = bucket_of(in, i, k);
            fn[b] += in->labels[i] * w;
            tn[b] += (1.0 - in->labels[i]) * w;
        }
        for (size_t i = 0; i < k; i++) {
            tp[i] += fn[i];
            fp[i] += tn[i];
        }
    }
    for (size_t i = k - 1; i-- > 0;) {
        tp[i] += tp[i + 1];
        fp[i] += fp[i + 1];
    }
    for (size_t i = 0; i < k; i++) {
        tn[i] = fp[0] - fp[i];
        fn[i] = tp[0] - tp[i];
        precision[i] = tp[i] / fmax(PR_CURVE_MIN_COUNT, tp[i] + fp[i]);
        recall[i] = tp[i] / fmax(PR_CURVE_MIN_COUNT, tp[i] + fn[i]);
    }
    for (size_t i = 0; i < 6 * (size_t)k; i++)
        out[i] = (float)out[i];
    *ret_thresholds = k;
    return 0;
}

/* The [6, k] tensor with its metadata. */
static int build(struct summary_value *v, const char *tag, const double *rows, uint32_t k,
                 const struct summary_meta *meta)
{
    uint8_t content[16];
    size_t clen = 0;
    /* PrCurvePluginData{version 0 (the default: not written),
     * num_thresholds = 2}. */
    clen += pb_put_tag(content + clen, 2, PB_VARINT);
    clen += pb_put_varint(content + clen, k);
    size_t dims[2] = {6, k};
    return summary_custom_numeric(v, tag, "pr_curves", content, clen,
                                  TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, rows, 2, dims,
                                  TENSORBOARD__DATA_TYPE__DT_FLOAT, meta);
}

int summary_pr_curve(struct summary_value *v, const char *tag, const struct pr_curve_input *in,
                     const struct summary_meta *meta)
{
    const char *why = NULL;
    uint32_t k;
    if (!in)
        return summary_fail(v, -EINVAL, "no PR curve input");
    int r = pr_curve_compute(in, NULL, &k, &why);
    if (r < 0)
        return summary_fail(v, r, why);
    double *rows = malloc(6 * (size_t)k * sizeof *rows);
    if (!rows)
        return summary_fail(v, -ENOMEM, NULL);
    r = pr_curve_compute(in, rows, &k, &why);
    r = r < 0 ? summary_fail(v, r, why) : build(v, tag, rows, k, meta);
    free(rows);
    return r;
}

int summary_pr_curve_raw(struct summary_value *v, const char *tag,
                         const double *const rows[6], uint32_t num_thresholds,
                         const struct summary_meta *meta)
{
    uint32_t k = num_thresholds;
    if (!rows)
        return summary_fail(v, -EINVAL, "no PR curve rows");
    if (k < PR_CURVE_MIN_THRESHOLDS || k > PR_CURVE_MAX_THRESHOLDS)
        return summary_fail(v, -EINVAL, "PR curve rows need 2 to 65536 thresholds");
    double *all = malloc(6 * (size_t)k * sizeof *all);
    if (!all)
        return summary_fail(v, -ENOMEM, NULL);
    for (size_t j = 0; j < 6; j++) {
        for (size_t i = 0; i < k; i++) {
            double x = rows[j] ? rows[j][i] : NAN;
            if (!isfinite(x) || x < 0 || (j >= 4 && x > 1)) {
                free(all);
                return summary_fail(v, -EINVAL,
                                    "PR curve counts must be finite and >= 0, precision and "
                                    "recall in [0, 1]");
            }
            all[j * k + i] = x;
        }
    }
    int r = build(v, tag, all, k, meta);
    free(all);
    return r;
}
