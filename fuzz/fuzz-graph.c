/* fuzz-graph: the check of serialized GraphDefs and RunMetadata
 * (graph_check). It must never read out of bounds nor recurse without
 * bound, and never be looser than a real protobuf parser: bytes it accepts
 * as a GraphDef or a RunMetadata must unpack with protobuf-c from
 * proto/graph.proto, and a GraphDef's node count must be protobuf-c's. */
#include <errno.h>

#include "fuzz.h"
#include "graph.h"
#include "graph.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct graph_info info;
    char why[160];
    int r = graph_check(GRAPH_DEF, data, size, &info, why, sizeof why);
    FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -EMSGSIZE);
    if (r == 0) {
        Tensorboard__GraphDef *g = tensorboard__graph_def__unpack(NULL, size, data);
        FUZZ_CHECK(g != NULL);
        FUZZ_CHECK(g->n_node == info.nodes);
        tensorboard__graph_def__free_unpacked(g, NULL);
    }
    r = graph_check(GRAPH_RUN_METADATA, data, size, &info, why, sizeof why);
    FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -EMSGSIZE);
    if (r == 0) {
        Tensorboard__RunMetadata *m = tensorboard__run_metadata__unpack(NULL, size, data);
        FUZZ_CHECK(m != NULL);
        size_t n = 0;
        for (size_t i = 0; m->step_stats && i < m->step_stats->n_dev_stats; i++)
            n += m->step_stats->dev_stats[i]->n_node_stats;
        FUZZ_CHECK(n == info.nodes);
        tensorboard__run_metadata__free_unpacked(m, NULL);
    }
    return 0;
}
