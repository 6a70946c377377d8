/* cli_log_files: values of `tfevents log` read from files: an image file
 * (PNG, JPEG or GIF, animated or not), a PR curve from a table of labels
 * and predictions, a mesh from an ASCII PLY or Wavefront OBJ file, a
 * custom scalars layout from JSON, a serialized GraphDef or RunMetadata.
 * Each is
 * added to a tfevents_values; the library checks the values when they are
 * logged. */
#ifndef TFEVENTS_CLI_LOG_FILES_H
#define TFEVENTS_CLI_LOG_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "tfevents.h"

/* Bytes of one file read (a bigger one is refused, -EFBIG). */
#define CLI_LOG_MAX_FILE ((size_t)256 << 20)

/* path's whole content into *ret (owned, NUL-terminated beyond *ret_len). */
int cli_log_read_file(const char *path, char **ret, size_t *ret_len);

/* Each returns 0, or a negative errno after saying why on stderr (with
 * the file name and line). */
int cli_log_image_file(tfevents_values *vs, const char *run, const char *tag,
                       const char *path);

/* Rows "LABEL PREDICTION [WEIGHT]" (numbers separated by spaces, tabs,
 * commas or semicolons; labels may be true/false; a first line that is not
 * numbers is a header; '#' starts a comment). num_thresholds 0: 127. */
int cli_log_pr_curve_file(tfevents_values *vs, const char *run, const char *tag,
                          const char *path, unsigned num_thresholds);

/* An ASCII PLY (vertex x y z [red green blue], face vertex_indices) or an
 * OBJ (v x y z [r g b], f with 1-based or negative indices); polygons are
 * split into triangles (a fan). config: the three.js JSON, or NULL. */
int cli_log_mesh_file(tfevents_values *vs, const char *run, const char *name,
                      const char *path, const char *config);

/* A custom scalars layout from a JSON file: {"categories": [{"title",
 * "closed"?, "charts": [{"title", "multiline": [regexes]} | {"title",
 * "margin": [{"value", "lower", "upper"}]}]}]} (the JSON protocol's
 * $layout), or the categories array alone; tag custom_scalars__config__
 * of run (NULL: the logdir itself). */
int cli_log_layout_file(tfevents_values *vs, const char *run, const char *path);

/* A serialized GraphDef (run_metadata false) or RunMetadata from path,
 * checked as libtfevents and tfeventsd check it (lib/graph.h) so that a
 * file TensorBoard could not parse is refused before anything is sent;
 * *ret owned by the caller. 0, or a negative errno after a message
 * (-EBADMSG: does not parse, -EINVAL: empty, -EMSGSIZE: too large). */
int cli_log_graph_file(const char *path, bool run_metadata, char **ret, size_t *ret_len);

#endif
