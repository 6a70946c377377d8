/* benchutil: what every benchmark of bench/ needs and should do the same
 * way: clocks, the median/min/max of repeated runs, a description of the
 * machine (so that a figure can be read next to where it was measured) and
 * a reproducible stream of random samples. Benchmarks only; not thread-safe
 * (benchutil_uniform() and benchutil_normal() share one state). */
#ifndef TFEVENTS_BENCHUTIL_H
#define TFEVENTS_BENCHUTIL_H

#include <stddef.h>
#include <time.h>

/* Seconds on clock id (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ...). */
double benchutil_clock_s(clockid_t id);

/* Wall-clock seconds (monotonic, arbitrary origin). */
double benchutil_now_s(void);

/* CPU seconds used by this process, all threads. */
double benchutil_cpu_s(void);

/* CPU seconds used by the calling thread. */
double benchutil_thread_cpu_s(void);

/* A qsort() comparator of doubles, ascending. */
int benchutil_cmp_double(const void *a, const void *b);

/* Sorts v[0..n) ascending. */
void benchutil_sort(double *v, size_t n);

/* The summary of the runs of one figure. */
struct benchutil_stats {
    double median;   /* the mean of the two middle values when n is even */
    double min;
    double max;
};

/* Sorts v[0..n) (borrowed, modified) and summarizes it. With n == 0 the
 * median is NaN, min +inf and max -inf. */
struct benchutil_stats benchutil_summarize(double *v, size_t n);

/* The CPU model from /proc/cpuinfo ("model name") into out[size], without
 * the label. Returns 0, or -ENOENT when there is none (out then holds
 * fallback, which may be ""). */
int benchutil_cpu_model(char *out, size_t size, const char *fallback);

/* Processors online. */
long benchutil_cores(void);

/* "sysname release machine" of uname(2) into out[size] ("" when uname
 * fails). */
void benchutil_system(char *out, size_t size);

/* Uniform in [0, 1) and standard normal samples from a fixed seed: each
 * run of a benchmark sees the same data. */
double benchutil_uniform(void);
double benchutil_normal(void);

#endif
