/* s3: a small client of S3-compatible object storage over libcurl (AWS S3,
 * MinIO, Ceph RGW, Garage, ...): PUT of a file as one object (multipart
 * past a size), GET of an object into a file, ListObjectsV2. Requests are
 * signed with libcurl's own SigV4 (CURLOPT_AWS_SIGV4); we add the payload
 * hash (x-amz-content-sha256), Content-MD5 (so that the server checks the
 * body) and the session token.
 *
 * Blocking: a client is for one thread at a time (the daemon's uploader
 * thread, the CLI). Never logs: the last error's words are kept for the
 * caller (s3_client_error). Call curl_global_init() once before any
 * thread uses a client (s3_global_init does). */
#ifndef TFEVENTS_S3_H
#define TFEVENTS_S3_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3url.h"

/* Multipart: S3 wants parts of 5 MiB at least (but the last), 5 GiB at
 * most, and at most 10000 of them. */
#define S3_MIN_PART_SIZE ((size_t)5 << 20)
#define S3_MAX_PART_SIZE ((uint64_t)5 << 30)
#define S3_DEFAULT_PART_SIZE ((size_t)16 << 20)
#define S3_MAX_PARTS 10000u

/* Largest answer body kept in memory (a ListObjectsV2 page of 1000 keys is
 * well under; error documents are small). */
#define S3_MAX_RESPONSE ((size_t)4 << 20)

enum s3_addressing {
    S3_ADDRESSING_AUTO,      /* path style with AWS_ENDPOINT_URL, else virtual */
    S3_ADDRESSING_PATH,      /* http://endpoint/bucket/key */
    S3_ADDRESSING_VIRTUAL,   /* http://bucket.endpoint/key */
};

struct s3_config {
    struct s3_location loc;
    char scheme[8];              /* "http" or "https" */
    char host[1024];             /* host[:port] of the endpoint */
    bool path_style;
    char region[64];
    struct s3_credentials cred;  /* access and secret key, session token */
    size_t part_size;            /* multipart part size; files larger go multipart */
    char ca_file[4096];          /* AWS_CA_BUNDLE: CA certificates (PEM) to trust; "" default */
};

/* Fill c for url (s3://BUCKET/PREFIX) from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL, AWS_CA_BUNDLE: a PEM file of CA certificates that
 * https endpoints' certificates are checked against, as the AWS CLI and
 * SDKs read it; it must be readable) and, when cred_file is not NULL or "", that file
 * (s3url_read_credentials; it wins over the environment). Region
 * defaults to us-east-1, the endpoint to https://s3.REGION.amazonaws.com.
 * -EINVAL with the reason in err: a bad URL or endpoint, no keys. */
int s3_config_init(struct s3_config *c, const char *url, const char *cred_file,
                   enum s3_addressing addressing, char *err, size_t err_size);

/* "auto", "path", "virtual" -> the enum; -EINVAL otherwise. */
int s3_addressing_parse(const char *s);

/* curl_global_init, once per process, before threads use clients. */
int s3_global_init(void);

typedef struct s3_client s3_client;

/* A client of cfg (borrowed: it must outlive the client). Keeps its
 * connection between requests. NULL = out of memory. */
s3_client *s3_client_new(const struct s3_config *cfg);
void s3_client_free(s3_client *c);   /* NULL-safe */

/* While *cancel is true, a running request is abandoned (-ECANCELED). */
void s3_client_set_cancel(s3_client *c, const atomic_bool *cancel);

/* The words of the last failure ("" after a success). */
const char *s3_client_error(const s3_client *c);

struct s3_put_result {
    char etag[128];      /* as the server answered, quotes removed */
    unsigned parts;      /* 0: one PUT, else the multipart's parts */
    bool verified;       /* the ETag is the MD5 we computed (multipart: of the parts'
                          * MD5s with "-N", or of the whole object) */
};

/* Upload size bytes of fd (from offset 0) as the object key (relative to
 * the bucket, not encoded). One PUT up to cfg->part_size, else a
 * multipart upload (aborted on failure, so that no part lingers). An
 * object appears only whole: S3 publishes it when the PUT or the
 * completion succeeds. Returns 0, or -EAGAIN (server busy or 5xx: try
 * again), -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH / -EIO (network),
 * -EACCES (403), -ENOENT (404: no bucket), -EPROTO (another refusal),
 * -ECANCELED, -EBADMSG (the server's answer makes no sense), -EFBIG (more
 * than S3_MAX_PARTS parts), -errno of reading fd. */
int s3_put_file(s3_client *c, const char *key, int fd, uint64_t size,
                struct s3_put_result *ret);

/* Download key into fd (written from its current offset). Errors as
 * above; -ENOENT for a missing key. */
int s3_get_file(s3_client *c, const char *key, int fd);

/* Call cb(arg, key, size) for every object whose key starts with prefix
 * (not encoded; "" for all), in S3's (byte) order, page after page.
 * A negative return from cb stops and is returned. */
int s3_list(s3_client *c, const char *prefix,
            int (*cb)(void *arg, const char *key, uint64_t size), void *arg);

/* Call cb(arg, key, upload_id) for every incomplete multipart upload
 * whose key starts with prefix (ListMultipartUploads, page after page, in
 * S3's order). A negative return from cb stops and is returned. Errors as
 * s3_list; -EOPNOTSUPP when the server does not implement the request
 * (HTTP 501, or 405). */
int s3_list_multipart(s3_client *c, const char *prefix,
                      int (*cb)(void *arg, const char *key, const char *upload_id),
                      void *arg);

/* Abort the multipart upload upload_id of key: its parts are dropped.
 * 0 also when it is already gone (404 NoSuchUpload); else as above. */
int s3_abort_multipart(s3_client *c, const char *key, const char *upload_id);

#endif
