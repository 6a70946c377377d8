#include "sockpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

int sockpath_default(char *out, size_t size)
{
    struct sockaddr_un sa;
    const char *env = getenv("TFEVENTS_SOCKET");
    const char *rt = getenv("XDG_RUNTIME_DIR");
    int n;
    if (env && *env)
        n = snprintf(out, size, "%s", env);
    else if (rt && *rt)
        n = snprintf(out, size, "%s/tfevents.sock", rt);
    else if (geteuid() == 0)
        n = snprintf(out, size, "/run/tfevents.sock");
    else
        n = snprintf(out, size, "./tfevents.sock");
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    return 0;
}
