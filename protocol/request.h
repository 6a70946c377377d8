/* request: the one model of what a client asks, whichever protocol
 * carried it (a JSON line, json_decode; a binary frame's Request,
 * frame_decode), and what the executor (exec.h) runs.
 *
 * A request is an op with its fields, checked and normalised: logdir and
 * run names as logdir_normalize() leaves them, steps and wall times in
 * range, and the values already built as summary values (summary.h), each
 * with its run. Nothing here knows about sockets or files. */
#ifndef TFEVENTS_REQUEST_H
#define TFEVENTS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir.h"
#include "graph.h"
#include "projector.h"
#include "summary.h"

/* The protocol version both decoders speak (JSON "v" may be omitted). */
#define PROTOCOL_VERSION 1

/* Values in one request (leaves under "values"). */
#define REQUEST_MAX_VALUES 65536u
/* Nesting of runs under "values". */
#define REQUEST_MAX_RUN_DEPTH 16u
/* Bytes of the id as JSON text (a number or a string). */
#define REQUEST_MAX_ID 128u
/* Numbers in one numeric array (histogram data, pixels, samples). */
#define REQUEST_MAX_ARRAY (64u << 20)
/* Length of a decoder's error sentence. */
#define REQUEST_ERROR_SIZE 256u
/* Longest name quoted whole in an error sentence: a longer one is cut
 * there (whole UTF-8 characters) and marked with an ellipsis, so that the
 * reason after it always fits in REQUEST_ERROR_SIZE. */
#define REQUEST_ERROR_NAME 64u
/* 2^53: the largest step a JSON number (a double) carries exactly; the
 * binary protocol keeps the same range. */
#define REQUEST_MAX_STEP (INT64_C(1) << 53)
/* Wall times must fit the 10-digit seconds of event file names. */
#define REQUEST_MAX_WALL_TIME 1e10

enum request_op {
    REQUEST_LOG = 0,
    REQUEST_STEP_GET,
    REQUEST_STEP_SET,
    REQUEST_FLUSH,
    REQUEST_HPARAMS_CONFIG,
    REQUEST_HPARAMS_SESSION_START,
    REQUEST_HPARAMS_SESSION_END,
    REQUEST_RESTART,
    REQUEST_CLOSE,
    REQUEST_PING,
    REQUEST_STATS,
    REQUEST_EMBEDDING,
    REQUEST_GRAPH,
};

/* The name of an op as on the wire ("log", ...); "?" for no op. */
const char *request_op_name(enum request_op op);

/* Does op act on one logdir, which must be found or opened first?
 * (flush and close name one optionally: they are not.) */
bool request_needs_logdir(enum request_op op);

struct request_value {
    char *run;                   /* normalised, owned (or request_run_root) */
    struct summary_value value;  /* owned */
};

struct request {
    enum request_op op;
    bool has_id;
    char id[REQUEST_MAX_ID + 1];      /* the id as JSON text, to echo back */
    bool id_is_u64;                   /* the binary protocol's numeric id */
    uint64_t id_u64;
    bool has_logdir;
    char logdir[LOGDIR_MAX_NAME + 1];
    bool has_run;
    char run[LOGDIR_MAX_NAME + 1];
    enum logdir_step_mode step_mode;
    int64_t step;                /* LOGDIR_STEP_AT; also step_set/restart */
    bool has_wall_time;
    double wall_time;
    bool sync;                   /* flush, close: fsync too */
    bool resent;                 /* log: sent again after a broken connection */
    struct request_value *values;     /* log and hparams ops */
    size_t n_values, cap_values;
    /* values[n_values .. n_kept) are summary values kept from earlier
     * requests (empty, with their buffers), so that a request of scalars
     * is decoded without allocating (request_recycle()). */
    size_t n_kept;
    /* embedding: tag, step, tensor, metadata, sprite (owned; step also
     * in step). */
    struct projector_embedding embedding;
    /* graph: the serialized GraphDef, or RunMetadata when graph_tag is
     * set (both owned, checked: graph.h), at step. */
    uint8_t *graph_data;
    size_t graph_len;
    char *graph_tag;
    struct graph_info graph_info;
};

void request_init(struct request *m);
/* Release and re-initialise. NULL-safe. */
void request_done(struct request *m);

/* Value slots (and bytes of buffers per slot) a request keeps between
 * decodes; a larger request's extra memory is freed by the next one. */
#define REQUEST_KEEP_VALUES 64u
#define REQUEST_KEEP_BYTES 4096u

/* Ready m for the next request like request_done(), but keep up to
 * REQUEST_KEEP_VALUES value slots with their (small) buffers, which the
 * summary builders then reuse instead of allocating. */
void request_recycle(struct request *m);

/* Set the id from the binary protocol's number: kept as a number for
 * binary replies and as its JSON text (a decimal string, so that 64-bit
 * ids survive any JSON path exactly). */
void request_set_id_u64(struct request *m, uint64_t id);

/* A new, empty value slot in run (normalised; copied; "." shares one
 * static string) at the end of m's values: *ret is its summary value.
 * -EMSGSIZE past REQUEST_MAX_VALUES, -ENOMEM. */
int request_add_value(struct request *m, const char *run, struct summary_value **ret);

/* ---- error sentences -------------------------------------------------
 * Both protocols refuse the same mistake with the same sentence: the JSON
 * decoder translates a line into a tfevents.Request and frame_decode
 * checks it (frame_decode.h), so nearly every sentence is written once,
 * there. These are the few the JSON translator must also say itself,
 * where JSON can hold the mistake in a form a Request cannot. */
#define REQUEST_SAY_RESERVED "names starting with '$' are reserved for typed values"
#define REQUEST_SAY_HISTOGRAM_FORMS \
    "histogram needs either \"values\" or \"edges\" and \"counts\""
#define REQUEST_SAY_HISTOGRAM_EDGES "histogram needs k+1 \"edges\" and k \"counts\""

/* Write the reason (printf) into err[0..size) (nothing when size is 0);
 * returns code, so that "return request_error(...)" fails with it. */
__attribute__((format(printf, 4, 5)))
int request_error(char *err, size_t size, int code, const char *fmt, ...);

/* "<what> '<name>': <reason>", name cut to REQUEST_ERROR_NAME bytes. */
__attribute__((format(printf, 6, 7)))
int request_error_at(char *err, size_t size, int code, const char *what, const char *name,
                     const char *fmt, ...);

#endif
