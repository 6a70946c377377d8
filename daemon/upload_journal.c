#include "upload_journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"

#define JOURNAL_MAGIC "tfeventsd-upload 1 "

struct upload_journal {
    int fd;
};

/* The entries read from an existing journal, sorted by path. */
struct entry {
    char *rel;
    uint64_t size;
};

struct list {
    struct upload_file *v;
    size_t n, cap;
    bool truncated;
};

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const struct upload_file *)a)->rel, ((const struct upload_file *)b)->rel);
}

static int list_add(struct list *l, const char *rel, uint64_t size)
{
    if (l->n >= UPLOAD_JOURNAL_MAX_FILES) {
        l->truncated = true;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct upload_file *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].rel = strdup(rel);
    if (!l->v[l->n].rel)
        return -ENOMEM;
    l->v[l->n++].size = size;
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].rel);
    free(l->v);
}

/* Read the journal's entries (none when absent or for another dest). */
static int read_entries(const char *path, const char *dest, struct list *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    int r = 0;
    bool ours = false;
    /* The header is "MAGIC DEST\n": compare without the newline. */
    if (n > 0 && line[n - 1] == '\n') {
        line[n - 1] = '\0';
        ours = strncmp(line, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)) == 0 &&
               strcmp(line + strlen(JOURNAL_MAGIC), dest) == 0;
    }
    while (r == 0 && ours && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;   /* cut short by a crash: not recorded */
        line[n - 1] = '\0';
        char *end;
        unsigned long long size = strtoull(line, &end, 10);
        if (end == line || *end != ' ' || !end[1])
            continue;
        r = list_add(out, end + 1, size);
    }
    free(line);
    fclose(f);
    if (r == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_rel);
    return r;
}

/* Walk dirfd (rel: its path under the root, "" for the root). */
static int walk(int dirfd, const char *rel, unsigned depth, const char *skip_rel,
                struct list *out)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return -errno;
    }
    int r = 0;
    struct dirent *e;
    char sub[PATH_MAX];
    while (r == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        int n = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof sub)
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;   /* gone meanwhile */
        if (S_ISDIR(st.st_mode) && depth < UPLOAD_JOURNAL_MAX_DEPTH) {
            int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                r = walk(fd, sub, depth + 1, skip_rel, out);
        } else if (S_ISREG(st.st_mode) && strstr(e->d_name, "tfevents") &&
                   strcmp(sub, skip_rel) != 0) {
            r = list_add(out, sub, (uint64_t)st.st_size);
        }
    }
    closedir(d);
    return r;
}

static const struct upload_file *find(const struct list *l, const char *rel)
{
    struct upload_file key = {.rel = (char *)rel};
    if (l->n == 0)
        return NULL;   /* bsearch() takes no NULL array, even empty */
    return bsearch(&key, l->v, l->n, sizeof *l->v, by_rel);
}

/* Write the new journal (header + kept) to path atomically. */
static int rewrite(const char *path, const char *dest, const struct list *kept)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = buf_printf(&b, "%s%s\n", JOURNAL_MAGIC, dest);
    for (size_t i = 0; r == 0 && i < kept->n; i++)
        r = buf_printf(&b, "%llu %s\n", (unsigned long long)kept->v[i].size, kept->v[i].rel);
    if (r == 0)
        r = fdio_write_all(fd, b.data, b.len);
    buf_free(&b);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    /* The rename itself must survive a crash. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int upload_journal_open(struct upload_journal **ret, const char *path, const char *dest,
                        const char *root, struct upload_file **ret_todo, size_t *ret_n,
                        bool *ret_truncated)
{
    struct list old = {0}, found = {0}, kept = {0}, todo = {0};
    struct upload_journal *j = NULL;
    /* The journal may lie under the root: leave it (and its temporary
     * file, which has no "tfevents" in its name unless path has) out. */
    size_t rl = strlen(root);
    const char *skip = strncmp(path, root, rl) == 0 && path[rl] == '/' ? path + rl + 1 : "";
    int r = read_entries(path, dest, &old);
    if (r == 0) {
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = fd < 0 ? -errno : walk(fd, "", 0, skip, &found);
    }
    if (r == 0 && found.n > 1)
        qsort(found.v, found.n, sizeof *found.v, by_rel);
    for (size_t i = 0; r == 0 && i < found.n; i++) {
        const struct upload_file *o = find(&old, found.v[i].rel);
        if (o && o->size == found.v[i].size)
            r = list_add(&kept, found.v[i].rel, found.v[i].size);
        else
            r = list_add(&todo, found.v[i].rel, found.v[i].size);
    }
    if (r == 0)
        r = rewrite(path, dest, &kept);
    if (r == 0) {
        j = calloc(1, sizeof *j);
        if (!j)
            r = -ENOMEM;
    }
    if (r == 0) {
        j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (j->fd < 0) {
            r = -errno;
            free(j);
        }
    }
    list_free(&old);
    list_free(&found);
    list_free(&kept);
    if (r < 0) {
        list_free(&todo);
        return r;
    }
    *ret = j;
    *ret_todo = todo.v;
    *ret_n = todo.n;
    *ret_truncated = found.truncated || todo.truncated;
    return 0;
}

int upload_journal_add(struct upload_journal *j, const char *rel, uint64_t size)
{
    if (strchr(rel, '\n'))
        return 0;
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    /* One write() of a whole line (O_APPEND): a crash leaves at most a
     * last line without its newline, which is not read as recorded. */
    int r = buf_printf(&b, "%llu %s\n", (unsigned long long)size, rel);
    if (r == 0)
        r = fdio_write_all(j->fd, b.data, b.len);
    buf_free(&b);
    if (r == 0 && fdatasync(j->fd) < 0)
        r = -errno;
    return r;
}

void upload_journal_close(struct upload_journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j);
}
