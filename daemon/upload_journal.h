/* upload_journal: which closed event files are already in object storage,
 * so that the upload queue can be rebuilt after a restart or a kill -9:
 * the queue is every event file under the root that is not in the journal
 * (with the same size).
 *
 * The journal is a text file: a first line "tfeventsd-upload 1 DEST"; its file name must not hold "tfevents", which would make it an event file to TensorBoard (a
 * journal of another destination counts as empty), then one line
 * "SIZE RELATIVE-PATH" per uploaded file, appended and fdatasync'ed after
 * each verified upload. It is rewritten at startup (temporary file,
 * fsync, rename) with only the files still present, which also drops a
 * line cut short by a crash. Not thread-safe: the uploader thread owns it
 * after startup. Never logs. */
#ifndef TFEVENTSD_UPLOAD_JOURNAL_H
#define TFEVENTSD_UPLOAD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest directory walked under the root, and most event files queued at
 * startup (past it the rest waits for the next start, and is said so). */
#define UPLOAD_JOURNAL_MAX_DEPTH 64
#define UPLOAD_JOURNAL_MAX_FILES 1000000u

struct upload_journal;

/* One event file found under the root that is not uploaded yet. */
struct upload_file {
    char *rel;          /* path relative to the root (caller frees) */
    uint64_t size;
};

/* Open the journal at path for destination dest, walk root for event
 * files (basename containing "tfevents", regular files, symbolic links
 * not followed; skip: a path to leave out, the journal itself), rewrite the
 * journal with the ones already uploaded, and return the others in
 * *ret_todo (*ret_n of them, sorted by path; caller frees each rel and
 * the array). *ret_truncated is set past UPLOAD_JOURNAL_MAX_FILES.
 * Returns 0 or -errno. */
int upload_journal_open(struct upload_journal **ret, const char *path, const char *dest,
                        const char *root, struct upload_file **ret_todo, size_t *ret_n,
                        bool *ret_truncated);

/* Record rel (size bytes) as uploaded: one line, then fdatasync. A path
 * holding a newline is not recorded (it is uploaded again after a
 * restart). 0 or -errno. */
int upload_journal_add(struct upload_journal *j, const char *rel, uint64_t size);

void upload_journal_close(struct upload_journal *j);   /* NULL-safe */

#endif
