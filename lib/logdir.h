/* logdir: one TensorBoard logdir, as the daemon and the embedded client
 * see it -- its global step counter, the last step written for every
 * (run, tag), and one run_writer per run directory.
 *
 * Names. A logdir name is a path relative to a root directory; a run name
 * is a path relative to its logdir ("." is the logdir itself). Both are
 * normalised (logdir_normalize()) so that "a", "./a", "a/" and "a//b/.."
 * are one logdir with one counter.
 *
 * Global step (the R package's model). The counter starts at -1; a
 * message logged with LOGDIR_STEP_NEXT pre-increments it (the first gets
 * step 0, one increment per message however many values it holds); an
 * explicit step (LOGDIR_STEP_AT) leaves it alone; LOGDIR_STEP_CURRENT logs
 * at the counter's value without advancing it (at 0, advancing, while it is
 * still -1); logdir_step_set(n) makes the next step n+1.
 *
 * Step policy. TensorBoard's default (Rust) loader deletes every earlier
 * point of a tag whose step is >= a newly read step of that tag. So, under
 * LOGDIR_POLICY_INCREASING, a message is refused whole (nothing of it is
 * written) when any of its values has a step not greater than the last step
 * written for its (run, tag). logdir_restart() (SessionLog START at step S)
 * is the way to go back: it lowers every last step of the runs it covers to
 * S-1 and sets the counter so the next step is S -- unless it names one run
 * while other runs hold points: the counter is shared by all runs, so it
 * then stays where it is (lowering it would refuse the others).
 *
 * Resuming. logdir_open() scans the event files already in the logdir
 * (every run under it, files in name order, tolerating truncated tails and
 * stopping a file at corruption) and learns the last step of every tag,
 * the START markers (which runs hold one, and the steps they lower), and
 * the counter: it resumes after the largest step found. The scan can also
 * run apart, on another thread (logdir_open_deferred()).
 *
 * Confinement. Every directory is reached from the root with
 * confine_open_dir(): a symbolic link anywhere below the root, in the
 * logdir name or a run name, is refused (-ELOOP), and so is a component
 * that is not a directory (-ENOTDIR). A run's directory is opened (and
 * made) when its writer is created, on the caller's thread, so that a
 * refused path is known when the message is logged, not at the next
 * flush; the writer then keeps that directory's descriptor.
 *
 * Sharing. A run is one directory, whatever names reach it: logdir "exp"
 * run "train" and logdir "exp/train" run "." are the same run, with one
 * writer and one table of last steps and kinds (logdir_runs.h), so a step
 * refused through one name is refused through the other. Each logdir
 * keeps its own counter. The logdirs of a logdir_set share the set's
 * table; a logdir opened alone has its own.
 *
 * Limits. max_runs counts the runs a logdir holds: those it used and
 * those its scan found under its directory. max_tags counts the (run, tag)
 * pairs of those runs; a new pair counts for every logdir holding its
 * run (so a nested logdir's tags count in its parent's limit too, when
 * the parent holds the run), and is refused when one of them is full.
 *
 * Ownership. A logdir holds (logdir_runs.h: holders) the runs it uses;
 * the table owns them, their step bookkeeping and their writers. A writer
 * is closed by logdir_close() of the last logdir holding its run, unless
 * it was detached (logdir_detach_writer()). The scan of its files is a
 * logdir_scanner (logdir_scan.h), owned by whoever holds it until
 * logdir_scan_finish(); the logdirs of a root are owned by a logdir_set
 * (logdir_set.h).
 *
 * Pure of any event loop; file I/O happens in logdir_open() (the scan, or
 * logdir_scanner_run() on any thread), when a run's writer is created
 * (opening or making its directory) and in the writers' flushes. Not
 * thread-safe. */
#ifndef TFEVENTS_LOGDIR_H
#define TFEVENTS_LOGDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir_runs.h"
#include "logdir_scan.h"
#include "run_writer.h"
#include "summary.h"

/* Longest normalised logdir or run name in bytes (a name is put under a
 * root directory, so the whole path must stay below PATH_MAX). */
#define LOGDIR_MAX_NAME 1024u
/* Most components in a logdir or run name. */
#define LOGDIR_MAX_DEPTH 32u
/* Longest single component (NAME_MAX of common file systems). */
#define LOGDIR_MAX_COMPONENT 255u
/* (run, tag) pairs of the runs a logdir holds; new tags past it are
 * refused (-ENOSPC) because their steps could not be checked. */
#define LOGDIR_MAX_TAGS (1u << 20)
/* Runs per logdir. */
#define LOGDIR_MAX_RUNS 65536u
/* Logdirs per set. */
#define LOGDIR_MAX_LOGDIRS 65536u

/* Normalise name[0..len) into out (NUL-terminated). Accepts relative
 * paths; drops empty and "." components, resolves ".." against the
 * preceding component. The root itself normalises to ".".
 * -EINVAL: absolute path, ".." above the root, NUL or control bytes, a
 *          component starting with '$' (reserved by the protocol).
 * -ENAMETOOLONG: past LOGDIR_MAX_NAME / _DEPTH / _COMPONENT or out_size.
 * *ret_why (may be NULL) gets a static English reason. */
int logdir_normalize(const char *name, size_t len, char *out, size_t out_size,
                     const char **ret_why);

enum logdir_step_policy {
    LOGDIR_POLICY_INCREASING = 0,  /* refuse steps that do not increase per tag */
    LOGDIR_POLICY_ANY,             /* write whatever comes */
};

/* The largest step: the protocols carry steps as JSON numbers, exact up
 * to 2^53. The counter never goes past it: a message that would log after
 * it is refused (-EOVERFLOW), and a counter resumed from files holding a
 * larger step (written by another program) is reported, not used. */
#define LOGDIR_MAX_STEP (INT64_C(1) << 53)

enum logdir_step_mode {
    LOGDIR_STEP_NEXT = 0,
    LOGDIR_STEP_CURRENT,
    LOGDIR_STEP_AT,
};

typedef struct logdir logdir;

/* Called whenever a run_writer received records (to schedule its flush)
 * and when one is created (is_new). rs is the shared state of the run
 * directory the writer belongs to (logdir_runs.h), whichever logdir
 * wrote: the writer is rs's, not a logdir's. */
typedef void logdir_writer_hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new);

struct logdir_options {
    enum logdir_step_policy policy;
    /* Lower limits than the compiled ones (0: LOGDIR_MAX_RUNS, _TAGS,
     * _LOGDIRS; larger values are cut to those). */
    unsigned max_runs;                  /* runs per logdir */
    unsigned max_tags;                  /* (run, tag) pairs per logdir */
    unsigned max_logdirs;               /* logdirs per set */
    struct run_writer_options writer;   /* for every run writer */
    logdir_writer_hook *hook;           /* may be NULL */
    void *hook_ctx;
};

/* Open logdir `name` (normalised, see logdir_normalize()) under the
 * directory root (borrowed path, trusted: it may itself be a link).
 * Nothing is created on disk until the first value; existing event files
 * are scanned (links under the root are not followed). *ret is owned by
 * the caller. -ENOMEM, -EINVAL for a name that is not normalised, the
 * errors of confine_open_dir() when the logdir's path is refused (-ELOOP,
 * -ENOTDIR, -EACCES, ...; a missing directory is fine). */
int logdir_open(logdir **ret, const char *root, const char *name,
                const struct logdir_options *opts);

/* Like logdir_open(), without the scan: when the logdir's directory exists
 * *ret_scanner gets its scan (caller owns) and the logdir is "scanning"
 * (logdir_scanning()) until logdir_scan_finish(): nothing may be logged,
 * restarted or stepped in it meanwhile (-EBUSY). *ret_scanner is NULL
 * when there is nothing to scan (the logdir is ready). */
int logdir_open_deferred(logdir **ret, const char *root, const char *name,
                         const struct logdir_options *opts, logdir_scanner **ret_scanner);

/* Like logdir_open_deferred(), with the runs' state kept in table
 * (borrowed; shared with the other logdirs of the same root, see
 * logdir_runs.h), or in a table of its own when NULL. */
int logdir_open_shared(logdir **ret, const char *root, const char *name,
                       const struct logdir_options *opts, struct logdir_runs *table,
                       logdir_scanner **ret_scanner);

/* On the logdir's thread: apply what sc found to d (running the scan
 * first if it has not run), which is then ready; frees sc. NULL-safe sc. */
void logdir_scan_finish(logdir *d, logdir_scanner *sc);

/* True between logdir_open_deferred() and logdir_scan_finish(). */
bool logdir_scanning(const logdir *d);

/* Close the writers of the runs no other logdir holds (flushing, fsync
 * when sync), let go of the runs and free. Returns the first error.
 * NULL-safe. No writer may be busy. */
int logdir_close(logdir *d, bool sync);

/* Free d, letting go of its runs without closing any writer: a run whose
 * writer is still open stays in the table (logdir_runs.h) with its steps
 * until its writer is closed, so a logdir opened again under the same
 * name finds it. NULL-safe. */
void logdir_release(logdir *d);

/* Hold rs (a run of d's table under d's directory) as one of d's runs.
 * 0, -ENOSPC when d is at its max_runs or would pass its max_tags,
 * -EINVAL when rs is not under d, -ENOMEM. */
int logdir_adopt(logdir *d, logdir_run *rs);

/* Call fn for every run d holds (run: its name relative to d). Do not
 * log, adopt or release inside. */
void logdir_foreach_run(logdir *d, void (*fn)(void *ctx, const char *run, logdir_run *rs),
                        void *ctx);

/* Runs held, and (run, tag) pairs of those runs (what max_runs and
 * max_tags bound). */
size_t logdir_run_count(const logdir *d);
size_t logdir_tag_count(const logdir *d);

/* Borrowed from d, valid until logdir_close(). */
const char *logdir_name(const logdir *d);
/* What the scan found (zeros until logdir_scan_finish()); borrowed from d. */
const struct logdir_scan *logdir_scan_result(const logdir *d);

/* The counter: -1 before the first step. */
int64_t logdir_step(const logdir *d);
void logdir_step_set(logdir *d, int64_t step);

/* One value of a message to write: a run name (normalised) and the summary
 * value built for it (summary.h). Both borrowed for the call. */
struct logdir_item {
    const char *run;
    const struct summary_value *summary;
};

enum logdir_refusal_kind {
    LOGDIR_REFUSED_STEP = 0,   /* step policy (-ERANGE) */
    LOGDIR_REFUSED_DUPLICATE,  /* same (run, tag) twice in a message (-ERANGE) */
    LOGDIR_REFUSED_RUNS,       /* past max_runs (-ENOSPC) */
    LOGDIR_REFUSED_TAGS,       /* past max_tags (-ENOSPC) */
    LOGDIR_REFUSED_DIR,        /* the run's directory: confine_open_dir() error */
    LOGDIR_REFUSED_KIND,       /* (run, tag) holds values of another kind (-EMEDIUMTYPE) */
    LOGDIR_REFUSED_KINDS,      /* past LOGDIR_RUN_MAX_KINDS plugin names in a run (-ENOSPC) */
    LOGDIR_REFUSED_META,       /* display name/description other than the first's (-EEXIST) */
};

/* Why a message was refused (see logdir_log()). */
struct logdir_refusal {
    enum logdir_refusal_kind kind;
    char run[LOGDIR_MAX_NAME + 1];
    char tag[128];          /* cut, for messages */
    int64_t step;           /* the step of the message */
    int64_t last_step;      /* the last step written for (run, tag) */
    bool duplicate;         /* kind == LOGDIR_REFUSED_DUPLICATE */
    int limit;              /* RUNS, TAGS, KINDS: the limit in force */
    char kind_had[64];      /* KIND: the tag's kind (plugin name, cut) */
    char kind_new[64];      /* KIND: the refused value's kind */
    bool meta_had;          /* META: the first value had a display name or description */
};

/* Write the items of one message as one Event each, all at one step and
 * wall time, all or none (as far as the step policy goes).
 * check_steps false bypasses the policy (hparams, which TensorBoard reads
 * at step 0 and replaces). *ret_step gets the step used.
 * Nothing is written unless every value can be: steps are checked and
 * every run's writer (and directory) is set up first.
 * -ERANGE: refused by the step policy; -EMEDIUMTYPE: a value of another
 * kind (plugin name) than the values already written for its (run, tag),
 * whatever the policy (learned from the files too); -EEXIST: a value
 * carrying a display name or description for a (run, tag) already
 * written, other than those of its first value (TensorBoard shows the
 * first value's only; a value carrying none, or the same, passes);
 * -ENOSPC: past max_tags, max_runs or LOGDIR_RUN_MAX_KINDS;
 * a confine_open_dir() error (-ELOOP, -ENOTDIR, -EACCES, -ENOSPC, ...)
 * for a run directory that is refused or cannot be made. For these,
 * *ret_refusal (may be NULL) says which run and why. -ENOBUFS: a
 * writer of the message has less room left under its pending cap than
 * the whole message could need (nothing written); -EINVAL, -EMSGSIZE,
 * -ENOMEM. */
int logdir_log(logdir *d, enum logdir_step_mode mode, int64_t step, double wall_time,
               const struct logdir_item *items, size_t n, bool check_steps,
               int64_t *ret_step, struct logdir_refusal *ret_refusal);

/* logdir_log_scalar() left the value to logdir_log(); nothing changed. */
#define LOGDIR_DECLINED 1

/* The shortcut of logdir_log() for one plain scalar (summary_scalar(tag,
 * value, NULL)) under the step policy, with the same effect: taken when
 * (run, tag) is the pair logged last, its run's writer is the one used
 * last, the step passes the policy and the writer takes the record by
 * run_writer_add_scalar(). run[0..run_len) is normalised (and NUL-ended),
 * tag[0..tag_len) as
 * summary_scalar() would accept it (the writer's shortcut only matches a
 * tag it already wrote). Returns LOGDIR_DECLINED otherwise (every refusal
 * included: logdir_log() then says why), or -ENOBUFS. */
int logdir_log_scalar(logdir *d, enum logdir_step_mode mode, int64_t step, double wall_time,
                      const char *run, size_t run_len, const char *tag, size_t tag_len,
                      double value, int64_t *ret_step);

/* SessionLog START at step in run (normalised), or in every known run of
 * the logdir when run is NULL (in "." when none is known yet). Lowers the
 * last step of every tag of those runs to step-1, and the counter to
 * step-1 so that the next message without a step logs at step -- except
 * when run is named and another run of the logdir has a point written
 * (logdir_steps_others_written()): the counter is left alone then, so
 * that the other runs' next messages stay above their last steps.
 * TensorBoard's Python loader ignores the first START of a run, so a run
 * whose files hold no START yet (neither written here nor found by the
 * scan) gets two STARTs at step; one otherwise. -EBUSY while scanning. */
int logdir_restart(logdir *d, const char *run, int64_t step, double wall_time);

/* The tag and plugin TensorBoard gives a run's graph (Event.graph_def),
 * and the plugin of a tagged run metadata (under its own tag). */
#define LOGDIR_GRAPH_TAG "__run_graph__"
#define LOGDIR_GRAPH_PLUGIN "graphs"
#define LOGDIR_GRAPH_METADATA_PLUGIN "graph_tagged_run_metadata"

/* A graph (tag NULL: Event.graph_def) or a traced step's run metadata
 * (Event.tagged_run_metadata with tag, valid UTF-8) in run (normalised) at
 * step, the bytes data[0..len) as they are (check them first: graph.h).
 * Its tag is LOGDIR_GRAPH_TAG or tag, of kind LOGDIR_GRAPH_PLUGIN or
 * LOGDIR_GRAPH_METADATA_PLUGIN, under the step policy like a value of
 * logdir_log() (TensorBoard's loaders keep one graph per step, the Python
 * one every graph sent at the same step); the counter is left alone.
 * Errors and *ret_refusal as logdir_log()'s (-EINVAL for a step outside
 * 0..LOGDIR_MAX_STEP, -EBUSY while scanning). */
int logdir_log_graph(logdir *d, const char *run, int64_t step, double wall_time,
                     const char *tag, const void *data, size_t len,
                     struct logdir_refusal *ret_refusal);

/* The writer of run (borrowed: d owns it until logdir_close() or
 * logdir_detach_writer()), or NULL when it has none open. */
run_writer *logdir_writer(const logdir *d, const char *run);

/* Take run's writer out of the logdir (to close it elsewhere: the daemon
 * closes on a worker thread). The run's steps stay known; its next value
 * opens a new writer and so a new file. Returns the writer (caller owns)
 * or NULL. */
run_writer *logdir_detach_writer(logdir *d, const char *run);

/* Call fn for every open writer (run and w borrowed; do not detach
 * inside). */
void logdir_foreach_writer(logdir *d,
                           void (*fn)(void *ctx, logdir *d, const char *run, run_writer *w),
                           void *ctx);

size_t logdir_writer_count(const logdir *d);

/* The last step written for (run, tag) (learned from the files too), or
 * LOGDIR_STEP_NONE when it holds none. */
int64_t logdir_tag_last_step(logdir *d, const char *run, const void *tag, size_t tag_len);

/* Total values refused by the step policy in this logdir. */
uint64_t logdir_refused(const logdir *d);

#endif
