/* logdir_reader: discovery, incremental polling, truncated tails,
 * corruption, symlinks, metadata carried to later values, purge reports. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "logdir_reader.h"
#include "record.h"
#include "scalar_event.h"
#include "test.h"

/* A framed scalar event (scalar_event.h) at wall time 1700000000.5 + step
 * appended to out, with the scalars metadata if with_md. */
static void frame_scalar(struct buf *out, const char *tag, int64_t step, float x, bool with_md)
{
    struct buf ev;
    buf_init(&ev, BUF_NO_CAP);
    CHECK(scalar_event_append(&ev, tag, step, 1700000000.5 + (double)step, x, with_md) == 0);
    CHECK(record_frame(out, ev.data, ev.len) == 0);
    buf_free(&ev);
}

static void frame_file_version(struct buf *out, const char *version)
{
    Tensorboard__Event ev;
    tensorboard__event__init(&ev);
    ev.wall_time = 1700000000;
    ev.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)version;
    uint8_t payload[128];
    size_t n = tensorboard__event__pack(&ev, payload);
    CHECK(record_frame(out, payload, n) == 0);
}

static void frame_session_start(struct buf *out, int64_t step)
{
    Tensorboard__SessionLog sl;
    tensorboard__session_log__init(&sl);
    sl.status = TENSORBOARD__SESSION_LOG__SESSION_STATUS__START;
    Tensorboard__Event ev;
    tensorboard__event__init(&ev);
    ev.step = step;
    ev.what_case = TENSORBOARD__EVENT__WHAT_SESSION_LOG;
    ev.session_log = &sl;
    uint8_t payload[128];
    size_t n = tensorboard__event__pack(&ev, payload);
    CHECK(record_frame(out, payload, n) == 0);
}

static void append_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    CHECK((size_t)write(fd, data, len) == len);
    close(fd);
}

struct polled {
    size_t events, problems;
    size_t values_scalar;
    char last_run[256], last_file[512];
    uint64_t last_problem_offset;
    enum record_fault last_fault;
    double last_scalar;
    bool purge_seen, purge_all;
    int64_t purge_step;
};

/* One poll: read until the reader has nothing more for now. */
static struct polled poll_all(logdir_reader *r)
{
    struct polled p;
    memset(&p, 0, sizeof p);
    struct logdir_reader_item it;
    int rc;
    while ((rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_PROBLEM) {
            p.problems++;
            p.last_problem_offset = it.offset;
            p.last_fault = it.fault;
            snprintf(p.last_file, sizeof p.last_file, "%s", it.file);
            continue;
        }
        p.events++;
        snprintf(p.last_run, sizeof p.last_run, "%s", it.run);
        snprintf(p.last_file, sizeof p.last_file, "%s", it.file);
        if (it.purge) {
            p.purge_seen = true;
            p.purge_all = it.purge_all_tags;
            p.purge_step = it.purge_step;
        }
        for (size_t i = 0; i < it.n_values; i++)
            if (it.values[i].kind == VALUE_SCALAR) {
                p.values_scalar++;
                p.last_scalar = it.values[i].scalar;
            }
    }
    CHECK_EQ(rc, 0);
    return p;
}

static void test_incremental(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "loss", 0, 1.0f, true);
    frame_scalar(&b, "loss", 1, 0.5f, false);
    append_file(dir, "events.out.tfevents.1700000000.h.1.0", b.data, b.len);

    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 3);
    CHECK_EQ(p.problems, 0);
    /* The second value has no metadata: decoded with the kept one. */
    CHECK_EQ(p.values_scalar, 2);
    CHECK(p.last_scalar == 0.5);
    CHECK_EQ(logdir_reader_run_count(r), 1);
    CHECK_STR(logdir_reader_run_name(r, 0), ".");

    /* Nothing new: an empty poll. */
    p = poll_all(r);
    CHECK_EQ(p.events, 0);

    /* Append to the file, add a run two levels down, add a non-event file. */
    buf_reset(&b);
    frame_scalar(&b, "loss", 2, 0.25f, false);
    append_file(dir, "events.out.tfevents.1700000000.h.1.0", b.data, b.len);
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/train", dir);
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(sub, sizeof sub, "%s/train/a", dir);
    CHECK(mkdir(sub, 0755) == 0);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "acc", 0, 0.75f, true);
    append_file(sub, "events.out.tfevents.1700000001.h.1.0", b.data, b.len);
    append_file(dir, "notes.txt", "hello", 5);

    p = poll_all(r);
    CHECK_EQ(p.events, 3);
    CHECK_EQ(p.values_scalar, 2);
    CHECK_STR(p.last_run, "train/a");
    CHECK_STR(p.last_file, "train/a/events.out.tfevents.1700000001.h.1.0");
    CHECK(p.last_scalar == 0.75);
    CHECK_EQ(logdir_reader_run_count(r), 2);
    CHECK_STR(logdir_reader_run_name(r, 1), "train/a");

    struct logdir_reader_stats st;
    logdir_reader_stats(r, &st);
    CHECK_EQ(st.records, 6);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

static void test_truncated_tail(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    size_t first = b.len;
    frame_scalar(&b, "x", 0, 3.0f, true);
    size_t whole = b.len;
    /* Write the first record and 5 bytes of the second (inside the header),
     * then 20 bytes (inside the payload), then the rest. */
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, first + 5);
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 1);
    CHECK_EQ(p.problems, 1);
    CHECK_EQ(p.last_fault, RECORD_FAULT_TRUNCATED);
    CHECK_EQ(p.last_problem_offset, first);
    /* Reported once per position, retried silently. */
    p = poll_all(r);
    CHECK_EQ(p.events, 0);
    CHECK_EQ(p.problems, 0);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data + first + 5, 15);
    p = poll_all(r);
    CHECK_EQ(p.events, 0);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data + first + 20, whole - first - 20);
    p = poll_all(r);
    CHECK_EQ(p.events, 1);
    CHECK_EQ(p.problems, 0);
    CHECK_EQ(p.values_scalar, 1);
    CHECK(p.last_scalar == 3.0);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

static void test_corruption_and_next_file(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 0, 1.0f, true);
    size_t bad_at = b.len;
    frame_scalar(&b, "x", 1, 2.0f, false);
    b.data[b.len - 5] ^= 0x01;   /* last payload byte: data CRC mismatch */
    frame_scalar(&b, "x", 2, 3.0f, false);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);

    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 2);
    CHECK_EQ(p.problems, 1);
    CHECK_EQ(p.last_fault, RECORD_FAULT_DATA_CRC);
    CHECK_EQ(p.last_problem_offset, bad_at);
    CHECK_STR(p.last_file, "events.out.tfevents.1700000000.h");

    /* Appends to the abandoned file are never read; a newer file is. */
    buf_reset(&b);
    frame_scalar(&b, "x", 3, 4.0f, false);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 0);
    CHECK_EQ(p.problems, 0);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 4, 5.0f, true);
    append_file(dir, "events.out.tfevents.1700000100.h", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 2);
    CHECK(p.last_scalar == 5.0);

    /* A CRC-valid record that is not an Event, in another run. */
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/g", dir);
    CHECK(mkdir(sub, 0755) == 0);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    size_t garbage_at = b.len;
    static const uint8_t ff[] = {0xff, 0xff, 0xff};
    CHECK(record_frame(&b, ff, sizeof ff) == 0);
    frame_scalar(&b, "y", 0, 1.0f, true);
    append_file(sub, "events.out.tfevents.1700000000.h", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 1);
    CHECK_EQ(p.problems, 1);
    CHECK_EQ(p.last_fault, RECORD_FAULT_NOT_EVENT);
    CHECK_EQ(p.last_problem_offset, garbage_at);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

static void test_moves_on_to_newer_file(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 0, 1.0f, true);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 2);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    append_file(dir, "events.out.tfevents.1700000010.h", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 1);
    /* Data appended to the older file after the switch is lost, as in
     * TensorBoard. */
    buf_reset(&b);
    frame_scalar(&b, "x", 1, 2.0f, false);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 0);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

/* late_files: a file that appears with a name before the one being read
 * is read (once, whole), and each file only once; without the option it
 * is skipped (test_moves_on_to_newer_file). */
static void test_late_files(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 10, 1.0f, true);
    append_file(dir, "events.out.tfevents.1700000010.b", b.data, b.len);
    struct logdir_reader_options o;
    logdir_reader_options_init(&o);
    o.late_files = true;
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, &o) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 2);
    /* Another node's earlier segment, and a later one, arrive at once. */
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 5, 2.0f, true);
    frame_scalar(&b, "x", 6, 3.0f, false);
    append_file(dir, "events.out.tfevents.1700000005.a", b.data, b.len);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:2");
    frame_scalar(&b, "x", 20, 4.0f, true);
    append_file(dir, "events.out.tfevents.1700000020.c", b.data, b.len);
    p = poll_all(r);
    CHECK_EQ(p.events, 5);
    CHECK_EQ(p.values_scalar, 3);
    CHECK(strcmp(p.last_file, "events.out.tfevents.1700000020.c") == 0);
    CHECK(p.last_scalar == 4.0);
    p = poll_all(r);   /* nothing twice */
    CHECK_EQ(p.events, 0);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

static void test_symlinked_dir_not_followed(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    char *outside = test_tmpdir("tfev-out");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    append_file(outside, "events.out.tfevents.1700000000.h", b.data, b.len);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);
    char link[4096];
    snprintf(link, sizeof link, "%s/elsewhere", dir);
    CHECK(symlink(outside, link) == 0);
    snprintf(link, sizeof link, "%s/loop", dir);
    CHECK(symlink(dir, link) == 0);
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK_EQ(p.events, 1);
    CHECK_EQ(logdir_reader_run_count(r), 1);
    logdir_reader_free(r);

    /* Opened on a single file: that file is run ".". */
    snprintf(link, sizeof link, "%s/events.out.tfevents.1700000000.h", outside);
    REQUIRE(logdir_reader_open(&r, link, NULL) == 0);
    p = poll_all(r);
    CHECK_EQ(p.events, 1);
    CHECK_STR(p.last_run, ".");
    logdir_reader_free(r);
    CHECK(logdir_reader_open(&r, "/nonexistent/tfevents-logdir", NULL) == -ENOENT);
    buf_free(&b);
    test_rmtree(dir);
    test_rmtree(outside);
    free(dir);
    free(outside);
}

static void test_purge_reports(void)
{
    char *dir = test_tmpdir("tfev-ldr");
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    frame_file_version(&b, "brain.Event:2");
    frame_session_start(&b, 0);
    frame_scalar(&b, "x", 0, 1.0f, true);
    frame_scalar(&b, "x", 1, 1.0f, false);
    frame_session_start(&b, 1);
    append_file(dir, "events.out.tfevents.1700000000.h", b.data, b.len);
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, NULL) == 0);
    struct polled p = poll_all(r);
    CHECK(p.purge_seen);          /* the second START only */
    CHECK(p.purge_all);
    CHECK_EQ(p.purge_step, 1);
    logdir_reader_free(r);

    /* Without file_version 2: a step going back purges that event's tags. */
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/old", dir);
    CHECK(mkdir(sub, 0755) == 0);
    buf_reset(&b);
    frame_file_version(&b, "brain.Event:1");
    frame_scalar(&b, "x", 5, 1.0f, true);
    frame_scalar(&b, "x", 3, 1.0f, false);
    append_file(sub, "events.out.tfevents.1700000000.h", b.data, b.len);
    REQUIRE(logdir_reader_open(&r, sub, NULL) == 0);
    p = poll_all(r);
    CHECK(p.purge_seen);
    CHECK(!p.purge_all);
    CHECK_EQ(p.purge_step, 3);
    logdir_reader_free(r);

    /* The option off: no purge reported. */
    struct logdir_reader_options o;
    logdir_reader_options_init(&o);
    o.purge = false;
    REQUIRE(logdir_reader_open(&r, sub, &o) == 0);
    p = poll_all(r);
    CHECK(!p.purge_seen);
    logdir_reader_free(r);
    buf_free(&b);
    test_rmtree(dir);
    free(dir);
}

TEST_MAIN(TEST(test_incremental), TEST(test_truncated_tail), TEST(test_corruption_and_next_file),
          TEST(test_moves_on_to_newer_file), TEST(test_symlinked_dir_not_followed),
          TEST(test_late_files),
          TEST(test_purge_reports))
