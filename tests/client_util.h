/* client_util: what the libtfevents tests share: a real tfeventsd on a
 * temporary socket and root, a logdir read back as sorted text lines, and
 * eventlint. */
#ifndef TFEVENTS_CLIENT_UTIL_H
#define TFEVENTS_CLIENT_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* The daemon started by client_util_start_daemon() (pid 0: none). */
extern pid_t client_util_daemon_pid;
extern char client_util_daemon_sock[100];
extern char client_util_daemon_root[512];

/* Start tfeventsd ($TFEVENTSD) with socket and root under tmp and wait
 * until its socket answers. -ENOENT when $TFEVENTSD is not set. */
int client_util_start_daemon(const char *tmp);
void client_util_stop_daemon(void);

/* One line per record of logdir (wall times left out), sorted; hparams
 * JSON holds times, so only its tag is kept. Caller frees; NULL when the
 * logdir cannot be read. */
char *client_util_dump(const char *logdir, size_t *ret_records);

/* client_util_dump(logdir) must be want (a failed check otherwise). */
void client_util_check_dump(const char *logdir, const char *want);

/* eventlint --strict on logdir must pass (skipped with a note without the
 * shared tools). */
void client_util_eventlint(const char *logdir);

#endif
