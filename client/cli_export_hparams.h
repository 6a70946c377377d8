/* cli_export_hparams: hparams.csv for `tfevents export`, the table
 * TensorBoard's HPARAMS dashboard shows: one row per session (a run with
 * a session_start_info), its group, status, start and end times, one
 * column per hyperparameter and one per metric of the experiment.
 *
 * A metric's value is the last scalar of its tag read in the session's
 * run (or in the run's subdirectory the metric names as its group), as
 * TensorBoard shows it. Hyperparameter columns follow the experiment's
 * order, then names only sessions carry, sorted. The latest copy of each
 * hparams value is used, as TensorBoard keeps it. */
#ifndef TFEVENTS_CLI_EXPORT_HPARAMS_H
#define TFEVENTS_CLI_EXPORT_HPARAMS_H

struct decoded_value;
struct export_hparams;

/* NULL on -ENOMEM. */
struct export_hparams *export_hparams_new(void);
void export_hparams_free(struct export_hparams *h);   /* NULL-safe */

/* A scalar of tag in run, read after the ones before: -ENOMEM. */
int export_hparams_scalar(struct export_hparams *h, const char *run, const char *tag,
                          double value);

/* An hparams plugin value of run (its content, v->hparams): -ENOMEM. */
int export_hparams_value(struct export_hparams *h, const char *run,
                         const struct decoded_value *v);

/* Write hparams.csv in the directory out_fd (nothing when no session was
 * seen). 0 or a negative errno. */
int export_hparams_write(struct export_hparams *h, int out_fd);

#endif
