/* mesh: 3D point clouds and meshes, as TensorBoard's mesh plugin reads them.
 *
 * A mesh named NAME is up to three values at one step: NAME_VERTEX (float32
 * [samples, n, 3] coordinates), NAME_FACE (int32 [samples, f, 3] vertex
 * indices) and NAME_COLOR (uint8 [samples, n, 3], an RGB colour per vertex),
 * each with metadata plugin "mesh", data class TENSOR and content
 * MeshPluginData{version=1: 0, name=2, content_type=3 (VERTEX 1, FACE 2,
 * COLOR 3), json_config=5 (three.js camera/material/lights, as JSON text),
 * shape=6 (the tensor's shape), components=7 (bitmask of 1 << content_type
 * over the parts written)}. The plugin groups the tags by that name. Tensors
 * carry their numbers little-endian in tensor_content, as TensorFlow's
 * make_tensor_proto writes them.
 *
 * Pure: no I/O, no logging; summary_last_error() says why a build failed. */
#ifndef TFEVENTS_MESH_H
#define TFEVENTS_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

/* Limits on one mesh. */
#define MESH_MAX_ELEMENTS (16u << 20)   /* samples * points of one part */
#define MESH_MAX_CONFIG (64u * 1024)    /* bytes of the JSON config */
#define MESH_MAX_NAME 1024u             /* bytes of the name (tags add 7) */

enum mesh_part { MESH_VERTEX = 1, MESH_FACE = 2, MESH_COLOR = 3 };

struct mesh_input {
    const char *name;            /* non-empty UTF-8 */
    size_t samples;              /* >= 1 */
    const float *vertices;       /* samples * n_vertices * 3, finite */
    size_t n_vertices;           /* >= 1, per sample */
    const int32_t *faces;        /* NULL, or samples * n_faces * 3 indices < n_vertices */
    size_t n_faces;
    const uint8_t *colors;       /* NULL, or samples * n_vertices * 3 */
    const char *json_config;     /* NULL: "{}"; else JSON text, passed on */
};

/* The tag of a part: "<name>_VERTEX" ... into out[size]. -EMSGSIZE when it
 * does not fit. */
int mesh_tag(char *out, size_t size, const char *name, enum mesh_part part);

/* Check in (everything every part needs): 0 or -EINVAL/-EILSEQ/-EMSGSIZE
 * with *why. */
int mesh_check(const struct mesh_input *in, const char **why);

/* The value of one part (which in must hold) in v. */
int summary_mesh_part(struct summary_value *v, const struct mesh_input *in,
                      enum mesh_part part, const struct summary_meta *meta);

#endif
