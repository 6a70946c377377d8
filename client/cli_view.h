/* cli_view: what TensorBoard's loader keeps of a logdir, for
 * `tfevents collect --view tensorboard`.
 *
 * Rows (one per summary value, already rendered by the caller) are held
 * until the whole logdir is read, because a later event can delete earlier
 * points: the purges the logdir reader reports (TensorBoard's Python
 * loader: every SessionLog START of a run but the first drops the run's
 * points at and above its step; in files without file_version 2, a
 * summary step below the run's previous one drops its tags' points at and
 * above it) and the per-tag purge of TensorBoard's default Rust loader (a
 * tag written at a step below its previous step drops that tag's points at
 * and above the new step). The first metadata of a tag is the one its
 * values are decoded with: the reader does that already. */
#ifndef TFEVENTS_CLI_VIEW_H
#define TFEVENTS_CLI_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "logdir_reader.h"

/* Rows held at most (each a rendered line): past this, collect stops with
 * -E2BIG rather than eat the machine's memory. */
#define CLI_VIEW_MAX_ROWS (1u << 26)

struct cli_view;

/* NULL on -ENOMEM. */
struct cli_view *cli_view_new(void);
void cli_view_free(struct cli_view *v);    /* NULL-safe */

/* Apply what event item it deletes, before its own rows are added. */
int cli_view_event(struct cli_view *v, const struct logdir_reader_item *it);

/* A row of tag in run at step: len bytes of data, copied. -ENOMEM, -E2BIG. */
int cli_view_add(struct cli_view *v, const char *run, const char *tag, int64_t step,
                 const void *data, size_t len);

/* Call fn on every row kept, in the order they were added; stops at the
 * first negative return and returns it. */
int cli_view_each(struct cli_view *v, int (*fn)(void *arg, const char *data, size_t len),
                  void *arg);

#endif
