/* cli_filter: --run, --tag, --view and --precision of collect and export
 * (see cli_filter.h). */
#include "cli_filter.h"

#include <fnmatch.h>
#include <string.h>

#include "cli.h"

void cli_filter_init(struct cli_filter *f, const char *cmd)
{
    *f = (struct cli_filter){.cmd = cmd};
}

int cli_filter_option(struct cli_filter *f, int c, const char *arg)
{
    switch (c) {
    case 'r':
        f->run_glob = arg;
        return 1;
    case 'g':
        f->tag_glob = arg;
        return 1;
    case 'v':
        if (strcmp(arg, "tensorboard") != 0 && strcmp(arg, "raw") != 0) {
            cli_error("%s: unknown --view '%s' (raw, tensorboard)", f->cmd, arg);
            return -1;
        }
        f->view = arg[0] == 't';
        return 1;
    case 'p':
        if (!cli_parse_precision(arg, &f->full)) {
            cli_error("%s: unknown --precision '%s' (shortest, full)", f->cmd, arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

bool cli_filter_run(const struct cli_filter *f, const char *run)
{
    return !f->run_glob || fnmatch(f->run_glob, run, 0) == 0;
}

bool cli_filter_tag(const struct cli_filter *f, const char *tag)
{
    return !f->tag_glob || fnmatch(f->tag_glob, tag, 0) == 0;
}
