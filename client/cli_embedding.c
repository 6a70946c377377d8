/* tfevents embedding: an embedding for TensorBoard's projector from a
 * tensor TSV (and optional metadata TSV and sprite PNG), written through
 * libtfevents' tfevents_add_embedding() (tfeventsd when it answers, else
 * in-process), where the projector finds it: files below the run
 * directory and an entry merged into its projector_config.pbtxt. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lib.h"
#include "cli_log_files.h"
#include "cli_parse.h"
#include "tfevents.h"

enum { EMB_OPT_SPRITE_SIZE = CLI_LIB_OPT_NEXT };

static void embedding_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents embedding [--logdir DIR] [--run RUN] [--step N]\n"
        "                          [--metadata FILE] [--sprite PNG --sprite-size WxH]\n"
        "                          [--socket PATH] [--daemon|--embedded] TAG TENSOR.tsv\n"
        "\n"
        "Write an embedding for TensorBoard's projector: TENSOR.tsv holds one point\n"
        "per line, its numbers separated by tabs (spaces and commas work too). It\n"
        "becomes RUN/STEP/TAG/tensors.tsv (STEP as %%05d) under the logdir, listed\n"
        "as TAG:STEP in RUN/projector_config.pbtxt (merged with what is there).\n"
        "\n"
        "  -r, --run RUN       the run directory (default: the logdir itself, '.')\n"
        "  -S, --step N        0 .. 2^31-1 (default 0)\n"
        "  -M, --metadata FILE labels, a line per point: one column, or several\n"
        "                      tab-separated with a header line naming them\n"
        "  -P, --sprite PNG    a sprite image: a square grid of one image per point\n"
        "      --sprite-size WxH  the size of one image in the sprite (required with it)\n"
        CLI_LIB_USAGE
        "\n"
        "exit status: 0 written, 1 refused, 2 usage error or bad file, 3 no daemon\n"
        "with --daemon, or I/O error\n");
}

/* path's whole content (cli_log_read_file), or why not on stderr. */
static int read_or_say(const char *path, char **text, size_t *len)
{
    int r = cli_log_read_file(path, text, len);
    if (r < 0)
        cli_error("embedding: %s: %s", path, r == -EFBIG ? "larger than 256 MiB"
                  : r == -EINVAL ? "not a regular file" : strerror(-r));
    return r;
}

static void say(const char *path, const struct cli_parse_err *err)
{
    if (err->line)
        cli_error("embedding: %s:%zu: %s", path, err->line, err->why);
    else
        cli_error("embedding: %s: %s", path, err->why);
}

static int read_tensor(const char *path, float **ret, size_t *rows, size_t *cols)
{
    char *text;
    size_t len;
    int r = read_or_say(path, &text, &len);
    if (r < 0)
        return r;
    struct cli_parse_err err;
    if ((r = cli_parse_emb_tensor(text, len, NULL, ret, rows, cols, &err)) < 0)
        say(path, &err);
    free(text);
    return r;
}

/* The metadata's strings point into text (kept until the end). */
static int read_metadata(const char *path, char **text, struct cli_emb_metadata *m)
{
    size_t len;
    int r = read_or_say(path, text, &len);
    if (r < 0)
        return r;
    struct cli_parse_err err;
    if ((r = cli_parse_emb_metadata(*text, len, NULL, m, &err)) < 0)
        say(path, &err);
    return r;
}

struct emb_args {
    struct cli_lib_opts lib;
    const char *run, *metadata, *sprite;
    uint32_t sprite_w, sprite_h;
    int64_t step;
};

static int embedding_parse(int argc, char **argv, struct emb_args *a)
{
    static const struct option longopts[] = {
        CLI_LIB_LONGOPTS,
        {"run", required_argument, NULL, 'r'},
        {"step", required_argument, NULL, 'S'},
        {"metadata", required_argument, NULL, 'M'},
        {"sprite", required_argument, NULL, 'P'},
        {"sprite-size", required_argument, NULL, EMB_OPT_SPRITE_SIZE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_lib_opts_init(&a->lib, "embedding");
    int c, t;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:s:r:S:M:P:h", longopts, NULL)) != -1) {
        if ((t = cli_lib_option(&a->lib, c, optarg)) != 0) {
            if (t < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        unsigned long long v;
        char x;
        switch (c) {
        case 'r': a->run = optarg; break;
        case 'M': a->metadata = optarg; break;
        case 'P': a->sprite = optarg; break;
        case 'S':
            if (!cli_parse_count(optarg, &v) || v > INT32_MAX) {
                cli_error("embedding: --step '%s' is not 0 .. 2^31-1", optarg);
                return CLI_EXIT_USAGE;
            }
            a->step = (int64_t)v;
            break;
        case EMB_OPT_SPRITE_SIZE:
            if (sscanf(optarg, "%" SCNu32 "x%" SCNu32 "%c", &a->sprite_w, &a->sprite_h, &x) != 2 ||
                !a->sprite_w || !a->sprite_h) {
                cli_error("embedding: --sprite-size '%s' is not WIDTHxHEIGHT", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            embedding_usage(stdout);
            return -1;
        case ':':
            cli_error("embedding: option '%s' needs a value", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        default:
            cli_error("embedding: unknown option '%s'", argv[optind - 1]);
            embedding_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_error("embedding: TAG and TENSOR.tsv are needed");
        embedding_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!a->sprite != !a->sprite_w) {
        cli_error("embedding: --sprite and --sprite-size go together");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_embedding_main(int argc, char **argv)
{
    struct emb_args a = {0};
    int st = embedding_parse(argc, argv, &a);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    struct tfevents_embedding e = {.tag = argv[optind]};
    float *tensor = NULL;
    struct cli_emb_metadata md = {0};
    char *md_text = NULL, *sprite = NULL;
    /* Every file is read and checked before anything is opened or sent. */
    int r = read_tensor(argv[optind + 1], &tensor, &e.rows, &e.cols);
    if (!r && a.metadata && !(r = read_metadata(a.metadata, &md_text, &md)) && md.rows != e.rows) {
        cli_error("embedding: %s has %zu labels for %zu points", a.metadata, md.rows, e.rows);
        r = -EINVAL;
    }
    if (!r && a.sprite && (r = cli_log_read_file(a.sprite, &sprite, &e.sprite_len)) < 0)
        cli_error("embedding: %s: %s", a.sprite, strerror(-r));
    tfevents *h = NULL;
    if (r)
        st = r == -ENOMEM || r == -ENOENT || r == -EACCES ? CLI_EXIT_IO : CLI_EXIT_USAGE;
    else
        st = cli_lib_open(&a.lib, &h, NULL);
    if (st == CLI_EXIT_OK) {
        e.tensor = tensor;
        e.metadata_header = md.header;
        e.n_header = md.n_header;
        e.metadata = md.cells;
        e.sprite_png = sprite;
        e.sprite_width = a.sprite_w;
        e.sprite_height = a.sprite_h;
        if ((r = tfevents_add_embedding(h, NULL, a.run, a.step, &e)) < 0)
            st = cli_lib_fail(&a.lib, h, r);
    }
    st = cli_lib_close(&a.lib, h, st);
    free(tensor);
    free(sprite);
    cli_parse_emb_metadata_done(&md);
    free(md_text);
    return st;
}
