/* benchutil: clocks, statistics and the machine for the benchmarks. */
#include "benchutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

double benchutil_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double benchutil_now_s(void)
{
    return benchutil_clock_s(CLOCK_MONOTONIC);
}

double benchutil_cpu_s(void)
{
    return benchutil_clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

double benchutil_thread_cpu_s(void)
{
    return benchutil_clock_s(CLOCK_THREAD_CPUTIME_ID);
}

int benchutil_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void benchutil_sort(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], benchutil_cmp_double);
}

struct benchutil_stats benchutil_summarize(double *v, size_t n)
{
    if (n == 0)
        return (struct benchutil_stats){.median = NAN, .min = INFINITY, .max = -INFINITY};
    benchutil_sort(v, n);
    struct benchutil_stats s = {.min = v[0], .max = v[n - 1]};
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

int benchutil_cpu_model(char *out, size_t size, const char *fallback)
{
    int ret = -ENOENT;
    snprintf(out, size, "%s", fallback);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return ret;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        /* "model name\t: Intel(R) ..." */
        char *c = strchr(line, ':');
        if (c) {
            c += strspn(c + 1, " \t") + 1;
            c[strcspn(c, "\n")] = '\0';
            snprintf(out, size, "%s", c);
            ret = 0;
        }
        break;
    }
    fclose(f);
    return ret;
}

long benchutil_cores(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN);
}

void benchutil_system(char *out, size_t size)
{
    struct utsname u;
    if (uname(&u) < 0)
        snprintf(out, size, "%s", "");
    else
        snprintf(out, size, "%s %s %s", u.sysname, u.release, u.machine);
}

/* xorshift64: fast, and the same numbers on every machine. */
static uint64_t rng_state = 88172645463325252ull;

double benchutil_uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

double benchutil_normal(void)
{
    double u = benchutil_uniform() + 1e-300, v = benchutil_uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}
