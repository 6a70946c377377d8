/* Summary builder speed: µs per histogram of 10,000 doubles, per 64x64x3
 * float image (PNG), per 1 s of 16 kHz mono audio (WAV), and scalars per
 * second through summary_scalar() + summary_value_encode(). Prints the
 * machine and the median/min/max of 5 runs. Not a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "summary.h"

#define RUNS 5

static void print_machine(void)
{
    char model[256];
    benchutil_cpu_model(model, sizeof model, "unknown");
    printf("machine: %s, %ld cores online\n", model, benchutil_cores());
}

/* Report 5 runs of a per-item time (µs) or a rate (items/s). */
static void report(const char *what, double *vals, const char *unit)
{
    struct benchutil_stats st = benchutil_summarize(vals, RUNS);
    printf("%-40s median %10.2f  min %10.2f  max %10.2f %s\n", what, st.median, st.min, st.max,
           unit);
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
        hist[i] = benchutil_normal();
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++)
            if (summary_histogram(&v, "weights", hist, 10000, HISTOGRAM_DEFAULT_BUCKETS, NULL))
                return 1;
        res[r] = (benchutil_now_s() - t) / n * 1e6;
    }
    report("histogram, 10k doubles", res, "us/item");
    free(hist);

    /* 64x64x3 float image in [0,1], noise plus a gradient. */
    float *img = malloc(64 * 64 * 3 * sizeof *img);
    for (int i = 0; i < 64 * 64 * 3; i++)
        img[i] = (float)(0.5 * benchutil_uniform() + (i % 192) / 384.0);
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++)
            if (summary_image_floats(&v, "img", img, 1, 64, 64, 3, NULL))
                return 1;
        res[r] = (benchutil_now_s() - t) / n * 1e6;
    }
    report("image 64x64x3 float -> PNG (noisy)", res, "us/item");
    printf("  (value size %zu bytes, %d raw pixel bytes)\n", v.body.len, 64 * 64 * 3);
    /* A smooth image takes the deflate path. */
    for (int i = 0; i < 64 * 64 * 3; i++)
        img[i] = (float)((i % 192) / 192.0 * 0.5 + (i / 192) / 128.0);
    for (int r = 0; r < RUNS; r++) {
        int n = 2000;
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++)
            if (summary_image_floats(&v, "img", img, 1, 64, 64, 3, NULL))
                return 1;
        res[r] = (benchutil_now_s() - t) / n * 1e6;
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
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++)
            if (summary_audio_floats(&v, "audio", audio, 1, 16000, 1, 16000, NULL))
                return 1;
        res[r] = (benchutil_now_s() - t) / n * 1e6;
    }
    report("audio 1 s 16 kHz mono -> WAV", res, "us/item");
    free(audio);

    /* Scalars: build and encode (metadata on, as for a tag's first value,
     * on every 100th), into a reused buffer. */
    for (int r = 0; r < RUNS; r++) {
        int n = 2000000;
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++) {
            buf_reset(&out);
            if (summary_scalar(&v, "train/loss", 1.0 / (i + 1), NULL) ||
                summary_value_encode(&out, &v, i % 100 == 0))
                return 1;
        }
        res[r] = n / (benchutil_now_s() - t);
    }
    report("scalar build + encode", res, "scalars/s");

    /* Short text, for comparison with the reference table. */
    for (int r = 0; r < RUNS; r++) {
        int n = 500000;
        double t = benchutil_now_s();
        for (int i = 0; i < n; i++) {
            buf_reset(&out);
            if (summary_text(&v, "notes", "**epoch** 3: loss went down", 27, NULL) ||
                summary_value_encode(&out, &v, false))
                return 1;
        }
        res[r] = n / (benchutil_now_s() - t);
    }
    report("text build + encode", res, "texts/s");

    buf_free(&out);
    summary_value_done(&v);
    return 0;
}
