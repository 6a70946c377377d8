/* cli_kinds: the newer dashboards' data taken apart for collect and
 * export: a PR curve's entries as TensorBoard's pr_curves route serves
 * them, a mesh part's name and role, a custom scalars layout's charts, and
 * the embeddings listed by the projector_config.pbtxt files of a logdir.
 *
 * Reading only; nothing here prints (the caller reports). */
#ifndef TFEVENTS_CLI_KINDS_H
#define TFEVENTS_CLI_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "layout.pb-c.h"
#include "logdir_reader.h"
#include "projector.h"
#include "value.h"

struct cli_filter;

/* ---- PR curves ---------------------------------------------------------- */

/* Is v a PR curve (plugin pr_curves, a numeric [6, width] tensor, width
 * >= 1)? Then its width and the entries TensorBoard serves: its pr_curves
 * route cuts the trailing thresholds whose int(TP) + int(FP) is 0, keeping
 * at least the first. */
bool cli_pr_curve(const struct decoded_value *v, size_t *ret_width, size_t *ret_kept);

/* Threshold i of width: i / (width - 1) as numpy's linspace(0, 1, width)
 * computes it (i * step, the last exactly 1), so 0.30000000000000004 for
 * 3 of 11, as TensorBoard serves it. */
double cli_pr_threshold(size_t i, size_t width);

/* The cells of entry i: threshold, precision, recall, true_positives,
 * false_positives, true_negatives, false_negatives (float32 numbers as
 * the shortest decimal that reads back, or full). */
#define CLI_PR_CELLS 7
extern const char *const cli_pr_cell_names[CLI_PR_CELLS];
void cli_pr_cells(const struct decoded_value *v, size_t i, bool full,
                  char cells[CLI_PR_CELLS][48]);

/* ---- meshes ------------------------------------------------------------- */

enum { CLI_MESH_VERTEX = 1, CLI_MESH_FACE = 2, CLI_MESH_COLOR = 3 };

struct cli_mesh_part {
    char *name;       /* MeshPluginData.name, else the tag without its suffix */
    int part;         /* CLI_MESH_* */
    char *config;     /* the three.js JSON config ("" when none) */
    size_t samples, points;   /* the tensor's [samples, points, 3] */
};

/* Is v (of tag) a mesh part: plugin mesh, a numeric [samples, points, 3]
 * tensor, its role from the content (or the tag's _VERTEX/_FACE/_COLOR
 * suffix when the value carries no content)? 1 and *ret filled (release
 * with cli_mesh_part_done()), 0 not one, -ENOMEM. */
int cli_mesh_part(const struct decoded_value *v, const char *tag, struct cli_mesh_part *ret);
void cli_mesh_part_done(struct cli_mesh_part *p);   /* NULL-safe */

/* A mesh's parts are values NAME_VERTEX, NAME_FACE, NAME_COLOR at one
 * step: in one event (TensorBoard's writers) or in consecutive events (ours
 * write each value as its own event). The accumulator gathers the parts of
 * one run and step, by name, until an event of another run or step comes. */
#define CLI_MESH_MAX_PENDING 1024u   /* names gathered at once; more: split */

struct cli_mesh {
    char *name, *config, *tag;       /* tag: of its first part */
    size_t samples;
    struct {
        double *v;                   /* samples * points * 3, or NULL */
        size_t points;
    } part[4];                       /* by CLI_MESH_* */
};

struct cli_mesh_acc {
    char *run;                       /* NULL: nothing gathered */
    int64_t step;
    double wall_time;
    struct cli_mesh *m;
    size_t n;
    bool numbers;                    /* keep the numbers (export), or only sizes */
};

/* Does item it belong to another run or step than what acc holds? */
bool cli_mesh_acc_other(const struct cli_mesh_acc *acc, const struct logdir_reader_item *it);
/* Add value i of it when it is a mesh part: 1 taken, 0 not one, -ENOMEM.
 * The caller empties acc first when cli_mesh_acc_other(). A second part
 * of the same role and name starts a new mesh. */
int cli_mesh_acc_add(struct cli_mesh_acc *acc, const struct logdir_reader_item *it, size_t i);
/* Forget what acc holds (keeps acc->numbers). NULL-safe. */
void cli_mesh_acc_reset(struct cli_mesh_acc *acc);

/* ---- custom scalar layouts ---------------------------------------------- */

/* v's Layout when it is a custom scalars layout (a rank-0 string that
 * decodes); free with tensorboard__layout__free_unpacked(l, NULL). NULL
 * when it is not one. */
Tensorboard__Layout *cli_layout(const struct decoded_value *v);

/* A chart's kind ("multiline", "margin" or "") and its tags as a JSON
 * array: the regexes of a multiline chart, {"value","lower","upper"}
 * objects of a margin chart. Appended to b. */
const char *cli_layout_chart_kind(const Tensorboard__Chart *c);
int cli_layout_chart_tags(struct buf *b, const Tensorboard__Chart *c);

/* ---- the embedding projector -------------------------------------------- */

/* Directory levels searched for projector_config.pbtxt. */
#define CLI_PROJECTOR_MAX_DEPTH 64u
/* Bytes of a metadata TSV's first line read for its column names. */
#define CLI_PROJECTOR_MAX_HEADER (64u << 10)

/* Called for each run directory (passing the --run filter) holding a
 * projector_config.pbtxt, in name order: run "." is the logdir itself;
 * run_fd is the directory (borrowed); c the parsed config, NULL when it
 * could not be read or parsed (err says why, a negative errno). A negative
 * return stops the walk and is returned. */
typedef int (*cli_projector_fn)(void *arg, const char *run, int run_fd,
                                const struct projector_config *c, int err);

/* Walk logdir (no symbolic link to a directory followed). 0, or -errno
 * when logdir cannot be opened, or fn's negative return. */
int cli_projector_each(const char *logdir, const struct cli_filter *f, cli_projector_fn fn,
                       void *arg);

/* A file a config names, opened for reading below dir_fd: only a relative
 * path without ".." components and without symbolic links on the way (a
 * config from elsewhere must not make us read, or copy into an export,
 * files outside its run). An fd, or -EPERM for such a path, -errno. */
int cli_projector_open(int dir_fd, const char *path);

/* What collect shows of an entry: its shape (from the config, else
 * counted in the tensor TSV: rows, and tabs + 1 of the first row; 0 when
 * neither tells) and the metadata's column names joined by ',' ("" for a
 * single unnamed column or no metadata). */
int cli_projector_shape(int dir_fd, const struct projector_entry *e, uint64_t shape[2]);
int cli_projector_columns(int dir_fd, const struct projector_entry *e, struct buf *out);

#endif
