/* tfevents: command-line tool for TensorBoard event files.
 *
 * main() only dispatches: every subcommand lives in its own cli_*.c file
 * and is listed in the table below. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "types.pb-c.h"
#include "png.h"
#include "shortest.h"
#include "value_json.h"
#include "tfevents_build.h"

struct command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
};

static const struct command commands[] = {
    {"collect", "print the events, summary values or scalars of a logdir", cli_collect_main},
    {"export", "write a logdir's values as files: CSV, Markdown, images, WAV, PLY, projector", cli_export_main},
    {"dump", "print every record of one event file, with CRC verdicts", cli_dump_main},
    {"tail", "follow a logdir as it is written: live scalars, or one line per value", cli_tail_main},
    {"log", "log scalars and text at one step (through tfeventsd, or in-process)", cli_log_main},
    {"send", "send JSON lines to tfeventsd and print its replies", cli_send_main},
    {"step", "get or set a logdir's step counter in tfeventsd", cli_step_main},
    {"restart", "go back to a step (SessionLog START): TensorBoard drops later points",
     cli_restart_main},
    {"flush", "wait until everything sent to tfeventsd is in the files", cli_flush_main},
    {"close", "close a logdir's event files in tfeventsd (the next value starts a new one)",
     cli_close_main},
    {"hparams", "hparams config, session start and end (TensorBoard's HPARAMS)",
     cli_hparams_main},
    {"stats", "print tfeventsd's counters", cli_stats_main},
    {"ping", "check that tfeventsd answers", cli_ping_main},
    {"embedding", "an embedding for TensorBoard's projector from TSV files", cli_embedding_main},
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("tfevents: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_format_scalar(char *buf, size_t size, double d, int dtype, bool full)
{
    float f = (float)d;
    if (full || dtype != TENSORBOARD__DATA_TYPE__DT_FLOAT || !isfinite(d) || (double)f != d)
        return value_format_double(buf, size, d);
    /* Most floats are formatted exactly without printf (shortest.h). */
    int n = shortest_float(buf, size, f, 6, 9);
    if (n >= 0)
        return n;
    /* A float32 has 24 bits (~7.2 digits): when its shortest form has 6
     * digits or fewer, %.6g (which drops trailing zeros) is that form, as
     * the 6-digit grid is coarser than the float's spacing; otherwise 7, 8
     * or 9 digits, and 9 always read back. */
    for (int prec = 6; prec <= 9; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (strtof(buf, NULL) == f)
            break;
    }
    return n;
}

/* A decimal size string (1 to 9 digits). */
static bool dim_of(const struct value_bytes *b, uint32_t *ret)
{
    if (b->len == 0 || b->len > 9)
        return false;
    uint32_t n = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] < '0' || b->data[i] > '9')
            return false;
        n = n * 10 + (uint32_t)(b->data[i] - '0');
    }
    *ret = n;
    return true;
}

bool cli_image_dims(const struct decoded_value *v, uint32_t *w, uint32_t *h)
{
    if (v->kind != VALUE_IMAGE || v->n_strings < 2)
        return false;
    if (dim_of(&v->strings[0], w) && dim_of(&v->strings[1], h))
        return true;
    return v->n_strings > 2 &&
           png_sniff(v->strings[2].data, v->strings[2].len, w, h) > 0;
}

bool cli_parse_precision(const char *s, bool *full)
{
    if (strcmp(s, "full") != 0 && strcmp(s, "shortest") != 0)
        return false;
    *full = s[0] == 'f';
    return true;
}

bool cli_parse_count(const char *s, unsigned long long *ret)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: tfevents COMMAND [ARGS...]\n"
               "       tfevents --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'tfevents COMMAND --help' describes a command.\n"
               "exit status: 0 ok, 1 data problem or refused request, 2 usage error,\n"
               "3 I/O error or no daemon\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("tfevents %s\n", TFEVENTS_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
