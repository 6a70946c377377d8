/* flusher: when and where the run writers write.
 *
 * The event loop never touches the disk for event data: a writer's
 * pending batch is taken on the loop thread (run_writer_take), written on
 * the libuv thread pool (uv_queue_work -> run_writer_write) and completed
 * back on the loop (run_writer_complete). One batch per writer is in
 * flight at a time, which keeps each file's order; meanwhile new records
 * go to a fresh pending batch.
 *
 * A writer is written when its pending data reaches cfg->flush_bytes, at
 * every flush interval, and when a client asks (flush op: the reply is
 * sent once everything that client could have logged before it is in the
 * file, fsynced with "sync":true). Writers unused for cfg->idle_timeout
 * are closed, and past cfg->max_writers the least recently used one is.
 * Closing also runs on the thread pool. */
#ifndef TFEVENTSD_FLUSHER_H
#define TFEVENTSD_FLUSHER_H

#include <stdbool.h>
#include <stdint.h>

#include "logdir.h"
#include "stats.h"

struct server;
struct conn;
struct flusher;
struct reply_id;

struct flusher *flusher_new(struct server *s);
void flusher_free(struct flusher *f);   /* after shutdown; NULL-safe */

/* The logdir hook (see logdir_options): registers new writers, keeps the
 * LRU order and starts writes past the size threshold. */
void flusher_writer_hook(void *ctx, logdir_run *rs, run_writer *w, bool is_new);

/* A flush (close: flush and close) of the writers of the runs d holds
 * (shared with other logdirs or not), or when d is NULL of all writers,
 * or with user (borrowed; --per-user-root) of the writers of the logdirs
 * under that user directory; answered on c when done (with id, if it has
 * one; a failure always). */
void flusher_request(struct flusher *f, logdir *d, const char *user, bool sync, bool close,
                     struct conn *c,
                     const struct reply_id *id, uint64_t line_no);

/* The writers open and closing, and their bytes not yet written, into g's
 * writers_open, writers_closing and pending_bytes: all of them when user is
 * NULL, else those of the logdirs under user directory user (borrowed;
 * --per-user-root's stats). */
void flusher_gauges(const struct flusher *f, const char *user, struct stats_gauges *g);

/* SIGHUP: every open writer starts a new file with its next record. */
void flusher_rotate_all(struct flusher *f);

/* Write everything, close every writer, then call done(ctx). */
void flusher_shutdown(struct flusher *f, void (*done)(void *ctx), void *ctx);

unsigned flusher_open_writers(const struct flusher *f);
uint64_t flusher_pending_bytes(const struct flusher *f);

#endif
