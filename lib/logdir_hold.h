/* logdir_hold: which runs a logdir holds (logdir_runs.h), for logdir.c
 * and logdir_hold.c only -- the struct logdir they share, and the steps
 * of holding: a run taken or let go of, a scan's findings given to the
 * table, every run let go of at close or release. Not installed, not for
 * other modules (they use logdir.h). */
#ifndef TFEVENTS_LOGDIR_HOLD_H
#define TFEVENTS_LOGDIR_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir.h"
#include "logdir_steps.h"
#include "strmap.h"

/* Longest "run\0tag" key of a scan's bookkeeping. */
#define LOGDIR_MAX_KEY (LOGDIR_MAX_NAME + 1 + SUMMARY_MAX_TAG + 1)

/* Longest physical run path: a logdir name and a run name. */
#define LOGDIR_MAX_PATH (2 * LOGDIR_MAX_NAME + 1)

/* (run, tag) entries kept at hand per logdir: a training loop logs a few
 * tags over and over. A power of two. */
#define LOGDIR_HOT_TAGS 8u

struct logdir {
    char *name;
    char *root;               /* the root's path (trusted) */
    char *path;               /* root/name, for messages */
    struct logdir_options opts;
    int64_t step;             /* the counter; -1 before the first step */
    /* The runs' shared state (logdir_runs.h): the set's table, or one of
     * our own for a logdir opened alone. */
    struct logdir_runs *table;
    bool own_table;
    /* run name (relative) -> logdir_run *, each held by this logdir. */
    struct strmap runs;
    unsigned max_runs, max_tags;
    size_t n_tags;            /* (run, tag) pairs of the runs held */
    uint64_t refused;
    /* The entries used last, kept while their map's gen says they have not
     * moved: one value after another usually goes to the same (run, tag)
     * and run, which then costs a compare instead of hashing. A hot tag
     * also keeps its run (state and name: the key of runs, which stays
     * put while the run is held). NULL: none. */
    struct hot_tag {
        struct strmap_entry *e;   /* in rs->tags */
        logdir_run *rs;
        uint64_t gen;             /* of rs->tags */
        const char *run;          /* a key of runs */
        size_t run_len;
    } hot_tags[LOGDIR_HOT_TAGS];   /* slot: strmap_quick_hash() of the tag */
    struct strmap_entry *hot_run;
    uint64_t hot_run_gen;
    struct logdir_scan scan;
    bool scanning;            /* its scan has not been applied yet */
};

/* Forget the hot entries (a run or tag they may point into goes). */
void logdir_hold_forget_hot(logdir *d);

/* n (+1 or -1) (run, tag) pairs made or forgotten in rs: counted for
 * every logdir holding it. */
void logdir_hold_add_tags(logdir_run *rs, long n);

/* Hold rs under the run name run[0..len) (relative to d); *ret (may be
 * NULL) gets d's entry. 1 when held now, 0 when held already, -ENOMEM. */
int logdir_hold_run(logdir *d, const char *run, size_t len, logdir_run *rs,
                    struct strmap_entry **ret);

/* Let go of the run named run[0..len) (may free its state). */
void logdir_hold_drop(logdir *d, const char *run, size_t len);

/* Apply a scan's findings (steps, largest step) to d and the table. */
void logdir_hold_merge_scan(logdir *d, struct logdir_steps *steps, int64_t max_step);

/* Let go of every run; close_writers: close the writers of the runs no
 * other logdir holds (first error returned). */
int logdir_hold_release_all(logdir *d, bool close_writers, bool sync);

#endif
