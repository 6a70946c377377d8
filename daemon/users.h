/* users: the directory of a peer under --per-user-root, named for its
 * user: the user name when it is a plain path component, else
 * "uid-<n>".
 *
 * getpwuid_r() may ask a network service (NSS: LDAP, sssd), so it never
 * runs on the loop thread: users_resolve() looks a uid up on the thread
 * pool, once (the answer is cached for the daemon's life, up to
 * USERS_CACHE uids, then the oldest is forgotten). A connection of
 * --per-user-root starts reading only when its directory is known and
 * prepared (private to its user: see users_resolve()). */
#ifndef TFEVENTSD_USERS_H
#define TFEVENTSD_USERS_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

/* Uids whose directory name is remembered. */
#define USERS_CACHE 64u
/* Longest user name used as a directory; longer ones get uid-<n>. */
#define USERS_MAX_NAME 64u

/* Copy uid's directory name into out[USERS_MAX_NAME + 1] when it is
 * cached: true; false when it must be looked up. Loop thread. */
bool users_cached(uid_t uid, char out[USERS_MAX_NAME + 1]);

/* Look uid up on loop's thread pool, cache it, then call done(ctx, name,
 * dir_err) on the loop thread (name borrowed for the call). With root
 * (borrowed until done), the user's directory <root>/<name> is prepared
 * there too: made if needed, owned by the daemon's user, mode 0700, and
 * readable (r-x, files r--) by uid alone through a POSIX ACL, inherited
 * by everything created beneath (not for uid 0 or the daemon's own uid,
 * who need none). dir_err is 0 or the -errno of that (-EOPNOTSUPP: no
 * ACLs on this file system; the directory stays 0700, private to the
 * daemon). 0, or -ENOMEM / a uv error (done is then not called). */
int users_resolve(uv_loop_t *loop, uid_t uid, const char *root,
                  void (*done)(void *ctx, const char *name, int dir_err), void *ctx);

#endif
