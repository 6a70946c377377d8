/* confine: open a directory beneath a root directory without ever leaving
 * it.
 *
 * Clients choose logdir and run names, and other local users may be able
 * to create entries under the root (a shared root, a group-writable
 * logdir). A path string like "<root>/<logdir>/<run>" would follow any
 * symbolic link planted on the way, and a link swapped in between a check
 * and an open would win the race. So every directory is reached from a
 * file descriptor of the root, one component at a time, with O_NOFOLLOW:
 * a symbolic link anywhere on the way is refused (-ELOOP), whatever it
 * points to and whenever it appeared. Missing directories are made with
 * mkdirat() relative to their parent's descriptor.
 *
 * Where the kernel has openat2() (Linux 5.6), an existing directory is
 * opened in one call with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, which
 * gives the same guarantee; the component walk is the fallback and the
 * way to create.
 *
 * Pure: no logging. Thread-safe (no state but a cached "openat2 works"). */
#ifndef TFEVENTS_CONFINE_H
#define TFEVENTS_CONFINE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest relative path accepted (bytes). Names are normalised to at most
 * LOGDIR_MAX_NAME (1024) each, and a run path is a logdir name plus a run
 * name, plus a per-user prefix. */
#define CONFINE_MAX_PATH 4096u

/* Open the directory rel (a relative path of plain components separated
 * by '/'; "." or "" is the root itself) beneath root_fd (borrowed). With
 * create, missing directories are made (mode 0777 minus the umask).
 * On success *ret_fd is a new O_DIRECTORY descriptor (O_CLOEXEC) the caller
 * owns. Errors:
 *   -EINVAL        rel is absolute, or holds a ".." or "." component
 *   -ENAMETOOLONG  rel is longer than CONFINE_MAX_PATH or a component is
 *                  longer than NAME_MAX
 *   -ELOOP         a component is a symbolic link (not followed)
 *   -ENOTDIR       a component exists and is not a directory
 *   -EXDEV         the kernel saw the path leave the root (openat2)
 *   -ENOENT        a component is missing and create is false
 *   other -errno   from openat()/mkdirat() (-EACCES, -ENOSPC, -EMFILE, ...) */
int confine_open_dir(int root_fd, const char *rel, bool create, int *ret_fd);

/* A sentence for the errors above, about a path under the root. */
const char *confine_strerror(int err);

#endif
