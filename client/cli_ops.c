/* tfevents restart, flush, close, hparams: the remaining ops of the
 * protocol from a shell, through libtfevents like log (tfeventsd when it
 * answers, else in-process, said on stderr).
 *
 * hparams arguments:
 *   config   NAME[=DOMAIN]...: DOMAIN is MIN..MAX (a float interval) or a
 *            comma-separated list (floats when every item is a number,
 *            booleans when every item is true/false, else strings);
 *            --metric TAG (repeatable) names the metrics.
 *   start    NAME=VALUE...: an integer, a number, true/false, else a
 *            string; --group NAME.
 *   end      STATUS: success, failure, running or unknown. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lib.h"
#include "tfevents.h"

/* Most NAME arguments or --metric options of one hparams command. */
#define OPS_MAX_ITEMS 1024
/* Most items of one discrete domain. */
#define OPS_MAX_DOMAIN 1024

/* ---- shared parsing ------------------------------------------------------ */

/* What the op commands take besides the shared transport options. */
struct ops_args {
    struct cli_lib_opts lib;
    const char *run;             /* --run */
    const char *group;           /* --group (hparams start) */
    const char *metrics[OPS_MAX_ITEMS];
    size_t n_metrics;            /* --metric (hparams config) */
    bool sync;                   /* --sync (flush, close) */
};

/* Parse argv for command cmd; `extra` says which of r (--run), g
 * (--group), m (--metric), y (--sync) it takes. Positional arguments are
 * left at optind. CLI_EXIT_OK, -1 after --help, or a usage error. */
static int ops_parse(int argc, char **argv, const char *cmd, const char *extra,
                     void (*usage)(FILE *), struct ops_args *a)
{
    static const struct option longopts[] = {
        CLI_LIB_LONGOPTS,
        {"run", required_argument, NULL, 'r'},
        {"group", required_argument, NULL, 'g'},
        {"metric", required_argument, NULL, 'm'},
        {"sync", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    cli_lib_opts_init(&a->lib, cmd);
    int c, t;
    opterr = 0;
    /* '+': stop at the first positional argument only for "hparams" (its
     * subcommand); elsewhere options may follow arguments. */
    while ((c = getopt_long(argc, argv, ":l:s:r:g:m:yh", longopts, NULL)) != -1) {
        if ((t = cli_lib_option(&a->lib, c, optarg)) != 0) {
            if (t < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (c == 'h') {
            usage(stdout);
            return -1;
        }
        if (c == ':' || c == '?' || !strchr(extra, c)) {
            cli_error("%s: %s '%s'", cmd, c == ':' ? "option needs a value:" : "unknown option",
                      argv[optind - 1]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (c == 'r')
            a->run = optarg;
        else if (c == 'g')
            a->group = optarg;
        else if (c == 'y')
            a->sync = true;
        else if (a->n_metrics == OPS_MAX_ITEMS) {
            cli_error("%s: more than %d --metric", cmd, OPS_MAX_ITEMS);
            return CLI_EXIT_USAGE;
        } else
            a->metrics[a->n_metrics++] = optarg;
    }
    if (a->run && !*a->run) {
        cli_error("%s: --run needs a run name ('.' for the logdir itself)", cmd);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Open, run op(h, a, arg), flush so that a refusal comes back now with the
 * daemon's sentence, close. */
static int ops_run(struct ops_args *a, int (*op)(tfevents *, const struct ops_args *, void *),
                   void *arg)
{
    tfevents *h = NULL;
    int st = cli_lib_open(&a->lib, &h, NULL);
    if (st == CLI_EXIT_OK) {
        int r = op(h, a, arg);
        if (r == 0)
            r = tfevents_flush(h, a->sync);
        if (r < 0)
            st = cli_lib_fail(&a->lib, h, r);
    }
    return cli_lib_close(&a->lib, h, st);
}

/* ---- restart ------------------------------------------------------------- */

static void restart_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents restart STEP [--run RUN] [--logdir DIR] [--socket PATH]\n"
        "                        [--daemon|--embedded]\n"
        "\n"
        "Go back to STEP (0 .. 2^53), after restoring a checkpoint: a SessionLog\n"
        "START at STEP in run RUN (default: every known run of the logdir) makes\n"
        "TensorBoard drop those runs' points at STEP and above; the tags' last\n"
        "steps become STEP-1 and the next log without --step is at STEP.\n"
        "\n"
        "  -r, --run RUN       only this run ('.' for the logdir itself)\n"
        CLI_LIB_USAGE);
}

static int restart_op(tfevents *h, const struct ops_args *a, void *arg)
{
    return tfevents_restart(h, NULL, a->run, *(int64_t *)arg);
}

int cli_restart_main(int argc, char **argv)
{
    struct ops_args a;
    int st = ops_parse(argc, argv, "restart", "r", restart_usage, &a);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    unsigned long long v;
    if (optind + 1 != argc || !cli_parse_count(argv[optind], &v) || v > (1ULL << 53)) {
        cli_error("restart: one STEP (0 .. 2^53) expected");
        restart_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    int64_t step = (int64_t)v;
    return ops_run(&a, restart_op, &step);
}

/* ---- flush, close -------------------------------------------------------- */

static void flush_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents flush [--sync] [--socket PATH] [--daemon|--embedded]\n"
        "\n"
        "Return once everything the daemon was sent (by any client, in every\n"
        "logdir) is written to the files; --sync: fsynced too. Without a daemon\n"
        "there is nothing to do: files written in-process are complete when the\n"
        "command that wrote them exits.\n"
        "\n"
        "  -y, --sync          fsync the files as well\n"
        CLI_LIB_USAGE);
}

static void close_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents close [--sync] [--logdir DIR] [--socket PATH]\n"
        "                      [--daemon|--embedded]\n"
        "\n"
        "Flush, then close the daemon's event files of the logdir: the next value\n"
        "starts a new file (to rotate files, or before copying a logdir away).\n"
        "Step counters are kept.\n"
        "\n"
        "  -y, --sync          fsync the files before closing them\n"
        CLI_LIB_USAGE);
}

static int flush_op(tfevents *h, const struct ops_args *a, void *arg)
{
    (void)arg;
    /* ops_run()'s flush is the op; without a daemon there is nothing. */
    if (tfevents_mode(h) == TFEVENTS_MODE_EMBEDDED && a->lib.mode == TFEVENTS_MODE_AUTO)
        cli_error("flush: no daemon answers: nothing to flush");
    return 0;
}

static int close_op(tfevents *h, const struct ops_args *a, void *arg)
{
    (void)arg;
    return tfevents_close_files(h, NULL, a->sync);
}

static int flush_close_main(int argc, char **argv, bool close)
{
    struct ops_args a;
    const char *cmd = close ? "close" : "flush";
    int st = ops_parse(argc, argv, cmd, "y", close ? close_usage : flush_usage, &a);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    if (optind != argc) {
        cli_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        return CLI_EXIT_USAGE;
    }
    a.lib.no_notice = !close;
    return ops_run(&a, close ? close_op : flush_op, NULL);
}

int cli_flush_main(int argc, char **argv)
{
    return flush_close_main(argc, argv, false);
}

int cli_close_main(int argc, char **argv)
{
    return flush_close_main(argc, argv, true);
}

/* ---- hparams ------------------------------------------------------------- */

static void hparams_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents hparams config [--metric TAG]... NAME[=DOMAIN]...\n"
        "       tfevents hparams start [--group NAME] NAME=VALUE...\n"
        "       tfevents hparams end success|failure|running|unknown\n"
        "       (each also takes --run RUN and the options below)\n"
        "\n"
        "TensorBoard's HPARAMS dashboard. config: the experiment's hyperparameters\n"
        "(DOMAIN is MIN..MAX, a float interval, or a comma-separated list: floats\n"
        "when every item is a number, booleans when every item is true/false,\n"
        "else strings) and metrics (scalar tags). start: a session's values in run\n"
        "RUN (an integer, a number, true/false, else a string). end: its status.\n"
        "\n"
        "  -r, --run RUN       the run (default: the logdir itself)\n"
        "  -m, --metric TAG    a metric of the experiment (config; repeatable)\n"
        "  -g, --group NAME    the session group (start; default: TensorBoard's)\n"
        CLI_LIB_USAGE);
}

/* The hparams value spelled s: an integer, a number, a boolean or else a
 * string (borrowing s). */
static struct tfevents_hparam_value hparam_value(const char *s)
{
    struct tfevents_hparam_value v = {.kind = TFEVENTS_HPARAM_STRING, .string = s};
    char *end;
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        return (struct tfevents_hparam_value){.kind = TFEVENTS_HPARAM_BOOL,
                                              .boolean = *s == 't'};
    if (!*s || strchr(s, 'x') || strchr(s, 'X') || *s == ' ')
        return v;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (!*end && !errno)
        return (struct tfevents_hparam_value){.kind = TFEVENTS_HPARAM_INT, .integer = i};
    double d = strtod(s, &end);
    if (!*end)
        return (struct tfevents_hparam_value){.kind = TFEVENTS_HPARAM_NUMBER, .number = d};
    return v;
}

/* Split NAME=DOMAIN (arg is modified) into one hparam_info; the domain's
 * items go to vals (room for OPS_MAX_DOMAIN). */
static int parse_domain(char *arg, struct tfevents_hparam_info *hi,
                        struct tfevents_hparam_value *vals)
{
    *hi = (struct tfevents_hparam_info){.name = arg};
    char *eq = strchr(arg, '=');
    if (!eq)
        return *arg ? 0 : -EINVAL;
    *eq = '\0';
    char *dom = eq + 1, *dots = strstr(dom, "..");
    if (!*arg || !*dom)
        return -EINVAL;
    if (dots) {
        char *end;
        *dots = '\0';
        hi->min = strtod(dom, &end);
        if (end == dom || *end)
            return -EINVAL;
        hi->max = strtod(dots + 2, &end);
        if (end == dots + 2 || *end || !(hi->min <= hi->max))
            return -EINVAL;
        hi->has_interval = true;
        hi->type = TFEVENTS_HPARAM_TYPE_FLOAT;
        return 0;
    }
    bool numbers = true, bools = true;
    const char *items[OPS_MAX_DOMAIN];
    size_t n = 0;
    for (char *save = NULL, *it = strtok_r(dom, ",", &save); it;
         it = strtok_r(NULL, ",", &save)) {
        if (n == OPS_MAX_DOMAIN)
            return -E2BIG;
        items[n] = it;
        vals[n] = hparam_value(it);
        numbers &= vals[n].kind == TFEVENTS_HPARAM_INT || vals[n].kind == TFEVENTS_HPARAM_NUMBER;
        bools &= vals[n].kind == TFEVENTS_HPARAM_BOOL;
        n++;
    }
    /* One type per domain: numbers stay numbers, anything mixed is text. */
    for (size_t i = 0; i < n; i++) {
        if (numbers && vals[i].kind == TFEVENTS_HPARAM_INT)
            vals[i] = (struct tfevents_hparam_value){.kind = TFEVENTS_HPARAM_NUMBER,
                                                     .number = (double)vals[i].integer};
        else if (!numbers && !bools)
            vals[i] = (struct tfevents_hparam_value){.kind = TFEVENTS_HPARAM_STRING,
                                                     .string = items[i]};
    }
    hi->values = vals;
    hi->n_values = n;
    hi->type = numbers ? TFEVENTS_HPARAM_TYPE_FLOAT
                       : bools ? TFEVENTS_HPARAM_TYPE_BOOL : TFEVENTS_HPARAM_TYPE_STRING;
    return 0;
}

/* One hparams command, parsed before anything is opened. */
struct hparams_call {
    int sub;                     /* 'c'onfig, 's'tart, 'e'nd */
    char **args;
    size_t n;
    enum tfevents_status status;
    struct tfevents_hparam_info *infos;      /* config */
    struct tfevents_hparam_value *values;    /* config: OPS_MAX_DOMAIN per info */
    struct tfevents_hparam *hparams;         /* start */
};

static void hparams_call_free(struct hparams_call *c)
{
    free(c->infos);
    free(c->values);
    free(c->hparams);
}

/* Parse the NAME[=DOMAIN] or NAME=VALUE arguments (modified in place).
 * CLI_EXIT_OK or the exit status after a message. */
static int hparams_parse_args(struct hparams_call *c)
{
    size_t n = c->n + 1;    /* never calloc(0) */
    if (c->sub == 'c') {
        c->infos = calloc(n, sizeof *c->infos);
        c->values = calloc(n * OPS_MAX_DOMAIN, sizeof *c->values);
    } else if (c->sub == 's') {
        c->hparams = calloc(n, sizeof *c->hparams);
    }
    if ((c->sub == 'c' && (!c->infos || !c->values)) || (c->sub == 's' && !c->hparams)) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    char copy[256];
    for (size_t i = 0; i < c->n && c->sub != 'e'; i++) {
        char *arg = c->args[i], *eq = strchr(arg, '=');
        if (c->sub == 's' && eq && eq != arg) {
            *eq = '\0';
            c->hparams[i] = (struct tfevents_hparam){.name = arg, .value = hparam_value(eq + 1)};
            continue;
        }
        if (c->sub == 'c') {
            snprintf(copy, sizeof copy, "%s", arg);
            if (parse_domain(arg, &c->infos[i], c->values + i * OPS_MAX_DOMAIN) == 0)
                continue;
            arg = copy;
        }
        cli_error("hparams: '%s' is not %s", arg,
                  c->sub == 's' ? "NAME=VALUE" : "NAME, NAME=MIN..MAX or NAME=A,B,...");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int hparams_op(tfevents *h, const struct ops_args *a, void *arg)
{
    const struct hparams_call *c = arg;
    if (c->sub == 'c') {
        struct tfevents_metric_info ms[OPS_MAX_ITEMS];
        for (size_t i = 0; i < a->n_metrics; i++)
            ms[i] = (struct tfevents_metric_info){.tag = a->metrics[i]};
        return tfevents_hparams_config(h, NULL, a->run, c->infos, c->n, ms, a->n_metrics);
    }
    if (c->sub == 's')
        return tfevents_hparams_session_start(h, NULL, a->run, c->hparams, c->n, a->group);
    return tfevents_hparams_session_end(h, NULL, a->run, c->status);
}

/* The subcommand and its arguments; CLI_EXIT_OK or a usage error. */
static int hparams_check(const struct ops_args *a, int argc, char **argv, struct hparams_call *c)
{
    static const char *const statuses[] = {"unknown", "success", "failure", "running"};
    const char *sub = optind < argc ? argv[optind] : "";
    *c = (struct hparams_call){.args = argv + optind + 1,
                               .n = optind < argc ? (size_t)(argc - optind - 1) : 0};
    if (strcmp(sub, "config") == 0 || strcmp(sub, "start") == 0) {
        c->sub = sub[0] == 'c' ? 'c' : 's';
        if ((c->sub == 's' && c->n == 0) || c->n > OPS_MAX_ITEMS) {
            cli_error("hparams: %s takes up to %d arguments (start: at least one)", sub,
                      OPS_MAX_ITEMS);
            return CLI_EXIT_USAGE;
        }
    } else if (strcmp(sub, "end") == 0 && c->n == 1) {
        c->sub = 'e';
        for (c->status = 0; c->status < 4; c->status++)
            if (strcmp(c->args[0], statuses[c->status]) == 0)
                break;
        if (c->status == 4) {
            cli_error("hparams: end: '%s' is not success, failure, running or unknown",
                      c->args[0]);
            return CLI_EXIT_USAGE;
        }
    } else {
        cli_error("hparams: config, start NAME=VALUE... or end STATUS expected");
        return CLI_EXIT_USAGE;
    }
    if ((a->group && c->sub != 's') || (a->n_metrics && c->sub != 'c')) {
        cli_error("hparams: --group is for start, --metric for config");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_hparams_main(int argc, char **argv)
{
    struct ops_args a;
    int st = ops_parse(argc, argv, "hparams", "rgm", hparams_usage, &a);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    struct hparams_call c;
    if ((st = hparams_check(&a, argc, argv, &c)) != CLI_EXIT_OK) {
        hparams_usage(stderr);
        return st;
    }
    st = hparams_parse_args(&c);
    if (st == CLI_EXIT_OK)
        st = ops_run(&a, hparams_op, &c);
    hparams_call_free(&c);
    return st;
}
