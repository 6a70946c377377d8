/* graph: the check of serialized GraphDefs and RunMetadata (lib/graph.h).
 *
 * The check's table of field numbers equals proto/graph.proto's (and
 * tensor.proto's) as protobuf-c compiled them; graphs built with
 * protobuf-c pass and their nodes are counted; every prefix and thousands
 * of mutations of a valid graph are either refused or parse with
 * protobuf-c too (the check is never looser than a real parser); the
 * limit is GRAPH_MAX_BYTES exactly. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graph.pb-c.h"
#include "tensor.pb-c.h"
#include "tensor_shape.pb-c.h"
#include "test.h"

/* The table's name of every message the check knows, and its descriptor
 * (both map entries of attrs share one table entry: the same layout). */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} messages[] = {
    {"GraphDef", &tensorboard__graph_def__descriptor},
    {"VersionDef", &tensorboard__version_def__descriptor},
    {"NodeDef", &tensorboard__node_def__descriptor},
    {"NodeDef.AttrEntry", &tensorboard__node_def__attr_entry__descriptor},
    {"NodeDef.AttrEntry", &tensorboard__name_attr_list__attr_entry__descriptor},
    {"NodeDef.ExperimentalDebugInfo",
     &tensorboard__node_def__experimental_debug_info__descriptor},
    {"AttrValue", &tensorboard__attr_value__descriptor},
    {"AttrValue.ListValue", &tensorboard__attr_value__list_value__descriptor},
    {"NameAttrList", &tensorboard__name_attr_list__descriptor},
    {"TensorProto", &tensorboard__tensor_proto__descriptor},
    {"TensorShapeProto", &tensorboard__tensor_shape_proto__descriptor},
    {"TensorShapeProto.Dim", &tensorboard__tensor_shape_proto__dim__descriptor},
    {"RunMetadata", &tensorboard__run_metadata__descriptor},
    {"RunMetadata.FunctionGraphs", &tensorboard__run_metadata__function_graphs__descriptor},
    {"StepStats", &tensorboard__step_stats__descriptor},
    {"DeviceStepStats", &tensorboard__device_step_stats__descriptor},
    {"DeviceStepStats.ThreadNamesEntry",
     &tensorboard__device_step_stats__thread_names_entry__descriptor},
    {"NodeExecStats", &tensorboard__node_exec_stats__descriptor},
};
#define N_MESSAGES (sizeof messages / sizeof messages[0])

static const char *table_name(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < N_MESSAGES; i++)
        if (messages[i].desc == d)
            return messages[i].name;
    return NULL;
}

static unsigned wire_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return 5;
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return 1;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0;
    }
}

static void table_matches_proto(void)
{
    for (size_t i = 0; i < N_MESSAGES; i++) {
        const ProtobufCMessageDescriptor *d = messages[i].desc;
        for (uint32_t number = 1; number <= 40; number++) {
            const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, number);
            unsigned wire = 99;
            bool text = false;
            const char *msg = NULL;
            int r = graph_table_field(messages[i].name, number, &wire, &text, &msg);
            if (!f) {
                if (r != -ENOENT)
                    fprintf(stderr, "%s field %u: in the table, not in the proto\n",
                            messages[i].name, number);
                CHECK_EQ(r, -ENOENT);
                continue;
            }
            if (r != 0)
                fprintf(stderr, "%s.%s (%u): not in the table\n", messages[i].name, f->name,
                        number);
            REQUIRE(r == 0);
            CHECK_EQ(wire, wire_of(f->type));
            CHECK_EQ(text, f->type == PROTOBUF_C_TYPE_STRING);
            if (f->type == PROTOBUF_C_TYPE_MESSAGE)
                CHECK_STR(msg, table_name(f->descriptor));
            else
                CHECK(msg == NULL);
        }
    }
}

/* ---- a graph built with protobuf-c -------------------------------------- */

struct built {
    uint8_t *data;
    size_t len;
};

static struct built pack(const ProtobufCMessage *m)
{
    struct built b = {NULL, protobuf_c_message_get_packed_size(m)};
    b.data = malloc(b.len ? b.len : 1);
    if (b.data)
        protobuf_c_message_pack(m, b.data);
    return b;
}

/* x = Placeholder; w = Const 2.0 (shape [2, 3]); f = MatMul(x, w) with a
 * list, a function attr whose attr is a type, and a device. */
static struct built sample_graph(void)
{
    Tensorboard__NodeDef n[3];
    Tensorboard__NodeDef *np[3] = {&n[0], &n[1], &n[2]};
    for (int i = 0; i < 3; i++)
        tensorboard__node_def__init(&n[i]);
    n[0].name = "x", n[0].op = "Placeholder";
    n[1].name = "w", n[1].op = "Const";
    n[2].name = "f", n[2].op = "MatMul", n[2].device = "/device:CPU:0";
    char *inputs[2] = {"x", "w:0"};
    n[2].n_input = 2, n[2].input = inputs;

    Tensorboard__TensorShapeProto__Dim d[2], *dp[2] = {&d[0], &d[1]};
    tensorboard__tensor_shape_proto__dim__init(&d[0]);
    tensorboard__tensor_shape_proto__dim__init(&d[1]);
    d[0].size = 2, d[1].size = 3;
    Tensorboard__TensorShapeProto shape;
    tensorboard__tensor_shape_proto__init(&shape);
    shape.n_dim = 2, shape.dim = dp;
    Tensorboard__TensorProto t;
    tensorboard__tensor_proto__init(&t);
    float two = 2.0f;
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT, t.tensor_shape = &shape;
    t.n_float_val = 1, t.float_val = &two;
    Tensorboard__AttrValue value;
    tensorboard__attr_value__init(&value);
    value.value_case = TENSORBOARD__ATTR_VALUE__VALUE_TENSOR, value.tensor = &t;
    Tensorboard__NodeDef__AttrEntry e1 = TENSORBOARD__NODE_DEF__ATTR_ENTRY__INIT, *e1p = &e1;
    e1.key = "value", e1.value = &value;
    n[1].n_attr = 1, n[1].attr = &e1p;

    int64_t ints[3] = {1, -2, 300};
    Tensorboard__AttrValue__ListValue list = TENSORBOARD__ATTR_VALUE__LIST_VALUE__INIT;
    list.n_i = 3, list.i = ints;
    list.n_shape = 1;
    Tensorboard__TensorShapeProto *shapes[1] = {&shape};
    list.shape = shapes;
    Tensorboard__AttrValue lv, tv, fv;
    tensorboard__attr_value__init(&lv);
    tensorboard__attr_value__init(&tv);
    tensorboard__attr_value__init(&fv);
    lv.value_case = TENSORBOARD__ATTR_VALUE__VALUE_LIST, lv.list = &list;
    tv.value_case = TENSORBOARD__ATTR_VALUE__VALUE_TYPE, tv.type = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    Tensorboard__NameAttrList__AttrEntry fe = TENSORBOARD__NAME_ATTR_LIST__ATTR_ENTRY__INIT,
                                         *fep = &fe;
    fe.key = "T", fe.value = &tv;
    Tensorboard__NameAttrList func = TENSORBOARD__NAME_ATTR_LIST__INIT;
    func.name = "relu_\xc3\xa9", func.n_attr = 1, func.attr = &fep;
    fv.value_case = TENSORBOARD__ATTR_VALUE__VALUE_FUNC, fv.func = &func;
    Tensorboard__NodeDef__AttrEntry e2 = TENSORBOARD__NODE_DEF__ATTR_ENTRY__INIT,
                                    e3 = TENSORBOARD__NODE_DEF__ATTR_ENTRY__INIT,
                                    *e23[2] = {&e2, &e3};
    e2.key = "dims", e2.value = &lv;
    e3.key = "activation", e3.value = &fv;
    n[2].n_attr = 2, n[2].attr = e23;

    Tensorboard__VersionDef v = TENSORBOARD__VERSION_DEF__INIT;
    v.producer = 22;
    Tensorboard__GraphDef g = TENSORBOARD__GRAPH_DEF__INIT;
    g.n_node = 3, g.node = np, g.versions = &v;
    return pack(&g.base);
}

static void accepts_and_counts(void)
{
    struct built g = sample_graph();
    REQUIRE(g.data);
    struct graph_info info = {0};
    char why[160];
    CHECK_EQ(graph_check(GRAPH_DEF, g.data, g.len, &info, why, sizeof why), 0);
    CHECK_EQ(info.nodes, 3);

    /* RunMetadata: 2 devices, 3 node stats; a partition graph's nodes are
     * not counted. */
    Tensorboard__NodeExecStats s[3], *sp[3] = {&s[0], &s[1], &s[2]};
    for (int i = 0; i < 3; i++) {
        tensorboard__node_exec_stats__init(&s[i]);
        s[i].node_name = "f";
        s[i].all_start_micros = 1000 + i;
    }
    Tensorboard__DeviceStepStats__ThreadNamesEntry te =
        TENSORBOARD__DEVICE_STEP_STATS__THREAD_NAMES_ENTRY__INIT, *tep = &te;
    te.key = 7, te.value = "worker";
    Tensorboard__DeviceStepStats dev[2], *devp[2] = {&dev[0], &dev[1]};
    tensorboard__device_step_stats__init(&dev[0]);
    tensorboard__device_step_stats__init(&dev[1]);
    dev[0].device = "/device:CPU:0", dev[0].n_node_stats = 2, dev[0].node_stats = sp;
    dev[0].n_thread_names = 1, dev[0].thread_names = &tep;
    dev[1].device = "/device:GPU:0", dev[1].n_node_stats = 1, dev[1].node_stats = sp + 2;
    Tensorboard__StepStats ss = TENSORBOARD__STEP_STATS__INIT;
    ss.n_dev_stats = 2, ss.dev_stats = devp;
    Tensorboard__GraphDef *part = tensorboard__graph_def__unpack(NULL, g.len, g.data);
    REQUIRE(part);
    Tensorboard__RunMetadata md = TENSORBOARD__RUN_METADATA__INIT;
    md.step_stats = &ss, md.n_partition_graphs = 1, md.partition_graphs = &part;
    struct built m = pack(&md.base);
    REQUIRE(m.data);
    CHECK_EQ(graph_check(GRAPH_RUN_METADATA, m.data, m.len, &info, why, sizeof why), 0);
    CHECK_EQ(info.nodes, 3);
    /* The same bytes are no GraphDef: its field 1 would be nodes. */
    CHECK_EQ(graph_check(GRAPH_DEF, m.data, m.len, &info, why, sizeof why), -EBADMSG);
    tensorboard__graph_def__free_unpacked(part, NULL);
    free(m.data);
    free(g.data);
}

/* Accepted bytes must parse with protobuf-c as well. */
static void agrees(const uint8_t *p, size_t n, unsigned *accepted)
{
    char why[160];
    int r = graph_check(GRAPH_DEF, p, n, NULL, why, sizeof why);
    CHECK(r == 0 || r == -EBADMSG || (r == -EINVAL && n == 0));
    if (r != 0)
        return;
    (*accepted)++;
    Tensorboard__GraphDef *g = tensorboard__graph_def__unpack(NULL, n, p);
    if (!g)
        fprintf(stderr, "accepted but protobuf-c refuses %zu bytes\n", n);
    CHECK(g != NULL);
    tensorboard__graph_def__free_unpacked(g, NULL);
}

static void never_looser_than_protobuf(void)
{
    struct built g = sample_graph();
    REQUIRE(g.data);
    unsigned accepted = 0;
    for (size_t n = 0; n < g.len; n++)
        agrees(g.data, n, &accepted);
    uint8_t *m = malloc(g.len);
    REQUIRE(m);
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        memcpy(m, g.data, g.len);
        for (int k = 0; k < 1 + i % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % g.len;
            seed = seed * 1103515245u + 12345u;
            m[at] = (uint8_t)(seed >> 16);
        }
        agrees(m, g.len, &accepted);
    }
    CHECK(accepted > 100);   /* mutations inside strings and numbers pass */
    free(m);
    free(g.data);
}

static void refusals(void)
{
    char why[160];
    /* A node name that is not UTF-8. */
    const uint8_t bad_utf8[] = {0x0a, 0x05, 0x0a, 0x03, 'a', 0xc3, 0x28};
    CHECK_EQ(graph_check(GRAPH_DEF, bad_utf8, sizeof bad_utf8, NULL, why, sizeof why),
             -EBADMSG);
    CHECK(strstr(why, "NodeDef field 1 is not valid UTF-8") != NULL);
    /* An attr's s is bytes: any bytes pass. */
    const uint8_t bytes_ok[] = {0x0a, 0x0b, 0x2a, 0x09, 0x0a, 0x01, 's',
                                0x12, 0x04, 0x12, 0x02, 0xff, 0xfe};
    CHECK_EQ(graph_check(GRAPH_DEF, bytes_ok, sizeof bytes_ok, NULL, why, sizeof why), 0);
    /* Groups, field number 0, a 11-byte varint, wire types 6 and 7. */
    const uint8_t group[] = {0x5b, 0x5c};
    CHECK_EQ(graph_check(GRAPH_DEF, group, sizeof group, NULL, why, sizeof why), -EBADMSG);
    CHECK(strstr(why, "groups") != NULL);
    const uint8_t zero[] = {0x00, 0x00};
    CHECK_EQ(graph_check(GRAPH_DEF, zero, sizeof zero, NULL, why, sizeof why), -EBADMSG);
    const uint8_t long_varint[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_EQ(graph_check(GRAPH_DEF, long_varint, sizeof long_varint, NULL, why, sizeof why),
             -EBADMSG);
    const uint8_t wt6[] = {0x1e, 0x00}, wt7[] = {0x1f};
    CHECK_EQ(graph_check(GRAPH_DEF, wt6, sizeof wt6, NULL, NULL, 0), -EBADMSG);
    CHECK_EQ(graph_check(GRAPH_DEF, wt7, sizeof wt7, NULL, NULL, 0), -EBADMSG);
    /* Packed floats that do not fill whole floats. */
    const uint8_t packed[] = {0x0a, 0x0e, 0x2a, 0x0c, 0x0a, 0x01, 'l', 0x12, 0x07,
                              0x0a, 0x05, 0x22, 0x03, 0x00, 0x00, 0x80};
    CHECK_EQ(graph_check(GRAPH_DEF, packed, sizeof packed, NULL, why, sizeof why), -EBADMSG);
    CHECK(strstr(why, "packed") != NULL);
    CHECK_EQ(graph_check(GRAPH_DEF, "", 0, NULL, why, sizeof why), -EINVAL);
}

/* AttrValue.func.attr[k] = AttrValue ... nested levels times (3 messages
 * each), under one node: deeper than GRAPH_MAX_DEPTH is refused. */
static int nested(unsigned levels)
{
    size_t cap = 64 + 16 * (size_t)levels;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    if (!a || !b)
        return -ENOMEM;
    size_t n = 2;
    a[0] = 0x30, a[1] = 0x01;   /* AttrValue{type: 1} */
    for (unsigned i = 0; i < levels; i++) {
        /* entry {key "k", value a} -> NameAttrList{attr entry} -> AttrValue{func} */
        uint8_t *p = b;
        uint8_t tmp[16];
        size_t k;
        /* the entry's value: a */
        k = 0;
        size_t vlen = n, x = vlen;
        do
            tmp[k++] = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
        while ((x >>= 7));
        size_t entry_len = 3 + 1 + k + vlen;
        /* AttrValue{func(10): NameAttrList{attr(2): entry}} */
        uint8_t e[16];
        size_t ek = 0;
        x = entry_len;
        do
            e[ek++] = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
        while ((x >>= 7));
        size_t nal_len = 1 + ek + entry_len;
        uint8_t f[16];
        size_t fk = 0;
        x = nal_len;
        do
            f[fk++] = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
        while ((x >>= 7));
        *p++ = 0x52;   /* AttrValue.func */
        memcpy(p, f, fk), p += fk;
        *p++ = 0x12;   /* NameAttrList.attr */
        memcpy(p, e, ek), p += ek;
        *p++ = 0x0a, *p++ = 0x01, *p++ = 'k';
        *p++ = 0x12;   /* entry.value */
        memcpy(p, tmp, k), p += k;
        memcpy(p, a, n), p += n;
        n = (size_t)(p - b);
        uint8_t *t = a;
        a = b, b = t;
    }
    /* GraphDef{node{name "n", attr{key "a", value a}}} */
    uint8_t *g = malloc(n + 64), *p = g;
    if (!g) {
        free(a);
        free(b);
        return -ENOMEM;
    }
    size_t entry_len = 3 + 1 + (n >= 128 ? (n >= 16384 ? 3 : 2) : 1) + n;
    size_t node_len = 3 + 1 + (entry_len >= 128 ? (entry_len >= 16384 ? 3 : 2) : 1) + entry_len;
    size_t lens[3] = {node_len, entry_len, n};
    const uint8_t heads[3][4] = {{0x0a}, {0x0a, 0x01, 'n', 0x2a}, {0x0a, 0x01, 'a', 0x12}};
    const size_t head_n[3] = {1, 4, 4};
    for (int i = 0; i < 3; i++) {
        memcpy(p, heads[i], head_n[i]), p += head_n[i];
        size_t x = lens[i];
        do
            *p++ = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
        while ((x >>= 7));
    }
    memcpy(p, a, n), p += n;
    char why[160];
    int r = graph_check(GRAPH_DEF, g, (size_t)(p - g), NULL, why, sizeof why);
    if (r == 0) {
        Tensorboard__GraphDef *u = tensorboard__graph_def__unpack(NULL, (size_t)(p - g), g);
        if (!u)
            r = -EPROTO;   /* our own bytes are wrong */
        tensorboard__graph_def__free_unpacked(u, NULL);
    } else if (!strstr(why, "deeper than")) {
        r = -EPROTO;
    }
    free(g);
    free(a);
    free(b);
    return r;
}

static void depth_limit(void)
{
    /* GraphDef 1, NodeDef 2, entry 3, AttrValue 4; +3 per level. */
    unsigned ok = (GRAPH_MAX_DEPTH - 4) / 3;
    CHECK_EQ(nested(ok), 0);
    CHECK_EQ(nested(ok + 1), -EBADMSG);
    CHECK_EQ(nested(5000), -EBADMSG);    /* no recursion past the limit */
}

static void size_limit(void)
{
    /* GraphDef{library: L bytes} of exactly GRAPH_MAX_BYTES, then one more. */
    size_t total = GRAPH_MAX_BYTES;
    uint8_t *g = calloc(1, total + 1);
    REQUIRE(g);
    for (int extra = 0; extra <= 1; extra++) {
        size_t len = total + (size_t)extra, body = len - 5;   /* 1 key + 4 length bytes */
        g[0] = 0x12;
        for (int i = 0; i < 4; i++)
            g[1 + i] = (uint8_t)(((body >> (7 * i)) & 0x7f) | (i < 3 ? 0x80 : 0));
        REQUIRE(body >> 28 == 0);
        struct graph_info info = {99};
        char why[160];
        int r = graph_check(GRAPH_DEF, g, len, &info, why, sizeof why);
        CHECK_EQ(r, extra ? -EMSGSIZE : 0);
        if (!extra)
            CHECK_EQ(info.nodes, 0);
    }
    free(g);
}

TEST_MAIN(TEST(table_matches_proto), TEST(accepts_and_counts), TEST(never_looser_than_protobuf),
          TEST(refusals), TEST(depth_limit), TEST(size_limit))
