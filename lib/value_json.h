/* value_json: a decoded value (value.h) rendered as JSON.
 *
 * value_to_json() gives the layout of the golden "expected" files (see
 * shared/golden/README.md), so that what we read back can be compared with
 * what TensorBoard itself served; value_content_json() renders plugin
 * content in protobuf's JSON mapping; value_json_print() and
 * value_format_double() print numbers that read back exactly.
 *
 * Pure functions: nothing here logs or keeps global state; thread-safe. */
#ifndef TFEVENTS_VALUE_JSON_H
#define TFEVENTS_VALUE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "value.h"

/* The expected-file rendering of a decoded value (caller owns the result;
 * NULL when out of memory). Scalars are numbers; histograms [[l,r,c],...];
 * images {"width","height","count","sha256":[...]} (width/height integers
 * when decimal ASCII, else {"hex": ...}); audio {"count","clips":[{
 * "sample_rate","channels","frames","sha256"} or {"sha256","size"}]}; text
 * strings or nested lists; hparams the content object; other tensors nested
 * lists of numbers, booleans or strings (non-UTF-8 strings as
 * {"sha256","size"}). Non-finite numbers are the strings "NaN", "Infinity",
 * "-Infinity". VALUE_EMPTY is null, VALUE_INVALID {"error": ...}. */
cJSON *value_to_json(const struct decoded_value *v);

/* plugin_data.content in protobuf's JSON mapping (.proto field names, proto3
 * defaults omitted, enums by name, int64 as strings, bytes as base64,
 * google.protobuf.Value as plain JSON) for the known plugins (scalars,
 * images, audio, histograms, text, hparams, pr_curves); {} or
 * {"base64": ...} for others; {"undecodable_base64": ...} when it does not
 * decode. Caller owns the result; NULL when out of memory. */
cJSON *value_content_json(const char *plugin, const uint8_t *content, size_t len);

/* Any serialized message of type d (e.g. a custom scalars Layout) in the
 * same JSON mapping. NULL when out of memory or when data does not decode
 * (*ret_undecodable then true). */
cJSON *value_message_json(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                          bool *ret_undecodable);

/* A number as the expected files write it: a JSON number, or the strings
 * "NaN", "Infinity", "-Infinity". NULL when out of memory. */
cJSON *value_json_number(double d);

/* Append j to out as compact JSON whose numbers read back exactly (cJSON's
 * own printer may drop the 17th digit). Non-finite numbers print as null
 * (use value_json_number() to get the expected files' strings). 0,
 * -EMSGSIZE past out's cap, -ENOMEM. */
int value_json_print(struct buf *out, const cJSON *j);

/* d with the fewest of 15..17 significant digits that read back exactly
 * ("NaN", "Infinity", "-Infinity" for non-finite). Returns what snprintf
 * returns. */
int value_format_double(char *buf, size_t size, double d);

/* Lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void value_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#endif
