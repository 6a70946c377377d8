/* fuzz-cli_emb_tsv: the TSV readers of `tfevents embedding`
 * (cli_parse_emb_tensor and cli_parse_emb_metadata, client/cli_parse.c).
 * The first byte chooses: bit 0 the metadata reader (else the tensor's),
 * bit 1 small limits from the next two bytes (lines 1..256, cells
 * 1..1024), so that running past EMB_MAX_LINES and EMB_MAX_CELLS is
 * explored on small inputs too; the rest is the file. What a reader
 * accepts is within its limits and well formed; what it refuses has a
 * sentence. */
#include <errno.h>
#include <string.h>

#include "cli_parse.h"
#include "fuzz.h"

static void tensor(char *text, size_t len, const struct cli_emb_limits *lim)
{
    float *v = NULL;
    size_t rows = 0, cols = 0;
    struct cli_parse_err err = {0, ""};
    int r = cli_parse_emb_tensor(text, len, lim, &v, &rows, &cols, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
    if (r == 0) {
        FUZZ_CHECK(v && rows > 0 && cols > 0);
        FUZZ_CHECK(rows <= lim->max_lines && cols <= lim->max_cells / rows);
        volatile float sum = 0;
        for (size_t i = 0; i < rows * cols; i++)
            sum += v[i];
        (void)sum;
        free(v);
    } else {
        FUZZ_CHECK(err.why[0] != '\0');
    }
}

static void metadata(char *text, size_t len, const struct cli_emb_limits *lim)
{
    struct cli_emb_metadata m;
    struct cli_parse_err err = {0, ""};
    int r = cli_parse_emb_metadata(text, len, lim, &m, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
    if (r == 0) {
        size_t cols = m.n_header ? m.n_header : 1;
        FUZZ_CHECK(m.n_header != 1 && (m.n_header == 0) == (m.header == NULL));
        FUZZ_CHECK(m.rows > 0 && m.rows <= lim->max_lines && m.n_cells == m.rows * cols);
        FUZZ_CHECK(m.n_cells <= lim->max_cells);
        /* Cells are single lines without tabs: what metadata.tsv can hold. */
        for (size_t i = 0; i < m.n_cells + m.n_header; i++) {
            const char *s = i < m.n_cells ? m.cells[i] : m.header[i - m.n_cells];
            FUZZ_CHECK(s && !strchr(s, '\t') && !strchr(s, '\n'));
        }
    } else {
        FUZZ_CHECK(err.why[0] != '\0');
    }
    cli_parse_emb_metadata_done(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    struct cli_emb_limits lim = cli_emb_limits_default;
    if (data[0] & 2) {
        lim.max_lines = (size_t)data[1] + 1;
        lim.max_cells = ((size_t)data[2] << 2) + 1;
    }
    bool meta = data[0] & 1;
    data += 3;
    size -= 3;
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    if (meta)
        metadata(text, size, &lim);
    else
        tensor(text, size, &lim);
    free(text);
    return 0;
}
