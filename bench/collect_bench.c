/* collect_bench: how fast logdir_reader reads a large scalar logdir.
 *
 *   collect_bench [MB] [DIR] [both|fast|slow|generate]
 *
 * Writes a logdir of about MB megabytes (default 256; the documented target
 * size is 1024) of scalar events under DIR (default $TMPDIR or /tmp) with
 * record_writer: 4 runs, files rotated every 64 MB, 4 tags, rank-0 DT_FLOAT
 * tensors with metadata on each tag's first value in a file (what our
 * writers produce). Then reads the whole logdir 3 times with logdir_reader
 * (CRC checks, Event decoding, value decoding, no purge) with the event_scan
 * fast path, and 3 times with protobuf-c decoding only, alternating, and
 * prints MB/s and records/s (wall clock, and per CPU second) of each pass,
 * the medians and the machine. The files are in
 * the page cache: this measures the reader, not the disk. Goal: >= 500 MB/s.
 * The logdir is removed afterwards, except with "generate", which only
 * writes it and prints its path.
 *
 *   collect_bench [MB] [DIR] command TFEVENTS [TFEVENTS_BEFORE]
 *
 * times the command itself instead: `TFEVENTS collect LOGDIR --type scalar
 * --format F` for F = csv, table, jsonl, output to /dev/null, 5 passes
 * each; with a second build (the one before a change) the two alternate,
 * so both see the same machine load. It prints the logdir's MB per second
 * of wall time and of the command's CPU time (user + system), and the
 * medians. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "buf.h"
#include "crc32c.h"
#include "logdir_reader.h"
#include "record_writer.h"
#include "scalar_event.h"

#define RUNS 4
#define TAGS 4
#define ROTATE_BYTES (64ull << 20)

static int generate(const char *root, uint64_t bytes, uint64_t *ret_records)
{
    static const char *tags[TAGS] = {"loss", "accuracy", "learning_rate", "grad_norm"};
    uint64_t per_run = bytes / RUNS, records = 0;
    struct buf payload;
    buf_init(&payload, BUF_NO_CAP);
    record_writer *w = NULL;
    int err = 0;
    for (int run = 0; run < RUNS; run++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/run_%d", root, run);
        if (mkdir(dir, 0755) < 0) {
            err = -errno;
            goto out;
        }
        struct record_writer_options o = {.wall_time = 1700000000.0 + run};
        err = record_writer_open(&w, dir, &o);
        if (err < 0)
            goto out;
        bool first[TAGS] = {true, true, true, true};
        uint64_t written = 0;
        for (int64_t step = 0; written < per_run; step++) {
            for (int k = 0; k < TAGS; k++) {
                buf_reset(&payload);
                err = scalar_event_append(&payload, tags[k], step,
                                          1700000000.0 + (double)step * 0.001,
                                          (float)(1.0 / (double)(step + k + 1)), first[k]);
                if (err < 0)
                    goto out;
                first[k] = false;
                err = record_writer_append(w, payload.data, payload.len);
                if (err < 0)
                    goto out;
                written += payload.len + 16;
                records++;
            }
            if (record_writer_size(w) >= ROTATE_BYTES) {
                err = record_writer_rotate(w);
                if (err < 0)
                    goto out;
                for (int k = 0; k < TAGS; k++)
                    first[k] = true;
            }
        }
        err = record_writer_close(w);
        w = NULL;
        if (err < 0)
            goto out;
    }
    *ret_records = records;
out:
    record_writer_close(w);
    buf_free(&payload);
    return err;
}

static int read_all(const char *root, bool slow, uint64_t *ret_records, uint64_t *ret_bytes,
                    uint64_t *ret_values)
{
    logdir_reader *r = NULL;
    struct logdir_reader_options o;
    logdir_reader_options_init(&o);
    o.purge = false;
    o.no_fast_path = slow;
    int err = logdir_reader_open(&r, root, &o);
    if (err < 0)
        return err;
    struct logdir_reader_item it;
    int rc;
    uint64_t values = 0;
    double sink = 0;
    while ((rc = logdir_reader_next(r, &it)) > 0) {
        for (size_t i = 0; i < it.n_values; i++)
            if (it.values[i].kind == VALUE_SCALAR) {
                values++;
                sink += it.values[i].scalar;
            }
    }
    struct logdir_reader_stats st;
    logdir_reader_stats(r, &st);
    logdir_reader_free(r);
    if (rc < 0)
        return rc;
    *ret_records = st.records;
    *ret_bytes = st.bytes;
    *ret_values = values + (sink < 0 ? 1 : 0);   /* keep the sum alive */
    return (int)st.problems;
}

/* Run tfevents collect on root once, its output to /dev/null: wall and
 * CPU seconds. 0, or -1 when it could not run or failed. */
static int run_collect(const char *tfevents, const char *root, const char *format,
                       double *ret_wall, double *ret_cpu)
{
    double a = benchutil_now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
            _exit(127);
        execl(tfevents, tfevents, "collect", root, "--type", "scalar", "--format", format,
              (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *ret_wall = benchutil_now_s() - a;
    *ret_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    return 0;
}

#define COMMAND_PASSES 5

/* The command figures (see the top of the file). */
static int bench_command(const char *root, uint64_t bytes, const char *after,
                         const char *before)
{
    static const char *const formats[] = {"csv", "table", "jsonl"};
    const char *builds[2] = {after, before};
    const char *names[2] = {"after", "before"};
    int nb = before ? 2 : 1;
    for (size_t f = 0; f < 3; f++) {
        double wall[2][COMMAND_PASSES], cpu[2][COMMAND_PASSES];
        for (int pass = 0; pass < COMMAND_PASSES; pass++)
            for (int b = 0; b < nb; b++) {
                double w, c;
                if (run_collect(builds[b], root, formats[f], &w, &c) < 0) {
                    fprintf(stderr, "collect_bench: %s collect failed\n", builds[b]);
                    return -1;
                }
                wall[b][pass] = (double)bytes / 1e6 / w;
                cpu[b][pass] = (double)bytes / 1e6 / c;
                printf("%s, %s, pass %d: %.2f s, CPU %.2f s: %.0f MB/s, CPU-time %.0f MB/s\n",
                       formats[f], names[b], pass + 1, w, c, wall[b][pass], cpu[b][pass]);
            }
        for (int b = 0; b < nb; b++) {
            struct benchutil_stats sw = benchutil_summarize(wall[b], COMMAND_PASSES);
            struct benchutil_stats sc = benchutil_summarize(cpu[b], COMMAND_PASSES);
            printf("median, collect --format %s, %s: %.0f MB/s (%.0f - %.0f); CPU-time %.0f MB/s "
                   "(%.0f - %.0f)\n", formats[f], names[b], sw.median, sw.min, sw.max,
                   sc.median, sc.min, sc.max);
        }
    }
    return 0;
}

static void print_machine(void)
{
    char sys[512], model[256];
    benchutil_system(sys, sizeof sys);
    printf("machine: %s", sys);
    if (benchutil_cpu_model(model, sizeof model, "") == 0)
        printf(", %s", model);
    printf(", %ld CPUs, CRC-32C %s\n", benchutil_cores(),
           crc32c_hw_available() ? "hardware" : "software");
}

int main(int argc, char **argv)
{
    unsigned long mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    if (mb == 0) {
        fprintf(stderr, "usage: collect_bench [MB] [DIR] [both|fast|slow|generate]\n");
        return 2;
    }
    const char *which = argc > 3 ? argv[3] : "both";
    bool only_fast = strcmp(which, "fast") == 0, only_slow = strcmp(which, "slow") == 0;
    bool only_generate = strcmp(which, "generate") == 0;
    bool command = strcmp(which, "command") == 0 && argc > 4;
    if (!only_fast && !only_slow && !only_generate && !command && strcmp(which, "both") != 0) {
        fprintf(stderr, "usage: collect_bench [MB] [DIR] [both|fast|slow|generate]\n"
                        "       collect_bench [MB] [DIR] command TFEVENTS [TFEVENTS_BEFORE]\n");
        return 2;
    }
    const char *base = argc > 2 && *argv[2] ? argv[2] : getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char root[4096];
    if (strlen(base) > 3000) {
        fprintf(stderr, "collect_bench: DIR too long\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s/collect_bench.XXXXXX", base);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    print_machine();
    uint64_t records = 0;
    double t0 = benchutil_now_s();
    int err = generate(root, (uint64_t)mb << 20, &records);
    double t1 = benchutil_now_s();
    if (err < 0) {
        fprintf(stderr, "collect_bench: generating: %s\n", strerror(-err));
        goto out;
    }
    printf("generated %lu MB, %llu scalar records in %d runs in %.2f s\n", mb,
           (unsigned long long)records, RUNS, t1 - t0);
    if (only_generate) {
        printf("logdir: %s\n", root);
        return 0;
    }
    if (command) {
        uint64_t n = 0, bytes = 0, values = 0;
        err = read_all(root, false, &n, &bytes, &values);   /* also warms the cache */
        if (err >= 0)
            err = bench_command(root, bytes, argv[4], argc > 5 ? argv[5] : NULL);
        goto out;
    }

    /* Passes alternate between the event_scan fast path and protobuf-c
     * only (no_fast_path), so both see the same machine load. */
    static const char *const mode_name[2] = {"fast path", "protobuf-c only"};
    double mbs[2][3], rps[2][3], cpu_mbs[2][3];
    for (int pass = 0; pass < 3; pass++) {
        for (int mode = 0; mode < 2; mode++) {
            if ((mode == 0 && only_slow) || (mode == 1 && only_fast))
                continue;   /* e.g. to profile one path alone */
            uint64_t n = 0, bytes = 0, values = 0;
            double a = benchutil_now_s(), ca = benchutil_cpu_s();
            err = read_all(root, mode == 1, &n, &bytes, &values);
            double b = benchutil_now_s(), cb = benchutil_cpu_s();
            if (err < 0) {
                fprintf(stderr, "collect_bench: reading: %s\n", strerror(-err));
                goto out;
            }
            mbs[mode][pass] = (double)bytes / 1e6 / (b - a);
            rps[mode][pass] = (double)n / (b - a);
            cpu_mbs[mode][pass] = (double)bytes / 1e6 / (cb - ca);
            printf("pass %d, %s: %llu records (%llu scalars), %.1f MB in %.3f s (CPU %.3f s): "
                   "%.0f MB/s, %.2f M records/s, CPU-time %.0f MB/s%s\n",
                   pass + 1, mode_name[mode], (unsigned long long)n, (unsigned long long)values,
                   (double)bytes / 1e6, b - a, cb - ca, mbs[mode][pass], rps[mode][pass] / 1e6,
                   cpu_mbs[mode][pass], err > 0 ? " (problems reported!)" : "");
        }
    }
    for (int mode = 0; mode < 2; mode++) {
        if ((mode == 0 && only_slow) || (mode == 1 && only_fast))
            continue;
        printf("median, %s: %.0f MB/s, %.2f M records/s; CPU-time %.0f MB/s%s\n",
               mode_name[mode], benchutil_summarize(mbs[mode], 3).median,
               benchutil_summarize(rps[mode], 3).median / 1e6,
               benchutil_summarize(cpu_mbs[mode], 3).median,
               mode == 0 ? " (goal: >= 500 MB/s)" : "");
    }
    err = 0;
out:;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "collect_bench: could not remove %s\n", root);
    return err < 0 ? 1 : 0;
}
