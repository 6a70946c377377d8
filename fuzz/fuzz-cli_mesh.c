/* fuzz-cli_mesh: the PLY and OBJ reader of `tfevents log --mesh`
 * (cli_parse_mesh, client/cli_parse.c) on a file's bytes: a "ply" first
 * line makes it a PLY, anything else is read as OBJ. What it accepts is a
 * mesh the library can take: at least one vertex, every face index below
 * the vertex count, colours for all vertices or none; what it refuses has
 * a sentence. */
#include <errno.h>
#include <string.h>

#include "cli_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The reader hands the parser its file NUL-terminated. */
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct cli_mesh m;
    struct cli_parse_err err = {0, ""};
    int r = cli_parse_mesh(text, size, &m, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
    if (r == 0) {
        FUZZ_CHECK(m.n_vertices > 0 && m.xyz);
        FUZZ_CHECK((m.n_faces > 0) == (m.faces != NULL));
        for (size_t i = 0; i < 3 * m.n_faces; i++)
            FUZZ_CHECK(m.faces[i] >= 0 && (size_t)m.faces[i] < m.n_vertices);
        /* Every coordinate and colour is there to be read. */
        volatile float sum = 0;
        for (size_t i = 0; i < 3 * m.n_vertices; i++)
            sum += m.xyz[i] + (m.rgb ? (float)m.rgb[i] : 0.0f);
        (void)sum;
    } else {
        FUZZ_CHECK(err.why[0] != '\0');
        FUZZ_CHECK(!m.xyz && !m.faces && !m.rgb);
    }
    cli_parse_mesh_done(&m);
    free(text);
    return 0;
}
