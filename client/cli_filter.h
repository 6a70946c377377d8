/* cli_filter: the options collect and export share to choose and render
 * values: --run GLOB, --tag GLOB, --view raw|tensorboard and --precision
 * shortest|full, parsed once for both (as cli_lib.h does for the commands
 * that write). */
#ifndef TFEVENTS_CLI_FILTER_H
#define TFEVENTS_CLI_FILTER_H

#include <stdbool.h>

struct cli_filter {
    const char *cmd;         /* for messages: "collect", "export" */
    const char *run_glob;    /* NULL: every run */
    const char *tag_glob;    /* NULL: every tag */
    bool view;               /* --view tensorboard */
    bool full;               /* --precision full */
};

/* The shared options' entries of a struct option table, and their letters
 * for getopt's short option string. */
#define CLI_FILTER_LONGOPTS                                                                   \
    {"run", required_argument, NULL, 'r'}, {"tag", required_argument, NULL, 'g'},             \
        {"view", required_argument, NULL, 'v'}, {"precision", required_argument, NULL, 'p'}
#define CLI_FILTER_SHORTOPTS "r:g:v:p:"

/* Their usage lines. */
#define CLI_FILTER_USAGE                                                                      \
    "  -r, --run GLOB       only runs matching GLOB (fnmatch(3); '*' matches '/')\n"          \
    "  -g, --tag GLOB       only tags matching GLOB\n"                                        \
    "  -v, --view VIEW      raw (default): every value as written; tensorboard:\n"            \
    "                       only what TensorBoard keeps (restart and\n"                       \
    "                       backward-step purges applied)\n"                                  \
    "  -p, --precision P    shortest (default): a float32 as the shortest decimal\n"          \
    "                       that reads back (0.1); full: the exact double of the\n"           \
    "                       stored number (0.10000000149011612)\n"

void cli_filter_init(struct cli_filter *f, const char *cmd);

/* Take getopt's c/arg when it is a shared option: 1 taken, 0 not one of
 * them, -1 a usage error (already said). */
int cli_filter_option(struct cli_filter *f, int c, const char *arg);

/* Does the run (tag) pass --run (--tag)? */
bool cli_filter_run(const struct cli_filter *f, const char *run);
bool cli_filter_tag(const struct cli_filter *f, const char *tag);

#endif
