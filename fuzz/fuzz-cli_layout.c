/* fuzz-cli_layout: the custom scalars layout reader of `tfevents log
 * --layout` (cli_parse_layout, client/cli_parse.c) on a file's bytes,
 * parsed by cJSON as the CLI does. What it accepts is what
 * tfevents_add_custom_scalars() takes: titled categories of titled charts,
 * each either multiline (regex strings) or margin (three tags a series);
 * what it refuses has a sentence. */
#include <errno.h>
#include <string.h>

#include "cli_parse.h"
#include "fuzz.h"

static void check_chart(const struct tfevents_layout_chart *ch)
{
    FUZZ_CHECK(ch->title);
    FUZZ_CHECK(!ch->multiline != !ch->margin);
    for (size_t i = 0; ch->multiline && i < ch->n_multiline; i++)
        FUZZ_CHECK(ch->multiline[i]);
    for (size_t i = 0; ch->margin && i < ch->n_margin; i++)
        FUZZ_CHECK(ch->margin[i].value && ch->margin[i].lower && ch->margin[i].upper);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As the CLI parses a file: all of it, up to the NUL after it. */
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    cJSON *root = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    free(text);
    if (!root)
        return 0;
    struct cli_layout l;
    struct cli_parse_err err = {0, ""};
    int r = cli_parse_layout(root, &l, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(l.n_cats > 0 && l.cats);
        for (size_t i = 0; i < l.n_cats; i++) {
            FUZZ_CHECK(l.cats[i].title);
            for (size_t j = 0; j < l.cats[i].n_charts; j++)
                check_chart(&l.cats[i].charts[j]);
        }
    } else {
        FUZZ_CHECK(err.why[0] != '\0');
    }
    cli_parse_layout_done(&l);
    cJSON_Delete(root);
    return 0;
}
