#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "s3.h"
#include "upload_journal.h"

struct item {
    char *rel;
    unsigned failures;       /* in a row */
    struct item *next;
};

struct uploader {
    struct s3_config s3;
    char root[4096];
    size_t root_len;
    bool delete_after;
    struct upload_journal *journal;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* queue changed, stop asked, an upload ended */
    /* Under lock: */
    struct item *head, *tail;
    bool busy;               /* the thread is uploading an item */
    bool stop;
    double resume_at;        /* monotonic seconds: backoff until then */
    unsigned failures;       /* consecutive failed tries */
    uint64_t queued_files;   /* in the queue, or being uploaded */
    uint64_t files, bytes, errors, deleted, unverified, multipart;
    uint64_t aborted;        /* stale multipart uploads of ours aborted */
    bool stale_done;         /* the stale uploads were looked at (thread only) */
    double seconds;          /* spent in successful uploads */
    char last_error[512];
    atomic_bool cancel;      /* abandon the running request (exit) */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Under lock. Takes ownership of rel. */
static void push(struct uploader *u, char *rel, bool front, unsigned failures)
{
    struct item *it = calloc(1, sizeof *it);
    if (!it) {
        log_error("upload: out of memory queueing %s; it is uploaded after a restart", rel);
        free(rel);
        return;
    }
    it->rel = rel;
    it->failures = failures;
    if (front) {
        it->next = u->head;
        u->head = it;
        if (!u->tail)
            u->tail = it;
    } else {
        if (u->tail)
            u->tail->next = it;
        else
            u->head = it;
        u->tail = it;
    }
}

static struct item *pop(struct uploader *u)
{
    struct item *it = u->head;
    u->head = it->next;
    if (!u->head)
        u->tail = NULL;
    it->next = NULL;
    return it;
}

void uploader_file_closed(void *arg, const char *path)
{
    struct uploader *u = arg;
    if (strncmp(path, u->root, u->root_len) != 0 || path[u->root_len] != '/') {
        log_warn("upload: %s is not under the root %s; not uploaded", path, u->root);
        return;
    }
    char *rel = strdup(path + u->root_len + 1);
    if (!rel) {
        log_error("upload: out of memory queueing %s; it is uploaded after a restart", path);
        return;
    }
    pthread_mutex_lock(&u->lock);
    push(u, rel, false, 0);
    u->queued_files++;
    pthread_cond_broadcast(&u->cond);
    pthread_mutex_unlock(&u->lock);
}

/* Upload one file (uploader thread, no lock held). 0, 1 when the file is
 * gone (nothing to do), or -errno with the reason in err. */
static int upload_one(struct uploader *u, s3_client *c, const char *rel, uint64_t *ret_size,
                      struct s3_put_result *res, char *err, size_t err_size)
{
    char path[8192], key[S3_MAX_KEY + 1];
    snprintf(path, sizeof path, "%s/%s", u->root, rel);
    int r = s3url_key(key, sizeof key, u->s3.loc.prefix, rel);
    if (r < 0) {
        snprintf(err, err_size, "%s: the object key would be longer than %d bytes", rel,
                 S3_MAX_KEY);
        return r;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0) {
        r = -errno;
        snprintf(err, err_size, "%.400s: %s", path, strerror(errno));
        return r;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        snprintf(err, err_size, "%.400s: %s", path, strerror(-r));
        return r;
    }
    *ret_size = (uint64_t)st.st_size;
    r = s3_put_file(c, key, fd, (uint64_t)st.st_size, res);
    close(fd);
    if (r < 0)
        snprintf(err, err_size, "s3://%s/%.200s: %.480s", u->s3.loc.bucket, key, s3_client_error(c));
    return r;
}

/* After a successful upload (no lock held): journal, or delete. */
static void finish(struct uploader *u, const char *rel, uint64_t size,
                   const struct s3_put_result *res, bool *ret_deleted)
{
    *ret_deleted = false;
    if (u->delete_after && res->verified) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", u->root, rel);
        if (unlink(path) == 0) {
            *ret_deleted = true;
            return;
        }
        log_warn("upload: removing %s after its upload: %s", path, strerror(errno));
    }
    int r = upload_journal_add(u->journal, rel, size);
    if (r < 0)
        log_warn("upload: recording %s as uploaded: %s (it is uploaded again after a "
                 "restart)", rel, strerror(-r));
}

static double backoff(unsigned failures)
{
    double s = 1.0;
    for (unsigned i = 1; i < failures && s < UPLOAD_MAX_BACKOFF_S; i++)
        s *= 2;
    return s < UPLOAD_MAX_BACKOFF_S ? s : UPLOAD_MAX_BACKOFF_S;
}

static void wait_until(struct uploader *u, double when)
{
    double left = when - mono_now();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + left;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    pthread_cond_timedwait(&u->cond, &u->lock, &ts);
}

/* Incomplete multipart uploads found under the prefix. */
struct stale {
    struct uploader *u;
    char (*keys)[S3_MAX_KEY + 1];
    char **ids;
    size_t n;
    size_t others;           /* not ours: left alone */
};

static int stale_add(void *arg, const char *key, const char *upload_id)
{
    struct stale *st = arg;
    struct uploader *u = st->u;
    size_t pl = strlen(u->s3.loc.prefix);
    const char *rel = key;
    if (pl) {
        if (strncmp(key, u->s3.loc.prefix, pl) != 0 || key[pl] != '/')
            return 0;
        rel = key + pl + 1;
    }
    /* Ours when it names an event file under the root (a regular file,
     * not reached through "..": keys are the server's words). */
    char path[8192];
    struct stat sb;
    const char *base = strrchr(rel, '/');
    if (!strstr(base ? base + 1 : rel, "tfevents") || strstr(rel, "..") ||
        (size_t)snprintf(path, sizeof path, "%s/%s", u->root, rel) >= sizeof path ||
        lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        st->others++;
        return 0;
    }
    if (st->n >= UPLOAD_MAX_STALE)
        return 0;
    char *id = strdup(upload_id);
    if (!id)
        return -ENOMEM;
    snprintf(st->keys[st->n], sizeof st->keys[st->n], "%s", key);
    st->ids[st->n++] = id;
    return 0;
}

/* Abort the incomplete multipart uploads of our files (upload.h). Thread
 * only, no lock held. 0 when done (or impossible: said once), else -errno
 * to try again before the next upload. */
static int abort_stale(struct uploader *u, s3_client *c)
{
    struct stale st = {.u = u};
    st.keys = malloc(UPLOAD_MAX_STALE * sizeof *st.keys);
    st.ids = calloc(UPLOAD_MAX_STALE, sizeof *st.ids);
    int r = st.keys && st.ids ? 0 : -ENOMEM;
    char prefix[S3_MAX_KEY + 2];
    snprintf(prefix, sizeof prefix, "%s%s", u->s3.loc.prefix, u->s3.loc.prefix[0] ? "/" : "");
    /* The listing first, the aborts after: a request reuses the answer's
     * buffer the listing is parsed from. */
    if (r == 0)
        r = s3_list_multipart(c, prefix, stale_add, &st);
    size_t done = 0;
    for (size_t i = 0; r == 0 && i < st.n; i++) {
        r = s3_abort_multipart(c, st.keys[i], st.ids[i]);
        if (r == 0) {
            done++;
            log_info("upload: aborted the incomplete multipart upload of s3://%s/%s, left by "
                     "an earlier run", u->s3.loc.bucket, st.keys[i]);
        }
    }
    if (r == -EOPNOTSUPP || r == -EACCES) {
        log_warn("upload: incomplete multipart uploads under s3://%s/%s cannot be %s (%s); "
                 "parts left by a kill stay until a lifecycle rule removes them "
                 "(AbortIncompleteMultipartUpload)", u->s3.loc.bucket, prefix,
                 st.n ? "aborted" : "listed", s3_client_error(c));
        r = 0;
    } else if (r < 0 && r != -ECANCELED) {
        log_warn("upload: looking for incomplete multipart uploads: %s (tried again before "
                 "the next upload)", r == -ENOMEM ? "out of memory" : s3_client_error(c));
    } else if (r == 0 && st.others)
        log_debug("upload: %zu incomplete multipart uploads under the prefix are not of this "
                  "node's files; left alone", st.others);
    for (size_t i = 0; st.ids && i < st.n; i++)
        free(st.ids[i]);
    free(st.keys);
    free(st.ids);
    pthread_mutex_lock(&u->lock);
    u->aborted += done;
    pthread_mutex_unlock(&u->lock);
    return r;
}

static void *thread_main(void *arg)
{
    struct uploader *u = arg;
    s3_client *c = s3_client_new(&u->s3);
    if (!c) {
        log_error("upload: out of memory for the S3 client; nothing is uploaded");
        return NULL;
    }
    s3_client_set_cancel(c, &u->cancel);
    /* Parts a kill left behind, first (upload.h). */
    u->stale_done = abort_stale(u, c) == 0;
    pthread_mutex_lock(&u->lock);
    while (!u->stop) {
        if (!u->head) {
            pthread_cond_wait(&u->cond, &u->lock);
            continue;
        }
        if (mono_now() < u->resume_at) {
            wait_until(u, u->resume_at);
            continue;
        }
        if (!u->stale_done) {
            pthread_mutex_unlock(&u->lock);
            u->stale_done = abort_stale(u, c) == 0;
            pthread_mutex_lock(&u->lock);
            if (u->stop)
                break;
        }
        struct item *it = pop(u);
        u->busy = true;
        pthread_mutex_unlock(&u->lock);

        char err[768] = "";
        uint64_t size = 0;
        struct s3_put_result res;
        double t0 = mono_now();
        int r = upload_one(u, c, it->rel, &size, &res, err, sizeof err);
        double took = mono_now() - t0;
        bool deleted = false;
        if (r == 0)
            finish(u, it->rel, size, &res, &deleted);
        if (r == 0 && !res.verified)
            log_warn("upload: %s: the server's ETag %s is not the MD5 of what was sent "
                     "(encrypted bucket?); the local file is kept", it->rel, res.etag);

        pthread_mutex_lock(&u->lock);
        u->busy = false;
        if (r >= 0) {
            u->queued_files--;
            u->failures = 0;
            u->resume_at = 0;
            if (r == 0) {
                u->files++;
                u->bytes += size;
                u->seconds += took;
                u->deleted += deleted;
                u->unverified += !res.verified;
                u->multipart += res.parts > 0;
            }
            free(it->rel);
            free(it);
        } else {
            if (r != -ECANCELED) {
                u->errors++;
                u->failures++;
                u->resume_at = mono_now() + backoff(u->failures);
                snprintf(u->last_error, sizeof u->last_error, "%s", err);
                log_warn("upload: %s (try %u; next in %.0f s)", err, it->failures + 1,
                         backoff(u->failures));
            }
            it->failures++;
            /* In order, unless this one keeps failing on its own. */
            push(u, it->rel, it->failures % UPLOAD_REQUEUE_AFTER != 0, it->failures);
            free(it);
        }
        pthread_cond_broadcast(&u->cond);
    }
    pthread_mutex_unlock(&u->lock);
    s3_client_free(c);
    return NULL;
}

static void free_queue(struct uploader *u)
{
    while (u->head) {
        struct item *it = pop(u);
        free(it->rel);
        free(it);
    }
}

static int setup(struct uploader *u, const struct config *cfg)
{
    char err[512];
    int r = s3_config_init(&u->s3, cfg->upload_url, cfg->upload_credentials,
                           (enum s3_addressing)cfg->upload_addressing, err, sizeof err);
    if (r < 0) {
        log_error("upload: %s", err);
        return r;
    }
    u->s3.part_size = cfg->upload_part_size;
    /* A file past S3_MAX_PARTS parts could never be uploaded: say so now
     * rather than fail each try. (Without --upload-size only
     * --upload-interval bounds a file; such a file is refused when met.) */
    uint64_t need = ((uint64_t)cfg->upload_size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
    if (need > u->s3.part_size) {
        log_error("upload: --upload-size %" PRIu64 " would need more than %u parts of "
                  "--upload-part-size %zu; raise --upload-part-size to %" PRIu64 "M or more",
                  (uint64_t)cfg->upload_size, S3_MAX_PARTS, u->s3.part_size,
                  (need + (1u << 20) - 1) >> 20);
        return -EINVAL;
    }
    snprintf(u->root, sizeof u->root, "%s", cfg->root);
    u->root_len = strlen(u->root);
    while (u->root_len > 1 && u->root[u->root_len - 1] == '/')
        u->root[--u->root_len] = '\0';
    u->delete_after = cfg->upload_delete;
    char state[8192];
    if (cfg->upload_state[0])
        snprintf(state, sizeof state, "%s", cfg->upload_state);
    else
        snprintf(state, sizeof state, "%s/.upload-journal", u->root);
    /* The journal's destination line: where the files went. */
    char dest[4096 + 2048];
    snprintf(dest, sizeof dest, "%s://%s s3://%s/%s", u->s3.scheme, u->s3.host,
             u->s3.loc.bucket, u->s3.loc.prefix);
    struct upload_file *todo = NULL;
    size_t n = 0;
    bool truncated = false;
    r = upload_journal_open(&u->journal, state, dest, u->root, &todo, &n, &truncated);
    if (r < 0) {
        log_error("upload: the journal %s: %s", state, strerror(-r));
        return r;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += todo[i].size;
        push(u, todo[i].rel, false, 0);
        u->queued_files++;
    }
    free(todo);
    if (truncated)
        log_warn("upload: more than %u files wait; the rest is queued at the next start",
                 UPLOAD_JOURNAL_MAX_FILES);
    log_info("upload: closed event files go to s3://%s%s%s (%s %s, %s addressing); %zu files "
             "(%" PRIu64 " bytes) wait from before", u->s3.loc.bucket, u->s3.loc.prefix[0] ? "/" : "",
             u->s3.loc.prefix, u->s3.scheme, u->s3.host, u->s3.path_style ? "path" : "virtual-host",
             n, bytes);
    return 0;
}

int uploader_new(struct uploader **ret, const struct config *cfg)
{
    if (s3_global_init() < 0) {
        log_error("upload: libcurl could not be initialised");
        return -EIO;
    }
    struct uploader *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->cond, NULL);
    atomic_init(&u->cancel, false);
    int r = setup(u, cfg);
    if (r == 0) {
        r = -pthread_create(&u->thread, NULL, thread_main, u);
        if (r < 0)
            log_error("upload: starting the upload thread: %s", strerror(-r));
        u->thread_started = r == 0;
    }
    if (r < 0) {
        uploader_free(u, 0);
        return r;
    }
    *ret = u;
    return 0;
}

int uploader_stats_json(struct uploader *u, struct buf *out)
{
    pthread_mutex_lock(&u->lock);
    double wait = u->resume_at - mono_now();
    int r = buf_printf(out,
                       ",\"upload_queued_files\":%" PRIu64 ",\"upload_files\":%" PRIu64
                       ",\"upload_bytes\":%" PRIu64 ",\"upload_errors\":%" PRIu64
                       ",\"upload_deleted\":%" PRIu64 ",\"upload_unverified\":%" PRIu64
                       ",\"upload_multipart\":%" PRIu64 ",\"upload_seconds\":%.3f"
                       ",\"upload_backoff_seconds\":%.1f,\"upload_aborted_multipart\":%" PRIu64
                       ",\"upload_last_error\":\"",
                       u->queued_files, u->files, u->bytes, u->errors, u->deleted,
                       u->unverified, u->multipart, u->seconds, wait > 0 ? wait : 0.0,
                       u->aborted);
    /* A JSON string: the error's words with quotes, backslashes and
     * control bytes escaped. */
    for (const char *p = u->last_error; r == 0 && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\')
            r = buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            r = buf_printf(out, "\\u%04x", ch);
        else
            r = buf_append(out, p, 1);
    }
    if (r == 0)
        r = buf_append_str(out, "\"");
    pthread_mutex_unlock(&u->lock);
    return r;
}

void uploader_free(struct uploader *u, double wait_s)
{
    if (!u)
        return;
    if (u->thread_started) {
        pthread_mutex_lock(&u->lock);
        double until = mono_now() + wait_s;
        while ((u->head || u->busy) && mono_now() < until)
            wait_until(u, until);
        uint64_t left = u->queued_files;
        u->stop = true;
        atomic_store(&u->cancel, true);
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->lock);
        pthread_join(u->thread, NULL);
        if (left > 0)
            log_warn("upload: %" PRIu64 " files are not uploaded yet; they are at the next "
                     "start", left);
        else
            log_info("upload: every closed event file is uploaded");
    }
    free_queue(u);
    upload_journal_close(u->journal);
    pthread_cond_destroy(&u->cond);
    pthread_mutex_destroy(&u->lock);
    free(u);
}
