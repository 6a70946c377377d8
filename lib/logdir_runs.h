/* logdir_runs: the state of every run directory of one root, shared by
 * whatever logdirs reach it.
 *
 * Logdir "exp" run "train" and logdir "exp/train" run "." are one
 * directory: TensorBoard reads its files as one run, so they must have one
 * writer (one file at a time) and one table of last steps and kinds, or a
 * step refused through one name would be accepted through the other. A
 * run is therefore known by its physical path, relative to the root
 * ("exp/train"; "." for the root itself), and its state -- a logdir_run --
 * lives here, in a table of the root, not in a logdir. A logdir holds the
 * runs it uses (logdir.c: run name -> logdir_run) and keeps only its own
 * global step counter.
 *
 * Lifetime. A logdir_run stays in the table while a logdir holds it
 * (holders), while it has a writer open, while something pins it (the
 * daemon's flusher, until its writer's close completed), and while any
 * logdir's scan runs (the scan's view of the files may be older than the
 * state; see logdir_runs_scan_begin()). Then it is freed, with what it
 * learned: a logdir opened later reads it back from the files.
 *
 * Ownership. The table owns its runs, each run its tag map, kinds and
 * writer (closed by logdir_runs_free() if still open). Holders are
 * borrowed logdirs; logdir.c and logdir_set.c keep the list right. Pure;
 * no I/O but closing writers; not thread-safe. */
#ifndef TFEVENTS_LOGDIR_RUNS_H
#define TFEVENTS_LOGDIR_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_writer.h"
#include "strmap.h"

struct logdir;

/* Interned kinds (plugin names) per run; more are refused (-ENOSPC). The
 * kind index lives in the top bits of a tag entry's aux (logdir_steps.h). */
#define LOGDIR_RUN_MAX_KINDS 254u

typedef struct logdir_run logdir_run;

struct logdir_run {
    char *path;                 /* physical, relative to the root; owned */
    size_t path_len;
    run_writer *w;              /* the one writer of the directory, or NULL */
    unsigned flags;             /* LOGDIR_RUN_* (logdir_steps.h) */
    /* tag -> val.i64 last step (LOGDIR_STEP_NONE: made, not written yet),
     * aux: kind << LOGDIR_KIND_SHIFT | generation of the last check. */
    struct strmap tags;
    /* tag -> val.i64 the fingerprint (logdir_meta_fingerprint()) of the
     * display name and description of the tag's first value, for tags
     * whose first value had either: TensorBoard shows those only. */
    struct strmap metas;
    char **kinds;               /* kind index k (1..n_kinds) -> kinds[k-1] */
    unsigned n_kinds, cap_kinds;
    struct logdir **holders;    /* the logdirs holding it (borrowed) */
    unsigned n_holders, cap_holders;
    unsigned pins;
    struct logdir_runs *table;  /* back pointer */
};

struct logdir_runs {
    struct strmap map;          /* path -> logdir_run* */
    /* Of logdir_log() calls over every logdir of the table: a tag entry
     * checked in this call has this generation (duplicates in a message),
     * unique however many logdirs share the run. */
    uint64_t generation;
    unsigned scans;             /* scans begun and not finished */
};

/* An empty table. NULL when out of memory. */
struct logdir_runs *logdir_runs_new(void);

/* Close the writers still open (first error returned) and free every run
 * and the table. NULL-safe. */
int logdir_runs_free(struct logdir_runs *t, bool sync);

/* The run of path[0..len) if known, else NULL (borrowed). */
logdir_run *logdir_runs_get(struct logdir_runs *t, const char *path, size_t len);

/* The run of path[0..len), made (no holder, nothing known) when new:
 * returns 1 when made, 0 when known, -ENOMEM. */
int logdir_runs_make(struct logdir_runs *t, const char *path, size_t len, logdir_run **ret);

/* Free rs if nothing keeps it any more (see Lifetime). NULL-safe. */
void logdir_runs_maybe_free(logdir_run *rs);

/* A logdir's scan starts / has been applied: runs are not freed in
 * between, so that a run dropped meanwhile is not forgotten while the
 * scan's view of its files may be older than what it knew. _end frees
 * what was kept for that reason. */
void logdir_runs_scan_begin(struct logdir_runs *t);
void logdir_runs_scan_end(struct logdir_runs *t);

/* Hold/let go of rs by d (the holder list). -ENOMEM. Dropping may free rs
 * (logdir_runs_maybe_free()). */
int logdir_run_add_holder(logdir_run *rs, struct logdir *d);
void logdir_run_remove_holder(logdir_run *rs, struct logdir *d);
bool logdir_run_held_by(const logdir_run *rs, const struct logdir *d);

/* Keep rs while pinned (the daemon's flusher, for a writer's lifetime). */
void logdir_run_pin(logdir_run *rs);
void logdir_run_unpin(logdir_run *rs);   /* may free rs */

const char *logdir_run_path(const logdir_run *rs);
run_writer *logdir_run_writer(const logdir_run *rs);
/* Take the writer out (caller owns it); the run's steps stay while a
 * logdir holds it or it is pinned, else rs is freed. */
run_writer *logdir_run_detach_writer(logdir_run *rs);

/* The kind index of plugin name[0..len) in rs ("scalars" is 0), interned
 * when new: >= 0, -ENOSPC past LOGDIR_RUN_MAX_KINDS, -ENOMEM. */
int logdir_run_kind(logdir_run *rs, const void *name, size_t len);
/* Its plugin name ("scalars", or "any kind"). */
const char *logdir_run_kind_name(const logdir_run *rs, unsigned k);

/* After a SessionLog START at step: no tag keeps a last step >= step. */
void logdir_run_lower(logdir_run *rs, int64_t step);
/* True when a tag of rs has a last step (was written). */
bool logdir_run_written(const logdir_run *rs);

/* The fingerprint of the display name and description of tag's first
 * value in rs (0: none known). */
uint64_t logdir_run_meta(const logdir_run *rs, const void *tag, size_t tag_len);
/* Remember fp (nonzero) for tag. -ENOMEM. */
int logdir_run_set_meta(logdir_run *rs, const void *tag, size_t tag_len, uint64_t fp);

/* Join a logdir name and one of its run names (both normalised) into the
 * run's physical path in out (NUL-ended): "." parts vanish. Returns the
 * length, or -ENAMETOOLONG past out_size. */
int logdir_run_join(const char *logdir, const char *run, size_t run_len, char *out,
                    size_t out_size);

#endif
