#include "cli_s3.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "s3.h"

/* Most objects fetched for one collect: a bound on what a listing can
 * make us write. */
#define CLI_S3_MAX_OBJECTS 1000000u

struct fetch {
    s3_client *c;
    const char *dir;
    size_t skip;          /* bytes of the prefix (and its '/') in each key */
    unsigned n;
};

bool cli_s3_is_url(const char *s)
{
    return strncmp(s, "s3://", 5) == 0;
}

/* A relative path that stays inside the directory: no empty, "." or ".."
 * segment (keys are the server's words). */
static bool safe_rel(const char *rel)
{
    if (!*rel || *rel == '/')
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

static int fetch_one(void *arg, const char *key, uint64_t size)
{
    struct fetch *f = arg;
    (void)size;
    if (strlen(key) < f->skip)
        return 0;
    const char *rel = key + f->skip;
    const char *base = strrchr(rel, '/');
    if (!strstr(base ? base + 1 : rel, "tfevents"))
        return 0;
    if (!safe_rel(rel)) {
        cli_error("skipping the object %s: its key is not a plain relative path", key);
        return 0;
    }
    if (++f->n > CLI_S3_MAX_OBJECTS)
        return -E2BIG;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", f->dir, rel) >= sizeof path)
        return -ENAMETOOLONG;
    int r = make_parents(path, strlen(f->dir) + 1);
    if (r < 0)
        return r;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    r = s3_get_file(f->c, key, fd);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0)
        cli_error("%s", s3_client_error(f->c));
    return r;
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

void cli_s3_remove(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cli_s3_fetch(const char *url, char *dir, size_t dir_size)
{
    static struct s3_config cfg;
    char err[512];
    const char *a = getenv("TFEVENTS_S3_ADDRESSING");
    int addressing = a && *a ? s3_addressing_parse(a) : S3_ADDRESSING_AUTO;
    if (addressing < 0) {
        cli_error("TFEVENTS_S3_ADDRESSING=%s: auto, path or virtual", a);
        return -EINVAL;
    }
    if (s3_config_init(&cfg, url, NULL, (enum s3_addressing)addressing, err, sizeof err) < 0) {
        cli_error("%s", err);
        return -EINVAL;
    }
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(dir, dir_size, "%s/tfevents-s3-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
        dir_size)
        return -ENAMETOOLONG;
    if (!mkdtemp(dir)) {
        int r = -errno;
        cli_error("making a temporary directory: %s", strerror(errno));
        return r;
    }
    s3_client *c = s3_client_new(&cfg);
    if (!c) {
        cli_s3_remove(dir);
        return -ENOMEM;
    }
    char prefix[S3_MAX_KEY + 2];
    snprintf(prefix, sizeof prefix, "%s%s", cfg.loc.prefix, cfg.loc.prefix[0] ? "/" : "");
    struct fetch f = {.c = c, .dir = dir, .skip = strlen(prefix)};
    int r = s3_list(c, prefix, fetch_one, &f);
    if (r < 0 && s3_client_error(c)[0] && r != -E2BIG)
        cli_error("%s", s3_client_error(c));
    else if (r == -E2BIG)
        cli_error("%s: more than %u event files", url, CLI_S3_MAX_OBJECTS);
    s3_client_free(c);
    if (r < 0)
        cli_s3_remove(dir);
    return r;
}
