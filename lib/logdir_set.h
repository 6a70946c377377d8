/* logdir_set: the logdirs open under one root, by name, and the state of
 * their runs (logdir_runs.h), shared by every logdir reaching a run.
 *
 * The daemon keeps one set for its --root, the embedded client one rooted
 * at "/". A logdir is opened on first use (scanned there, or with its scan
 * handed to the caller to run on another thread). LOGDIR_MAX_LOGDIRS (or
 * options.max_logdirs) bounds how many are open at once.
 *
 * Release. A logdir's state is given back with logdir_set_release(): its
 * counter and the runs only it held are forgotten (a run whose writer is
 * still open stays in the table until the writer is closed), and a later
 * use of the name opens it again, scanning its files: the counter resumes
 * after the largest step found, each tag refuses steps not above its last
 * one, exactly as after a restart of the daemon. A releasing set
 * (logdir_set_new_releasing()) at its logdir limit releases the least
 * recently used logdir not in use to make
 * room, and logdir_set_sweep() releases the ones unused since the sweep
 * before; without it (the embedded client, whose handles keep logdir
 * pointers), logdirs stay open until the set is freed.
 *
 * Ownership. The set owns its logdirs (logdir_set_free() closes them) and
 * the runs' table; callers borrow logdirs, must not close them, and must
 * not keep a pointer across a call that may release (get, sweep,
 * release). Not thread-safe. */
#ifndef TFEVENTS_LOGDIR_SET_H
#define TFEVENTS_LOGDIR_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "logdir.h"

typedef struct logdir_set logdir_set;

/* root is copied; opts (copied) are used for every logdir. NULL when out
 * of memory. The _releasing set also releases logdirs by itself (at its
 * limit, and in logdir_set_sweep()). */
logdir_set *logdir_set_new(const char *root, const struct logdir_options *opts);
logdir_set *logdir_set_new_releasing(const char *root, const struct logdir_options *opts);

/* Close every logdir (see logdir_close(): each writer once) and free.
 * NULL-safe. */
int logdir_set_free(logdir_set *s, bool sync);

/* The logdir named name (normalised), opened (and scanned) on first use.
 * *ret is borrowed. -ENOSPC past max_logdirs (when none can be released),
 * errors of logdir_open(). */
int logdir_set_get(logdir_set *s, const char *name, logdir **ret);

/* Like logdir_set_get(), but a logdir opened now is not scanned: its scan
 * is handed over in *ret_scanner (caller owns it until logdir_scan_finish(),
 * see logdir_open_deferred(); NULL when the
 * logdir was open already or has nothing to scan). The logdir is in the set
 * at once, scanning until logdir_scan_finish(). */
int logdir_set_get_deferred(logdir_set *s, const char *name, logdir **ret,
                            logdir_scanner **ret_scanner);

/* The logdir if already open (borrowed), else NULL. Counts as a use. */
logdir *logdir_set_find(logdir_set *s, const char *name);

/* Release d (see above): 0, or -EBUSY when it is in use -- scanning, or
 * a run it holds has records not yet written to its file (the daemon's
 * flusher writes them within its flush interval) -- or when a run only it
 * holds lies under another open logdir that cannot take it over (its
 * limits); d then stays open. */
int logdir_set_release(logdir_set *s, logdir *d);

/* Release every logdir not used (found, got) since the sweep before and
 * that can be; returns how many. Called at a fixed period, a logdir is
 * released after one to two periods unused. 0 unless the set releases. */
size_t logdir_set_sweep(logdir_set *s);

/* Call fn for every open logdir (borrowed; open none inside). */
void logdir_set_foreach(logdir_set *s, void (*fn)(void *ctx, logdir *d), void *ctx);

size_t logdir_set_count(const logdir_set *s);

/* Runs in the table (held by a logdir, or kept by an open writer), and the
 * (run, tag) pairs they know. */
size_t logdir_set_run_count(const logdir_set *s);
size_t logdir_set_tag_count(const logdir_set *s);

#endif
