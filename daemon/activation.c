#include "activation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* A decimal number that fits in max; no sign, no spaces, no junk. */
static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int activation_parse(const char *listen_pid, const char *listen_fds, pid_t self)
{
    if (!listen_pid || !listen_fds)
        return 0;
    unsigned long pid, n;
    if (parse_uint(listen_pid, (unsigned long)INT32_MAX, &pid) < 0 || pid == 0)
        return -EINVAL;
    /* Meant for another process (we inherited the environment). */
    if ((pid_t)pid != self)
        return 0;
    if (parse_uint(listen_fds, (unsigned long)INT32_MAX, &n) < 0)
        return -EINVAL;
    if (n > ACTIVATION_MAX_FDS)
        return -E2BIG;
    return (int)n;
}

void activation_name(const char *fdnames, unsigned index, char *ret, size_t ret_size)
{
    ret[0] = '\0';
    if (!fdnames)
        return;
    const char *p = fdnames;
    for (unsigned i = 0; i < index; i++) {
        p = strchr(p, ':');
        if (!p)
            return;
        p++;
    }
    size_t len = strcspn(p, ":");
    if (len >= ret_size)
        len = ret_size - 1;
    memcpy(ret, p, len);
    ret[len] = '\0';
}

/* The sockets were not opened by us: make sure nothing we might exec
 * inherits them. */
static void set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
        (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static bool is_listening_unix_stream(int fd)
{
#if HAVE_LIBSYSTEMD
    return sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0;
#else
    int v;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_UNIX)
        return false;
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM)
        return false;
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
        return false;
    return true;
#endif
}

int activation_take(int *ret_fd, char *ret_name, size_t name_size)
{
    int n;
    ret_name[0] = '\0';
#if HAVE_LIBSYSTEMD
    char **names = NULL;
    /* unset_environment=1: LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES go. */
    n = sd_listen_fds_with_names(1, &names);
    if (n > 0 && names && names[0])
        snprintf(ret_name, name_size, "%s", names[0]);
    if (names) {
        for (char **p = names; *p; p++)
            free(*p);
        free(names);
    }
    if (n > ACTIVATION_MAX_FDS)
        return -E2BIG;
#else
    n = activation_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getpid());
    if (n > 0)
        activation_name(getenv("LISTEN_FDNAMES"), 0, ret_name, name_size);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
#endif
    if (n <= 0)
        return n;
    for (int i = 0; i < n; i++)
        set_cloexec(ACTIVATION_FD_START + i);
    if (n > 1)
        return -E2BIG;
    if (!is_listening_unix_stream(ACTIVATION_FD_START))
        return -ENOTSOCK;
    *ret_fd = ACTIVATION_FD_START;
    return 1;
}
