#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "logdir.h"

/* getpwuid_r's scratch: enough for any sane passwd entry. */
#define USERS_PWBUF 16384u

/* Loop thread only (the lookups write their answer into their job). */
static struct {
    bool used;
    uid_t uid;
    char name[USERS_MAX_NAME + 1];
} cache[USERS_CACHE];
static unsigned cache_next;

bool users_cached(uid_t uid, char out[USERS_MAX_NAME + 1])
{
    for (unsigned i = 0; i < USERS_CACHE; i++)
        if (cache[i].used && cache[i].uid == uid) {
            memcpy(out, cache[i].name, USERS_MAX_NAME + 1);
            return true;
        }
    return false;
}

struct job {
    uv_work_t work;
    uid_t uid;
    char name[USERS_MAX_NAME + 1];
    const char *root;   /* borrowed: the configuration's */
    int dir_err;        /* of prepare_dir() */
    void (*done)(void *ctx, const char *name, int dir_err);
    void *ctx;
};

/* A POSIX ACL as the kernel's system.posix_acl_* extended attributes hold
 * it (linux/posix_acl_xattr.h): a version, then entries sorted by tag. */
#define ACL_XATTR_VERSION 2u
enum { ACL_USER_OBJ = 0x01, ACL_USER = 0x02, ACL_GROUP_OBJ = 0x04, ACL_MASK = 0x10,
       ACL_OTHER = 0x20 };
#define ACL_NO_ID UINT32_MAX

static uint8_t *acl_put(uint8_t *p, uint16_t tag, uint16_t perm, uint32_t id)
{
    /* Little-endian, as the kernel reads it. */
    uint8_t e[8] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)perm, (uint8_t)(perm >> 8),
                    (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
    memcpy(p, e, 8);
    return p + 8;
}

/* Owner rwx, uid r-x, nobody else anything: as the access ACL of the
 * user's directory and as its default ACL, which everything created
 * beneath inherits (directories r-x, files r-- for uid: the mask takes
 * the group bits of the mode they are created with). */
static int set_user_acl(int fd, uid_t uid)
{
    uint8_t acl[4 + 5 * 8] = {ACL_XATTR_VERSION, 0, 0, 0}, *p = acl + 4;
    p = acl_put(p, ACL_USER_OBJ, 7, ACL_NO_ID);
    p = acl_put(p, ACL_USER, 5, (uint32_t)uid);
    p = acl_put(p, ACL_GROUP_OBJ, 0, ACL_NO_ID);
    p = acl_put(p, ACL_MASK, 5, ACL_NO_ID);
    p = acl_put(p, ACL_OTHER, 0, ACL_NO_ID);
    if (fsetxattr(fd, "system.posix_acl_access", acl, sizeof acl, 0) < 0 ||
        fsetxattr(fd, "system.posix_acl_default", acl, sizeof acl, 0) < 0)
        return -errno;
    return 0;
}

/* Thread pool: make <root>/<name> (if needed) private to the daemon's
 * user, mode 0700, then let uid read it through an ACL, unless uid is
 * root or the daemon's own user (who read it as owner or anyway). Other
 * users cannot enter it, whatever the modes beneath. */
static int prepare_dir(const char *root, const char *name, uid_t uid)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -errno;
    int r = 0;
    if (mkdirat(rootfd, name, 0700) < 0 && errno != EEXIST)
        r = -errno;
    int fd = r < 0 ? -1 : openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r == 0 && fd < 0)
        r = -errno;
    close(rootfd);
    if (r < 0)
        return r;
    if (fchmod(fd, 0700) < 0)
        r = -errno;
    else if (uid != 0 && uid != geteuid())
        r = set_user_acl(fd, uid);
    close(fd);
    return r;
}

/* Thread pool: the name, or uid-<n> when there is no usable one. */
static void lookup(uv_work_t *w)
{
    struct job *j = w->data;
    snprintf(j->name, sizeof j->name, "uid-%lu", (unsigned long)j->uid);
    char *pwbuf = malloc(USERS_PWBUF);
    if (!pwbuf) {
        j->dir_err = -ENOMEM;
        return;
    }
    struct passwd pw, *res = NULL;
    if (getpwuid_r(j->uid, &pw, pwbuf, USERS_PWBUF, &res) == 0 && res && res->pw_name) {
        char norm[LOGDIR_MAX_NAME + 1];
        size_t n = strlen(res->pw_name);
        if (n > 0 && n <= USERS_MAX_NAME && !strchr(res->pw_name, '/') &&
            logdir_normalize(res->pw_name, n, norm, sizeof norm, NULL) == 0 &&
            strcmp(norm, res->pw_name) == 0)
            memcpy(j->name, res->pw_name, n + 1);
    }
    free(pwbuf);
    if (j->root)
        j->dir_err = prepare_dir(j->root, j->name, j->uid);
}

static void looked_up(uv_work_t *w, int status)
{
    struct job *j = w->data;
    (void)status;   /* never cancelled */
    char name[USERS_MAX_NAME + 1];
    if (!users_cached(j->uid, name)) {
        unsigned slot = cache_next++ % USERS_CACHE;
        cache[slot].used = true;
        cache[slot].uid = j->uid;
        memcpy(cache[slot].name, j->name, sizeof cache[slot].name);
    }
    j->done(j->ctx, j->name, j->dir_err);
    free(j);
}

int users_resolve(uv_loop_t *loop, uid_t uid, const char *root,
                  void (*done)(void *ctx, const char *name, int dir_err), void *ctx)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->uid = uid;
    j->root = root;
    j->done = done;
    j->ctx = ctx;
    j->work.data = j;
    int r = uv_queue_work(loop, &j->work, lookup, looked_up);
    if (r < 0)
        free(j);
    return r;
}
