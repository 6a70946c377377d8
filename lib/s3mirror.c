#include "s3mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3.h"

/* The name each object is downloaded under before it is renamed into
 * place: without "tfevents", so that no reader takes it for an event file
 * (and no key is copied below it: safe_rel). */
#define S3MIRROR_PART ".download.part"

struct s3mirror {
    struct s3_config cfg;
    s3_client *c;
    char prefix[S3_MAX_KEY + 2];   /* the listed prefix: "PREFIX/" or "" */
    char dir[PATH_MAX];
    char part[PATH_MAX];           /* dir/S3MIRROR_PART */
    size_t n_files;                /* event files in the copy */
    int added;                     /* downloaded by the running sync */
    char err[640];
};

bool s3mirror_is_url(const char *s)
{
    return s && strncmp(s, "s3://", 5) == 0;
}

/* The addressing TFEVENTS_S3_ADDRESSING asks for. */
static int env_addressing(char *err, size_t err_size)
{
    const char *a = getenv("TFEVENTS_S3_ADDRESSING");
    int addressing = a && *a ? s3_addressing_parse(a) : S3_ADDRESSING_AUTO;
    if (addressing < 0)
        snprintf(err, err_size, "TFEVENTS_S3_ADDRESSING=%s: auto, path or virtual", a);
    return addressing;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

int s3mirror_open(s3mirror **ret, const char *url, char *err, size_t err_size)
{
    *ret = NULL;
    s3mirror *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    int addressing = env_addressing(err, err_size);
    if (addressing < 0 ||
        s3_config_init(&m->cfg, url, NULL, (enum s3_addressing)addressing, err, err_size) < 0) {
        free(m);
        return -EINVAL;
    }
    snprintf(m->prefix, sizeof m->prefix, "%s%s", m->cfg.loc.prefix,
             m->cfg.loc.prefix[0] ? "/" : "");
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(m->dir, sizeof m->dir, "%s/tfevents-s3-XXXXXX",
                         tmp && *tmp ? tmp : "/tmp") >= sizeof m->dir - sizeof S3MIRROR_PART) {
        snprintf(err, err_size, "TMPDIR is too long");
        free(m);
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(m->dir)) {
        int r = -errno;
        snprintf(err, err_size, "making a temporary directory: %s", strerror(errno));
        free(m);
        return r;
    }
    size_t dl = strlen(m->dir);   /* checked above: the part name fits */
    memcpy(m->part, m->dir, dl);
    memcpy(m->part + dl, "/" S3MIRROR_PART, sizeof "/" S3MIRROR_PART);
    if (!(m->c = s3_client_new(&m->cfg))) {
        s3mirror_free(m);
        return -ENOMEM;
    }
    *ret = m;
    return 0;
}

void s3mirror_free(s3mirror *m)
{
    if (!m)
        return;
    s3_client_free(m->c);
    if (m->dir[0])
        nftw(m->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(m);
}

const char *s3mirror_dir(const s3mirror *m)
{
    return m->dir;
}

const char *s3mirror_error(const s3mirror *m)
{
    return m->err;
}

/* A relative path that stays inside the directory: no empty, "." or ".."
 * segment (keys are the server's words), and not through our part file. */
static bool safe_rel(const char *rel)
{
    if (!*rel || *rel == '/' ||
        strncmp(rel, S3MIRROR_PART "/", sizeof S3MIRROR_PART) == 0)
        return false;
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

static int make_parents(char *path, size_t from)
{
    for (size_t i = from; path[i]; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        int r = mkdir(path, 0777) < 0 && errno != EEXIST ? -errno : 0;
        path[i] = '/';
        if (r < 0)
            return r;
    }
    return 0;
}

/* s3_list's callback: one listed object. */
static int sync_one(void *arg, const char *key, uint64_t size)
{
    s3mirror *m = arg;
    size_t skip = strlen(m->prefix);
    (void)size;
    if (strncmp(key, m->prefix, skip) != 0)
        return 0;
    const char *rel = key + skip;
    const char *base = strrchr(rel, '/');
    if (!strstr(base ? base + 1 : rel, "tfevents") || !safe_rel(rel))
        return 0;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", m->dir, rel) >= sizeof path) {
        snprintf(m->err, sizeof m->err, "%s: the path is too long", key);
        return -ENAMETOOLONG;
    }
    struct stat st;
    if (lstat(path, &st) == 0)
        return 0;   /* already here: objects do not change */
    if (m->n_files >= S3MIRROR_MAX_OBJECTS) {
        snprintf(m->err, sizeof m->err, "more than %u event files under s3://%s/%.300s",
                 S3MIRROR_MAX_OBJECTS, m->cfg.loc.bucket, m->prefix);
        return -E2BIG;
    }
    int r = make_parents(path, strlen(m->dir) + 1);
    int fd = r < 0 ? -1 : open(m->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = r < 0 ? r : -errno;
        snprintf(m->err, sizeof m->err, "%.400s: %s", path, strerror(-r));
        return r;
    }
    r = s3_get_file(m->c, key, fd);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(m->part, path) < 0)
        r = -errno;
    if (r < 0) {
        const char *why = s3_client_error(m->c);
        snprintf(m->err, sizeof m->err, "s3://%s/%.300s: %.250s", m->cfg.loc.bucket, key,
                 why[0] ? why : strerror(-r));
        unlink(m->part);
        return r;
    }
    m->n_files++;
    m->added++;
    return 0;
}

int s3mirror_sync(s3mirror *m)
{
    m->err[0] = '\0';
    m->added = 0;
    int r = s3_list(m->c, m->prefix, sync_one, m);
    if (r < 0 && !m->err[0]) {
        const char *why = s3_client_error(m->c);
        snprintf(m->err, sizeof m->err, "s3://%s/%.300s: %.250s", m->cfg.loc.bucket,
                 m->prefix, why[0] ? why : strerror(-r));
    }
    return r < 0 ? r : m->added;
}

int s3mirror_get_object(const char *url, int fd, char *err, size_t err_size)
{
    struct s3_config cfg;
    int addressing = env_addressing(err, err_size);
    if (addressing < 0 ||
        s3_config_init(&cfg, url, NULL, (enum s3_addressing)addressing, err, err_size) < 0)
        return -EINVAL;
    if (!cfg.loc.prefix[0]) {
        snprintf(err, err_size, "%s names a bucket, not an object", url);
        return -EINVAL;
    }
    s3_client *c = s3_client_new(&cfg);
    if (!c)
        return -ENOMEM;
    int r = s3_get_file(c, cfg.loc.prefix, fd);
    if (r < 0)
        snprintf(err, err_size, "%s: %s", url,
                 r == -ENOENT ? "no such object" : s3_client_error(c));
    s3_client_free(c);
    return r;
}
