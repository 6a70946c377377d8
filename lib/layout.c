/* Custom scalar layouts (layout.h). */
#include "layout.h"

#include <errno.h>
#include <string.h>

#include "pbwire.h"
#include "types.pb-c.h"
#include "utf8.h"

/* The serialized layout of a TensorBoard-sized dashboard is a few KiB; this
 * bounds what the limits above still allow. */
#define LAYOUT_MAX_BYTES (16u << 20)

static int check_string(const char *s, bool required, const char **why)
{
    if (!s || (required && !*s)) {
        *why = "layout tags, regexes and category titles must be non-empty strings";
        return -EINVAL;
    }
    size_t len = strlen(s);
    if (len > LAYOUT_MAX_STRING) {
        *why = "layout string longer than LAYOUT_MAX_STRING";
        return -EMSGSIZE;
    }
    if (!utf8_valid(s, len)) {
        *why = "layout string is not valid UTF-8";
        return -EILSEQ;
    }
    return 0;
}

/* A proto3 string field: left out when empty. */
static int add_string(struct buf *b, uint32_t field, const char *s)
{
    return *s ? pb_add_string(b, field, s) : 0;
}

/* Append sub as a length-delimited field of b and empty sub. */
static int add_sub(struct buf *b, uint32_t field, struct buf *sub)
{
    int r = pb_add_bytes(b, field, sub->data, sub->len);
    buf_reset(sub);
    return r;
}

static int encode_series(struct buf *b, const struct layout_series *s, const char **why)
{
    int r = check_string(s->value, true, why);
    if (r == 0)
        r = check_string(s->lower, true, why);
    if (r == 0)
        r = check_string(s->upper, true, why);
    if (r == 0)
        r = pb_add_string(b, 1, s->value);
    if (r == 0)
        r = pb_add_string(b, 2, s->lower);
    if (r == 0)
        r = pb_add_string(b, 3, s->upper);
    return r;
}

/* Chart{title=1, multiline=2 {tag=1...} | margin=3 {series=1...}}. */
static int encode_chart(struct buf *b, const struct layout_chart *ch, const char **why)
{
    if ((ch->n_multiline > 0) == (ch->n_margin > 0) ||
        (ch->n_multiline && !ch->multiline) || (ch->n_margin && !ch->margin)) {
        *why = "a layout chart needs tag regexes (multiline) or margin series, not both";
        return -EINVAL;
    }
    if (ch->n_multiline > LAYOUT_MAX_ENTRIES || ch->n_margin > LAYOUT_MAX_ENTRIES) {
        *why = "more than LAYOUT_MAX_ENTRIES regexes or series in a layout chart";
        return -EMSGSIZE;
    }
    struct buf content, item;
    buf_init(&content, LAYOUT_MAX_BYTES);
    buf_init(&item, LAYOUT_MAX_BYTES);
    const char *title = ch->title ? ch->title : "";
    int r = check_string(title, false, why);
    if (r == 0)
        r = add_string(b, 1, title);
    for (size_t i = 0; r == 0 && i < ch->n_multiline; i++) {
        r = check_string(ch->multiline[i], true, why);
        if (r == 0)
            r = pb_add_string(&content, 1, ch->multiline[i]);
    }
    for (size_t i = 0; r == 0 && i < ch->n_margin; i++) {
        r = encode_series(&item, &ch->margin[i], why);
        if (r == 0)
            r = add_sub(&content, 1, &item);
    }
    if (r == 0)
        r = add_sub(b, ch->n_multiline ? 2 : 3, &content);
    buf_free(&content);
    buf_free(&item);
    return r;
}

/* Category{title=1, chart=2..., closed=3}. */
static int encode_category(struct buf *b, const struct layout_category *cat, const char **why)
{
    if (cat->n_charts > LAYOUT_MAX_CHARTS) {
        *why = "more than LAYOUT_MAX_CHARTS charts in a layout category";
        return -EMSGSIZE;
    }
    if (cat->n_charts && !cat->charts) {
        *why = "layout charts are NULL";
        return -EINVAL;
    }
    struct buf chart;
    buf_init(&chart, LAYOUT_MAX_BYTES);
    int r = check_string(cat->title, true, why);
    if (r == 0)
        r = pb_add_string(b, 1, cat->title);
    for (size_t i = 0; r == 0 && i < cat->n_charts; i++) {
        r = encode_chart(&chart, &cat->charts[i], why);
        if (r == 0)
            r = add_sub(b, 2, &chart);
    }
    if (r == 0 && cat->closed)
        r = pb_add_varint(b, 3, 1);
    buf_free(&chart);
    return r;
}

int layout_encode(struct buf *out, const struct layout_category *categories, size_t n,
                  const char **why)
{
    if (n == 0 || !categories) {
        *why = "a layout needs at least one category";
        return -EINVAL;
    }
    if (n > LAYOUT_MAX_CATEGORIES) {
        *why = "more than LAYOUT_MAX_CATEGORIES layout categories";
        return -EMSGSIZE;
    }
    struct buf cat;
    buf_init(&cat, LAYOUT_MAX_BYTES);
    int r = 0;
    /* Layout.version (field 1) is 0: proto3 leaves it out. */
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = encode_category(&cat, &categories[i], why);
        if (r == 0)
            r = add_sub(out, 2, &cat);
    }
    buf_free(&cat);
    if (r == -ENOMEM)
        *why = NULL;
    else if (r == -EMSGSIZE && !*why)
        *why = "layout too large";
    return r;
}

int summary_custom_scalars(struct summary_value *v, const struct layout_category *categories,
                           size_t n, const struct summary_meta *meta)
{
    const char *why = NULL;
    struct buf layout;
    buf_init(&layout, LAYOUT_MAX_BYTES);
    int r = layout_encode(&layout, categories, n, &why);
    if (r < 0) {
        buf_free(&layout);
        return summary_fail(v, r, why);
    }
    struct summary_bytes s = {layout.data, layout.len};
    r = summary_custom_strings(v, LAYOUT_TAG, "custom_scalars", NULL, 0,
                               TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, &s, 0, NULL, meta);
    buf_free(&layout);
    return r;
}
