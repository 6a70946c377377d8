/* cli_s3: reading a logdir from object storage for the CLI
 * (tfevents collect s3://BUCKET/PREFIX/LOGDIR): the event files under the
 * prefix are downloaded into a temporary directory, with their paths
 * relative to the prefix, and read from there like any logdir. Credentials
 * and endpoint come from the same environment as tfeventsd --upload
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
 * AWS_ENDPOINT_URL; TFEVENTS_S3_ADDRESSING=path|virtual|auto). */
#ifndef TFEVENTS_CLI_S3_H
#define TFEVENTS_CLI_S3_H

#include <stdbool.h>
#include <stddef.h>

/* True for "s3://...". */
bool cli_s3_is_url(const char *s);

/* Download the event files under url into a new temporary directory
 * (under $TMPDIR or /tmp); its path goes to dir. Says why on stderr and
 * returns -errno on failure (nothing left behind). */
int cli_s3_fetch(const char *url, char *dir, size_t dir_size);

/* Remove what cli_s3_fetch made. */
void cli_s3_remove(const char *dir);

#endif
