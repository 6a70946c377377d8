#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tfevents_build.h"

/* Seconds to wait for a connection, and the slowest transfer we accept
 * (S3_LOW_SPEED bytes/s over S3_LOW_SPEED_TIME s) before giving up: a
 * stalled server must not hold the uploader forever. */
#define S3_CONNECT_TIMEOUT_S 10L
#define S3_LOW_SPEED 1024L
#define S3_LOW_SPEED_TIME 60L

/* Bytes read from the file per pread when hashing and sending. */
#define S3_READ_CHUNK ((size_t)256 << 10)

/* The empty body's SHA-256. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_client {
    const struct s3_config *cfg;
    CURL *curl;
    const atomic_bool *cancel;
    struct buf resp;          /* the answer's body (capped) */
    struct buf url;
    char etag[128];           /* ETag header of the last answer */
    char err[512];
    char curl_err[CURL_ERROR_SIZE];   /* libcurl's details of a failure */
    /* The body being sent from a file, and where an answer goes. */
    int fd;
    uint64_t off, left;
    int out_fd;
    int out_errno;
    long status;
};

/* ---- configuration ------------------------------------------------------ */

int s3_addressing_parse(const char *s)
{
    if (strcmp(s, "auto") == 0)
        return S3_ADDRESSING_AUTO;
    if (strcmp(s, "path") == 0)
        return S3_ADDRESSING_PATH;
    if (strcmp(s, "virtual") == 0)
        return S3_ADDRESSING_VIRTUAL;
    return -EINVAL;
}


/* Appends the query parameter name=value (value percent-encoded) to q,
 * after a '&' unless it is the first; q stays NUL-terminated. Callers add
 * parameters in byte order of their names: the query is then already
 * canonical, and SigV4 signs it as it is. */
static int query_add(struct buf *q, const char *name, const char *value)
{
    int r = q->len ? buf_append_str(q, "&") : 0;
    r = r ? r : buf_append_str(q, name);
    r = r ? r : buf_append_str(q, "=");
    return r ? r : s3url_encode(q, value, strlen(value), false);
}

static void copy_env(char *out, size_t size, const char *name)
{
    const char *v = getenv(name);
    if (v && *v && strlen(v) < size)
        memcpy(out, v, strlen(v) + 1);
}

/* "http(s)://host[:port][/]" -> scheme, host. */
static int parse_endpoint(struct s3_config *c, const char *ep)
{
    const char *rest;
    if (strncmp(ep, "http://", 7) == 0) {
        snprintf(c->scheme, sizeof c->scheme, "http");
        rest = ep + 7;
    } else if (strncmp(ep, "https://", 8) == 0) {
        snprintf(c->scheme, sizeof c->scheme, "https");
        rest = ep + 8;
    } else {
        return -EINVAL;
    }
    size_t n = strcspn(rest, "/?#");
    if (n == 0 || n >= sizeof c->host || strspn(rest + n, "/") != strlen(rest + n))
        return -EINVAL;
    memcpy(c->host, rest, n);
    c->host[n] = '\0';
    return 0;
}

int s3_config_init(struct s3_config *c, const char *url, const char *cred_file,
                   enum s3_addressing addressing, char *err, size_t err_size)
{
    memset(c, 0, sizeof *c);
    if (s3url_parse(url, &c->loc) < 0) {
        snprintf(err, err_size, "%s is not s3://BUCKET[/PREFIX] with a valid bucket name", url);
        return -EINVAL;
    }
    struct s3_credentials *k = &c->cred;
    copy_env(k->access_key, sizeof k->access_key, "AWS_ACCESS_KEY_ID");
    copy_env(k->secret_key, sizeof k->secret_key, "AWS_SECRET_ACCESS_KEY");
    copy_env(k->session_token, sizeof k->session_token, "AWS_SESSION_TOKEN");
    copy_env(k->region, sizeof k->region, "AWS_DEFAULT_REGION");
    copy_env(k->region, sizeof k->region, "AWS_REGION");
    copy_env(k->endpoint, sizeof k->endpoint, "AWS_ENDPOINT_URL");
    copy_env(k->endpoint, sizeof k->endpoint, "AWS_ENDPOINT_URL_S3");
    if (cred_file && *cred_file) {
        int r = s3url_read_credentials(cred_file, k);
        if (r < 0) {
            snprintf(err, err_size, "credentials file %s: %s", cred_file,
                     r == -EINVAL ? "a line is not key = value, or too long" : strerror(-r));
            return -EINVAL;
        }
    }
    if (!k->access_key[0] || !k->secret_key[0]) {
        snprintf(err, err_size, "no credentials: set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, or name a credentials file");
        return -EINVAL;
    }
    snprintf(c->region, sizeof c->region, "%s", k->region[0] ? k->region : "us-east-1");
    for (const char *p = c->region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
            snprintf(err, err_size, "region %s is not a region name", c->region);
            return -EINVAL;
        }
    char ep[1100];
    if (k->endpoint[0])
        snprintf(ep, sizeof ep, "%s", k->endpoint);
    else
        snprintf(ep, sizeof ep, "https://s3.%s.amazonaws.com", c->region);
    if (parse_endpoint(c, ep) < 0) {
        snprintf(err, err_size, "endpoint %s is not http(s)://HOST[:PORT]", ep);
        return -EINVAL;
    }
    c->path_style = addressing == S3_ADDRESSING_PATH ||
                    (addressing == S3_ADDRESSING_AUTO && k->endpoint[0]);
    if (!c->path_style && strchr(c->loc.bucket, '.') && strcmp(c->scheme, "https") == 0) {
        snprintf(err, err_size, "bucket %s has a '.': its virtual-host name does not match "
                 "the server's certificate; use path addressing", c->loc.bucket);
        return -EINVAL;
    }
    c->part_size = S3_DEFAULT_PART_SIZE;
    const char *ca = getenv("AWS_CA_BUNDLE");
    if (ca && *ca) {
        if (strlen(ca) >= sizeof c->ca_file) {
            snprintf(err, err_size, "AWS_CA_BUNDLE is too long");
            return -EINVAL;
        }
        if (access(ca, R_OK) < 0) {
            snprintf(err, err_size, "AWS_CA_BUNDLE=%.300s: %s", ca, strerror(errno));
            return -EINVAL;
        }
        memcpy(c->ca_file, ca, strlen(ca) + 1);
    }
    return 0;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result;

static void global_init_once(void)
{
    global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int s3_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_result == CURLE_OK ? 0 : -EIO;
}

/* ---- the client ---------------------------------------------------------- */

s3_client *s3_client_new(const struct s3_config *cfg)
{
    if (s3_global_init() < 0)
        return NULL;
    s3_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = cfg;
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return NULL;
    }
    buf_init(&c->resp, S3_MAX_RESPONSE);
    buf_init(&c->url, BUF_NO_CAP);
    c->fd = c->out_fd = -1;
    return c;
}

void s3_client_free(s3_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    buf_free(&c->resp);
    buf_free(&c->url);
    free(c);
}

void s3_client_set_cancel(s3_client *c, const atomic_bool *cancel)
{
    c->cancel = cancel;
}

const char *s3_client_error(const s3_client *c)
{
    return c->err;
}

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s3_client *c = arg;
    size_t want = size * nmemb;
    if (want > c->left)
        want = (size_t)c->left;
    if (want == 0)
        return 0;
    ssize_t n;
    do
        n = pread(c->fd, ptr, want, (off_t)c->off);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        /* The file shrank or cannot be read: abandon the request rather
         * than send a short body (curl would wait for the missing bytes). */
        c->out_errno = n < 0 ? errno : EIO;
        return CURL_READFUNC_ABORT;
    }
    c->off += (uint64_t)n;
    c->left -= (uint64_t)n;
    return (size_t)n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s3_client *c = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (c->out_fd >= 0 && status / 100 == 2) {
        for (size_t done = 0; done < n;) {
            ssize_t w = write(c->out_fd, ptr + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                c->out_errno = w < 0 ? errno : EIO;
                return 0;
            }
            done += (size_t)w;
        }
        return n;
    }
    /* Past the cap the rest of an answer is dropped: what we read from
     * answers (list pages, error words) comes first. */
    size_t room = c->resp.max - c->resp.len;
    if (buf_append(&c->resp, ptr, n < room ? n : room) < 0)
        return 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s3_client *c = arg;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0) {
        const char *v = ptr + 5;
        size_t len = n - 5;
        while (len > 0 && (*v == ' ' || *v == '\t' || *v == '"')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == '"' ||
                           v[len - 1] == ' '))
            len--;
        if (len < sizeof c->etag) {
            memcpy(c->etag, v, len);
            c->etag[len] = '\0';
        }
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    s3_client *c = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return c->cancel && atomic_load(c->cancel) ? 1 : 0;
}

/* The request's URL: the endpoint, the bucket (path or host), the encoded
 * key, and query (already canonical: sorted, encoded). */
static int build_url(s3_client *c, const char *key, const char *query)
{
    const struct s3_config *cfg = c->cfg;
    buf_reset(&c->url);
    int r = cfg->path_style
                ? buf_printf(&c->url, "%s://%s/%s/", cfg->scheme, cfg->host, cfg->loc.bucket)
                : buf_printf(&c->url, "%s://%s.%s/", cfg->scheme, cfg->loc.bucket, cfg->host);
    if (r == 0 && key)
        r = s3url_encode(&c->url, key, strlen(key), true);
    if (r == 0 && query && *query)
        r = buf_printf(&c->url, "?%s", query);
    return r;
}

/* The error words of an answer: S3's <Code> and <Message>. */
static void answer_error(s3_client *c, const char *what)
{
    const char *xml = (const char *)c->resp.data;
    size_t len = c->resp.len, pos = 0, pos2 = 0, cl = 0, ml = 0;
    const char *code = "", *msg = "";
    if (xml) {
        s3url_xml_next(xml, len, "Code", &pos, &code, &cl);
        s3url_xml_next(xml, len, "Message", &pos2, &msg, &ml);
    }
    snprintf(c->err, sizeof c->err, "%s: HTTP %ld %.*s%s%.*s", what, c->status, (int)cl, code,
             ml ? ": " : "", (int)(ml > 200 ? 200 : ml), msg);
}

static int status_errno(long status)
{
    if (status / 100 == 2)
        return 0;
    if (status == 403 || status == 401)
        return -EACCES;
    if (status == 404)
        return -ENOENT;
    if (status >= 500 || status == 429 || status == 408)
        return -EAGAIN;
    return -EPROTO;
}

static int curl_errno(CURLcode cr)
{
    switch (cr) {
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return -ECANCELED;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

/* A request body: none, bytes in memory, or len bytes of fd from off. */
struct body {
    const void *data;
    uint64_t len;
    int fd;
    uint64_t off;
    const char *sha256_hex;   /* its hash; NULL: the empty body's */
    const char *md5_b64;      /* Content-MD5; NULL: none */
    const char *content_type; /* NULL: none (curl's default for a POST) */
};

/* One signed request; the answer's body is in c->resp (or out_fd for a
 * 2xx when out_fd >= 0). Returns 0 for a 2xx, else -errno with c->err. */
static int request(s3_client *c, const char *method, const char *key, const char *query,
                   const struct body *b, int out_fd, const char *what)
{
    CURL *h = c->curl;
    const struct s3_config *cfg = c->cfg;
    c->err[0] = '\0';
    c->etag[0] = '\0';
    c->status = 0;
    c->out_errno = 0;
    c->out_fd = out_fd;
    buf_reset(&c->resp);
    int r = build_url(c, key, query);
    if (r < 0)
        return r;
    char sigv4[128], hdr[S3_MAX_CREDENTIAL + 64];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", cfg->region);
    struct curl_slist *hl = NULL, *t;
    snprintf(hdr, sizeof hdr, "x-amz-content-sha256: %s",
             b && b->sha256_hex ? b->sha256_hex : S3_EMPTY_SHA256);
    hl = curl_slist_append(hl, hdr);
    if (hl && b && b->md5_b64) {
        snprintf(hdr, sizeof hdr, "Content-MD5: %s", b->md5_b64);
        hl = (t = curl_slist_append(hl, hdr)) ? t : (curl_slist_free_all(hl), NULL);
    }
    if (hl && b && b->content_type) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", b->content_type);
        hl = (t = curl_slist_append(hl, hdr)) ? t : (curl_slist_free_all(hl), NULL);
    }
    if (hl && cfg->cred.session_token[0]) {
        snprintf(hdr, sizeof hdr, "x-amz-security-token: %s", cfg->cred.session_token);
        hl = (t = curl_slist_append(hl, hdr)) ? t : (curl_slist_free_all(hl), NULL);
    }
    if (!hl)
        return -ENOMEM;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, (const char *)c->url.data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, cfg->cred.access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->cred.secret_key);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, S3_LOW_SPEED);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, S3_LOW_SPEED_TIME);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tfeventsd/" TFEVENTS_VERSION);
    c->curl_err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    if (cfg->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    if (strcmp(method, "PUT") == 0) {
        c->fd = b ? b->fd : -1;
        c->off = b ? b->off : 0;
        c->left = b ? b->len : 0;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->left);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, b && b->data ? (const char *)b->data : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(b ? b->len : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cr = curl_easy_perform(h);
    curl_slist_free_all(hl);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    c->fd = -1;
    c->out_fd = -1;
    if (c->out_errno) {
        snprintf(c->err, sizeof c->err, "%s: %s", what, strerror(c->out_errno));
        return -c->out_errno;
    }
    if (cr != CURLE_OK) {
        /* libcurl's own words say which certificate problem, which host. */
        bool untrusted = cr == CURLE_PEER_FAILED_VERIFICATION;
        snprintf(c->err, sizeof c->err, "%s: %s%s%.200s%s", what, curl_easy_strerror(cr),
                 c->curl_err[0] ? ": " : "", c->curl_err,
                 untrusted ? (cfg->ca_file[0] ? " (not signed by a CA of AWS_CA_BUNDLE)"
                                              : " (AWS_CA_BUNDLE names a file of CA "
                                                "certificates to trust)")
                           : "");
        return curl_errno(cr);
    }
    r = status_errno(c->status);
    if (r < 0)
        answer_error(c, what);
    return r;
}

/* ---- uploads ------------------------------------------------------------- */

/* MD5 (raw and base64) and SHA-256 (hex) of len bytes of fd at off. */
struct hashes {
    uint8_t md5[MD5_DIGEST_SIZE];
    char md5_b64[32];
    char sha256_hex[2 * SHA256_DIGEST_SIZE + 1];
};

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[in[i] >> 4];
        out[2 * i + 1] = h[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hash_range(int fd, uint64_t off, uint64_t len, uint8_t *chunk, struct hashes *ret,
                      struct md5_ctx *whole)
{
    struct md5_ctx m;
    struct sha256_ctx s;
    md5_init(&m);
    sha256_init(&s);
    while (len > 0) {
        size_t want = len < S3_READ_CHUNK ? (size_t)len : S3_READ_CHUNK;
        ssize_t n = pread(fd, chunk, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ENODATA;   /* shorter than it was said to be */
        md5_update(&m, (size_t)n, chunk);
        if (whole)
            md5_update(whole, (size_t)n, chunk);
        sha256_update(&s, (size_t)n, chunk);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    uint8_t sd[SHA256_DIGEST_SIZE];
    md5_digest(&m, MD5_DIGEST_SIZE, ret->md5);
    sha256_digest(&s, SHA256_DIGEST_SIZE, sd);
    b64(ret->md5, MD5_DIGEST_SIZE, ret->md5_b64);
    hex(sd, sizeof sd, ret->sha256_hex);
    return 0;
}

static int put_part(s3_client *c, const char *key, const char *query, int fd, uint64_t off,
                    uint64_t len, uint8_t *chunk, struct hashes *h, struct md5_ctx *whole,
                    const char *what)
{
    int r = hash_range(fd, off, len, chunk, h, whole);
    if (r < 0) {
        snprintf(c->err, sizeof c->err, "%s: reading the file: %s", what, strerror(-r));
        return r;
    }
    struct body b = {.len = len, .fd = fd, .off = off, .sha256_hex = h->sha256_hex,
                     .md5_b64 = h->md5_b64, .content_type = "application/octet-stream"};
    return request(c, "PUT", key, query, &b, -1, what);
}

static int sha_of(const void *data, size_t len, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    struct sha256_ctx s;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&s);
    sha256_update(&s, len, data);
    sha256_digest(&s, sizeof d, d);
    hex(d, sizeof d, out);
    return 0;
}

/* POST with a small body held in memory. */
static int post(s3_client *c, const char *key, const char *query, const void *data, size_t len,
                const char *type, const char *what)
{
    char sha[2 * SHA256_DIGEST_SIZE + 1];
    sha_of(data, len, sha);
    struct body b = {.data = data, .len = len, .fd = -1, .sha256_hex = sha, .content_type = type};
    return request(c, "POST", key, query, &b, -1, what);
}

static int multipart(s3_client *c, const char *key, int fd, uint64_t size, uint8_t *chunk,
                     struct s3_put_result *ret)
{
    size_t part = c->cfg->part_size;
    uint64_t nparts = (size + part - 1) / part;
    if (nparts > S3_MAX_PARTS) {
        snprintf(c->err, sizeof c->err, "%s: %llu parts of %zu bytes, S3 allows %u", key,
                 (unsigned long long)nparts, part, S3_MAX_PARTS);
        return -EFBIG;
    }
    /* The object's type is the one given here. */
    int r = post(c, key, "uploads=", "", 0, "application/octet-stream",
                 "starting a multipart upload");
    if (r < 0)
        return r;
    char upload_id[1024];
    const char *v;
    size_t vl, pos = 0;
    if (!s3url_xml_next((const char *)c->resp.data, c->resp.len, "UploadId", &pos, &v, &vl) ||
        s3url_xml_text(upload_id, sizeof upload_id, v, vl) < 0) {
        snprintf(c->err, sizeof c->err, "starting a multipart upload: no UploadId in the answer");
        return -EBADMSG;
    }
    struct buf q, done, digests;
    struct md5_ctx whole;
    md5_init(&whole);
    buf_init(&q, BUF_NO_CAP);
    buf_init(&done, BUF_NO_CAP);
    buf_init(&digests, BUF_NO_CAP);
    r = buf_append_str(&done, "<CompleteMultipartUpload>");
    for (uint64_t i = 0; r == 0 && i < nparts; i++) {
        uint64_t off = i * part, len = size - off < part ? size - off : part;
        struct hashes h;
        buf_reset(&q);
        r = buf_printf(&q, "partNumber=%llu", (unsigned long long)i + 1);
        if (r == 0)
            r = query_add(&q, "uploadId", upload_id);
        if (r == 0)
            r = put_part(c, key, (const char *)q.data, fd, off, len, chunk, &h, &whole,
                         "uploading a part");
        if (r == 0)
            r = buf_append(&digests, h.md5, sizeof h.md5);
        if (r == 0)
            r = buf_printf(&done, "<Part><PartNumber>%llu</PartNumber><ETag>\"%s\"</ETag></Part>",
                           (unsigned long long)i + 1, c->etag);
    }
    if (r == 0)
        r = buf_append_str(&done, "</CompleteMultipartUpload>");
    buf_reset(&q);
    int r2 = query_add(&q, "uploadId", upload_id);
    if (r == 0 && r2 == 0) {
        r = post(c, key, (const char *)q.data, done.data, done.len, "application/xml",
                 "completing a multipart upload");
        /* S3 may answer 200 and still fail, with an <Error> document. */
        pos = 0;
        if (r == 0 && c->resp.data &&
            s3url_xml_next((const char *)c->resp.data, c->resp.len, "Code", &pos, &v, &vl)) {
            answer_error(c, "completing a multipart upload");
            r = -EAGAIN;
        }
        pos = 0;
        if (r == 0 && s3url_xml_next((const char *)c->resp.data, c->resp.len, "ETag", &pos,
                                     &v, &vl)) {
            char e[sizeof ret->etag];
            if (s3url_xml_text(e, sizeof e, v, vl) == 0) {
                size_t el = strlen(e);
                const char *s = e;
                if (el >= 2 && e[0] == '"' && e[el - 1] == '"') {
                    e[el - 1] = '\0';
                    s++;
                }
                snprintf(ret->etag, sizeof ret->etag, "%s", s);
            }
        }
    } else if (r == 0) {
        r = r2;
    }
    if (r < 0 && r2 == 0) {
        /* No parts left behind (they cost storage and never show). The
         * first failure's words are kept. */
        char keep[sizeof c->err];
        memcpy(keep, c->err, sizeof keep);
        request(c, "DELETE", key, (const char *)q.data, NULL, -1, "aborting a multipart upload");
        memcpy(c->err, keep, sizeof keep);
    } else if (r == 0) {
        struct md5_ctx m;
        uint8_t d[MD5_DIGEST_SIZE];
        char want[2 * MD5_DIGEST_SIZE + 16];
        md5_init(&m);
        md5_update(&m, digests.len, digests.data);
        md5_digest(&m, sizeof d, d);
        hex(d, sizeof d, want);
        snprintf(want + 2 * MD5_DIGEST_SIZE, 16, "-%llu", (unsigned long long)nparts);
        /* AWS (and most servers) answer the MD5 of the parts' MD5s with
         * "-N"; some (s3rver) the MD5 of the whole object. */
        char all[2 * MD5_DIGEST_SIZE + 1];
        md5_digest(&whole, sizeof d, d);
        hex(d, sizeof d, all);
        ret->verified = strcmp(want, ret->etag) == 0 || strcmp(all, ret->etag) == 0;
        ret->parts = (unsigned)nparts;
    }
    buf_free(&q);
    buf_free(&done);
    buf_free(&digests);
    return r;
}

int s3_put_file(s3_client *c, const char *key, int fd, uint64_t size, struct s3_put_result *ret)
{
    memset(ret, 0, sizeof *ret);
    uint8_t *chunk = malloc(S3_READ_CHUNK);
    if (!chunk)
        return -ENOMEM;
    int r;
    if (size > c->cfg->part_size) {
        r = multipart(c, key, fd, size, chunk, ret);
    } else {
        struct hashes h;
        r = put_part(c, key, NULL, fd, 0, size, chunk, &h, NULL, "uploading");
        if (r == 0) {
            char want[2 * MD5_DIGEST_SIZE + 1];
            hex(h.md5, sizeof h.md5, want);
            snprintf(ret->etag, sizeof ret->etag, "%s", c->etag);
            ret->verified = strcmp(want, c->etag) == 0;
        }
    }
    free(chunk);
    return r;
}

int s3_get_file(s3_client *c, const char *key, int fd)
{
    return request(c, "GET", key, NULL, NULL, fd, "downloading");
}

/* One ListObjectsV2 page's objects to cb; the continuation token (or "")
 * to token. */
static int list_page(s3_client *c, int (*cb)(void *, const char *, uint64_t), void *arg,
                     char *token, size_t token_size)
{
    const char *xml = (const char *)c->resp.data;
    size_t len = c->resp.len, pos = 0, vl, cl;
    const char *v, *cont;
    if (!xml)
        return -EBADMSG;
    while (s3url_xml_next(xml, len, "Contents", &pos, &cont, &cl)) {
        size_t p2 = 0, p3 = 0;
        char key[S3_MAX_KEY + 1], sz[32];
        if (!s3url_xml_next(cont, cl, "Key", &p2, &v, &vl) ||
            s3url_xml_text(key, sizeof key, v, vl) < 0)
            return -EBADMSG;
        if (!s3url_xml_next(cont, cl, "Size", &p3, &v, &vl) || vl == 0 || vl >= sizeof sz)
            return -EBADMSG;
        memcpy(sz, v, vl);
        sz[vl] = '\0';
        char *end;
        unsigned long long size = strtoull(sz, &end, 10);
        if (*end)
            return -EBADMSG;
        int r = cb(arg, key, size);
        if (r < 0)
            return r;
    }
    token[0] = '\0';
    pos = 0;
    bool truncated = s3url_xml_next(xml, len, "IsTruncated", &pos, &v, &vl) && vl == 4 &&
                     memcmp(v, "true", 4) == 0;
    pos = 0;
    if (truncated && (!s3url_xml_next(xml, len, "NextContinuationToken", &pos, &v, &vl) ||
                      s3url_xml_text(token, token_size, v, vl) < 0 || !token[0]))
        return -EBADMSG;
    return 0;
}

int s3_list(s3_client *c, const char *prefix,
            int (*cb)(void *arg, const char *key, uint64_t size), void *arg)
{
    char token[2048] = "";
    struct buf q;
    buf_init(&q, BUF_NO_CAP);
    int r;
    do {
        buf_reset(&q);
        r = token[0] ? query_add(&q, "continuation-token", token) : 0;
        r = r ? r : query_add(&q, "list-type", "2");
        r = r ? r : query_add(&q, "prefix", prefix);
        r = r ? r : request(c, "GET", NULL, (const char *)q.data, NULL, -1, "listing");
        if (r == 0) {
            r = list_page(c, cb, arg, token, sizeof token);
            if (r == -EBADMSG)
                snprintf(c->err, sizeof c->err, "listing: an answer that is not a "
                         "ListObjectsV2 page");
        }
    } while (r == 0 && token[0]);
    buf_free(&q);
    return r;
}

/* ---- incomplete multipart uploads ---------------------------------------- */

/* One ListMultipartUploads page's uploads to cb; the next markers (or "")
 * to key_marker and id_marker. */
static int multipart_page(s3_client *c, int (*cb)(void *, const char *, const char *),
                          void *arg, char *key_marker, char *id_marker)
{
    const char *xml = (const char *)c->resp.data;
    size_t len = c->resp.len, pos = 0, vl, ul;
    const char *v, *up;
    if (!xml)
        return -EBADMSG;
    while (s3url_xml_next(xml, len, "Upload", &pos, &up, &ul)) {
        size_t p2 = 0, p3 = 0;
        char key[S3_MAX_KEY + 1], id[1024];
        if (!s3url_xml_next(up, ul, "Key", &p2, &v, &vl) ||
            s3url_xml_text(key, sizeof key, v, vl) < 0 ||
            !s3url_xml_next(up, ul, "UploadId", &p3, &v, &vl) ||
            s3url_xml_text(id, sizeof id, v, vl) < 0)
            return -EBADMSG;
        int r = cb(arg, key, id);
        if (r < 0)
            return r;
    }
    key_marker[0] = id_marker[0] = '\0';
    pos = 0;
    if (!(s3url_xml_next(xml, len, "IsTruncated", &pos, &v, &vl) && vl == 4 &&
          memcmp(v, "true", 4) == 0))
        return 0;
    size_t p2 = 0;
    pos = 0;
    if (!s3url_xml_next(xml, len, "NextKeyMarker", &pos, &v, &vl) ||
        s3url_xml_text(key_marker, S3_MAX_KEY + 1, v, vl) < 0 || !key_marker[0])
        return -EBADMSG;
    if (s3url_xml_next(xml, len, "NextUploadIdMarker", &p2, &v, &vl) &&
        s3url_xml_text(id_marker, 1024, v, vl) < 0)
        return -EBADMSG;
    return 0;
}

int s3_list_multipart(s3_client *c, const char *prefix,
                      int (*cb)(void *arg, const char *key, const char *upload_id),
                      void *arg)
{
    char key_marker[S3_MAX_KEY + 1] = "", id_marker[1024] = "";
    char prev_key[S3_MAX_KEY + 1], prev_id[1024];
    struct buf q;
    buf_init(&q, BUF_NO_CAP);
    int r;
    do {
        buf_reset(&q);
        r = key_marker[0] ? query_add(&q, "key-marker", key_marker) : 0;
        r = r ? r : query_add(&q, "prefix", prefix);
        if (id_marker[0])
            r = r ? r : query_add(&q, "upload-id-marker", id_marker);
        r = r ? r : query_add(&q, "uploads", "");
        r = r ? r : request(c, "GET", NULL, (const char *)q.data, NULL, -1,
                            "listing multipart uploads");
        if ((r == -EPROTO || r == -EAGAIN) && (c->status == 501 || c->status == 405))
            r = -EOPNOTSUPP;
        if (r == 0) {
            memcpy(prev_key, key_marker, sizeof prev_key);
            memcpy(prev_id, id_marker, sizeof prev_id);
            r = multipart_page(c, cb, arg, key_marker, id_marker);
            /* A server repeating its markers would keep us here forever. */
            if (r == 0 && key_marker[0] && strcmp(prev_key, key_marker) == 0 &&
                strcmp(prev_id, id_marker) == 0)
                r = -EBADMSG;
            if (r == -EBADMSG)
                snprintf(c->err, sizeof c->err, "listing multipart uploads: an answer that "
                         "is not a ListMultipartUploads page");
        }
    } while (r == 0 && key_marker[0]);
    buf_free(&q);
    return r;
}

int s3_abort_multipart(s3_client *c, const char *key, const char *upload_id)
{
    struct buf q;
    buf_init(&q, BUF_NO_CAP);
    int r = query_add(&q, "uploadId", upload_id);
    r = r ? r : request(c, "DELETE", key, (const char *)q.data, NULL, -1,
                        "aborting a multipart upload");
    if (r == -ENOENT)
        r = 0;   /* NoSuchUpload: gone already */
    else if ((r == -EPROTO || r == -EAGAIN) && (c->status == 501 || c->status == 405))
        r = -EOPNOTSUPP;
    buf_free(&q);
    return r;
}
