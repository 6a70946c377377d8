#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The command name of process pid ("self" for ours) from /proc, without
 * its newline; the kernel cuts it at 15 bytes. */
static int read_comm(const char *pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, out, size - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

int reload_send(const char *pid_text, char *err, size_t err_size)
{
    size_t len = strlen(pid_text);
    long pid = 0;
    for (size_t i = 0; i < len && len <= RELOAD_MAX_PID_TEXT; i++)
        pid = pid_text[i] >= '0' && pid_text[i] <= '9' ? pid * 10 + (pid_text[i] - '0') : -1;
    /* Not 0, 1 or negative: kill(2) would signal a process group, init
     * or everything. */
    if (len == 0 || len > RELOAD_MAX_PID_TEXT || pid <= 1 || pid != (pid_t)pid) {
        snprintf(err, err_size, "--reload takes the pid of a tfeventsd, not \"%.32s\"",
                 pid_text);
        return -EINVAL;
    }
    char want[32], have[32], num[24];
    snprintf(num, sizeof num, "%ld", pid);
    int r = read_comm("self", want, sizeof want);
    if (r == 0)
        r = read_comm(num, have, sizeof have);
    if (r < 0) {
        snprintf(err, err_size, "process %ld: %s", pid, r == -ENOENT ? "no such process" :
                 strerror(-r));
        return r == -ENOENT ? -ESRCH : r;
    }
    /* A pid can be stale (the daemon exited, the number was reused): never
     * send the signal to whatever else holds it now. */
    if (strcmp(want, have) != 0) {
        snprintf(err, err_size, "process %ld is %s, not %s: no signal sent", pid, have, want);
        return -EPERM;
    }
    if (kill((pid_t)pid, SIGHUP) < 0) {
        r = -errno;
        snprintf(err, err_size, "cannot signal process %ld: %s", pid, strerror(-r));
        return r;
    }
    return 0;
}
