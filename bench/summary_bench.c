/* Summary builder speed: µs per histogram of 10,000 doubles, per 64x64x3
 * float image (PNG), per 1 s of 16 kHz mono audio (WAV), and scalars per
 * second through summary_scalar() + summary_value_encode(). Prints the
 * machine and the median/min/max of 5 runs. Not a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "summary.h"

#define RUNS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    printf("machine: %s, %ld cores online\n", model, sysconf(_SC_NPROCESSORS_ONLN));
}

/* Report 5 runs of a per-item time (µs) or a rate (items/s). */
static void report(const char *what, double *vals, const char *unit)
{
    qsort(vals, RUNS, sizeof *vals, cmp_double);
    printf("%-40s median %10.2f  min %10.2f  max %10.2f %s\n", what, vals[RUNS / 2], vals[0],
           vals[RUNS - 1], unit);
}

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double normal(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

int main(void)
{
    print_machine();
    struct summary_value v;
    summary_value_init(&v);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    double res[RUNS];

    /* Histogram of 10,000 normal samples, 30 buckets. */
    double *hist = malloc(10000 * sizeof *hist);
    for (int i = 0; i < 10000; i++)
        hist[i] = normal();
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = now();
        for (int i = 0; i < n; i++)
            if (summary_histogram(&v, "weights", hist, 10000, HISTOGRAM_DEFAULT_BUCKETS, NULL))
                return 1;
        res[r] = (now() - t) / n * 1e6;
    }
    report("histogram, 10k doubles", res, "us/item");
    free(hist);

    /* 64x64x3 float image in [0,1], noise plus a gradient. */
    float *img = malloc(64 * 64 * 3 * sizeof *img);
    for (int i = 0; i < 64 * 64 * 3; i++)
        img[i] = (float)(0.5 * uniform() + (i % 192) / 384.0);
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = now();
        for (int i = 0; i < n; i++)
            if (summary_image_floats(&v, "img", img, 1, 64, 64, 3, NULL))
                return 1;
        res[r] = (now() - t) / n * 1e6;
    }
    report("image 64x64x3 float -> PNG (noisy)", res, "us/item");
    printf("  (value size %zu bytes, %d raw pixel bytes)\n", v.body.len, 64 * 64 * 3);
    /* A smooth image takes the deflate path. */
    for (int i = 0; i < 64 * 64 * 3; i++)
        img[i] = (float)((i % 192) / 192.0 * 0.5 + (i / 192) / 128.0);
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = now();
        for (int i = 0; i < n; i++)
            if (summary_image_floats(&v, "img", img, 1, 64, 64, 3, NULL))
                return 1;
        res[r] = (now() - t) / n * 1e6;
    }
    report("image 64x64x3 float -> PNG (smooth)", res, "us/item");
    printf("  (value size %zu bytes, %d raw pixel bytes)\n", v.body.len, 64 * 64 * 3);
    free(img);

    /* 1 s of 16 kHz mono audio. */
    float *audio = malloc(16000 * sizeof *audio);
    for (int i = 0; i < 16000; i++)
        audio[i] = (float)(0.8 * sin(i * 2 * M_PI * 440 / 16000));
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = now();
        for (int i = 0; i < n; i++)
            if (summary_audio_floats(&v, "audio", audio, 1, 16000, 1, 16000, NULL))
                return 1;
        res[r] = (now() - t) / n * 1e6;
    }
    report("audio 1 s 16 kHz mono -> WAV", res, "us/item");
    free(audio);

    /* Scalars: build and encode (metadata on, as for a tag's first value,
     * on every 100th), into a reused buffer. */
    for (int r = 0; r < RUNS; r++) {
        int n = 2000000;
        double t = now();
        for (int i = 0; i < n; i++) {
            buf_reset(&out);
            if (summary_scalar(&v, "train/loss", 1.0 / (i + 1), NULL) ||
                summary_value_encode(&out, &v, i % 100 == 0))
                return 1;
        }
        res[r] = n / (now() - t);
    }
    report("scalar build + encode", res, "scalars/s");

    /* Short text, for comparison with the reference table. */
    for (int r = 0; r < RUNS; r++) {
        int n = 500000;
        double t = now();
        for (int i = 0; i < n; i++) {
            buf_reset(&out);
            if (summary_text(&v, "notes", "**epoch** 3: loss went down", 27, NULL) ||
                summary_value_encode(&out, &v, false))
                return 1;
        }
        res[r] = n / (now() - t);
    }
    report("text build + encode", res, "texts/s");

    buf_free(&out);
    summary_value_done(&v);
    return 0;
}
