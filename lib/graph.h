/* graph: checking the bytes of TensorBoard's graphs dashboard before they
 * are written.
 *
 * A graph travels as an opaque serialized GraphDef (Event.graph_def) and a
 * traced step as a serialized RunMetadata (TaggedRunMetadata.run_metadata).
 * TensorBoard parses them only when its /graph or /run_metadata route is
 * asked, and answers HTTP 500 when they do not parse; so they are parsed
 * here first. The check walks the wire format against a table of the
 * messages' field numbers (proto/graph.proto, held to it by
 * tests/test-graph.c): every key and length must be well formed, every
 * known field must have its wire type (repeated numbers packed or not),
 * every string must be UTF-8 (TensorBoard's Python protobuf refuses
 * anything else in a proto3 string), messages may nest at most
 * GRAPH_MAX_DEPTH deep, and groups (wire types 3 and 4, unused by these
 * messages) are refused. Unknown fields are skipped as protobuf does.
 *
 * Nothing is allocated; pure. */
#ifndef TFEVENTS_GRAPH_H
#define TFEVENTS_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest serialized GraphDef or RunMetadata accepted. A message must
 * also fit the daemon's --max-line (16 MiB by default, base64 in a JSON
 * line), so the daemon's own limit usually comes first. */
#define GRAPH_MAX_BYTES (64u << 20)

/* Deepest nesting of messages (GraphDef, NodeDef, the attr map's entry,
 * AttrValue, ... each one level), well under the 100 that TensorBoard's
 * protobuf parser allows. */
#define GRAPH_MAX_DEPTH 64u

/* The tag TensorBoard gives a run's graph; a run metadata tag may not take
 * it. */
#define GRAPH_RUN_GRAPH_TAG "__run_graph__"

enum graph_kind {
    GRAPH_DEF = 0,        /* tensorboard.GraphDef */
    GRAPH_RUN_METADATA,   /* tensorboard.RunMetadata */
};

/* What a check learned. */
struct graph_info {
    /* GRAPH_DEF: the graph's nodes (GraphDef.node, not the function
     * library's); GRAPH_RUN_METADATA: the node stats of every device. */
    size_t nodes;
};

/* Check data[0..len) as a message of kind. 0 (and *ret_info when not
 * NULL); -EMSGSIZE past GRAPH_MAX_BYTES; -EINVAL when empty; -EBADMSG when
 * it does not parse, with why (may be NULL) saying where and what, e.g.
 * "NodeDef.name is not valid UTF-8 (byte 14)". */
int graph_check(enum graph_kind kind, const void *data, size_t len,
                struct graph_info *ret_info, char *why, size_t why_size);

/* "GraphDef" or "RunMetadata". */
const char *graph_kind_name(enum graph_kind kind);

/* The table the check walks, for tests/test-graph.c: field `number` of
 * message `message` ("NodeDef", "AttrValue.ListValue", ...): 0 with its
 * wire type (0, 1, 2 or 5; repeated numbers: their unpacked type), whether
 * it is a string (checked as UTF-8) and, for a message field, the
 * message's name in *ret_msg (else NULL); -ENOENT when the table does not
 * hold it. */
int graph_table_field(const char *message, uint32_t number, unsigned *ret_wire,
                      bool *ret_text, const char **ret_msg);

#endif
