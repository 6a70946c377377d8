/* fuzz: the libFuzzer entry point every fuzz-<thing>.c defines, and the
 * check that turns a broken invariant into a crash the fuzzer reports.
 *
 * Each target is built twice: with -fsanitize=fuzzer (clang, meson option
 * `fuzzing`) to explore, and linked with replay.c, a plain main() that runs
 * the committed corpus under `meson test` on any compiler. */
#ifndef TFEVENTS_FUZZ_H
#define TFEVENTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test. A fuzzer has no other way to say
 * "wrong answer" than to crash, so a failed check aborts with its text. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The input as the CLI's readers hand a file to a parser: a copy with a
 * NUL after it. NULL when out of memory; free() it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif
