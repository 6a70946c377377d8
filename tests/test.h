/* A small test harness: each test is a function; the runner executes them
 * in order, prints one line per test and a closing line, and exits non-zero
 * when any check failed. A test may skip itself with TEST_SKIP(reason). */
#ifndef TFEVENTS_TEST_H
#define TFEVENTS_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failures_;
extern const char *test_skip_reason_;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                    \
            test_failures_++;                                                  \
        }                                                                      \
    } while (0)

/* Integers of any width, printed on failure. */
#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n",  \
                    __FILE__, __LINE__, #a, #b, a_, b_);                       \
            test_failures_++;                                                  \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                               \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" != \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",            \
                    b_ ? b_ : "(null)");                                       \
            test_failures_++;                                                  \
        }                                                                      \
    } while (0)

/* Stop the current test (after a failed check that later ones depend on). */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                          \
            test_failures_++;                                                  \
            return;                                                            \
        }                                                                      \
    } while (0)

#define TEST_SKIP(reason)                                                      \
    do {                                                                       \
        test_skip_reason_ = (reason);                                          \
        return;                                                                \
    } while (0)

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST(name) { #name, name }

/* Runs the tests; exit status 0 all passed, 1 a failure, 77 all skipped
 * (meson's "skipped"). */
int test_run(const struct test_case *tests, size_t n, int argc, char **argv);

#define TEST_MAIN(...)                                                         \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const struct test_case tests_[] = {__VA_ARGS__};                \
        return test_run(tests_, sizeof(tests_) / sizeof(tests_[0]), argc,      \
                        argv);                                                 \
    }

/* Helpers for tests that need files. */

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string and may
 * remove the tree with test_rmtree(). */
char *test_tmpdir(const char *prefix);
void test_rmtree(const char *path);

/* Path of the shared golden data and tools, or NULL when absent (then the
 * test skips with a clear message). Set by meson through TFEVENTS_SHARED. */
const char *test_shared_dir(void);

/* Read a whole file; caller frees. NULL on error. */
char *test_read_file(const char *path, size_t *ret_len);

/* Run a shell command, capture stdout (caller frees); *ret_status gets the
 * exit status (or -1). */
char *test_run_capture(const char *cmd, int *ret_status);

#endif
