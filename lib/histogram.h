/* histogram: TensorBoard's own histogram bucketing.
 *
 * Reproduces tensorboard.plugins.histogram.summary_v2.histogram_pb (and its
 * TensorFlow twin) exactly, for finite data:
 *  - k == 0 or no data: k rows [0, 0, 0];
 *  - min == max: k rows [min, min, 0], the last one [min, min, n];
 *  - otherwise width = (max - min) / k, index(x) = floor((x - min) / width)
 *    clamped to k - 1, and edges as numpy.linspace(min, max, k + 1):
 *    edge[i] = i * width + min, edge[k] = max; when width underflows to 0
 *    (a range of a few denormals) numpy uses edge[i] = (i / k) * range + min
 *    and TensorBoard counts nothing (every index is an out-of-range
 *    integer), which we mirror.
 * TensorBoard does not reject NaN or Inf; it writes NaN/Inf edges and
 * loses counts (golden/histogram/cases.json "nan_inf"). We reject them, and
 * a range that overflows a double, with -EINVAL instead. */
#ifndef TFEVENTS_HISTOGRAM_H
#define TFEVENTS_HISTOGRAM_H

#include <stddef.h>

#define HISTOGRAM_DEFAULT_BUCKETS 30
/* Largest bucket count a client may ask for (rows of the [k,3] tensor). */
#define HISTOGRAM_MAX_BUCKETS 65536
/* Largest number of input values in one histogram (512 MiB of doubles). */
#define HISTOGRAM_MAX_ELEMENTS ((size_t)1 << 26)

/* Bucket n values into k rows (left, right, count) written to rows[0..3k),
 * which the caller provides. -EINVAL for k < 0 or k > HISTOGRAM_MAX_BUCKETS,
 * NaN/Inf in data or an infinite range; -EMSGSIZE for n >
 * HISTOGRAM_MAX_ELEMENTS. data may be NULL when n == 0. */
int histogram_compute(const double *data, size_t n, int k, double *rows);

/* Check precomputed buckets: k+1 finite non-decreasing edges and k finite
 * counts >= 0. 0 or -EINVAL. */
int histogram_check_buckets(const double *edges, const double *counts, size_t k);

#endif
