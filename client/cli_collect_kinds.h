/* cli_collect_kinds: the rows of collect's --type pr_curve, mesh, layout
 * and projector (their columns below). Each row is handed to the caller's
 * function as cells (NUL-terminated strings, one per column), with the tag
 * and step that --view tensorboard files it under; the caller prints it
 * in its format. */
#ifndef TFEVENTS_CLI_COLLECT_KINDS_H
#define TFEVENTS_CLI_COLLECT_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_kinds.h"
#include "logdir_reader.h"

struct cli_filter;

#define CLI_KIND_MAX_COLS 11

struct cli_kind_cols {
    const char *const *names;
    size_t n;
    unsigned numbers;    /* bit i: column i is a number (JSON number in jsonl) */
    unsigned json;       /* bit i: column i is JSON text (as is in jsonl) */
};

extern const struct cli_kind_cols cli_kind_pr_curve_cols, cli_kind_mesh_cols,
    cli_kind_layout_cols, cli_kind_projector_cols;

struct cli_kind_out {
    /* One row; a negative return stops and is returned. */
    int (*row)(void *arg, const char *tag, int64_t step, char *const *cells);
    void *arg;
    bool full;                     /* --precision full */
    const struct cli_filter *f;    /* --run (projector), --tag */
};

/* The rows of one event (it->values decoded): a row per threshold of each
 * PR curve TensorBoard serves (its trailing cut applied), a row per mesh
 * name and step (its parts grouped), a row per chart of a layout. */
int cli_kind_pr_curve_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it);
/* Meshes: the parts are gathered in acc (cli_kinds.h) and printed when an
 * event of another run or step comes, or by cli_kind_mesh_flush() at the
 * end (the caller also flushes before applying a later event's purges). */
int cli_kind_mesh_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it,
                       struct cli_mesh_acc *acc);
int cli_kind_mesh_flush(const struct cli_kind_out *o, struct cli_mesh_acc *acc);
int cli_kind_layout_rows(const struct cli_kind_out *o, const struct logdir_reader_item *it);

/* A row per embedding of every projector_config.pbtxt under logdir (tag:
 * the tensor name, step 0). *bad: a config could not be read (said on
 * stderr). */
int cli_kind_projector_rows(const struct cli_kind_out *o, const char *logdir, bool *bad);

#endif
