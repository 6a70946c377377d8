/* libtfevents in embedded mode on bulk values: per call, the thread's CPU
 * time and the minor page faults of tfevents_add_*() + tfevents_log()
 * for a histogram of 10,000 doubles, a 64x64x3 u8 image and 1 s of 16 kHz
 * mono audio, with the values object kept across calls (as the Python
 * client keeps it) and with a new one per call. Page faults are the sign
 * of temporary buffers that the allocator hands back to the kernel on
 * every call (docs/performance.md). Median, min and max of 5 runs of
 * 2,000 calls; prints the machine first. Not a test.
 *
 * Usage: bulk_bench [TMPDIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "tfevents.h"

#define RUNS 5
#define CALLS 2000

enum kind { HISTOGRAM, IMAGE, AUDIO };

static double *hist;
static uint8_t *pixels;
static float *samples;

static int add(tfevents_values *vs, enum kind k)
{
    switch (k) {
    case HISTOGRAM:
        return tfevents_add_histogram(vs, NULL, "weights", hist, 10000, -1);
    case IMAGE:
        return tfevents_add_image_u8(vs, NULL, "image", pixels, 1, 64, 64, 3);
    default:
        return tfevents_add_audio_float(vs, NULL, "audio", samples, 1, 16000, 1, 16000);
    }
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

/* One run: CALLS values at steps from *step; µs of thread CPU and page
 * faults per call. */
static int run(tfevents *h, enum kind k, bool keep, int64_t *step, double *us, double *faults)
{
    tfevents_values *kept = keep ? tfevents_values_new() : NULL;
    long f0 = minflt();
    double t0 = benchutil_thread_cpu_s();
    for (int i = 0; i < CALLS; i++) {
        tfevents_values *vs = keep ? kept : tfevents_values_new();
        if (!vs)
            return -1;
        tfevents_values_clear(vs);
        int r = add(vs, k);
        if (r == 0)
            r = tfevents_log(h, NULL, vs, (*step)++, TFEVENTS_NOW, NULL);
        if (!keep)
            tfevents_values_free(vs);
        if (r < 0) {
            char why[512];
            tfevents_last_error(h, why, sizeof why);
            fprintf(stderr, "bulk_bench: %s\n", why);
            return r;
        }
    }
    *us = (benchutil_thread_cpu_s() - t0) / CALLS * 1e6;
    *faults = (double)(minflt() - f0) / CALLS;
    tfevents_values_free(kept);
    return tfevents_flush(h, false);
}

int main(int argc, char **argv)
{
    char sys[512], model[256];
    benchutil_system(sys, sizeof sys);
    benchutil_cpu_model(model, sizeof model, "?");
    printf("machine: %s, %s, %ld CPUs online\n", sys, model, benchutil_cores());
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bulk_bench.XXXXXX", argc > 1 ? argv[1] : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    hist = malloc(10000 * sizeof *hist);
    pixels = malloc(64 * 64 * 3);
    samples = malloc(16000 * sizeof *samples);
    if (!hist || !pixels || !samples)
        return 1;
    for (int i = 0; i < 10000; i++)
        hist[i] = benchutil_normal();
    for (int i = 0; i < 64 * 64 * 3; i++)
        pixels[i] = (uint8_t)((i % 192) + 40 * benchutil_uniform());
    for (int i = 0; i < 16000; i++)
        samples[i] = (float)(0.5 * __builtin_sin(i * 0.05) + 0.05 * benchutil_uniform());
    static const char *const names[] = {"histogram of 10k doubles", "image 64x64x3 u8",
                                        "audio 1 s 16 kHz mono"};
    int status = 0;
    /* Each figure in a process of its own: the allocator adapts its
     * thresholds to what it saw (glibc raises its mmap threshold after
     * freeing a mapped block), so a figure run after another would inherit
     * that one's state. */
    for (int k = HISTOGRAM; k <= AUDIO; k++) {
        for (int keep = 1; keep >= 0; keep--) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid < 0)
                return 1;
            if (pid > 0) {
                int ws;
                if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                    status = 1;
                continue;
            }
            struct tfevents_options o;
            tfevents_options_init(&o);
            o.mode = TFEVENTS_MODE_EMBEDDED;
            char sub[4200];
            snprintf(sub, sizeof sub, "%s/k%d%d", dir, k, keep);
            o.logdir = sub;
            tfevents *h;
            if (tfevents_open(&h, &o) < 0)
                _exit(1);
            int64_t step = 0;
            double us[RUNS], faults[RUNS];
            int st = 0;
            for (int r = 0; r < RUNS; r++)
                if (run(h, (enum kind)k, keep, &step, &us[r], &faults[r]) < 0)
                    st = 1;
            struct benchutil_stats s = benchutil_summarize(us, RUNS);
            struct benchutil_stats f = benchutil_summarize(faults, RUNS);
            printf("%-26s %-16s median %8.1f us CPU (min %7.1f, max %7.1f), %6.2f page "
                   "faults/call\n", names[k], keep ? "values kept" : "values per call",
                   s.median, s.min, s.max, f.median);
            if (tfevents_close(h) < 0)
                st = 1;
            fflush(stdout);
            _exit(st);
        }
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        status = 1;
    return status;
}
