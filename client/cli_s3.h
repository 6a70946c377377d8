/* cli_s3: the CLI's s3:// logdirs (collect, export, tail, dump), a thin
 * layer over lib/s3mirror (the one path from object storage to a reader,
 * shared with libtfevents): the event files under s3://BUCKET/PREFIX are
 * copied into a temporary directory, read there like any logdir, and the
 * copy is removed at the end. Credentials and endpoint come from the same
 * environment as tfeventsd --upload (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL;
 * TFEVENTS_S3_ADDRESSING=path|virtual|auto; CA: see s3.h). */
#ifndef TFEVENTS_CLI_S3_H
#define TFEVENTS_CLI_S3_H

#include "s3mirror.h"

/* When *logdir is an s3:// URL: a mirror of it, synced once, into
 * *ret_m (caller owns: s3mirror_free), and *logdir is pointed at its
 * directory. Otherwise *ret_m is NULL and nothing changes. Says why on
 * stderr and returns -errno on failure (nothing left behind). */
int cli_s3_open(const char **logdir, s3mirror **ret_m);

/* One sync of m: the number of new files, or -errno (the words said on
 * stderr unless quiet; then they are in s3mirror_error()). */
int cli_s3_sync(s3mirror *m, bool quiet);

#endif
