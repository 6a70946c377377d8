/* json_kinds: the typed values $pr_curve, $layout and $mesh of a JSON line as the
 * Value of a tfevents.Request (json_typed.h keeps the table of all typed
 * values). Their fields, JSON types and arrays; what they mean is checked
 * by frame_decode (frame_kinds.h). Pure; no logging. */
#ifndef TFEVENTS_JSON_KINDS_H
#define TFEVENTS_JSON_KINDS_H

#include "json_read.h"

int json_kinds_pr_curve(struct json_read *c, const cJSON *o, const char *tag,
                        Tfevents__Value *v);
int json_kinds_layout(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v);
int json_kinds_mesh(struct json_read *c, const cJSON *o, const char *tag, Tfevents__Value *v);

/* The "embedding" object of op "embedding": tag, tensor [N][D] (nested,
 * or packed with "shape"), metadata (labels, or {"header", "rows"}), sprite
 * ({"png": base64, "single_image_dim": [w, h]}). */
int json_kinds_embedding(struct json_read *c, const cJSON *o, Tfevents__Embedding *q);

#endif
