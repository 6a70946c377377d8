/* json_decode: one line of the tfeventsd protocol -> one request.
 *
 * The wire format is described in docs/protocol.md. This module is pure:
 * it parses one JSON object (cJSON_ParseWithLength; the commonest line,
 * plain scalars, without cJSON: see json_fast.h), checks the fields only
 * JSON has and translates the line into the tfevents.Request a binary
 * client would send, which frame_decode_fields() (frame_decode.h) checks,
 * normalises and builds into summary values as it does for frames. It
 * never logs and keeps no state; errors come back as a sentence a person
 * understands, the same one for both protocols. *
 * Values: under "values", a number is a scalar, a string is text, an
 * object whose single key starts with '$' is a typed value
 * ({"$histogram": {...}}), and any other object is a run (a subdirectory)
 * holding more values. Names starting with '$' are reserved, so a run can
 * never be mistaken for a typed value. */
#ifndef TFEVENTS_JSON_DECODE_H
#define TFEVENTS_JSON_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* Decode line[0..len) (without the newline) into m (initialised; reused
 * messages are reset first, keeping some memory for the next line: see
 * n_kept). Returns 0, or a negative errno with a reason
 * in err (err_size >= 1): -EBADMSG (not JSON / not an object), -EINVAL
 * (a field is wrong), -EILSEQ (bad UTF-8), -EMSGSIZE (past a limit),
 * -ENOMEM. Even on error, m->has_id/m->id are filled when the id could be
 * read, so the error reply can carry it. */
int jd_decode(struct request *m, const char *line, size_t len, char *err, size_t err_size);

/* The two ways jd_decode() works, exported for the differential test
 * (tests/test-json_fastpath.c): jd_decode_fast() (json_fast.h) takes the
 * commonest shape of line; jd_decode_full() is the cJSON decoder, which
 * also produces every error. jd_decode() is fast, then full when the fast
 * path declines. */
int jd_decode_full(struct request *m, const char *line, size_t len, char *err,
                   size_t err_size);

#endif
