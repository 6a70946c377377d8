/* Mesh plugin values (mesh.h). */
#include "mesh.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pbfields.h"
#include "pbwire.h"
#include "types.pb-c.h"
#include "utf8.h"

static const char *const part_names[4] = {"", "VERTEX", "FACE", "COLOR"};

int mesh_tag(char *out, size_t size, const char *name, enum mesh_part part)
{
    int n = snprintf(out, size, "%s_%s", name, part_names[part]);
    return n < 0 || (size_t)n >= size ? -EMSGSIZE : 0;
}

int mesh_check(const struct mesh_input *in, const char **why)
{
    size_t nl = in->name ? strlen(in->name) : 0;
    size_t cl = in->json_config ? strlen(in->json_config) : 0;
    *why = "a mesh needs a name";
    if (nl == 0)
        return -EINVAL;
    *why = "mesh name or config is not valid UTF-8";
    if (!utf8_valid(in->name, nl) || !utf8_valid(in->json_config ? in->json_config : "", cl))
        return -EILSEQ;
    *why = "mesh name or config too long (MESH_MAX_NAME, MESH_MAX_CONFIG)";
    if (nl > MESH_MAX_NAME || cl > MESH_MAX_CONFIG)
        return -EMSGSIZE;
    *why = "a mesh needs 1 or more samples of 1 or more vertices";
    if (in->samples == 0 || in->n_vertices == 0 || !in->vertices)
        return -EINVAL;
    *why = "mesh larger than MESH_MAX_ELEMENTS";
    if (in->n_vertices > MESH_MAX_ELEMENTS / in->samples ||
        in->n_faces > MESH_MAX_ELEMENTS / in->samples)
        return -EMSGSIZE;
    for (size_t i = 0; i < in->samples * in->n_vertices * 3; i++) {
        *why = "mesh vertices must be finite";
        if (!isfinite(in->vertices[i]))
            return -EINVAL;
    }
    *why = "mesh faces are NULL";
    if (in->n_faces && !in->faces)
        return -EINVAL;
    for (size_t i = 0; i < in->samples * in->n_faces * 3; i++) {
        *why = "mesh faces must index the vertices (0 .. vertices - 1)";
        if (in->faces[i] < 0 || (size_t)in->faces[i] >= in->n_vertices)
            return -EINVAL;
    }
    *why = NULL;
    return 0;
}

static unsigned components(const struct mesh_input *in)
{
    return 1u << MESH_VERTEX | (in->n_faces ? 1u << MESH_FACE : 0) |
           (in->colors ? 1u << MESH_COLOR : 0);
}

/* MeshPluginData of one part. */
static int content(struct buf *b, const struct mesh_input *in, enum mesh_part part,
                   const uint64_t dims[3])
{
    struct buf shape;
    buf_init(&shape, 4096);
    int r = pb_add_string(b, 2, in->name);
    if (r == 0)
        r = pb_add_varint(b, 3, (uint64_t)part);
    if (r == 0)
        r = pb_add_string(b, 5, in->json_config ? in->json_config : "{}");
    uint8_t tmp[10];
    for (size_t i = 0; r == 0 && i < 3; i++)
        r = buf_append(&shape, tmp, pb_put_varint(tmp, dims[i]));
    if (r == 0)
        r = pb_add_bytes(b, 6, shape.data, shape.len);
    if (r == 0)
        r = pb_add_varint(b, 7, components(in));
    buf_free(&shape);
    return r;
}

/* TensorProto{dtype, tensor_shape [d0, d1, d2], tensor_content}. */
static int tensor(struct buf *b, int dtype, const uint64_t dims[3], const void *data,
                  size_t bytes)
{
    struct buf shape, dim;
    buf_init(&shape, 4096);
    buf_init(&dim, 4096);
    int r = pb_add_varint(b, PBF_TENSOR_DTYPE, (uint64_t)dtype);
    for (size_t i = 0; r == 0 && i < 3; i++) {
        buf_reset(&dim);
        r = pb_add_varint(&dim, 1, dims[i]);
        if (r == 0)
            r = pb_add_bytes(&shape, PBF_SHAPE_DIM, dim.data, dim.len);
    }
    if (r == 0)
        r = pb_add_bytes(b, PBF_TENSOR_SHAPE, shape.data, shape.len);
    if (r == 0)
        r = pb_add_bytes(b, PBF_TENSOR_CONTENT, data, bytes);
    buf_free(&shape);
    buf_free(&dim);
    return r;
}

/* Little-endian copies of the numbers (the machine's order may differ). */
static int le_bytes(struct buf *out, const void *src, size_t n, size_t width)
{
    int r = buf_reserve(out, n * width);
    const uint8_t *s = src;
    for (size_t i = 0; r == 0 && i < n; i++) {
        uint32_t v;
        memcpy(&v, s + i * width, width);
        uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
        r = buf_append(out, le, width);
    }
    return r;
}

int summary_mesh_part(struct summary_value *v, const struct mesh_input *in,
                      enum mesh_part part, const struct summary_meta *meta)
{
    const char *why = NULL;
    char tag[MESH_MAX_NAME + 8];
    int r = mesh_check(in, &why);
    if (r == 0 && ((part == MESH_FACE && !in->n_faces) || (part == MESH_COLOR && !in->colors) ||
                   part < MESH_VERTEX || part > MESH_COLOR)) {
        why = "that mesh part was not given";
        r = -EINVAL;
    }
    if (r == 0)
        r = mesh_tag(tag, sizeof tag, in->name, part);
    if (r < 0)
        return summary_fail(v, r, why);
    uint64_t dims[3] = {in->samples, part == MESH_FACE ? in->n_faces : in->n_vertices, 3};
    size_t n = (size_t)(dims[0] * dims[1] * 3);
    struct buf c, t, raw;
    buf_init(&c, MESH_MAX_CONFIG + 4096);
    buf_init(&t, SUMMARY_MAX_BODY);
    buf_init(&raw, SUMMARY_MAX_BODY);
    r = content(&c, in, part, dims);
    int dtype = part == MESH_VERTEX ? TENSORBOARD__DATA_TYPE__DT_FLOAT
              : part == MESH_FACE   ? TENSORBOARD__DATA_TYPE__DT_INT32
                                    : TENSORBOARD__DATA_TYPE__DT_UINT8;
    if (r == 0 && part == MESH_VERTEX)
        r = le_bytes(&raw, in->vertices, n, 4);
    else if (r == 0 && part == MESH_FACE)
        r = le_bytes(&raw, in->faces, n, 4);
    else if (r == 0)
        r = buf_append(&raw, in->colors, n);
    if (r == 0)
        r = tensor(&t, dtype, dims, raw.data ? raw.data : (const void *)"", raw.len);
    if (r == 0)
        r = summary_custom(v, tag, "mesh", c.data, c.len,
                           TENSORBOARD__DATA_CLASS__DATA_CLASS_TENSOR, t.data, t.len, meta);
    else
        r = summary_fail(v, r, NULL);
    buf_free(&c);
    buf_free(&t);
    buf_free(&raw);
    return r;
}
