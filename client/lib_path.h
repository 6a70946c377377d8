/* lib_path: how libtfevents names a logdir path for its two transports.
 *
 * A caller's logdir is made absolute and normalised lexically first (so
 * that "runs/../logs" and "./logs" are one logdir and one route). The
 * embedded writer names it by that path without its leading slash; the
 * daemon by its path under the daemon's root, compared with symbolic links
 * resolved (the root is a real path), or not at all when it lies outside
 * the root. Pure but for getcwd() and realpath(); no state. */
#ifndef TFEVENTS_LIB_PATH_H
#define TFEVENTS_LIB_PATH_H

#include <stddef.h>

#include "tfevents.h"

/* path made absolute (against the working directory) into out (size
 * bytes) and normalised lexically: "." and empty components dropped, ".."
 * resolved ("/.." is "/"). -EINVAL for an empty path, -ENAMETOOLONG past
 * size or TFEVENTS_MAX_PATH. */
int lib_path_absolute(const char *path, char *out, size_t size);

/* abs (absolute) with the symbolic links of its longest existing prefix
 * resolved, into out (PATH_MAX bytes); the rest is kept as it is.
 * -ENOENT when not even "/" resolves, -ENAMETOOLONG past PATH_MAX. */
int lib_path_resolve_existing(const char *abs, char *out);

/* The embedded writer's logdir name for abs (absolute, normalised): abs
 * without its leading slash, "." for "/". name holds LOGDIR_MAX_NAME + 1
 * bytes; logdir_normalize()'s errors. */
int lib_path_embedded_name(const char *abs, char *name);

/* The daemon's logdir name for abs: its path under root (a real absolute
 * path), "." for the root itself, with symbolic links resolved as
 * lib_path_resolve_existing() does. -EXDEV when it lies outside root (or
 * root is not absolute); name holds LOGDIR_MAX_NAME + 1 bytes. */
int lib_path_under_root(const char *root, const char *abs, char *name);

#endif
