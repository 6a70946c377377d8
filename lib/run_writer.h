/* run_writer: the one writer of one run directory.
 *
 * Whatever the number of clients logging into a run, exactly one
 * run_writer appends to its current event file, so TensorBoard (which reads
 * a run's files in name order and never goes back) sees every record.
 *
 * Records are encoded on the caller's thread into a pending buffer of whole
 * framed records; the file is written in batches. Two ways to write:
 *   - synchronously, run_writer_flush() (the embedded client mode);
 *   - split in three for an event loop that must not block on disk I/O
 *     (the daemon): run_writer_take() on the loop thread moves the pending
 *     batches to the in-flight slot, run_writer_write() runs on a worker
 *     thread and does all the I/O (mkdir, open, rotate, write, fsync), and
 *     run_writer_complete() back on the loop thread publishes the result.
 *     Between take and complete the caller may keep adding records (they go
 *     to a new pending batch): one batch is in flight at a time, so the
 *     file's order is the order of the adds.
 *
 * Metadata: the first value of each tag in every file carries the full
 * SummaryMetadata (TensorBoard lists a tag only if that one has it), later
 * ones none. The set of tags seen belongs to the file being filled, so it
 * is reset when a rotation is decided.
 *
 * Rotation: when the current file would pass rotate_bytes, or after
 * run_writer_request_rotate(), the next record starts a new batch flagged to
 * begin a new file. Files are only created when a batch is written.
 * A file-size limit (RLIMIT_FSIZE when the writer is made) lowers
 * rotate_bytes to it. If a write still fails with EFBIG (the limit was
 * lowered later, or the file system's largest file), run_writer_write()
 * moves on to a new file in the middle of the batch (the first values of
 * that batch in the new file may lack their metadata), and a record that
 * does not fit even in a new file is dropped and counted in records_lost:
 * data is never held back for good by a size limit.
 *
 * No libuv here; not thread-safe except for the take/write/complete split
 * described above. */
#ifndef TFEVENTS_RUN_WRITER_H
#define TFEVENTS_RUN_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "summary.h"

/* Default size at which a file is rotated: large enough that a normal
 * training run stays in one file, small enough to copy around. */
#define RUN_WRITER_DEFAULT_ROTATE_BYTES ((uint64_t)1 << 30)

/* Hard cap on encoded records waiting to be written per writer. Adding past
 * it is -ENOBUFS: the caller must flush (the daemon stops reading from
 * clients long before this). */
#define RUN_WRITER_MAX_PENDING ((size_t)1 << 30)

/* Tags remembered per file for metadata; past it, every later new tag is
 * still written (with metadata) but not remembered, so it carries metadata
 * on every value. Bounded because clients choose tag names. */
#define RUN_WRITER_MAX_TAGS_PER_FILE (1u << 20)

/* Longest tag a writer keeps a copy of as the last one seen in its file (a
 * shortcut past the tag set; longer tags are always looked up). Bounds the
 * copy, whatever tags clients choose. */
#define RUN_WRITER_LAST_TAG_MAX 256u

struct run_writer_options {
    uint64_t rotate_bytes;   /* start a new file past this size; 0: never */
    bool fsync_always;       /* fsync after every written batch */
    const char *suffix;      /* file name suffix (borrowed); NULL: none */
    size_t max_pending;      /* 0 (or more): RUN_WRITER_MAX_PENDING */
    /* Called with the path of each file once the writer has closed it for
     * good (rotated away from, or at run_writer_close), on the thread that
     * did it: a worker thread in the daemon, so it must be thread-safe and
     * quick. path is borrowed for the call. NULL: not called. */
    void (*on_file_closed)(void *arg, const char *path);
    void *on_file_closed_arg;
};

typedef struct run_writer run_writer;

/* A writer for directory dir (a path; copied). The directory and its
 * parents are created when the first batch is written. NULL = no memory. */
run_writer *run_writer_new(const char *dir, const struct run_writer_options *opts);

/* The same for a directory already open as dirfd (takes ownership: it is
 * closed by run_writer_close(), also when this returns NULL). Files are
 * created in it with openat(), so the writer keeps writing into that very
 * directory even if its path is later renamed or replaced by a symbolic
 * link (see confine.h). dir names it in messages and run_writer_file(). */
run_writer *run_writer_new_at(int dirfd, const char *dir,
                              const struct run_writer_options *opts);

/* Encode one Event {wall_time, step, summary {v}} (with v's metadata when
 * its tag is new in the current file) and append it to the pending batch.
 * v is borrowed. -EINVAL for an empty tag, -ENOBUFS past
 * RUN_WRITER_MAX_PENDING, -EMSGSIZE, -ENOMEM. */
int run_writer_add_summary(run_writer *w, double wall_time, int64_t step,
                           const struct summary_value *v);

/* run_writer_add_scalar() could not take its shortcut; nothing changed. */
#define RUN_WRITER_DECLINED 1

/* The shortcut for the commonest record: the same bytes as
 * run_writer_add_summary() with summary_scalar(tag, value, NULL), when a
 * plain scalar of this tag was written to the current file and its record
 * is still at hand (the writer keeps those of a few tags of up to 64
 * bytes), so the tag is valid, already in the file and needs no metadata,
 * and the record goes to the open batch without a rotation. Only the wall
 * time, step and float are encoded; the rest is copied from that record.
 * Returns RUN_WRITER_DECLINED otherwise (then build the value and call
 * run_writer_add_summary(), which also answers when memory is short), or
 * -ENOBUFS as that. */
int run_writer_add_scalar(run_writer *w, double wall_time, int64_t step, const char *tag,
                          size_t tag_len, double value);

/* Encode one Event {wall_time, step, session_log {status}} (status: a
 * Tensorboard__SessionLog__SessionStatus value). Errors as above. */
int run_writer_add_session_log(run_writer *w, double wall_time, int64_t step,
                               int status);

/* Encode one Event {wall_time, step, graph_def} (tag NULL) or {wall_time,
 * step, tagged_run_metadata {tag[0..tag_len), run_metadata}} whose bytes are data[0..len)
 * (borrowed, copied as they are: check them first, graph.h). Errors as
 * above. */
int run_writer_add_graph(run_writer *w, double wall_time, int64_t step, const char *tag,
                         size_t tag_len, const void *data, size_t len);

/* Start a new file with the next record (SIGHUP). */
void run_writer_request_rotate(run_writer *w);

/* Encoded bytes not yet handed to run_writer_take(). */
size_t run_writer_pending_bytes(const run_writer *w);

/* Bytes that may still be added before -ENOBUFS (the pending cap). */
size_t run_writer_room(const run_writer *w);

/* At least the framed bytes run_writer_add_summary() adds for v (an upper
 * bound: its fields' keys and lengths take at most 64 bytes). */
size_t run_writer_record_bound(const struct summary_value *v);

/* Records added so far (monotonic), and of them the ones written to the
 * file / written and fsynced. A flush of everything added up to now is
 * done when written (or synced) reaches the value of added read now. */
uint64_t run_writer_seq_added(const run_writer *w);
uint64_t run_writer_seq_written(const run_writer *w);
uint64_t run_writer_seq_synced(const run_writer *w);

/* ---- the split flush (loop thread / worker thread) ------------------- */

/* Loop thread. Move every pending batch to the in-flight slot. Returns 1
 * when there is something for run_writer_write() (data, or sync requested
 * and a file to sync), 0 when not, -EBUSY when a batch is already in
 * flight. */
int run_writer_take(run_writer *w, bool sync);

/* Any thread, between take and complete, never two at once: do the I/O
 * for the in-flight batches (create directories and the file on first
 * use, rotate when a batch says so, write, fsync if sync was asked at take
 * or fsync_always). Returns 0 or the first -errno; batches not written stay
 * in flight for complete() to give back (a failed write leaves no part of
 * a record in the file: see record_writer_write_framed()). */
int run_writer_write(run_writer *w);

/* Loop thread, after write. Batches that failed go back in front of the
 * pending ones (they are retried by the next flush, in order). Returns the
 * result of write. */
int run_writer_complete(run_writer *w);

/* True between take and complete. */
bool run_writer_busy(const run_writer *w);

/* ---- synchronous ------------------------------------------------------ */

/* take + write + complete. -EBUSY if a batch is in flight; -EFBIG when
 * records were dropped as too large for any file (records_lost). */
int run_writer_flush(run_writer *w, bool sync);

/* Flush everything (with fsync when sync), close the file and free w.
 * Returns the first error; w is freed whatever happens (data that could
 * not be written is lost, and counted in the return value only).
 * Must not be busy. NULL-safe. */
int run_writer_close(run_writer *w, bool sync);

/* ---- facts ------------------------------------------------------------ */

const char *run_writer_dir(const run_writer *w);

/* Path of the current file, or NULL before the first write. Read it only
 * when not busy. */
const char *run_writer_file(const run_writer *w);

/* Statistics, read when not busy. */
struct run_writer_stats {
    uint64_t bytes_written;   /* record bytes written (not the file header) */
    uint64_t batches;         /* successful write calls that wrote data */
    uint64_t files;           /* files created */
    uint64_t fsyncs;
    uint64_t write_errors;
    uint64_t records_lost;    /* records too large for any file (EFBIG), dropped */
};
void run_writer_get_stats(const run_writer *w, struct run_writer_stats *ret);

/* A pointer for the owner (the daemon hangs its scheduling state here). */
void run_writer_set_user(run_writer *w, void *user);
void *run_writer_user(const run_writer *w);

#endif
