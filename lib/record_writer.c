#include "record_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "record.h"

/* Longest host name part we put into a file name; the rest is cut so that
 * the whole name stays far below NAME_MAX. */
#define HOST_PART_MAX 64

/* How many taken names we skip before giving up with -EEXIST. Only another
 * process writing names with our pid (a recycled pid, a copied directory)
 * can make a name exist, so a few steps always suffice in practice. */
#define NAME_ATTEMPTS 1000

#define FILE_NAME_MAX 256

struct record_writer {
    int dirfd;             /* owned duplicate of the directory */
    int fd;                /* the current file */
    char *dir_display;     /* owned */
    char *suffix;          /* owned; NULL for none */
    char *path;            /* owned: dir_display/name */
    char name[FILE_NAME_MAX];
    long long name_secs;   /* the seconds in name, to keep rotated names in order */
    struct buf pending;    /* whole framed records not yet written */
    size_t buffer_size;
    bool fsync;
    bool dirty_tail;       /* a cut-back failed: the file may end in a partial record */
    uint64_t file_size;    /* bytes of whole records in the file */
    uint64_t records;
};

/* Process-wide, so that every writer in this process gets its own name
 * even within one second. */
static atomic_ullong name_seq;

static inline uint64_t get_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);   /* one load: gcc does not merge the loop below */
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

/* Length of the longest run of whole records at the start of data that
 * fits in limit bytes. data holds only whole framed records, so walking
 * the length fields is enough. */
static size_t whole_prefix(const uint8_t *data, size_t len, size_t limit,
                           uint64_t *ret_count)
{
    size_t pos = 0;
    uint64_t count = 0;
    while (len - pos >= RECORD_OVERHEAD) {
        uint64_t plen = get_le64(data + pos);
        if (plen > len - pos - RECORD_OVERHEAD || plen + RECORD_OVERHEAD > limit - pos)
            break;
        pos += (size_t)plen + RECORD_OVERHEAD;
        count++;
    }
    if (ret_count)
        *ret_count = count;
    return pos;
}

/* Host names may hold anything a file name should not ('/', spaces,
 * control bytes); keep the portable file name characters only. */
static void host_part(char *out, size_t out_size)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    size_t n = 0;
    for (const char *p = host; *p && n + 1 < out_size && n < HOST_PART_MAX; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        out[n++] = ok ? c : '_';
    }
    if (n == 0 && out_size > 9) {
        memcpy(out, "localhost", 9);
        n = 9;
    }
    out[n] = '\0';
}

static int valid_suffix(const char *suffix)
{
    if (!suffix)
        return 0;
    if (strlen(suffix) > 64 || strchr(suffix, '/'))
        return -EINVAL;
    return 0;
}

static int file_name_secs(char *out, size_t out_size, long long secs, const char *suffix)
{
    if (secs < 0 || secs > 9999999999LL)
        return -EINVAL;
    int r = valid_suffix(suffix);
    if (r < 0)
        return r;
    char host[HOST_PART_MAX + 1];
    host_part(host, sizeof host);
    unsigned long long seq = atomic_fetch_add(&name_seq, 1);
    int n = snprintf(out, out_size, "events.out.tfevents.%010lld.%s.%ld.%llu%s",
                     secs, host, (long)getpid(), seq, suffix ? suffix : "");
    if (n < 0 || (size_t)n >= out_size)
        return -ENAMETOOLONG;
    return 0;
}

int record_writer_file_name(char *out, size_t out_size, double wall_time,
                            const char *suffix)
{
    if (!(wall_time >= 0) || wall_time >= 1e10)
        return -EINVAL;
    return file_name_secs(out, out_size, (long long)floor(wall_time), suffix);
}

/* Write out every pending record. On failure the file is cut back to the
 * last whole record written, the records written whole are dropped from
 * the buffer and the rest stays for the next call. */
static int write_pending(record_writer *w)
{
    if (w->dirty_tail) {
        if (ftruncate(w->fd, (off_t)w->file_size) < 0)
            return -errno;
        w->dirty_tail = false;
    }
    size_t len = w->pending.len, off = 0;
    if (len == 0)
        return 0;
    const uint8_t *data = w->pending.data;
    int err = 0;
    while (off < len) {
        ssize_t n = write(w->fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = -errno;
            break;
        }
        if (n == 0) {
            err = -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (err == 0) {
        w->file_size += len;
        buf_reset(&w->pending);
        if (w->fsync && fsync(w->fd) < 0)
            return -errno;
        return 0;
    }
    size_t keep = whole_prefix(data, len, off, NULL);
    if (off > keep && ftruncate(w->fd, (off_t)(w->file_size + keep)) < 0)
        w->dirty_tail = true;
    w->file_size += keep;
    buf_consume(&w->pending, keep);
    return err;
}

/* The name every new file must sort after: the greatest existing
 * "events.out.tfevents.*" name in the directory (and our own previous
 * one). TensorBoard reads a run's files in name order and never goes back,
 * so a file that sorted before an older one -- another writer of this run
 * earlier in the same second, whose decimal sequence number or pid happens
 * to sort higher -- would be read out of order. Names of other shapes are
 * left out: no name of ours can be made to sort after them. Fills out
 * (empty when there is none); errors listing the directory are ignored, as
 * O_EXCL still guarantees that nothing is overwritten. */
static void name_floor(const record_writer *w, char *out, size_t size)
{
    static const char prefix[] = "events.out.tfevents.";
    snprintf(out, size, "%s", w->name);
    int fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) == 0 &&
            strlen(e->d_name) < size && strcmp(e->d_name, out) > 0)
            snprintf(out, size, "%s", e->d_name);
    }
    closedir(d);
}

/* The seconds field of a name of ours (or 0). */
static long long name_seconds(const char *name)
{
    static const char prefix[] = "events.out.tfevents.";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    long long secs = 0;
    const char *p = name + sizeof prefix - 1;
    for (int i = 0; i < 10; i++, p++) {
        if (*p < '0' || *p > '9')
            return 0;
        secs = secs * 10 + (*p - '0');
    }
    return secs;
}

/* Create the next file and write its file_version record. On failure
 * nothing of the new file is left and w still refers to its old file. */
static int start_file(record_writer *w, double wall_time, long long min_secs)
{
    char name[FILE_NAME_MAX];
    struct buf first;
    int fd = -1, r;
    char *path = NULL;

    buf_init(&first, BUF_NO_CAP);
    long long secs = (long long)floor(wall_time);
    if (secs < min_secs)
        secs = min_secs;
    char floor_name[FILE_NAME_MAX];
    name_floor(w, floor_name, sizeof floor_name);

    for (int attempt = 0;; attempt++) {
        if (attempt == NAME_ATTEMPTS) {
            r = -EEXIST;
            goto fail;
        }
        r = file_name_secs(name, sizeof name, secs, w->suffix);
        if (r < 0)
            goto fail;
        /* A new file must sort after every file of the run before it
         * (see name_floor()). The rest of a name does not sort reliably
         * ("...9" > "...10"), so move on to a later second instead. */
        if (floor_name[0] && strcmp(name, floor_name) <= 0) {
            long long floor_secs = name_seconds(floor_name);
            long long next = floor_secs >= secs ? floor_secs + 1 : secs + 1;
            if (next > 9999999999LL) {
                /* A name from the far future (a broken clock, a crafted
                 * file) cannot be followed: writing beats refusing. */
                floor_name[0] = '\0';
                continue;
            }
            secs = next;
            continue;
        }
        /* 0666 like any file a user creates: the umask decides. O_EXCL
         * never reuses (and so never truncates) an existing file. */
        fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                    0666);
        if (fd >= 0)
            break;
        if (errno != EEXIST && errno != EINTR) {
            r = -errno;
            goto fail;
        }
    }

    if (asprintf(&path, "%s/%s", w->dir_display, name) < 0) {
        path = NULL;
        r = -ENOMEM;
        goto fail_unlink;
    }
    r = event_encode_file_version(&first, wall_time, RECORD_WRITER_FILE_VERSION);
    if (r < 0)
        goto fail_unlink;

    /* Write the first record now, so that the file is never seen without
     * it. The pending buffer is empty here (callers flush first). */
    int old_fd = w->fd;
    uint64_t old_size = w->file_size, old_records = w->records;
    bool old_dirty = w->dirty_tail;
    w->fd = fd;
    w->file_size = 0;
    w->dirty_tail = false;
    r = record_frame(&w->pending, first.data, first.len);
    if (r == 0)
        r = write_pending(w);
    if (r == 0 && w->fsync && fsync(w->dirfd) < 0)
        r = -errno;
    if (r < 0) {
        buf_reset(&w->pending);
        w->fd = old_fd;
        w->file_size = old_size;
        w->records = old_records;
        w->dirty_tail = old_dirty;
        goto fail_unlink;
    }
    if (old_fd >= 0)
        close(old_fd);
    w->records = 1;
    free(w->path);
    w->path = path;
    memcpy(w->name, name, sizeof name);
    w->name_secs = secs;
    buf_free(&first);
    return 0;

fail_unlink:
    close(fd);
    unlinkat(w->dirfd, name, 0);
fail:
    free(path);
    buf_free(&first);
    return r;
}

int record_writer_openat(record_writer **ret, int dirfd, const char *dir_display,
                         const struct record_writer_options *opts)
{
    struct record_writer_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (valid_suffix(opts->suffix) < 0 || opts->buffer_size > RECORD_WRITER_MAX_BUFFER ||
        !(opts->wall_time >= 0))
        return -EINVAL;

    record_writer *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int r;
    w->fd = -1;
    w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    buf_init(&w->pending, RECORD_WRITER_MAX_PENDING);
    if (w->dirfd < 0) {
        r = -errno;
        goto fail;
    }
    w->dir_display = strdup(dir_display ? dir_display : ".");
    if (opts->suffix && *opts->suffix)
        w->suffix = strdup(opts->suffix);
    if (!w->dir_display || (opts->suffix && *opts->suffix && !w->suffix)) {
        r = -ENOMEM;
        goto fail;
    }
    w->buffer_size = opts->buffer_size ? opts->buffer_size : RECORD_WRITER_DEFAULT_BUFFER;
    w->fsync = opts->fsync;
    r = start_file(w, opts->wall_time > 0 ? opts->wall_time : event_now(), 0);
    if (r < 0)
        goto fail;
    *ret = w;
    return 0;

fail:
    if (w->dirfd >= 0)
        close(w->dirfd);
    buf_free(&w->pending);
    free(w->dir_display);
    free(w->suffix);
    free(w);
    return r;
}

int record_writer_open(record_writer **ret, const char *dir,
                       const struct record_writer_options *opts)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    int r = record_writer_openat(ret, dirfd, dir, opts);
    close(dirfd);
    return r;
}

int record_writer_append(record_writer *w, const void *payload, size_t len)
{
    if ((uint64_t)len > RECORD_MAX_PAYLOAD)
        return -EMSGSIZE;
    size_t framed = len + RECORD_OVERHEAD;
    int err = 0;

    /* Make room first, so that a record is written in one piece with the
     * ones before it whenever possible. */
    if (w->pending.len > 0 && w->pending.len + framed > w->buffer_size)
        err = write_pending(w);
    if (w->pending.len + framed > RECORD_WRITER_MAX_PENDING)
        return -ENOBUFS;
    int r = record_frame(&w->pending, payload, len);
    if (r < 0)
        return r == -EMSGSIZE ? -ENOBUFS : r;
    w->records++;
    if (err < 0)
        return err;
    if (w->pending.len >= w->buffer_size)
        return write_pending(w);
    return 0;
}

int record_writer_write_framed(record_writer *w, const void *records, size_t len)
{
    uint64_t count;
    if (len == 0)
        return 0;
    if (whole_prefix(records, len, len, &count) != len)
        return -EINVAL;
    int r = write_pending(w);
    if (r < 0)
        return r;

    const uint8_t *p = records;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(w->fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (n == 0) {
            r = -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (r < 0) {
        /* All or nothing: the caller still holds the records and may
         * retry them whole. */
        if (off > 0 && ftruncate(w->fd, (off_t)w->file_size) < 0)
            w->dirty_tail = true;
        return r;
    }
    w->file_size += len;
    w->records += count;
    if (w->fsync && fsync(w->fd) < 0)
        return -errno;
    return 0;
}

int record_writer_flush(record_writer *w, bool sync)
{
    int r = write_pending(w);
    if (r < 0)
        return r;
    /* With the fsync option write_pending() synced what it wrote; an
     * explicit sync is honoured even when nothing was pending. */
    if (sync && fsync(w->fd) < 0)
        return -errno;
    return 0;
}

int record_writer_rotate(record_writer *w)
{
    int r = record_writer_flush(w, false);
    if (r < 0)
        return r;
    return start_file(w, event_now(), w->name_secs);
}

int record_writer_close(record_writer *w)
{
    if (!w)
        return 0;
    int r = write_pending(w);
    if (close(w->fd) < 0 && r == 0)
        r = -errno;
    close(w->dirfd);
    buf_free(&w->pending);
    free(w->dir_display);
    free(w->suffix);
    free(w->path);
    free(w);
    return r;
}

const char *record_writer_path(const record_writer *w)
{
    return w->path;
}

uint64_t record_writer_size(const record_writer *w)
{
    return w->file_size + w->pending.len;
}

uint64_t record_writer_records(const record_writer *w)
{
    return w->records;
}
