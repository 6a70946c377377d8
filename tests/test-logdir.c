#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logdir_set.h"
#include "run_writer.h"
#include "record_reader.h"
#include "summary.h"
#include "test.h"

static void test_normalize(void)
{
    static const struct {
        const char *in, *out;
        int err;
    } cases[] = {
        {"a", "a", 0},
        {"./a", "a", 0},
        {"a/", "a", 0},
        {"a//b/..", "a", 0},
        {"a/./b/", "a/b", 0},
        {"x/y/../../z", "z", 0},
        {"", ".", 0},
        {".", ".", 0},
        {"./", ".", 0},
        {"a/..", ".", 0},
        {"..a/b..", "..a/b..", 0},
        {"exp 1/run-2", "exp 1/run-2", 0},
        {"..", NULL, -EINVAL},
        {"../a", NULL, -EINVAL},
        {"a/../../b", NULL, -EINVAL},
        {"/abs", NULL, -EINVAL},
        {"$run", NULL, -EINVAL},
        {"a/$b", NULL, -EINVAL},
        {"a\tb", NULL, -EINVAL},
        {"a\x7f", NULL, -EINVAL},
    };
    char out[LOGDIR_MAX_NAME + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = NULL;
        int r = logdir_normalize(cases[i].in, strlen(cases[i].in), out, sizeof out, &why);
        if (r != cases[i].err) {
            fprintf(stderr, "normalize \"%s\": %d, want %d\n", cases[i].in, r, cases[i].err);
            test_failures_++;
            continue;
        }
        if (r == 0)
            CHECK_STR(out, cases[i].out);
        else
            CHECK(why && *why);
    }
    /* Limits on depth and component length. */
    char deep[4 * (LOGDIR_MAX_DEPTH + 1) + 1] = "";
    for (unsigned i = 0; i <= LOGDIR_MAX_DEPTH; i++)
        strcat(deep, "ab/");
    CHECK_EQ(logdir_normalize(deep, strlen(deep), out, sizeof out, NULL), -ENAMETOOLONG);
    char longc[LOGDIR_MAX_COMPONENT + 2];
    memset(longc, 'x', sizeof longc - 1);
    longc[sizeof longc - 1] = '\0';
    CHECK_EQ(logdir_normalize(longc, strlen(longc), out, sizeof out, NULL), -ENAMETOOLONG);
    CHECK_EQ(logdir_normalize(longc, LOGDIR_MAX_COMPONENT, out, sizeof out, NULL), 0);
}

struct vals {
    struct summary_value v[4];
    struct logdir_item items[4];
};

static size_t make(struct vals *vs, const char *run, const char *tag, const char *run2,
                   const char *tag2)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        summary_value_init(&vs->v[i]);
    summary_scalar(&vs->v[0], tag, 1.0, NULL);
    vs->items[n++] = (struct logdir_item){run, &vs->v[0]};
    if (tag2) {
        summary_scalar(&vs->v[1], tag2, 2.0, NULL);
        vs->items[n++] = (struct logdir_item){run2, &vs->v[1]};
    }
    return n;
}

static void done(struct vals *vs)
{
    for (int i = 0; i < 4; i++)
        summary_value_done(&vs->v[i]);
}

static int log1(logdir *d, enum logdir_step_mode mode, int64_t step, const char *run,
                const char *tag, int64_t *ret_step, struct logdir_refusal *rf)
{
    struct vals vs;
    size_t n = make(&vs, run, tag, NULL, NULL);
    int r = logdir_log(d, mode, step, 1700000000.0, vs.items, n, true, ret_step, rf);
    done(&vs);
    return r;
}

static void test_global_step(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    REQUIRE(logdir_open(&d, root, "exp", NULL) == 0);
    CHECK_EQ(logdir_step(d), -1);
    int64_t s = -7;
    /* One step per message however many values. */
    struct vals vs;
    size_t n = make(&vs, ".", "loss", "train", "acc");
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, vs.items, n, true, &s, NULL), 0);
    done(&vs);
    CHECK_EQ(s, 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 1);
    /* An explicit step leaves the counter alone. */
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 50, ".", "other", &s, NULL), 0);
    CHECK_EQ(s, 50);
    CHECK_EQ(logdir_step(d), 1);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 2);
    /* "current" logs at the counter without advancing. */
    CHECK_EQ(log1(d, LOGDIR_STEP_CURRENT, 0, ".", "extra", &s, NULL), 0);
    CHECK_EQ(s, 2);
    CHECK_EQ(logdir_step(d), 2);
    /* set_step(n): the next step is n+1. */
    logdir_step_set(d, 99);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 100);
    CHECK_EQ(logdir_close(d, false), 0);

    /* "current" before any step is step 0, and counts as the first. */
    REQUIRE(logdir_open(&d, root, "fresh", NULL) == 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_CURRENT, 0, ".", "x", &s, NULL), 0);
    CHECK_EQ(s, 0);
    CHECK_EQ(logdir_step(d), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

static void test_step_policy(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    REQUIRE(logdir_open(&d, root, "p", NULL) == 0);
    int64_t s;
    struct logdir_refusal rf;
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 5, "r", "t", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 5, "r", "t", &s, &rf), -ERANGE);
    CHECK_STR(rf.run, "r");
    CHECK_STR(rf.tag, "t");
    CHECK_EQ(rf.step, 5);
    CHECK_EQ(rf.last_step, 5);
    CHECK(!rf.duplicate);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 4, "r", "t", &s, &rf), -ERANGE);
    /* Same tag in another run is another series. */
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 4, ".", "t", &s, NULL), 0);
    /* A message is refused whole: "new" is not written either. */
    struct vals vs;
    size_t n = make(&vs, "r", "new", "r", "t");
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_AT, 3, 1.0, vs.items, n, true, &s, &rf), -ERANGE);
    CHECK_STR(rf.tag, "t");
    done(&vs);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 3, "r", "new", &s, NULL), 0);
    /* Twice the same tag in one message. */
    n = make(&vs, "r", "dup", "r", "dup");
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_AT, 9, 1.0, vs.items, n, true, &s, &rf), -ERANGE);
    CHECK(rf.duplicate);
    /* Bypassed for hparams-like values. */
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_AT, 9, 1.0, vs.items, n, false, &s, &rf), 0);
    done(&vs);
    CHECK_EQ(logdir_refused(d), 1 + 1 + 2 + 2);
    /* restart: back to step 2 everywhere. */
    CHECK_EQ(logdir_restart(d, NULL, 2, 1.0), 0);
    CHECK_EQ(logdir_step(d), 1);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 2, "r", "t", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "t", &s, NULL), 0);
    CHECK_EQ(s, 2);
    CHECK_EQ(logdir_close(d, false), 0);

    /* Policy "any" writes everything. */
    struct logdir_options o = {.policy = LOGDIR_POLICY_ANY};
    REQUIRE(logdir_open(&d, root, "any", &o) == 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 5, ".", "t", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 1, ".", "t", &s, NULL), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

/* A second logdir object on the same directory learns steps from the
 * files, tolerating a torn tail and a corrupt file. */
static void test_resume_from_files(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    int64_t s;
    REQUIRE(logdir_open(&d, root, "res", NULL) == 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 20, "deep/run", "x", &s, NULL), 0);
    CHECK_EQ(logdir_close(d, false), 0);

    /* The run directories exist with one file each. */
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/res/deep/run", root);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));

    /* A torn tail in another file of the root run. */
    snprintf(path, sizeof path, "%s/res/events.out.tfevents.9999999999.torn", root);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "\x20\0\0", 3), 3);
    close(fd);

    REQUIRE(logdir_open(&d, root, "res", NULL) == 0);
    const struct logdir_scan *sc = logdir_scan_result(d);
    CHECK_EQ(sc->files, 3);
    CHECK_EQ(sc->truncated, 1);
    CHECK_EQ(logdir_step(d), 20);   /* resumes after the largest step */
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 3, ".", "loss", &s, NULL), -ERANGE);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 4, ".", "loss", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 20, "deep/run", "x", &s, NULL), -ERANGE);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 21);
    /* A START in the files lowers what was before it. */
    CHECK_EQ(logdir_restart(d, "deep/run", 10, 1.0), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    REQUIRE(logdir_open(&d, root, "res", NULL) == 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 10, "deep/run", "x", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 10, ".", "loss", &s, NULL), -ERANGE);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

static int writers_seen;

static void hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new)
{
    (void)ctx;
    (void)rs;
    (void)w;
    if (is_new)
        writers_seen++;
}

/* The scan split from the open (the daemon runs it on its thread pool):
 * nothing can be done in a scanning logdir, and applying the scan gives
 * what logdir_open() gives. A run whose files hold a START is known. */
static void test_deferred_scan(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    logdir_scanner *sc = NULL;
    int64_t s;
    /* No directory yet: nothing to scan, ready at once. */
    REQUIRE(logdir_open_deferred(&d, root, "def", NULL, &sc) == 0);
    CHECK(sc == NULL && !logdir_scanning(d));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 7, "r", "x", &s, NULL), 0);
    CHECK_EQ(logdir_restart(d, "r", 5, 1.0), 0);
    CHECK_EQ(logdir_close(d, false), 0);

    REQUIRE(logdir_open_deferred(&d, root, "def", NULL, &sc) == 0);
    REQUIRE(sc != NULL);
    CHECK(logdir_scanning(d));
    CHECK_EQ(logdir_step(d), -1);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), -EBUSY);
    CHECK_EQ(logdir_restart(d, NULL, 1, 1.0), -EBUSY);
    logdir_scanner_run(sc);   /* the worker's part */
    CHECK(logdir_scanning(d));
    logdir_scan_finish(d, sc);
    CHECK(!logdir_scanning(d));
    CHECK_EQ(logdir_scan_result(d)->files, 2);
    CHECK_EQ(logdir_step(d), 7);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 2, ".", "loss", &s, NULL), -ERANGE);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 5, "r", "x", &s, NULL), 0);   /* lowered by START */
    CHECK_EQ(logdir_close(d, false), 0);

    /* A scanner dropped unapplied frees what it holds. */
    REQUIRE(logdir_open_deferred(&d, root, "def", NULL, &sc) == 0);
    logdir_scanner_free(sc);
    logdir_scanner_free(NULL);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

static void test_set_and_writers(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options o = {.hook = hook};
    logdir_set *set = logdir_set_new(root, &o);
    REQUIRE(set);
    logdir *a, *b;
    REQUIRE(logdir_set_get(set, "a", &a) == 0);
    REQUIRE(logdir_set_get(set, "a", &b) == 0);
    CHECK(a == b);
    REQUIRE(logdir_set_get(set, "b", &b) == 0);
    CHECK(a != b);
    CHECK_EQ(logdir_set_count(set), 2);
    int64_t s;
    CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, ".", "x", &s, NULL), 0);
    CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, ".", "x", &s, NULL), 0);
    CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, "r", "x", &s, NULL), 0);
    CHECK_EQ(writers_seen, 2);   /* one writer per run, whatever the messages */
    CHECK_EQ(logdir_writer_count(a), 2);
    run_writer *w = logdir_detach_writer(a, "r");
    REQUIRE(w);
    CHECK_EQ(run_writer_close(w, false), 0);
    CHECK_EQ(logdir_writer_count(a), 1);
    /* The run's steps stay known after its writer is gone. */
    CHECK_EQ(log1(a, LOGDIR_STEP_AT, 2, "r", "x", &s, NULL), -ERANGE);
    CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, "r", "x", &s, NULL), 0);
    CHECK_EQ(writers_seen, 3);
    CHECK_EQ(logdir_set_free(set, false), 0);
    test_rmtree(root);
    free(root);
}

/* A message that a writer has no room for (its pending cap) is refused
 * whole: with room for one of its two records, neither is written. */
static void test_room_for_whole_message(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options o = {.writer = {.max_pending = 1000}};
    logdir *d;
    REQUIRE(logdir_open(&d, root, "room", &o) == 0);
    int64_t s;
    REQUIRE(log1(d, LOGDIR_STEP_AT, 0, "r", "fill", &s, NULL) == 0);
    run_writer *w = logdir_writer(d, "r");
    REQUIRE(w);
    /* Fill until one record of a new tag fits (about 60 bytes with its
     * metadata) but not two. */
    int64_t step = 1;
    while (run_writer_room(w) >= 120)
        REQUIRE(log1(d, LOGDIR_STEP_AT, step++, "r", "fill", &s, NULL) == 0);
    CHECK(run_writer_room(w) >= 62);
    size_t pending = run_writer_pending_bytes(w);
    uint64_t added = run_writer_seq_added(w);
    struct vals vs;
    size_t n = make(&vs, "r", "a", "r", "b");
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_AT, 7, 1.0, vs.items, n, true, &s, NULL), -ENOBUFS);
    CHECK_EQ(run_writer_pending_bytes(w), pending);
    CHECK_EQ(run_writer_seq_added(w), added);
    /* Once written out, the same message at the same step goes in whole:
     * nothing of it was counted before. */
    CHECK_EQ(run_writer_flush(w, false), 0);
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_AT, 7, 1.0, vs.items, n, true, &s, NULL), 0);
    CHECK_EQ(run_writer_seq_added(w), added + 2);
    done(&vs);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

/* Runs share the logdir's counter: a restart naming one run moves that
 * run's last steps only, not the counter, while another run holds points;
 * a restart of a logdir's only run (or of all runs) still moves it. */
static void test_restart_one_run(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    int64_t s;
    REQUIRE(logdir_open(&d, root, "w", NULL) == 0);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "a", "loss", &s, NULL), 0);
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "b", "loss", &s, NULL), 0);
    }
    CHECK_EQ(logdir_step(d), 9);
    CHECK_EQ(logdir_restart(d, "a", 2, 1.0), 0);
    CHECK_EQ(logdir_step(d), 9);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "b", "loss", &s, NULL), 0);
    CHECK_EQ(s, 10);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 2, "a", "loss", &s, NULL), 0);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 2, "b", "loss", &s, NULL), -ERANGE);
    /* The only run: the counter follows the restart, as before. */
    logdir *o;
    REQUIRE(logdir_open(&o, root, "one", NULL) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(log1(o, LOGDIR_STEP_NEXT, 0, "a", "loss", &s, NULL), 0);
    CHECK_EQ(logdir_restart(o, "a", 2, 1.0), 0);
    CHECK_EQ(logdir_step(o), 1);
    CHECK_EQ(log1(o, LOGDIR_STEP_NEXT, 0, "a", "loss", &s, NULL), 0);
    CHECK_EQ(s, 2);
    /* All runs: the counter goes back too. */
    CHECK_EQ(logdir_restart(d, NULL, 3, 1.0), 0);
    CHECK_EQ(logdir_step(d), 2);
    CHECK_EQ(logdir_close(o, false), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

/* A logdir opened again after a restart (another process: embedded
 * libtfevents, a daemon started again) resumes its counter where the
 * restart left it: after START step - 1 when the restart covered every run
 * holding points, after the largest step when other runs kept theirs. */
static void test_resume_after_restart(void)
{
    char *root = test_tmpdir("ld");
    logdir *d;
    int64_t s;
    /* The only run, restarted at 2 after steps 0..4. */
    REQUIRE(logdir_open(&d, root, "one", NULL) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(logdir_restart(d, NULL, 2, 1.0), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    REQUIRE(logdir_open(&d, root, "one", NULL) == 0);
    CHECK_EQ(logdir_step(d), 1);
    CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 2);
    CHECK_EQ(logdir_close(d, false), 0);
    /* ... and a step logged after it counts: 2 was, so 3 is next. */
    REQUIRE(logdir_open(&d, root, "one", NULL) == 0);
    CHECK_EQ(logdir_step(d), 2);
    /* A restart above every point: the next step is the restart's. */
    CHECK_EQ(logdir_restart(d, NULL, 40, 1.0), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    REQUIRE(logdir_open(&d, root, "one", NULL) == 0);
    CHECK_EQ(logdir_step(d), 39);
    CHECK_EQ(logdir_close(d, false), 0);

    /* Every run restarted (runs a and b at 0..9): back to 3. */
    REQUIRE(logdir_open(&d, root, "all", NULL) == 0);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "a", "loss", &s, NULL), 0);
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "b", "loss", &s, NULL), 0);
    }
    CHECK_EQ(logdir_restart(d, NULL, 3, 1.0), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    REQUIRE(logdir_open(&d, root, "all", NULL) == 0);
    CHECK_EQ(logdir_step(d), 2);
    CHECK_EQ(logdir_close(d, false), 0);

    /* One run of two restarted: the counter stayed at 9, and resumes so. */
    REQUIRE(logdir_open(&d, root, "some", NULL) == 0);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "b", "loss", &s, NULL), 0);
        CHECK_EQ(log1(d, LOGDIR_STEP_NEXT, 0, "a", "loss", &s, NULL), 0);
    }
    CHECK_EQ(logdir_restart(d, "a", 3, 1.0), 0);
    CHECK_EQ(logdir_step(d), 9);
    CHECK_EQ(logdir_close(d, false), 0);
    REQUIRE(logdir_open(&d, root, "some", NULL) == 0);
    CHECK_EQ(logdir_step(d), 9);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 3, "a", "loss", &s, NULL), 0);
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

static int log_text(logdir *d, int64_t step, const char *tag, struct logdir_refusal *rf)
{
    struct summary_value v;
    summary_value_init(&v);
    if (summary_text(&v, tag, "hello", 5, NULL) != 0)
        return -EINVAL;
    struct logdir_item it = {".", &v};
    int64_t s;
    int r = logdir_log(d, LOGDIR_STEP_AT, step, 1.0, &it, 1, true, &s, rf);
    summary_value_done(&v);
    return r;
}

/* A (run, tag) keeps the kind of its first value, under any step policy,
 * and learns it from the files when the logdir is opened again. */
static void test_tag_kind(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options any = {.policy = LOGDIR_POLICY_ANY};
    struct logdir_refusal rf;
    logdir *d;
    int64_t s;
    for (int round = 0; round < 2; round++) {
        REQUIRE(logdir_open(&d, root, "k", round ? &any : NULL) == 0);
        int64_t base = 10 * round;
        CHECK_EQ(log1(d, LOGDIR_STEP_AT, base, ".", "loss", &s, NULL), 0);
        CHECK_EQ(log_text(d, base, "note", NULL), 0);
        CHECK_EQ(log_text(d, base + 1, "loss", &rf), -EMEDIUMTYPE);
        CHECK(rf.kind == LOGDIR_REFUSED_KIND && strcmp(rf.tag, "loss") == 0);
        CHECK(strcmp(rf.kind_had, "scalars") == 0 && strcmp(rf.kind_new, "text") == 0);
        CHECK_EQ(log1(d, LOGDIR_STEP_AT, base + 1, ".", "note", &s, &rf), -EMEDIUMTYPE);
        CHECK(strcmp(rf.kind_had, "text") == 0 && strcmp(rf.kind_new, "scalars") == 0);
        CHECK_EQ(log1(d, LOGDIR_STEP_AT, base + 1, ".", "loss", &s, NULL), 0);
        CHECK_EQ(log_text(d, base + 1, "note", NULL), 0);
        CHECK_EQ(logdir_close(d, false), 0);
    }
    test_rmtree(root);
    free(root);
}


/* One run directory, whatever names reach it: logdir "m" run "n" and
 * logdir "m/n" run "." share one writer and one table of last steps and
 * kinds; each logdir keeps its own counter. */
static void test_shared_run(void)
{
    char *root = test_tmpdir("ld");
    logdir_set *set = logdir_set_new(root, NULL);
    REQUIRE(set);
    logdir *mn, *m;
    int64_t s;
    struct logdir_refusal rf;
    REQUIRE(logdir_set_get(set, "m/n", &mn) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(log1(mn, LOGDIR_STEP_AT, i, ".", "acc", &s, NULL), 0);
    REQUIRE(logdir_set_get(set, "m", &m) == 0);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 4, "n", "acc", &s, &rf), -ERANGE);
    CHECK(rf.last_step == 4 && strcmp(rf.run, "n") == 0);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 10, "n", "acc", &s, NULL), 0);
    CHECK_EQ(log1(mn, LOGDIR_STEP_AT, 7, ".", "acc", &s, &rf), -ERANGE);
    CHECK_EQ(rf.last_step, 10);
    /* Through "./n/../n" too: names are normalised before they get here,
     * and the physical path is what counts. One writer for both. */
    CHECK(logdir_writer(m, "n") != NULL && logdir_writer(m, "n") == logdir_writer(mn, "."));
    CHECK_EQ(logdir_set_run_count(set), 1);
    CHECK_EQ(logdir_tag_count(m), 1);
    CHECK_EQ(logdir_tag_count(mn), 1);
    /* The root logdir reaches it as run "m/n". */
    logdir *top;
    REQUIRE(logdir_set_get(set, ".", &top) == 0);
    CHECK_EQ(log1(top, LOGDIR_STEP_AT, 9, "m/n", "acc", &s, NULL), -ERANGE);
    CHECK_EQ(log1(top, LOGDIR_STEP_AT, 11, "m/n", "acc", &s, NULL), 0);
    CHECK_EQ(logdir_set_run_count(set), 1);
    /* Own counters: m/n logged explicit steps only. */
    CHECK_EQ(logdir_step(mn), -1);
    CHECK_EQ(log1(mn, LOGDIR_STEP_NEXT, 0, ".", "loss", &s, NULL), 0);
    CHECK_EQ(s, 0);
    /* A restart through one name lowers the run for all. */
    CHECK_EQ(logdir_restart(m, "n", 3, 1.0), 0);
    CHECK_EQ(log1(mn, LOGDIR_STEP_AT, 3, ".", "acc", &s, NULL), 0);
    CHECK_EQ(logdir_set_free(set, false), 0);   /* each writer closed once */

    /* Opened again: one file, its steps in order. */
    set = logdir_set_new(root, NULL);
    REQUIRE(set && logdir_set_get(set, "m", &m) == 0);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 3, "n", "acc", &s, NULL), -ERANGE);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 4, "n", "acc", &s, NULL), 0);
    REQUIRE(logdir_set_get(set, "m/n", &mn) == 0);
    CHECK_EQ(log1(mn, LOGDIR_STEP_AT, 4, ".", "acc", &s, NULL), -ERANGE);
    CHECK_EQ(logdir_set_free(set, false), 0);
    test_rmtree(root);
    free(root);
}

/* A new (run, tag) counts for every logdir holding its run, and is refused
 * when one of them is at max_tags; refused messages use nothing up. */
static void test_shared_limits(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options o = {.max_tags = 2, .max_runs = 2};
    logdir_set *set = logdir_set_new(root, &o);
    REQUIRE(set);
    logdir *m, *mn;
    int64_t s;
    struct logdir_refusal rf;
    REQUIRE(logdir_set_get(set, "m", &m) == 0);
    REQUIRE(logdir_set_get(set, "m/n", &mn) == 0);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 1, "n", "a", &s, NULL), 0);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 1, "o", "a", &s, NULL), 0);   /* m: 2 tags */
    CHECK_EQ(log1(mn, LOGDIR_STEP_AT, 1, ".", "b", &s, &rf), -ENOSPC);
    CHECK(rf.kind == LOGDIR_REFUSED_TAGS && rf.limit == 2);
    CHECK_EQ(logdir_tag_count(mn), 1);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 1, "p", "a", &s, &rf), -ENOSPC);   /* 3rd run */
    CHECK(rf.kind == LOGDIR_REFUSED_RUNS);
    CHECK_EQ(logdir_run_count(m), 2);
    CHECK_EQ(logdir_set_run_count(set), 2);
    CHECK_EQ(logdir_set_free(set, false), 0);
    test_rmtree(root);
    free(root);
}

static void flush_all(void *ctx, logdir *d, const char *run, run_writer *w)
{
    (void)ctx;
    (void)d;
    (void)run;
    CHECK_EQ(run_writer_flush(w, false), 0);
}

/* A released logdir gives its state back and, opened again, refuses
 * backward steps and resumes its counter from its files; a logdir with
 * records not yet written is in use and stays. A run only it held, under
 * another open logdir, is handed over to that one. */
static void test_release(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options o = {.max_logdirs = 2};
    logdir_set *set = logdir_set_new_releasing(root, &o);
    REQUIRE(set);
    logdir *a, *b, *c;
    int64_t s;
    REQUIRE(logdir_set_get(set, "a", &a) == 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, "r", "x", &s, NULL), 0);
    REQUIRE(logdir_set_get(set, "b", &b) == 0);
    CHECK_EQ(log1(b, LOGDIR_STEP_NEXT, 0, ".", "x", &s, NULL), 0);
    /* Both in use (unwritten records): a third is one too many. */
    CHECK_EQ(logdir_set_release(set, a), -EBUSY);
    CHECK_EQ(logdir_set_get(set, "c", &c), -ENOSPC);
    logdir_foreach_writer(a, flush_all, NULL);
    /* Now a is idle: it makes room. */
    REQUIRE(logdir_set_get(set, "c", &c) == 0);
    CHECK_EQ(logdir_set_count(set), 2);
    CHECK(logdir_set_find(set, "a") == NULL);
    /* Its run stays while its writer is open; closed, it is gone. */
    CHECK_EQ(logdir_set_run_count(set), 2);
    logdir_foreach_writer(b, flush_all, NULL);
    REQUIRE(logdir_set_get(set, "a", &a) == 0);   /* b goes */
    CHECK_EQ(logdir_step(a), 2);
    CHECK_EQ(log1(a, LOGDIR_STEP_AT, 1, "r", "x", &s, NULL), -ERANGE);
    CHECK_EQ(log1(a, LOGDIR_STEP_NEXT, 0, "r", "x", &s, NULL), 0);
    CHECK_EQ(s, 3);
    CHECK_EQ(logdir_set_sweep(set), 0);   /* marks */
    CHECK_EQ(logdir_set_sweep(set), 1);   /* c: unused since, idle */
    CHECK_EQ(logdir_set_count(set), 1);

    /* Handing over: m open, m/n makes run "x" after m's scan; released,
     * m takes the run (its steps are only in memory and in m/n's file). */
    logdir *m, *mn;
    logdir_foreach_writer(a, flush_all, NULL);
    CHECK_EQ(logdir_set_release(set, a), 0);
    REQUIRE(logdir_set_get(set, "m", &m) == 0);
    REQUIRE(logdir_set_get(set, "m/n", &mn) == 0);
    CHECK_EQ(log1(mn, LOGDIR_STEP_AT, 5, "x", "t", &s, NULL), 0);
    CHECK_EQ(run_writer_close(logdir_detach_writer(mn, "x"), false), 0);
    CHECK_EQ(logdir_set_release(set, mn), 0);
    CHECK_EQ(logdir_run_count(m), 1);
    CHECK_EQ(log1(m, LOGDIR_STEP_AT, 5, "n/x", "t", &s, NULL), -ERANGE);
    CHECK_EQ(logdir_set_free(set, false), 0);

    /* A set that does not release (the embedded client's) never does. */
    set = logdir_set_new(root, NULL);
    REQUIRE(set && logdir_set_get(set, "a", &a) == 0);
    CHECK_EQ(logdir_set_sweep(set), 0);
    CHECK_EQ(logdir_set_sweep(set), 0);
    CHECK_EQ(logdir_set_count(set), 1);
    CHECK_EQ(logdir_set_free(set, false), 0);
    test_rmtree(root);
    free(root);
}

/* The daemon's flusher closes the least recently used writer when one too
 * many is made (--max-writers), which may be a writer made earlier for
 * the same message: the message is still written whole, to a new file. */
static logdir_run *evict_first;

static void evicting_hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new)
{
    (void)ctx;
    (void)w;
    if (!is_new)
        return;
    if (!evict_first) {
        evict_first = rs;
        return;
    }
    run_writer *old = logdir_run_detach_writer(evict_first);
    CHECK(old != NULL);
    CHECK_EQ(run_writer_close(old, false), 0);
    evict_first = NULL;
}

static void test_writer_closed_mid_message(void)
{
    char *root = test_tmpdir("ld");
    struct logdir_options o = {.hook = evicting_hook};
    logdir *d;
    REQUIRE(logdir_open(&d, root, "ev", &o) == 0);
    struct vals vs;
    size_t n = make(&vs, "a", "x", "b", "y");
    int64_t s;
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, vs.items, n, true, &s, NULL), 0);
    done(&vs);
    CHECK(logdir_writer(d, "a") != NULL && logdir_writer(d, "b") != NULL);
    CHECK_EQ(log1(d, LOGDIR_STEP_AT, 0, "a", "x", &s, NULL), -ERANGE);   /* it was written */
    CHECK_EQ(logdir_close(d, false), 0);
    test_rmtree(root);
    free(root);
}

TEST_MAIN(TEST(test_normalize), TEST(test_global_step), TEST(test_step_policy),
          TEST(test_deferred_scan),
          TEST(test_resume_from_files), TEST(test_set_and_writers),
          TEST(test_room_for_whole_message), TEST(test_restart_one_run),
          TEST(test_resume_after_restart),
          TEST(test_tag_kind), TEST(test_shared_run), TEST(test_shared_limits),
          TEST(test_release), TEST(test_writer_closed_mid_message))
