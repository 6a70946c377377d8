#include "cli_s3.h"

#include <errno.h>
#include <stddef.h>

#include "cli.h"

int cli_s3_open(const char **logdir, s3mirror **ret_m)
{
    *ret_m = NULL;
    if (!s3mirror_is_url(*logdir))
        return 0;
    char err[512];
    s3mirror *m = NULL;
    int r = s3mirror_open(&m, *logdir, err, sizeof err);
    if (r < 0) {
        cli_error("%s", r == -ENOMEM ? "out of memory" : err);
        return r;
    }
    r = cli_s3_sync(m, false);
    if (r < 0) {
        s3mirror_free(m);
        return r;
    }
    *ret_m = m;
    *logdir = s3mirror_dir(m);
    return 0;
}

int cli_s3_sync(s3mirror *m, bool quiet)
{
    int r = s3mirror_sync(m);
    if (r < 0 && !quiet)
        cli_error("%s", s3mirror_error(m));
    return r;
}
