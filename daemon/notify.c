#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

int notify_parse_address(const char *s, struct sockaddr_un *ret, socklen_t *ret_len)
{
    if (!s || (s[0] != '/' && s[0] != '@') || s[1] == '\0')
        return -EINVAL;
    size_t len = strlen(s);
    memset(ret, 0, sizeof *ret);
    ret->sun_family = AF_UNIX;
    if (s[0] == '@') {
        /* Abstract: sun_path[0] is NUL and the name is exactly the bytes
         * after it, so the address length counts no terminator. */
        if (len > sizeof ret->sun_path)
            return -ENAMETOOLONG;
        memcpy(ret->sun_path + 1, s + 1, len - 1);
        *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        return 0;
    }
    if (len >= sizeof ret->sun_path)
        return -ENAMETOOLONG;
    memcpy(ret->sun_path, s, len + 1);
    *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    return 0;
}

/* A positive decimal number up to max. */
static int parse_positive(const char *s, unsigned long long max, unsigned long long *ret)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int notify_parse_watchdog(const char *usec, const char *pid, pid_t self, uint64_t *ret_usec)
{
    if (!usec)
        return 0;
    unsigned long long u, p;
    if (pid) {
        if (parse_positive(pid, (unsigned long long)INT32_MAX, &p) < 0)
            return -EINVAL;
        if ((pid_t)p != self)
            return 0;
    }
    if (parse_positive(usec, UINT64_MAX, &u) < 0)
        return -EINVAL;
    *ret_usec = u;
    return 1;
}

int notify_open(struct notify *n)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *s = getenv("NOTIFY_SOCKET");
    if (!s || !*s)
        return 0;
    int r = notify_parse_address(s, &n->addr, &n->addr_len);
#if HAVE_LIBSYSTEMD
    /* sd_notify() reads the variable itself at every call. */
    if (r < 0)
        return r;
    n->enabled = true;
    return 1;
#else
    /* We keep our own copy: no process we might start must think the
     * manager's socket is meant for it. */
    unsetenv("NOTIFY_SOCKET");
    if (r < 0)
        return r;
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (n->fd < 0)
        return -errno;
    n->enabled = true;
    return 1;
#endif
}

int notify_watchdog(uint64_t *ret_usec)
{
#if HAVE_LIBSYSTEMD
    /* unset_environment=1: WATCHDOG_USEC and WATCHDOG_PID go. */
    int r = sd_watchdog_enabled(1, ret_usec);
    return r < 0 ? r : r > 0;
#else
    int r = notify_parse_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(),
                                  ret_usec);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return r;
#endif
}

int notify_send(struct notify *n, const char *fmt, ...)
{
    if (!n->enabled)
        return 0;
    char msg[NOTIFY_MAX_MESSAGE];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof msg)
        return -EMSGSIZE;
#if HAVE_LIBSYSTEMD
    int r = sd_notify(0, msg);
    return r < 0 ? r : 0;
#else
    /* Non-blocking: a manager too busy to read must not stall the loop;
     * a lost keep-alive is sent again half a period later. */
    ssize_t w;
    do
        w = sendto(n->fd, msg, (size_t)len, MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
                   n->addr_len);
    while (w < 0 && errno == EINTR);
    return w < 0 ? -errno : 0;
#endif
}

void notify_close(struct notify *n)
{
    if (!n)
        return;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->enabled = false;
    unsetenv("NOTIFY_SOCKET");
}
