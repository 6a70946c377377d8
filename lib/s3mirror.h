/* s3mirror: a local copy of the event files under an s3://BUCKET/PREFIX
 * logdir (what tfeventsd --upload writes), kept up to date by listing, so
 * that the local readers (logdir_reader, and through it the CLI's collect,
 * tail, export and libtfevents' tfevents_reader) read object storage the
 * way they read a directory. The one path from S3 to a reader: the CLI and
 * the library both use it.
 *
 * Uploaded segments are closed files and objects are immutable, so a sync
 * downloads only keys it does not have yet (each into a temporary name,
 * then renamed: a reader never sees half an object). Objects whose last
 * path segment holds "tfevents" are copied, with their paths relative to
 * the prefix; keys that are not plain relative paths are skipped.
 *
 * Credentials and endpoint come from the environment, as for tfeventsd
 * --upload (s3_config_init): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, and
 * TFEVENTS_S3_ADDRESSING=auto|path|virtual. One mirror is used by one
 * thread at a time. Never logs: the last failure's words are kept. */
#ifndef TFEVENTS_S3MIRROR_H
#define TFEVENTS_S3MIRROR_H

#include <stdbool.h>
#include <stddef.h>

/* Most event files one mirror holds: a bound on what a listing can make
 * us download and write. */
#define S3MIRROR_MAX_OBJECTS 1000000u

typedef struct s3mirror s3mirror;

/* True for "s3://...". */
bool s3mirror_is_url(const char *s);

/* A mirror of url in a new temporary directory (under $TMPDIR or /tmp),
 * empty until the first s3mirror_sync(). *ret: caller owns. -EINVAL with
 * the reason in err (a bad URL, no credentials), -errno of making the
 * directory, -ENOMEM. */
int s3mirror_open(s3mirror **ret, const char *url, char *err, size_t err_size);

/* Remove the local copy and free. NULL-safe. */
void s3mirror_free(s3mirror *m);

/* The local directory (the logdir to read). Borrowed. */
const char *s3mirror_dir(const s3mirror *m);

/* List the prefix and download the event files not yet here. Returns the
 * number of files downloaded, or -errno (s3_put_file's codes: -EACCES,
 * -ENOENT for no bucket, -ECONNREFUSED, ...; -E2BIG past
 * S3MIRROR_MAX_OBJECTS) with the words in s3mirror_error(). What was
 * downloaded before a failure stays; the next sync goes on from there. */
int s3mirror_sync(s3mirror *m);

/* The words of the last failure ("" after a success). */
const char *s3mirror_error(const s3mirror *m);

/* Download the one object url (s3://BUCKET/KEY) into fd, from its current
 * offset. -errno with the reason in err; -ENOENT: no such object. */
int s3mirror_get_object(const char *url, int fd, char *err, size_t err_size);

#endif
