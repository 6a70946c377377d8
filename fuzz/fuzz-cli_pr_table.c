/* fuzz-cli_pr_table: the table reader of `tfevents log --pr-curve`
 * (cli_parse_pr_table, client/cli_parse.c) on a file's bytes. What it
 * accepts has at least one row, and weights for every row or none; what
 * it refuses has a sentence. */
#include <errno.h>
#include <string.h>

#include "cli_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct cli_pr_table t;
    struct cli_parse_err err = {0, ""};
    int r = cli_parse_pr_table(text, size, &t, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(t.n > 0 && t.labels && t.preds);
        volatile double sum = 0;
        for (size_t i = 0; i < t.n; i++)
            sum += t.labels[i] + t.preds[i] + (t.weights ? t.weights[i] : 0);
        (void)sum;
    } else {
        FUZZ_CHECK(err.why[0] != '\0');
        FUZZ_CHECK(!t.labels && !t.preds && !t.weights);
    }
    cli_parse_pr_table_done(&t);
    free(text);
    return 0;
}
