#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int test_failures_;
const char *test_skip_reason_;

int test_run(const struct test_case *tests, size_t n, int argc, char **argv)
{
    size_t passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        /* An argument selects tests by name substring. */
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        int before = test_failures_;
        test_skip_reason_ = NULL;
        tests[i].fn();
        if (test_failures_ != before) {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        } else if (test_skip_reason_) {
            printf("SKIP %s: %s\n", tests[i].name, test_skip_reason_);
            skipped++;
        } else {
            printf("ok   %s\n", tests[i].name);
            passed++;
        }
        fflush(stdout);
    }
    printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    if (passed == 0 && skipped > 0)
        return 77;
    return 0;
}

char *test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t len = strlen(base) + strlen(prefix) + 16;
    char *path = malloc(len);
    if (!path)
        abort();
    snprintf(path, len, "%s/%s.XXXXXX", base, prefix);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_shared_dir(void)
{
    const char *dir = getenv("TFEVENTS_SHARED");
    if (!dir || !*dir)
        return NULL;
    struct stat st;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/golden", dir);
    if (stat(probe, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}

char *test_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *data = malloc(cap + 1);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            char *p = realloc(data, cap + 1);
            if (!p) {
                free(data);
                data = NULL;
            }
            data = p;
        }
    }
    fclose(f);
    if (!data)
        return NULL;
    data[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return data;
}

char *test_run_capture(const char *cmd, int *ret_status)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        *ret_status = -1;
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *out = malloc(cap + 1);
    size_t n;
    while (out && (n = fread(out + len, 1, cap - len, p)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            out = realloc(out, cap + 1);
        }
    }
    int st = pclose(p);
    *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (out)
        out[len] = '\0';
    return out;
}
