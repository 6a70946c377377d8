/* record_writer: appends framed records to one new event file.
 *
 * Files are named like TensorBoard's own writer,
 *   events.out.tfevents.<10-digit unix secs>.<host>.<pid>.<seq>[suffix]
 * and created with O_CREAT|O_EXCL|O_APPEND: two writers never share a name
 * (seq is a process-wide counter, and a name that exists is skipped), and no
 * existing file is ever truncated. The first record is the Event
 * {wall_time, file_version: "brain.Event:2"}.
 *
 * Records are buffered and written whole: if write(2) fails part-way
 * (ENOSPC, EIO, EFBIG), the file is cut back to the last whole record, so a
 * file never holds a corrupt record in its middle, and the bytes stay
 * buffered for the next flush.
 *
 * One writer is used by one thread at a time. */
#ifndef TFEVENTS_RECORD_WRITER_H
#define TFEVENTS_RECORD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_WRITER_DEFAULT_BUFFER (64u * 1024)

/* Largest buffer_size option accepted (-EINVAL above). */
#define RECORD_WRITER_MAX_BUFFER ((size_t)64 << 20)

/* Most bytes kept buffered while writes keep failing (a full disk): past
 * it, appends are refused with -ENOBUFS instead of growing without bound.
 * Room for one record of the largest size and then some. */
#define RECORD_WRITER_MAX_PENDING ((size_t)512 << 20)
#define RECORD_WRITER_FILE_VERSION "brain.Event:2"

typedef struct record_writer record_writer;

struct record_writer_options {
    const char *suffix;   /* appended to the file name; NULL or "" for none */
    size_t buffer_size;   /* buffered bytes that trigger a write; 0: default */
    bool fsync;           /* fsync(2) after every flush */
    double wall_time;     /* for the name and the first record; 0: now */
};

/* Create a new event file in directory dir (which must exist), mode 0666
 * minus the umask, and write its file_version record at once.
 * opts may be NULL for defaults. On success *ret is a new writer the caller
 * owns. -EINVAL for a suffix with '/' (or over 64 bytes), a buffer_size over
 * RECORD_WRITER_MAX_BUFFER or a negative wall_time; -errno from
 * open(2)/write(2) (nothing is left on disk then), -ENOMEM. */
int record_writer_open(record_writer **ret, const char *dir,
                       const struct record_writer_options *opts);

/* The same in the directory open as dirfd (borrowed; duplicated inside so
 * the writer can rotate). dir_display names it in record_writer_path(). */
int record_writer_openat(record_writer **ret, int dirfd, const char *dir_display,
                         const struct record_writer_options *opts);

/* Frame and buffer one record holding payload (a serialized Event).
 * Writes the buffer out when it would pass the buffer size.
 *   0          the record is taken (buffered or written)
 *   -EMSGSIZE  len > RECORD_MAX_PAYLOAD; -ENOBUFS: RECORD_WRITER_MAX_PENDING
 *              bytes are already waiting after failed writes; -ENOMEM.
 *              The record is NOT taken.
 *   other -errno (-ENOSPC, -EFBIG, -EIO, ...): writing failed, but the record
 *              IS taken and stays buffered with the others; a later append
 *              or record_writer_flush() retries. Do not append it again. */
int record_writer_append(record_writer *w, const void *payload, size_t len);

/* Append bytes that are already whole framed records (from record_frame()),
 * unbuffered: buffered records are written first, then these. All or
 * nothing: on failure the file is cut back to where it was, and the records
 * (still the caller's) may be retried. -EINVAL if records is not a sequence
 * of whole framed records. */
int record_writer_write_framed(record_writer *w, const void *records, size_t len);

/* Write out everything buffered; fsync too if the options say so or sync
 * is true. With the fsync option, every write-out (also those triggered by
 * appends) is followed by fsync(2). */
int record_writer_flush(record_writer *w, bool sync);

/* Start a new file in the same directory (flushes the old one first). The
 * new name sorts after the old one (its seconds are moved forward if
 * needed), since TensorBoard reads a run's files in name order. On failure
 * the writer stays on the old file. */
int record_writer_rotate(record_writer *w);

/* Flush, close and free. Returns the first error of the flush or close;
 * w is freed whatever happens (records that could not be written are
 * lost). NULL-safe (returns 0). */
int record_writer_close(record_writer *w);

/* Path of the current file (directory display name + '/' + file name);
 * valid until the next rotate or close. */
const char *record_writer_path(const record_writer *w);

/* Bytes in the current file, counting buffered ones. */
uint64_t record_writer_size(const record_writer *w);

/* Records appended to the current file, counting the file_version one. */
uint64_t record_writer_records(const record_writer *w);

/* Build the next file name (without directory) into out, taking the next
 * process-wide sequence number; exposed for tests. -EINVAL for a negative
 * or 11-digit wall_time or a bad suffix, -ENAMETOOLONG if out is short. */
int record_writer_file_name(char *out, size_t out_size, double wall_time,
                            const char *suffix);

#endif
