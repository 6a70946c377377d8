/* fdio: whole writes to a file descriptor.
 *
 * write(2) may write less than asked (a signal, a pipe, a full disk near
 * its end); the callers here want all or an error. Pure of any policy: no
 * fsync, no retries but EINTR. */
#ifndef TFEVENTS_FDIO_H
#define TFEVENTS_FDIO_H

#include <stddef.h>

/* Write data[0..len) to fd, continuing after short writes and EINTR.
 * 0, or -errno of the failed write (what was written before stays). */
int fdio_write_all(int fd, const void *data, size_t len);

#endif
