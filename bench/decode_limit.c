#include "decode_limit.h"

#include <stdio.h>
#include <time.h>

#include "json_decode.h"

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double decode_limit_run(const char *const *lines, const size_t *lens, long n, char *err,
                        size_t err_size)
{
    struct request m;
    char why[REQUEST_ERROR_SIZE];
    request_init(&m);
    double c0 = thread_cpu_s();
    for (long i = 0; i < n; i++)
        if (jd_decode(&m, lines[i], lens[i], why, sizeof why) < 0) {
            snprintf(err, err_size, "line %ld: %s", i + 1, why);
            request_done(&m);
            return -1;
        }
    double t = thread_cpu_s() - c0;
    request_done(&m);
    return t;
}
