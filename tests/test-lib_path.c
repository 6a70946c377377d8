/* lib_path (client/lib_path.h): how libtfevents names a logdir path for
 * the embedded writer and for the daemon, on a temporary tree with a
 * symbolic link in it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib_path.h"
#include "logdir.h"
#include "test.h"

static char tmp[PATH_MAX];    /* a fresh directory, real path */
static char link_[PATH_MAX + 8];   /* tmp/link -> tmp/real */

static void make_tree(void)
{
    if (tmp[0])
        return;
    char t[] = "/tmp/tflibpath.XXXXXX";
    if (!mkdtemp(t) || !realpath(t, tmp))
        abort();
    char real[PATH_MAX + 8];
    snprintf(real, sizeof real, "%s/real", tmp);
    snprintf(link_, sizeof link_, "%s/link", tmp);
    if (mkdir(real, 0700) < 0 || symlink("real", link_) < 0)
        abort();
}

static void test_absolute(void)
{
    char out[TFEVENTS_MAX_PATH];
    CHECK_EQ(lib_path_absolute("/a/./b//c/../d/", out, sizeof out), 0);
    CHECK_STR(out, "/a/b/d");
    CHECK_EQ(lib_path_absolute("/..", out, sizeof out), 0);
    CHECK_STR(out, "/");
    CHECK_EQ(lib_path_absolute("/a/../..", out, sizeof out), 0);
    CHECK_STR(out, "/");
    CHECK_EQ(lib_path_absolute("", out, sizeof out), -EINVAL);
    CHECK_EQ(lib_path_absolute(NULL, out, sizeof out), -EINVAL);

    /* Relative: against the working directory. */
    make_tree();
    char cwd[PATH_MAX];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    REQUIRE(chdir(tmp) == 0);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/logs/x", tmp);
    CHECK_EQ(lib_path_absolute("./logs/y/../x", out, sizeof out), 0);
    CHECK_STR(out, want);
    REQUIRE(chdir(cwd) == 0);

    /* Limits: the buffer, and TFEVENTS_MAX_PATH whatever the buffer. */
    char small[4];
    CHECK_EQ(lib_path_absolute("/abc", small, sizeof small), -ENAMETOOLONG);
    CHECK_EQ(lib_path_absolute("/ab", small, sizeof small), 0);
    CHECK_STR(small, "/ab");
    static char longp[TFEVENTS_MAX_PATH + 2], big[TFEVENTS_MAX_PATH * 2];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    CHECK_EQ(lib_path_absolute(longp, big, sizeof big), -ENAMETOOLONG);
    longp[TFEVENTS_MAX_PATH - 1] = '\0';   /* TFEVENTS_MAX_PATH - 1 bytes */
    CHECK_EQ(lib_path_absolute(longp, big, sizeof big), 0);
    CHECK_EQ(strlen(big), TFEVENTS_MAX_PATH - 1);
}

static void test_resolve_existing(void)
{
    make_tree();
    char in[PATH_MAX + 16], out[PATH_MAX], want[PATH_MAX + 32];
    /* The link resolved; the components that do not exist yet kept. */
    snprintf(in, sizeof in, "%s/not/yet", link_);
    CHECK_EQ(lib_path_resolve_existing(in, out), 0);
    snprintf(want, sizeof want, "%s/real/not/yet", tmp);
    CHECK_STR(out, want);
    CHECK_EQ(lib_path_resolve_existing(link_, out), 0);
    snprintf(want, sizeof want, "%s/real", tmp);
    CHECK_STR(out, want);
    CHECK_EQ(lib_path_resolve_existing("/", out), 0);
    CHECK_STR(out, "/");
    /* PATH_MAX bytes or more, before or after the links are resolved. */
    static char longp[PATH_MAX + 1];
    memset(longp, 'a', PATH_MAX);
    longp[0] = '/';
    CHECK_EQ(lib_path_resolve_existing(longp, out), -ENAMETOOLONG);
    char name[LOGDIR_MAX_NAME + 1];
    CHECK_EQ(lib_path_under_root("/", longp, name), -ENAMETOOLONG);
    char shortlink[PATH_MAX + 8];   /* tmp/l -> tmp/real: 3 bytes longer resolved */
    snprintf(shortlink, sizeof shortlink, "%s/l", tmp);
    REQUIRE(symlink("real", shortlink) == 0);
    int n = snprintf(longp, sizeof longp, "%s/", shortlink);
    memset(longp + n, 'b', PATH_MAX - 2 - (size_t)n);
    longp[PATH_MAX - 2] = '\0';
    CHECK_EQ(lib_path_resolve_existing(longp, out), -ENAMETOOLONG);
    longp[PATH_MAX - 4] = '\0';   /* resolved: PATH_MAX - 1 bytes, the most */
    CHECK_EQ(lib_path_resolve_existing(longp, out), 0);
    CHECK_EQ(strlen(out), PATH_MAX - 1);
    unlink(shortlink);
}

static void test_embedded_name(void)
{
    char name[LOGDIR_MAX_NAME + 1];
    CHECK_EQ(lib_path_embedded_name("/", name), 0);
    CHECK_STR(name, ".");
    CHECK_EQ(lib_path_embedded_name("/home/u/logs", name), 0);
    CHECK_STR(name, "home/u/logs");
}

static void test_under_root(void)
{
    make_tree();
    char name[LOGDIR_MAX_NAME + 1], root[PATH_MAX + 8], abs[PATH_MAX + 32];
    snprintf(root, sizeof root, "%s/real", tmp);
    /* Through the link, into a logdir that does not exist yet. */
    snprintf(abs, sizeof abs, "%s/exp/run1", link_);
    CHECK_EQ(lib_path_under_root(root, abs, name), 0);
    CHECK_STR(name, "exp/run1");
    CHECK_EQ(lib_path_under_root(root, link_, name), 0);
    CHECK_STR(name, ".");
    /* Beside the root, and a name that only starts like it. */
    CHECK_EQ(lib_path_under_root(root, tmp, name), -EXDEV);
    snprintf(abs, sizeof abs, "%s/really/x", tmp);
    CHECK_EQ(lib_path_under_root(root, abs, name), -EXDEV);
    /* A root that is not an absolute path matches nothing. */
    CHECK_EQ(lib_path_under_root("", abs, name), -EXDEV);
    CHECK_EQ(lib_path_under_root("real", abs, name), -EXDEV);
    /* The root "/". */
    snprintf(abs, sizeof abs, "%s/real/x", tmp);
    CHECK_EQ(lib_path_under_root("/", abs, name), 0);
    CHECK_STR(name, abs + 1);
}

static void cleanup(void)
{
    char p[PATH_MAX + 16];
    if (!tmp[0])
        return;
    unlink(link_);
    snprintf(p, sizeof p, "%s/real", tmp);
    rmdir(p);
    rmdir(tmp);
}

static void test_cleanup(void)
{
    cleanup();
    struct stat st;
    CHECK(stat(tmp, &st) < 0);
}

TEST_MAIN(TEST(test_absolute), TEST(test_resolve_existing), TEST(test_embedded_name),
          TEST(test_under_root), TEST(test_cleanup))
