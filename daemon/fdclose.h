/* fdclose.h -- uv_close() for a handle that owns a descriptor (a socket, a
 * listener), told to ThreadSanitizer.
 *
 * libuv closes descriptors with the close system call directly, which the
 * sanitizer does not see. When the number is then reused for a file that a
 * thread of the pool opens (openat is not intercepted either) and closes,
 * that close reads as a race with the loop's last use of the old socket.
 * libuv's own sanitized builds tell the sanitizer through the syscall hook;
 * this does the same just before uv_close() closes the descriptor. Outside
 * a -fsanitize=thread build it is uv_close(). */
#ifndef TFEVENTSD_FDCLOSE_H
#define TFEVENTSD_FDCLOSE_H

#include <uv.h>

#if defined(__SANITIZE_THREAD__)
void __sanitizer_syscall_pre_impl_close(long fd);
#endif

static inline void fd_handle_close(uv_handle_t *h, uv_close_cb cb)
{
#if defined(__SANITIZE_THREAD__)
    uv_os_fd_t fd;
    if (uv_fileno(h, &fd) == 0)
        __sanitizer_syscall_pre_impl_close(fd);
#endif
    uv_close(h, cb);
}

#endif
