#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "record.h"
#include "record_reader.h"
#include "test.h"

static void write_file(const char *path, const void *data, size_t len, bool append)
{
    int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            perror("write");
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

/* A small event file: file_version and n summary events; offsets[i] is
 * where record i starts, offsets[n + 1] the file size. */
static void build_events(struct buf *file, size_t n, size_t *offsets)
{
    struct buf ev;
    buf_init(&ev, BUF_NO_CAP);
    buf_reset(file);
    offsets[0] = 0;
    event_encode_file_version(&ev, 1700000000.5, "brain.Event:2");
    record_frame(file, ev.data, ev.len);
    for (size_t i = 0; i < n; i++) {
        offsets[i + 1] = file->len;
        /* Summary{value{tag: "t", simple_value: i}} by hand. */
        uint8_t val[] = {0x0a, 0x08, 0x0a, 0x01, 't', 0x15, 0, 0, 0, 0};
        float f = (float)i;
        memcpy(val + 6, &f, 4);
        buf_reset(&ev);
        event_encode_summary(&ev, 1700000001.0 + (double)i, (int64_t)i, val, sizeof val);
        record_frame(file, ev.data, ev.len);
    }
    offsets[n + 1] = file->len;
    buf_free(&ev);
}

static void reads_events(void)
{
    char *dir = test_tmpdir("reader");
    char path[4096];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1", dir);
    struct buf file;
    buf_init(&file, BUF_NO_CAP);
    size_t offs[8];
    build_events(&file, 5, offs);
    write_file(path, file.data, file.len, false);

    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    CHECK_STR(record_reader_path(r), path);
    Tensorboard__Event *ev;
    REQUIRE(record_reader_next_event(r, &ev) == 1);
    CHECK_STR(ev->file_version, "brain.Event:2");
    CHECK(ev->wall_time == 1700000000.5);
    event_free(ev);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(record_reader_offset(r), offs[i + 1]);
        REQUIRE(record_reader_next_event(r, &ev) == 1);
        CHECK_EQ(ev->step, i);
        REQUIRE(ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY);
        REQUIRE(ev->summary->n_value == 1);
        CHECK_STR(ev->summary->value[0]->tag, "t");
        CHECK(ev->summary->value[0]->simple_value == (float)i);
        event_free(ev);
    }
    CHECK_EQ(record_reader_index(r), 6);
    CHECK_EQ(record_reader_next_event(r, &ev), 0);
    CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
    CHECK_EQ(record_reader_offset(r), file.len);
    record_reader_free(r);

    /* Starting in the middle, at an offset an earlier reader reported. */
    REQUIRE(record_reader_open(&r, path, offs[3]) == 0);
    REQUIRE(record_reader_next_event(r, &ev) == 1);
    CHECK_EQ(ev->step, 2);
    event_free(ev);
    CHECK_EQ(record_reader_index(r), 1);
    record_reader_free(r);

    CHECK_EQ(record_reader_open(&r, "/nonexistent/file", 0), -ENOENT);
    record_reader_free(NULL);
    buf_free(&file);
    test_rmtree(dir);
    free(dir);
}

/* The file ends at every byte inside its last record: the reader returns
 * the whole records, then 0 at the last record's start; the rest, appended
 * to the same file, is then read by the same reader object. */
static void truncated_tail_resumes(void)
{
    char *dir = test_tmpdir("reader");
    char path[4096];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1", dir);
    struct buf file;
    buf_init(&file, BUF_NO_CAP);
    size_t offs[8];
    build_events(&file, 4, offs);
    size_t last = offs[4], total = offs[5];

    for (size_t cut = last; cut < total; cut++) {
        write_file(path, file.data, cut, false);
        record_reader *r;
        REQUIRE(record_reader_open(&r, path, 0) == 0);
        const uint8_t *p;
        size_t len;
        for (int i = 0; i < 4; i++)
            CHECK_EQ(record_reader_next(r, &p, &len), 1);
        for (int again = 0; again < 2; again++) {
            CHECK_EQ(record_reader_next(r, &p, &len), 0);
            CHECK_EQ(record_reader_fault(r),
                     cut == last ? RECORD_FAULT_NONE : RECORD_FAULT_TRUNCATED);
            CHECK_EQ(record_reader_offset(r), last);
        }
        /* Complete it in two steps when there is room for that. */
        size_t at = cut, mid = cut + (total - cut) / 2;
        if (mid > at && mid < total) {
            write_file(path, file.data + at, mid - at, true);
            CHECK_EQ(record_reader_next(r, &p, &len), 0);
            CHECK_EQ(record_reader_fault(r), RECORD_FAULT_TRUNCATED);
            CHECK_EQ(record_reader_offset(r), last);
            at = mid;
        }
        write_file(path, file.data + at, total - at, true);
        CHECK_EQ(record_reader_next(r, &p, &len), 1);
        CHECK_EQ(len, total - last - 16);
        CHECK(len == total - last - 16 && memcmp(p, file.data + last + 12, len) == 0);
        CHECK_EQ(record_reader_next(r, &p, &len), 0);
        CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
        CHECK_EQ(record_reader_offset(r), total);
        record_reader_free(r);
    }
    buf_free(&file);
    test_rmtree(dir);
    free(dir);
}

/* Every bit of a small file flipped in turn: the records before it read,
 * then corruption at the start of the record that holds the bit. */
static void flipped_bits(void)
{
    char *dir = test_tmpdir("reader");
    char path[4096];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1", dir);
    struct buf file;
    buf_init(&file, BUF_NO_CAP);
    size_t offs[8];
    build_events(&file, 2, offs);
    uint8_t *copy = malloc(file.len);
    for (size_t bit = 0; bit < file.len * 8; bit++) {
        memcpy(copy, file.data, file.len);
        size_t byte = bit / 8;
        copy[byte] ^= (uint8_t)(1u << (bit % 8));
        write_file(path, copy, file.len, false);
        size_t rec = 0;
        while (offs[rec + 1] <= byte)
            rec++;
        size_t in_rec = byte - offs[rec];
        enum record_fault want = in_rec < 12 ? RECORD_FAULT_LENGTH_CRC : RECORD_FAULT_DATA_CRC;

        record_reader *r;
        REQUIRE(record_reader_open(&r, path, 0) == 0);
        Tensorboard__Event *ev;
        for (size_t i = 0; i < rec; i++) {
            CHECK_EQ(record_reader_next_event(r, &ev), 1);
            event_free(ev);
        }
        for (int again = 0; again < 2; again++) {
            int rc = record_reader_next_event(r, &ev);
            if (rc != -EBADMSG)
                fprintf(stderr, "bit %zu: rc %d\n", bit, rc);
            CHECK_EQ(rc, -EBADMSG);
            CHECK_EQ(record_reader_fault(r), want);
            CHECK_EQ(record_reader_offset(r), offs[rec]);
            CHECK_EQ(record_reader_index(r), rec);
        }
        record_reader_free(r);
    }
    free(copy);
    buf_free(&file);
    test_rmtree(dir);
    free(dir);
}

static void not_an_event(void)
{
    char *dir = test_tmpdir("reader");
    char path[4096];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1", dir);
    struct buf file;
    buf_init(&file, BUF_NO_CAP);
    size_t offs[8];
    build_events(&file, 1, offs);
    size_t bad = file.len;
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    record_frame(&file, garbage, sizeof garbage);
    write_file(path, file.data, file.len, false);

    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    Tensorboard__Event *ev;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(record_reader_next_event(r, &ev), 1);
        event_free(ev);
    }
    CHECK_EQ(record_reader_next_event(r, &ev), -EBADMSG);
    CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NOT_EVENT);
    CHECK_EQ(record_reader_offset(r), bad);
    CHECK_EQ(record_reader_index(r), 2);
    CHECK_EQ(record_reader_next_event(r, &ev), -EBADMSG);
    CHECK_EQ(record_reader_offset(r), bad);
    record_reader_free(r);

    /* The framing alone is fine: record_reader_next() returns it. */
    REQUIRE(record_reader_open(&r, path, bad) == 0);
    const uint8_t *p;
    size_t len;
    CHECK_EQ(record_reader_next(r, &p, &len), 1);
    CHECK(len == 3 && memcmp(p, garbage, 3) == 0);
    record_reader_free(r);
    buf_free(&file);
    test_rmtree(dir);
    free(dir);
}

/* Many records across block boundaries, and records bigger than a block. */
static void big_and_many(void)
{
    char *dir = test_tmpdir("reader");
    char path[4096];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1", dir);
    struct buf file;
    buf_init(&file, BUF_NO_CAP);
    size_t big = (size_t)3 << 20;
    uint8_t *payload = malloc(big);
    for (size_t i = 0; i < big; i++)
        payload[i] = (uint8_t)(i * 31 + (i >> 12));
    size_t n = 0;
    static size_t sizes[40000];
    for (size_t i = 0; i < 30000; i++, n++) {
        sizes[n] = (i * 37) % 300;
        record_frame(&file, payload + i, sizes[n]);
    }
    sizes[n++] = big;
    record_frame(&file, payload, big);
    for (size_t i = 0; i < 1000; i++, n++) {
        sizes[n] = (i * 13) % 200 + 1;
        record_frame(&file, payload + i, sizes[n]);
    }
    sizes[n++] = big - 5;
    record_frame(&file, payload + 5, big - 5);
    write_file(path, file.data, file.len, false);

    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    size_t got = 0;
    const uint8_t *p;
    size_t len;
    int rc;
    while ((rc = record_reader_next(r, &p, &len)) == 1) {
        if (got < n && len != sizes[got]) {
            CHECK_EQ(len, sizes[got]);
            break;
        }
        got++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(got, n);
    CHECK_EQ(record_reader_offset(r), file.len);
    CHECK(len == big - 5 || rc == 0);
    record_reader_free(r);
    free(payload);
    buf_free(&file);
    test_rmtree(dir);
    free(dir);
}

/* golden/edge: where TensorBoard's reader stopped, and why. */
static void golden_edge_case(const char *shared, const char *name)
{
    char base[4096], path[4600];
    snprintf(base, sizeof base, "%s/golden/edge/%s", shared, name);
    snprintf(path, sizeof path, "%s/expected.json", base);
    size_t tlen;
    char *text = test_read_file(path, &tlen);
    REQUIRE(text);
    cJSON *root = cJSON_ParseWithLength(text, tlen);
    REQUIRE(root);
    cJSON *files = cJSON_GetObjectItem(root, "tensorboard_reader");
    REQUIRE(cJSON_IsObject(files));
    cJSON *f;
    int nfiles = 0;
    cJSON_ArrayForEach(f, files) {
        nfiles++;
        snprintf(path, sizeof path, "%s/%s", base, f->string);
        cJSON *stopped = cJSON_GetObjectItem(f, "stopped_at_offset");
        const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(f, "reader_error"));
        int records_read = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "records_read"));
        int size = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "size"));

        /* Framing only, like TensorBoard's record reader. */
        record_reader *r;
        REQUIRE(record_reader_open(&r, path, 0) == 0);
        const uint8_t *p;
        size_t len;
        int rc, count = 0;
        while ((rc = record_reader_next(r, &p, &len)) == 1)
            count++;
        CHECK_EQ(count, records_read);
        if (cJSON_IsNumber(stopped)) {
            CHECK_EQ(record_reader_offset(r), (long long)stopped->valuedouble);
            REQUIRE(err);
            if (strstr(err, "truncated")) {
                CHECK_EQ(rc, 0);
                CHECK_EQ(record_reader_fault(r), RECORD_FAULT_TRUNCATED);
            } else if (strstr(err, "header crc")) {
                CHECK_EQ(rc, -EBADMSG);
                CHECK_EQ(record_reader_fault(r), RECORD_FAULT_LENGTH_CRC);
            } else if (strstr(err, "event crc")) {
                CHECK_EQ(rc, -EBADMSG);
                CHECK_EQ(record_reader_fault(r), RECORD_FAULT_DATA_CRC);
            } else {
                fprintf(stderr, "%s: unexpected reader_error %s\n", name, err);
                CHECK(0);
            }
        } else {
            CHECK_EQ(rc, 0);
            CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
            CHECK_EQ(record_reader_offset(r), size);
        }
        record_reader_free(r);

        /* Decoding: the first record that is not an Event stops there. */
        cJSON *nae = cJSON_GetArrayItem(cJSON_GetObjectItem(f, "not_an_event"), 0);
        REQUIRE(record_reader_open(&r, path, 0) == 0);
        Tensorboard__Event *ev;
        while ((rc = record_reader_next_event(r, &ev)) == 1)
            event_free(ev);
        if (nae) {
            CHECK_EQ(rc, -EBADMSG);
            CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NOT_EVENT);
            CHECK_EQ(record_reader_offset(r),
                     (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(nae, "offset")));
            CHECK_EQ(record_reader_index(r),
                     (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(nae, "record")));
        } else if (cJSON_IsNumber(stopped)) {
            CHECK_EQ(record_reader_offset(r), (long long)stopped->valuedouble);
        } else {
            CHECK_EQ(rc, 0);
        }
        record_reader_free(r);
    }
    CHECK(nfiles > 0);
    cJSON_Delete(root);
    free(text);
}

static void golden_edges(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: edge cases not read");
    static const char *const cases[] = {"truncated", "truncated_header", "bad_crc",
                                        "bad_length_crc", "garbage_record"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = test_failures_;
        golden_edge_case(shared, cases[i]);
        if (test_failures_ != before)
            fprintf(stderr, "edge case %s failed\n", cases[i]);
    }
}

/* The byte-exact minimal file decodes to what golden/README.md says. */
static void golden_minimal(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: minimal file not read");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/minimal/events.out.tfevents.1700000000.golden", shared);
    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    Tensorboard__Event *ev;
    REQUIRE(record_reader_next_event(r, &ev) == 1);
    CHECK_STR(ev->file_version, "brain.Event:2");
    CHECK(ev->wall_time == 1700000000.0);
    event_free(ev);
    REQUIRE(record_reader_next_event(r, &ev) == 1);
    CHECK_EQ(ev->step, 3);
    REQUIRE(ev->summary && ev->summary->n_value == 1);
    CHECK_STR(ev->summary->value[0]->tag, "loss");
    CHECK(ev->summary->value[0]->simple_value == 0.5f);
    event_free(ev);
    CHECK_EQ(record_reader_next_event(r, &ev), 0);
    CHECK_EQ(record_reader_offset(r), 95);
    record_reader_free(r);
}

TEST_MAIN(TEST(reads_events), TEST(truncated_tail_resumes), TEST(flipped_bits),
          TEST(not_an_event), TEST(big_and_many), TEST(golden_edges), TEST(golden_minimal))
