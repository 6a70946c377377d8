/* lib_path: see lib_path.h. */
#include "lib_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logdir.h"

int lib_path_absolute(const char *path, char *out, size_t size)
{
    char tmp[TFEVENTS_MAX_PATH * 2];
    if (!path || !*path)
        return -EINVAL;
    if (path[0] == '/') {
        if (strlen(path) >= sizeof tmp)
            return -ENAMETOOLONG;
        strcpy(tmp, path);
    } else {
        char cwd[TFEVENTS_MAX_PATH];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        int n = snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return -ENAMETOOLONG;
    }
    size_t len = 0;
    char *save = NULL;
    for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            continue;
        }
        size_t cl = strlen(c);
        if (len + 1 + cl + 1 > size || len + 1 + cl >= TFEVENTS_MAX_PATH)
            return -ENAMETOOLONG;
        out[len++] = '/';
        memcpy(out + len, c, cl);
        len += cl;
    }
    if (len == 0) {
        if (size < 2)
            return -ENAMETOOLONG;
        out[len++] = '/';
    }
    out[len] = '\0';
    return 0;
}

int lib_path_resolve_existing(const char *abs, char *out)
{
    char head[PATH_MAX];
    if (strlen(abs) >= sizeof head)
        return -ENAMETOOLONG;
    strcpy(head, abs);
    char *tail = NULL;
    for (;;) {
        char real[PATH_MAX];
        if (realpath(head, real)) {
            int n = snprintf(out, PATH_MAX, "%s%s%s", real,
                             tail && strcmp(real, "/") != 0 ? "/" : "", tail ? tail : "");
            free(tail);
            return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
        }
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            free(tail);
            return -ENOENT;
        }
        /* Move the last component of head in front of tail. */
        *slash = '\0';
        const char *comp = slash + 1;
        char t[PATH_MAX];
        int n = snprintf(t, sizeof t, "%s%s%s", comp, tail ? "/" : "", tail ? tail : "");
        free(tail);
        if (n < 0 || (size_t)n >= sizeof t)
            return -ENAMETOOLONG;
        tail = strdup(t);
        if (!tail)
            return -ENOMEM;
    }
}

int lib_path_embedded_name(const char *abs, char *name)
{
    const char *why = NULL;
    if (strcmp(abs, "/") == 0) {
        strcpy(name, ".");
        return 0;
    }
    return logdir_normalize(abs + 1, strlen(abs + 1), name, LOGDIR_MAX_NAME + 1, &why);
}

int lib_path_under_root(const char *root, const char *abs, char *name)
{
    char real[PATH_MAX];
    int r = lib_path_resolve_existing(abs, real);
    if (r < 0)
        return r;
    size_t rl = strlen(root);
    if (rl == 0 || root[0] != '/')
        return -EXDEV;
    if (strcmp(real, root) == 0) {
        strcpy(name, ".");
        return 0;
    }
    if (strcmp(root, "/") == 0)
        rl = 0;
    else if (strncmp(real, root, rl) != 0 || real[rl] != '/')
        return -EXDEV;
    const char *rel = real + rl + 1;
    const char *why = NULL;
    return logdir_normalize(rel, strlen(rel), name, LOGDIR_MAX_NAME + 1, &why);
}
