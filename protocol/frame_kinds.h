/* frame_kinds: the Value kinds of a tfevents.Request that have a module of
 * their own in lib/ -- PR curves (pr_curve.h), custom scalar layouts
 * (layout.h) and animated images (gif.h) -- checked and built for frame_decode, which hands every
 * Value of both protocols over here or to its own builders.
 *
 * Pure: no I/O, no logging; errors come back as a sentence. */
#ifndef TFEVENTS_FRAME_KINDS_H
#define TFEVENTS_FRAME_KINDS_H

#include <stddef.h>

#include "request.h"
#include "summary.h"
#include "tfwire.pb-c.h"

/* Build v (tag and meta borrowed; meta may be NULL) from the PrCurve or
 * Layout of val. 0, or a negative errno with "pr_curve value 'x': ..." in
 * err. */
int frame_kinds_pr_curve(const Tfevents__PrCurve *pc, const char *tag, struct summary_value *v,
                         const struct summary_meta *meta, char *err, size_t err_size);
int frame_kinds_layout(const Tfevents__Layout *l, const char *tag, struct summary_value *v,
                       const struct summary_meta *meta, char *err, size_t err_size);

/* A mesh: its parts as values <tag>_VERTEX (in v), <tag>_FACE and
 * <tag>_COLOR (added to m in run, when given). */
int frame_kinds_mesh(const Tfevents__Mesh *me, const char *tag, struct summary_value *v,
                     struct request *m, const char *run, const struct summary_meta *meta,
                     char *err, size_t err_size);

/* Pixels [n,h,w,c] (bytes or floats in [0,1]) as one animated GIF. */
int frame_kinds_animation(const Tfevents__Image *im, const char *tag, struct summary_value *v,
                          const struct summary_meta *meta, char *err, size_t err_size);

/* An Embedding request's tag, step, tensor, metadata and sprite, checked
 * (projector_check()) and copied into e. */
int frame_kinds_embedding(const Tfevents__Embedding *q, struct projector_embedding *e,
                          char *err, size_t err_size);

/* A Graph request's graph_def, or run_metadata and tag, checked
 * (graph_check()) and copied into m (graph_data, graph_len, graph_tag,
 * graph_info). */
int frame_kinds_graph(const Tfevents__Graph *q, struct request *m, char *err, size_t err_size);

#endif
