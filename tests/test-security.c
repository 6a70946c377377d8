/* confine (lib/confine.c) and logdir confinement: every way out of the
 * root a client or a local user could try. The daemon-level tests are in
 * test-security.py. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"
#include "logdir.h"
#include "summary.h"
#include "test.h"

static char *path_join(const char *a, const char *b)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

static bool is_dir(const char *root, const char *rel)
{
    char *p = path_join(root, rel);
    struct stat st;
    bool ok = p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return ok;
}

static bool exists(const char *root, const char *rel)
{
    char *p = path_join(root, rel);
    struct stat st;
    bool ok = p && lstat(p, &st) == 0;
    free(p);
    return ok;
}

static int try_open(int root_fd, const char *rel, bool create)
{
    int fd = -1;
    int r = confine_open_dir(root_fd, rel, create, &fd);
    if (r == 0) {
        CHECK(fd >= 0);
        close(fd);
    }
    return r;
}

static void test_confine_paths(void)
{
    char *tmp = test_tmpdir("confine");
    char *root = path_join(tmp, "root");
    char *outside = path_join(tmp, "outside");
    REQUIRE(mkdir(root, 0777) == 0 && mkdir(outside, 0777) == 0);
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(root_fd >= 0);

    /* Made on demand, one component at a time. */
    CHECK_EQ(try_open(root_fd, "a/b/c", false), -ENOENT);
    CHECK_EQ(try_open(root_fd, "a/b/c", true), 0);
    CHECK(is_dir(root, "a/b/c"));
    CHECK_EQ(try_open(root_fd, "a/b/c", false), 0);
    CHECK_EQ(try_open(root_fd, ".", false), 0);
    CHECK_EQ(try_open(root_fd, "", false), 0);

    /* Names that are not plain components never reach the file system. */
    CHECK_EQ(try_open(root_fd, "../x", true), -EINVAL);
    CHECK_EQ(try_open(root_fd, "/etc", true), -EINVAL);
    CHECK_EQ(try_open(root_fd, "a/../../x", true), -EINVAL);
    CHECK_EQ(try_open(root_fd, "a/./b", true), -EINVAL);
    CHECK(!exists(tmp, "x"));

    /* A link anywhere on the way is refused, wherever it points (outside,
     * or even inside the root), and nothing is made behind it. */
    char *link = path_join(root, "evil");
    REQUIRE(symlink(outside, link) == 0);
    CHECK_EQ(try_open(root_fd, "evil", false), -ELOOP);
    CHECK_EQ(try_open(root_fd, "evil", true), -ELOOP);
    CHECK_EQ(try_open(root_fd, "evil/run", true), -ELOOP);
    CHECK(!exists(outside, "run"));
    char *inner = path_join(root, "a/inner");
    REQUIRE(symlink("b", inner) == 0);
    CHECK_EQ(try_open(root_fd, "a/inner/c", true), -ELOOP);
    char *up = path_join(root, "a/up");
    REQUIRE(symlink("../..", up) == 0);
    CHECK_EQ(try_open(root_fd, "a/up", true), -ELOOP);
    CHECK_EQ(try_open(root_fd, "a/up/outside/x", true), -ELOOP);
    CHECK(!exists(outside, "x"));
    /* A dangling link: mkdirat must not create its target. */
    char *dangling = path_join(root, "dangling");
    char *target = path_join(outside, "made");
    REQUIRE(symlink(target, dangling) == 0);
    CHECK_EQ(try_open(root_fd, "dangling", true), -ELOOP);
    CHECK(!exists(outside, "made"));

    /* A file where a directory should be. */
    char *file = path_join(root, "file");
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    close(fd);
    CHECK_EQ(try_open(root_fd, "file", true), -ENOTDIR);
    CHECK_EQ(try_open(root_fd, "file/x", true), -ENOTDIR);

    /* Lengths. */
    char comp[NAME_MAX + 2];
    memset(comp, 'n', sizeof comp - 1);
    comp[sizeof comp - 1] = '\0';
    CHECK_EQ(try_open(root_fd, comp, true), -ENAMETOOLONG);
    char *longpath = malloc(CONFINE_MAX_PATH + 16);
    REQUIRE(longpath);
    size_t n = 0;
    while (n < CONFINE_MAX_PATH + 2) {
        memcpy(longpath + n, "d/", 2);
        n += 2;
    }
    longpath[n] = '\0';
    CHECK_EQ(try_open(root_fd, longpath, true), -ENAMETOOLONG);
    CHECK(!exists(root, "d"));
    free(longpath);

    CHECK(strstr(confine_strerror(-ELOOP), "symbolic link") != NULL);

    close(root_fd);
    free(link);
    free(inner);
    free(up);
    free(dangling);
    free(target);
    free(file);
    free(root);
    free(outside);
    test_rmtree(tmp);
    free(tmp);
}

static struct summary_value *scalar(const char *tag, float v)
{
    struct summary_value *sv = calloc(1, sizeof *sv);
    if (!sv)
        abort();
    summary_value_init(sv);
    if (summary_scalar(sv, tag, v, NULL) != 0)
        abort();
    return sv;
}

static void free_value(struct summary_value *sv)
{
    summary_value_done(sv);
    free(sv);
}

/* logdir: a link as the logdir or as a run (planted before, or swapped in
 * between two messages after the run's writer was closed) refuses the
 * message whole, and nothing lands outside. */
static void test_logdir_confined(void)
{
    char *tmp = test_tmpdir("confine-logdir");
    char *root = path_join(tmp, "root");
    char *outside = path_join(tmp, "outside");
    REQUIRE(mkdir(root, 0777) == 0 && mkdir(outside, 0777) == 0);
    char *evil = path_join(root, "evil");
    REQUIRE(symlink(outside, evil) == 0);

    logdir *d = NULL;
    CHECK_EQ(logdir_open(&d, root, "evil", NULL), -ELOOP);
    CHECK_EQ(logdir_open(&d, root, "evil/sub", NULL), -ELOOP);

    REQUIRE(logdir_open(&d, root, "exp", NULL) == 0);
    char *run_link = path_join(root, "exp");
    REQUIRE(mkdir(run_link, 0777) == 0);
    free(run_link);
    run_link = path_join(root, "exp/bad");
    REQUIRE(symlink(outside, run_link) == 0);

    struct summary_value *a = scalar("a", 1), *b = scalar("b", 2);
    struct logdir_item items[2] = {{"good", a}, {"bad", b}};
    struct logdir_refusal rf;
    memset(&rf, 0, sizeof rf);
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, items, 2, true, NULL, &rf), -ELOOP);
    CHECK_EQ(rf.kind, LOGDIR_REFUSED_DIR);
    CHECK_STR(rf.run, "bad");
    /* All or nothing: the good run got no record either. */
    run_writer *w = logdir_writer(d, "good");
    CHECK(w == NULL || run_writer_seq_added(w) == 0);
    CHECK_EQ(logdir_step(d), -1);

    /* A run used, closed, then replaced by a link. */
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, items, 1, true, NULL, NULL), 0);
    run_writer *gw = logdir_detach_writer(d, "good");
    REQUIRE(gw);
    CHECK_EQ(run_writer_close(gw, false), 0);
    char *good = path_join(root, "exp/good");
    char *moved = path_join(root, "exp/good.old");
    REQUIRE(rename(good, moved) == 0);
    REQUIRE(symlink(outside, good) == 0);
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 2.0, items, 1, true, NULL, &rf), -ELOOP);
    CHECK_STR(rf.run, "good");
    CHECK_EQ(logdir_close(d, false), 0);

    /* Nothing was ever written outside. */
    char *cmd = NULL;
    REQUIRE(asprintf(&cmd, "ls -A %s | wc -l", outside) > 0);
    int status;
    char *out = test_run_capture(cmd, &status);
    REQUIRE(out);
    CHECK_EQ(atoi(out), 0);
    free(out);
    free(cmd);

    free_value(a);
    free_value(b);
    free(good);
    free(moved);
    free(run_link);
    free(evil);
    free(root);
    free(outside);
    test_rmtree(tmp);
    free(tmp);
}

/* Limits of runs and tags per logdir. */
static void test_logdir_limits(void)
{
    char *tmp = test_tmpdir("confine-limits");
    struct logdir_options o = {.max_runs = 2, .max_tags = 3};
    logdir *d = NULL;
    REQUIRE(logdir_open(&d, tmp, "l", &o) == 0);
    struct summary_value *x = scalar("x", 1), *y = scalar("y", 1);
    struct logdir_refusal rf;
    struct logdir_item it[1];
    const char *runs[] = {"r1", "r2", "r3"};
    for (int i = 0; i < 3; i++) {
        it[0] = (struct logdir_item){runs[i], x};
        memset(&rf, 0, sizeof rf);
        int r = logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, it, 1, true, NULL, &rf);
        if (i < 2) {
            CHECK_EQ(r, 0);
        } else {
            CHECK_EQ(r, -ENOSPC);
            CHECK_EQ(rf.kind, LOGDIR_REFUSED_RUNS);
            CHECK_EQ(rf.limit, 2);
        }
    }
    /* Two tags used (r1/x, r2/x); one more fits, the next does not. */
    it[0] = (struct logdir_item){"r1", y};
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, it, 1, true, NULL, &rf), 0);
    it[0] = (struct logdir_item){"r2", y};
    memset(&rf, 0, sizeof rf);
    CHECK_EQ(logdir_log(d, LOGDIR_STEP_NEXT, 0, 1.0, it, 1, true, NULL, &rf), -ENOSPC);
    CHECK_EQ(rf.kind, LOGDIR_REFUSED_TAGS);
    CHECK_STR(rf.tag, "y");
    CHECK_EQ(logdir_close(d, false), 0);
    free_value(x);
    free_value(y);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(TEST(test_confine_paths), TEST(test_logdir_confined), TEST(test_logdir_limits))
