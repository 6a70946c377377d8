/* s3url: the pure parts of talking to S3-compatible object storage: the
 * s3://BUCKET/PREFIX notation, object keys, the URI encoding SigV4 wants,
 * the few XML fields we read from S3's answers, and the AWS credentials
 * file. No I/O but reading the credentials file, no libcurl (s3.c has it),
 * never logs. */
#ifndef TFEVENTS_S3URL_H
#define TFEVENTS_S3URL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* S3's limits: bucket names are 3..63 bytes, keys at most 1024 bytes. */
#define S3_MAX_BUCKET 63
#define S3_MAX_KEY 1024

/* Longest value read from a credentials file line (keys, tokens: STS
 * session tokens run to about 1.3 KB). */
#define S3_MAX_CREDENTIAL 4096

struct s3_location {
    char bucket[S3_MAX_BUCKET + 1];
    char prefix[S3_MAX_KEY + 1];   /* no leading or trailing '/'; may be "" */
};

/* Parse "s3://BUCKET" or "s3://BUCKET/PREFIX" (slashes around PREFIX are
 * dropped). -EINVAL for anything else: another scheme, an empty or invalid
 * bucket name (lower-case letters, digits, '.', '-'), a prefix past
 * S3_MAX_KEY or holding "//", ".." or "." segments. */
int s3url_parse(const char *url, struct s3_location *ret);

/* The key of the file at rel (a path relative to the uploaded root, no
 * leading '/') under prefix: "prefix/rel", or "rel" when prefix is "".
 * -ENAMETOOLONG past S3_MAX_KEY or out_size. */
int s3url_key(char *out, size_t out_size, const char *prefix, const char *rel);

/* Append s URI-encoded as SigV4 wants it (every byte but A-Z a-z 0-9 - _ .
 * ~ as %XX, upper-case hex; '/' kept when keep_slash). 0 or -ENOMEM. */
int s3url_encode(struct buf *out, const char *s, size_t len, bool keep_slash);

/* Find the next <tag>...</tag> in xml from *pos; on success (1) set
 * *ret_val and *ret_len to the text between (still XML-escaped) and move *pos
 * past it. 0 when there is none. */
int s3url_xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
                   const char **ret_val, size_t *ret_len);

/* Copy XML text to out, replacing the five predefined entities and
 * decimal/hex character references below 128. -ENAMETOOLONG when it does
 * not fit out_size (with its NUL), -EINVAL for a bad entity. */
int s3url_xml_text(char *out, size_t out_size, const char *val, size_t len);

/* What a credentials file may set (each "" when absent). */
struct s3_credentials {
    char access_key[S3_MAX_CREDENTIAL];
    char secret_key[S3_MAX_CREDENTIAL];
    char session_token[S3_MAX_CREDENTIAL];
    char region[64];
    char endpoint[1024];
};

/* Read a credentials file: the AWS shared format ("[default]" section,
 * aws_access_key_id = ..., aws_secret_access_key, aws_session_token,
 * region, endpoint_url) or environment style (AWS_ACCESS_KEY_ID=... one a
 * line, as a systemd credential or an EnvironmentFile). Keys are matched
 * without case; lines of other sections than [default] are skipped;
 * '#' and ';' start comments. Fields the file does not set are left as
 * they were. 0, or -errno of opening/reading, -EINVAL for a line that is
 * not key = value or a value too long. */
int s3url_read_credentials(const char *path, struct s3_credentials *c);

#endif
