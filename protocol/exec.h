/* exec: the one executor. It runs a decoded request (request.h) against
 * a set of logdirs and fills its typed reply (reply.h). Every sentence a
 * refusal carries, whatever protocol or transport brought the request,
 * is written here or by the decoders.
 *
 * Its two hosts add what only they have: tfeventsd (daemon/dispatch.c)
 * opens logdirs on the thread pool and waits for them, writes through the
 * flusher and embeddings on the thread pool, counts stats, logs, and sends
 * the reply on its connection;
 * libtfevents' embedded mode (client/lib_embedded.c) writes synchronously
 * under its handle's lock. Pure: no logging, no I/O but the logdirs'. */
#ifndef TFEVENTS_EXEC_H
#define TFEVENTS_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "logdir_set.h"
#include "reply.h"
#include "request.h"

/* exec_request() returns these besides 0 (answered in the reply). */
#define EXEC_WAIT 1       /* the logdir is being opened: run it again later */
#define EXEC_DEFERRED 2   /* the host answers later (a flush) */

struct exec_host {
    logdir_set *logdirs;           /* borrowed */
    /* Limits the host sets (tfeventsd's options); 0: the protocol's. */
    size_t max_values;             /* --max-values */
    size_t max_name;               /* --max-name */
    unsigned max_logdirs;          /* said in the refusal; the set enforces it */
    /* Put every logdir under this directory (tfeventsd --per-user-root:
     * the peer's user directory); NULL or "": none. */
    const char *prefix;
    /* The directory logdir names are relative to (tfeventsd --root; "/"
     * for the embedded client), for ops that write files of their own
     * (embedding). NULL: such ops are refused. */
    const char *root;
    /* Find or open logdir name: 0 with *ret, EXEC_WAIT with *ret set to
     * the logdir being opened, or a negative errno (logdir_set_get()'s).
     * NULL: logdir_set_get(). */
    int (*open_logdir)(void *ctx, const char *name, logdir **ret);
    /* Flush or close (m->op) the writers of d, or of every logdir
     * (NULL); sync: fsync too. 0 when done (rp filled; a failure through
     * exec_fail_write()), EXEC_DEFERRED when the host answers later. */
    int (*flush)(void *ctx, const struct request *m, logdir *d, bool sync, struct reply *rp);
    /* Point rp->stats at the stats object; NULL: a stats request is
     * answered ok without one. */
    int (*stats)(void *ctx, struct reply *rp);
    /* Write an embedding's files later (m->embedding may be taken) and
     * answer then: EXEC_DEFERRED, or 0 with rp filled (a refusal). NULL:
     * exec_embedding() at once. */
    int (*embedding)(void *ctx, struct request *m, struct reply *rp);
    void *ctx;
};

/* Run m (its logdir possibly rewritten under the prefix) and fill rp
 * (reply_init() first). Returns 0, EXEC_WAIT or EXEC_DEFERRED; a refusal
 * is 0 with rp->ok false. */
int exec_request(const struct exec_host *h, struct request *m, struct reply *rp);

/* Write items[0..n) of logdir d (named ldname) at one step, as a log
 * request does (check_steps false: outside the step policy, at step 0 --
 * hparams): the path libtfevents' direct scalar route shares, so that it
 * refuses with the same words. */
int exec_log_items(logdir *d, const char *ldname, const struct logdir_item *items, size_t n,
                   enum logdir_step_mode mode, int64_t step, double wall_time,
                   bool check_steps, struct reply *rp);

/* The refusal of a logdir that cannot be found or opened (err from
 * open_logdir or logdir_set_get()). Returns err. */
int exec_fail_logdir(const struct exec_host *h, const char *name, int err, struct reply *rp);

/* The refusal of a failed write or close of dir (NULL: unknown). */
int exec_fail_write(struct reply *rp, int err, const char *dir);

/* The whole of an embedding request: e's projector files in run (a
 * normalised name) of logdir, below root, reached without following a
 * link; rp gets the step or the refusal. Blocks on file I/O, fsync and
 * the config's lock (projector_write()): tfeventsd runs it on its thread
 * pool. Returns 0 or the refusal's code. */
int exec_embedding(const char *root, const char *ldname, const char *run,
                   const struct projector_embedding *e, struct reply *rp);

/* A short reason for a logdir_* error code. */
const char *exec_strerror(int err);

#endif
