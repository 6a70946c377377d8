/* tfevents log: log scalars and text from a shell, one invocation = one
 * message = one step, through libtfevents (tfeventsd when one answers,
 * else written in-process).
 *
 * Naming: NAME=VALUE, NAME split at its last '/' into a run and a tag
 * ("train/eval/acc" is tag "acc" in run "train/eval", as nested names are
 * runs in the R package and in the JSON protocol's nested objects); with
 * --run every NAME is a whole tag, slashes included. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_daemon.h"
#include "cli_lib.h"
#include "cli_log_files.h"
#include "tfevents.h"

/* --image, --pr-curve, --mesh, --layout, --graph and --run-metadata
 * options of one invocation. */
#define LOG_MAX_FILE_VALUES 256

static void log_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents log [--logdir DIR] [--step N|current] [--run RUN] [--text]\n"
        "                    [--socket PATH] [--daemon|--embedded] [--print-step]\n"
        "                    [--image NAME=FILE] [--pr-curve NAME=FILE [--thresholds N]]\n"
        "                    [--mesh NAME=FILE [--mesh-config JSON]] [--layout FILE]\n"
        "                    [--graph FILE] [--run-metadata TAG=FILE] [NAME=VALUE...]\n"
        "\n"
        "Log values at one step, each as its own event: VALUE is a scalar when it\n"
        "is a decimal number as strtod(3) reads it whole (1, -2.5e-3, nan, inf),\n"
        "else text (Markdown). NAME is RUN/TAG split at the last '/': 'loss=0.5'\n"
        "is tag loss in the logdir itself, 'train/eval/acc=0.9' tag acc in run\n"
        "train/eval. Everything after the first '=' is the value.\n"
        "\n"
        "Through tfeventsd when it answers on the socket (DIR must then lie under\n"
        "its root), else the files are written by this process (a new event file\n"
        "per run and invocation: run tfeventsd to log often); that fallback is\n"
        "announced on stderr unless --embedded (or TFEVENTS_MODE=embedded) asks for it.\n"
        "\n"
        "  -S, --step N|current\n"
        "                      log at step N (0 .. 2^53) or at the current step;\n"
        "                      default: the next step of the logdir's counter\n"
        "  -r, --run RUN       every value in run RUN; NAMEs are whole tags\n"
        "  -t, --text          every VALUE is text, even a number\n"
        "  -p, --print-step    print the step the values were logged at\n"
        "  -i, --image NAME=FILE\n"
        "                      a PNG, JPEG or GIF file (animated GIFs play) as an image\n"
        "  -c, --pr-curve NAME=FILE\n"
        "                      a PR curve from rows 'LABEL PREDICTION [WEIGHT]' (spaces\n"
        "                      or commas; labels 1/0 or true/false, predictions in\n"
        "                      [0,1]), computed as TensorBoard's pr_curve summary does\n"
        "      --thresholds N  the PR curves' thresholds, 2..65536 (default 127)\n"
        "  -m, --mesh NAME=FILE\n"
        "                      a mesh or point cloud from an ASCII PLY or OBJ file\n"
        "      --mesh-config JSON\n"
        "                      the meshes' three.js camera/material/lights settings\n"
        "                      (NAME=FILE options may repeat; NAME is RUN/TAG as above)\n"
        "      --layout FILE   a custom scalars layout from JSON: {\"categories\": [{\"title\",\n"
        "                      \"charts\": [{\"title\", \"multiline\": [REGEX...]}]}]} (as the\n"
        "                      protocol's $layout), in the run of --run (default '.')\n"
        "  -g, --graph FILE    a model graph for the graphs dashboard: a serialized\n"
        "                      GraphDef (tf.io.write_graph(..., as_text=False)), in the\n"
        "                      run of --run (default '.')\n"
        "      --run-metadata TAG=FILE\n"
        "                      a traced step's serialized RunMetadata under TAG (RUN/TAG\n"
        "                      as NAME above). Graphs and run metadata are checked as\n"
        "                      TensorBoard parses them, and logged after the values, at\n"
        "                      --step N, else at the values' step, else at the logdir's\n"
        "                      current step (0 before any); the counter is left alone\n"
        CLI_LIB_USAGE
        "\n"
        "exit status: 0 logged, 1 refused (a step not above the tag's last step,\n"
        "invalid text...), 2 usage error, 3 no daemon with --daemon, or I/O error\n");
}

/* A whole decimal number: what strtod reads completely, hexadecimal
 * excepted (0x10 reads as text, as a user would expect). */
static bool parse_number(const char *s, double *ret)
{
    if (!*s || strchr(s, 'x') || strchr(s, 'X') || *s == ' ' || *s == '\t' || *s == '\n')
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s)
        return false;
    /* ERANGE: an overflow is still that infinity, an underflow that tiny
     * number; both are what the user wrote. */
    *ret = v;
    return true;
}

/* What a NAME=... argument adds: kind 0 NAME=VALUE, 'i' NAME=FILE of an
 * image, 'c' of a PR curve, 'm' of a mesh (with thresholds, config). */
struct arg_kind {
    int kind;
    bool text;
    unsigned thresholds;
    const char *config;
};

/* NAME=VALUE split: *ret_name (owned) holds the run (NULL: run_opt) and
 * the tag, *ret_value points into arg. CLI_EXIT_OK, or the exit status
 * after a message. */
static int split_arg(const char *arg, const char *run_opt, bool file, char **ret_name,
                     const char **ret_run, const char **ret_tag, const char **ret_value)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (file && !eq[1])) {
        cli_error("log: '%s' is not NAME=%s", arg, file ? "FILE" : "VALUE");
        return CLI_EXIT_USAGE;
    }
    size_t nlen = (size_t)(eq - arg);
    char *name = strndup(arg, nlen);
    if (!name) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    const char *run = run_opt, *tag = name;
    if (!run_opt) {
        char *slash = strrchr(name, '/');
        if (slash) {
            *slash = '\0';
            run = name;
            tag = slash + 1;
        }
    }
    if (!*tag || (run && !*run)) {
        cli_error("log: '%.*s' has an empty %s", (int)nlen, arg, *tag ? "run" : "tag");
        free(name);
        return CLI_EXIT_USAGE;
    }
    *ret_name = name;
    *ret_run = run;
    *ret_tag = tag;
    *ret_value = eq + 1;
    return CLI_EXIT_OK;
}

/* Add NAME=VALUE (or NAME=FILE) to vs. CLI_EXIT_OK, or the exit status
 * after a message. */
static int add_arg(tfevents_values *vs, const char *arg, const char *run_opt,
                   const struct arg_kind *k)
{
    char *name;
    const char *run, *tag, *value;
    int st = split_arg(arg, run_opt, k->kind != 0, &name, &run, &tag, &value);
    if (st != CLI_EXIT_OK)
        return st;
    size_t nlen = strlen(arg) - strlen(value) - 1;
    double d;
    int r;
    if (k->kind) {
        /* Files: the reader said what is wrong, with the file's name. */
        r = k->kind == 'i'   ? cli_log_image_file(vs, run, tag, value)
            : k->kind == 'c' ? cli_log_pr_curve_file(vs, run, tag, value, k->thresholds)
                             : cli_log_mesh_file(vs, run, tag, value, k->config);
        st = r == -ENOMEM ? CLI_EXIT_IO : r == 0 ? CLI_EXIT_OK
             : r == -ENOENT || r == -EACCES || r == -EISDIR ? CLI_EXIT_IO : CLI_EXIT_USAGE;
        goto out;
    }
    if (!k->text && parse_number(value, &d))
        r = tfevents_add_scalar(vs, run, tag, d);
    else
        r = tfevents_add_text(vs, run, tag, value);
    if (r < 0) {
        cli_error("log: %.*s: %s", (int)nlen, arg, strerror(-r));
        st = r == -ENOMEM ? CLI_EXIT_IO : CLI_EXIT_USAGE;
    }
out:
    free(name);
    return st;
}

struct file_value {
    int kind;            /* 'i' image, 'c' PR curve, 'm' mesh, 'y' layout, 'g' graph,
                          * LOG_OPT_RUN_METADATA */
    const char *arg;     /* NAME=FILE (a layout, a graph: FILE) */
};

/* A graph or run metadata read and checked, sent after the values. */
struct graph_value {
    char *name;          /* owned: run and tag of a run metadata (NULL: a graph) */
    const char *run, *tag;
    char *data;          /* owned: the serialized message */
    size_t len;
};

struct log_args {
    struct cli_lib_opts lib;
    const char *run;
    int64_t step;
    bool text, print_step;
    struct file_value files[LOG_MAX_FILE_VALUES];
    size_t n_files;
    unsigned thresholds;
    const char *mesh_config;
};

enum {
    LOG_OPT_THRESHOLDS = CLI_LIB_OPT_NEXT,
    LOG_OPT_MESH_CONFIG,
    LOG_OPT_RUN_METADATA,
    LOG_OPT_LAYOUT = 'y'
};

/* Parse the options; the NAME=VALUE arguments start at optind.
 * CLI_EXIT_OK, -1 for --help (done), or the exit status of a usage error. */
static int log_parse(int argc, char **argv, struct log_args *a)
{
    static const struct option longopts[] = {
        CLI_LIB_LONGOPTS,
        {"step", required_argument, NULL, 'S'},
        {"run", required_argument, NULL, 'r'},
        {"text", no_argument, NULL, 't'},
        {"print-step", no_argument, NULL, 'p'},
        {"image", required_argument, NULL, 'i'},
        {"pr-curve", required_argument, NULL, 'c'},
        {"mesh", required_argument, NULL, 'm'},
        {"thresholds", required_argument, NULL, LOG_OPT_THRESHOLDS},
        {"mesh-config", required_argument, NULL, LOG_OPT_MESH_CONFIG},
        {"layout", required_argument, NULL, LOG_OPT_LAYOUT},
        {"graph", required_argument, NULL, 'g'},
        {"run-metadata", required_argument, NULL, LOG_OPT_RUN_METADATA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_lib_opts_init(&a->lib, "log");
    a->run = NULL;
    a->step = TFEVENTS_STEP_NEXT;
    a->text = a->print_step = false;
    a->n_files = 0;
    a->thresholds = 0;
    a->mesh_config = NULL;
    int c, t;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:S:r:ts:pi:c:m:g:h", longopts, NULL)) != -1) {
        if ((t = cli_lib_option(&a->lib, c, optarg)) != 0) {
            if (t < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 'S': {
            unsigned long long v;
            if (strcmp(optarg, "current") == 0) {
                a->step = TFEVENTS_STEP_CURRENT;
            } else if (strcmp(optarg, "next") == 0) {
                a->step = TFEVENTS_STEP_NEXT;
            } else if (cli_parse_count(optarg, &v) && v <= (1ULL << 53)) {
                a->step = (int64_t)v;
            } else {
                cli_error("log: --step '%s' is not a step (0 .. 2^53 or current)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'r':
            a->run = optarg;
            break;
        case 't':
            a->text = true;
            break;
        case 'p':
            a->print_step = true;
            break;
        case 'i':
        case 'c':
        case 'm':
        case LOG_OPT_LAYOUT:
        case 'g':
        case LOG_OPT_RUN_METADATA:
            if (a->n_files == LOG_MAX_FILE_VALUES) {
                cli_error("log: at most %d --image, --pr-curve, --mesh, --layout, --graph "
                          "and --run-metadata",
                          LOG_MAX_FILE_VALUES);
                return CLI_EXIT_USAGE;
            }
            a->files[a->n_files++] = (struct file_value){c, optarg};
            break;
        case LOG_OPT_THRESHOLDS: {
            unsigned long long v;
            if (!cli_parse_count(optarg, &v) || v < 2 || v > 65536) {
                cli_error("log: --thresholds '%s' is not 2..65536", optarg);
                return CLI_EXIT_USAGE;
            }
            a->thresholds = (unsigned)v;
            break;
        }
        case LOG_OPT_MESH_CONFIG:
            a->mesh_config = optarg;
            break;
        case 'h':
            log_usage(stdout);
            return -1;
        case ':':
            cli_error("log: option '%s' needs a value", argv[optind - 1]);
            log_usage(stderr);
            return CLI_EXIT_USAGE;
        default:
            cli_error("log: unknown option '%s'", argv[optind - 1]);
            log_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc && a->n_files == 0) {
        cli_error("log: no NAME=VALUE (or --image, --pr-curve, --mesh, --layout, --graph, "
                  "--run-metadata) to log");
        log_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (a->run && !*a->run) {
        cli_error("log: --run needs a run name ('.' for the logdir itself)");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Read and check a --graph FILE or --run-metadata TAG=FILE into g. */
static int read_graph(const struct file_value *f, const char *run_opt, struct graph_value *g)
{
    const char *path = f->arg;
    *g = (struct graph_value){NULL, run_opt, NULL, NULL, 0};
    if (f->kind == LOG_OPT_RUN_METADATA) {
        int st = split_arg(f->arg, run_opt, true, &g->name, &g->run, &g->tag, &path);
        if (st != CLI_EXIT_OK)
            return st;
    }
    int r = cli_log_graph_file(path, g->tag != NULL, &g->data, &g->len);
    if (r < 0)
        free(g->name);
    return r == 0 ? CLI_EXIT_OK : r == -ENOMEM || r == -ENOENT || r == -EACCES || r == -EISDIR
                                      ? CLI_EXIT_IO : CLI_EXIT_USAGE;
}

/* Send the graphs at step: after the values (at their step, when no
 * --step N), else at the logdir's current step; the counter is left
 * alone, as a graph request leaves it. */
static int send_graphs(const struct log_args *a, tfevents *h, const struct graph_value *gs,
                       size_t n, int64_t step, int64_t *ret_step)
{
    if (step < 0) {
        int r = tfevents_get_step(h, NULL, &step);
        if (r < 0)
            return cli_lib_fail(&a->lib, h, r);
        if (step < 0)
            step = 0;
    }
    for (size_t i = 0; i < n; i++) {
        int r = gs[i].tag ? tfevents_add_run_metadata(h, NULL, gs[i].run, step, gs[i].tag,
                                                      gs[i].data, gs[i].len)
                          : tfevents_add_graph(h, NULL, gs[i].run, step, gs[i].data,
                                               gs[i].len);
        if (r < 0)
            return cli_lib_fail(&a->lib, h, r);
    }
    *ret_step = step;
    return CLI_EXIT_OK;
}

int cli_log_main(int argc, char **argv)
{
    struct log_args a;
    int st = log_parse(argc, argv, &a);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    tfevents *h = NULL;
    tfevents_values *vs = tfevents_values_new();
    struct graph_value *gs = calloc(a.n_files ? a.n_files : 1, sizeof *gs);
    size_t n_graphs = 0, n_values = (size_t)(argc - optind);
    if (!vs || !gs) {
        cli_error("out of memory");
        tfevents_values_free(vs);
        free(gs);
        return CLI_EXIT_IO;
    }
    /* Every argument is checked before anything is opened or sent. */
    struct arg_kind k = {0, a.text, a.thresholds, a.mesh_config};
    for (size_t i = 0; i < a.n_files && st == CLI_EXIT_OK; i++) {
        k.kind = a.files[i].kind;
        if (k.kind == 'g' || k.kind == LOG_OPT_RUN_METADATA) {
            st = read_graph(&a.files[i], a.run, &gs[n_graphs]);
            if (st == CLI_EXIT_OK)
                n_graphs++;
            continue;
        }
        n_values++;
        if (k.kind == LOG_OPT_LAYOUT) {
            int r = cli_log_layout_file(vs, a.run, a.files[i].arg);
            st = r == 0 ? CLI_EXIT_OK : r == -ENOMEM || r == -ENOENT || r == -EACCES
                                            ? CLI_EXIT_IO : CLI_EXIT_USAGE;
        } else {
            st = add_arg(vs, a.files[i].arg, a.run, &k);
        }
    }
    k.kind = 0;
    for (int i = optind; i < argc && st == CLI_EXIT_OK; i++)
        st = add_arg(vs, argv[i], a.run, &k);
    if (st == CLI_EXIT_OK)
        st = cli_lib_open(&a.lib, &h, NULL);
    int64_t at = a.step >= 0 ? a.step : -1;
    if (st == CLI_EXIT_OK && n_values > 0) {
        /* ret_step makes a daemon-mode call wait for the answer, so that a
         * refusal is reported here, with the daemon's sentence. */
        int r = tfevents_log(h, NULL, vs, a.step, TFEVENTS_NOW, &at);
        if (r < 0)
            st = cli_lib_fail(&a.lib, h, r);
    }
    if (st == CLI_EXIT_OK && n_graphs > 0)
        st = send_graphs(&a, h, gs, n_graphs, at, &at);
    if (st == CLI_EXIT_OK && a.print_step)
        printf("%" PRId64 "\n", at);
    st = cli_lib_close(&a.lib, h, st);
    tfevents_values_free(vs);
    for (size_t i = 0; i < n_graphs; i++) {
        free(gs[i].name);
        free(gs[i].data);
    }
    free(gs);
    return st;
}
