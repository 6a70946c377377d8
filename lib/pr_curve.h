/* pr_curve: precision-recall curves, as TensorBoard's pr_curves dashboard
 * reads them.
 *
 * The value is a DT_FLOAT [6, num_thresholds] tensor whose rows are true
 * positives, false positives, true negatives, false negatives, precision
 * and recall at thresholds i / (num_thresholds - 1); metadata plugin
 * "pr_curves", data class TENSOR, content PrCurvePluginData{version 0,
 * num_thresholds}.
 *
 * From labels and predictions the counts are computed the way TensorBoard's
 * own pr_curve summary (and tensorboardX's add_pr_curve) computes them, so
 * that the same inputs give the same float32 tensor bit for bit:
 *   bucket of a prediction p = floor(p * (num_thresholds - 1)), the product
 *     taken in the predictions' own precision (float32 predictions multiply
 *     in float32, as numpy does for a float32 array);
 *   per bucket, sums in double of label * weight (TP) and (1 - label) *
 *     weight (FP), in input order; counts at threshold i are the sums over
 *     buckets >= i (reverse cumulative sums), TN = FP[0] - FP,
 *     FN = TP[0] - TP;
 *   precision = TP / max(1e-7, TP + FP), recall = TP / max(1e-7, TP + FN),
 *   and every number rounded to float32 at the end.
 * Labels are numbers (booleans are 0 and 1; TensorBoard multiplies by them,
 * so a fractional label counts partly on both sides). Predictions must be
 * in [0, 1] (TensorBoard silently drops others; we refuse them).
 *
 * Pure functions: no I/O, no logging, no global state besides
 * summary_last_error()'s thread-local sentence. */
#ifndef TFEVENTS_PR_CURVE_H
#define TFEVENTS_PR_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

/* tensorboardX's default for add_pr_curve. */
#define PR_CURVE_DEFAULT_THRESHOLDS 127u
/* At least two thresholds (0 and 1); at most this many, a [6, n] tensor of
 * 24 * n bytes. */
#define PR_CURVE_MIN_THRESHOLDS 2u
#define PR_CURVE_MAX_THRESHOLDS 65536u
/* Labels/predictions in one curve. */
#define PR_CURVE_MAX_ELEMENTS (64u << 20)

/* The predictions: exactly one of f32 (float32 values) and f64 (doubles)
 * is non-NULL; it decides the precision of the bucket product. */
struct pr_curve_input {
    const double *labels;       /* n */
    const float *predictions_f32;
    const double *predictions_f64;
    size_t n;
    const double *weights;      /* NULL (all 1), 1 (one for all) or n */
    size_t n_weights;
    uint32_t num_thresholds;    /* 0: PR_CURVE_DEFAULT_THRESHOLDS */
};

/* Compute the 6 rows into out[6 * num_thresholds] (doubles holding the
 * float32 values), num_thresholds resolved into *ret_thresholds.
 * -EINVAL (with *why) for a prediction outside [0, 1] or NaN, a label or
 * weight that is not finite, a weights count other than 0, 1 or n, or
 * num_thresholds out of range; -EMSGSIZE for n > PR_CURVE_MAX_ELEMENTS.
 * out must hold 6 * PR_CURVE_MAX_THRESHOLDS doubles or the resolved
 * count's; call with out NULL to only check and resolve. */
int pr_curve_compute(const struct pr_curve_input *in, double *out, uint32_t *ret_thresholds,
                     const char **why);

/* The summary value from labels and predictions. */
int summary_pr_curve(struct summary_value *v, const char *tag, const struct pr_curve_input *in,
                     const struct summary_meta *meta);

/* From raw rows, each num_thresholds (2..PR_CURVE_MAX_THRESHOLDS) numbers:
 * rows[0..5] = TP, FP, TN, FN, precision, recall, stored as float32 as
 * they are (counts >= 0, precision and recall in [0, 1], all finite:
 * -EINVAL otherwise). */
int summary_pr_curve_raw(struct summary_value *v, const char *tag,
                         const double *const rows[6], uint32_t num_thresholds,
                         const struct summary_meta *meta);

#endif
