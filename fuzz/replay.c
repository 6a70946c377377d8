/* replay: run files through a fuzz target without libFuzzer.
 *
 *   fuzz-<thing>-replay PATH...
 *
 * Each PATH is a file or a directory whose regular files (dot files
 * skipped, in name order so that a failure is reproducible) are fed to
 * LLVMFuzzerTestOneInput() one by one. A crash or a failed invariant aborts
 * the process, which fails the meson test. A directory without any file is
 * an error too: a corpus that went missing must not pass silently. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Corpus files are seeds, not bulk data; a bigger file is a mistake. */
#define REPLAY_MAX_FILE ((size_t)16 << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || (uint64_t)st.st_size > REPLAY_MAX_FILE) {
        fprintf(stderr, "replay: %s: cannot stat, or larger than %zu bytes\n", path,
                REPLAY_MAX_FILE);
        fclose(f);
        return -1;
    }
    /* An exact-size buffer, so that AddressSanitizer sees reads past the
     * input's end, as it does under libFuzzer. */
    size_t n = (size_t)st.st_size;
    uint8_t *data = malloc(n ? n : 1);
    if (!data) {
        fclose(f);
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    int bad = fread(data, 1, n, f) != n;
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: short read\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Returns the number of files replayed, or -1. */
static long replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path) < 0 ? -1 : 1;

    struct dirent **names;
    int n = scandir(path, &names, skip_dot, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    long count = 0;
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        if (count >= 0 && asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0) {
            long c = replay_path(p);
            count = c < 0 ? -1 : count + c;
        } else {
            count = -1;
        }
        free(p);
        free(names[i]);
    }
    free(names);
    if (count == 0)
        fprintf(stderr, "replay: %s: no corpus files\n", path);
    return count > 0 ? count : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long c = replay_path(argv[i]);
        if (c < 0)
            return 1;
        total += c;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
