#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "record_reader.h"
#include "run_writer.h"
#include "summary.h"
#include "test.h"

/* The event files of dir, sorted by name (the order TensorBoard reads). */
static size_t list_files(const char *dir, char names[][512], size_t max)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    if (!d)
        return 0;
    while ((de = readdir(d)) && n < max)
        if (strstr(de->d_name, "tfevents"))
            snprintf(names[n++], 512, "%s/%s", dir, de->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[512];
                memcpy(t, names[i], 512);
                memcpy(names[i], names[j], 512);
                memcpy(names[j], t, 512);
            }
    return n;
}

struct seen {
    size_t values, with_md, starts;
    int64_t steps[4096];
    char tags[4096][8];
    bool md[4096];
};

/* Read one file: check it starts with file_version, collect values. */
static void read_file(const char *path, struct seen *s)
{
    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    Tensorboard__Event *ev;
    bool first = true;
    while (record_reader_next_event(r, &ev) == 1) {
        if (first) {
            CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION);
            first = false;
        } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG) {
            s->starts++;
        } else {
            REQUIRE(ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY);
            REQUIRE(ev->summary->n_value == 1);
            Tensorboard__Summary__Value *v = ev->summary->value[0];
            if (s->values < 4096) {
                s->steps[s->values] = ev->step;
                snprintf(s->tags[s->values], 8, "%s", v->tag);
                s->md[s->values] = v->metadata != NULL;
            }
            s->values++;
            if (v->metadata)
                s->with_md++;
        }
        event_free(ev);
    }
    CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
    record_reader_free(r);
}

static void add_scalar(run_writer *w, const char *tag, int64_t step)
{
    struct summary_value v;
    summary_value_init(&v);
    REQUIRE(summary_scalar(&v, tag, (double)step, NULL) == 0);
    CHECK_EQ(run_writer_add_summary(w, 1700000000.5, step, &v), 0);
    summary_value_done(&v);
}

static void test_metadata_first_per_file(void)
{
    char *tmp = test_tmpdir("rw");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/a/b", tmp);   /* created on first write */
    run_writer *w = run_writer_new(dir, NULL);
    REQUIRE(w);
    for (int i = 0; i < 3; i++) {
        add_scalar(w, "a", i);
        add_scalar(w, "b", i);
    }
    CHECK(run_writer_file(w) == NULL);   /* nothing on disk before a flush */
    CHECK_EQ(run_writer_seq_added(w), 6);
    CHECK_EQ(run_writer_flush(w, true), 0);
    CHECK_EQ(run_writer_seq_written(w), 6);
    CHECK_EQ(run_writer_seq_synced(w), 6);
    REQUIRE(run_writer_file(w) != NULL);
    add_scalar(w, "a", 3);
    CHECK_EQ(run_writer_close(w, false), 0);

    char names[4][512];
    REQUIRE(list_files(dir, names, 4) == 1);
    struct seen *s = calloc(1, sizeof *s);
    read_file(names[0], s);
    CHECK_EQ(s->values, 7);
    CHECK_EQ(s->with_md, 2);
    CHECK(s->md[0] && s->md[1] && !s->md[2] && !s->md[6]);
    free(s);
    test_rmtree(tmp);
    free(tmp);
}

static void test_rotation(void)
{
    char *tmp = test_tmpdir("rw");
    struct run_writer_options o = {.rotate_bytes = 400};
    run_writer *w = run_writer_new(tmp, &o);
    REQUIRE(w);
    for (int i = 0; i < 60; i++) {
        add_scalar(w, "a", i);
        add_scalar(w, "b", i);
        if (i % 7 == 0)
            CHECK_EQ(run_writer_flush(w, false), 0);
    }
    CHECK_EQ(run_writer_close(w, false), 0);

    char names[64][512];
    size_t n = list_files(tmp, names, 64);
    CHECK(n >= 5);
    size_t total = 0;
    int64_t last = -1;
    for (size_t f = 0; f < n; f++) {
        struct stat st;
        REQUIRE(stat(names[f], &st) == 0);
        CHECK(st.st_size <= 400 + 100);   /* near the limit, never far past */
        struct seen *s = calloc(1, sizeof *s);
        read_file(names[f], s);
        /* Every file lists both tags: metadata on the first of each. */
        CHECK_EQ(s->with_md, 2);
        CHECK(s->md[0]);
        for (size_t i = 0; i < s->values; i++) {
            if (strcmp(s->tags[i], "a") == 0) {
                CHECK(s->steps[i] == last + 1);   /* name order = write order */
                last = s->steps[i];
            }
        }
        total += s->values;
        free(s);
    }
    CHECK_EQ(total, 120);

    /* An explicit rotation request. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/r", tmp);
    w = run_writer_new(sub, NULL);
    add_scalar(w, "a", 0);
    CHECK_EQ(run_writer_flush(w, false), 0);
    run_writer_request_rotate(w);
    add_scalar(w, "a", 1);
    CHECK_EQ(run_writer_close(w, false), 0);
    CHECK_EQ(list_files(sub, names, 64), 2);
    test_rmtree(tmp);
    free(tmp);
}

/* Every record of every file of dir but the first of each (file_version,
 * which holds the time the file was made), in name order, each preceded by
 * its length; files separated by a marker. */
static void file_records(const char *dir, struct buf *out)
{
    char names[64][512];
    size_t n = list_files(dir, names, 64);
    for (size_t f = 0; f < n; f++) {
        record_reader *r;
        REQUIRE(record_reader_open(&r, names[f], 0) == 0);
        const uint8_t *p;
        size_t len;
        bool first = true;
        while (record_reader_next(r, &p, &len) == 1) {
            if (!first) {
                REQUIRE(buf_append(out, &len, sizeof len) == 0);
                REQUIRE(buf_append(out, p, len) == 0);
            }
            first = false;
        }
        CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
        record_reader_free(r);
        REQUIRE(buf_append(out, "|file|", 6) == 0);
    }
}

/* run_writer_add_scalar(), falling back to add_summary() when it
 * declines, writes the very bytes add_summary() alone writes: the same
 * files (rotations and metadata included), record for record. */
static void test_scalar_shortcut(void)
{
    char *tmp = test_tmpdir("rw");
    char da[600], db[600];
    snprintf(da, sizeof da, "%s/short", tmp);
    snprintf(db, sizeof db, "%s/general", tmp);
    struct run_writer_options o = {.rotate_bytes = 30000};   /* about 20 files */
    run_writer *a = run_writer_new(da, &o);
    run_writer *b = run_writer_new(db, &o);
    REQUIRE(a && b);
    char longtag[66];
    memset(longtag, 'x', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = '\0';
    char edge[65];   /* the longest tag the shortcut keeps */
    memset(edge, 'e', sizeof edge - 1);
    edge[sizeof edge - 1] = '\0';
    const char *tags[] = {"loss", "loss", "loss", "acc", "caf\xc3\xa9", longtag, edge, "t"};
    const double walls[] = {1700000000.25, 0.0, -0.0, 1e9 + 0.5};
    const int64_t steps[] = {0, 1, 127, 128, 16384, (int64_t)1 << 53};
    struct summary_meta shown = {.display_name = "Shown"};
    struct summary_value v;
    summary_value_init(&v);
    uint64_t rng = 42;
    size_t shortcut = 0, declined = 0;
    for (int i = 0; i < 3000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t x = (uint32_t)(rng >> 33);
        const char *tag = tags[x % 8];
        double wall = walls[(x >> 3) % 4];
        int64_t step = (x >> 5) % 3 ? i : steps[(x >> 7) % 6];
        double value = (double)(int32_t)(x >> 1) / 1024.0;
        bool meta = (x >> 10) % 50 == 0;   /* a display name: other metadata */
        if ((x >> 16) % 301 == 0)
            run_writer_request_rotate(i % 2 ? a : b), run_writer_request_rotate(i % 2 ? b : a);
        if ((x >> 16) % 89 == 1) {
            CHECK_EQ(run_writer_flush(a, false), 0);
            CHECK_EQ(run_writer_flush(b, false), 0);
        }
        REQUIRE(summary_scalar(&v, tag, value, meta ? &shown : NULL) == 0);
        CHECK_EQ(run_writer_add_summary(b, wall, step, &v), 0);
        int r = meta ? RUN_WRITER_DECLINED
                     : run_writer_add_scalar(a, wall, step, tag, strlen(tag), value);
        if (r == RUN_WRITER_DECLINED) {
            declined++;
            r = run_writer_add_summary(a, wall, step, &v);
        } else {
            shortcut++;
        }
        CHECK_EQ(r, 0);
        CHECK_EQ(run_writer_seq_added(a), run_writer_seq_added(b));
        CHECK_EQ(run_writer_pending_bytes(a), run_writer_pending_bytes(b));
    }
    /* Without a scalar of that tag in the file, or after a rotation is
     * asked for, the shortcut declines and changes nothing. */
    CHECK_EQ(run_writer_flush(a, false), 0);
    uint64_t added = run_writer_seq_added(a);
    CHECK_EQ(run_writer_add_scalar(a, 1.0, 1, "never", 5, 1.0), RUN_WRITER_DECLINED);
    CHECK_EQ(run_writer_add_scalar(a, 1.0, 1, longtag, strlen(longtag), 1.0),
             RUN_WRITER_DECLINED);
    run_writer_request_rotate(a);
    CHECK_EQ(run_writer_add_scalar(a, 1.0, 1, "t", 1, 1.0), RUN_WRITER_DECLINED);
    CHECK_EQ(run_writer_seq_added(a), added);
    CHECK_EQ(run_writer_pending_bytes(a), 0);
    summary_value_done(&v);
    CHECK(shortcut > 1000);
    CHECK(declined > 100);
    CHECK_EQ(run_writer_close(a, false), 0);
    CHECK_EQ(run_writer_close(b, false), 0);

    struct buf x, y;
    buf_init(&x, BUF_NO_CAP);
    buf_init(&y, BUF_NO_CAP);
    char names[64][512];
    size_t files = list_files(da, names, 64);
    CHECK(files >= 10 && files < 64);
    CHECK_EQ(list_files(db, names, 64), files);
    file_records(da, &x);
    file_records(db, &y);
    for (size_t i = 0; i < x.len && i < y.len; i++)
        if (x.data[i] != y.data[i]) {
            fprintf(stderr, "first difference at byte %zu\n", i);
            break;
        }
    CHECK(x.len > 100000);
    CHECK_EQ(x.len, y.len);
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    buf_free(&x);
    buf_free(&y);
    test_rmtree(tmp);
    free(tmp);
}

/* take / write / complete: records added while a batch is in flight go to
 * the next batch; the order in the file is the order of the adds. */
static void test_split_flush(void)
{
    char *tmp = test_tmpdir("rw");
    run_writer *w = run_writer_new(tmp, NULL);
    REQUIRE(w);
    CHECK_EQ(run_writer_take(w, false), 0);   /* nothing to do */
    add_scalar(w, "a", 0);
    add_scalar(w, "a", 1);
    CHECK(run_writer_pending_bytes(w) > 0);
    CHECK_EQ(run_writer_take(w, false), 1);
    CHECK(run_writer_busy(w));
    CHECK_EQ(run_writer_pending_bytes(w), 0);
    add_scalar(w, "a", 2);                     /* during the write */
    CHECK_EQ(run_writer_take(w, false), -EBUSY);
    CHECK_EQ(run_writer_write(w), 0);
    CHECK_EQ(run_writer_complete(w), 0);
    CHECK(!run_writer_busy(w));
    CHECK_EQ(run_writer_seq_written(w), 2);
    CHECK_EQ(run_writer_seq_added(w), 3);
    CHECK_EQ(run_writer_flush(w, false), 0);
    CHECK_EQ(run_writer_seq_written(w), 3);
    /* A sync with nothing new still fsyncs what was written. */
    CHECK_EQ(run_writer_seq_synced(w), 0);
    CHECK_EQ(run_writer_take(w, true), 1);
    CHECK_EQ(run_writer_write(w), 0);
    CHECK_EQ(run_writer_complete(w), 0);
    CHECK_EQ(run_writer_seq_synced(w), 3);
    struct run_writer_stats st;
    run_writer_get_stats(w, &st);
    CHECK_EQ(st.files, 1);
    CHECK_EQ(st.fsyncs, 1);
    CHECK_EQ(run_writer_close(w, false), 0);

    char names[4][512];
    REQUIRE(list_files(tmp, names, 4) == 1);
    struct seen *s = calloc(1, sizeof *s);
    read_file(names[0], s);
    CHECK_EQ(s->values, 3);
    CHECK(s->steps[0] == 0 && s->steps[1] == 1 && s->steps[2] == 2);
    free(s);
    test_rmtree(tmp);
    free(tmp);
}

/* A failed write keeps the data for the next attempt. */
static void test_write_failure_keeps_data(void)
{
    char *tmp = test_tmpdir("rw");
    char blocker[600], dir[700];
    snprintf(blocker, sizeof blocker, "%s/file", tmp);
    snprintf(dir, sizeof dir, "%s/run", blocker);
    int fd = open(blocker, O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    run_writer *w = run_writer_new(dir, NULL);
    add_scalar(w, "a", 0);
    size_t pending = run_writer_pending_bytes(w);
    CHECK_EQ(run_writer_flush(w, false), -ENOTDIR);
    CHECK_EQ(run_writer_pending_bytes(w), pending);
    CHECK_EQ(run_writer_seq_written(w), 0);
    /* Remove the obstacle: the same records are written. */
    unlink(blocker);
    CHECK_EQ(run_writer_flush(w, false), 0);
    CHECK_EQ(run_writer_seq_written(w), 1);
    CHECK_EQ(run_writer_close(w, false), 0);
    char names[4][512];
    REQUIRE(list_files(dir, names, 4) == 1);
    struct seen *s = calloc(1, sizeof *s);
    read_file(names[0], s);
    CHECK_EQ(s->values, 1);
    CHECK_EQ(s->with_md, 1);
    free(s);
    test_rmtree(tmp);
    free(tmp);
}

/* Values of every file of dir, and the largest file's size. */
static size_t dir_values(const char *dir, struct seen *s, off_t *ret_max, size_t *ret_files)
{
    static char names[64][512];
    size_t n = list_files(dir, names, 64);
    off_t max = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && st.st_size > max)
            max = st.st_size;
        read_file(names[i], s);
    }
    *ret_max = max;
    *ret_files = n;
    return s->values;
}

/* The child of test_file_size_limit(), under RLIMIT_FSIZE. */
static void file_size_limit_child(const char *tmp)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, RLIM_INFINITY};
    REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    run_writer *w = run_writer_new(tmp, NULL);
    REQUIRE(w);
    /* The limit is a rotation size: files end before it, each with its
     * tag's metadata on its first value. */
    for (int64_t i = 0; i < 300; i++) {
        add_scalar(w, "a", i);
        if (i % 50 == 49)
            CHECK_EQ(run_writer_flush(w, false), 0);
    }
    struct seen *s = calloc(1, sizeof *s);
    off_t max;
    size_t files;
    CHECK_EQ(dir_values(tmp, s, &max, &files), 300);
    CHECK(files >= 3);
    CHECK(max <= 4096);
    CHECK_EQ(s->with_md, files);
    /* A record no file can hold: dropped, counted, the flush fails once,
     * and the next records are written. */
    struct summary_value v;
    summary_value_init(&v);
    char *text = malloc(5000);
    REQUIRE(text);
    memset(text, 'x', 4999);
    text[4999] = '\0';
    REQUIRE(summary_text(&v, "t", text, 4999, NULL) == 0);
    CHECK_EQ(run_writer_add_summary(w, 1700000000.5, 300, &v), 0);
    summary_value_done(&v);
    free(text);
    add_scalar(w, "a", 301);
    CHECK_EQ(run_writer_flush(w, false), -EFBIG);
    struct run_writer_stats st;
    run_writer_get_stats(w, &st);
    CHECK_EQ(st.records_lost, 1);
    CHECK_EQ(run_writer_seq_written(w), run_writer_seq_added(w));
    /* Fill the current file past 2 KiB, then lower the limit under it: the
     * next write fails with EFBIG mid-file, and the writer moves on. */
    for (int64_t i = 302; i < 365; i++)
        add_scalar(w, "a", i);
    CHECK_EQ(run_writer_flush(w, false), 0);
    struct stat cur;
    REQUIRE(run_writer_file(w) && stat(run_writer_file(w), &cur) == 0);
    REQUIRE(cur.st_size > 2048);
    rl.rlim_cur = 2048;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    for (int64_t i = 365; i < 500; i++)
        add_scalar(w, "a", i);
    CHECK_EQ(run_writer_flush(w, false), 0);
    for (int64_t i = 500; i < 600; i++)
        add_scalar(w, "a", i);
    CHECK_EQ(run_writer_close(w, false), 0);
    memset(s, 0, sizeof *s);
    CHECK_EQ(dir_values(tmp, s, &max, &files), 599);   /* all but the text */
    for (size_t i = 0; i < 599 && i < 4096; i++)
        CHECK_EQ(s->steps[i], i < 300 ? (int64_t)i : (int64_t)i + 1);
    free(s);
}

static void test_file_size_limit(void)
{
    char *tmp = test_tmpdir("rw");
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        file_size_limit_child(tmp);
        _exit(test_failures_ ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    test_rmtree(tmp);
    free(tmp);
}

static void test_session_log(void)
{
    char *tmp = test_tmpdir("rw");
    run_writer *w = run_writer_new(tmp, NULL);
    CHECK_EQ(run_writer_add_session_log(w, 1.0, 5, TENSORBOARD__SESSION_LOG__SESSION_STATUS__START), 0);
    CHECK_EQ(run_writer_close(w, false), 0);
    char names[4][512];
    REQUIRE(list_files(tmp, names, 4) == 1);
    struct seen *s = calloc(1, sizeof *s);
    read_file(names[0], s);
    CHECK_EQ(s->starts, 1);
    free(s);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(TEST(test_metadata_first_per_file), TEST(test_rotation), TEST(test_scalar_shortcut), TEST(test_split_flush),
          TEST(test_write_failure_keeps_data), TEST(test_file_size_limit), TEST(test_session_log))
