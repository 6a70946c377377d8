/* tcp_auth: the access control of the loopback TCP listener.
 *
 * A TCP peer carries no credentials, so the daemon gives it the socket's
 * rule another way: at start it writes a random token into a file with
 * the socket's group and permissions no wider than the socket's
 * (0640 when the socket lets its group in, else 0600). Whoever can read
 * the file could also have opened the socket. A TCP connection's first
 * line must be {"op":"auth","token":"<the token>"}; until then nothing
 * else is read. */
#ifndef TFEVENTSD_TCP_AUTH_H
#define TFEVENTSD_TCP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Hex digits of a token (32 random bytes). */
#define TCP_AUTH_TOKEN_LEN 64u
/* Longest auth line accepted (the token plus its JSON frame, spaces). */
#define TCP_AUTH_MAX_LINE 512u

/* Create the token file at path (replacing a stale one; never following
 * a symbolic link) and fill token[TCP_AUTH_TOKEN_LEN + 1]. gid: the
 * socket's group ((gid_t)-1: keep the process's); group_read: the socket
 * is open to its group. 0 or -errno; *what names the step that failed. */
int tcp_auth_create(const char *path, gid_t gid, bool group_read,
                    char token[TCP_AUTH_TOKEN_LEN + 1], const char **what);

/* Check one auth line (without its newline) against token. 0 when it is
 * {"op":"auth","token":"<token>"}; else -EACCES (wrong or missing
 * token) or -EPROTO (not an auth op), with a message for the client in
 * *why. The comparison takes the same time wherever the tokens differ. */
int tcp_auth_check(const char *token, const char *line, size_t len, const char **why);

#endif
