/* CRC-32C, record writer and record reader throughput on this machine.
 * Not a test: prints numbers, asserts nothing. Median, min and max of 5
 * runs each. The files live in $TMPDIR (or /tmp), so the reader measures
 * reads from the page cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "buf.h"
#include "crc32c.h"
#include "event.h"
#include "record_reader.h"
#include "record_writer.h"

#define RUNS 5
#define CRC_BYTES ((size_t)64 << 20)
#define RECORDS 500000
#define PAYLOAD 100

static void report(const char *what, double *rates, const char *unit)
{
    struct benchutil_stats st = benchutil_summarize(rates, RUNS);
    printf("%-34s median %8.2f  min %8.2f  max %8.2f %s\n", what, st.median, st.min, st.max,
           unit);
}

static void machine(void)
{
    char model[256];
    benchutil_cpu_model(model, sizeof model, "unknown");
    printf("cpu: %s, %ld cores online; CRC-32C instruction: %s\n", model, benchutil_cores(),
           crc32c_hw_available() ? "yes" : "no");
}

static void bench_crc(void)
{
    uint8_t *data = malloc(CRC_BYTES);
    if (!data)
        return;
    for (size_t i = 0; i < CRC_BYTES; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    double rates[RUNS];
    volatile uint32_t sink = 0;

    for (int r = 0; r < RUNS; r++) {
        double t = benchutil_now_s();
        sink ^= crc32c_extend_sw(0, data, CRC_BYTES);
        rates[r] = (double)CRC_BYTES / (benchutil_now_s() - t) / 1e9;
    }
    report("crc32c software (slicing-by-8)", rates, "GB/s");
    if (crc32c_hw_available()) {
        for (int r = 0; r < RUNS; r++) {
            double t = benchutil_now_s();
            sink ^= crc32c_extend_hw(0, data, CRC_BYTES);
            rates[r] = (double)CRC_BYTES / (benchutil_now_s() - t) / 1e9;
        }
        report("crc32c hardware (SSE4.2)", rates, "GB/s");
        /* Small buffers: the size of typical records. */
        for (int r = 0; r < RUNS; r++) {
            double t = benchutil_now_s();
            for (size_t off = 0; off + 100 <= CRC_BYTES; off += 100)
                sink ^= crc32c(data + off, 100);
            rates[r] = (double)CRC_BYTES / (benchutil_now_s() - t) / 1e9;
        }
        report("crc32c auto, 100-byte buffers", rates, "GB/s");
    }
    (void)sink;
    free(data);
}

/* A 100-byte Event payload: {wall_time, step (3-byte varint), summary
 * {value {tag (76 bytes), simple_value}}}. */
static void make_payload(struct buf *out, int64_t step)
{
    uint8_t value[2 + 2 + 76 + 5];
    value[0] = 0x0a;
    value[1] = 2 + 76 + 5;
    value[2] = 0x0a;
    value[3] = 76;
    memset(value + 4, 't', 76);
    value[80] = 0x15;
    float f = (float)step;
    memcpy(value + 81, &f, 4);
    buf_reset(out);
    event_encode_summary(out, 1700000000.5, step, value, sizeof value);
}

static void bench_files(void)
{
    const char *base = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tfevents-bench.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return;
    }
    struct buf payload;
    buf_init(&payload, BUF_NO_CAP);
    make_payload(&payload, 1 << 14);
    if (payload.len != PAYLOAD)
        fprintf(stderr, "payload is %zu bytes, not %d\n", payload.len, PAYLOAD);

    double wrates[RUNS], rrates[RUNS], erates[RUNS], recs[RUNS];
    char path[4096] = "";
    for (int r = 0; r < RUNS; r++) {
        if (*path)
            unlink(path);
        record_writer *w;
        if (record_writer_open(&w, dir, NULL) < 0) {
            fprintf(stderr, "cannot open a writer in %s\n", dir);
            return;
        }
        snprintf(path, sizeof path, "%s", record_writer_path(w));
        double t = benchutil_now_s();
        for (int i = 0; i < RECORDS; i++) {
            /* Patch the step's value bytes in place: same size, new record. */
            payload.data[96] = (uint8_t)i;
            record_writer_append(w, payload.data, payload.len);
        }
        uint64_t size = record_writer_size(w);
        record_writer_close(w);
        double dt = benchutil_now_s() - t;
        wrates[r] = (double)size / dt / 1e6;
        recs[r] = RECORDS / dt / 1e6;
    }
    report("writer, 100-byte records", wrates, "MB/s");
    report("writer, 100-byte records", recs, "M records/s");

    for (int r = 0; r < RUNS; r++) {
        record_reader *rd;
        if (record_reader_open(&rd, path, 0) < 0)
            return;
        const uint8_t *p;
        size_t len;
        long n = 0;
        double t = benchutil_now_s();
        while (record_reader_next(rd, &p, &len) == 1)
            n++;
        double dt = benchutil_now_s() - t;
        rrates[r] = (double)record_reader_offset(rd) / dt / 1e6;
        if (n != RECORDS + 1)
            fprintf(stderr, "read %ld records\n", n);
        record_reader_free(rd);
    }
    report("reader, CRC-checked records", rrates, "MB/s");

    for (int r = 0; r < RUNS; r++) {
        record_reader *rd;
        if (record_reader_open(&rd, path, 0) < 0)
            return;
        Tensorboard__Event *ev;
        double t = benchutil_now_s();
        while (record_reader_next_event(rd, &ev) == 1)
            event_free(ev);
        erates[r] = (double)record_reader_offset(rd) / (benchutil_now_s() - t) / 1e6;
        record_reader_free(rd);
    }
    report("reader, decoded Events (protobuf-c)", erates, "MB/s");

    unlink(path);
    rmdir(dir);
    buf_free(&payload);
}

int main(void)
{
    machine();
    bench_crc();
    bench_files();
    return 0;
}
