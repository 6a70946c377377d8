/* upload: tfeventsd's mirror of closed event files to S3-compatible object
 * storage (--upload s3://BUCKET/PREFIX): each file under the root, once
 * its writer has closed it (rotation every --upload-interval or
 * --upload-size, idle close, shutdown), becomes the object
 * PREFIX/<path relative to the root>.
 *
 * One uploader thread of its own does all the network I/O (never the
 * event loop, never the libuv pool, whose threads write the files).
 * Failures are retried with exponential backoff (1 s doubling up to
 * UPLOAD_MAX_BACKOFF_S), in order. What is uploaded is recorded in a
 * journal (upload_journal.h), so the queue is rebuilt from the files on
 * disk at the next start, after a restart or a kill -9.
 *
 * A kill -9 in the middle of a multipart upload leaves its parts on the
 * server, invisible and billed. Before its first upload the thread lists
 * the incomplete multipart uploads under the prefix and aborts those of
 * its own files: keys that name an event file under the root (file names
 * hold the host, pid and sequence, so another node's keys never do; an
 * upload of a file no longer here, or of another node, is left alone).
 * Until that listing succeeds it is tried again before each upload. */
#ifndef TFEVENTSD_UPLOAD_H
#define TFEVENTSD_UPLOAD_H

#include <stdbool.h>

#include "buf.h"

/* Longest wait between two tries after failures. */
#define UPLOAD_MAX_BACKOFF_S 30

/* A file that failed this many times in a row goes to the back of the
 * queue, so that one bad file cannot hold up the others. */
#define UPLOAD_REQUEUE_AFTER 5u

/* Most incomplete multipart uploads under the prefix looked at when the
 * uploader starts (the rest is left to a lifecycle rule). */
#define UPLOAD_MAX_STALE 10000u

struct config;
struct uploader;

/* Check the destination and credentials, open the journal, queue what is
 * not uploaded yet and start the thread. Logs what it refuses; returns 0
 * or -errno (-EINVAL for a configuration mistake). Call before any writer
 * writes: files of this process are reported by uploader_file_closed(). */
int uploader_new(struct uploader **ret, const struct config *cfg);

/* run_writer_options.on_file_closed: queue path (absolute, under the
 * root). Any thread; quick. */
void uploader_file_closed(void *arg, const char *path);

/* Append ,"upload_...":N fields (and "upload_last_error") to out, for the
 * stats reply. Loop thread (takes the uploader's lock briefly). */
int uploader_stats_json(struct uploader *u, struct buf *out);

/* Wait up to wait_s seconds for the queue to empty, then abandon what is
 * running (it stays queued on disk for the next start), stop the thread
 * and free u. Logs what is left. NULL-safe. */
void uploader_free(struct uploader *u, double wait_s);

#endif
