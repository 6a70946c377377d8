/* cli_export_kinds: the files export writes for PR curves, meshes and
 * custom scalar layouts (their contents, built in memory; cli_export.c
 * names and writes them), and the copy of a run's projector files.
 *
 *   RUN/pr_curves/TAG/step-N.csv   threshold,precision,recall,true_positives,
 *                                  false_positives,true_negatives,false_negatives:
 *                                  the rows collect --type pr_curve prints
 *   RUN/meshes/NAME/step-N[-K].ply an ASCII PLY per sample: vertices (x y z,
 *                                  red green blue when coloured), faces
 *   RUN/layout/step-N.json         the Layout in protobuf's JSON mapping
 *   RUN/projector/...              projector_config.pbtxt pointing at copies of
 *                                  each embedding's tensors.tsv, metadata.tsv
 *                                  and sprite.png in a directory per tensor */
#ifndef TFEVENTS_CLI_EXPORT_KINDS_H
#define TFEVENTS_CLI_EXPORT_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "cli_kinds.h"
#include "logdir_reader.h"

/* The CSV of PR curve v (cli_pr_curve() true). */
int cli_export_pr_csv(struct buf *out, const struct decoded_value *v, bool full);

/* The PLY of sample k of mesh m (gathered with numbers, its vertices
 * present); run and step go in a comment, as does the config (on one
 * line). Colours are written only when there is one per vertex. */
int cli_export_mesh_ply(struct buf *out, const struct cli_mesh *m, size_t k, const char *run,
                        int64_t step);

/* The layout of v as JSON (a line), or -EINVAL when v is not one. */
int cli_export_layout_json(struct buf *out, const struct decoded_value *v);

#endif

/* ---- projector ---------------------------------------------------------- */

struct export_names;
struct cli_filter;

/* An index row of a projector file: tag (the tensor name), step (its
 * "<tag>:<step>" suffix, or ""), kind (embedding, embedding_metadata,
 * embedding_sprite, projector_config) and path relative to OUT. */
typedef int (*cli_export_index_fn)(void *arg, const char *tag, const char *step,
                                   const char *kind, const char *path);

/* Copy the embeddings of config c (of the run directory src_fd) passing
 * --tag into out_fd/projector/ (out_rel: that run's path relative to OUT):
 * a directory per tensor name (names cleaned by names) holding
 * tensors.tsv, metadata.tsv and sprite.png, and a projector_config.pbtxt
 * naming them. Files the config names outside its run directory
 * (cli_projector_open()) are not copied: said on stderr. *count: the
 * embeddings copied. 0 or a negative errno. */
int cli_export_projector(struct export_names *names, const char *out_rel, int out_fd,
                         int src_fd, const struct projector_config *c,
                         const struct cli_filter *f, cli_export_index_fn index, void *arg,
                         uint64_t *count);
