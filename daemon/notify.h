/* notify: tell the service manager how we are (the sd_notify protocol).
 *
 * A manager that wants to hear from us (systemd with Type=notify) puts the
 * address of an AF_UNIX datagram socket in NOTIFY_SOCKET: a path, or an
 * abstract name written with a leading '@'. Each message is one datagram
 * of newline-separated "KEY=value" assignments: READY=1 once we serve,
 * STATUS=text for "systemctl status", WATCHDOG=1 as a keep-alive,
 * RELOADING=1 / STOPPING=1 around reloads and shutdown, ERRNO=n on a
 * failure. The manager learns the sender's pid from the kernel
 * (SCM_CREDENTIALS), so NotifyAccess=main works with a plain sendto().
 *
 * The watchdog: WATCHDOG_USEC asks for WATCHDOG=1 at least that often
 * (systemd's advice, followed by main.c: every half of it) when
 * WATCHDOG_PID is unset or is our pid.
 *
 * Built with libsystemd, sending is sd_notify() and the watchdog variables
 * are read by sd_watchdog_enabled(); otherwise this module speaks the
 * protocol itself. The functions are called from the loop thread only.
 * Nothing here logs: callers log, once, with context. */
#ifndef TFEVENTSD_NOTIFY_H
#define TFEVENTSD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* Longest message we format: the manager reads datagrams of a few KiB; ours
 * are a line of status at most. A longer one is refused (-EMSGSIZE). */
#define NOTIFY_MAX_MESSAGE 1024

struct notify {
    bool enabled;               /* a manager listens */
    int fd;                     /* our datagram socket (-1: none / libsystemd) */
    struct sockaddr_un addr;    /* the manager's socket */
    socklen_t addr_len;
};

/* Parse a NOTIFY_SOCKET value: "/absolute/path" or "@abstract-name".
 * Fills *ret and *ret_len (the length to pass to sendto: the abstract
 * form has no terminating NUL). -EINVAL for an empty or relative value,
 * -ENAMETOOLONG when it does not fit sun_path. Pure. */
int notify_parse_address(const char *s, struct sockaddr_un *ret, socklen_t *ret_len);

/* Parse WATCHDOG_USEC and WATCHDOG_PID (either may be NULL = unset) for
 * process self: 1 with *ret_usec set when we must send keep-alives, 0 when
 * not (unset, or meant for another pid), -EINVAL for a value that is not a
 * positive number. Pure. */
int notify_parse_watchdog(const char *usec, const char *pid, pid_t self, uint64_t *ret_usec);

/* Read NOTIFY_SOCKET. Returns 1 when a manager listens, 0 when none (then
 * every notify_send is a no-op), or -EINVAL / -ENAMETOOLONG for an address
 * we cannot use, or the errno of socket() (n is then disabled, usable and
 * to be closed as well). Without libsystemd NOTIFY_SOCKET is unset here;
 * with it, sd_notify() needs it until notify_close(). */
int notify_open(struct notify *n);

/* Read and unset WATCHDOG_USEC / WATCHDOG_PID: 1 with *ret_usec when
 * keep-alives are due, 0 when not, -EINVAL for bad values. */
int notify_watchdog(uint64_t *ret_usec);

/* Send one message (printf format; KEY=value lines). 0 when sent or when
 * no manager listens; -EMSGSIZE past NOTIFY_MAX_MESSAGE; otherwise the
 * negative errno of the send. Never blocks. */
int notify_send(struct notify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close the socket and unset NOTIFY_SOCKET. NULL-safe, idempotent. */
void notify_close(struct notify *n);

#endif
