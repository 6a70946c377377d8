/* activation: take over a listening socket handed down by a service
 * manager (systemd socket activation).
 *
 * The manager passes the sockets as file descriptors 3, 4, ... and says so
 * in the environment: LISTEN_PID (the process they are meant for: a child
 * that inherited the environment must not take them), LISTEN_FDS (how
 * many) and LISTEN_FDNAMES (':'-separated names, optional). tfeventsd
 * serves exactly one socket, so exactly one descriptor is accepted, and it
 * must be a listening AF_UNIX stream socket.
 *
 * Built with libsystemd, the environment is read by sd_listen_fds_with_names();
 * otherwise by activation_parse() below. Either way the variables are
 * removed from the environment once read, as systemd recommends, so that
 * nothing we might start later believes the sockets are its own. */
#ifndef TFEVENTSD_ACTIVATION_H
#define TFEVENTSD_ACTIVATION_H

#include <stddef.h>
#include <sys/types.h>

/* The first descriptor a service manager passes (SD_LISTEN_FDS_START). */
#define ACTIVATION_FD_START 3

/* Most descriptors we accept to even look at: LISTEN_FDS is a number from
 * the environment, and a bogus huge value must not make us walk (or set
 * close-on-exec on) millions of descriptors. */
#define ACTIVATION_MAX_FDS 64

/* Longest socket name (LISTEN_FDNAMES entry) we keep, for messages. */
#define ACTIVATION_MAX_NAME 255

/* Parse LISTEN_PID and LISTEN_FDS (either may be NULL = unset) for the
 * process self. Returns the number of descriptors meant for us (0 when the
 * variables are unset or name another process), -EINVAL when a value is
 * not a number, -E2BIG past ACTIVATION_MAX_FDS. Pure: touches nothing. */
int activation_parse(const char *listen_pid, const char *listen_fds, pid_t self);

/* Copy the index-th ':'-separated name of fdnames (may be NULL) into ret
 * (ret_size bytes, at least 1), "" when there is none; a name too long is
 * cut. Pure. */
void activation_name(const char *fdnames, unsigned index, char *ret, size_t ret_size);

/* Look at the environment of this process: returns 0 when no socket was
 * passed (*ret_fd untouched), 1 when exactly one listening AF_UNIX stream
 * socket was passed (*ret_fd: the descriptor, caller owns; ret_name: its
 * name from LISTEN_FDNAMES or ""), or a negative errno: -EINVAL bad
 * variables, -E2BIG more than one descriptor (tfeventsd serves one socket),
 * -ENOTSOCK the descriptor is not a listening AF_UNIX stream socket. The
 * variables are unset in every case. Descriptors passed are made
 * close-on-exec. */
int activation_take(int *ret_fd, char *ret_name, size_t name_size);

#endif
