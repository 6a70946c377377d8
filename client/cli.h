/* cli: shared pieces of the tfevents command-line tool.
 *
 * Each subcommand is a function taking its own argv (argv[0] is the
 * subcommand's name) and returning the process exit status. */
#ifndef TFEVENTS_CLI_H
#define TFEVENTS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every subcommand (documented in tfevents(1)). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_DATA = 1,    /* the data has a problem: corruption, truncation */
    CLI_EXIT_FAIL = 1,    /* log, send, step...: a request failed (refused) */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_IO = 3,      /* a file or directory could not be read/written,
                           * or no daemon answers */
};

int cli_collect_main(int argc, char **argv);
int cli_export_main(int argc, char **argv);
int cli_dump_main(int argc, char **argv);
int cli_tail_main(int argc, char **argv);
int cli_log_main(int argc, char **argv);
int cli_send_main(int argc, char **argv);
int cli_step_main(int argc, char **argv);
int cli_stats_main(int argc, char **argv);
int cli_ping_main(int argc, char **argv);
int cli_restart_main(int argc, char **argv);
int cli_flush_main(int argc, char **argv);
int cli_close_main(int argc, char **argv);
int cli_hparams_main(int argc, char **argv);
int cli_embedding_main(int argc, char **argv);

/* "tfevents: " + message on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A scalar as printed: a float32 (dtype DT_FLOAT) as the shortest decimal
 * that reads back as the same float32 (0.1, not 0.10000000149011612),
 * anything else -- or every value when full -- as the shortest decimal of
 * the exact double (value_format_double()). Returns what snprintf does. */
int cli_format_scalar(char *buf, size_t size, double d, int dtype, bool full);

struct decoded_value;
/* An image value's width and height as numbers: its size strings when
 * they are decimal (as TensorBoard's writers store them), else -- the R
 * package stores them as raw bytes -- the size in its first image's PNG or
 * JPEG header. false when neither tells. */
bool cli_image_dims(const struct decoded_value *v, uint32_t *w, uint32_t *h);

/* --precision shortest|full: false when s is neither. */
bool cli_parse_precision(const char *s, bool *full);

/* Parse a non-negative decimal count; false when s is not one. */
bool cli_parse_count(const char *s, unsigned long long *ret);

#endif
