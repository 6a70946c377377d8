/* logdir_set: the logdirs open under one root, by name.
 *
 * The daemon keeps one set for its --root, the embedded client one rooted
 * at "/". A logdir is opened on first use (scanned there, or with its scan
 * handed to the caller to run on another thread) and stays open until the
 * set is freed; LOGDIR_MAX_LOGDIRS (or options.max_logdirs) bounds how many.
 *
 * Ownership. The set owns its logdirs (logdir_set_free() closes them);
 * callers borrow them and must not close them. Not thread-safe. */
#ifndef TFEVENTS_LOGDIR_SET_H
#define TFEVENTS_LOGDIR_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "logdir.h"

typedef struct logdir_set logdir_set;

/* root is copied; opts (copied) are used for every logdir. */
logdir_set *logdir_set_new(const char *root, const struct logdir_options *opts);

/* Close every logdir (see logdir_close()) and free. NULL-safe. */
int logdir_set_free(logdir_set *s, bool sync);

/* The logdir named name (normalised), opened (and scanned) on first use.
 * *ret is borrowed: the set owns it until logdir_set_free(). -ENOSPC past
 * max_logdirs, errors of logdir_open(). */
int logdir_set_get(logdir_set *s, const char *name, logdir **ret);

/* Like logdir_set_get(), but a logdir opened now is not scanned: its scan
 * is handed over in *ret_scanner (caller owns it until logdir_scan_finish(),
 * see logdir_open_deferred(); NULL when the
 * logdir was open already or has nothing to scan). The logdir is in the set
 * at once, scanning until logdir_scan_finish(). */
int logdir_set_get_deferred(logdir_set *s, const char *name, logdir **ret,
                            logdir_scanner **ret_scanner);

/* The logdir if already open (borrowed), else NULL. */
logdir *logdir_set_find(logdir_set *s, const char *name);

/* Call fn for every open logdir (borrowed; open none inside). */
void logdir_set_foreach(logdir_set *s, void (*fn)(void *ctx, logdir *d), void *ctx);

size_t logdir_set_count(const logdir_set *s);

#endif
