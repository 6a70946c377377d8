/* layout: custom scalar layouts, as TensorBoard's custom_scalars plugin
 * reads them.
 *
 * A layout is a list of categories (a title, closed or open), each holding
 * charts; a chart is a multiline chart (tag regexes: every scalar tag of a
 * run matching one is drawn in it) or a margin chart (series of three
 * scalar tags: a value and its lower and upper bounds). The plugin reads
 * the value of tag LAYOUT_TAG in each run: a rank-0 DT_STRING tensor
 * holding the serialized tensorboard.Layout (Layout{version=1, category=2},
 * Category{title=1, chart=2, closed=3}, Chart{title=1, multiline=2 {tag=1} |
 * margin=3 {series=1 {value=1, lower=2, upper=3}}}); metadata plugin
 * "custom_scalars", empty content, data class TENSOR. It merges the layouts
 * of all runs by category title. The charted tags are ordinary scalars.
 *
 * Strings must be valid UTF-8 (TensorBoard's protobuf refuses the whole
 * layout otherwise, and its /layout route fails). Regexes are passed on
 * unchecked (Python's re syntax; TensorBoard marks a bad one itself).
 *
 * Pure: no I/O, no logging; summary_last_error() says why a build failed. */
#ifndef TFEVENTS_LAYOUT_H
#define TFEVENTS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "summary.h"

#define LAYOUT_TAG "custom_scalars__config__"
/* Limits on one layout. */
#define LAYOUT_MAX_CATEGORIES 1024u
#define LAYOUT_MAX_CHARTS 4096u         /* per category */
#define LAYOUT_MAX_ENTRIES 1024u        /* regexes or series per chart */
#define LAYOUT_MAX_STRING 4096u         /* bytes of a title, regex or tag */

struct layout_series {
    const char *value, *lower, *upper;   /* scalar tags, non-empty */
};

/* Exactly one of multiline (n_multiline >= 1) and margin (n_margin >= 1). */
struct layout_chart {
    const char *title;
    const char *const *multiline;
    size_t n_multiline;
    const struct layout_series *margin;
    size_t n_margin;
};

struct layout_category {
    const char *title;
    bool closed;
    const struct layout_chart *charts;
    size_t n_charts;
};

/* Append the serialized Layout of categories[0..n) (1..LAYOUT_MAX_CATEGORIES)
 * to out, fields in field-number order and proto3 defaults left out, as
 * protobuf itself writes it. -EINVAL (with *why), -EILSEQ, -EMSGSIZE,
 * -ENOMEM. */
int layout_encode(struct buf *out, const struct layout_category *categories, size_t n,
                  const char **why);

/* The LAYOUT_TAG value of one run. */
int summary_custom_scalars(struct summary_value *v, const struct layout_category *categories,
                           size_t n, const struct summary_meta *meta);

#endif
