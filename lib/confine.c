#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__) && defined(SYS_openat2)
#include <linux/openat2.h>
#define CONFINE_HAVE_OPENAT2 1
#else
#define CONFINE_HAVE_OPENAT2 0
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Check rel before touching anything: plain components only. */
static int check_rel(const char *rel, size_t len)
{
    if (len > CONFINE_MAX_PATH)
        return -ENAMETOOLONG;
    if (len > 0 && rel[0] == '/')
        return -EINVAL;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && rel[j] != '/')
            j++;
        size_t clen = j - i;
        if (clen > NAME_MAX)
            return -ENAMETOOLONG;
        if ((clen == 1 && rel[i] == '.' && len > 1) ||
            (clen == 2 && rel[i] == '.' && rel[i + 1] == '.'))
            return -EINVAL;
        i = j + 1;
    }
    return 0;
}

#if CONFINE_HAVE_OPENAT2
/* 1: openat2 works here, 0: not tried yet, -1: the kernel lacks it (or a
 * seccomp filter refuses it). */
static atomic_int openat2_state;

/* One call for a directory that exists. Returns the fd, or -errno; -ENOSYS
 * when openat2 is unavailable. */
static int open_beneath(int root_fd, const char *rel)
{
    if (atomic_load(&openat2_state) < 0)
        return -ENOSYS;
    struct open_how how = {
        .flags = DIR_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    for (;;) {
        long fd = syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof how);
        if (fd >= 0) {
            atomic_store(&openat2_state, 1);
            return (int)fd;
        }
        int e = errno;
        if (e == EINTR || e == EAGAIN)
            continue;   /* EAGAIN: a rename raced the lookup; retry */
        if (e == ENOSYS || (e == EPERM && atomic_load(&openat2_state) == 0)) {
            atomic_store(&openat2_state, -1);
            return -ENOSYS;
        }
        return -e;
    }
}
#endif

/* The fallback and the creator: one component at a time, never following
 * a link. */
static int walk(int root_fd, const char *rel, size_t len, bool create, int *ret_fd)
{
    char comp[NAME_MAX + 1];
    int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return -errno;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && rel[j] != '/')
            j++;
        size_t clen = j - i;
        memcpy(comp, rel + i, clen);
        comp[clen] = '\0';
        i = j + 1;
        if (clen == 0 || (clen == 1 && comp[0] == '.'))
            continue;
        int next = openat(fd, comp, DIR_FLAGS);
        if (next < 0 && errno == ENOENT && create) {
            /* EEXIST: someone made it meanwhile; the open below decides
             * whether it is a directory we may use. */
            if (mkdirat(fd, comp, 0777) < 0 && errno != EEXIST) {
                int e = -errno;
                close(fd);
                return e;
            }
            next = openat(fd, comp, DIR_FLAGS);
        }
        if (next < 0) {
            int e = -errno;
            /* O_NOFOLLOW | O_DIRECTORY on a link says ENOTDIR on some
             * kernels: tell a link from a file. */
            struct stat st;
            if ((e == -ENOTDIR || e == -ELOOP) &&
                fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0)
                e = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
            close(fd);
            return e;
        }
        close(fd);
        fd = next;
    }
    *ret_fd = fd;
    return 0;
}

int confine_open_dir(int root_fd, const char *rel, bool create, int *ret_fd)
{
    if (!rel)
        rel = "";
    size_t len = strlen(rel);
    int r = check_rel(rel, len);
    if (r < 0)
        return r;
#if CONFINE_HAVE_OPENAT2
    int fd = open_beneath(root_fd, rel);
    if (fd >= 0) {
        *ret_fd = fd;
        return 0;
    }
    /* The walk makes what is missing, and names the reason of a refusal
     * precisely (a link or a file); it is as safe, only slower. */
    if (fd != -ENOSYS && fd != -ENOTDIR && fd != -ELOOP && !(fd == -ENOENT && create))
        return fd;
#endif
    return walk(root_fd, rel, len, create, ret_fd);
}

const char *confine_strerror(int err)
{
    switch (err) {
    case -ELOOP:
        return "a component of the path is a symbolic link; links are not followed under the "
               "root";
    case -EXDEV:
        return "the path leaves the root";
    case -ENOTDIR:
        return "a component of the path exists and is not a directory";
    case -EINVAL:
        return "the path is absolute or holds '.' or '..'";
    case -ENAMETOOLONG:
        return "the path or one of its components is too long";
    case -ENOENT:
        return "the directory does not exist";
    case -EACCES:
    case -EPERM:
        return "permission denied";
    case -ENOSPC:
        return "no space left on the device";
    case -EMFILE:
    case -ENFILE:
        return "too many open files";
    default:
        return strerror(-err);
    }
}
