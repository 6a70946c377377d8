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
#include "tfevents.h"

/* Lines and cells of a TSV we take apart (the library checks the real
 * limits: points x dimensions, metadata bytes, columns). */
#define EMB_MAX_LINES ((size_t)1 << 24)
#define EMB_MAX_CELLS ((size_t)1 << 26)

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

/* Lines of text (cut in place; a final line without '\n' counts, a
 * trailing '\r' is dropped). */
static int split_lines(char *text, char ***ret, size_t *ret_n)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (char *p = text, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nv = cap <= EMB_MAX_LINES ? realloc(v, cap * sizeof *v) : NULL;
            if (!nv) {
                free(v);
                return cap > EMB_MAX_LINES ? -E2BIG : -ENOMEM;
            }
            v = nv;
        }
        v[n++] = p;
        if (!nl)
            break;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The tensor TSV: rows of numbers, every row as long as the first. */
static int read_tensor(const char *path, float **ret, size_t *rows, size_t *cols)
{
    char *text;
    size_t len, n;
    char **lines = NULL;
    int r = cli_log_read_file(path, &text, &len);
    if (r < 0) {
        cli_error("embedding: %s: %s", path, strerror(-r));
        return r;
    }
    if ((r = split_lines(text, &lines, &n)) < 0) {
        free(text);
        return r;
    }
    float *v = NULL;
    size_t nv = 0, cap = 0, w = 0, rr = 0;
    for (size_t i = 0; !r && i < n; i++) {
        size_t cells = 0;
        char *save = NULL;
        for (char *f = strtok_r(lines[i], "\t ,", &save); !r && f;
             f = strtok_r(NULL, "\t ,", &save)) {
            char *end;
            float x = strtof(f, &end);
            if (*end || end == f) {
                cli_error("embedding: %s:%zu: '%s' is not a number", path, i + 1, f);
                r = -EINVAL;
                break;
            }
            if (nv == cap) {
                cap = cap ? cap * 2 : 1024;
                float *nvp = cap <= EMB_MAX_CELLS ? realloc(v, cap * sizeof *v) : NULL;
                if (!nvp) {
                    r = cap > EMB_MAX_CELLS ? -E2BIG : -ENOMEM;
                    break;
                }
                v = nvp;
            }
            v[nv++] = x;
            cells++;
        }
        if (r || cells == 0)
            continue;   /* blank lines are skipped */
        if (w && cells != w) {
            cli_error("embedding: %s:%zu: %zu numbers, the first line has %zu", path, i + 1,
                      cells, w);
            r = -EINVAL;
        }
        w = cells;
        rr++;
    }
    free(lines);
    free(text);
    if (!r && rr == 0) {
        cli_error("embedding: %s: no numbers", path);
        r = -EINVAL;
    }
    if (r) {
        free(v);
        return r;
    }
    *ret = v;
    *rows = rr;
    *cols = w;
    return 0;
}

struct metadata {
    char *text;
    char **lines;
    const char **header, **cells;
    size_t n_header, n_cells, rows;
};

static void metadata_done(struct metadata *m)
{
    free(m->text);
    free(m->lines);
    free(m->header);
    free(m->cells);
}

/* The metadata TSV: with tabs in its first line, a header and that many
 * columns per line; else one column, a line per point. */
static int read_metadata(const char *path, struct metadata *m)
{
    size_t len, n;
    int r = cli_log_read_file(path, &m->text, &len);
    if (r < 0) {
        cli_error("embedding: %s: %s", path, strerror(-r));
        return r;
    }
    if ((r = split_lines(m->text, &m->lines, &n)) < 0)
        return r;
    while (n > 0 && !*m->lines[n - 1])
        n--;   /* trailing blank lines */
    size_t cols = 1;
    for (const char *p = n ? m->lines[0] : ""; *p; p++)
        cols += *p == '\t';
    size_t first = cols > 1 ? 1 : 0;
    if (n <= first) {
        cli_error("embedding: %s: no labels", path);
        return -EINVAL;
    }
    m->rows = n - first;
    m->header = cols > 1 ? calloc(cols, sizeof *m->header) : NULL;
    m->cells = calloc(m->rows * cols, sizeof *m->cells);
    if ((cols > 1 && !m->header) || !m->cells)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (char *p = m->lines[i], *tab;; p = tab + 1) {
            tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            if (c < cols) {
                if (i < first)
                    m->header[c] = p;
                else
                    m->cells[(i - first) * cols + c] = p;
            }
            c++;
            if (!tab)
                break;
        }
        if (c != cols) {
            cli_error("embedding: %s:%zu: %zu columns, the first line has %zu", path, i + 1, c,
                      cols);
            return -EINVAL;
        }
    }
    m->n_header = cols > 1 ? cols : 0;
    m->n_cells = m->rows * cols;
    return 0;
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
    struct metadata md = {0};
    char *sprite = NULL;
    /* Every file is read and checked before anything is opened or sent. */
    int r = read_tensor(argv[optind + 1], &tensor, &e.rows, &e.cols);
    if (!r && a.metadata && !(r = read_metadata(a.metadata, &md)) && md.rows != e.rows) {
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
    metadata_done(&md);
    return st;
}
