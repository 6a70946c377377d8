#include "histogram.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Each step is rounded on its own, as numpy does it (multiply, then add):
 * a fused multiply-add would change the last bit of some edges, so the
 * product goes through a volatile to keep the compiler from contracting. */
/* Bucket counts counted in integers on the stack (see below); more go
 * straight into rows. Element counts fit in 32 bits
 * (HISTOGRAM_MAX_ELEMENTS). */
#define HISTOGRAM_FAST_BUCKETS 256u

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
        /* q = (x - min) / width is finite and >= 0 here, so floor(q) >=
         * k-1 exactly when q >= k-1, and below that (size_t)q is floor(q).
         * For the usual bucket counts, count in integers, in two
         * interleaved arrays: neighbouring values that fall in one bucket
         * then do not wait on each other's floating-point add. */
        double last = (double)(k - 1);
        if (kk <= HISTOGRAM_FAST_BUCKETS) {
            uint32_t c0[HISTOGRAM_FAST_BUCKETS] = {0}, c1[HISTOGRAM_FAST_BUCKETS] = {0};
            size_t j = 0;
            for (; j + 1 < n; j += 2) {
                double q0 = (data[j] - min) / width, q1 = (data[j + 1] - min) / width;
                c0[q0 >= last ? kk - 1 : (size_t)q0]++;
                c1[q1 >= last ? kk - 1 : (size_t)q1]++;
            }
            if (j < n) {
                double q = (data[j] - min) / width;
                c0[q >= last ? kk - 1 : (size_t)q]++;
            }
            for (size_t i = 0; i < kk; i++)
                rows[3 * i + 2] = (double)c0[i] + (double)c1[i];
        } else {
            for (size_t j = 0; j < n; j++) {
                double q = (data[j] - min) / width;
                rows[3 * (q >= last ? kk - 1 : (size_t)q) + 2] += 1;
            }
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
