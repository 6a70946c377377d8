/* read-scalars: libtfevents' public reader (the shared library, as a
 * program would link it) on a logdir, local or s3://, for
 * tests/test-upload.py. One line per scalar, "run,tag,step,value" (value
 * with 9 significant digits), problems on stderr as "problem FILE: WHAT".
 *
 *   read-scalars LOGDIR [UNTIL TIMEOUT]
 *
 * Without UNTIL: one poll, then exit. With it: poll every 0.2 s until
 * UNTIL scalars were read or TIMEOUT seconds passed (exit status 1).
 * Exit 3 when the reader cannot be opened (the errno's name said).
 * Not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfevents.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: read-scalars LOGDIR [UNTIL TIMEOUT]\n");
        return 2;
    }
    long until = argc == 4 ? atol(argv[2]) : -1;
    double deadline = argc == 4 ? now() + atof(argv[3]) : 0;
    tfevents_reader *r;
    int rc = tfevents_reader_open(&r, argv[1]);
    if (rc < 0) {
        fprintf(stderr, "open %s: %s\n", argv[1], strerror(-rc));
        return 3;
    }
    long n = 0;
    int status = 0;
    for (;;) {
        const struct tfevents_record *rec;
        while ((rc = tfevents_reader_next(r, &rec)) > 0) {
            if (rec->kind == TFEVENTS_KIND_SCALAR) {
                printf("%s,%s,%lld,%.9g\n", rec->run, rec->tag, (long long)rec->step,
                       rec->scalar);
                n++;
            } else if (rec->kind == TFEVENTS_KIND_PROBLEM) {
                fprintf(stderr, "problem %s: %s\n", rec->file, rec->problem);
            }
        }
        fflush(stdout);
        if (rc < 0) {
            fprintf(stderr, "next: %s\n", strerror(-rc));
            status = 3;
            break;
        }
        if (until < 0 || n >= until)
            break;
        if (now() > deadline) {
            fprintf(stderr, "%ld scalars read, %ld wanted\n", n, until);
            status = 1;
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
    }
    tfevents_reader_free(r);
    return status;
}
