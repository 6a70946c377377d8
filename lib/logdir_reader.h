/* logdir_reader: incremental reader of a whole TensorBoard logdir.
 *
 * Runs are found the way TensorBoard finds them: every directory under the
 * logdir (the logdir itself included, named ".") that directly contains a
 * file whose name contains "tfevents" is a run, named by its path relative
 * to the logdir. A run's files are read in lexicographic name order, each
 * from where the last poll stopped: records appended later, new files and new
 * run directories are picked up by the next poll. Like TensorBoard's loader
 * it reads a file to its end, moves on to the next file of the run once one
 * exists and never goes back to an older file.
 *
 * A truncated last record (the writer is still writing, or died) is retried
 * on every poll and reported once per position. Corruption (CRC mismatch,
 * impossible length, a CRC-valid record that is not an Event) is reported
 * with file and offset, and that file is never read past it again, as
 * TensorBoard does; other files and runs go on.
 *
 * Each summary value is decoded with value_decode() using the metadata
 * TensorBoard would have at that point: the first metadata of the tag in the
 * run, and the tag's first value in the current file (see value.h).
 *
 * With the purge option the reader also replays TensorBoard's
 * purge_orphaned_data: with file_version >= 2, every SessionLog START of a
 * run except the first deletes the run's points with step >= its step (all
 * tags); without file_version 2, a summary event whose step is below the
 * run's previous summary step deletes the points with step >= its step of
 * the tags in that event. The reader holds no points, so it reports the
 * purge on the event's item and the consumer applies it before adding the
 * event's own values.
 *
 * Symbolic links to directories are never followed, so a walk cannot leave
 * the logdir or loop; symbolic links to files are read. Files ending in
 * ".profile-empty" are skipped, as TensorBoard does.
 *
 * One reader is used by one thread at a time. It never logs. */
#ifndef TFEVENTS_LOGDIR_READER_H
#define TFEVENTS_LOGDIR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.pb-c.h"
#include "record.h"
#include "value.h"

/* Runs tracked; run directories found beyond this are ignored (and counted
 * in logdir_reader_stats().runs_ignored). */
#define LOGDIR_READER_MAX_RUNS 100000u
/* Directory levels below the logdir that are searched for runs. */
#define LOGDIR_READER_MAX_DEPTH 64u
/* Event files per run considered on one poll; further names are ignored. */
#define LOGDIR_READER_MAX_FILES 100000u
/* Tags per run whose metadata is remembered; values of further tags are
 * decoded with their own metadata only. */
#define LOGDIR_READER_MAX_TAGS (1u << 20)
/* Longest path (logdir + run + file name) handled. */
#define LOGDIR_READER_MAX_PATH 4096u

typedef struct logdir_reader logdir_reader;

struct logdir_reader_options {
    bool decode_values;   /* decode every summary value (default true) */
    bool purge;           /* report TensorBoard's purges (default true) */
    bool no_fast_path;    /* decode every event with protobuf-c instead of
                             event_scan first (default false; the results
                             are the same, this is for tests and profiling) */
    bool late_files;      /* read every file of a run once, also one that
                             appears with a name before the file being read
                             (default false: skipped, as TensorBoard's Python
                             loader does). For trees whose files arrive whole
                             but out of name order: a copy of object storage
                             several nodes upload into (lib/s3mirror). A run
                             moves on from a file once an unread one exists. */
};

void logdir_reader_options_init(struct logdir_reader_options *o);

enum logdir_reader_item_type {
    LOGDIR_READER_ITEM_EVENT = 1,
    LOGDIR_READER_ITEM_PROBLEM = 2,
};

/* What logdir_reader_next() hands out. Every pointer is borrowed from the
 * reader and valid until the next call of logdir_reader_next() or
 * logdir_reader_free(). */
struct logdir_reader_item {
    enum logdir_reader_item_type type;
    const char *run;       /* "." or "a/b" */
    const char *file;      /* path relative to the logdir */
    uint64_t offset;       /* byte offset of the record in the file */
    uint64_t index;        /* 0-based record index in the file */

    /* LOGDIR_READER_ITEM_EVENT */
    uint64_t length;                   /* whole record size, framing included */
    const Tensorboard__Event *event;
    struct decoded_value *values;              /* one per event->summary->value[i]
                                          when decode_values; else NULL */
    size_t n_values;
    bool purge;                        /* drop points with step >= purge_step */
    bool purge_all_tags;               /* ... of every tag of the run (START),
                                          else of the tags in this event */
    int64_t purge_step;

    /* LOGDIR_READER_ITEM_PROBLEM */
    enum record_fault fault;   /* TRUNCATED (retried later: a warning) or a
                                  corruption (the file is abandoned) */
    int error;                 /* -errno when a file could not be opened or
                                  read (fault is RECORD_FAULT_NONE) */
};

struct logdir_reader_stats {
    uint64_t records;        /* records handed out as events */
    uint64_t bytes;          /* bytes of those records */
    uint64_t problems;       /* problem items handed out */
    size_t runs;
    size_t runs_ignored;     /* beyond LOGDIR_READER_MAX_RUNS */
    size_t dirs_too_deep;    /* directories below LOGDIR_READER_MAX_DEPTH */
};

/* Open a reader on path: a logdir, or a single event file (read as run "."
 * whatever its name). opts may be NULL for the defaults. Nothing is read
 * yet. -ENOENT/-ENOTDIR/-EACCES... when path cannot be opened, -ENOMEM. */
int logdir_reader_open(logdir_reader **ret, const char *path,
                       const struct logdir_reader_options *opts);

/* NULL-safe. */
void logdir_reader_free(logdir_reader *r);

/* Next item.
 *   1   *item is filled (borrowed pointers, see struct logdir_reader_item)
 *   0   nothing more for now: this poll has read everything there is. The
 *       next call starts a new poll (rescans directories, retries
 *       truncated records, reads appended data).
 *  <0   -ENOMEM, or -errno when the logdir itself cannot be listed. */
int logdir_reader_next(logdir_reader *r, struct logdir_reader_item *item);

/* Runs found so far, sorted by name ("." first). The name is borrowed and
 * valid until the reader is freed. */
size_t logdir_reader_run_count(const logdir_reader *r);
const char *logdir_reader_run_name(const logdir_reader *r, size_t i);

void logdir_reader_stats(const logdir_reader *r, struct logdir_reader_stats *ret);

#endif
