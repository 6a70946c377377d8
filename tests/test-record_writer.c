#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "pbwire.h"
#include "record.h"
#include "record_reader.h"
#include "record_writer.h"
#include "test.h"

static long long file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Checks name against events.out.tfevents.<10 digits>.<host>.<pid>.<seq><suffix>
 * and returns the sequence number (or -1). */
static long long check_name(const char *name, long long secs, const char *suffix)
{
    static const char prefix[] = "events.out.tfevents.";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0) {
        fprintf(stderr, "bad prefix: %s\n", name);
        return -1;
    }
    const char *p = name + sizeof prefix - 1;
    char digits[16];
    snprintf(digits, sizeof digits, "%010lld", secs);
    if (strncmp(p, digits, 10) != 0 || p[10] != '.') {
        fprintf(stderr, "bad seconds (want %s): %s\n", digits, name);
        return -1;
    }
    p += 11;
    size_t slen = suffix ? strlen(suffix) : 0;
    size_t rest = strlen(p);
    if (rest < slen || strcmp(p + rest - slen, suffix ? suffix : "") != 0) {
        fprintf(stderr, "bad suffix: %s\n", name);
        return -1;
    }
    char mid[512];
    snprintf(mid, sizeof mid, "%.*s", (int)(rest - slen), p);
    /* mid = host.pid.seq; the host may itself hold dots. */
    char *dot2 = strrchr(mid, '.');
    if (!dot2)
        return -1;
    *dot2 = '\0';
    char *dot1 = strrchr(mid, '.');
    if (!dot1)
        return -1;
    *dot1 = '\0';
    const char *host = mid, *pid = dot1 + 1, *seq = dot2 + 1;
    if (!*host)
        return -1;
    for (const char *c = host; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.') {
            fprintf(stderr, "unsafe host char in %s\n", name);
            return -1;
        }
    }
    if (atol(pid) != (long)getpid()) {
        fprintf(stderr, "bad pid: %s\n", name);
        return -1;
    }
    for (const char *c = seq; *c; c++)
        if (!isdigit((unsigned char)*c))
            return -1;
    return *seq ? atoll(seq) : -1;
}

static void file_names(void)
{
    char name[256];
    REQUIRE(record_writer_file_name(name, sizeof name, 1700000000.75, NULL) == 0);
    long long s1 = check_name(name, 1700000000, NULL);
    CHECK(s1 >= 0);
    REQUIRE(record_writer_file_name(name, sizeof name, 5.5, ".cfg") == 0);
    long long s2 = check_name(name, 5, ".cfg");
    CHECK(s2 > s1);
    CHECK_EQ(record_writer_file_name(name, sizeof name, -1, NULL), -EINVAL);
    CHECK_EQ(record_writer_file_name(name, sizeof name, 1e10, NULL), -EINVAL);
    CHECK_EQ(record_writer_file_name(name, sizeof name, 1.0, "a/b"), -EINVAL);
    CHECK_EQ(record_writer_file_name(name, 20, 1.0, NULL), -ENAMETOOLONG);
}

/* Host names with '/' and other odd bytes are made safe for a file name.
 * Needs a private UTS namespace (root or user namespaces) to set one. */
static int host_name_child(const char *host, size_t host_len, const char *want)
{
    if (unshare(CLONE_NEWUTS) != 0 || sethostname(host, host_len) != 0)
        return 77;
    char name[256], expect[512];
    if (record_writer_file_name(name, sizeof name, 1700000000.0, NULL) != 0)
        return 1;
    snprintf(expect, sizeof expect, "events.out.tfevents.1700000000.%s.%ld.", want,
             (long)getpid());
    if (strncmp(name, expect, strlen(expect)) != 0) {
        fprintf(stderr, "name %s, want prefix %s\n", name, expect);
        return 1;
    }
    return 0;
}

static void odd_host_names(void)
{
    static const struct {
        const char *host;
        size_t len;
        const char *want;
    } cases[] = {
        {"we/ird host\x01", 12, "we_ird_host_"},
        {"../..", 5, ".._.."},
        {"", 0, "localhost"},
        {"node-1.example_a", 16, "node-1.example_a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
            _exit(host_name_child(cases[i].host, cases[i].len, cases[i].want));
        int st;
        REQUIRE(waitpid(pid, &st, 0) == pid);
        REQUIRE(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77)
            TEST_SKIP("cannot set a host name in a new UTS namespace (not root?)");
        CHECK_EQ(WEXITSTATUS(st), 0);
    }
}

/* The first record of a file: {wall_time, file_version: "brain.Event:2"}. */
static void check_first_record(record_reader *r, double wall_time)
{
    Tensorboard__Event *ev;
    REQUIRE(record_reader_next_event(r, &ev) == 1);
    CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION);
    CHECK_STR(ev->file_version, "brain.Event:2");
    if (wall_time > 0)
        CHECK(ev->wall_time == wall_time);
    else
        CHECK(ev->wall_time > 1.6e9);
    CHECK_EQ(ev->step, 0);
    event_free(ev);
}

static void open_and_round_trip(void)
{
    char *dir = test_tmpdir("writer");
    mode_t old_mask = umask(022);
    struct record_writer_options o = {.wall_time = 1700000123.25, .suffix = ".x"};
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    umask(old_mask);
    const char *path = record_writer_path(w);
    CHECK(strncmp(path, dir, strlen(dir)) == 0 && path[strlen(dir)] == '/');
    CHECK(check_name(base_name(path), 1700000123, ".x") >= 0);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0644);
    CHECK_EQ(record_writer_records(w), 1);
    /* The file_version record is on disk at once. */
    CHECK_EQ(file_size(path), (long long)record_writer_size(w));

    struct buf ev;
    buf_init(&ev, BUF_NO_CAP);
    for (int i = 0; i < 1000; i++) {
        uint8_t val[] = {0x0a, 0x08, 0x0a, 0x01, 'v', 0x15, 0, 0, 0, 0};
        float f = (float)i / 4;
        memcpy(val + 6, &f, 4);
        buf_reset(&ev);
        REQUIRE(event_encode_summary(&ev, 1700000124.0 + i, i, val, sizeof val) == 0);
        REQUIRE(record_writer_append(w, ev.data, ev.len) == 0);
    }
    CHECK_EQ(record_writer_records(w), 1001);
    char *saved = strdup(path);
    uint64_t size = record_writer_size(w);
    CHECK_EQ(record_writer_close(w), 0);
    CHECK_EQ(file_size(saved), (long long)size);

    record_reader *r;
    REQUIRE(record_reader_open(&r, saved, 0) == 0);
    check_first_record(r, 1700000123.25);
    for (int i = 0; i < 1000; i++) {
        Tensorboard__Event *e;
        REQUIRE(record_reader_next_event(r, &e) == 1);
        CHECK_EQ(e->step, i);
        CHECK(e->wall_time == 1700000124.0 + i);
        REQUIRE(e->summary && e->summary->n_value == 1);
        CHECK(e->summary->value[0]->simple_value == (float)i / 4);
        event_free(e);
    }
    Tensorboard__Event *e;
    CHECK_EQ(record_reader_next_event(r, &e), 0);
    CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
    record_reader_free(r);

    /* A restrictive umask is respected. */
    old_mask = umask(077);
    REQUIRE(record_writer_open(&w, dir, NULL) == 0);
    umask(old_mask);
    REQUIRE(stat(record_writer_path(w), &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(record_writer_close(w), 0);
    CHECK_EQ(record_writer_close(NULL), 0);

    CHECK_EQ(record_writer_open(&w, "/nonexistent/dir", NULL), -ENOENT);
    o.suffix = "bad/suffix";
    CHECK_EQ(record_writer_open(&w, dir, &o), -EINVAL);
    free(saved);
    buf_free(&ev);
    test_rmtree(dir);
    free(dir);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, "tfevents"))
            n++;
    closedir(d);
    return n;
}

/* Many writers in one directory in one second: distinct names, and each
 * sorts after the ones created before it (TensorBoard reads a run's files in
 * name order), which moves later ones to later seconds. */
static void many_writers_one_second(void)
{
    enum { N = 200 };
    char *dir = test_tmpdir("writer");
    record_writer *ws[N];
    struct record_writer_options o = {.wall_time = 1700000000.0};
    for (int i = 0; i < N; i++)
        REQUIRE(record_writer_open(&ws[i], dir, &o) == 0);
    for (int i = 0; i < N; i++) {
        const char *name = base_name(record_writer_path(ws[i]));
        long long secs = 0;
        CHECK(sscanf(name, "events.out.tfevents.%10lld.", &secs) == 1);
        CHECK(secs >= 1700000000 && secs < 1700000000 + N);
        if (i > 0)
            CHECK(strcmp(name, base_name(record_writer_path(ws[i - 1]))) > 0);
    }
    CHECK_EQ(count_files(dir), N);
    for (int i = 0; i < N; i++)
        CHECK_EQ(record_writer_close(ws[i]), 0);
    test_rmtree(dir);
    free(dir);
}

/* A file of another writer of the run, even a later-second one or one whose
 * pid and sequence number sort high, is followed, not preceded: otherwise
 * TensorBoard would read the new file first and the old one after it. */
static void sorts_after_existing(void)
{
    char *dir = test_tmpdir("writer");
    char path[4096];
    static const char *const others[] = {
        "events.out.tfevents.1700000000.zz.99999.9",
        "events.out.tfevents.1700000003.aa.1.0",
        "zzz.tfevents.not-ours",   /* no name of ours sorts after it: ignored */
    };
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, others[k]);
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fclose(f);
    }
    struct record_writer_options o = {.wall_time = 1700000000.5};
    record_writer *w, *w2;
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    const char *name = base_name(record_writer_path(w));
    CHECK(strcmp(name, others[1]) > 0);
    CHECK(strncmp(name, "events.out.tfevents.1700000004.", 31) == 0);
    /* Close and reopen in the same second: still in order. */
    char first[256];
    snprintf(first, sizeof first, "%s", name);
    CHECK_EQ(record_writer_close(w), 0);
    REQUIRE(record_writer_open(&w2, dir, &o) == 0);
    CHECK(strcmp(base_name(record_writer_path(w2)), first) > 0);
    CHECK_EQ(record_writer_close(w2), 0);
    /* A name from the last possible second cannot be followed: the writer
     * still opens, at its own time. */
    snprintf(path, sizeof path, "%s/events.out.tfevents.9999999999.h.1.0", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fclose(f);
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    CHECK(strncmp(base_name(record_writer_path(w)), "events.out.tfevents.1700000000.", 31) == 0);
    CHECK_EQ(record_writer_close(w), 0);
    test_rmtree(dir);
    free(dir);
}

/* Files already holding the names the next writer would take are skipped
 * and left as they were. */
static void never_truncates(void)
{
    char *dir = test_tmpdir("writer");
    char name[256], path[4096];
    REQUIRE(record_writer_file_name(name, sizeof name, 1700000000.0, NULL) == 0);
    long long seq = check_name(name, 1700000000, NULL);
    REQUIRE(seq >= 0);
    char *dot = strrchr(name, '.');
    *dot = '\0';
    for (int k = 1; k <= 3; k++) {
        snprintf(path, sizeof path, "%s/%s.%lld", dir, name, seq + k);
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs("precious", f);
        fclose(f);
    }
    struct record_writer_options o = {.wall_time = 1700000000.0};
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    /* It sorts after them, so it takes the next second. */
    CHECK(check_name(base_name(record_writer_path(w)), 1700000001, NULL) >= 0);
    CHECK_EQ(record_writer_close(w), 0);
    for (int k = 1; k <= 3; k++) {
        snprintf(path, sizeof path, "%s/%s.%lld", dir, name, seq + k);
        char *text = test_read_file(path, NULL);
        CHECK(text && strcmp(text, "precious") == 0);
        free(text);
    }
    CHECK_EQ(count_files(dir), 4);
    test_rmtree(dir);
    free(dir);
}

static void buffering(void)
{
    char *dir = test_tmpdir("writer");
    struct record_writer_options o = {.buffer_size = 4096};
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    const char *path = record_writer_path(w);
    long long first = file_size(path);
    CHECK(first > 16);
    uint8_t payload[100];
    memset(payload, 'x', sizeof payload);

    /* 30 records of 116 bytes stay below 4096: nothing written yet. */
    for (int i = 0; i < 30; i++)
        REQUIRE(record_writer_append(w, payload, sizeof payload) == 0);
    CHECK_EQ(file_size(path), first);
    CHECK_EQ(record_writer_size(w), first + 30 * 116);
    REQUIRE(record_writer_flush(w, false) == 0);
    CHECK_EQ(file_size(path), first + 30 * 116);

    /* Past the buffer size, whole buffers go out; what is on disk is
     * always whole records. */
    for (int i = 0; i < 100; i++) {
        REQUIRE(record_writer_append(w, payload, sizeof payload) == 0);
        long long on_disk = file_size(path);
        CHECK((on_disk - first) % 116 == 0);
        CHECK(record_writer_size(w) - (uint64_t)on_disk < 4096);
    }
    CHECK(file_size(path) > first + 30 * 116);
    REQUIRE(record_writer_flush(w, true) == 0);
    CHECK_EQ(file_size(path), first + 130 * 116);

    /* A record larger than the buffer goes out at once. */
    static uint8_t big[10000];
    REQUIRE(record_writer_append(w, big, sizeof big) == 0);
    CHECK_EQ(file_size(path), first + 130 * 116 + 10016);

    /* Pre-framed records are written at once, after the buffered ones. */
    REQUIRE(record_writer_append(w, payload, 10) == 0);
    struct buf framed;
    buf_init(&framed, BUF_NO_CAP);
    record_frame(&framed, payload, 20);
    record_frame(&framed, payload, 30);
    REQUIRE(record_writer_write_framed(w, framed.data, framed.len) == 0);
    CHECK_EQ(file_size(path), first + 130 * 116 + 10016 + 26 + 36 + 46);
    CHECK_EQ(record_writer_records(w), 1 + 130 + 1 + 1 + 2);
    CHECK_EQ(record_writer_write_framed(w, framed.data, framed.len - 1), -EINVAL);
    CHECK_EQ(record_writer_append(w, payload, (size_t)RECORD_MAX_PAYLOAD + 1), -EMSGSIZE);
    char *saved = strdup(path);
    CHECK_EQ(record_writer_close(w), 0);

    record_reader *r;
    REQUIRE(record_reader_open(&r, saved, 0) == 0);
    const uint8_t *p;
    size_t len;
    size_t want[] = {0, 100, 10000, 10, 20, 30};
    int n = 0, rc;
    while ((rc = record_reader_next(r, &p, &len)) == 1) {
        if (n == 0)
            CHECK(len > 0);
        else if (n <= 130)
            CHECK_EQ(len, 100);
        else
            CHECK_EQ(len, want[n - 129]);
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 135);
    record_reader_free(r);
    buf_free(&framed);
    free(saved);
    test_rmtree(dir);
    free(dir);
}

/* A write that fails part-way (RLIMIT_FSIZE: a short write, then EFBIG)
 * leaves only whole records in the file, and everything is written once
 * the limit is lifted. */
static void write_failure(void)
{
    char *dir = test_tmpdir("writer");
    struct record_writer_options o = {.buffer_size = 4096};
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, &o) == 0);
    const char *path = record_writer_path(w);
    long long first = file_size(path);

    struct rlimit old;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = (rlim_t)first + 1000;   /* not on a record boundary */
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);

    uint8_t payload[100];
    int taken = 0, failed = 0;
    for (int i = 0; i < 200; i++) {
        memset(payload, i, sizeof payload);
        int r = record_writer_append(w, payload, sizeof payload);
        if (r == 0 || r == -EFBIG)
            taken++;
        if (r == -EFBIG)
            failed++;
        else
            CHECK_EQ(r, 0);
    }
    CHECK(failed > 0);
    CHECK_EQ(taken, 200);
    CHECK_EQ(record_writer_flush(w, false), -EFBIG);
    long long on_disk = file_size(path);
    CHECK(on_disk <= first + 1000);
    CHECK_EQ((on_disk - first) % 116, 0);
    CHECK(on_disk > first);   /* the records that fit were kept */

    /* A reader sees whole records and a clean end, never a torn one. */
    record_reader *r;
    REQUIRE(record_reader_open(&r, path, 0) == 0);
    const uint8_t *p;
    size_t len;
    int n = 0, rc;
    while ((rc = record_reader_next(r, &p, &len)) == 1)
        n++;
    CHECK_EQ(rc, 0);
    CHECK_EQ(record_reader_fault(r), RECORD_FAULT_NONE);
    CHECK_EQ(n, 1 + (on_disk - first) / 116);
    record_reader_free(r);

    REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, old_handler);
    CHECK_EQ(record_writer_flush(w, false), 0);
    CHECK_EQ(file_size(path), first + 200 * 116);
    char *saved = strdup(path);
    CHECK_EQ(record_writer_close(w), 0);

    REQUIRE(record_reader_open(&r, saved, 0) == 0);
    n = 0;
    while ((rc = record_reader_next(r, &p, &len)) == 1) {
        if (n > 0) {
            CHECK_EQ(len, 100);
            CHECK_EQ(p[0], n - 1);   /* every record once, in order */
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 201);
    record_reader_free(r);
    free(saved);
    test_rmtree(dir);
    free(dir);
}

static void rotation(void)
{
    char *dir = test_tmpdir("writer");
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, NULL) == 0);
    char prev[4096];
    snprintf(prev, sizeof prev, "%s", record_writer_path(w));
    REQUIRE(record_writer_append(w, "abc", 3) == 0);
    for (int i = 0; i < 12; i++) {
        REQUIRE(record_writer_rotate(w) == 0);
        const char *cur = record_writer_path(w);
        CHECK(strcmp(base_name(cur), base_name(prev)) > 0);
        CHECK_EQ(record_writer_records(w), 1);
        CHECK_EQ(file_size(cur), (long long)record_writer_size(w));
        snprintf(prev, sizeof prev, "%s", cur);
    }
    CHECK_EQ(count_files(dir), 13);
    CHECK_EQ(record_writer_close(w), 0);

    /* Every file starts with file_version; the first also holds "abc". */
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, "tfevents"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        record_reader *r;
        REQUIRE(record_reader_open(&r, path, 0) == 0);
        check_first_record(r, 0);
        record_reader_free(r);
    }
    closedir(d);
    test_rmtree(dir);
    free(dir);
}

/* One scalar Summary.Value, encoded by hand: tag, rank-0 DT_FLOAT tensor,
 * and (first value of the tag) metadata {plugin "scalars", SCALAR}. */
static void encode_scalar_value(struct buf *out, const char *tag, float v, bool with_md)
{
    struct buf value, tensor, md, plugin;
    buf_init(&value, BUF_NO_CAP);
    buf_init(&tensor, BUF_NO_CAP);
    buf_init(&md, BUF_NO_CAP);
    buf_init(&plugin, BUF_NO_CAP);
    pb_add_varint(&tensor, 1, 1);            /* dtype DT_FLOAT */
    pb_add_len_header(&tensor, 2, 0);        /* tensor_shape {} */
    uint8_t fb[4];
    pb_put_float(fb, v);
    pb_add_bytes(&tensor, 5, fb, 4);         /* float_val, packed */
    pb_add_string(&plugin, 1, "scalars");
    pb_add_bytes(&md, 1, plugin.data, plugin.len);
    pb_add_varint(&md, 4, 1);                /* DATA_CLASS_SCALAR */
    pb_add_string(&value, 1, tag);
    pb_add_bytes(&value, 8, tensor.data, tensor.len);
    if (with_md)
        pb_add_bytes(&value, 9, md.data, md.len);
    pb_add_bytes(out, 1, value.data, value.len);
    buf_free(&value);
    buf_free(&tensor);
    buf_free(&md);
    buf_free(&plugin);
}

static void eventlint_accepts(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: eventlint not run");
    char *dir = test_tmpdir("writer-lint");
    record_writer *w;
    REQUIRE(record_writer_open(&w, dir, NULL) == 0);
    struct buf values, ev;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&ev, BUF_NO_CAP);
    double t0 = event_now();
    for (int step = 0; step < 5; step++) {
        buf_reset(&values);
        encode_scalar_value(&values, "loss", 1.0f / (float)(step + 1), step == 0);
        buf_reset(&ev);
        REQUIRE(event_encode_summary(&ev, t0 + step, step, values.data, values.len) == 0);
        REQUIRE(record_writer_append(w, ev.data, ev.len) == 0);
        buf_reset(&values);
        encode_scalar_value(&values, "lr", 0.5f, step == 0);
        buf_reset(&ev);
        REQUIRE(event_encode_summary(&ev, t0 + step, step, values.data, values.len) == 0);
        REQUIRE(record_writer_append(w, ev.data, ev.len) == 0);
    }
    REQUIRE(record_writer_close(w) == 0);

    char cmd[8192];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/eventlint' --strict '%s' 2>&1", shared, dir);
    int status;
    char *out = test_run_capture(cmd, &status);
    CHECK_EQ(status, 0);
    if (status != 0)
        fprintf(stderr, "eventlint said:\n%s\n", out ? out : "(nothing)");
    free(out);

    /* And it loads what we wrote. */
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/eventlint' --json '%s'", shared, dir);
    out = test_run_capture(cmd, &status);
    REQUIRE(out);
    cJSON *root = cJSON_Parse(out);
    REQUIRE(root);
    cJSON *loss = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "runs"), "."), "loss");
    REQUIRE(loss);
    cJSON *steps = cJSON_GetObjectItem(loss, "steps"), *vals = cJSON_GetObjectItem(loss, "values");
    CHECK_EQ(cJSON_GetArraySize(steps), 5);
    CHECK_EQ(cJSON_GetArraySize(vals), 5);
    for (int i = 0; i < 5 && i < cJSON_GetArraySize(vals); i++) {
        CHECK_EQ(cJSON_GetNumberValue(cJSON_GetArrayItem(steps, i)), i);
        CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(vals, i)) == (double)(1.0f / (float)(i + 1)));
    }
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(loss, "plugin")), "scalars");
    cJSON_Delete(root);
    free(out);
    buf_free(&values);
    buf_free(&ev);
    test_rmtree(dir);
    free(dir);
}

TEST_MAIN(TEST(file_names), TEST(odd_host_names), TEST(open_and_round_trip), TEST(many_writers_one_second), TEST(sorts_after_existing),
          TEST(never_truncates), TEST(buffering), TEST(write_failure), TEST(rotation),
          TEST(eventlint_accepts))
