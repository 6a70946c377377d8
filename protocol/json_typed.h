/* json_typed: the typed values of a JSON line ({"tag": {"$image": {...}}})
 * as the Value of a tfevents.Request (json_decode.h): their allowed
 * fields, JSON types, base64, nested arrays and shapes; the checks of what
 * they mean are frame_decode's. Pure; no logging. */
#ifndef TFEVENTS_JSON_TYPED_H
#define TFEVENTS_JSON_TYPED_H

#include "json_read.h"

/* obj ({"$kind": {...}}, one key starting with '$') into v, whose tag
 * (borrowed from the tree) is set. 0 or a negative errno with the reason. */
int json_typed_value(struct json_read *c, const cJSON *obj, const char *tag, Tfevents__Value *v);

#endif
