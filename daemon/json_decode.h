/* json_decode: one line of the tfeventsd protocol -> one message.
 *
 * The wire format is described in docs/protocol.md. This module is pure:
 * it parses one JSON object (cJSON_ParseWithLength; the commonest line,
 * plain scalars, without cJSON: see jd_decode_fast()), checks every field,
 * normalises the logdir and run names and builds the summary values with
 * the summary.h builders. It never logs and keeps no state; errors come
 * back as a sentence a person understands.
 *
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

#include "logdir.h"
#include "summary.h"

/* The protocol version this decoder speaks ("v" may be omitted). */
#define JD_PROTOCOL_VERSION 1

/* Values in one message (leaves under "values"). */
#define JD_MAX_VALUES 65536u
/* Nesting of runs under "values". */
#define JD_MAX_RUN_DEPTH 16u
/* Bytes of the "id" as JSON text (a number or a string). */
#define JD_MAX_ID 128u
/* Numbers in one numeric array (histogram data, pixels, samples). */
#define JD_MAX_ARRAY (64u << 20)
/* Length of an error message. */
#define JD_ERROR_SIZE 256u

enum jd_op {
    JD_OP_LOG = 0,
    JD_OP_STEP_GET,
    JD_OP_STEP_SET,
    JD_OP_FLUSH,
    JD_OP_HPARAMS_CONFIG,
    JD_OP_HPARAMS_SESSION_START,
    JD_OP_HPARAMS_SESSION_END,
    JD_OP_RESTART,
    JD_OP_CLOSE,
    JD_OP_PING,
    JD_OP_STATS,
};

/* The name of an op as on the wire ("log", ...). */
const char *jd_op_name(enum jd_op op);

struct jd_value {
    char *run;                   /* normalised, owned */
    struct summary_value value;  /* owned */
};

struct jd_msg {
    enum jd_op op;
    bool has_id;
    char id[JD_MAX_ID + 1];      /* the id as JSON text, to echo back */
    bool has_logdir;
    char logdir[LOGDIR_MAX_NAME + 1];
    bool has_run;
    char run[LOGDIR_MAX_NAME + 1];
    enum logdir_step_mode step_mode;
    int64_t step;                /* LOGDIR_STEP_AT; also step_set/restart */
    bool has_wall_time;
    double wall_time;
    bool sync;                   /* flush, close: fsync too */
    struct jd_value *values;     /* log and hparams ops */
    size_t n_values, cap_values;
    /* Private to json_decode.c: values[n_values .. n_kept) are summary
     * values kept from earlier lines (empty, with their buffers), so that a
     * line of scalars is decoded without allocating. jd_msg_done() frees
     * them; other code filling a message starts with jd_msg_done(). */
    size_t n_kept;
};

void jd_msg_init(struct jd_msg *m);
/* Release and re-initialise. NULL-safe. */
void jd_msg_done(struct jd_msg *m);

/* Value slots (and bytes of buffers per slot) a message keeps between
 * decodes; a larger message's extra memory is freed by the next decode. */
#define JD_KEEP_VALUES 64u
#define JD_KEEP_BYTES 4096u

/* Decode line[0..len) (without the newline) into m (initialised; reused
 * messages are reset first, keeping some memory for the next line: see
 * n_kept). Returns 0, or a negative errno with a reason
 * in err (err_size >= 1): -EBADMSG (not JSON / not an object), -EINVAL
 * (a field is wrong), -EILSEQ (bad UTF-8), -EMSGSIZE (past a limit),
 * -ENOMEM. Even on error, m->has_id/m->id are filled when the id could be
 * read, so the error reply can carry it. */
int jd_decode(struct jd_msg *m, const char *line, size_t len, char *err, size_t err_size);

/* The two ways jd_decode() works, exported for the differential test
 * (tests/test-json_fastpath.c). jd_decode_fast() decodes only the commonest
 * shape of line -- op "log" with plain scalars under "values" and no
 * escapes -- without building a cJSON tree: it returns 0 with m filled
 * exactly as jd_decode_full() would fill it, or 1 ("not mine": another
 * shape, or anything the full decoder would refuse), leaving m to be reset.
 * jd_decode_full() is the cJSON decoder, which also produces every error.
 * jd_decode() is fast, then full when the fast path declines. */
int jd_decode_fast(struct jd_msg *m, const char *line, size_t len);
int jd_decode_full(struct jd_msg *m, const char *line, size_t len, char *err,
                   size_t err_size);

#endif
