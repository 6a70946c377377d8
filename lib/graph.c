#include "graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pbwire.h"
#include "utf8.h"

/* ---- the table (proto/graph.proto, tensor.proto, tensor_shape.proto) ---- */

enum ftype {
    T_VARINT,   /* int32, int64, uint32, bool, enum */
    T_FIXED32,  /* float */
    T_FIXED64,  /* double */
    T_BYTES,
    T_STRING,   /* bytes that must be UTF-8 */
    T_MSG,
};

struct gfield {
    uint32_t number;
    uint8_t type;        /* enum ftype */
    bool repeated;       /* numbers: packed accepted too */
    const struct gmsg *msg;
};

struct gmsg {
    const char *name;
    const struct gfield *fields;
    size_t n;
};

#define MSG(var, name_, ...)                                                          \
    static const struct gfield var##_fields[] = {__VA_ARGS__};                      \
    static const struct gmsg var = {name_, var##_fields,                           \
                                    sizeof var##_fields / sizeof var##_fields[0]}

/* Recursive: an attr value may hold a function whose attrs hold values. */
static const struct gmsg m_attr_value, m_name_attr_list, m_graph_def, m_tensor;

MSG(m_dim, "TensorShapeProto.Dim",
    {1, T_VARINT, false, NULL}, {2, T_STRING, false, NULL});
MSG(m_shape, "TensorShapeProto",
    {2, T_MSG, true, &m_dim}, {3, T_VARINT, false, NULL});
/* Fields 14 (resource handles) and 15 (variants) are passed through whole,
 * as proto/tensor.proto declares them. */
MSG(m_tensor, "TensorProto",
    {1, T_VARINT, false, NULL}, {2, T_MSG, false, &m_shape}, {3, T_VARINT, false, NULL},
    {4, T_BYTES, false, NULL}, {5, T_FIXED32, true, NULL}, {6, T_FIXED64, true, NULL},
    {7, T_VARINT, true, NULL}, {8, T_BYTES, true, NULL}, {9, T_FIXED32, true, NULL},
    {10, T_VARINT, true, NULL}, {11, T_VARINT, true, NULL}, {12, T_FIXED64, true, NULL},
    {13, T_VARINT, true, NULL}, {14, T_BYTES, true, NULL}, {15, T_BYTES, true, NULL},
    {16, T_VARINT, true, NULL}, {17, T_VARINT, true, NULL});
MSG(m_list_value, "AttrValue.ListValue",
    {2, T_BYTES, true, NULL}, {3, T_VARINT, true, NULL}, {4, T_FIXED32, true, NULL},
    {5, T_VARINT, true, NULL}, {6, T_VARINT, true, NULL}, {7, T_MSG, true, &m_shape},
    {8, T_MSG, true, &m_tensor}, {9, T_MSG, true, &m_name_attr_list});
static const struct gfield m_attr_value_fields[] = {
    {1, T_MSG, false, &m_list_value}, {2, T_BYTES, false, NULL},
    {3, T_VARINT, false, NULL},        {4, T_FIXED32, false, NULL},
    {5, T_VARINT, false, NULL},        {6, T_VARINT, false, NULL},
    {7, T_MSG, false, &m_shape},       {8, T_MSG, false, &m_tensor},
    {9, T_STRING, false, NULL},        {10, T_MSG, false, &m_name_attr_list},
};
static const struct gmsg m_attr_value = {
    "AttrValue", m_attr_value_fields,
    sizeof m_attr_value_fields / sizeof m_attr_value_fields[0]};
/* map<string, AttrValue> is a repeated message of key 1, value 2. */
MSG(m_attr_entry, "NodeDef.AttrEntry",
    {1, T_STRING, false, NULL}, {2, T_MSG, false, &m_attr_value});
static const struct gfield m_name_attr_list_fields[] = {
    {1, T_STRING, false, NULL}, {2, T_MSG, true, &m_attr_entry}};
static const struct gmsg m_name_attr_list = {
    "NameAttrList", m_name_attr_list_fields,
    sizeof m_name_attr_list_fields / sizeof m_name_attr_list_fields[0]};
MSG(m_debug_info, "NodeDef.ExperimentalDebugInfo",
    {1, T_STRING, true, NULL}, {2, T_STRING, true, NULL});
MSG(m_node_def, "NodeDef",
    {1, T_STRING, false, NULL}, {2, T_STRING, false, NULL}, {3, T_STRING, true, NULL},
    {4, T_STRING, false, NULL}, {5, T_MSG, true, &m_attr_entry},
    {6, T_MSG, false, &m_debug_info});
MSG(m_version_def, "VersionDef",
    {1, T_VARINT, false, NULL}, {2, T_VARINT, false, NULL}, {3, T_VARINT, true, NULL});
static const struct gfield m_graph_def_fields[] = {
    {1, T_MSG, true, &m_node_def}, {2, T_BYTES, false, NULL},
    {3, T_VARINT, false, NULL},    {4, T_MSG, false, &m_version_def}};
static const struct gmsg m_graph_def = {
    "GraphDef", m_graph_def_fields,
    sizeof m_graph_def_fields / sizeof m_graph_def_fields[0]};

MSG(m_node_exec_stats, "NodeExecStats",
    {1, T_STRING, false, NULL}, {2, T_VARINT, false, NULL}, {3, T_VARINT, false, NULL},
    {4, T_VARINT, false, NULL}, {5, T_VARINT, false, NULL}, {6, T_BYTES, true, NULL},
    {7, T_BYTES, true, NULL}, {8, T_STRING, false, NULL}, {9, T_VARINT, false, NULL},
    {10, T_VARINT, false, NULL}, {11, T_BYTES, true, NULL}, {12, T_BYTES, false, NULL},
    {13, T_VARINT, false, NULL}, {14, T_VARINT, false, NULL}, {15, T_VARINT, false, NULL},
    {16, T_VARINT, false, NULL}, {17, T_VARINT, false, NULL});
MSG(m_thread_name, "DeviceStepStats.ThreadNamesEntry",
    {1, T_VARINT, false, NULL}, {2, T_STRING, false, NULL});
MSG(m_device_step_stats, "DeviceStepStats",
    {1, T_STRING, false, NULL}, {2, T_MSG, true, &m_node_exec_stats},
    {3, T_MSG, true, &m_thread_name});
MSG(m_step_stats, "StepStats", {1, T_MSG, true, &m_device_step_stats});
MSG(m_function_graphs, "RunMetadata.FunctionGraphs",
    {1, T_MSG, true, &m_graph_def}, {2, T_MSG, false, &m_graph_def},
    {3, T_MSG, false, &m_graph_def});
MSG(m_run_metadata, "RunMetadata",
    {1, T_MSG, false, &m_step_stats}, {2, T_BYTES, false, NULL},
    {3, T_MSG, true, &m_graph_def}, {4, T_MSG, true, &m_function_graphs});

static const struct gmsg *const all_msgs[] = {
    &m_dim, &m_shape, &m_tensor, &m_list_value, &m_attr_value, &m_attr_entry,
    &m_name_attr_list, &m_debug_info, &m_node_def, &m_version_def, &m_graph_def,
    &m_node_exec_stats, &m_thread_name, &m_device_step_stats, &m_step_stats,
    &m_function_graphs, &m_run_metadata,
};

/* ---- the walk ---------------------------------------------------------- */

struct walk {
    const uint8_t *base;
    char *why;
    size_t why_size;
    size_t nodes;
    const struct gmsg *top;   /* what is checked: GraphDef or RunMetadata */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct walk *w, const uint8_t *at, const char *fmt, ...)
{
    if (w->why && w->why_size) {
        char what[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(w->why, w->why_size, "%s (byte %zu)", what, (size_t)(at - w->base));
    }
    return -EBADMSG;
}

/* A varint at *p (before end) of at most max bytes: 10 for a value, 5 for
 * a key (protobuf's parsers read keys as 32-bit varints and refuse longer
 * ones, padded or not). */
static bool read_varint_max(const uint8_t **p, const uint8_t *end, unsigned max,
                            uint64_t *ret)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < max && *p < end; i++) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *ret = v;
            return true;
        }
    }
    return false;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    return read_varint_max(p, end, 10, ret);
}

static const struct gfield *find_field(const struct gmsg *m, uint32_t number)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i].number == number)
            return &m->fields[i];
    return NULL;
}

static unsigned wire_of(uint8_t type)
{
    switch (type) {
    case T_VARINT:
        return PB_VARINT;
    case T_FIXED32:
        return PB_FIXED32;
    case T_FIXED64:
        return PB_FIXED64;
    default:
        return PB_LEN;
    }
}

/* The contents of a packed repeated number field. */
static int check_packed(struct walk *w, const struct gmsg *m, const struct gfield *f,
                        const uint8_t *p, const uint8_t *end)
{
    if (f->type == T_FIXED32 || f->type == T_FIXED64) {
        size_t size = f->type == T_FIXED32 ? 4 : 8;
        if ((size_t)(end - p) % size)
            return fail(w, p, "%s field %u: packed numbers of %zu bytes do not fill its %zu "
                              "bytes", m->name, f->number, size, (size_t)(end - p));
        return 0;
    }
    while (p < end) {
        uint64_t v;
        const uint8_t *at = p;
        if (!read_varint(&p, end, &v))
            return fail(w, at, "%s field %u: a packed varint is cut or too long", m->name,
                        f->number);
    }
    return 0;
}

static int walk_msg(struct walk *w, const struct gmsg *m, const uint8_t *p,
                    const uint8_t *end, unsigned depth);

/* One length-delimited field of m: its bytes [p, end). */
static int check_len_field(struct walk *w, const struct gmsg *m, const struct gfield *f,
                           const uint8_t *p, const uint8_t *end, unsigned depth)
{
    switch (f->type) {
    case T_MSG:
        if (depth + 1 > GRAPH_MAX_DEPTH)
            return fail(w, p, "%s nests messages deeper than %u", f->msg->name,
                        GRAPH_MAX_DEPTH);
        return walk_msg(w, f->msg, p, end, depth + 1);
    case T_STRING:
        if (!utf8_valid(p, (size_t)(end - p)))
            return fail(w, p, "%s field %u is not valid UTF-8", m->name, f->number);
        return 0;
    case T_BYTES:
        return 0;
    default:
        return check_packed(w, m, f, p, end);
    }
}

static int walk_msg(struct walk *w, const struct gmsg *m, const uint8_t *p,
                    const uint8_t *end, unsigned depth)
{
    while (p < end) {
        const uint8_t *at = p;
        uint64_t key, v;
        if (!read_varint_max(&p, end, 5, &key) || key > UINT32_MAX)
            return fail(w, at, "%s: a field key is cut or too long", m->name);
        uint32_t number = (uint32_t)(key >> 3);
        unsigned wire = (unsigned)(key & 7);
        if (number == 0)
            return fail(w, at, "%s: field number 0", m->name);
        const struct gfield *f = find_field(m, number);
        if (f && wire != wire_of(f->type) && !(f->repeated && wire == PB_LEN &&
                                                f->type != T_MSG && f->type != T_BYTES &&
                                                f->type != T_STRING))
            return fail(w, at, "%s field %u has wire type %u, not %u", m->name, number, wire,
                        wire_of(f->type));
        switch (wire) {
        case PB_VARINT:
            if (!read_varint(&p, end, &v))
                return fail(w, at, "%s field %u: a varint is cut or too long", m->name,
                            number);
            break;
        case PB_FIXED64:
        case PB_FIXED32: {
            size_t size = wire == PB_FIXED64 ? 8 : 4;
            if ((size_t)(end - p) < size)
                return fail(w, at, "%s field %u is cut", m->name, number);
            p += size;
            break;
        }
        case PB_LEN: {
            uint64_t n;
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
                return fail(w, at, "%s field %u: its length runs past the end", m->name,
                            number);
            if (f) {
                int r = check_len_field(w, m, f, p, p + n, depth);
                if (r < 0)
                    return r;
            }
            p += n;
            break;
        }
        default:
            return fail(w, at, "%s field %u has wire type %u (%s)", m->name, number, wire,
                        wire == 3 || wire == 4 ? "groups are not used by these messages"
                                               : "no such wire type");
        }
        /* A graph's own nodes (not those of its function library), a
         * run metadata's node stats of every device. */
        if (f && ((m == &m_graph_def && m == w->top && number == 1) ||
                  (m == &m_device_step_stats && w->top == &m_run_metadata && number == 2)))
            w->nodes++;
    }
    return 0;
}

const char *graph_kind_name(enum graph_kind kind)
{
    return kind == GRAPH_RUN_METADATA ? "RunMetadata" : "GraphDef";
}

int graph_check(enum graph_kind kind, const void *data, size_t len,
                struct graph_info *ret_info, char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    if (len > GRAPH_MAX_BYTES) {
        if (why && why_size)
            snprintf(why, why_size, "%zu bytes; the limit is %u", len, GRAPH_MAX_BYTES);
        return -EMSGSIZE;
    }
    if (len == 0) {
        if (why && why_size)
            snprintf(why, why_size, "it is empty");
        return -EINVAL;
    }
    const struct gmsg *m = kind == GRAPH_RUN_METADATA ? &m_run_metadata : &m_graph_def;
    struct walk w = {.base = data, .why = why, .why_size = why_size, .top = m};
    int r = walk_msg(&w, m, data, (const uint8_t *)data + len, 1);
    if (r < 0)
        return r;
    if (ret_info)
        ret_info->nodes = w.nodes;
    return 0;
}

int graph_table_field(const char *message, uint32_t number, unsigned *ret_wire,
                      bool *ret_text, const char **ret_msg)
{
    for (size_t i = 0; i < sizeof all_msgs / sizeof all_msgs[0]; i++) {
        if (strcmp(all_msgs[i]->name, message) != 0)
            continue;
        const struct gfield *f = find_field(all_msgs[i], number);
        if (!f)
            return -ENOENT;
        *ret_wire = wire_of(f->type);
        *ret_text = f->type == T_STRING;
        *ret_msg = f->type == T_MSG ? f->msg->name : NULL;
        return 0;
    }
    return -ENOENT;
}
