#include "histogram.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Each step is rounded on its own, as numpy does it (multiply, then add):
 * a fused multiply-add would change the last bit of some edges, so the
 * product goes through a volatile to keep the compiler from contracting. */
static double linspace_edge(double min, double step, double i)
{
    volatile double prod = i * step;
    return prod + min;
}

int histogram_compute(const double *data, size_t n, int k, double *rows)
{
    if (k < 0 || k > HISTOGRAM_MAX_BUCKETS)
        return -EINVAL;
    if (n > HISTOGRAM_MAX_ELEMENTS)
        return -EMSGSIZE;

    double min = INFINITY, max = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        double x = data[j];
        if (!isfinite(x))
            return -EINVAL;
        if (x < min)
            min = x;
        if (x > max)
            max = x;
    }

    size_t kk = (size_t)k;
    if (kk == 0)
        return 0;
    if (n == 0) {
        memset(rows, 0, 3 * kk * sizeof *rows);
        return 0;
    }

    double range = max - min;
    if (!isfinite(range))
        return -EINVAL;

    if (range == 0) {
        for (size_t i = 0; i < kk; i++) {
            rows[3 * i] = min;
            rows[3 * i + 1] = min;
            rows[3 * i + 2] = 0;
        }
        rows[3 * kk - 1] = (double)n;
        return 0;
    }

    double width = range / (double)k;
    for (size_t i = 0; i < kk; i++)
        rows[3 * i + 2] = 0;

    /* Counts. When width underflows to 0 every (x - min) / width is NaN or
     * +Inf, which numpy casts to INT64_MIN: no bucket matches, TensorBoard
     * counts nothing, and neither do we. */
    if (width > 0) {
        for (size_t j = 0; j < n; j++) {
            double q = floor((data[j] - min) / width);
            size_t idx = q >= (double)(k - 1) ? kk - 1 : (size_t)q;
            rows[3 * idx + 2] += 1;
        }
    }

    /* Edges like numpy.linspace(min, max, k + 1). */
    double prev = linspace_edge(min, width == 0 ? range : width, 0.0);
    for (size_t i = 1; i <= kk; i++) {
        double e;
        if (i == kk)
            e = max;
        else if (width == 0)
            e = linspace_edge(min, range, (double)i / (double)k);
        else
            e = linspace_edge(min, width, (double)i);
        rows[3 * (i - 1)] = prev;
        rows[3 * (i - 1) + 1] = e;
        prev = e;
    }
    return 0;
}

int histogram_check_buckets(const double *edges, const double *counts, size_t k)
{
    if (k > HISTOGRAM_MAX_BUCKETS)
        return -EINVAL;
    if (!isfinite(edges[0]))
        return -EINVAL;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(edges[i + 1]) || edges[i + 1] < edges[i])
            return -EINVAL;
        if (!isfinite(counts[i]) || counts[i] < 0)
            return -EINVAL;
    }
    return 0;
}
